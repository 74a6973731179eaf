package localwx

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// Official vectors, sources in docs/CONTRACTS.md §7.
const (
	sampleKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	// A: Tencent Sample.py.
	sampleAToken   = "spamtest"
	sampleAAppID   = "wx2c2769f8efd9abc2"
	sampleATS      = "1409735669"
	sampleANonce   = "1320562132"
	sampleAMsgSig  = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
	sampleAEncrypt = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
	// B: wechatpy tests/test_crypto.py.
	sampleBToken = "123456"
	sampleBKey   = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
	sampleBID    = "wx49f0ab532d5d035a"
)

func envelope(encrypt, sig, ts, nonce string) []byte {
	return []byte("<xml><Encrypt><![CDATA[" + encrypt + "]]></Encrypt><MsgSignature><![CDATA[" + sig +
		"]]></MsgSignature><TimeStamp>" + ts + "</TimeStamp><Nonce><![CDATA[" + nonce + "]]></Nonce></xml>")
}

func TestVectorTencentSample(t *testing.T) {
	c := &Client{Token: sampleAToken, AppID: sampleAAppID, AESKey: sampleKey, Mode: Safe}
	q := c.SignedQuery(sampleATS, sampleANonce, sampleAEncrypt)
	if got := q.Get("msg_signature"); got != sampleAMsgSig {
		t.Fatalf("msg_signature = %s, want %s", got, sampleAMsgSig)
	}
	if q.Get("encrypt_type") != "aes" {
		t.Fatalf("encrypt_type = %q, want aes", q.Get("encrypt_type"))
	}
	r, err := c.ParseResponse(200, envelope(sampleAEncrypt, sampleAMsgSig, sampleATS, sampleANonce))
	if err != nil {
		t.Fatalf("parse sample: %v", err)
	}
	if r.MsgType != "text" || r.Text != "abcdteT" || r.ToUser != "gh_10f6c3c3ac5a" || r.FromUser != "oyORnuP8q7ou2gfYjqLzSIWZf0rs" {
		t.Fatalf("decrypted %+v", r)
	}
	if !bytes.Contains(r.Plain, []byte("<MsgId>6054768590064713728</MsgId>")) || !r.Encrypted {
		t.Fatalf("plain %q", r.Plain)
	}

	// One changed character in the signature, or the wrong appid, must fail.
	bad := sampleAMsgSig[:len(sampleAMsgSig)-1] + "0"
	if _, err := c.ParseResponse(200, envelope(sampleAEncrypt, bad, sampleATS, sampleANonce)); !errors.Is(err, ErrBadReplySignature) {
		t.Fatalf("tampered signature: err = %v, want ErrBadReplySignature", err)
	}
	other := *c
	other.AppID = "wx0000000000000000"
	if _, err := other.ParseResponse(200, envelope(sampleAEncrypt, sampleAMsgSig, sampleATS, sampleANonce)); !errors.Is(err, ErrBadReply) {
		t.Fatalf("wrong appid: err = %v, want ErrBadReply", err)
	}
}

func TestVectorJavaSampleEncrypt(t *testing.T) {
	c := &Client{Token: "pamtest", AppID: "wxb11529c136998cb6", AESKey: sampleKey, Mode: Safe}
	got, err := c.seal([]byte("aaaabbbbccccdddd"), []byte("我是中文abcd123"))
	if err != nil {
		t.Fatal(err)
	}
	const want = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
	if got != want {
		t.Fatalf("encrypt = %s, want %s", got, want)
	}
}

func TestVectorWechatpy(t *testing.T) {
	c := &Client{Token: sampleBToken, AppID: sampleBID, AESKey: sampleBKey, Mode: Safe}
	const (
		ts      = "1411525903"
		nonce   = "461056294"
		plain   = "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>"
		wantEnc = "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
		wantSig = "407518b7649e86ef23978113f92d27afa9296533"
	)
	enc, err := c.seal([]byte("1234567890123456"), []byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	if enc != wantEnc {
		t.Fatalf("encrypt = %s, want %s", enc, wantEnc)
	}
	if got := c.SignedQuery(ts, nonce, enc).Get("msg_signature"); got != wantSig {
		t.Fatalf("msg_signature = %s, want %s", got, wantSig)
	}

	// Decrypt vector, through the reply parser.
	const (
		decSig = "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"
		decEnc = "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
	)
	r, err := c.ParseResponse(200, envelope(decEnc, decSig, ts, nonce))
	if err != nil {
		t.Fatalf("decrypt vector: %v", err)
	}
	if r.Text != "test" || r.FromUser != "messense" || !bytes.Contains(r.Plain, []byte("4363689963896700987")) {
		t.Fatalf("decrypted %+v %q", r, r.Plain)
	}

	// Echostr vector: the signature covers the echostr; another nonce fails.
	const echo = "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="
	if got := c.SignedQuery("1411443780", "437374425", echo).Get("msg_signature"); got != "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96" {
		t.Fatalf("echostr signature = %s", got)
	}
	if got := c.SignedQuery("1411443780", "437374424", echo).Get("msg_signature"); got == "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96" {
		t.Fatal("echostr signature must depend on the nonce")
	}
	if _, out, err := util.DecryptMsg(sampleBID, echo, sampleBKey); err != nil || string(out) != "5927782489442352469" {
		t.Fatalf("echostr decrypt = %q, %v", out, err)
	}
}

func TestMessageXML(t *testing.T) {
	m := TextMsg("oUSER", "你好]]>x")
	x := m.XML()
	for _, want := range []string{
		"<FromUserName><![CDATA[oUSER]]></FromUserName>",
		"<MsgType><![CDATA[text]]></MsgType>",
		"<Content><![CDATA[你好]]]]><![CDATA[>x]]></Content>",
		"<MsgId>",
	} {
		if !strings.Contains(x, want) {
			t.Errorf("text XML lacks %q:\n%s", want, x)
		}
	}
	var parsed struct {
		Content string `xml:"Content"`
		MsgID   int64  `xml:"MsgId"`
	}
	if err := xml.Unmarshal([]byte(x), &parsed); err != nil || parsed.Content != "你好]]>x" || parsed.MsgID != m.MsgID {
		t.Fatalf("round trip: %+v %v", parsed, err)
	}

	ev := EventMsg("oUSER", "CLICK", "MENU_BIND")
	if strings.Contains(ev.XML(), "MsgId") || !strings.Contains(ev.XML(), "<EventKey><![CDATA[MENU_BIND]]></EventKey>") {
		t.Fatalf("event XML:\n%s", ev.XML())
	}
	loc := LocationMsg("oUSER", 23.134521, 113.358803, 20, "广州市")
	if !strings.Contains(loc.XML(), "<Location_X>23.134521</Location_X>") || !strings.Contains(loc.XML(), "<Scale>20</Scale>") {
		t.Fatalf("location XML:\n%s", loc.XML())
	}

	a, b := TextMsg("o", "1"), ImageMsg("o", "m", "p")
	if b.MsgID <= a.MsgID {
		t.Fatalf("MsgIds not increasing: %d then %d", a.MsgID, b.MsgID)
	}
}

func TestBuildBodySafeDecrypts(t *testing.T) {
	c := &Client{Token: testToken, AppID: testAppID, AESKey: testAESKey, Mode: Safe, ToUserName: "gh_x"}
	m := TextMsg("oUSER", "hi")
	body, enc, err := c.BuildBody(m, []byte("aaaabbbbccccdddd"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(body, []byte("oUSER")) || !bytes.Contains(body, []byte(enc)) {
		t.Fatalf("safe body leaks plaintext or lacks Encrypt: %s", body)
	}
	rnd, plain, err := util.DecryptMsg(testAppID, enc, testAESKey)
	if err != nil {
		t.Fatal(err)
	}
	m.ToUserName = "gh_x"
	if string(rnd) != "aaaabbbbccccdddd" || string(plain) != m.XML() {
		t.Fatalf("decrypted %q %q", rnd, plain)
	}

	c.Mode = Compat
	body, _, err = c.BuildBody(m, []byte("aaaabbbbccccdddd"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(body, []byte("<Content><![CDATA[hi]]></Content>")) || !bytes.Contains(body, []byte("<Encrypt>")) {
		t.Fatalf("compat body must carry both plaintext and Encrypt: %s", body)
	}
}

func TestSendAllModes(t *testing.T) {
	t.Parallel()
	s := newStack(t, testAESKey, nil)
	for _, mode := range []Mode{Plain, Compat, Safe} {
		t.Run(mode.String(), func(t *testing.T) {
			c := s.client(mode)
			r, err := c.Send(t.Context(), TextMsg("oUSER1", "你好"))
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if r.Text != "echo:你好" || r.ToUser != "oUSER1" || r.FromUser != "gh_test" || r.Tries != 1 {
				t.Fatalf("reply %+v", r)
			}
			if r.Encrypted != (mode != Plain) {
				t.Fatalf("encrypted = %v in %s mode", r.Encrypted, mode)
			}
			r, err = c.Send(t.Context(), EventMsg("oUSER1", "CLICK", "K1"))
			if err != nil || r.Text != "click:K1" {
				t.Fatalf("click: %+v %v", r, err)
			}
			// An event the bot ignores: "success" in plain mode, empty body otherwise.
			r, err = c.Send(t.Context(), EventMsg("oUSER1", "VIEW", "http://x"))
			if err != nil || !r.Empty {
				t.Fatalf("ignored event: %+v %v", r, err)
			}
			q := s.bot.requests()
			last, _ := url.ParseQuery(q[len(q)-1].RawQuery)
			if last.Get("openid") != "oUSER1" || (last.Get("encrypt_type") == "aes") != (mode != Plain) {
				t.Fatalf("query %v", last)
			}
		})
	}
}

func TestVerifyEchostr(t *testing.T) {
	t.Parallel()
	s := newStack(t, "", nil)
	c := s.client(Plain)
	got, err := c.Verify(t.Context(), "5927782489442352469")
	if err != nil || got != "5927782489442352469" {
		t.Fatalf("verify = %q, %v", got, err)
	}
	c.Token = "wrong"
	if _, err := c.Verify(t.Context(), "1"); err == nil {
		t.Fatal("verify with a wrong token must fail")
	}
}

func TestTamperedRequestRejected(t *testing.T) {
	t.Parallel()
	s := newStack(t, testAESKey, nil)
	c := s.client(Safe)
	p, err := c.Prepare(TextMsg("oUSER", "hi"))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(p.URL)
	q := u.Query()
	q.Set("msg_signature", strings.Repeat("0", 40))
	u.RawQuery = q.Encode()
	p.URL = u.String()
	r, err := c.Do(t.Context(), p)
	var se *StatusError
	if !errors.As(err, &se) || r.Status != http.StatusForbidden {
		t.Fatalf("tampered: %+v, %v", r, err)
	}
}

func TestRetryOnTimeout(t *testing.T) {
	t.Parallel()
	s := newStack(t, testAESKey, nil)
	s.bot.delay = func(n int) time.Duration {
		if n == 1 {
			return 2 * time.Second
		}
		return 0
	}
	c := s.client(Safe)
	// Long enough that the second try (answered at once) never times out on
	// a loaded machine, short enough that the first (held 2 s) does.
	c.RetryAfter = time.Second
	r, err := c.Send(t.Context(), TextMsg("oUSER", "retry"))
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if r.Tries != 2 || r.Text != "echo:retry" {
		t.Fatalf("reply %+v", r)
	}
	seen := s.bot.requests()
	if len(seen) != 2 || seen[0] != seen[1] {
		t.Fatalf("retries must repeat the same query and body: %+v", seen)
	}
}

func TestRetryGivesUpAfterThreeTries(t *testing.T) {
	t.Parallel()
	s := newStack(t, "", nil)
	s.bot.delay = func(int) time.Duration { return 2 * time.Second }
	c := s.client(Plain)
	c.RetryAfter = 100 * time.Millisecond
	r, err := c.Send(t.Context(), TextMsg("oUSER", "slow"))
	if !errors.Is(err, ErrNoAnswer) || r.Tries != 3 {
		t.Fatalf("got %+v, %v; want ErrNoAnswer after 3 tries", r, err)
	}
	if n := len(s.bot.requests()); n != 3 {
		t.Fatalf("bot saw %d requests, want 3", n)
	}

	c.NoRetry = true
	if r, err := c.Send(t.Context(), TextMsg("oUSER", "slow")); !errors.Is(err, ErrNoAnswer) || r.Tries != 1 {
		t.Fatalf("NoRetry: %+v, %v", r, err)
	}
}

func TestRetryOnTransportError(t *testing.T) {
	t.Parallel()
	s := newStack(t, "", nil)
	var calls atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 { // drop the connection without an answer
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		s.bot.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	c := s.client(Plain)
	c.URL = front.URL + "/wechat"
	c.HTTP = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	r, err := c.Send(t.Context(), TextMsg("oUSER", "x"))
	if err != nil || r.Tries != 2 || r.Text != "echo:x" {
		t.Fatalf("got %+v, %v", r, err)
	}
}

func TestReplyChecks(t *testing.T) {
	t.Parallel()
	c := &Client{Token: testToken, AppID: testAppID, AESKey: testAESKey, Mode: Safe}
	reply := "<xml><ToUserName><![CDATA[oUSER]]></ToUserName><FromUserName><![CDATA[gh]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[ok]]></Content></xml>"
	enc, err := c.seal([]byte("0123456789abcdef"), []byte(reply))
	if err != nil {
		t.Fatal(err)
	}
	good := util.Signature(testToken, "100", "n", enc)
	cases := []struct {
		name    string
		mode    Mode
		body    []byte
		wantErr error
		want    string
	}{
		{"valid encrypted", Safe, envelope(enc, good, "100", "n"), nil, "ok"},
		{"signature over another timestamp", Safe, envelope(enc, good, "101", "n"), ErrBadReplySignature, ""},
		{"plaintext reply in safe mode", Safe, []byte(reply), ErrBadReply, ""},
		{"plaintext reply in compat mode", Compat, []byte(reply), nil, "ok"},
		{"garbage", Plain, []byte("<html>oops"), ErrBadReply, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cc := *c
			cc.Mode = tc.mode
			r, err := cc.ParseResponse(200, tc.body)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && r.Text != tc.want) {
				t.Fatalf("got %+v, %v; want text %q, err %v", r, err, tc.want, tc.wantErr)
			}
		})
	}

	// An encrypted envelope around nothing (silenceper's nil-reply pitfall).
	empty, _ := c.seal([]byte("0123456789abcdef"), nil)
	if _, err := c.ParseResponse(200, envelope(empty, util.Signature(testToken, "1", "n", empty), "1", "n")); !errors.Is(err, ErrBadReply) {
		t.Fatalf("empty encrypted reply: err = %v, want ErrBadReply", err)
	}
}

func TestIdenticalRequestsConcurrently(t *testing.T) {
	t.Parallel()
	s := newStack(t, testAESKey, nil)
	c := s.client(Safe)
	p, err := c.Prepare(TextMsg("oUSER", "dup"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			req, err := p.Request(context.Background())
			if err != nil {
				errs <- err
				return
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(resp.Body)
			r, err := c.ParseResponse(resp.StatusCode, buf.Bytes())
			if err == nil && r.Text != "echo:dup" {
				err = errors.New("reply " + r.Text)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	seen := s.bot.requests()
	if len(seen) != 3 || seen[0] != seen[1] || seen[1] != seen[2] {
		t.Fatalf("want 3 identical requests, got %+v", seen)
	}
}
