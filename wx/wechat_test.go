package wx

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unionbot/bot"

	"github.com/silenceper/wechat/v2/util"
	"github.com/sirupsen/logrus"

	"unionbot/internal/testlog"
	"unionbot/localwx"
	"unionbot/pii"
	"unionbot/storage/kv"
	"unionbot/storage/kv/kvtest"
)

// Test credentials of the emulated account.
const (
	wxTestAppID  = "wx0000000000test1"
	wxTestSecret = "test-secret"
	wxTestToken  = "test-token"
	wxTestAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// wxSaveGlobals restores the two process globals NewWeChat touches. Tests that
// call NewWeChat must not use t.Parallel().
func wxSaveGlobals(t testing.TB) {
	t.Helper()
	oldClient := util.DefaultHTTPClient
	oldLevel := logrus.GetLevel()
	oldOut := logrus.StandardLogger().Out
	t.Cleanup(func() {
		util.DefaultHTTPClient = oldClient
		logrus.SetLevel(oldLevel)
		logrus.SetOutput(oldOut)
	})
}

// wxMemory returns an in-process kv store closed at cleanup.
func wxMemory(t testing.TB) kv.Store {
	t.Helper()
	m := kv.NewMemory()
	t.Cleanup(m.Close)
	return m
}

// wxRedis returns a Redis kv store under a private prefix (skips or fails as
// kvtest decides when Redis is unreachable).
func wxRedis(t testing.TB) kv.Store {
	t.Helper()
	return kv.NewRedis(kvtest.Redis(t), kvtest.Prefix(t))
}

// wxStores are the kv backends every dedup/token test runs on.
var wxStores = []struct {
	name string
	open func(testing.TB) kv.Store
}{
	{"memory", wxMemory},
	{"redis", wxRedis},
}

// wxEngine is the real dialog core (bot.Bot, which de-duplicates within its
// turn) over a router whose every route is one test handler: it echoes,
// counts calls per openid (the side effects that must happen once) and can be
// slowed down, told to fail or to panic. inputs records what the edge handed
// the engine, one per arrival.
type wxEngine struct {
	*bot.Bot
	mu     sync.Mutex
	calls  map[string]int
	inputs []bot.Input
	delay  time.Duration
	err    error
	panics bool
}

func newWXEngine(store kv.Store, logger *slog.Logger) *wxEngine {
	e := &wxEngine{}
	r := bot.NewRouter(nil)
	r.Fallback(e.handle)
	for _, ev := range []string{bot.EventSubscribe, bot.EventUnsubscribe, bot.EventScan} {
		r.OnEvent(ev, e.handle)
	}
	r.Intent("MENU_CLAIM", e.handle)
	e.Bot = bot.New(bot.Deps{Store: store, Router: r, Sealer: wxSealer(), Logger: logger})
	return e
}

// wxSealer is a test cipher for sessions and kept replies.
func wxSealer() *pii.Cipher {
	c, err := pii.NewCipher(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		panic(err)
	}
	return c
}

func (e *wxEngine) Turn(ctx context.Context, in bot.Input) (bot.Result, error) {
	rec := in
	rec.Delivery = nil
	e.mu.Lock()
	e.inputs = append(e.inputs, rec)
	e.mu.Unlock()
	return e.Bot.Turn(ctx, in)
}

func (e *wxEngine) handle(ctx context.Context, s *bot.Session, in bot.Input) (bot.Reply, error) {
	switch in.Text { // session writes, for the round-trip count
	case "remember":
		s.SetVar("remembered", "1")
	case "forget":
		s.SetVar("remembered", "")
	}
	e.mu.Lock()
	if e.calls == nil {
		e.calls = map[string]int{}
	}
	e.calls[in.OpenID]++
	delay, err, panics := e.delay, e.err, e.panics
	e.mu.Unlock()
	if panics {
		panic("boom")
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return bot.Reply{}, ctx.Err()
		}
	}
	if err != nil {
		return bot.Reply{}, err
	}
	if in.Kind == bot.KindEvent {
		return bot.Text("event:" + in.Event + ":" + in.EventKey), nil
	}
	return bot.Text("echo:" + in.Text), nil
}

func (e *wxEngine) set(f func(e *wxEngine)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f(e)
}

func (e *wxEngine) Calls(openID string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[openID]
}

func (e *wxEngine) Inputs() []bot.Input {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]bot.Input(nil), e.inputs...)
}

// wxHarness is one bot callback in front of an emulated WeChat.
type wxHarness struct {
	emu    *localwx.Emulator
	wc     *WeChat
	sender *Sender
	cb     *Callback
	srv    *httptest.Server
	client *localwx.Client
	engine *wxEngine
	store  kv.Store
	logs   *testlog.Buffer
}

type wxHarnessOptions struct {
	mode         localwx.Mode
	store        kv.Store // default memory
	replyTimeout time.Duration
	now          func() time.Time
	token        string
	appID        string
	aesKey       string
	logLevel     slog.Level
	logOut       io.Writer // default: h.logs
	pusher       Pusher    // late replies; default the harness's Sender
}

func newWXHarness(t testing.TB, o wxHarnessOptions) *wxHarness {
	t.Helper()
	wxSaveGlobals(t)
	if o.store == nil {
		o.store = wxMemory(t)
	}
	if o.token == "" {
		o.token = wxTestToken
	}
	if o.appID == "" {
		o.appID = wxTestAppID
	}
	if o.aesKey == "" && o.mode != localwx.Plain {
		// Plain mode is an account without an AES key: with one, the
		// callback refuses plaintext deliveries.
		o.aesKey = wxTestAESKey
	}
	logs := &testlog.Buffer{}
	var out io.Writer = logs
	if o.logOut != nil {
		out = o.logOut
	}
	logger := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: o.logLevel}))

	emu := localwx.NewEmulator(localwx.EmulatorOptions{AppID: o.appID, AppSecret: wxTestSecret})
	emuSrv := httptest.NewServer(emu)
	t.Cleanup(emuSrv.Close)

	wc, err := NewWeChat(WeChatConfig{
		AppID: o.appID, Secret: wxTestSecret, Token: o.token, AESKey: o.aesKey,
		APIBase: emuSrv.URL, HTTPTimeout: 3 * time.Second,
	}, o.store, logger)
	if err != nil {
		t.Fatalf("NewWeChat: %v", err)
	}
	engine := newWXEngine(o.store, logger)
	sender := NewSender(wc)
	var pusher Pusher = sender
	if o.pusher != nil {
		pusher = o.pusher
	}
	cb := NewCallback(CallbackOptions{
		WeChat: wc, Engine: engine, Pusher: pusher, Logger: logger,
		ReplyTimeout: o.replyTimeout, Now: o.now,
	})
	srv := httptest.NewServer(cb)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := cb.Wait(ctx); err != nil {
			t.Errorf("callback Wait: %v", err)
		}
	})
	client := &localwx.Client{
		URL: srv.URL + "/wechat", Token: o.token, AppID: o.appID, AESKey: o.aesKey,
		Mode: o.mode, NoRetry: true,
	}
	return &wxHarness{emu: emu, wc: wc, sender: sender, cb: cb, srv: srv, client: client,
		engine: engine, store: o.store, logs: logs}
}

// post sends a raw request and returns status and body.
func (h *wxHarness) post(t *testing.T, rawURL string, body []byte, contentType string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return wxDo(t, req)
}

func wxDo(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// wxWithQuery returns rawURL with key set to val.
func wxWithQuery(t *testing.T, rawURL, key, val string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(key, val)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestNewWeChatValidates(t *testing.T) {
	wxSaveGlobals(t)
	store := wxMemory(t)
	cases := []struct {
		name string
		cfg  WeChatConfig
	}{
		{"no app id", WeChatConfig{Token: "t"}},
		{"no token", WeChatConfig{AppID: "wx1"}},
		{"short aes key", WeChatConfig{AppID: "wx1", Token: "t", AESKey: "short"}},
		{"bad api base", WeChatConfig{AppID: "wx1", Token: "t", APIBase: "not a url"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewWeChat(tc.cfg, store, nil); err == nil {
				t.Fatal("got nil error, want one")
			}
		})
	}
}

func TestNewWeChatQuietsSDKAndSetsClient(t *testing.T) {
	wxSaveGlobals(t)
	logrus.SetLevel(logrus.DebugLevel) // what the SDK's root package would do
	if _, err := NewWeChat(WeChatConfig{AppID: "wx1", Token: "t", HTTPTimeout: 2 * time.Second}, wxMemory(t), nil); err != nil {
		t.Fatal(err)
	}
	if got := logrus.GetLevel(); got != logrus.WarnLevel {
		t.Errorf("logrus level %v, want warn", got)
	}
	if util.DefaultHTTPClient == http.DefaultClient || util.DefaultHTTPClient.Timeout != 2*time.Second {
		t.Errorf("util.DefaultHTTPClient not replaced with a 2s-timeout client: %+v", util.DefaultHTTPClient)
	}
	if _, ok := util.DefaultHTTPClient.Transport.(rewriteTransport); ok {
		t.Error("official API base must not be rewritten")
	}
}

func TestRewriteTransport(t *testing.T) {
	var got []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Host+" "+r.URL.RequestURI())
		mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	for _, base := range []string{srv.URL, srv.URL + "/prefix/"} {
		c, err := newHTTPClient(base, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Get("https://api.weixin.qq.com/cgi-bin/media/get?access_token=x&media_id=y")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	want := []string{
		host + " /cgi-bin/media/get?access_token=x&media_id=y",
		host + " /prefix/cgi-bin/media/get?access_token=x&media_id=y",
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
}

// newWXTestServer serves emu and returns its URL.
func newWXTestServer(t testing.TB, emu *localwx.Emulator) string {
	t.Helper()
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return srv.URL
}
