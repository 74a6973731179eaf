package wx

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unionbot/bot"

	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
	"github.com/sirupsen/logrus"

	"unionbot/internal/testlog"
	"unionbot/localwx"
	"unionbot/storage/kv"
)

func TestVerifyEchostr(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{})
	got, err := h.client.Verify(t.Context(), "echo-123456")
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got != "echo-123456" {
		t.Errorf("echo %q, want %q", got, "echo-123456")
	}

	ts := strconv.FormatInt(time.Now().Unix(), 10)
	good := url.Values{"signature": {util.Signature(wxTestToken, ts, "42")}, "timestamp": {ts}, "nonce": {"42"}, "echostr": {"abc"}}
	cases := []struct {
		name   string
		mutate func(url.Values)
		status int
	}{
		{"valid", func(url.Values) {}, http.StatusOK},
		{"bad signature", func(q url.Values) { q.Set("signature", strings.Repeat("0", 40)) }, http.StatusForbidden},
		{"altered nonce", func(q url.Values) { q.Set("nonce", "43") }, http.StatusForbidden},
		{"no signature", func(q url.Values) { q.Del("signature") }, http.StatusForbidden},
		{"no echostr", func(q url.Values) { q.Del("echostr") }, http.StatusBadRequest},
		{"stale timestamp", func(q url.Values) {
			old := strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)
			q.Set("timestamp", old)
			q.Set("signature", util.Signature(wxTestToken, old, "42"))
		}, http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{}
			for k, v := range good {
				q[k] = append([]string(nil), v...)
			}
			tc.mutate(q)
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, h.srv.URL+"/wechat?"+q.Encode(), nil)
			status, body := wxDo(t, req)
			if status != tc.status {
				t.Fatalf("status %d, want %d (body %q)", status, tc.status, body)
			}
			if status == http.StatusOK && string(body) != "abc" {
				t.Errorf("body %q, want abc", body)
			}
		})
	}
}

func TestRoundTripModes(t *testing.T) {
	for _, mode := range []localwx.Mode{localwx.Plain, localwx.Compat, localwx.Safe} {
		t.Run(mode.String(), func(t *testing.T) {
			h := newWXHarness(t, wxHarnessOptions{mode: mode})
			m := localwx.TextMsg("oUser1", "你好 <b>&")
			resp, err := h.client.Send(t.Context(), m)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if resp.Text != "echo:你好 <b>&" || resp.MsgType != "text" {
				t.Errorf("reply %q (%s), want echo text", resp.Text, resp.MsgType)
			}
			if resp.ToUser != "oUser1" {
				t.Errorf("reply to %q, want oUser1", resp.ToUser)
			}
			if resp.Encrypted != (mode != localwx.Plain) {
				t.Errorf("encrypted=%v in %s mode", resp.Encrypted, mode)
			}
			in := h.engine.Inputs()
			if len(in) != 1 {
				t.Fatalf("engine got %d inputs, want 1", len(in))
			}
			want := bot.Input{OpenID: "oUser1", MsgID: m.MsgID, CreateTime: time.Unix(m.CreateTime, 0), Kind: bot.KindText, Text: "你好 <b>&"}
			if !in[0].CreateTime.Equal(want.CreateTime) || in[0].OpenID != want.OpenID || in[0].MsgID != want.MsgID ||
				in[0].Kind != want.Kind || in[0].Text != want.Text {
				t.Errorf("input %+v, want %+v", in[0], want)
			}
		})
	}
}

func TestNoReplyIsSuccess(t *testing.T) {
	for _, mode := range []localwx.Mode{localwx.Plain, localwx.Safe} {
		t.Run(mode.String(), func(t *testing.T) {
			h := newWXHarness(t, wxHarnessOptions{mode: mode})
			h.cb.engine = engineFunc(func(context.Context, bot.Input) (bot.Reply, error) { return bot.Reply{}, nil })
			p, err := h.client.Prepare(localwx.TextMsg("oUser1", "hi"))
			if err != nil {
				t.Fatal(err)
			}
			status, body := h.post(t, p.URL, p.Body, "text/xml")
			// Safe mode must not get an encrypted empty envelope.
			if status != http.StatusOK || string(body) != "success" {
				t.Errorf("got %d %q, want 200 success", status, body)
			}
		})
	}
}

// engineFunc is an engine without de-duplication, for edge-only tests.
type engineFunc func(context.Context, bot.Input) (bot.Reply, error)

func (f engineFunc) Turn(ctx context.Context, in bot.Input) (bot.Result, error) {
	rep, err := f(ctx, in)
	return bot.Result{Reply: rep}, err
}

func (f engineFunc) Peek(context.Context, bot.Input) (bot.Result, error) {
	return bot.Result{Dup: bot.DupPending}, nil
}

func TestEngineErrors(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"internal error gives the busy text", errors.New("db down"), bot.ReplyFor(errors.New("x")).Text},
		{"user error is shown as is", fmt.Errorf("bind: %w", bot.Userf("会员号不存在")), "会员号不存在"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newWXHarness(t, wxHarnessOptions{})
			h.engine.set(func(e *wxEngine) { e.err = tc.err })
			resp, err := h.client.Send(t.Context(), localwx.TextMsg("oUser1", "hi"))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Text != tc.want {
				t.Errorf("reply %q, want %q", resp.Text, tc.want)
			}
		})
	}
	busy := bot.ReplyFor(errors.New("x")).Text
	t.Run("handler panic gives the busy text, once", func(t *testing.T) {
		h := newWXHarness(t, wxHarnessOptions{})
		h.engine.set(func(e *wxEngine) { e.panics = true })
		p := wxPrepare(t, h, localwx.TextMsg("oUser1", "hi"))
		for range 2 { // the retry gets the kept busy text; the lock was released
			resp, err := h.client.Do(t.Context(), p)
			if err != nil || resp.Text != busy {
				t.Fatalf("reply %q, %v; want %q", resp.Text, err, busy)
			}
		}
		h.engine.set(func(e *wxEngine) { e.panics = false })
		if resp, err := h.client.Send(t.Context(), localwx.TextMsg("oUser1", "next")); err != nil || resp.Text != "echo:next" {
			t.Fatalf("next message: %q, %v", resp.Text, err)
		}
		if n := h.engine.Calls("oUser1"); n != 2 {
			t.Errorf("handler ran %d times, want 2", n)
		}
	})
	t.Run("engine panic gives the busy text", func(t *testing.T) {
		h := newWXHarness(t, wxHarnessOptions{})
		h.cb.engine = engineFunc(func(context.Context, bot.Input) (bot.Reply, error) { panic("boom") })
		resp, err := h.client.Send(t.Context(), localwx.TextMsg("oUser1", "hi"))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Text != busy {
			t.Errorf("reply %q, want %q", resp.Text, busy)
		}
	})
}

func TestRejectedRequests(t *testing.T) {
	type req struct {
		url, ctype string
		body       []byte
	}
	cases := []struct {
		name   string
		mode   localwx.Mode
		build  func(t *testing.T, h *wxHarness) req
		status int
	}{
		{"bad signature", localwx.Plain, func(t *testing.T, h *wxHarness) req {
			p := wxPrepare(t, h, localwx.TextMsg("oUser1", "hi"))
			return req{url: wxWithQuery(t, p.URL, "signature", strings.Repeat("a", 40)), body: p.Body}
		}, http.StatusForbidden},
		{"signature of another token", localwx.Plain, func(t *testing.T, h *wxHarness) req {
			p := wxPrepare(t, h, localwx.TextMsg("oUser1", "hi"))
			return req{url: wxWithQuery(t, p.URL, "signature", util.Signature("other", p.Timestamp, p.Nonce)), body: p.Body}
		}, http.StatusForbidden},
		{"bad msg_signature", localwx.Safe, func(t *testing.T, h *wxHarness) req {
			p := wxPrepare(t, h, localwx.TextMsg("oUser1", "hi"))
			return req{url: wxWithQuery(t, p.URL, "msg_signature", strings.Repeat("b", 40)), body: p.Body}
		}, http.StatusForbidden},
		{"msg_signature of another payload", localwx.Compat, func(t *testing.T, h *wxHarness) req {
			p := wxPrepare(t, h, localwx.TextMsg("oUser1", "hi"))
			return req{url: wxWithQuery(t, p.URL, "msg_signature", util.Signature(wxTestToken, p.Timestamp, p.Nonce, "x")), body: p.Body}
		}, http.StatusForbidden},
		{"stale timestamp", localwx.Plain, func(t *testing.T, h *wxHarness) req {
			h.client.Now = func() time.Time { return time.Now().Add(-301 * time.Second) }
			p := wxPrepare(t, h, localwx.TextMsg("oUser1", "hi"))
			return req{url: p.URL, body: p.Body}
		}, http.StatusForbidden},
		{"future timestamp", localwx.Safe, func(t *testing.T, h *wxHarness) req {
			h.client.Now = func() time.Time { return time.Now().Add(301 * time.Second) }
			p := wxPrepare(t, h, localwx.TextMsg("oUser1", "hi"))
			return req{url: p.URL, body: p.Body}
		}, http.StatusForbidden},
		{"body over 64 KiB", localwx.Plain, func(t *testing.T, h *wxHarness) req {
			p := wxPrepare(t, h, localwx.TextMsg("oUser1", strings.Repeat("x", 65<<10)))
			return req{url: p.URL, body: p.Body}
		}, http.StatusRequestEntityTooLarge},
		{"malformed XML", localwx.Plain, func(t *testing.T, h *wxHarness) req {
			p := wxPrepare(t, h, localwx.TextMsg("oUser1", "hi"))
			return req{url: p.URL, body: []byte("<xml><ToUserName>")}
		}, http.StatusBadRequest},
		{"empty body", localwx.Plain, func(t *testing.T, h *wxHarness) req {
			p := wxPrepare(t, h, localwx.TextMsg("oUser1", "hi"))
			return req{url: p.URL}
		}, http.StatusBadRequest},
		{"safe envelope without Encrypt", localwx.Safe, func(t *testing.T, h *wxHarness) req {
			p := wxPrepare(t, h, localwx.TextMsg("oUser1", "hi"))
			return req{url: p.URL, body: []byte("<xml><ToUserName>gh</ToUserName></xml>")}
		}, http.StatusBadRequest},
		{"bad Encrypt payload", localwx.Safe, func(t *testing.T, h *wxHarness) req {
			// Properly signed, but not decryptable with our key.
			p := wxPrepare(t, h, localwx.TextMsg("oUser1", "hi"))
			enc := "bm90IGEgdmFsaWQgcGF5bG9hZCBhdCBhbGwsIHJlYWxseQ=="
			u := wxWithQuery(t, p.URL, "msg_signature", util.Signature(wxTestToken, p.Timestamp, p.Nonce, enc))
			return req{url: u, body: []byte("<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>")}
		}, http.StatusBadRequest},
		{"payload for another app id", localwx.Safe, func(t *testing.T, h *wxHarness) req {
			other := *h.client
			other.AppID = "wx_someone_else"
			p, err := other.Prepare(localwx.TextMsg("oUser1", "hi"))
			if err != nil {
				t.Fatal(err)
			}
			return req{url: p.URL, body: p.Body}
		}, http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newWXHarness(t, wxHarnessOptions{mode: tc.mode})
			r := tc.build(t, h)
			status, body := h.post(t, r.url, r.body, r.ctype)
			if status != tc.status {
				t.Fatalf("status %d, want %d (body %q)", status, tc.status, body)
			}
			if n := len(h.engine.Inputs()); n != 0 {
				t.Errorf("engine called %d times, want 0", n)
			}
		})
	}
}

func wxPrepare(t *testing.T, h *wxHarness, m localwx.Message) *localwx.Prepared {
	t.Helper()
	p, err := h.client.Prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConcurrentDuplicateDeliveries(t *testing.T) {
	for _, st := range wxStores {
		for _, mode := range []localwx.Mode{localwx.Plain, localwx.Safe} {
			t.Run(st.name+"/"+mode.String(), func(t *testing.T) {
				h := newWXHarness(t, wxHarnessOptions{mode: mode, store: st.open(t)})
				h.engine.set(func(e *wxEngine) { e.delay = 150 * time.Millisecond }) // the three overlap
				msgs := []localwx.Message{
					localwx.TextMsg("oDup1", "申请补助"),
					localwx.EventMsg("oDup2", "CLICK", "MENU_CLAIM"),
				}
				for _, m := range msgs {
					p := wxPrepare(t, h, m)
					var wg sync.WaitGroup
					replies := make([]string, 3)
					errs := make([]error, 3)
					for i := range 3 {
						wg.Go(func() {
							req, err := p.Request(t.Context())
							if err != nil {
								errs[i] = err
								return
							}
							status, body := wxDo(t, req)
							resp, err := h.client.ParseResponse(status, body)
							replies[i], errs[i] = resp.Text, err
						})
					}
					wg.Wait()
					for i, err := range errs {
						if err != nil {
							t.Fatalf("delivery %d: %v", i, err)
						}
					}
					if got := h.engine.Calls(m.FromUserName); got != 1 {
						t.Errorf("%s: engine called %d times, want 1", m.MsgType, got)
					}
					want := "echo:申请补助"
					if m.MsgType == "event" {
						want = "event:CLICK:MENU_CLAIM"
					}
					for i, r := range replies {
						if r != want {
							t.Errorf("%s: reply %d = %q, want %q", m.MsgType, i, r, want)
						}
					}
					// A retry after completion gets the stored reply too.
					resp, err := h.client.Do(t.Context(), p)
					if err != nil || resp.Text != want {
						t.Errorf("late retry: %q, %v; want %q", resp.Text, err, want)
					}
					if got := h.engine.Calls(m.FromUserName); got != 1 {
						t.Errorf("after late retry: engine called %d times, want 1", got)
					}
				}
			})
		}
	}
}

func TestSlowEngineRepliesLater(t *testing.T) {
	for _, st := range wxStores {
		t.Run(st.name, func(t *testing.T) {
			h := newWXHarness(t, wxHarnessOptions{store: st.open(t), replyTimeout: 200 * time.Millisecond})
			h.engine.set(func(e *wxEngine) { e.delay = 700 * time.Millisecond })
			m := localwx.TextMsg("oSlow", "查询进度")
			p := wxPrepare(t, h, m)
			key := stateKey("oSlow", strconv.FormatInt(m.MsgID, 10))

			// The engine needs 700ms: an empty answer means the deadline hit.
			resp, err := h.client.Do(t.Context(), p)
			if err != nil {
				t.Fatal(err)
			}
			if !resp.Empty {
				t.Fatalf("first answer %q, want success", resp.Body)
			}
			// WeChat's retry while the handler still runs: success, no rerun.
			resp, err = h.client.Do(t.Context(), p)
			if err != nil || !resp.Empty {
				t.Fatalf("retry: %q, %v; want success", resp.Body, err)
			}

			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			sent, err := h.emu.WaitSent(ctx, func(s localwx.Sent) bool { return s.ToUser == "oSlow" })
			if err != nil {
				t.Fatalf("no customer-service message: %v", err)
			}
			if sent.Kind != localwx.KindCustom || sent.Text != "echo:查询进度" {
				t.Errorf("pushed %s %q, want custom echo", sent.Kind, sent.Text)
			}
			if err := h.cb.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			// Retries are told the reply went out separately; the reply
			// itself is not kept.
			if v, err := h.store.Get(t.Context(), key); err != nil || string(v) != "a" {
				t.Errorf("delivery state %q = %q, %v; want the pushed note", key, v, err)
			}
			// A retry after the push still does not duplicate anything.
			resp, err = h.client.Do(t.Context(), p)
			if err != nil || !resp.Empty {
				t.Fatalf("last retry: %q, %v; want success", resp.Body, err)
			}
			if err := h.cb.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			if n := len(h.emu.SentTo("oSlow")); n != 1 {
				t.Errorf("%d messages pushed, want 1", n)
			}
			if got := h.engine.Calls("oSlow"); got != 1 {
				t.Errorf("engine called %d times, want 1", got)
			}
		})
	}
}

func TestSlowEngineWaitOnShutdown(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{replyTimeout: 50 * time.Millisecond})
	h.engine.set(func(e *wxEngine) { e.delay = time.Second })
	if _, err := h.client.Send(t.Context(), localwx.TextMsg("oWait", "x")); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if err := h.cb.Wait(short); err == nil {
		t.Error("Wait returned before the late reply was pushed")
	}
	ctx, cancel2 := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel2()
	if err := h.cb.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(h.emu.SentTo("oWait")); n != 1 {
		t.Errorf("after Wait: %d pushed, want 1", n)
	}
}

func TestToInput(t *testing.T) {
	mk := func(f func(m *message.MixMessage)) *message.MixMessage {
		m := &message.MixMessage{}
		m.FromUserName = "oU"
		m.CreateTime = 1700000000
		f(m)
		return m
	}
	cases := []struct {
		name string
		m    *message.MixMessage
		want bot.Input
	}{
		{"text", mk(func(m *message.MixMessage) { m.MsgType, m.MsgID, m.Content = "text", 7, "hello" }),
			bot.Input{MsgID: 7, Kind: bot.KindText, Text: "hello"}},
		{"image", mk(func(m *message.MixMessage) { m.MsgType, m.MsgID, m.MediaID, m.PicURL = "image", 8, "M1", "http://p" }),
			bot.Input{MsgID: 8, Kind: bot.KindImage, MediaID: "M1", PicURL: "http://p"}},
		{"voice with recognition", mk(func(m *message.MixMessage) {
			m.MsgType, m.MsgID, m.MediaID, m.Recognition = "voice", 9, "V1", "我要报销"
		}),
			bot.Input{MsgID: 9, Kind: bot.KindVoice, MediaID: "V1", Text: "我要报销"}},
		{"short video", mk(func(m *message.MixMessage) { m.MsgType, m.MsgID, m.MediaID = "shortvideo", 10, "SV" }),
			bot.Input{MsgID: 10, Kind: bot.KindVideo, MediaID: "SV"}},
		{"location", mk(func(m *message.MixMessage) { m.MsgType, m.MsgID, m.Label = "location", 11, "北京市" }),
			bot.Input{MsgID: 11, Kind: bot.KindLocation, Text: "北京市"}},
		{"link", mk(func(m *message.MixMessage) { m.MsgType, m.MsgID, m.URL = "link", 12, "https://x" }),
			bot.Input{MsgID: 12, Kind: bot.KindLink, Text: "https://x"}},
		{"subscribe via QR", mk(func(m *message.MixMessage) { m.MsgType, m.Event, m.EventKey = "event", "subscribe", "qrscene_bind42" }),
			bot.Input{Kind: bot.KindEvent, Event: bot.EventSubscribe, EventKey: "bind42"}},
		{"plain subscribe", mk(func(m *message.MixMessage) { m.MsgType, m.Event = "event", "subscribe" }),
			bot.Input{Kind: bot.KindEvent, Event: bot.EventSubscribe}},
		{"scan by follower", mk(func(m *message.MixMessage) { m.MsgType, m.Event, m.EventKey = "event", "SCAN", "bind42" }),
			bot.Input{Kind: bot.KindEvent, Event: bot.EventScan, EventKey: "bind42"}},
		{"menu click", mk(func(m *message.MixMessage) { m.MsgType, m.Event, m.EventKey = "event", "CLICK", "MENU_FAQ" }),
			bot.Input{Kind: bot.KindEvent, Event: bot.EventClick, EventKey: "MENU_FAQ"}},
		{"menu view", mk(func(m *message.MixMessage) { m.MsgType, m.Event, m.EventKey = "event", "VIEW", "https://u" }),
			bot.Input{Kind: bot.KindEvent, Event: bot.EventView, EventKey: "https://u"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.OpenID = "oU"
			tc.want.CreateTime = time.Unix(1700000000, 0)
			got := toInput(tc.m)
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestInputKindsEndToEnd sends the other message kinds through the callback.
func TestInputKindsEndToEnd(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{mode: localwx.Safe})
	msgs := []localwx.Message{
		localwx.VoiceMsg("oK", "VOICE1", "查询补助"),
		localwx.ImageMsg("oK", "IMG1", "http://mmbiz/pic"),
		localwx.EventMsg("oK", "subscribe", "qrscene_S1"),
		localwx.LocationMsg("oK", 39.9, 116.4, 15, "天安门"),
	}
	for _, m := range msgs {
		if _, err := h.client.Send(t.Context(), m); err != nil {
			t.Fatalf("%s: %v", m.MsgType, err)
		}
	}
	in := h.engine.Inputs()
	if len(in) != 4 {
		t.Fatalf("%d inputs, want 4", len(in))
	}
	if in[0].Kind != bot.KindVoice || in[0].Text != "查询补助" || in[0].MediaID != "VOICE1" {
		t.Errorf("voice: %+v", in[0])
	}
	if in[1].Kind != bot.KindImage || in[1].MediaID != "IMG1" || in[1].PicURL != "http://mmbiz/pic" {
		t.Errorf("image: %+v", in[1])
	}
	if in[2].Kind != bot.KindEvent || in[2].Event != bot.EventSubscribe || in[2].EventKey != "S1" || in[2].MsgID != 0 {
		t.Errorf("subscribe: %+v", in[2])
	}
	if in[3].Kind != bot.KindLocation || in[3].Text != "天安门" {
		t.Errorf("location: %+v", in[3])
	}
}

// ---- official vectors (sources in docs/CONTRACTS.md §7) ----

const (
	// A: Tencent's 公众平台 sample (Sample.py, 2014).
	vecAESKey     = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	vecAToken     = "spamtest"
	vecAAppID     = "wx2c2769f8efd9abc2"
	vecATimestamp = "1409735669"
	vecANonce     = "1320562132"
	vecAMsgSig    = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"

	// B: wechatpy's tests/test_crypto.py.
	vecBToken  = "123456"
	vecBAESKey = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
	vecBAppID  = "wx49f0ab532d5d035a"
)

func wxReadTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(b)
}

// TestOfficialVectorThroughCallback posts Tencent's sample (compatible mode:
// plaintext fields plus Encrypt) to the callback.
func TestOfficialVectorThroughCallback(t *testing.T) {
	ts, _ := strconv.ParseInt(vecATimestamp, 10, 64)
	h := newWXHarness(t, wxHarnessOptions{
		mode: localwx.Compat, token: vecAToken, appID: vecAAppID, aesKey: vecAESKey,
		now: func() time.Time { return time.Unix(ts, 0) },
	})
	body := wxReadTestdata(t, "tencent_sample_compat.xml")
	q := url.Values{
		"signature": {util.Signature(vecAToken, vecATimestamp, vecANonce)}, "timestamp": {vecATimestamp},
		"nonce": {vecANonce}, "encrypt_type": {"aes"}, "msg_signature": {vecAMsgSig},
		"openid": {"oyORnuP8q7ou2gfYjqLzSIWZf0rs"},
	}
	status, reply := h.post(t, h.srv.URL+"/wechat?"+q.Encode(), body, "text/xml")
	resp, err := h.client.ParseResponse(status, reply)
	if err != nil {
		t.Fatalf("reply: %v (status %d, body %q)", err, status, reply)
	}
	if !resp.Encrypted || resp.Text != "echo:abcdteT" || resp.ToUser != "oyORnuP8q7ou2gfYjqLzSIWZf0rs" || resp.FromUser != "gh_10f6c3c3ac5a" {
		t.Errorf("reply %+v", resp)
	}
	var env message.ResponseEncryptedXMLMsg
	if err := xml.Unmarshal(reply, &env); err != nil {
		t.Fatal(err)
	}
	if strconv.FormatInt(env.Timestamp, 10) != vecATimestamp || env.Nonce != vecANonce {
		t.Errorf("reply envelope timestamp/nonce %d/%s, want the request's", env.Timestamp, env.Nonce)
	}
	in := h.engine.Inputs()
	if len(in) != 1 {
		t.Fatalf("%d inputs, want 1", len(in))
	}
	if in[0].Text != "abcdteT" || in[0].OpenID != "oyORnuP8q7ou2gfYjqLzSIWZf0rs" || in[0].MsgID != 6054768590064713728 ||
		in[0].CreateTime.Unix() != 1409735668 {
		t.Errorf("input %+v", in[0])
	}

	// The same request with the nonce altered: 403, nothing processed.
	q.Set("nonce", "1320562133")
	status, _ = h.post(t, h.srv.URL+"/wechat?"+q.Encode(), body, "text/xml")
	if status != http.StatusForbidden {
		t.Errorf("altered nonce: status %d, want 403", status)
	}
	if n := len(h.engine.Inputs()); n != 1 {
		t.Errorf("engine called %d times, want 1", n)
	}
}

// TestWechatpyDecryptVectorThroughCallback posts wechatpy's decrypt vector in
// safe mode.
func TestWechatpyDecryptVectorThroughCallback(t *testing.T) {
	const ts, nonce, msgSig = "1411525903", "461056294", "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"
	sec, _ := strconv.ParseInt(ts, 10, 64)
	h := newWXHarness(t, wxHarnessOptions{
		mode: localwx.Safe, token: vecBToken, appID: vecBAppID, aesKey: vecBAESKey,
		now: func() time.Time { return time.Unix(sec, 0).Add(299 * time.Second) },
	})
	enc := string(wxReadTestdata(t, "wechatpy_decrypt_encrypt.txt"))
	body := "<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>"
	q := url.Values{
		"signature": {util.Signature(vecBToken, ts, nonce)}, "timestamp": {ts}, "nonce": {nonce},
		"encrypt_type": {"aes"}, "msg_signature": {msgSig},
	}
	status, reply := h.post(t, h.srv.URL+"/wechat?"+q.Encode(), []byte(body), "")
	resp, err := h.client.ParseResponse(status, reply)
	if err != nil {
		t.Fatalf("reply: %v (status %d)", err, status)
	}
	if resp.Text != "echo:test" || resp.ToUser != "messense" {
		t.Errorf("reply %+v", resp)
	}
	in := h.engine.Inputs()
	if len(in) != 1 || in[0].Text != "test" || in[0].OpenID != "messense" || in[0].MsgID != 4363689963896700987 {
		t.Fatalf("inputs %+v", in)
	}
}

// TestCryptoVectors pins the SDK's crypto to published vectors, byte for byte.
func TestCryptoVectors(t *testing.T) {
	t.Run("A decrypt", func(t *testing.T) {
		enc := string(wxReadTestdata(t, "tencent_sample_encrypt.txt"))
		if got := util.Signature(vecAToken, vecATimestamp, vecANonce, enc); got != vecAMsgSig {
			t.Errorf("msg_signature %s, want %s", got, vecAMsgSig)
		}
		random, plain, err := util.DecryptMsg(vecAAppID, enc, vecAESKey)
		if err != nil {
			t.Fatal(err)
		}
		want := "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>"
		if string(random) != "89465c840c5f116f" || string(plain) != want {
			t.Errorf("decrypted %q / %q", random, plain)
		}
	})
	t.Run("A2 encrypt", func(t *testing.T) {
		got, err := util.EncryptMsg([]byte("aaaabbbbccccdddd"), []byte("我是中文abcd123"), "wxb11529c136998cb6", vecAESKey)
		if err != nil {
			t.Fatal(err)
		}
		const want = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
		if string(got) != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("B encrypt", func(t *testing.T) {
		plain := "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>"
		got, err := util.EncryptMsg([]byte("1234567890123456"), []byte(plain), vecBAppID, vecBAESKey)
		if err != nil {
			t.Fatal(err)
		}
		want := string(wxReadTestdata(t, "wechatpy_encrypt_expected.txt"))
		if string(got) != want {
			t.Errorf("got %s, want %s", got, want)
		}
		if sig := util.Signature(vecBToken, "1411525903", "461056294", string(got)); sig != "407518b7649e86ef23978113f92d27afa9296533" {
			t.Errorf("MsgSignature %s", sig)
		}
	})
	t.Run("B echostr", func(t *testing.T) {
		const echostr = "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="
		const sig = "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96"
		if got := util.Signature(vecBToken, "1411443780", "437374425", echostr); got != sig {
			t.Errorf("signature %s, want %s", got, sig)
		}
		if got := util.Signature(vecBToken, "1411443780", "437374424", echostr); got == sig {
			t.Error("altered nonce still verifies")
		}
		_, plain, err := util.DecryptMsg(vecBAppID, echostr, vecBAESKey)
		if err != nil || string(plain) != "5927782489442352469" {
			t.Errorf("decrypted %q, %v", plain, err)
		}
	})
}

// ---- logs ----

// TestLogsCarryNoContent sends a message with a unique marker and an ID
// number through plain and safe mode, with our logger at debug level, and
// checks that neither reaches our log nor the SDK's (logrus) output.
func TestLogsCarryNoContent(t *testing.T) {
	for _, mode := range []localwx.Mode{localwx.Plain, localwx.Safe} {
		t.Run(mode.String(), func(t *testing.T) {
			wxSaveGlobals(t)
			logrus.SetLevel(logrus.DebugLevel) // as the SDK's root package would
			h := newWXHarness(t, wxHarnessOptions{mode: mode, logLevel: slog.LevelDebug, replyTimeout: time.Second})
			var sdkOut testlog.Buffer
			logrus.SetOutput(&sdkOut) // after NewWeChat, which set warn level
			marker := "MARKER-" + strconv.FormatInt(time.Now().UnixNano(), 36)
			const idNumber = "110101199003074258"
			content := "我的身份证号 " + idNumber + " " + marker

			resp, err := h.client.Send(t.Context(), localwx.TextMsg("oPriv", content))
			if err != nil || resp.Text != "echo:"+content {
				t.Fatalf("round trip: %q, %v", resp.Text, err)
			}
			// The slow path logs too: a late reply pushed afterwards.
			h.engine.set(func(e *wxEngine) { e.delay = 1500 * time.Millisecond })
			if _, err := h.client.Send(t.Context(), localwx.TextMsg("oPriv", content+"-late")); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			if err := h.cb.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			logs := h.logs.String()
			if !strings.Contains(logs, `"msg":"wechat callback"`) || !strings.Contains(logs, `"request_id"`) ||
				!strings.Contains(logs, `"open_id":"oPriv"`) || !strings.Contains(logs, `"outcome":"async"`) ||
				!strings.Contains(logs, `"text_len"`) {
				t.Fatalf("expected callback log lines, got:\n%s", logs)
			}
			for _, secret := range []string{marker, idNumber} {
				if strings.Contains(logs, secret) {
					t.Errorf("slog output contains %q:\n%s", secret, logs)
				}
				if strings.Contains(sdkOut.String(), secret) {
					t.Errorf("logrus output contains %q", secret)
				}
			}
			if logrus.GetLevel() > logrus.WarnLevel {
				t.Errorf("logrus level %v, want warn or quieter", logrus.GetLevel())
			}
		})
	}
}

func TestRequestIDAndObserve(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{})
	var mu sync.Mutex
	var outcomes []string
	h.cb.observe = func(o string, _ time.Duration) {
		mu.Lock()
		outcomes = append(outcomes, o)
		mu.Unlock()
	}
	p := wxPrepare(t, h, localwx.TextMsg("oR", "hi"))
	req, _ := p.Request(t.Context())
	req.Header.Set("X-Request-Id", "req-abc.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "req-abc.1" {
		t.Errorf("X-Request-Id %q", got)
	}
	if !strings.Contains(h.logs.String(), `"request_id":"req-abc.1"`) {
		t.Errorf("request id not logged:\n%s", h.logs.String())
	}
	bad := wxWithQuery(t, p.URL, "signature", "x")
	h.post(t, bad, p.Body, "")
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(outcomes, ",") != OutcomeReply+","+OutcomeBadSignature {
		t.Errorf("outcomes %v", outcomes)
	}
}

// BenchmarkCallback measures the callback path (signature checks, parsing or
// decryption, dedup claim and store, engine, reply) with a trivial engine,
// requests served in parallel through ServeHTTP.
func BenchmarkCallback(b *testing.B) {
	for _, st := range wxStores {
		for _, mode := range []localwx.Mode{localwx.Plain, localwx.Safe} {
			b.Run(st.name+"/"+mode.String(), func(b *testing.B) {
				h := newWXHarness(b, wxHarnessOptions{mode: mode, store: st.open(b), logOut: io.Discard})
				type prepared struct {
					url  string
					body []byte
				}
				reqs := make([]prepared, b.N)
				for i := range reqs {
					p, err := h.client.Prepare(localwx.TextMsg(fmt.Sprintf("oBench%d", i%500), "查询我的申请进度"))
					if err != nil {
						b.Fatal(err)
					}
					reqs[i] = prepared{p.URL, p.Body}
				}
				var next atomic.Int64
				b.ReportAllocs()
				b.SetParallelism(8) // requests wait on kv round trips: keep both cores busy
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						p := reqs[next.Add(1)-1]
						req := httptest.NewRequest(http.MethodPost, p.url, bytes.NewReader(p.body))
						rec := httptest.NewRecorder()
						h.cb.ServeHTTP(rec, req)
						if rec.Code != http.StatusOK || rec.Body.Len() < 50 {
							b.Errorf("status %d body %q", rec.Code, rec.Body.String())
							return
						}
					}
				})
			})
		}
	}
}

// TestRetryTakesOverFromDeadReplica: the replica that claimed a delivery died
// before finishing (its "processing" marker is left behind, with the short
// claim TTL). WeChat's retry must run the message rather than answer
// "success" with nothing ever processed.
func TestRetryTakesOverFromDeadReplica(t *testing.T) {
	for _, st := range wxStores {
		t.Run(st.name, func(t *testing.T) {
			h := newWXHarness(t, wxHarnessOptions{store: st.open(t), replyTimeout: 2 * time.Second})
			m := localwx.TextMsg("oDead", "你好")
			id := strconv.FormatInt(m.MsgID, 10)
			// The dead replica's first round trip: it claimed the delivery
			// and took the member's lock, then vanished without EndTurn.
			start, err := h.store.(kv.Turns).BeginTurn(t.Context(), kv.BeginTurnArgs{
				MarkerKey: markerKey("oDead", id), MarkerTTL: time.Minute,
				StateKey: stateKey("oDead", id), ClaimTTL: 300 * time.Millisecond,
				LockKey: "oid:{oDead}", LockToken: "dead", LockTTL: 500 * time.Millisecond,
			})
			if err != nil || start.Dup != kv.DupNone || !start.Locked {
				t.Fatalf("dead replica's claim: %+v, %v", start, err)
			}
			resp, err := h.client.Do(t.Context(), wxPrepare(t, h, m))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Text != "echo:你好" || h.engine.Calls("oDead") != 1 {
				t.Fatalf("reply %q, engine calls %d; want the message processed once", resp.Text, h.engine.Calls("oDead"))
			}
			if !strings.Contains(h.logs.String(), "taking over") {
				t.Errorf("takeover not logged:\n%s", h.logs.String())
			}
		})
	}
}
