package localwx

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// WeChat API paths served by the Emulator.
const (
	PathToken        = "/cgi-bin/token"
	PathStableToken  = "/cgi-bin/stable_token"
	PathCustomSend   = "/cgi-bin/message/custom/send"
	PathCustomTyping = "/cgi-bin/message/custom/typing"
	PathTemplateSend = "/cgi-bin/message/template/send"
	PathMediaGet     = "/cgi-bin/media/get"
	PathMediaUpload  = "/cgi-bin/media/upload"
	PathMenuCreate   = "/cgi-bin/menu/create"
	PathMenuGet      = "/cgi-bin/menu/get"
	PathMenuDelete   = "/cgi-bin/menu/delete"
	PathUserInfo     = "/cgi-bin/user/info"
)

// Emulator-only paths (not WeChat's), used by local mode and the chat front ends.
const (
	PathEmulatorSent  = "/_emulator/sent"
	PathEmulatorMedia = "/_emulator/media"
	PathEmulatorUser  = "/_emulator/user"
)

// Record kinds.
const (
	KindCustom   = "custom"
	KindTemplate = "template"
)

// WeChat errcodes the Emulator answers with.
const (
	ErrSystemBusy       = -1
	ErrInvalidToken     = 40001
	ErrInvalidGrantType = 40002
	ErrInvalidOpenID    = 40003
	ErrInvalidMediaType = 40004
	ErrInvalidMediaID   = 40007
	ErrInvalidMsgType   = 40008
	ErrInvalidAppID     = 40013
	ErrInvalidButtons   = 40016
	ErrInvalidTemplate  = 40037
	ErrInvalidURL       = 40066
	ErrInvalidSecret    = 40125
	ErrTokenMissing     = 41001
	ErrTokenExpired     = 42001
	ErrRequireSubscribe = 43004
	ErrEmptyPostData    = 44002
	ErrEmptyContent     = 44004
	ErrContentTooLong   = 45002
	ErrDailyQuota       = 45009
	ErrOutsideWindow    = 45015
	ErrResponseLimit    = 45047
	ErrMenuNotExist     = 46003
	ErrDataFormat       = 47001
	ErrArgumentInvalid  = 47003
)

var errMessages = map[int]string{
	ErrSystemBusy:       "system error",
	ErrInvalidToken:     "invalid credential, access_token is invalid or not latest",
	ErrInvalidGrantType: "invalid grant_type",
	ErrInvalidOpenID:    "invalid openid",
	ErrInvalidMediaType: "invalid media type",
	ErrInvalidMediaID:   "invalid media_id",
	ErrInvalidMsgType:   "invalid message type",
	ErrInvalidAppID:     "invalid appid",
	ErrInvalidButtons:   "invalid button size",
	ErrInvalidTemplate:  "invalid template_id",
	ErrInvalidURL:       "invalid url",
	ErrInvalidSecret:    "invalid appsecret",
	ErrTokenMissing:     "access_token missing",
	ErrTokenExpired:     "access_token expired",
	ErrRequireSubscribe: "require subscribe",
	ErrEmptyPostData:    "empty post data",
	ErrEmptyContent:     "empty content",
	ErrContentTooLong:   "content size out of limit",
	ErrDailyQuota:       "reach max api daily quota limit",
	ErrOutsideWindow:    "response out of time limit or subscription is canceled",
	ErrResponseLimit:    "out of response count limit",
	ErrMenuNotExist:     "menu no exist",
	ErrDataFormat:       "data format error",
	ErrArgumentInvalid:  "argument invalid!",
}

// ErrMsg returns the errmsg the Emulator sends with errcode.
func ErrMsg(errcode int) string {
	if m, ok := errMessages[errcode]; ok {
		return m
	}
	return "error " + strconv.Itoa(errcode)
}

// EmulatorOptions configures an Emulator. The zero value accepts any
// credentials.
type EmulatorOptions struct {
	// AppID and AppSecret are the expected credentials for the token
	// endpoints; empty accepts any value.
	AppID, AppSecret string
	// StrictTemplates enforces WeChat's 2023 template rule: every data value
	// at most 20 characters and without newlines (else 47003).
	StrictTemplates bool
	// MaxRecords bounds the kept Sent records (oldest dropped first); 0 keeps
	// all. Count keeps counting regardless.
	MaxRecords int
	// MaxMedia bounds the media kept (uploads from the chat pages, media the
	// bot uploads); the oldest go first, as WeChat drops temporary media
	// after 3 days. 0 means 1000.
	MaxMedia int
	// TokenTTL is the lifetime of an access token; 0 means 7200 s.
	TokenTTL time.Duration
	// OldTokenGrace is how long older tokens stay valid after /cgi-bin/token
	// (or a forced stable_token) issued a new one: 0 means 5 minutes, like
	// WeChat; negative invalidates them at once.
	OldTokenGrace time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives one debug line per API call; nil discards.
	Logger *slog.Logger
}

// UserState is what the Emulator knows about one follower. Users it has never
// heard of are subscribed and inside the 48-hour window.
type UserState struct {
	Unsubscribed  bool      `json:"unsubscribed"`   // sends fail with 43004
	OutsideWindow bool      `json:"outside_window"` // customer-service sends fail with 45015
	SubscribeTime time.Time `json:"subscribe_time"` // zero: the Emulator's start time
}

// Sent is one accepted outbound message.
type Sent struct {
	Seq        int64             `json:"seq"`
	Kind       string            `json:"kind"` // KindCustom or KindTemplate
	ToUser     string            `json:"to_user"`
	MsgType    string            `json:"msg_type"` // text, image, news, msgmenu, …; "template" for templates
	Text       string            `json:"text"`     // readable content (template: "key: value" lines in order)
	TemplateID string            `json:"template_id,omitempty"`
	Data       map[string]string `json:"data,omitempty"` // template data values by key
	DataKeys   []string          `json:"data_keys,omitempty"`
	URL        string            `json:"url,omitempty"`
	MediaID    string            `json:"media_id,omitempty"`
	MsgID      int64             `json:"msg_id,omitempty"` // template msgid
	Raw        json.RawMessage   `json:"raw"`
	At         time.Time         `json:"at"`
}

type tokenInfo struct {
	expires time.Time
	invalid bool
}

type mediaItem struct {
	contentType string
	data        []byte
	created     time.Time
}

type failure struct {
	errcode int
	left    int
}

type bucket struct {
	tokens float64
	last   time.Time
}

// Emulator plays the WeChat API server. It is an http.Handler; all methods are
// safe for concurrent use.
type Emulator struct {
	opts  EmulatorOptions
	now   func() time.Time
	log   *slog.Logger
	start time.Time

	mu           sync.Mutex
	tokens       map[string]*tokenInfo
	stable       string
	tokenFetches int64
	users        map[string]UserState
	media        map[string]mediaItem
	mediaSeq     int64
	menu         json.RawMessage
	fails        map[string][]failure
	latency      time.Duration
	rateLimit    int
	buckets      map[string]*bucket
	records      []Sent
	seq          int64
	templateID   int64
	counts       map[string]int64
	errCounts    map[int]int64
	notify       chan struct{}
	notifyUsed   bool
	mass         *massState // emulator_mass.go
}

// NewEmulator returns an Emulator with no tokens, users, media or records.
func NewEmulator(o EmulatorOptions) *Emulator {
	if o.TokenTTL <= 0 {
		o.TokenTTL = 7200 * time.Second
	}
	if o.OldTokenGrace == 0 {
		o.OldTokenGrace = 5 * time.Minute
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Emulator{
		opts:       o,
		now:        now,
		log:        log,
		start:      now(),
		tokens:     make(map[string]*tokenInfo),
		users:      make(map[string]UserState),
		media:      make(map[string]mediaItem),
		fails:      make(map[string][]failure),
		buckets:    make(map[string]*bucket),
		counts:     make(map[string]int64),
		errCounts:  make(map[int]int64),
		notify:     make(chan struct{}),
		templateID: 3_000_000_000,
	}
}

// ---- configuration and fault injection ----

// SetUser sets the state of one follower.
func (e *Emulator) SetUser(openid string, st UserState) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.users[openid] = st
}

// User returns the state of one follower.
func (e *Emulator) User(openid string) UserState {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.users[openid]
}

// AddMedia registers temporary media that /cgi-bin/media/get will serve.
func (e *Emulator) AddMedia(mediaID, contentType string, data []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.putMediaLocked(mediaID, mediaItem{contentType: contentType, data: append([]byte(nil), data...), created: e.now()})
}

// putMediaLocked stores media, dropping the oldest beyond MaxMedia so a local
// server that anyone can upload photos to stays bounded in memory.
func (e *Emulator) putMediaLocked(id string, m mediaItem) {
	e.media[id] = m
	limit := e.opts.MaxMedia
	if limit <= 0 {
		limit = 1000
	}
	for len(e.media) > limit {
		oldest, first := "", true
		var at time.Time
		for k, v := range e.media {
			if first || v.created.Before(at) {
				oldest, at, first = k, v.created, false
			}
		}
		delete(e.media, oldest)
	}
}

// Media returns registered or uploaded media.
func (e *Emulator) Media(mediaID string) (contentType string, data []byte, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m, ok := e.media[mediaID]
	return m.contentType, m.data, ok
}

// FailNext makes the next times calls to path (such as PathCustomSend) fail
// with errcode. Calls queue up behind each other.
func (e *Emulator) FailNext(path string, errcode int, times int) {
	if times <= 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fails[path] = append(e.fails[path], failure{errcode: errcode, left: times})
}

// InvalidateTokens makes every token issued so far answer 40001, as when
// another party fetched a new one.
func (e *Emulator) InvalidateTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, t := range e.tokens {
		t.invalid = true
	}
	e.stable = ""
}

// ExpireTokens makes every token issued so far answer 42001.
func (e *Emulator) ExpireTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	for _, t := range e.tokens {
		if t.expires.After(now) {
			t.expires = now
		}
	}
	e.stable = ""
}

// SetLatency delays every WeChat API answer by d.
func (e *Emulator) SetLatency(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.latency = d
}

// SetRateLimit limits customer-service and template sends to perSecond each
// (a token bucket with a burst of perSecond); excess calls fail with 45047
// (customer service) or 45009 (template). 0 removes the limit.
func (e *Emulator) SetRateLimit(perSecond int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rateLimit = perSecond
	e.buckets = make(map[string]*bucket)
}

// ---- records ----

// TokenFetches counts calls to the two token endpoints.
func (e *Emulator) TokenFetches() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tokenFetches
}

// Menu returns the last menu created (nil when none).
func (e *Emulator) Menu() json.RawMessage {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append(json.RawMessage(nil), e.menu...)
}

// Sent returns a copy of the kept records, oldest first.
func (e *Emulator) Sent() []Sent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Sent(nil), e.records...)
}

// SentTo returns the kept records addressed to openid, oldest first.
func (e *Emulator) SentTo(openid string) []Sent {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Sent
	for _, s := range e.records {
		if s.ToUser == openid {
			out = append(out, s)
		}
	}
	return out
}

// Count returns how many messages of kind (KindCustom, KindTemplate) were
// accepted since the start or the last Reset, including dropped records.
func (e *Emulator) Count(kind string) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[kind]
}

// ErrorCount returns how many API calls were answered with errcode.
func (e *Emulator) ErrorCount(errcode int) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.errCounts[errcode]
}

// Reset forgets records and counters. Tokens, users, media, menu and fault
// injections stay.
func (e *Emulator) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.records = nil
	e.counts = make(map[string]int64)
	e.errCounts = make(map[int]int64)
	e.tokenFetches = 0
	e.resetMassLocked()
}

// WaitSent blocks until a record matching match exists (it may already) or
// ctx ends. match runs without the Emulator's lock held.
func (e *Emulator) WaitSent(ctx context.Context, match func(Sent) bool) (Sent, error) {
	after := int64(0)
	for {
		e.mu.Lock()
		cand := e.recordsAfterLocked(after, "")
		after = e.seq
		ch := e.waitChanLocked()
		e.mu.Unlock()
		for _, s := range cand {
			if match(s) {
				return s, nil
			}
		}
		select {
		case <-ctx.Done():
			return Sent{}, fmt.Errorf("wait for sent message: %w", ctx.Err())
		case <-ch:
		}
	}
}

// Pushed returns the records addressed to openid ("" for all) with Seq >
// after, waiting up to wait for at least one. lastSeq is the highest Seq so
// far; after < 0 returns no messages at once, only lastSeq.
func (e *Emulator) Pushed(ctx context.Context, openid string, after int64, wait time.Duration) ([]Sent, int64, error) {
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		e.mu.Lock()
		last := e.seq
		if after < 0 {
			e.mu.Unlock()
			return nil, last, nil
		}
		msgs := e.recordsAfterLocked(after, openid)
		ch := e.waitChanLocked()
		e.mu.Unlock()
		if len(msgs) > 0 || timeout == nil {
			return msgs, last, nil
		}
		select {
		case <-ctx.Done():
			return nil, last, fmt.Errorf("wait for pushed messages: %w", ctx.Err())
		case <-timeout:
			return nil, last, nil
		case <-ch:
		}
	}
}

// StoreMedia registers media under a new id (the Backend method behind the
// photo buttons of the chat front ends).
func (e *Emulator) StoreMedia(_ context.Context, contentType string, data []byte) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	id := e.newMediaIDLocked()
	e.putMediaLocked(id, mediaItem{contentType: contentType, data: append([]byte(nil), data...), created: e.now()})
	return id, nil
}

// SetUserState is SetUser for the Backend interface.
func (e *Emulator) SetUserState(_ context.Context, openid string, st UserState) error {
	e.SetUser(openid, st)
	return nil
}

// recordsAfterLocked returns copies of records with Seq > after (and ToUser ==
// openid unless openid is empty). Records are in Seq order.
func (e *Emulator) recordsAfterLocked(after int64, openid string) []Sent {
	lo, hi := 0, len(e.records)
	for lo < hi { // first index with Seq > after
		mid := (lo + hi) / 2
		if e.records[mid].Seq <= after {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	var out []Sent
	for _, s := range e.records[lo:] {
		if openid == "" || s.ToUser == openid {
			out = append(out, s)
		}
	}
	return out
}

func (e *Emulator) waitChanLocked() chan struct{} {
	e.notifyUsed = true
	return e.notify
}

func (e *Emulator) addRecordLocked(s Sent) Sent {
	e.seq++
	s.Seq = e.seq
	s.At = e.now()
	e.counts[s.Kind]++
	e.noteSentLocked(s)
	e.records = append(e.records, s)
	if max := e.opts.MaxRecords; max > 0 && len(e.records) > max {
		drop := len(e.records) - max
		clear(e.records[:drop]) // let the dropped payloads be collected
		e.records = e.records[drop:]
	}
	if e.notifyUsed {
		close(e.notify)
		e.notify = make(chan struct{})
		e.notifyUsed = false
	}
	return s
}

// ---- HTTP ----

// ServeHTTP serves the WeChat API paths and the /_emulator/ helpers.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case PathEmulatorSent:
		e.handlePushed(w, r)
		return
	case PathEmulatorMedia:
		e.handleEmulatorMedia(w, r)
		return
	case PathEmulatorUser:
		e.handleEmulatorUser(w, r)
		return
	}

	e.mu.Lock()
	latency := e.latency
	e.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}

	path := r.URL.Path
	e.log.Debug("wechat emulator call", "path", path)
	if code, ok := e.takeFailure(path); ok {
		e.writeErr(w, code, "")
		return
	}
	switch path {
	case PathToken:
		e.handleToken(w, r)
		return
	case PathStableToken:
		e.handleStableToken(w, r)
		return
	}
	h, ok := e.route(path)
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		e.writeErr(w, ErrInvalidURL, "")
		return
	}
	if code := e.checkToken(r.URL.Query().Get("access_token")); code != 0 {
		e.writeErr(w, code, "")
		return
	}
	h(w, r)
}

func (e *Emulator) route(path string) (http.HandlerFunc, bool) {
	switch path {
	case PathCustomSend:
		return e.handleCustomSend, true
	case PathCustomTyping:
		return e.handleTyping, true
	case PathTemplateSend:
		return e.handleTemplateSend, true
	case PathMediaGet:
		return e.handleMediaGet, true
	case PathMediaUpload:
		return e.handleMediaUpload, true
	case PathMenuCreate:
		return e.handleMenuCreate, true
	case PathMenuGet:
		return e.handleMenuGet, true
	case PathMenuDelete:
		return e.handleMenuDelete, true
	case PathUserInfo:
		return e.handleUserInfo, true
	case PathMassSend:
		return e.handleMassSend, true
	case PathSubscribeSend:
		return e.handleSubscribeSend, true
	}
	return e.routeUsers(path)
}

func (e *Emulator) takeFailure(path string) (int, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.fails[path]
	if len(q) == 0 {
		return 0, false
	}
	code := q[0].errcode
	q[0].left--
	if q[0].left <= 0 {
		q = q[1:]
	}
	if len(q) == 0 {
		delete(e.fails, path)
	} else {
		e.fails[path] = q
	}
	return code, true
}

func (e *Emulator) checkToken(tok string) int {
	if tok == "" {
		return ErrTokenMissing
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.tokens[tok]
	switch {
	case !ok || t.invalid:
		return ErrInvalidToken
	case !e.now().Before(t.expires):
		return ErrTokenExpired
	}
	return 0
}

// allow takes one token from kind's bucket; false when the rate limit is hit.
func (e *Emulator) allowLocked(kind string) bool {
	if e.rateLimit <= 0 {
		return true
	}
	now := e.now()
	b, ok := e.buckets[kind]
	if !ok {
		b = &bucket{tokens: float64(e.rateLimit), last: now}
		e.buckets[kind] = b
	}
	b.tokens += now.Sub(b.last).Seconds() * float64(e.rateLimit)
	if b.tokens > float64(e.rateLimit) {
		b.tokens = float64(e.rateLimit)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (e *Emulator) writeErr(w http.ResponseWriter, errcode int, detail string) {
	e.mu.Lock()
	e.errCounts[errcode]++
	e.mu.Unlock()
	msg := ErrMsg(errcode)
	if detail != "" {
		msg += " " + detail
	}
	writeJSON(w, map[string]any{"errcode": errcode, "errmsg": msg})
}

func writeOK(w http.ResponseWriter, extra map[string]any) {
	out := map[string]any{"errcode": 0, "errmsg": "ok"}
	for k, v := range extra {
		out[k] = v
	}
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	_, _ = w.Write(b)
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (e *Emulator) newMediaIDLocked() string {
	e.mediaSeq++
	return fmt.Sprintf("%s%06d", randomToken(30), e.mediaSeq)
}

func readBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read body: larger than %d bytes", limit)
	}
	return b, nil
}
