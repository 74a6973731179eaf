package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"unionbot/internal/testlog"
)

// pingFunc is a fake dependency for readiness.
type pingFunc func(ctx context.Context) error

func (f pingFunc) Ping(ctx context.Context) error { return f(ctx) }

var (
	pingOK   = pingFunc(func(context.Context) error { return nil })
	pingDown = pingFunc(func(context.Context) error { return errors.New("connection refused") })
	// pingHang waits for its context, as a database stuck on a lock does.
	pingHang = pingFunc(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
)

// pingStuck ignores its context until released.
func pingStuck(t *testing.T) pinger {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	return pingFunc(func(context.Context) error { <-release; return nil })
}

// TestReadyNamesOnlyTheFailedDependency: each dependency has its own budget
// and they are checked at once, so a hanging database is not blamed on Redis
// and /readyz answers within about one budget (issue 6 §1.8).
func TestReadyNamesOnlyTheFailedDependency(t *testing.T) {
	const budget = 300 * time.Millisecond
	cases := []struct {
		name     string
		db, kv   pinger
		status   int
		body     string
		notInBdy string
	}{
		{"all up", pingOK, pingOK, http.StatusOK, "ready", "unavailable"},
		{"database hangs", pingHang, pingOK, http.StatusServiceUnavailable, "unavailable: database\n", "redis"},
		{"database stuck, ignoring its context", pingStuck(t), pingOK, http.StatusServiceUnavailable, "unavailable: database\n", "redis"},
		{"redis down", pingOK, pingDown, http.StatusServiceUnavailable, "unavailable: redis\n", "database"},
		{"database hangs and redis down", pingHang, pingDown, http.StatusServiceUnavailable, "unavailable: database, redis\n", "ready"},
		{"both hang", pingHang, pingHang, http.StatusServiceUnavailable, "unavailable: database, redis\n", "ready"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs testlog.Buffer
			h := readyHandler(slog.New(slog.NewJSONHandler(&logs, nil)), budget,
				readyCheck{"database", tc.db}, readyCheck{"redis", tc.kv})
			start := time.Now()
			rec := httptest.NewRecorder()
			h(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			took := time.Since(start)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.body) || strings.Contains(rec.Body.String(), tc.notInBdy) {
				t.Errorf("got %d %q, want %d %q without %q", rec.Code, rec.Body.String(), tc.status, tc.body, tc.notInBdy)
			}
			if took > 2*budget {
				t.Errorf("took %v, want about one budget (%v): dependencies are checked at once", took, budget)
			}
		})
	}
}

// TestReadyzWithRedisDown: the real service, Redis stopped: 503 naming Redis
// only; back to ready when Redis returns.
func TestReadyzWithRedisDown(t *testing.T) {
	addr, stop, restart := privateRedis(t)
	r := start(t, map[string]string{"UNIONBOT_REDIS_ADDR": addr})
	get := func() (int, string) {
		resp, err := http.Get(r.base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(); code != http.StatusOK {
		t.Fatalf("readyz with everything up: %d %q", code, body)
	}
	stop()
	if code, body := get(); code != http.StatusServiceUnavailable || body != "unavailable: redis\n" {
		t.Fatalf("readyz with Redis down: %d %q, want 503 naming redis only", code, body)
	}
	restart()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := get()
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz after Redis came back: %d %q", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveInBackground runs the serve command with env until the test ends and
// waits for its public listener.
func serveInBackground(t *testing.T, env map[string]string) (stderr *testlog.Buffer) {
	t.Helper()
	if env["UNIONBOT_DATA_DIR"] == "" {
		env["UNIONBOT_DATA_DIR"] = t.TempDir()
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	var stdout testlog.Buffer
	stderr = &testlog.Buffer{}
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, nil, &stdout, stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + env["UNIONBOT_ADDR"] + "/healthz")
		if err == nil {
			resp.Body.Close()
			return stderr
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsOnlyOnMetricsListener: /metrics is served on
// UNIONBOT_METRICS_ADDR and not on the public listener, which keeps /wechat,
// /healthz and /readyz (issue 6 §1.11).
func TestMetricsOnlyOnMetricsListener(t *testing.T) {
	pub, met := freeAddr(t), freeAddr(t)
	serveInBackground(t, map[string]string{"UNIONBOT_ADDR": pub, "UNIONBOT_METRICS_ADDR": met})

	if code, _ := httpGet(t, "http://"+pub+"/metrics"); code != http.StatusNotFound {
		t.Errorf("public /metrics: %d, want 404", code)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := httpGet(t, "http://"+pub+path); code != http.StatusOK {
			t.Errorf("public %s: %d %q", path, code, body)
		}
	}
	if code, _ := httpGet(t, "http://"+pub+"/wechat"); code != http.StatusBadRequest { // GET without echostr
		t.Errorf("public /wechat: %d, want 400", code)
	}
	code, body := httpGet(t, "http://"+met+"/metrics")
	if code != http.StatusOK || !strings.Contains(body, "unionbot_wechat_callback_seconds") || !strings.Contains(body, "go_goroutines") {
		t.Errorf("metrics listener /metrics: %d %.300q", code, body)
	}
	for _, path := range []string{"/wechat", "/healthz", "/_local/chat"} {
		if code, _ := httpGet(t, "http://"+met+path); code != http.StatusNotFound {
			t.Errorf("metrics listener %s: %d, want 404", path, code)
		}
	}
}

// TestMetricsAddressTakenInLocalMode: someone trying the bot with 9090 in use
// gets a warning, not a failed start.
func TestMetricsAddressTakenInLocalMode(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	pub := freeAddr(t)
	logs := serveInBackground(t, map[string]string{"UNIONBOT_ADDR": pub, "UNIONBOT_METRICS_ADDR": busy.Addr().String()})
	if !strings.Contains(logs.String(), "metrics listener unavailable") {
		t.Errorf("no warning about the metrics address:\n%s", logs.String())
	}
	if code, _ := httpGet(t, "http://"+pub+"/healthz"); code != http.StatusOK {
		t.Errorf("healthz: %d", code)
	}
}

// TestMetricsOff: UNIONBOT_METRICS_ADDR=off serves no metrics anywhere.
func TestMetricsOff(t *testing.T) {
	pub := freeAddr(t)
	logs := serveInBackground(t, map[string]string{"UNIONBOT_ADDR": pub, "UNIONBOT_METRICS_ADDR": "off"})
	if strings.Contains(logs.String(), `"metrics server"`) {
		t.Errorf("metrics server started although off:\n%s", logs.String())
	}
	if code, _ := httpGet(t, "http://"+pub+"/metrics"); code != http.StatusNotFound {
		t.Errorf("public /metrics: %d, want 404", code)
	}
}

// TestMetricsAddressTakenWithRealAccount: with a real account an explicit
// metrics address that cannot be opened stops the start, naming the variable.
func TestMetricsAddressTakenWithRealAccount(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	env := map[string]string{
		"UNIONBOT_ADDR": freeAddr(t), "UNIONBOT_METRICS_ADDR": busy.Addr().String(), "UNIONBOT_DATA_DIR": t.TempDir(),
		"UNIONBOT_WECHAT_APPID": "wx2c2769f8efd9abc2", "UNIONBOT_WECHAT_SECRET": "s", "UNIONBOT_WECHAT_TOKEN": "prodtoken",
		"UNIONBOT_WECHAT_AES_KEY": testAESKey,
	}
	var stdout, stderr testlog.Buffer
	code := run(t.Context(), nil, func(k string) string { return env[k] }, nil, &stdout, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "UNIONBOT_METRICS_ADDR") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestPlainModeWarnsOnce: a real account without an AES key is warned about
// once at start; with one, or in local mode, nothing is said.
func TestPlainModeWarnsOnce(t *testing.T) {
	account := func(aes string) map[string]string {
		return map[string]string{
			"UNIONBOT_WECHAT_APPID": "wx2c2769f8efd9abc2", "UNIONBOT_WECHAT_SECRET": "s",
			"UNIONBOT_WECHAT_TOKEN": "prodtoken", "UNIONBOT_WECHAT_AES_KEY": aes,
			"UNIONBOT_WECHAT_API_BASE": "http://127.0.0.1:1",
		}
	}
	const warning = "WeChat plain mode"
	if n := strings.Count(start(t, account("")).logs.String(), warning); n != 1 {
		t.Errorf("plain mode: %d warnings, want 1", n)
	}
	if n := strings.Count(start(t, account(testAESKey)).logs.String(), warning); n != 0 {
		t.Errorf("safe mode: %d warnings, want 0", n)
	}
	if n := strings.Count(start(t, map[string]string{}).logs.String(), warning); n != 0 {
		t.Errorf("local mode: %d warnings, want 0", n)
	}
}
