package localwx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"unionbot/internal/testclock"
)

// call performs one API call on e and decodes the JSON answer.
func call(t testing.TB, e http.Handler, method, target, body string) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(method, target, rd))
	out := map[string]any{}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: not JSON: %q", method, target, rec.Body.String())
	}
	return out
}

func errcode(m map[string]any) int {
	f, _ := m["errcode"].(float64)
	return int(f)
}

func tokenOf(t testing.TB, e http.Handler) string {
	t.Helper()
	out := call(t, e, "GET", PathToken+"?grant_type=client_credential&appid="+testAppID+"&secret="+testSecret, "")
	tok, _ := out["access_token"].(string)
	if tok == "" {
		t.Fatalf("no token: %v", out)
	}
	return tok
}

func sendText(t testing.TB, e http.Handler, tok, openid, text string) int {
	t.Helper()
	code, err := trySendText(e, tok, openid, text)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// trySendText is sendText for goroutines other than the test's.
func trySendText(e http.Handler, tok, openid, text string) (int, error) {
	b, _ := json.Marshal(map[string]any{"touser": openid, "msgtype": "text", "text": map[string]string{"content": text}})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("POST", PathCustomSend+"?access_token="+url.QueryEscape(tok), strings.NewReader(string(b))))
	var out struct {
		ErrCode int `json:"errcode"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		return 0, fmt.Errorf("custom send answer %q: %w", rec.Body.String(), err)
	}
	return out.ErrCode, nil
}

func TestTokenEndpoints(t *testing.T) {
	t.Parallel()
	clk := testclock.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	e := NewEmulator(EmulatorOptions{AppID: testAppID, AppSecret: testSecret, Now: clk.Now})

	cases := []struct {
		name, query string
		want        int
	}{
		{"wrong appid", "grant_type=client_credential&appid=wxOTHER&secret=" + testSecret, ErrInvalidAppID},
		{"wrong secret", "grant_type=client_credential&appid=" + testAppID + "&secret=nope", ErrInvalidSecret},
		{"wrong grant", "grant_type=password&appid=" + testAppID + "&secret=" + testSecret, ErrInvalidGrantType},
	}
	for _, tc := range cases {
		if got := errcode(call(t, e, "GET", PathToken+"?"+tc.query, "")); got != tc.want {
			t.Errorf("%s: errcode %d, want %d", tc.name, got, tc.want)
		}
	}
	if got := errcode(call(t, e, "POST", PathStableToken, `{"grant_type":"client_credential","appid":"`+testAppID+`","secret":"x"}`)); got != ErrInvalidSecret {
		t.Errorf("stable with wrong secret: %d", got)
	}

	// Missing and unknown tokens.
	if got := sendText(t, e, "", "o1", "x"); got != ErrTokenMissing {
		t.Errorf("missing token: %d", got)
	}
	if got := sendText(t, e, "bogus", "o1", "x"); got != ErrInvalidToken {
		t.Errorf("unknown token: %d", got)
	}

	// A new /cgi-bin/token leaves the old one valid for 5 minutes only.
	t1 := tokenOf(t, e)
	t2 := tokenOf(t, e)
	if t1 == t2 {
		t.Fatal("two token fetches returned the same token")
	}
	if sendText(t, e, t1, "o1", "x") != 0 || sendText(t, e, t2, "o1", "x") != 0 {
		t.Fatal("both tokens must work during the grace period")
	}
	clk.Add(6 * time.Minute)
	if got := sendText(t, e, t1, "o1", "x"); got != ErrTokenExpired {
		t.Errorf("old token after grace: %d, want 42001", got)
	}
	if sendText(t, e, t2, "o1", "x") != 0 {
		t.Error("new token must still work")
	}
	clk.Add(2 * time.Hour)
	if got := sendText(t, e, t2, "o1", "x"); got != ErrTokenExpired {
		t.Errorf("token after 2 h: %d, want 42001", got)
	}

	// stable_token: the same token while valid, a new one on force_refresh.
	stable := func(force bool) string {
		out := call(t, e, "POST", PathStableToken, fmt.Sprintf(`{"grant_type":"client_credential","appid":%q,"secret":%q,"force_refresh":%v}`, testAppID, testSecret, force))
		s, _ := out["access_token"].(string)
		if s == "" || out["expires_in"] == nil {
			t.Fatalf("stable token answer %v", out)
		}
		return s
	}
	s1, s2 := stable(false), stable(false)
	if s1 != s2 {
		t.Fatal("stable_token must return the same token while it is valid")
	}
	if s3 := stable(true); s3 == s1 {
		t.Fatal("force_refresh must issue a new token")
	}
	e.ExpireTokens()
	if got := sendText(t, e, s1, "o1", "x"); got != ErrTokenExpired {
		t.Errorf("expired stable token: %d", got)
	}
	if s4 := stable(false); s4 == s1 || sendText(t, e, s4, "o1", "x") != 0 {
		t.Error("after expiry stable_token must issue a working new token")
	}
	if n := e.TokenFetches(); n != 10 {
		t.Errorf("token fetches = %d, want 10", n)
	}
}

func TestImmediateInvalidation(t *testing.T) {
	t.Parallel()
	e := NewEmulator(EmulatorOptions{OldTokenGrace: -1})
	t1 := tokenOf(t, e)
	_ = tokenOf(t, e)
	if got := sendText(t, e, t1, "o1", "x"); got != ErrInvalidToken {
		t.Fatalf("old token: %d, want 40001", got)
	}
}

func TestFaultInjectionAndRateLimit(t *testing.T) {
	t.Parallel()
	clk := testclock.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	e := NewEmulator(EmulatorOptions{Now: clk.Now})
	tok := tokenOf(t, e)

	e.FailNext(PathCustomSend, ErrSystemBusy, 2)
	e.FailNext(PathCustomSend, ErrResponseLimit, 1)
	var got []int
	for range 4 {
		got = append(got, sendText(t, e, tok, "o1", "x"))
	}
	if fmt.Sprint(got) != fmt.Sprint([]int{-1, -1, 45047, 0}) {
		t.Fatalf("errcodes %v", got)
	}
	if e.ErrorCount(ErrSystemBusy) != 2 || e.Count(KindCustom) != 1 {
		t.Fatalf("error count %d, accepted %d", e.ErrorCount(ErrSystemBusy), e.Count(KindCustom))
	}

	e.SetRateLimit(3)
	got = got[:0]
	for range 5 {
		got = append(got, sendText(t, e, tok, "o1", "x"))
	}
	if fmt.Sprint(got) != fmt.Sprint([]int{0, 0, 0, ErrResponseLimit, ErrResponseLimit}) {
		t.Fatalf("rate limited errcodes %v", got)
	}
	tpl := `{"touser":"o1","template_id":"T","data":{"k":{"value":"v"}}}`
	for i := range 4 {
		code := errcode(call(t, e, "POST", PathTemplateSend+"?access_token="+tok, tpl))
		if want := map[bool]int{true: 0, false: ErrDailyQuota}[i < 3]; code != want {
			t.Fatalf("template %d: errcode %d, want %d", i, code, want)
		}
	}
	clk.Add(time.Second)
	if got := sendText(t, e, tok, "o1", "x"); got != 0 {
		t.Fatalf("after a second: %d", got)
	}
	e.SetRateLimit(0)

	e.SetLatency(80 * time.Millisecond)
	start := time.Now()
	if sendText(t, e, tok, "o1", "x") != 0 || time.Since(start) < 80*time.Millisecond {
		t.Fatal("latency not applied")
	}
}

func TestCustomSendValidation(t *testing.T) {
	t.Parallel()
	e := NewEmulator(EmulatorOptions{})
	tok := tokenOf(t, e)
	cases := []struct {
		name, body string
		want       int
	}{
		{"empty body", "", ErrEmptyPostData},
		{"not json", "{", ErrDataFormat},
		{"no touser", `{"msgtype":"text","text":{"content":"x"}}`, ErrInvalidOpenID},
		{"empty text", `{"touser":"o1","msgtype":"text","text":{"content":""}}`, ErrEmptyContent},
		{"too long", `{"touser":"o1","msgtype":"text","text":{"content":"` + strings.Repeat("a", 2049) + `"}}`, ErrContentTooLong},
		{"unknown type", `{"touser":"o1","msgtype":"hologram"}`, ErrInvalidMsgType},
		{"image without media", `{"touser":"o1","msgtype":"image","image":{}}`, ErrInvalidMediaID},
		{"image", `{"touser":"o1","msgtype":"image","image":{"media_id":"M"}}`, 0},
		{"news", `{"touser":"o1","msgtype":"news","news":{"articles":[{"title":"T","description":"D","url":"https://x"}]}}`, 0},
	}
	for _, tc := range cases {
		if got := errcode(call(t, e, "POST", PathCustomSend+"?access_token="+tok, tc.body)); got != tc.want {
			t.Errorf("%s: errcode %d, want %d", tc.name, got, tc.want)
		}
	}
	s := e.Sent()
	if len(s) != 2 || s[0].MediaID != "M" || s[1].Text != "T\nD" || s[1].URL != "https://x" {
		t.Fatalf("records %+v", s)
	}
	if got := errcode(call(t, e, "GET", "/cgi-bin/unknown?access_token="+tok, "")); got != ErrInvalidURL {
		t.Fatalf("unknown path: %d", got)
	}
}

func TestWaitSentAndMaxRecords(t *testing.T) {
	t.Parallel()
	e := NewEmulator(EmulatorOptions{MaxRecords: 10})
	tok := tokenOf(t, e)

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	done := make(chan Sent, 1)
	go func() {
		s, err := e.WaitSent(ctx, func(s Sent) bool { return s.ToUser == "oLate" })
		if err != nil {
			t.Error(err)
		}
		done <- s
	}()
	for i := range 100 {
		sendText(t, e, tok, fmt.Sprintf("o%d", i), "x")
	}
	sendText(t, e, tok, "oLate", "finally")
	if s := <-done; s.Text != "finally" || s.Seq != 101 {
		t.Fatalf("waited for %+v", s)
	}
	if n := len(e.Sent()); n != 10 {
		t.Fatalf("kept %d records, want 10", n)
	}
	if first := e.Sent()[0].Seq; first != 92 || e.Count(KindCustom) != 101 {
		t.Fatalf("oldest kept seq %d, count %d", first, e.Count(KindCustom))
	}

	// An already-present record matches at once; a missing one times out.
	if s, err := e.WaitSent(t.Context(), func(s Sent) bool { return s.ToUser == "o99" }); err != nil || s.Seq != 100 {
		t.Fatalf("present record: %+v, %v", s, err)
	}
	short, cancel2 := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel2()
	if _, err := e.WaitSent(short, func(s Sent) bool { return s.ToUser == "nobody" }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("missing record: err = %v", err)
	}

	e.Reset()
	if len(e.Sent()) != 0 || e.Count(KindCustom) != 0 {
		t.Fatal("Reset kept records")
	}
	if sendText(t, e, tok, "o1", "after reset") != 0 || e.Sent()[0].Seq != 102 {
		t.Fatalf("seq must keep increasing after Reset: %+v", e.Sent())
	}
}

func TestPushedLongPollAndRemote(t *testing.T) {
	t.Parallel()
	e := NewEmulator(EmulatorOptions{})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	tok := tokenOf(t, e)
	remote := &RemoteEmulator{URL: srv.URL}
	ctx := t.Context()

	sendText(t, e, tok, "oOther", "not mine")
	_, last, err := remote.Pushed(ctx, "oMe", -1, 0)
	if err != nil || last != 1 {
		t.Fatalf("after=-1: last %d, %v", last, err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, _ = trySendText(e, tok, "oOther", "still not mine")
		_, _ = trySendText(e, tok, "oMe", "for me")
	}()
	start := time.Now()
	msgs, last, err := remote.Pushed(ctx, "oMe", last, 20*time.Second)
	if err != nil || len(msgs) != 1 || msgs[0].Text != "for me" || last != 3 {
		t.Fatalf("pushed %+v last %d, %v", msgs, last, err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("long poll did not return early")
	}
	msgs, _, err = remote.Pushed(ctx, "oMe", 3, 50*time.Millisecond)
	if err != nil || len(msgs) != 0 {
		t.Fatalf("nothing new: %+v, %v", msgs, err)
	}

	// Media and user state through the HTTP helpers.
	id, err := remote.StoreMedia(ctx, "image/png", []byte("\x89PNG\r\n\x1a\nbody"))
	if err != nil {
		t.Fatal(err)
	}
	out := call(t, e, "GET", PathMediaGet+"?access_token="+tok+"&media_id=NOPE", "")
	if errcode(out) != ErrInvalidMediaID {
		t.Fatalf("unknown media %v", out)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", PathMediaGet+"?access_token="+tok+"&media_id="+id, nil))
	if rec.Header().Get("Content-Type") != "image/png" || rec.Body.String() != "\x89PNG\r\n\x1a\nbody" {
		t.Fatalf("media get: %q %q", rec.Header().Get("Content-Type"), rec.Body.String())
	}
	if err := remote.SetUserState(ctx, "oMe", UserState{Unsubscribed: true}); err != nil {
		t.Fatal(err)
	}
	if got := sendText(t, e, tok, "oMe", "x"); got != ErrRequireSubscribe {
		t.Fatalf("after remote unsubscribe: %d", got)
	}
}

// BenchmarkEmulatorCustomSend measures one customer-service send through the
// handler (what a broadcast load test pays per recipient on the fake side).
func BenchmarkEmulatorCustomSend(b *testing.B) {
	e := NewEmulator(EmulatorOptions{})
	tok := tokenOf(b, e)
	body := `{"touser":"oUSER","msgtype":"text","text":{"content":"【通知】明天上午九点在职工之家召开会员代表大会，请准时参加。"}}`
	target := PathCustomSend + "?access_token=" + tok
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest("POST", target, strings.NewReader(body)))
		if rec.Body.Len() == 0 {
			b.Fatal("no answer")
		}
	}
}

func TestEmulatorMediaBounded(t *testing.T) {
	t.Parallel()
	clk := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := NewEmulator(EmulatorOptions{MaxMedia: 2, Now: clk.Now})
	var ids []string
	for i := range 3 {
		clk.Add(time.Second)
		id, err := e.StoreMedia(t.Context(), "image/png", []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, _, ok := e.Media(ids[0]); ok {
		t.Error("oldest media kept beyond MaxMedia")
	}
	for _, id := range ids[1:] {
		if _, _, ok := e.Media(id); !ok {
			t.Errorf("media %s dropped", id)
		}
	}
}
