package wx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"unionbot/localwx"
	"unionbot/storage/kv"
)

// TestReplayInsideTheWindowDoesNothing: a delivery replayed exactly (same
// signed query, same body) after its reply is no longer kept (30 s) but while
// its timestamp is still accepted (up to 300 s) is recognised by its marker:
// answered "success", never handled again. Time is synctest's fake clock.
func TestReplayInsideTheWindowDoesNothing(t *testing.T) {
	for _, mode := range []localwx.Mode{localwx.Safe, localwx.Plain} {
		t.Run(mode.String(), func(t *testing.T) {
			wxSaveGlobals(t)
			synctest.Test(t, func(t *testing.T) {
				store := kv.NewMemory()
				defer store.Close()
				aesKey := wxTestAESKey
				if mode == localwx.Plain {
					aesKey = ""
				}
				wc, err := NewWeChat(WeChatConfig{AppID: wxTestAppID, Secret: wxTestSecret, Token: wxTestToken, AESKey: aesKey,
					APIBase: "http://127.0.0.1:1", HTTPTimeout: time.Second}, store, nil)
				if err != nil {
					t.Fatal(err)
				}
				engine := newWXEngine(store, slog.New(slog.DiscardHandler))
				cb := NewCallback(CallbackOptions{WeChat: wc, Engine: engine})
				client := &localwx.Client{URL: "http://bot/wechat", Token: wxTestToken, AppID: wxTestAppID, AESKey: aesKey, Mode: mode}
				p, err := client.Prepare(localwx.TextMsg("oReplay", "解绑"))
				if err != nil {
					t.Fatal(err)
				}
				signedAt := time.Now()
				post := func() (int, string) {
					rec := httptest.NewRecorder()
					cb.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, p.URL, bytes.NewReader(p.Body)))
					resp, err := client.ParseResponse(rec.Code, rec.Body.Bytes())
					if err != nil {
						return rec.Code, "error: " + err.Error()
					}
					return rec.Code, resp.Text
				}
				if code, got := post(); code != http.StatusOK || got != "echo:解绑" {
					t.Fatalf("first delivery: %d %q", code, got)
				}
				time.Sleep(10 * time.Second)
				if code, got := post(); code != http.StatusOK || got != "echo:解绑" {
					t.Fatalf("WeChat's retry at 10 s: %d %q, want the kept reply", code, got)
				}
				for _, at := range []time.Duration{150 * time.Second, 290 * time.Second} {
					time.Sleep(at - time.Since(signedAt))
					if code, got := post(); code != http.StatusOK || got != "" {
						t.Fatalf("replay at %v: %d %q, want an empty answer", at, code, got)
					}
				}
				time.Sleep(20 * time.Second) // 310 s: the signature window closed
				if code, _ := post(); code != http.StatusForbidden {
					t.Fatalf("replay after the window: %d, want 403", code)
				}
				if n := engine.Calls("oReplay"); n != 1 {
					t.Errorf("handled %d times, want 1", n)
				}
				if err := cb.Wait(t.Context()); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// TestPlainNonceBoundToOneBody: in plain mode the signature does not cover
// the body, so a captured signature+timestamp+nonce carrying another body is
// refused (403); WeChat's own retries of the first body still work.
func TestPlainNonceBoundToOneBody(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{mode: localwx.Plain})
	p := wxPrepare(t, h, localwx.TextMsg("oVictim", "你好"))
	if resp, err := h.client.Do(t.Context(), p); err != nil || resp.Text != "echo:你好" {
		t.Fatalf("first: %q, %v", resp.Text, err)
	}
	forged := wxPrepare(t, h, localwx.TextMsg("oVictim", "解绑"))
	status, body := h.post(t, p.URL, forged.Body, "text/xml")
	if status != http.StatusForbidden || bytes.Contains(body, []byte("success")) {
		t.Fatalf("forged body under a used signature: %d %q, want a bare 403", status, body)
	}
	if resp, err := h.client.Do(t.Context(), p); err != nil || resp.Text != "echo:你好" {
		t.Fatalf("WeChat's retry: %q, %v", resp.Text, err)
	}
	if n := h.engine.Calls("oVictim"); n != 1 {
		t.Errorf("handled %d times, want 1", n)
	}
	if !bytes.Contains([]byte(h.logs.String()), []byte(`"outcome":"`+OutcomeNonceReused+`"`)) {
		t.Errorf("outcome not logged:\n%s", h.logs.String())
	}
}

// fullStore is an in-process store that sheds every new turn.
type fullStore struct{ *kv.Memory }

func (fullStore) BeginTurn(context.Context, kv.BeginTurnArgs) (kv.TurnStart, error) {
	return kv.TurnStart{}, fmt.Errorf("begin turn: %w", kv.ErrFull)
}

// TestFullStoreAnswers503: a bounded in-process store that is full sheds
// load with a short 503 (WeChat retries later) instead of growing.
func TestFullStoreAnswers503(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{store: fullStore{kv.NewMemory()}})
	t.Cleanup(h.store.(fullStore).Close)
	p := wxPrepare(t, h, localwx.TextMsg("oFull", "你好"))
	status, body := h.post(t, p.URL, p.Body, "text/xml")
	if status != http.StatusServiceUnavailable || len(body) > 64 {
		t.Fatalf("got %d %q, want a short 503", status, body)
	}
	if n := h.engine.Calls("oFull"); n != 0 {
		t.Errorf("handled %d times, want 0", n)
	}
	_, err := h.client.Do(t.Context(), p)
	var se *localwx.StatusError
	if !errors.As(err, &se) {
		t.Errorf("client sees %v, want a status error", err)
	}
}
