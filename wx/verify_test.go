package wx

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/silenceper/wechat/v2/util"

	"unionbot/localwx"
)

// TestSafeModeRefusesPlaintext: with an AES key configured, a plaintext
// delivery is refused even with a valid signature, because that signature
// does not cover the body (issue 6 §1.1).
func TestSafeModeRefusesPlaintext(t *testing.T) {
	plainQuery := func(t *testing.T, h *wxHarness, p *localwx.Prepared) string {
		u, err := url.Parse(p.URL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Del("encrypt_type")
		q.Del("msg_signature")
		u.RawQuery = q.Encode()
		return u.String()
	}
	cases := []struct {
		name  string
		build func(t *testing.T, h *wxHarness) (string, []byte)
		want  string
	}{
		{"plain body, valid signature", func(t *testing.T, h *wxHarness) (string, []byte) {
			plain := *h.client
			plain.Mode = localwx.Plain
			p, err := plain.Prepare(localwx.TextMsg("oVictim", "解绑"))
			if err != nil {
				t.Fatal(err)
			}
			return p.URL, p.Body
		}, OutcomePlainRefused},
		{"compatible body without encrypt_type", func(t *testing.T, h *wxHarness) (string, []byte) {
			compat := *h.client
			compat.Mode = localwx.Compat
			p, err := compat.Prepare(localwx.TextMsg("oVictim", "解绑"))
			if err != nil {
				t.Fatal(err)
			}
			return plainQuery(t, h, p), p.Body
		}, OutcomePlainRefused},
		{"signature captured from a safe delivery, plaintext body", func(t *testing.T, h *wxHarness) (string, []byte) {
			p := wxPrepare(t, h, localwx.TextMsg("oVictim", "hi"))
			forged := localwx.TextMsg("oVictim", "解绑")
			return plainQuery(t, h, p), []byte(forged.XML())
		}, OutcomePlainRefused},
		{"encrypt_type=aes without msg_signature", func(t *testing.T, h *wxHarness) (string, []byte) {
			p := wxPrepare(t, h, localwx.TextMsg("oVictim", "hi"))
			u, _ := url.Parse(p.URL)
			q := u.Query()
			q.Del("msg_signature")
			u.RawQuery = q.Encode()
			return u.String(), p.Body
		}, OutcomeBadSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newWXHarness(t, wxHarnessOptions{mode: localwx.Safe})
			var outcomes []string
			h.cb.observe = func(o string, _ time.Duration) { outcomes = append(outcomes, o) }
			u, body := tc.build(t, h)
			status, got := h.post(t, u, body, "")
			if status != http.StatusForbidden {
				t.Fatalf("status %d, want 403 (body %q)", status, got)
			}
			if n := len(h.engine.Inputs()); n != 0 {
				t.Errorf("engine called %d times, want 0", n)
			}
			if len(outcomes) != 1 || outcomes[0] != tc.want {
				t.Errorf("outcomes %v, want [%s]", outcomes, tc.want)
			}
		})
	}

	// Encrypted deliveries (safe and compatible) and URL verification, which
	// WeChat signs with signature only, keep working.
	for _, mode := range []localwx.Mode{localwx.Safe, localwx.Compat} {
		h := newWXHarness(t, wxHarnessOptions{mode: mode})
		resp, err := h.client.Send(t.Context(), localwx.TextMsg("oUser", "hi"))
		if err != nil || resp.Text != "echo:hi" {
			t.Fatalf("%s round trip: %q, %v", mode, resp.Text, err)
		}
		if got, err := h.client.Verify(t.Context(), "echo-1"); err != nil || got != "echo-1" {
			t.Fatalf("%s echostr: %q, %v", mode, got, err)
		}
	}
}

// TestPlainModeWithoutKey: an account without an AES key works in plain mode.
func TestPlainModeWithoutKey(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{mode: localwx.Plain})
	if h.wc.cfg.AESKey != "" {
		t.Fatal("plain harness has an AES key")
	}
	resp, err := h.client.Send(t.Context(), localwx.TextMsg("oUser", "hi"))
	if err != nil || resp.Text != "echo:hi" {
		t.Fatalf("round trip: %q, %v", resp.Text, err)
	}
}

// TestVerifyDeliveryReportsWhatWasSigned: the callback path gets the signed
// timestamp and nonce, the body and whether msg_signature covered it.
func TestVerifyDeliveryReportsWhatWasSigned(t *testing.T) {
	for _, tc := range []struct {
		mode      localwx.Mode
		encrypted bool
	}{{localwx.Plain, false}, {localwx.Compat, true}, {localwx.Safe, true}} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			h := newWXHarness(t, wxHarnessOptions{mode: tc.mode})
			p := wxPrepare(t, h, localwx.TextMsg("oUser", "hi"))
			req := httptest.NewRequest(http.MethodPost, p.URL, strings.NewReader(string(p.Body)))
			rec := httptest.NewRecorder()
			d, ok := h.cb.verifyDelivery(rec, req, &request{})
			if !ok {
				t.Fatalf("refused: %d %s", rec.Code, rec.Body)
			}
			if strconv.FormatInt(d.Timestamp, 10) != p.Timestamp || d.Nonce != p.Nonce ||
				d.Encrypted != tc.encrypted || string(d.Body) != string(p.Body) {
				t.Errorf("delivery %+v, want timestamp %s nonce %s encrypted %v", d, p.Timestamp, p.Nonce, tc.encrypted)
			}
		})
	}
}

// TestLoggedRequestValuesAreCapped: a 900 KB openid (unsigned, in the query)
// on a rejected request, and long values inside an accepted plain-mode body,
// give small log lines (issue 6 §1.5).
func TestLoggedRequestValuesAreCapped(t *testing.T) {
	const maxLine = 1024
	checkLines := func(t *testing.T, logs string) {
		t.Helper()
		sc := bufio.NewScanner(strings.NewReader(logs))
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		n := 0
		for sc.Scan() {
			n++
			if len(sc.Bytes()) > maxLine {
				t.Errorf("log line of %d bytes: %.200s…", len(sc.Bytes()), sc.Bytes())
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("log line too long to scan: %v", err)
		}
		if n == 0 {
			t.Fatal("nothing logged")
		}
	}

	t.Run("900 KB openid on a 403", func(t *testing.T) {
		h := newWXHarness(t, wxHarnessOptions{mode: localwx.Plain})
		p := wxPrepare(t, h, localwx.TextMsg("oUser", "hi"))
		huge := strings.Repeat("o", 900<<10)
		u := wxWithQuery(t, wxWithQuery(t, p.URL, "openid", huge), "signature", strings.Repeat("0", 40))
		status, _ := h.post(t, u, p.Body, "")
		if status != http.StatusForbidden {
			t.Fatalf("status %d, want 403", status)
		}
		checkLines(t, h.logs.String())
		if !strings.Contains(h.logs.String(), `"open_id":"`+strings.Repeat("o", maxLogValue)+`…"`) {
			t.Errorf("open_id not logged capped at %d bytes:\n%.300s", maxLogValue, h.logs.String())
		}
	})

	t.Run("long values in a plain body", func(t *testing.T) {
		h := newWXHarness(t, wxHarnessOptions{mode: localwx.Plain, logLevel: -4})
		m := localwx.EventMsg(strings.Repeat("f", 20<<10), strings.Repeat("E", 20<<10), "k")
		if _, err := h.client.Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		checkLines(t, h.logs.String())
	})
}

func TestClip(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"oAbc", "oAbc"},
		{strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{strings.Repeat("a", 65), strings.Repeat("a", 64) + "…"},
		// 21 three-byte runes = 63 bytes; the 22nd would cross 64.
		{strings.Repeat("工", 30), strings.Repeat("工", 21) + "…"},
	} {
		got := clip(tc.in)
		if got != tc.want {
			t.Errorf("clip(%d bytes) = %q, want %q", len(tc.in), got, tc.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("clip(%q) is not valid UTF-8", tc.in)
		}
	}
}

// A logged value from an unverified request may be invalid UTF-8: bytes that start no rune
// are cut back to the value's start, never before it (which would panic in the log line).
func TestClipInvalidUTF8(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{strings.Repeat("\x80", 100), "…"},
		{strings.Repeat("\xbf", 65), "…"},
	} {
		if got := clip(tc.in); got != tc.want {
			t.Errorf("clip(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestEchostrInSafeModeUsesSignature: the echostr check is signature-only in
// every mode, so a safe-mode account can still verify its URL.
func TestEchostrInSafeModeUsesSignature(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{mode: localwx.Safe})
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	q := url.Values{"signature": {util.Signature(wxTestToken, ts, "7")}, "timestamp": {ts}, "nonce": {"7"}, "echostr": {"e"}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, h.srv.URL+"/wechat?"+q.Encode(), nil)
	if status, body := wxDo(t, req); status != http.StatusOK || string(body) != "e" {
		t.Fatalf("echostr in safe mode: %d %q", status, body)
	}
}

// TestCompatibleModeBeforeTheKeyIsSet: switching an account to safe mode
// starts with compatible mode in the WeChat console while the bot has no key
// yet; those deliveries are answered from their plaintext copy, and a
// safe-mode delivery the bot cannot read is a 400, not an empty message.
func TestCompatibleModeBeforeTheKeyIsSet(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{mode: localwx.Plain})
	compat := *h.client
	compat.Mode, compat.AESKey = localwx.Compat, wxTestAESKey
	p, err := compat.Prepare(localwx.TextMsg("oSwitch", "hi"))
	if err != nil {
		t.Fatal(err)
	}
	status, body := h.post(t, p.URL, p.Body, "")
	if status != http.StatusOK || !strings.Contains(string(body), "echo:hi") {
		t.Fatalf("compatible delivery without a key: %d %q", status, body)
	}
	safe := compat
	safe.Mode = localwx.Safe
	p = wxPrepare(t, &wxHarness{client: &safe}, localwx.TextMsg("oSwitch", "hi"))
	if status, body := h.post(t, p.URL, p.Body, ""); status != http.StatusBadRequest {
		t.Fatalf("safe delivery without a key: %d %q", status, body)
	}
	if n := len(h.engine.Inputs()); n != 1 {
		t.Errorf("engine called %d times, want 1", n)
	}
}
