package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"unionbot/config"
	"unionbot/internal/testlog"
	"unionbot/localwx"
	"unionbot/roster"
	"unionbot/storage"
)

// These tests boot the whole service as main wires it, on a real listener, and
// talk to it only the way WeChat and a browser would.

const testAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

type running struct {
	app  *app
	base string
	logs *testlog.Buffer
}

// start runs one replica with the given environment on 127.0.0.1:0.
func start(t *testing.T, env map[string]string) *running {
	t.Helper()
	if env["UNIONBOT_DATA_DIR"] == "" {
		env["UNIONBOT_DATA_DIR"] = t.TempDir()
	}
	env["UNIONBOT_LOG_LEVEL"] = "debug"
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &testlog.Buffer{}
	base := selfURL(ln.Addr())
	a, err := newApp(t.Context(), cfg, newLogger(cfg, logs), base)
	if err != nil {
		ln.Close()
		t.Fatalf("newApp: %v", err)
	}
	srv := &http.Server{Handler: a.handler}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		a.callback.Wait(ctx)
		a.close()
	})
	return &running{app: a, base: base, logs: logs}
}

func (r *running) client(token, appID, aesKey string, mode localwx.Mode) *localwx.Client {
	return &localwx.Client{URL: r.base + "/wechat", Token: token, AppID: appID, AESKey: aesKey, Mode: mode,
		HTTP: &http.Client{Timeout: 10 * time.Second}}
}

// idNumber returns a valid 18-digit ID number (GB 11643 checksum) with the
// given 17-digit body.
func idNumber(body17 string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range body17 {
		sum += int(c-'0') * weights[i]
	}
	return body17 + string("10X98765432"[sum%11])
}

func seedMember(t *testing.T, db *storage.DB, no, name, id string) {
	t.Helper()
	res, err := db.UpsertMembers(t.Context(), []storage.MemberRecord{{
		MemberNo: no, Name: name, IDNumber: id, Phone: "13812345678", UnitName: "城关镇总工会",
		JoinedOn: time.Date(2019, 3, 1, 0, 0, 0, 0, time.UTC), Status: storage.StatusActive,
		MutualAidYears: []int{time.Now().Year()},
	}})
	if err != nil {
		t.Fatalf("seed member: %v %v", res, err)
	}
}

type chat struct {
	t      *testing.T
	c      *localwx.Client
	openID string
}

func (c chat) say(text string) string {
	c.t.Helper()
	resp, err := c.c.Send(c.t.Context(), localwx.TextMsg(c.openID, text))
	if err != nil {
		c.t.Fatalf("send %q: %v", text, err)
	}
	return resp.Text
}

func (c chat) event(event, key string) string {
	c.t.Helper()
	resp, err := c.c.Send(c.t.Context(), localwx.EventMsg(c.openID, event, key))
	if err != nil {
		c.t.Fatalf("event %s: %v", event, err)
	}
	return resp.Text
}

func contains(t *testing.T, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Fatalf("reply %q\ndoes not contain %q", got, w)
		}
	}
}

func TestLocalModeConversation(t *testing.T) {
	r := start(t, map[string]string{"UNIONBOT_UNION_NAME": "城关县总工会"})
	id := idNumber("41272819850612003")
	seedMember(t, r.app.db, "GH2019000123", "李秀英", id)
	c := chat{t, r.client(config.DevToken, localAppID, "", localwx.Plain), "o-e2e-local"}

	contains(t, c.event("subscribe", ""), "欢迎", "城关县总工会", "绑定")
	contains(t, c.say("菜单"), "绑定", "互助保障", "法律援助")
	contains(t, c.say("我的信息"), "绑定")
	contains(t, c.say("绑定"), "姓名")
	contains(t, c.say("李秀英"), "后6位")
	got := c.say(id[12:])
	contains(t, got, "绑定成功", "城关镇总工会")
	if strings.Contains(got, "李秀英") || strings.Contains(got, "GH2019000123") || strings.Contains(got, id) {
		t.Fatalf("bind reply leaks unmasked data: %q", got)
	}
	contains(t, c.say("我的信息"), "城关镇总工会", "在册")
	contains(t, c.event("CLICK", "mutual_aid"), fmt.Sprint(time.Now().Year()))
	contains(t, c.say("会费怎么交"), "会费")

	for _, path := range []string{"/healthz", "/readyz", "/_local/chat"} {
		resp, err := http.Get(r.base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, resp.StatusCode, body)
		}
	}
	// Metrics are served on their own listener (UNIONBOT_METRICS_ADDR) only.
	metrics := httptest.NewRecorder()
	r.app.metricsHandler().ServeHTTP(metrics, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	contains(t, metrics.Body.String(), `unionbot_wechat_callbacks_total{outcome="reply"}`, "unionbot_http_requests_total")
	// Nothing the member typed or was told reaches the logs.
	logs := r.logs.String()
	for _, secret := range []string{"李秀英", id[12:], id, "会费怎么交", "GH2019000123"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs contain %q", secret)
		}
	}
	if !strings.Contains(logs, "request_id") {
		t.Fatalf("logs carry no request id:\n%s", logs)
	}
}

// mysqlDSN creates a scratch database on the test server and returns its DSN.
func mysqlDSN(t *testing.T) string {
	t.Helper()
	base := os.Getenv("UNIONBOT_TEST_MYSQL_DSN")
	if base == "" {
		base = "root@tcp(127.0.0.1:3306)/"
	}
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("UNIONBOT_TEST_MYSQL_DSN: %v", err)
	}
	admin, err := sqlx.Open("mysql", cfg.FormatDSN())
	if err == nil {
		err = admin.PingContext(t.Context())
	}
	if err != nil {
		unavailable(t, "MariaDB/MySQL", "UNIONBOT_TEST_MYSQL_DSN", err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "unionbot_e2e_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP DATABASE " + name)
		admin.Close()
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}

func redisAddr(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("UNIONBOT_TEST_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		unavailable(t, "Redis", "UNIONBOT_TEST_REDIS_ADDR", err)
	}
	conn.Close()
	return addr
}

func unavailable(t *testing.T, what, env string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s unreachable under CI: %v", what, err)
	}
	t.Skipf("%s unreachable (%v): start it or set %s; bash scripts/test.sh does both", what, err, env)
}

// TestProductionReplicasShareOneConversation runs three replicas on MySQL and
// Redis in safe mode and walks one member's conversation round-robin across
// them, the way a load balancer would spread WeChat's callbacks.
func TestProductionReplicasShareOneConversation(t *testing.T) {
	dsn := mysqlDSN(t)
	addr := redisAddr(t)
	key := make([]byte, 32)
	rand.Read(key)
	var prefix [4]byte
	rand.Read(prefix[:])
	env := func() map[string]string {
		return map[string]string{
			"UNIONBOT_MYSQL_DSN":       dsn,
			"UNIONBOT_REDIS_ADDR":      addr,
			"UNIONBOT_REDIS_PREFIX":    "e2e" + hex.EncodeToString(prefix[:]) + ":",
			"UNIONBOT_SECRET_KEY":      base64.StdEncoding.EncodeToString(key),
			"UNIONBOT_WECHAT_APPID":    "wx2c2769f8efd9abc2",
			"UNIONBOT_WECHAT_SECRET":   "prod-secret",
			"UNIONBOT_WECHAT_TOKEN":    "prodtoken",
			"UNIONBOT_WECHAT_AES_KEY":  testAESKey,
			"UNIONBOT_WECHAT_API_BASE": "http://127.0.0.1:1", // no outbound call is expected
		}
	}
	var replicas []*running
	for range 3 {
		replicas = append(replicas, start(t, env()))
	}
	id := idNumber("15062719900101001")
	seedMember(t, replicas[0].app.db, "EQ-0001", "巴特尔", id)

	turn := 0
	say := func(text string) string {
		t.Helper()
		r := replicas[turn%len(replicas)]
		turn++
		return chat{t, r.client("prodtoken", "wx2c2769f8efd9abc2", testAESKey, localwx.Safe), "o-e2e-prod"}.say(text)
	}
	contains(t, say("绑定"), "姓名")
	contains(t, say("巴特尔"), "后6位")
	contains(t, say(id[12:]), "绑定成功")
	contains(t, say("我的信息"), "城关镇总工会")

	// One delivery retried by WeChat onto all three replicas at once: one side
	// effect (one bind attempt counted), three identical replies.
	c := replicas[0].client("prodtoken", "wx2c2769f8efd9abc2", testAESKey, localwx.Safe)
	p, err := c.Prepare(localwx.TextMsg("o-e2e-other", "解绑"))
	if err != nil {
		t.Fatal(err)
	}
	replies := make([]string, 3)
	var wg sync.WaitGroup
	for i, r := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p2 := *p
			p2.URL = strings.Replace(p.URL, replicas[0].base, r.base, 1)
			resp, err := c.Do(t.Context(), &p2)
			if err != nil {
				t.Error(err)
				return
			}
			replies[i] = resp.Text
		}()
	}
	wg.Wait()
	if replies[0] == "" || replies[0] != replies[1] || replies[1] != replies[2] {
		t.Fatalf("retries across replicas got different replies: %q", replies)
	}
}

func TestInvalidConfigurationNamesTheVariable(t *testing.T) {
	var stdout, stderr bytes.Buffer
	env := map[string]string{
		"UNIONBOT_WECHAT_APPID":   "wx1",
		"UNIONBOT_WECHAT_SECRET":  "topsecret-value",
		"UNIONBOT_WECHAT_TOKEN":   "t",
		"UNIONBOT_WECHAT_AES_KEY": "short",
	}
	code := run(t.Context(), []string{"serve"}, func(k string) string { return env[k] }, nil, &stdout, &stderr)
	if code != 2 {
		t.Fatalf("exit code %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "UNIONBOT_WECHAT_AES_KEY") {
		t.Fatalf("stderr does not name the variable: %s", stderr.String())
	}
	if strings.Contains(stderr.String(), "topsecret-value") {
		t.Fatal("stderr prints a secret")
	}
	if code := run(t.Context(), []string{"frobnicate"}, func(string) string { return "" }, nil, &stdout, &stderr); code != 2 {
		t.Fatalf("unknown command exit %d", code)
	}
}

// TestServeShutsDownGracefully starts the real serve command and stops it as
// SIGTERM would (ctx cancelled) while a slow request is in flight.
func TestServeShutsDownGracefully(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{"UNIONBOT_ADDR": addr, "UNIONBOT_DATA_DIR": t.TempDir(), "UNIONBOT_SHUTDOWN_TIMEOUT": "5s"}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	var stdout, stderr testlog.Buffer
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, nil, &stdout, &stderr) }()

	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	contains(t, stdout.String(), "/_local/chat")
	c := &localwx.Client{URL: base + "/wechat", Token: config.DevToken, AppID: localAppID, NoRetry: true}
	if _, err := c.Send(t.Context(), localwx.TextMsg("o-shutdown", "菜单")); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(stderr.String(), "stopped") {
		t.Fatalf("no clean stop in logs: %s", stderr.String())
	}
}

// TestImportMembersCommand runs the import-members subcommand on a generated
// roster with one bad row appended, then binds one of the imported members.
func TestImportMembersCommand(t *testing.T) {
	dir := t.TempDir()
	var csv bytes.Buffer
	if err := roster.Generate(&csv, 20, 7); err != nil {
		t.Fatal(err)
	}
	csv.WriteString("BAD-1,张坏,110101199003071230,13800000000,城关镇总工会,2020-01-01,2026,在册\n")
	path := dir + "/roster.csv"
	if err := os.WriteFile(path, csv.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"UNIONBOT_DATA_DIR": dir}
	getenv := func(k string) string { return env[k] }
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"import-members", "--dry-run", path}, getenv, nil, &out, &errb); code != 1 {
		t.Fatalf("dry run exit %d: %s %s", code, out.String(), errb.String())
	}
	contains(t, out.String(), "身份证号")
	out.Reset()
	if code := run(t.Context(), []string{"import-members", path}, getenv, nil, &out, &errb); code != 1 {
		t.Fatalf("import exit %d (want 1: one row rejected): %s", code, errb.String())
	}
	contains(t, out.String(), "20", "第22行")
	out.Reset()
	if code := run(t.Context(), []string{"import-members"}, getenv, nil, &out, &errb); code != 2 {
		t.Fatalf("missing FILE exit %d", code)
	}
	// The imported roster is what a fresh server sees.
	r := start(t, map[string]string{"UNIONBOT_DATA_DIR": dir})
	n, err := r.app.db.CountMembers(t.Context())
	if err != nil || n != 20 {
		t.Fatalf("members after import = %d, %v", n, err)
	}
}

// TestKeywordsAndMenuCommands adds a keyword rule from the command line and
// sees the bot answer with it, then publishes the menu to the emulator.
func TestKeywordsAndMenuCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"UNIONBOT_DATA_DIR": dir}
	getenv := func(k string) string { return env[k] }
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"keywords", "add", "--match", "regex", "(", "x"}, getenv, nil, &out, &errb); code != 2 {
		t.Fatalf("bad regex accepted: exit %d", code)
	}
	if code := run(t.Context(), []string{"keywords", "add", "--match", "exact", "工会地址", "县总工会在人民路1号。"}, getenv, nil, &out, &errb); code != 0 {
		t.Fatalf("keywords add exit %d: %s", code, errb.String())
	}
	out.Reset()
	if code := run(t.Context(), []string{"keywords", "list"}, getenv, nil, &out, &errb); code != 0 {
		t.Fatalf("keywords list exit %d: %s", code, errb.String())
	}
	contains(t, out.String(), "工会地址", "exact")

	r := start(t, map[string]string{"UNIONBOT_DATA_DIR": dir})
	c := chat{t, r.client(config.DevToken, localAppID, "", localwx.Plain), "o-e2e-kw"}
	contains(t, c.say("工会地址"), "人民路1号")

	env["UNIONBOT_WECHAT_API_BASE"] = r.base + localPrefix + "/wechat"
	out.Reset()
	if code := run(t.Context(), []string{"sync-menu"}, getenv, nil, &out, &errb); code != 0 {
		t.Fatalf("sync-menu exit %d: %s", code, errb.String())
	}
	menu := string(r.app.emulator.Menu())
	contains(t, menu, `"mutual_aid"`, "会员服务")
}

// TestBindRetriedDeliveriesCountOnce sends the last bind step with a wrong ID
// suffix as WeChat would when its first try times out: the same delivery three
// times at once. The failure must be counted once, and all three tries get the
// same answer.
func TestBindRetriedDeliveriesCountOnce(t *testing.T) {
	r := start(t, map[string]string{})
	seedMember(t, r.app.db, "GH-R-1", "王建国", idNumber("11010519800101002"))
	c := r.client(config.DevToken, localAppID, "", localwx.Plain)
	ch := chat{t, c, "o-e2e-retry"}
	ch.say("绑定")
	ch.say("王建国")
	p, err := c.Prepare(localwx.TextMsg("o-e2e-retry", "999999"))
	if err != nil {
		t.Fatal(err)
	}
	replies := make([]string, 3)
	var wg sync.WaitGroup
	for i := range replies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Do(t.Context(), p)
			if err != nil {
				t.Error(err)
				return
			}
			replies[i] = resp.Text
		}()
	}
	wg.Wait()
	if replies[0] != replies[1] || replies[1] != replies[2] {
		t.Fatalf("retries got different replies: %q", replies)
	}
	contains(t, replies[0], "还可以再试4次")
	ch.say("绑定")
	ch.say("王建国")
	contains(t, ch.say("888888"), "还可以再试3次")
}

// privateRedis starts a redis-server of our own on a free port, so a test can
// stop and restart it without touching the shared one.
func privateRedis(t *testing.T) (addr string, stop func(), restart func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "redis-server binary", "PATH", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	var cmd *exec.Cmd
	startIt := func() {
		cmd = exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for range 100 {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("private redis did not start")
	}
	stop = func() {
		if cmd != nil && cmd.Process != nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	startIt()
	t.Cleanup(stop)
	return addr, stop, startIt
}

// TestRedisRestartMidConversation: Redis goes away while a member is half-way
// through binding. They get a clear message, not silence; once Redis is back
// the bot answers again without a restart of its own.
func TestRedisRestartMidConversation(t *testing.T) {
	addr, stop, restart := privateRedis(t)
	r := start(t, map[string]string{"UNIONBOT_REDIS_ADDR": addr})
	id := idNumber("15062719880808001")
	seedMember(t, r.app.db, "GH-RR-1", "乌云", id)
	c := r.client(config.DevToken, localAppID, "", localwx.Plain)
	c.NoRetry = true
	ch := chat{t, c, "o-e2e-redis"}
	contains(t, ch.say("绑定"), "姓名")

	stop()
	contains(t, ch.say("乌云"), "系统繁忙")
	// Without the kv store, answers with no side effect still go out; a
	// hand-off or a member look-up fails closed.
	contains(t, ch.say("菜单"), "服务菜单")
	contains(t, ch.say("人工"), "系统繁忙")
	contains(t, ch.say("我的信息"), "系统繁忙")
	if resp, err := http.Get(r.base + "/readyz"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz with Redis down: %v %v", resp, err)
	}

	restart()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := ch.say("绑定")
		if strings.Contains(got, "姓名") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bot did not recover after Redis came back: %q", got)
		}
		time.Sleep(200 * time.Millisecond)
	}
	contains(t, ch.say("乌云"), "后6位")
	contains(t, ch.say(id[12:]), "绑定成功")
}

// TestReadmeSampleRoster keeps the README's try-it walk-through true.
func TestReadmeSampleRoster(t *testing.T) {
	dir := t.TempDir()
	getenv := func(k string) string { return map[string]string{"UNIONBOT_DATA_DIR": dir}[k] }
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"import-members", "docs/sample-roster.csv"}, getenv, nil, &out, &errb); code != 0 {
		t.Fatalf("import sample roster: exit %d: %s %s", code, out.String(), errb.String())
	}
	r := start(t, map[string]string{"UNIONBOT_DATA_DIR": dir})
	c := r.client(config.DevToken, localAppID, "", localwx.Plain)
	a := chat{t, c, "o-readme-1"}
	a.say("绑定")
	a.say("韩娜霞")
	contains(t, a.say("075880"), "绑定成功")
	b := chat{t, c, "o-readme-2"}
	b.say("绑定")
	b.say("曹超")
	got := b.say("274878")
	if strings.Contains(got, "绑定成功") || !strings.Contains(got, "工会") {
		t.Fatalf("transferred member: %q", got)
	}
}

func TestLocalPagesServedToThisMachineOnly(t *testing.T) {
	r := start(t, map[string]string{})
	for _, path := range []string{"/_local/chat", "/_local/wechat/_emulator/sent?openid=o1"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = "192.0.2.10:50000"
		rec := httptest.NewRecorder()
		r.app.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Errorf("GET %s from the network = %d, want 403", path, rec.Code)
		}
	}
	// The callback itself is for WeChat, from anywhere.
	req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	req.RemoteAddr = "192.0.2.10:50000"
	rec := httptest.NewRecorder()
	r.app.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("healthz from the network = %d", rec.Code)
	}
}
