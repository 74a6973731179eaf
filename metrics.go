package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

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
