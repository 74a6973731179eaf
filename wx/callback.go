package wx

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unionbot/bot"
	"unionbot/web"

	"github.com/silenceper/wechat/v2/officialaccount/message"

	"unionbot/storage/kv"
)

// Engine answers one input. The dialog core implements it; it serializes the
// inputs of one openid and saves the session itself.
type Engine interface {
	Handle(ctx context.Context, in bot.Input) (bot.Reply, error)
}

// Defaults of CallbackOptions.
const (
	DefaultReplyTimeout  = 4500 * time.Millisecond
	DefaultHandleTimeout = 60 * time.Second
	DefaultDedupTTL      = 120 * time.Second
	DefaultMaxBody       = 64 << 10
	// maxClockSkew is how far a callback's timestamp may be from our clock.
	// WeChat's retries reuse the first timestamp, ≤ 15 s later.
	maxClockSkew = 300 * time.Second
)

// Outcomes of a callback, as logged and passed to CallbackOptions.Observe.
const (
	OutcomeReply        = "reply"         // answered with the handler's reply
	OutcomeNoReply      = "no_reply"      // the handler had nothing to say: "success"
	OutcomeEngineError  = "engine_error"  // the handler failed: the busy text
	OutcomeAsync        = "async"         // deadline passed: "success", reply pushed later
	OutcomeDuplicate    = "duplicate"     // a retry: the first arrival's reply
	OutcomeDupPending   = "dup_pending"   // a retry while still processing or async: "success"
	OutcomeEcho         = "echo"          // URL verification
	OutcomeBadSignature = "bad_signature" // 403
	OutcomeBadTimestamp = "bad_timestamp" // 403
	OutcomeTooLarge     = "too_large"     // 413
	OutcomeBadRequest   = "bad_request"   // 400: malformed XML, undecryptable payload
	OutcomeFailed       = "failed"        // 500-class trouble on our side, answered "success"
)

// CallbackOptions configures NewCallback. WeChat and Engine are required.
type CallbackOptions struct {
	WeChat *WeChat
	Engine Engine
	// Store holds the dedup keys (Redis when several replicas share the
	// callback URL). Required.
	Store kv.Store
	// Pusher sends late replies; default NewSender(WeChat).
	Pusher Pusher
	Logger *slog.Logger
	// ReplyTimeout is how long a callback waits for the engine before it
	// answers "success" and pushes the reply later. Default 4.5 s.
	ReplyTimeout time.Duration
	// HandleTimeout bounds the engine's work, which runs detached from the
	// request. Default 60 s.
	HandleTimeout time.Duration
	// DedupTTL is how long a delivery is remembered. Default 120 s.
	DedupTTL time.Duration
	// Now is the clock for the timestamp window; default time.Now.
	Now func() time.Time
	// MaxBody caps the request body; default 64 KiB.
	MaxBody int64
	// Observe, when set, is called once per request with its outcome and
	// duration (metrics).
	Observe func(outcome string, elapsed time.Duration)
}

// Callback is the http.Handler for WeChat's callback URL: URL verification
// (GET echostr) and messages and events (POST) in plain, compatible and safe
// mode. It checks signatures and the timestamp before anything else,
// de-duplicates retries, answers within ReplyTimeout and pushes late replies
// as customer-service messages.
type Callback struct {
	wc            *WeChat
	engine        Engine
	dedup         dedup
	pusher        Pusher
	logger        *slog.Logger
	replyTimeout  time.Duration
	handleTimeout time.Duration
	now           func() time.Time
	maxBody       int64
	observe       func(string, time.Duration)
	inflight      sync.WaitGroup
}

// NewCallback builds the callback handler. It panics when WeChat, Engine or
// Store is missing (a wiring bug).
func NewCallback(o CallbackOptions) *Callback {
	if o.WeChat == nil || o.Engine == nil || o.Store == nil {
		panic("bot.NewCallback: WeChat, Engine and Store are required")
	}
	c := &Callback{
		wc:            o.WeChat,
		engine:        o.Engine,
		dedup:         dedup{store: o.Store, ttl: o.DedupTTL},
		pusher:        o.Pusher,
		logger:        o.Logger,
		replyTimeout:  o.ReplyTimeout,
		handleTimeout: o.HandleTimeout,
		now:           o.Now,
		maxBody:       o.MaxBody,
		observe:       o.Observe,
	}
	if c.dedup.ttl <= 0 {
		c.dedup.ttl = DefaultDedupTTL
	}
	if c.pusher == nil {
		c.pusher = NewSender(o.WeChat)
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.replyTimeout <= 0 {
		c.replyTimeout = DefaultReplyTimeout
	}
	if c.handleTimeout <= 0 {
		c.handleTimeout = DefaultHandleTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBody
	}
	// Set after replyTimeout has its default: the claim must outlive the
	// reply deadline, when a live owner settles it (keepClaim renews it
	// until then).
	c.dedup.claimTTL = c.replyTimeout + 2*time.Second
	return c
}

// Wait blocks until every late reply still being handled or pushed is done,
// or ctx ends. Call it after the HTTP server has stopped taking requests.
func (c *Callback) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		c.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for late replies: %w", ctx.Err())
	}
}

// request is the state of one callback, for its log line.
type request struct {
	id       string
	start    time.Time
	deadline time.Time
	logger   *slog.Logger // request_id only; the final line adds the rest
	msgLog   *slog.Logger // request_id and open_id, once the message is parsed
	openID   string
	msgType  string
	event    string
	outcome  string
	invoked  bool // the SDK parsed the message and called our handler
	// delivery is what verifyDelivery established (POST only): the signed
	// timestamp and nonce, whether the body was covered by msg_signature.
	delivery Delivery
}

// ServeHTTP answers one WeChat callback and logs one line for it (request_id,
// open_id, msg_type, event, duration, outcome; never content).
func (c *Callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rq := &request{id: web.RequestID(r.Context()), start: time.Now()}
	if rq.id == "" { // served without web.WithRequest (tests)
		rq.id = requestID(r)
	}
	rq.deadline = rq.start.Add(c.replyTimeout)
	rq.openID = clip(r.URL.Query().Get("openid")) // unverified: capped
	rq.logger = c.logger.With("request_id", rq.id)
	w.Header().Set("X-Request-Id", rq.id)

	switch r.Method {
	case http.MethodGet:
		c.serveVerify(w, r, rq)
	case http.MethodPost:
		c.serveMessage(w, r, rq)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		rq.outcome = OutcomeBadRequest
	}

	elapsed := time.Since(rq.start)
	level := slog.LevelInfo
	switch rq.outcome {
	case OutcomeBadSignature, OutcomeBadTimestamp, OutcomePlainRefused, OutcomeTooLarge, OutcomeBadRequest,
		OutcomeEngineError: // the engine's error itself is logged at error level
		level = slog.LevelWarn
	case OutcomeFailed:
		level = slog.LevelError
	}
	rq.logger.Log(r.Context(), level, "wechat callback",
		"open_id", clip(rq.openID), "msg_type", clip(rq.msgType), "event", clip(rq.event),
		"duration", elapsed, "outcome", rq.outcome)
	if c.observe != nil {
		c.observe(rq.outcome, elapsed)
	}
}

func (c *Callback) serveMessage(w http.ResponseWriter, r *http.Request, rq *request) {
	d, ok := c.verifyDelivery(w, r, rq)
	if !ok {
		return
	}
	rq.delivery = d
	body := d.Body

	// Checked: hand the request to the SDK, which parses (and in safe mode
	// decrypts) it and calls our handler synchronously.
	r.Body = io.NopCloser(bytes.NewReader(body))
	rw := &trackingWriter{ResponseWriter: w}
	srv := c.wc.oa.GetServer(r, rw)
	srv.SetMessageHandler(func(m *message.MixMessage) *message.Reply {
		rq.invoked = true
		return c.handle(r.Context(), rq, m)
	})
	if err := srv.Serve(); err != nil {
		if !rq.invoked {
			// Signatures were fine, so this is a malformed body or a payload
			// that does not decrypt (a wrong or rotated AES key). The SDK's
			// error text carries no message content.
			rq.outcome = OutcomeBadRequest
			rq.logger.WarnContext(r.Context(), "wechat callback rejected", "err", clipN(err.Error(), 4*maxLogValue))
			http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
			return
		}
		rq.outcome = OutcomeFailed
		rq.logger.ErrorContext(r.Context(), "build wechat reply", "err", err)
	} else if srv.ResponseMsg != nil {
		// Send only a real reply: in safe mode Send() would otherwise
		// encrypt an empty envelope.
		if err := srv.Send(); err != nil {
			rq.outcome = OutcomeFailed
			rq.logger.ErrorContext(r.Context(), "send wechat reply", "err", err)
		}
	}
	if !rw.wrote {
		// No reply (and in safe mode the SDK writes nothing): "success"
		// tells WeChat not to retry and not to show an error to the user.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "success")
	}
}

// trackingWriter notes whether anything was written, and swallows write
// errors: the SDK panics on them (the client is gone, nothing to do).
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) {
	t.wrote = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	_, _ = t.ResponseWriter.Write(b)
	return len(b), nil
}

// handle runs inside srv.Serve: de-duplicate, run the engine under the reply
// deadline, and turn its Reply into the SDK's.
func (c *Callback) handle(ctx context.Context, rq *request, m *message.MixMessage) *message.Reply {
	in := toInput(m)
	rq.openID, rq.msgType, rq.event = in.OpenID, string(m.MsgType), in.Event
	rq.msgLog = rq.logger.With("open_id", clip(in.OpenID))
	if rq.msgLog.Enabled(ctx, slog.LevelDebug) {
		rq.msgLog.DebugContext(ctx, "wechat input", "msg_id", in.MsgID, "text_len", len([]rune(in.Text)))
	}
	reply := c.process(ctx, rq, dedupKey(m), in)
	if rq.msgLog.Enabled(ctx, slog.LevelDebug) {
		rq.msgLog.DebugContext(ctx, "wechat reply", "reply_len", len([]rune(reply.Text)))
	}
	if reply.Empty() {
		return nil
	}
	return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText(reply.Text)}
}

// process claims the delivery and runs the engine, or waits for the reply of
// the arrival that claimed it.
func (c *Callback) process(ctx context.Context, rq *request, key string, in bot.Input) bot.Reply {
	claimed, err := c.dedup.claim(ctx, key)
	if err != nil {
		// Without dedup a retry could repeat a side effect, but dropping
		// the message is worse; the engine's own lock still serializes.
		rq.msgLog.ErrorContext(ctx, "dedup unavailable", "err", err)
		return c.run(ctx, rq, "", in)
	}
	if !claimed {
		wctx, cancel := context.WithDeadline(ctx, rq.deadline)
		defer cancel()
		reply, state, err := c.dedup.wait(wctx, key)
		if err != nil {
			rq.msgLog.ErrorContext(ctx, "dedup wait", "err", err)
		}
		switch state {
		case dedupGotReply:
			rq.outcome = OutcomeDuplicate
			return reply
		case dedupVanished:
			// The first arrival's replica died mid-message: take over.
			if again, err := c.dedup.claim(ctx, key); err == nil && again {
				rq.msgLog.WarnContext(ctx, "dedup claim abandoned, taking over")
				return c.run(ctx, rq, key, in)
			}
		}
		rq.outcome = OutcomeDupPending
		return bot.Reply{}
	}
	return c.run(ctx, rq, key, in)
}

// Job states: the engine's result goes either to the waiting request or, once
// the request gave up, out as a pushed message. Exactly one of them wins.
const (
	jobRunning int32 = iota
	jobReplied
	jobLate
)

type jobResult struct {
	reply  bot.Reply
	failed bool
}

// run executes the engine detached from the request, waiting until the reply
// deadline. key is "" when dedup is unavailable.
func (c *Callback) run(ctx context.Context, rq *request, key string, in bot.Input) bot.Reply {
	var state atomic.Int32
	done := make(chan jobResult, 1)
	logger := rq.msgLog
	keeper := c.keepClaim(ctx, key)
	c.inflight.Add(1)
	go func() {
		defer c.inflight.Done()
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.handleTimeout)
		defer cancel()
		res := c.invoke(hctx, logger, in)
		if state.CompareAndSwap(jobRunning, jobReplied) {
			// Store before answering, so a retry waiting on the key gets
			// this very reply.
			keeper.settle(func() {
				if err := c.dedup.finish(hctx, key, res.reply); err != nil {
					logger.ErrorContext(hctx, "dedup store reply", "err", err)
				}
			})
			done <- res
			return
		}
		// The request answered "success" already: push the reply.
		if res.reply.Empty() {
			logger.InfoContext(hctx, "late reply empty", "outcome", "async_nothing")
			return
		}
		start := time.Now()
		if err := c.pusher.SendText(hctx, in.OpenID, res.reply.Text); err != nil {
			logger.ErrorContext(hctx, "push late reply", "err", err, "duration", time.Since(start))
			return
		}
		logger.InfoContext(hctx, "late reply pushed", "duration", time.Since(start))
	}()

	timer := time.NewTimer(time.Until(rq.deadline))
	defer timer.Stop()
	var res jobResult
	select {
	case res = <-done:
	case <-timer.C:
		if state.CompareAndSwap(jobRunning, jobLate) {
			rq.outcome = OutcomeAsync
			keeper.settle(func() {
				mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
				defer cancel()
				if err := c.dedup.markAsync(mctx, key); err != nil {
					logger.ErrorContext(ctx, "dedup mark async", "err", err)
				}
			})
			return bot.Reply{}
		}
		res = <-done // finished just as the deadline hit
	}
	switch {
	case res.failed:
		rq.outcome = OutcomeEngineError
	case res.reply.Empty():
		rq.outcome = OutcomeNoReply
	default:
		rq.outcome = OutcomeReply
	}
	return res.reply
}

// claimKeeper renews a delivery's "processing" marker while its owner is
// alive and has not settled it, so only a dead replica's claim can expire and
// be taken over by a retry. settle writes the outcome (the reply, or the async
// marker) under the same lock, so a renewal never overwrites it.
type claimKeeper struct {
	mu      sync.Mutex
	settled bool
	timer   *time.Timer // the next renewal; nil when there is nothing to renew
}

// keepClaim starts renewing key; with key "" (dedup unavailable) it does
// nothing and settle runs nothing either. Renewals are timer callbacks, not a
// goroutine per message: most messages settle long before the first one.
func (c *Callback) keepClaim(ctx context.Context, key string) *claimKeeper {
	k := &claimKeeper{}
	if key == "" {
		k.settled = true
		return k
	}
	ctx = context.WithoutCancel(ctx)
	every := c.dedup.claimTTL / 3
	k.mu.Lock()
	defer k.mu.Unlock()
	k.timer = time.AfterFunc(every, func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		if k.settled {
			return
		}
		if err := c.dedup.renew(ctx, key); err != nil {
			c.logger.WarnContext(ctx, "dedup renew claim", "err", err)
		}
		k.timer.Reset(every)
	})
	return k
}

// settle stops the renewals and runs write once.
func (k *claimKeeper) settle(write func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.settled {
		return
	}
	k.settled = true
	if k.timer != nil {
		k.timer.Stop()
	}
	write()
}

// invoke calls the engine, turning errors and panics into a member-facing
// reply. Errors are logged; message content never is.
func (c *Callback) invoke(ctx context.Context, logger *slog.Logger, in bot.Input) (res jobResult) {
	defer func() {
		if p := recover(); p != nil {
			logger.ErrorContext(ctx, "engine panic", "panic", fmt.Sprint(p))
			res = jobResult{reply: bot.ReplyFor(errEnginePanic), failed: true}
		}
	}()
	reply, err := c.engine.Handle(ctx, in)
	if err != nil {
		_, isUser := bot.UserMessage(err)
		if !isUser {
			logger.ErrorContext(ctx, "engine", "err", err)
		}
		return jobResult{reply: bot.ReplyFor(err), failed: !isUser}
	}
	return jobResult{reply: reply}
}

var errEnginePanic = errors.New("engine panic")

// toInput strips the WeChat envelope.
func toInput(m *message.MixMessage) bot.Input {
	in := bot.Input{
		OpenID:     string(m.FromUserName),
		MsgID:      m.MsgID,
		CreateTime: time.Unix(m.CreateTime, 0),
		Kind:       string(m.MsgType),
	}
	switch m.MsgType {
	case message.MsgTypeText:
		in.Text = m.Content
	case message.MsgTypeImage:
		in.MediaID, in.PicURL = m.MediaID, m.PicURL
	case message.MsgTypeVoice:
		// Recognition is WeChat's speech-to-text, when enabled.
		in.MediaID, in.Text = m.MediaID, m.Recognition
	case message.MsgTypeVideo, message.MsgTypeShortVideo:
		in.Kind, in.MediaID = bot.KindVideo, m.MediaID
	case message.MsgTypeLocation:
		in.Text = m.Label
	case message.MsgTypeLink:
		in.Text = m.URL
	case message.MsgTypeEvent:
		in.MsgID = 0
		in.Event = string(m.Event)
		in.EventKey = m.EventKey
		if m.Event == message.EventSubscribe {
			// A QR scan by a non-follower arrives as subscribe with
			// "qrscene_<scene>"; by a follower as SCAN with "<scene>".
			in.EventKey = strings.TrimPrefix(m.EventKey, "qrscene_")
		}
	}
	return in
}

// requestID takes a sane X-Request-Id or makes one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 64 && isToken(id) {
		return id
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func isToken(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
