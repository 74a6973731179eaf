package wx

import (
	"crypto/subtle"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
)

// OutcomePlainRefused is a 403: an AES key is configured (safe or compatible
// mode) and the delivery was not encrypted. In plain mode the signature does
// not cover the body, so accepting plaintext would let anyone holding one
// captured signature send any message for as long as its timestamp is fresh.
const OutcomePlainRefused = "plain_refused"

// maxLogValue caps every value taken from a request before it is logged
// (openid, msg type, event): a caller controls their length, and an
// unverified value must not turn one request into a huge log line.
const maxLogValue = 64

// clip returns s cut to at most maxLogValue bytes on a rune boundary, marked
// with "…" when cut.
func clip(s string) string { return clipN(s, maxLogValue) }

func clipN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Delivery is what verification established about one POST before the SDK
// reads it. Timestamp and Nonce are covered by the signature and the
// timestamp is inside the window. Encrypted means safe or compatible mode with
// a valid msg_signature, which also covers the body; a plain delivery's body
// is not covered by any signature, so its timestamp and nonce may be honoured
// for one body only.
type Delivery struct {
	Timestamp int64  // Unix seconds, as signed
	Nonce     string // as signed
	Encrypted bool
	Body      []byte // the raw body, at most MaxBody bytes
}

// serveVerify answers WeChat's URL verification. The echostr is plaintext and
// signed with signature in every mode, safe mode included.
func (c *Callback) serveVerify(w http.ResponseWriter, r *http.Request, rq *request) {
	q := r.URL.Query()
	echo, ok := q["echostr"]
	if !ok || len(echo) == 0 {
		rq.outcome = OutcomeBadRequest
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	if _, ok := c.checkSignature(w, q.Get("signature"), q.Get("timestamp"), q.Get("nonce"), rq); !ok {
		return
	}
	rq.outcome = OutcomeEcho
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.WriteString(w, echo[0])
}

// checkSignature verifies signature and the timestamp window, answering 403
// itself when they fail. It returns the timestamp.
func (c *Callback) checkSignature(w http.ResponseWriter, sig, ts, nonce string, rq *request) (int64, bool) {
	want := util.Signature(c.wc.cfg.Token, ts, nonce)
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		forbid(w, rq, OutcomeBadSignature)
		return 0, false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || absDuration(c.now().Sub(time.Unix(sec, 0))) > maxClockSkew {
		forbid(w, rq, OutcomeBadTimestamp)
		return 0, false
	}
	return sec, true
}

func forbid(w http.ResponseWriter, rq *request, outcome string) {
	rq.outcome = outcome
	http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// verifyDelivery reads the body of a POST and checks everything that can be
// checked before the SDK parses it: the body cap (413), signature and
// timestamp window (403), and in safe or compatible mode msg_signature over
// the encrypted payload (403; 400 when there is no payload). With an AES key
// configured, only encrypted deliveries are accepted; without one, a
// compatible-mode delivery is read as plain (its query loses encrypt_type,
// so the SDK reads the plaintext copy). It answers the request itself when it
// returns false.
func (c *Callback) verifyDelivery(w http.ResponseWriter, r *http.Request, rq *request) (Delivery, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, c.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			rq.outcome = OutcomeTooLarge
			http.Error(w, http.StatusText(http.StatusRequestEntityTooLarge), http.StatusRequestEntityTooLarge)
			return Delivery{}, false
		}
		rq.outcome = OutcomeBadRequest
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return Delivery{}, false
	}
	q := r.URL.Query()
	ts, nonce := q.Get("timestamp"), q.Get("nonce")
	sec, ok := c.checkSignature(w, q.Get("signature"), ts, nonce, rq)
	if !ok {
		return Delivery{}, false
	}
	d := Delivery{Timestamp: sec, Nonce: nonce, Body: body}
	if q.Get("encrypt_type") != "aes" {
		if c.wc.cfg.AESKey != "" {
			// Safe or compatible mode is configured: a plaintext delivery
			// is a downgrade, whoever signed its query.
			forbid(w, rq, OutcomePlainRefused)
			return Delivery{}, false
		}
		return d, true
	}
	isJSON := strings.Contains(r.Header.Get("Content-Type"), "application/json")
	if c.wc.cfg.AESKey == "" {
		// Compatible mode while the bot has no key yet, the first step of
		// switching an account to safe mode: the body carries the message
		// in plaintext too; read that, as in plain mode (the SDK parses the
		// body as it is once encrypt_type is gone). A safe-mode body has
		// no plaintext to read.
		if !hasPlaintext(body, isJSON) {
			rq.outcome = OutcomeBadRequest
			http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
			return Delivery{}, false
		}
		q.Del("encrypt_type")
		q.Del("msg_signature")
		r.URL.RawQuery = q.Encode()
		return d, true
	}
	enc, err := encryptedField(body, isJSON)
	if err != nil {
		rq.outcome = OutcomeBadRequest
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return Delivery{}, false
	}
	want := util.Signature(c.wc.cfg.Token, ts, nonce, enc)
	if subtle.ConstantTimeCompare([]byte(q.Get("msg_signature")), []byte(want)) != 1 {
		forbid(w, rq, OutcomeBadSignature)
		return Delivery{}, false
	}
	d.Encrypted = true
	return d, true
}

// hasPlaintext reports whether a compatible-mode body carries the message in
// plaintext beside Encrypt.
func hasPlaintext(body []byte, isJSON bool) bool {
	var m struct {
		FromUserName string `xml:"FromUserName" json:"FromUserName"`
		MsgType      string `xml:"MsgType" json:"MsgType"`
	}
	var err error
	if isJSON {
		err = json.Unmarshal(body, &m)
	} else {
		err = xml.Unmarshal(body, &m)
	}
	return err == nil && m.FromUserName != "" && m.MsgType != ""
}

// encryptedField extracts Encrypt from a safe- or compatible-mode body.
func encryptedField(body []byte, isJSON bool) (string, error) {
	var env message.EncryptedXMLMsg
	var err error
	if isJSON {
		err = json.Unmarshal(body, &env)
	} else {
		err = xml.Unmarshal(body, &env)
	}
	if err != nil {
		return "", fmt.Errorf("parse encrypted envelope: %w", err)
	}
	if env.EncryptedMsg == "" {
		return "", errors.New("parse encrypted envelope: no Encrypt")
	}
	return env.EncryptedMsg, nil
}
