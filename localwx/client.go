package localwx

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// Mode is the message encryption mode configured for the official account.
type Mode int

// Modes (明文, 兼容, 安全).
const (
	Plain Mode = iota
	Compat
	Safe
)

func (m Mode) String() string {
	switch m {
	case Plain:
		return "plain"
	case Compat:
		return "compat"
	case Safe:
		return "safe"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// Errors of the Client.
var (
	// ErrNoAnswer: every try timed out or failed in transport.
	ErrNoAnswer = errors.New("localwx: the bot did not answer")
	// ErrBadReplySignature: an encrypted reply's MsgSignature does not verify.
	ErrBadReplySignature = errors.New("localwx: reply signature mismatch")
	// ErrBadReply: the reply is not something WeChat would accept.
	ErrBadReply = errors.New("localwx: invalid reply")
)

// StatusError is a non-200 answer from the bot.
type StatusError struct {
	Status int
	Body   []byte
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("localwx: bot answered HTTP %d: %.200s", e.Status, e.Body)
}

// Client plays the WeChat server posting to the bot's callback URL. Its fields
// are read-only once it is in use; a Client is safe for concurrent use.
type Client struct {
	URL        string // the bot's callback endpoint, e.g. http://host/wechat
	Token      string // callback token
	AppID      string
	AESKey     string // EncodingAESKey, 43 characters (Compat and Safe)
	Mode       Mode
	HTTP       *http.Client // nil: http.DefaultClient
	ToUserName string       // the account's gh_ id; default "gh_0123456789ab"

	// RetryAfter is how long WeChat waits for an answer before trying again
	// (default 5 s). NoRetry sends once.
	RetryAfter time.Duration
	NoRetry    bool
	// Now is the clock for timestamps (default time.Now); Rand the source of
	// nonces and of the 16 random bytes of encrypted messages (default
	// crypto/rand).
	Now  func() time.Time
	Rand io.Reader
}

// Prepared is one callback request, ready to be sent any number of times
// (WeChat retries with the same query string and body).
type Prepared struct {
	URL       string // callback URL with the signed query
	Body      []byte
	Timestamp string
	Nonce     string
	Encrypt   string // "" in plain mode
	Plain     string // plaintext XML of the message
	OpenID    string
}

// Request returns a new POST request for p.
func (p *Prepared) Request(ctx context.Context) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(p.Body))
	if err != nil {
		return nil, fmt.Errorf("new callback request: %w", err)
	}
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("User-Agent", "Mozilla/4.0")
	return req, nil
}

// Response is the bot's answer, decrypted and parsed.
type Response struct {
	Status    int
	Body      []byte // raw body
	Plain     []byte // reply XML (decrypted in Compat/Safe mode)
	Empty     bool   // empty body or "success": no reply
	Encrypted bool
	MsgType   string
	Text      string // text replies
	MediaID   string // image and voice replies
	Articles  []Article
	ToUser    string
	FromUser  string
	Tries     int
}

// Article is one item of a news reply.
type Article struct {
	Title       string `xml:"Title" json:"title"`
	Description string `xml:"Description" json:"description"`
	PicURL      string `xml:"PicUrl" json:"pic_url"`
	URL         string `xml:"Url" json:"url"`
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) random(n int) ([]byte, error) {
	r := c.Rand
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("read random bytes: %w", err)
	}
	return b, nil
}

func (c *Client) toUserName() string {
	if c.ToUserName != "" {
		return c.ToUserName
	}
	return "gh_0123456789ab"
}

// SignedQuery returns the query WeChat adds to a callback: signature,
// timestamp and nonce, and with a non-empty encrypt also encrypt_type=aes and
// msg_signature.
func (c *Client) SignedQuery(ts, nonce, encrypt string) url.Values {
	q := url.Values{}
	q.Set("signature", util.Signature(c.Token, ts, nonce))
	q.Set("timestamp", ts)
	q.Set("nonce", nonce)
	if encrypt != "" {
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", util.Signature(c.Token, ts, nonce, encrypt))
	}
	return q
}

// seal encrypts plain the way WeChat does (random | length | xml | appid).
func (c *Client) seal(random, plain []byte) (string, error) {
	enc, err := util.EncryptMsg(random, plain, c.AppID, c.AESKey)
	if err != nil {
		return "", fmt.Errorf("encrypt message: %w", err)
	}
	return string(enc), nil
}

// BuildBody renders m as the POST body for the Client's mode. random is the
// 16-byte prefix of the encrypted payload (ignored in plain mode). encrypt is
// the base64 ciphertext ("" in plain mode).
func (c *Client) BuildBody(m Message, random []byte) (body []byte, encrypt string, err error) {
	if m.ToUserName == "" {
		m.ToUserName = c.toUserName()
	}
	plain := m.XML()
	if c.Mode == Plain {
		return []byte(plain), "", nil
	}
	encrypt, err = c.seal(random, []byte(plain))
	if err != nil {
		return nil, "", err
	}
	encElem := "<Encrypt>" + cdata(encrypt) + "</Encrypt>\n"
	if c.Mode == Compat {
		return []byte(strings.TrimSuffix(plain, "</xml>") + encElem + "</xml>"), encrypt, nil
	}
	return []byte("<xml><ToUserName>" + cdata(m.ToUserName) + "</ToUserName>\n" + encElem + "</xml>"), encrypt, nil
}

// Prepare signs (and encrypts) m with a fresh timestamp and nonce.
func (c *Client) Prepare(m Message) (*Prepared, error) {
	if m.ToUserName == "" {
		m.ToUserName = c.toUserName()
	}
	rnd, err := c.random(20)
	if err != nil {
		return nil, err
	}
	random := rnd[:16]
	nonce := strconv.FormatUint(uint64(binary.BigEndian.Uint32(rnd[16:])), 10)
	ts := strconv.FormatInt(c.now().Unix(), 10)
	body, encrypt, err := c.BuildBody(m, random)
	if err != nil {
		return nil, err
	}
	q := c.SignedQuery(ts, nonce, encrypt)
	q.Set("openid", m.FromUserName)
	u, err := withQuery(c.URL, q)
	if err != nil {
		return nil, err
	}
	return &Prepared{URL: u, Body: body, Timestamp: ts, Nonce: nonce, Encrypt: encrypt, Plain: m.XML(), OpenID: m.FromUserName}, nil
}

func withQuery(base string, q url.Values) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse callback URL: %w", err)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// NewRequest returns the signed request for m (one try, no retries).
func (c *Client) NewRequest(ctx context.Context, m Message) (*http.Request, error) {
	p, err := c.Prepare(m)
	if err != nil {
		return nil, err
	}
	return p.Request(ctx)
}

// Send posts m to the bot like WeChat: it waits RetryAfter for an answer and
// re-sends the identical request up to two more times on a timeout or a
// transport error. The answer is verified, decrypted and parsed.
func (c *Client) Send(ctx context.Context, m Message) (Response, error) {
	p, err := c.Prepare(m)
	if err != nil {
		return Response{}, err
	}
	return c.Do(ctx, p)
}

// Do sends a prepared request with WeChat's retries (see Send).
func (c *Client) Do(ctx context.Context, p *Prepared) (Response, error) {
	wait := c.RetryAfter
	if wait <= 0 {
		wait = 5 * time.Second
	}
	tries := 3
	if c.NoRetry {
		tries = 1
	}
	var lastErr error
	for i := 1; i <= tries; i++ {
		status, body, err := c.try(ctx, p, wait)
		if err == nil {
			r, err := c.ParseResponse(status, body)
			r.Tries = i
			if err == nil && !r.Empty && p.OpenID != "" && r.ToUser != p.OpenID {
				err = fmt.Errorf("%w: addressed to %q, want %q", ErrBadReply, r.ToUser, p.OpenID)
			}
			return r, err
		}
		if ctx.Err() != nil {
			return Response{Tries: i}, fmt.Errorf("send callback: %w", ctx.Err())
		}
		lastErr = err
	}
	return Response{Tries: tries}, fmt.Errorf("%w after %d tries: %v", ErrNoAnswer, tries, lastErr)
}

func (c *Client) try(ctx context.Context, p *Prepared, wait time.Duration) (int, []byte, error) {
	tctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	req, err := p.Request(tctx)
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("post callback: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("read callback answer: %w", err)
	}
	return resp.StatusCode, body, nil
}

type encryptedReply struct {
	XMLName      xml.Name `xml:"xml"`
	Encrypt      string   `xml:"Encrypt"`
	MsgSignature string   `xml:"MsgSignature"`
	TimeStamp    string   `xml:"TimeStamp"`
	Nonce        string   `xml:"Nonce"`
}

type plainReply struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   string   `xml:"ToUserName"`
	FromUserName string   `xml:"FromUserName"`
	CreateTime   int64    `xml:"CreateTime"`
	MsgType      string   `xml:"MsgType"`
	Content      string   `xml:"Content"`
	Image        struct {
		MediaID string `xml:"MediaId"`
	} `xml:"Image"`
	Voice struct {
		MediaID string `xml:"MediaId"`
	} `xml:"Voice"`
	Video struct {
		MediaID string `xml:"MediaId"`
	} `xml:"Video"`
	Articles []Article `xml:"Articles>item"`
}

// ParseResponse interprets the bot's answer as WeChat would. In Compat and
// Safe mode an encrypted reply must carry a valid MsgSignature; Safe mode
// rejects plaintext replies.
func (c *Client) ParseResponse(status int, body []byte) (Response, error) {
	r := Response{Status: status, Body: body}
	if status != http.StatusOK {
		return r, &StatusError{Status: status, Body: body}
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || string(trimmed) == "success" {
		r.Empty = true
		return r, nil
	}
	plain := trimmed
	if c.Mode != Plain {
		var env encryptedReply
		err := xml.Unmarshal(trimmed, &env)
		switch {
		case err == nil && env.Encrypt != "":
			if want := util.Signature(c.Token, env.TimeStamp, env.Nonce, env.Encrypt); env.MsgSignature != want {
				return r, fmt.Errorf("%w: got %q, want %q", ErrBadReplySignature, env.MsgSignature, want)
			}
			_, dec, err := util.DecryptMsg(c.AppID, env.Encrypt, c.AESKey)
			if err != nil {
				return r, fmt.Errorf("%w: decrypt: %v", ErrBadReply, err)
			}
			plain = dec
			r.Encrypted = true
		case c.Mode == Safe:
			return r, fmt.Errorf("%w: safe mode reply is not encrypted", ErrBadReply)
		}
	}
	r.Plain = plain
	if len(bytes.TrimSpace(plain)) == 0 {
		return r, fmt.Errorf("%w: encrypted reply with empty content", ErrBadReply)
	}
	var p plainReply
	if err := xml.Unmarshal(plain, &p); err != nil {
		return r, fmt.Errorf("%w: parse reply XML: %v", ErrBadReply, err)
	}
	if p.MsgType == "" {
		return r, fmt.Errorf("%w: reply has no MsgType", ErrBadReply)
	}
	r.MsgType, r.ToUser, r.FromUser = p.MsgType, p.ToUserName, p.FromUserName
	switch p.MsgType {
	case "text":
		r.Text = p.Content
	case "image":
		r.MediaID = p.Image.MediaID
	case "voice":
		r.MediaID = p.Voice.MediaID
	case "video":
		r.MediaID = p.Video.MediaID
	case "news":
		r.Articles = p.Articles
	}
	return r, nil
}

// Verify performs the URL verification WeChat does when the callback URL is
// configured, and returns what the bot echoed.
func (c *Client) Verify(ctx context.Context, echostr string) (string, error) {
	rnd, err := c.random(4)
	if err != nil {
		return "", err
	}
	ts := strconv.FormatInt(c.now().Unix(), 10)
	nonce := strconv.FormatUint(uint64(binary.BigEndian.Uint32(rnd)), 10)
	q := c.SignedQuery(ts, nonce, "")
	q.Set("echostr", echostr)
	u, err := withQuery(c.URL, q)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("new verify request: %w", err)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return "", fmt.Errorf("verify: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return "", fmt.Errorf("read verify answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", &StatusError{Status: resp.StatusCode, Body: body}
	}
	return string(body), nil
}
