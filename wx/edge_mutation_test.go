package wx

// Tests written from a mutation-testing pass (gremlins) over this package:
// each pins a behaviour that a surviving mutant showed no other test checked.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/silenceper/wechat/v2/credential"
	"github.com/silenceper/wechat/v2/util"

	"unionbot/bot"
	"unionbot/internal/testlog"
	"unionbot/localwx"
	"unionbot/storage/kv"
)

// A nonce up to 64 bytes is used as it is; a longer one is hashed.
func TestNonceKeyHashesOnlyLongNonces(t *testing.T) {
	n64 := strings.Repeat("n", 64)
	if got := nonceKey(7, n64); got != "wx:nonce:7:"+n64 {
		t.Errorf("64-byte nonce: key %q, want it verbatim", got)
	}
	n65 := strings.Repeat("n", 65)
	sum := sha256.Sum256([]byte(n65))
	if got := nonceKey(7, n65); got != "wx:nonce:7:"+hex.EncodeToString(sum[:]) {
		t.Errorf("65-byte nonce: key %q, want its SHA-256", got)
	}
}

// fixedRand makes localwx.Client's nonces (and cipher randomness) repeat.
type fixedRand struct{}

func (fixedRand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'q'
	}
	return len(p), nil
}

// In plain mode a signed timestamp+nonce stays bound to its first body for as
// long as that timestamp is accepted: signed 290 s ahead of our clock, it is
// still good 580 s later, and a forged body under it must still be refused.
func TestPlainNonceBoundForTheWholeWindow(t *testing.T) {
	wxSaveGlobals(t)
	synctest.Test(t, func(t *testing.T) {
		store := kv.NewMemory()
		defer store.Close()
		wc, err := NewWeChat(WeChatConfig{AppID: wxTestAppID, Secret: wxTestSecret, Token: wxTestToken,
			APIBase: "http://127.0.0.1:1", HTTPTimeout: time.Second}, store, nil)
		if err != nil {
			t.Fatal(err)
		}
		engine := newWXEngine(store, slog.New(slog.DiscardHandler))
		cb := NewCallback(CallbackOptions{WeChat: wc, Engine: engine})
		start := time.Now()
		client := &localwx.Client{URL: "http://bot/wechat", Token: wxTestToken, AppID: wxTestAppID, Mode: localwx.Plain,
			Now: func() time.Time { return start.Add(290 * time.Second) }}
		post := func(url string, body []byte) int {
			rec := httptest.NewRecorder()
			cb.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, url, bytes.NewReader(body)))
			return rec.Code
		}
		p, err := client.Prepare(localwx.TextMsg("oLate", "你好"))
		if err != nil {
			t.Fatal(err)
		}
		forged, err := client.Prepare(localwx.TextMsg("oLate", "解绑"))
		if err != nil {
			t.Fatal(err)
		}
		if code := post(p.URL, p.Body); code != http.StatusOK {
			t.Fatalf("first delivery: %d", code)
		}
		time.Sleep(580 * time.Second) // the timestamp is now 290 s old: still accepted
		if code := post(p.URL, forged.Body); code != http.StatusForbidden {
			t.Fatalf("forged body at 580 s under the used nonce: %d, want 403", code)
		}
		if err := cb.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// In safe mode msg_signature covers the body, so two different messages that
// happen to share a timestamp and nonce are both handled.
func TestSafeModeNonceNotBoundToBody(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{mode: localwx.Safe})
	now := time.Now()
	h.client.Now = func() time.Time { return now }
	h.client.Rand = fixedRand{}
	a := wxPrepare(t, h, localwx.TextMsg("oSafe", "一"))
	b := wxPrepare(t, h, localwx.TextMsg("oSafe", "二"))
	if a.Nonce != b.Nonce || a.Timestamp != b.Timestamp {
		t.Fatalf("test setup: nonces %q %q, timestamps %q %q", a.Nonce, b.Nonce, a.Timestamp, b.Timestamp)
	}
	for i, p := range []*localwx.Prepared{a, b} {
		resp, err := h.client.Do(t.Context(), p)
		if want := []string{"echo:一", "echo:二"}[i]; err != nil || resp.Text != want {
			t.Errorf("message %d: %q, %v; want %q", i, resp.Text, err, want)
		}
	}
	if n := h.engine.Calls("oSafe"); n != 2 {
		t.Errorf("handled %d messages, want 2", n)
	}
}

// A timestamp exactly 300 s from our clock, either way, is still inside the
// window (301 s is refused: TestRejectedRequests).
func TestTimestampWindowEdgesAccepted(t *testing.T) {
	base := time.Unix(time.Now().Unix(), 0)
	for _, skew := range []time.Duration{-300 * time.Second, 300 * time.Second} {
		h := newWXHarness(t, wxHarnessOptions{mode: localwx.Plain, now: func() time.Time { return base }})
		h.client.Now = func() time.Time { return base.Add(skew) }
		resp, err := h.client.Send(t.Context(), localwx.TextMsg("oEdge", "hi"))
		if err != nil || resp.Text != "echo:hi" {
			t.Errorf("skew %v: %q, %v; want the reply", skew, resp.Text, err)
		}
	}
}

// At debug level the callback logs the lengths of input and reply (never the
// text).
func TestDebugLogsLengths(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{logLevel: slog.LevelDebug})
	if _, err := h.client.Send(t.Context(), localwx.TextMsg("oDbg", "四个字儿")); err != nil {
		t.Fatal(err)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, `"text_len":4`) || !strings.Contains(logs, `"reply_len":9`) {
		t.Errorf("want text_len 4 and reply_len 9 (echo:四个字儿) at debug level:\n%s", logs)
	}
}

// pendingEngine reports every delivery as owned by another arrival that never
// settles; Peek counts its calls and fails the first one.
type pendingEngine struct {
	peeks atomic.Int32
}

func (e *pendingEngine) Turn(context.Context, bot.Input) (bot.Result, error) {
	return bot.Result{Dup: bot.DupPending}, nil
}

func (e *pendingEngine) Peek(context.Context, bot.Input) (bot.Result, error) {
	n := e.peeks.Add(1)
	if n > 200 { // a poll without back-off: stop it, the test fails on the count
		return bot.Result{Dup: bot.DupReplay}, nil
	}
	if n == 1 {
		return bot.Result{Dup: bot.DupPending}, errors.New("kv down")
	}
	return bot.Result{Dup: bot.DupPending}, nil
}

// A retry waiting for another arrival's reply polls with back-off (5 ms
// doubling up to 100 ms) until the reply deadline, logs a failed poll, and
// then answers "success".
func TestAwaitBacksOffUntilTheDeadline(t *testing.T) {
	wxSaveGlobals(t)
	synctest.Test(t, func(t *testing.T) {
		store := kv.NewMemory()
		defer store.Close()
		wc, err := NewWeChat(WeChatConfig{AppID: wxTestAppID, Secret: wxTestSecret, Token: wxTestToken,
			APIBase: "http://127.0.0.1:1", HTTPTimeout: time.Second}, store, nil)
		if err != nil {
			t.Fatal(err)
		}
		logs := &testlog.Buffer{}
		engine := &pendingEngine{}
		var outcome string
		cb := NewCallback(CallbackOptions{WeChat: wc, Engine: engine, ReplyTimeout: time.Second,
			Logger:  slog.New(slog.NewJSONHandler(logs, nil)),
			Observe: func(o string, _ time.Duration) { outcome = o }})
		client := &localwx.Client{URL: "http://bot/wechat", Token: wxTestToken, AppID: wxTestAppID, Mode: localwx.Plain}
		p, err := client.Prepare(localwx.TextMsg("oWait", "hi"))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		rec := httptest.NewRecorder()
		cb.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, p.URL, bytes.NewReader(p.Body)))
		if rec.Code != http.StatusOK || rec.Body.String() != "success" || outcome != OutcomeDupPending {
			t.Fatalf("got %d %q (%s), want success (dup_pending)", rec.Code, rec.Body.String(), outcome)
		}
		if d := time.Since(start); d != time.Second {
			t.Errorf("answered after %v, want at the 1 s deadline", d)
		}
		// 5+10+20+40+80 ms, then every 100 ms: 14 polls in 1 s.
		if n := engine.peeks.Load(); n < 10 || n > 16 {
			t.Errorf("%d polls in 1 s, want about 14", n)
		}
		if n := strings.Count(logs.String(), `"msg":"wait for delivery"`); n != 1 {
			t.Errorf("failed poll logged %d times, want once:\n%s", n, logs.String())
		}
	})
}

// recordingEngine keeps the Delivery each turn was given.
type recordingEngine struct {
	Engine
	mu  sync.Mutex
	got []bot.Delivery
}

func (e *recordingEngine) Turn(ctx context.Context, in bot.Input) (bot.Result, error) {
	e.mu.Lock()
	e.got = append(e.got, *in.Delivery)
	e.mu.Unlock()
	return e.Engine.Turn(ctx, in)
}

// The delivery handed to the engine: the reply is kept 30 s by default, the
// claim outlives the reply deadline, and the marker lives until the
// timestamp leaves the window.
func TestDeliveryLifetimes(t *testing.T) {
	base := time.Unix(time.Now().Unix(), 0)
	h := newWXHarness(t, wxHarnessOptions{now: func() time.Time { return base }})
	h.client.Now = func() time.Time { return base.Add(-100 * time.Second) }
	rec := &recordingEngine{Engine: h.engine}
	h.cb.engine = rec
	if resp, err := h.client.Send(t.Context(), localwx.TextMsg("oLife", "hi")); err != nil || resp.Text != "echo:hi" {
		t.Fatalf("%q, %v", resp.Text, err)
	}
	if len(rec.got) != 1 {
		t.Fatalf("%d turns", len(rec.got))
	}
	d := rec.got[0]
	if d.StateTTL != DefaultRetryTTL {
		t.Errorf("reply kept %v, want %v", d.StateTTL, DefaultRetryTTL)
	}
	if d.ClaimTTL <= DefaultReplyTimeout {
		t.Errorf("claim TTL %v does not outlive the reply deadline %v", d.ClaimTTL, DefaultReplyTimeout)
	}
	if d.MarkerTTL != 200*time.Second {
		t.Errorf("marker TTL %v, want 200 s (signed 100 s ago)", d.MarkerTTL)
	}
	// Plain mode (the harness default): the signed pair is remembered as
	// long as its timestamp stays accepted, like the marker.
	if d.NonceKey == "" || d.NonceTTL != 200*time.Second {
		t.Errorf("plain mode: nonce %q kept %v, want 200 s (signed 100 s ago)", d.NonceKey, d.NonceTTL)
	}
}

func TestNewCallbackRequiresWeChatAndEngine(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{})
	for name, o := range map[string]CallbackOptions{
		"no WeChat": {Engine: h.engine},
		"no Engine": {WeChat: h.wc},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: NewCallback did not panic", name)
				}
			}()
			NewCallback(o)
		}()
	}
}

func TestNewWeChatDefaultTimeout(t *testing.T) {
	wxSaveGlobals(t)
	if _, err := NewWeChat(WeChatConfig{AppID: "wx1", Token: "t"}, wxMemory(t), nil); err != nil {
		t.Fatal(err)
	}
	if got := util.DefaultHTTPClient.Timeout; got != 5*time.Second {
		t.Errorf("default HTTP timeout %v, want 5 s", got)
	}
}

// An escaped path (RawPath set) is prefixed too, escapes kept.
func TestRewriteTransportKeepsEscapedPath(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.EscapedPath()
	}))
	defer srv.Close()
	c, err := newHTTPClient(srv.URL+"/prefix", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get("https://api.weixin.qq.com/cgi-bin/a%2Fb")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if p := <-got; p != "/prefix/cgi-bin/a%2Fb" {
		t.Errorf("path %q, want /prefix/cgi-bin/a%%2Fb", p)
	}
}

// Media up to 20 MiB are downloaded; a larger one is refused, not truncated.
// The Content-Type header is kept unless it is missing or generic. Served
// directly (no emulator, no client timeout) so a loaded machine stays green.
func TestFetchMediaLimitsAndType(t *testing.T) {
	wxSaveGlobals(t)
	util.DefaultHTTPClient = &http.Client{}
	exact := bytes.Repeat([]byte{'m'}, maxMediaBytes)
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{'j'}, 100)...)
	media := map[string]struct {
		ct   string
		data []byte
	}{
		"/exact": {"audio/amr", exact},
		"/big":   {"audio/amr", append(exact[:len(exact):len(exact)], 'm')},
		"/octet": {"application/octet-stream", jpeg},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := media[r.URL.Path]
		w.Header().Set("Content-Type", m.ct)
		_, _ = w.Write(m.data)
	}))
	defer srv.Close()
	data, ct, err := fetchMedia(t.Context(), srv.URL+"/exact")
	if err != nil || len(data) != maxMediaBytes || ct != "audio/amr" {
		t.Errorf("20 MiB medium: %d bytes %q, %v; want all of it, audio/amr", len(data), ct, err)
	}
	if _, _, err := fetchMedia(t.Context(), srv.URL+"/big"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("20 MiB + 1 medium: %v, want refused as too large", err)
	}
	if _, ct, err := fetchMedia(t.Context(), srv.URL+"/octet"); err != nil || ct != "image/jpeg" {
		t.Errorf("octet-stream JPEG: %q, %v; want image/jpeg sniffed", ct, err)
	}
}

func TestUserInfoUnsubscribedHasNoSubscribeTime(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{})
	h.emu.SetUser("oLeft", localwx.UserState{Unsubscribed: true})
	ui, err := h.sender.UserInfo(t.Context(), "oLeft")
	if err != nil {
		t.Fatal(err)
	}
	if ui.Subscribed || !ui.SubscribeTime.IsZero() {
		t.Errorf("unsubscribed user: %+v, want no subscribe time", ui)
	}
}

// fakeFetcher is WeChat's stable-token endpoint.
type fakeFetcher struct {
	mu         sync.Mutex
	calls      []bool // force flag of each call
	expiry     int64
	failForced bool
}

func (f *fakeFetcher) GetAccessTokenDirectly(_ context.Context, force bool) (credential.ResAccessToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, force)
	if force && f.failForced {
		return credential.ResAccessToken{}, errors.New("errcode=45009 , errmsg=quota")
	}
	return credential.ResAccessToken{AccessToken: "T" + string(rune('0'+len(f.calls))), ExpiresIn: f.expiry}, nil
}

// A token is cached for expires_in − 300 s; Invalidate("") drops whatever is
// cached, and the next fetch is a forced refresh, asked once.
func TestTokensCacheAndForcedRefresh(t *testing.T) {
	ctx := t.Context()
	store := wxMemory(t)
	f := &fakeFetcher{expiry: 7200}
	tk := newTokens("wxA", store, f, time.Second, slog.New(slog.DiscardHandler))
	tok, err := tk.Token(ctx)
	if err != nil || tok != "T1" {
		t.Fatalf("token %q, %v", tok, err)
	}
	ttl, err := store.TTL(ctx, tokenKey("wxA"))
	if err != nil || ttl > 6900*time.Second || ttl < 6890*time.Second {
		t.Errorf("token cached for %v, %v; want 6900 s", ttl, err)
	}
	if err := tk.Invalidate(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(ctx, tokenKey("wxA")); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("after Invalidate(\"\"): cached token %v, want none", err)
	}
	if tok, err := tk.Token(ctx); err != nil || tok != "T2" {
		t.Fatalf("token after invalidation %q, %v", tok, err)
	}
	if want := []bool{false, true}; len(f.calls) != 2 || f.calls[1] != want[1] {
		t.Errorf("fetches (force flags) %v, want %v", f.calls, want)
	}
	if _, err := store.Get(ctx, tokenForceKey("wxA")); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("force flag left set: %v", err)
	}
}

// recordingPusher keeps the late replies it is given.
type recordingPusher struct {
	mu   sync.Mutex
	sent []string
}

func (p *recordingPusher) SendText(_ context.Context, openID, text string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, openID+":"+text)
	return nil
}

// A late reply goes out through the Pusher the callback was given (the outbox, in the
// service), not through a Sender of its own.
func TestLateReplyUsesTheGivenPusher(t *testing.T) {
	pusher := &recordingPusher{}
	h := newWXHarness(t, wxHarnessOptions{replyTimeout: 100 * time.Millisecond, pusher: pusher})
	h.engine.set(func(e *wxEngine) { e.delay = 400 * time.Millisecond })
	resp, err := h.client.Do(t.Context(), wxPrepare(t, h, localwx.TextMsg("oLate", "进度")))
	if err != nil || !resp.Empty {
		t.Fatalf("answer %q, %v; want success", resp.Body, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := h.cb.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	pusher.mu.Lock()
	defer pusher.mu.Unlock()
	if len(pusher.sent) != 1 || pusher.sent[0] != "oLate:echo:进度" {
		t.Fatalf("pushed through the given pusher: %q", pusher.sent)
	}
	if n := len(h.emu.SentTo("oLate")); n != 0 {
		t.Fatalf("%d messages sent around the given pusher", n)
	}
	if logs := h.logs.String(); !strings.Contains(logs, `"msg":"late reply pushed"`) || strings.Contains(logs, "push late reply") {
		t.Fatalf("a pushed reply is logged as pushed, not as failed:\n%s", logs)
	}
}

// failingPusher cannot reach WeChat.
type failingPusher struct{}

func (failingPusher) SendText(context.Context, string, string) error {
	return errors.New("45015 out of window")
}

// A late reply that cannot be pushed is logged as an error (the member got nothing), never
// as pushed.
func TestLatePushFailureIsLogged(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{replyTimeout: 100 * time.Millisecond, pusher: failingPusher{}})
	h.engine.set(func(e *wxEngine) { e.delay = 400 * time.Millisecond })
	if _, err := h.client.Do(t.Context(), wxPrepare(t, h, localwx.TextMsg("oLate", "进度"))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := h.cb.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, `"level":"ERROR","msg":"push late reply"`) || !strings.Contains(logs, "45015 out of window") ||
		strings.Contains(logs, "late reply pushed") {
		t.Fatalf("a failed push is not logged as an error:\n%s", logs)
	}
}

// A signed delivery the SDK cannot read is logged with the SDK's reason (clipped), so an
// operator can tell a wrong AES key from a malformed body.
func TestRejectedDeliveryLogsTheReason(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{mode: localwx.Safe})
	p := wxPrepare(t, h, localwx.TextMsg("oUser1", "hi"))
	enc := "bm90IGEgdmFsaWQgcGF5bG9hZCBhdCBhbGwsIHJlYWxseQ=="
	u := wxWithQuery(t, p.URL, "msg_signature", util.Signature(wxTestToken, p.Timestamp, p.Nonce, enc))
	status, _ := h.post(t, u, []byte("<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA["+enc+"]]></Encrypt></xml>"), "")
	if status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", status)
	}
	var reason string
	for _, line := range strings.Split(h.logs.String(), "\n") {
		var rec struct {
			Msg string `json:"msg"`
			Err string `json:"err"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "wechat callback rejected" {
			reason = rec.Err
		}
	}
	if len([]rune(reason)) < 10 || len(reason) > 4*maxLogValue+len("…") {
		t.Fatalf("logged reason %q: want the SDK's error, at most %d bytes", reason, 4*maxLogValue)
	}
}
