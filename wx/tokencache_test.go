package wx

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"unionbot/internal/testlog"
	"unionbot/localwx"
	"unionbot/storage/kv"
)

func TestTokenExpiredRetriedOnce(t *testing.T) {
	for _, code := range []int{40001, 42001} {
		t.Run("errcode "+localwx.ErrMsg(code), func(t *testing.T) {
			h := newWXHarness(t, wxHarnessOptions{})
			h.emu.FailNext(localwx.PathCustomSend, code, 1)
			if err := h.sender.SendText(t.Context(), "oTok", "hi"); err != nil {
				t.Fatalf("send after one token failure: %v", err)
			}
			if n := len(h.emu.SentTo("oTok")); n != 1 {
				t.Errorf("%d delivered, want 1", n)
			}
			// First fetch, then the forced refresh after the rejection.
			if n := h.emu.TokenFetches(); n != 2 {
				t.Errorf("%d token fetches, want 2", n)
			}
		})
	}
	t.Run("retried exactly once", func(t *testing.T) {
		h := newWXHarness(t, wxHarnessOptions{})
		h.emu.FailNext(localwx.PathCustomSend, 40001, 2)
		err := h.sender.SendText(t.Context(), "oTok", "hi")
		var ae *APIError
		if !errors.As(err, &ae) || !ae.TokenExpired() {
			t.Fatalf("got %v, want a token error", err)
		}
		if len(h.emu.SentTo("oTok")) != 0 {
			t.Error("message delivered")
		}
		// The third attempt (a new call) goes through.
		if err := h.sender.SendText(t.Context(), "oTok", "hi"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("token invalidated by another party", func(t *testing.T) {
		h := newWXHarness(t, wxHarnessOptions{})
		if err := h.sender.SendText(t.Context(), "oTok", "1"); err != nil {
			t.Fatal(err)
		}
		h.emu.InvalidateTokens() // now the real token check answers 40001
		if err := h.sender.SendText(t.Context(), "oTok", "2"); err != nil {
			t.Fatalf("send after invalidation: %v", err)
		}
		if n := len(h.emu.SentTo("oTok")); n != 2 {
			t.Errorf("%d delivered, want 2", n)
		}
	})
}

// TestTokenSharedByReplicas: several WeChat instances ("replicas") sharing one
// kv store fetch the token once, even when they all start sending at once.
func TestTokenSharedByReplicas(t *testing.T) {
	for _, st := range wxStores {
		t.Run(st.name, func(t *testing.T) {
			wxSaveGlobals(t)
			store := st.open(t)
			emu := localwx.NewEmulator(localwx.EmulatorOptions{AppID: wxTestAppID, AppSecret: wxTestSecret})
			emu.SetLatency(20 * time.Millisecond) // widen the race window
			srv := newWXTestServer(t, emu)
			var senders []*Sender
			for range 3 {
				wc, err := NewWeChat(WeChatConfig{AppID: wxTestAppID, Secret: wxTestSecret, Token: wxTestToken, APIBase: srv}, store, nil)
				if err != nil {
					t.Fatal(err)
				}
				senders = append(senders, NewSender(wc))
			}
			var wg sync.WaitGroup
			errs := make(chan error, 30)
			for i := range 30 {
				wg.Go(func() { errs <- senders[i%3].SendText(t.Context(), "oRep", "x") })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if n := emu.TokenFetches(); n != 1 {
				t.Errorf("%d token fetches, want 1", n)
			}
			if n := len(emu.SentTo("oRep")); n != 30 {
				t.Errorf("%d delivered, want 30", n)
			}
		})
	}
}

func TestTokenInvalidateKeepsNewerToken(t *testing.T) {
	wc, store, emu := newTokenWeChat(t)
	ctx := t.Context()
	tok, err := wc.Tokens().Token(ctx)
	if err != nil || tok == "" {
		t.Fatalf("token %q, %v", tok, err)
	}
	// A stale token reported by a slow replica does not drop the current one.
	if err := wc.Tokens().Invalidate(ctx, "an-older-token"); err != nil {
		t.Fatal(err)
	}
	if again, _ := wc.Tokens().Token(ctx); again != tok || emu.TokenFetches() != 1 {
		t.Errorf("token changed to %q after a stale invalidation (fetches %d)", again, emu.TokenFetches())
	}
	// The current one reported bad: dropped, refetched with force_refresh.
	if err := wc.Tokens().Invalidate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	fresh, err := wc.Tokens().Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fresh == tok || emu.TokenFetches() != 2 {
		t.Errorf("after invalidation got %q (old %q), fetches %d", fresh, tok, emu.TokenFetches())
	}
	ttl, err := store.TTL(ctx, tokenKey(wxTestAppID))
	if err != nil || ttl > 7200*time.Second-tokenMargin || ttl < 7200*time.Second-tokenMargin-time.Minute {
		t.Errorf("token ttl %v, %v; want about expires_in-300s", ttl, err)
	}
}

func TestKVCacheAdapter(t *testing.T) {
	for _, st := range wxStores {
		t.Run(st.name, func(t *testing.T) {
			c := kvCache{store: st.open(t), timeout: time.Second}
			if v := c.Get("missing"); v != nil {
				t.Errorf("missing key: got %#v, want nil", v)
			}
			if err := c.Set("k", "v1", time.Minute); err != nil {
				t.Fatal(err)
			}
			// The SDK does val.(string): it must be a string.
			if s, ok := c.Get("k").(string); !ok || s != "v1" {
				t.Errorf("got %#v, want string v1", c.Get("k"))
			}
			if !c.IsExist("k") || c.IsExist("missing") {
				t.Error("IsExist wrong")
			}
			if err := c.SetContext(context.Background(), "n", 42, time.Minute); err != nil {
				t.Fatal(err)
			}
			if got := c.GetContext(context.Background(), "n"); got != "42" {
				t.Errorf("got %#v, want \"42\"", got)
			}
			if err := c.Delete("k"); err != nil || c.IsExist("k") {
				t.Errorf("delete: %v", err)
			}
		})
	}
}

func TestTokenTTLNeverOutlivesTheToken(t *testing.T) {
	for _, c := range []struct{ in, want time.Duration }{
		{7200 * time.Second, 7200*time.Second - tokenMargin},
		{400 * time.Second, 100 * time.Second},
		{320 * time.Second, tokenMinTTL},
		{30 * time.Second, 15 * time.Second},
		{0, time.Second},
	} {
		if got := tokenTTL(c.in); got != c.want {
			t.Errorf("tokenTTL(%v) = %v, want %v", c.in, got, c.want)
		}
		if c.in > 0 && tokenTTL(c.in) > c.in {
			t.Errorf("tokenTTL(%v) outlives the token", c.in)
		}
	}
}

// TestRefusedForcedRefreshFallsBack: WeChat rations forced refreshes; when one
// is refused, the normal fetch is used and the flag cleared, so replicas do
// not keep asking.
func TestRefusedForcedRefreshFallsBack(t *testing.T) {
	wc, store, emu := newTokenWeChat(t)
	ctx := t.Context()
	tok, err := wc.Tokens().Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := wc.Tokens().Invalidate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	emu.FailNext(localwx.PathStableToken, 45009, 1)
	if _, err := wc.Tokens().Token(ctx); err != nil {
		t.Fatalf("token after a refused forced refresh: %v", err)
	}
	if _, err := store.Get(ctx, tokenForceKey(wxTestAppID)); err == nil {
		t.Error("force-refresh flag still set")
	}
}

// newTokenWeChat is one WeChat instance on an in-process kv store, talking to
// a fresh emulator.
func newTokenWeChat(t *testing.T) (*WeChat, kv.Store, *localwx.Emulator) {
	t.Helper()
	wxSaveGlobals(t)
	store := wxMemory(t)
	emu := localwx.NewEmulator(localwx.EmulatorOptions{})
	wc, err := NewWeChat(WeChatConfig{AppID: wxTestAppID, Secret: wxTestSecret, Token: wxTestToken, APIBase: newWXTestServer(t, emu)}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	return wc, store, emu
}

// An operator reads warnings as trouble: fetching a token, normally or forced (after a
// token was reported bad), with a healthy store warns about nothing more; a refused forced refresh warns exactly once, about that.
func TestTokenFetchWarnsOnlyAboutFailures(t *testing.T) {
	wxSaveGlobals(t)
	store := wxMemory(t)
	emu := localwx.NewEmulator(localwx.EmulatorOptions{})
	logs := &testlog.Buffer{}
	wc, err := NewWeChat(WeChatConfig{AppID: wxTestAppID, Secret: wxTestSecret, Token: wxTestToken, APIBase: newWXTestServer(t, emu)},
		store, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	warnings := func() []string {
		var out []string
		for _, line := range strings.Split(logs.String(), "\n") {
			// Invalidate's own warning is the reported failure, not the fetch's.
			if strings.Contains(line, `"level":"WARN"`) && !strings.Contains(line, "access token invalidated") {
				out = append(out, line)
			}
		}
		return out
	}
	tok, err := wc.Tokens().Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := wc.Tokens().Invalidate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if tok, err = wc.Tokens().Token(ctx); err != nil { // forced, and granted
		t.Fatal(err)
	}
	if w := warnings(); len(w) != 0 {
		t.Fatalf("warnings from healthy fetches: %q", w)
	}
	if err := wc.Tokens().Invalidate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	emu.FailNext(localwx.PathStableToken, 45009, 1)
	if _, err := wc.Tokens().Token(ctx); err != nil {
		t.Fatal(err)
	}
	if w := warnings(); len(w) != 1 || !strings.Contains(w[0], "forced token refresh failed") {
		t.Fatalf("warnings after a refused forced refresh: %q", w)
	}
}
