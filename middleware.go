package main

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// requestID makes sure every request carries an X-Request-Id (kept when a
// proxy set one) and echoes it in the response, so an operator can follow one
// callback through the logs.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
			r.Header.Set("X-Request-Id", id)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r)
	})
}

// loopbackOnly serves the local-mode pages (chat as any member, read what the
// emulator "pushed" to anyone) to this machine only: the listener may well be
// on every interface, and someone trying the bot with their real roster must
// not expose it to the network. Reach them remotely through an SSH tunnel.
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			http.Error(w, "本地模式页面只能从本机访问 (local-mode pages are served to this machine only)", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// recoverer turns a panic in a handler into a 500 and a log line instead of a
// dropped connection.
func recoverer(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.ErrorContext(r.Context(), "panic", "path", r.URL.Path, "request_id", r.Header.Get("X-Request-Id"), "panic", v)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// httpMetrics counts requests and their latency per route and status.
type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "unionbot_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "unionbot_http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// wrap counts every request under the mux pattern that served it (the
// pattern, not the raw path, keeps the label set small).
func (m *httpMetrics) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := r.Pattern // set by ServeMux on this request
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// newCallbackMetrics counts WeChat callbacks by outcome (reply, duplicate,
// async, bad_signature…) and times them: the figures an operator watches
// after a broadcast.
func newCallbackMetrics(reg prometheus.Registerer) func(outcome string, elapsed time.Duration) {
	count := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "unionbot_wechat_callbacks_total", Help: "WeChat callbacks by outcome.",
	}, []string{"outcome"})
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "unionbot_wechat_callback_seconds",
		Help:    "Time to answer a WeChat callback.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 4.5},
	})
	reg.MustRegister(count, latency)
	return func(outcome string, elapsed time.Duration) {
		count.WithLabelValues(outcome).Inc()
		latency.Observe(elapsed.Seconds())
	}
}
