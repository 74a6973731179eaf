package localwx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount"
	offconfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/message"
)

// Test credentials. testAESKey is the official sample key (43 chars).
const (
	testAppID  = "wx0123456789abcdef"
	testSecret = "s3cret"
	testToken  = "tok3n"
	testAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// memCache is a tiny race-free cache.Cache; values come back as strings, as
// the SDK's token handles expect.
type memCache struct {
	mu sync.Mutex
	m  map[string]memItem
}

type memItem struct {
	v   string
	exp time.Time
}

func newMemCache() *memCache { return &memCache{m: map[string]memItem{}} }

func (c *memCache) Get(key string) interface{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.m[key]
	if !ok || (!it.exp.IsZero() && time.Now().After(it.exp)) {
		return nil
	}
	return it.v
}

func (c *memCache) Set(key string, val interface{}, timeout time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	it := memItem{v: fmt.Sprint(val)}
	if timeout > 0 {
		it.exp = time.Now().Add(timeout)
	}
	c.m[key] = it
	return nil
}

func (c *memCache) IsExist(key string) bool { return c.Get(key) != nil }

func (c *memCache) Delete(key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
	return nil
}

// seenRequest is one callback the test bot received.
type seenRequest struct {
	RawQuery string
	Body     string
}

// testBot is a small callback handler built on silenceper's server, the same
// way the real bot uses it. It talks to the emulator with plain HTTP (no SDK
// globals), so tests using it may run in parallel.
type testBot struct {
	oa     *officialaccount.OfficialAccount
	emuURL string
	delay  func(n int) time.Duration // delay before answering the n-th request (1-based)

	mu   sync.Mutex
	seen []seenRequest
}

func newTestBot(t testing.TB, aesKey, emuURL string) *testBot {
	t.Helper()
	oa := officialaccount.NewOfficialAccount(&offconfig.Config{
		AppID: testAppID, AppSecret: testSecret, Token: testToken, EncodingAESKey: aesKey, Cache: newMemCache(),
	})
	return &testBot{oa: oa, emuURL: emuURL}
}

func (b *testBot) requests() []seenRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]seenRequest(nil), b.seen...)
}

func (b *testBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	b.mu.Lock()
	b.seen = append(b.seen, seenRequest{RawQuery: r.URL.RawQuery, Body: string(body)})
	n := len(b.seen)
	b.mu.Unlock()
	if b.delay != nil {
		if d := b.delay(n); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
	}
	srv := b.oa.GetServer(r, w)
	srv.SetMessageHandler(func(m *message.MixMessage) *message.Reply {
		text := b.answer(m)
		if text == "" {
			return nil
		}
		return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText(text)}
	})
	if err := srv.Serve(); err != nil {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if srv.ResponseMsg != nil {
		_ = srv.Send()
	}
}

func (b *testBot) answer(m *message.MixMessage) string {
	openid := string(m.FromUserName)
	switch m.MsgType {
	case message.MsgTypeText:
		switch {
		case m.Content == "push":
			_ = b.call(message.NewCustomerTextMessage(openid, "pushed:hello"), PathCustomSend)
			_ = b.call(map[string]any{"touser": openid, "template_id": "TPL1",
				"data": map[string]any{"thing1": map[string]string{"value": "春季运动会"}, "time2": map[string]string{"value": "2026-04-01"}}},
				PathTemplateSend)
			return ""
		case m.BizMsgMenuID != 0:
			return fmt.Sprintf("menu:%d:%s", m.BizMsgMenuID, m.Content)
		}
		return "echo:" + m.Content
	case message.MsgTypeImage:
		data, err := b.media(m.MediaID)
		if err != nil {
			return "image-error:" + err.Error()
		}
		return fmt.Sprintf("image:%d", len(data))
	case message.MsgTypeEvent:
		switch m.Event {
		case message.EventSubscribe:
			return "欢迎关注"
		case message.EventClick:
			return "click:" + m.EventKey
		}
	}
	return ""
}

func (b *testBot) token() (string, error) {
	resp, err := http.Get(b.emuURL + PathToken + "?grant_type=client_credential&appid=" + testAppID + "&secret=" + testSecret)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	return out.AccessToken, nil
}

func (b *testBot) call(v any, path string) error {
	tok, err := b.token()
	if err != nil {
		return err
	}
	buf, _ := json.Marshal(v)
	resp, err := http.Post(b.emuURL+path+"?access_token="+url.QueryEscape(tok), "application/json", bytes.NewReader(buf))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		ErrCode int `json:"errcode"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return err
	}
	if out.ErrCode != 0 {
		return fmt.Errorf("errcode %d", out.ErrCode)
	}
	return nil
}

func (b *testBot) media(id string) ([]byte, error) {
	tok, err := b.token()
	if err != nil {
		return nil, err
	}
	resp, err := http.Get(b.emuURL + PathMediaGet + "?access_token=" + url.QueryEscape(tok) + "&media_id=" + url.QueryEscape(id))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return nil, fmt.Errorf("media error: %s", data)
	}
	return data, nil
}

// stack serves the emulator at / and a test bot at /wechat on one server.
type stack struct {
	srv *httptest.Server
	emu *Emulator
	bot *testBot
}

func newStack(t testing.TB, aesKey string, extra func(mux *http.ServeMux, s *stack)) *stack {
	t.Helper()
	s := &stack{emu: NewEmulator(EmulatorOptions{AppID: testAppID, AppSecret: testSecret})}
	mux := http.NewServeMux()
	mux.Handle("/", s.emu)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	s.bot = newTestBot(t, aesKey, s.srv.URL)
	mux.Handle("/wechat", s.bot)
	if extra != nil {
		extra(mux, s)
	}
	return s
}

func (s *stack) client(mode Mode) *Client {
	return &Client{URL: s.srv.URL + "/wechat", Token: testToken, AppID: testAppID, AESKey: testAESKey, Mode: mode, ToUserName: "gh_test"}
}
