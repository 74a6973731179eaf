package wx

import (
	"bytes"
	"context"
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

// Engine runs one delivery's turn. The dialog core (*bot.Bot) implements it:
// it serializes the inputs of one openid, de-duplicates the deliveries
// described by bot.Input.Delivery, keeps the reply for retries and saves the
// session, in two kv round trips.
type Engine interface {
	// Turn handles in, or reports what an earlier arrival of its delivery
	// did (bot.Result.Dup). Errors: bot.ErrNonceReused, kv.ErrFull, others.
	Turn(ctx context.Context, in bot.Input) (bot.Result, error)
	// Peek reads the state of in's delivery while another arrival owns it.
	Peek(ctx context.Context, in bot.Input) (bot.Result, error)
}

// Defaults of CallbackOptions.
const (
	DefaultReplyTimeout  = 4500 * time.Millisecond
	DefaultHandleTimeout = 60 * time.Second
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
	OutcomeReplay       = "replay"        // a delivery settled long ago, sent again: "success"
	OutcomeNonceReused  = "nonce_reused"  // 403: plain mode, a signed timestamp+nonce with another body
	OutcomeOverloaded   = "overloaded"    // 503: the in-process store sheds load
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
	// Pusher sends late replies; default NewSender(WeChat).
	Pusher Pusher
	Logger *slog.Logger
	// ReplyTimeout is how long a callback waits for the engine before it
	// answers "success" and pushes the reply later. Default 4.5 s.
	ReplyTimeout time.Duration
	// HandleTimeout bounds the engine's work, which runs detached from the
	// request. Default 60 s.
	HandleTimeout time.Duration
	// RetryTTL is how long a reply is kept for WeChat's retries (which
	// come within ~15 s). Default 30 s. A replay is recognised longer, for
	// as long as its timestamp is accepted, but answered with nothing.
	RetryTTL time.Duration
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
	retryTTL      time.Duration
	claimTTL      time.Duration
	pusher        Pusher
	logger        *slog.Logger
	replyTimeout  time.Duration
	handleTimeout time.Duration
	now           func() time.Time
	maxBody       int64
	observe       func(string, time.Duration)
	inflight      sync.WaitGroup
}

// NewCallback builds the callback handler. It panics when WeChat or Engine
// is missing (a wiring bug).
func NewCallback(o CallbackOptions) *Callback {
	if o.WeChat == nil || o.Engine == nil {
		panic("wx.NewCallback: WeChat and Engine are required")
	}
	c := &Callback{
		wc:            o.WeChat,
		engine:        o.Engine,
		retryTTL:      o.RetryTTL,
		pusher:        o.Pusher,
		logger:        o.Logger,
		replyTimeout:  o.ReplyTimeout,
		handleTimeout: o.HandleTimeout,
		now:           o.Now,
		maxBody:       o.MaxBody,
		observe:       o.Observe,
	}
	if c.retryTTL <= 0 {
		c.retryTTL = DefaultRetryTTL
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
	// Set after replyTimeout has its default: a claim outlives the reply
	// deadline, and the engine renews it until it settles, so only a dead
	// owner's claim lapses (and the next retry takes the delivery over).
	c.claimTTL = c.replyTimeout + 2*time.Second
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
	w        *trackingWriter
	// delivery is what verifyDelivery established (POST only): the signed
	// timestamp and nonce, whether the body was covered by msg_signature.
	delivery Delivery
}

// ServeHTTP answers one WeChat callback and logs one line for it (request_id,
// open_id, msg_type, event, duration, outcome; never content).
func (c *Callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rq := &request{id: web.RequestIDOf(r), start: time.Now()}
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
	case OutcomeBadSignature, OutcomeBadTimestamp, OutcomePlainRefused, OutcomeNonceReused, OutcomeOverloaded,
		OutcomeTooLarge, OutcomeBadRequest,
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
	rq.w = rw // for a status the engine decides (403 reused nonce, 503 full)
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
	final bool // our own refusal was written: drop what the SDK adds
}

func (t *trackingWriter) WriteHeader(code int) {
	if t.final {
		return
	}
	t.wrote = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	if t.final {
		return len(b), nil
	}
	t.wrote = true
	_, _ = t.ResponseWriter.Write(b)
	return len(b), nil
}

// handle runs inside srv.Serve: describe the delivery, run the engine's turn
// under the reply deadline, and turn its Reply into the SDK's.
func (c *Callback) handle(ctx context.Context, rq *request, m *message.MixMessage) *message.Reply {
	in := toInput(m)
	rq.openID, rq.msgType, rq.event = in.OpenID, string(m.MsgType), in.Event
	rq.msgLog = rq.logger.With("open_id", clip(in.OpenID))
	if rq.msgLog.Enabled(ctx, slog.LevelDebug) {
		rq.msgLog.DebugContext(ctx, "wechat input", "msg_id", in.MsgID, "text_len", len([]rune(in.Text)))
	}
	in.Delivery = c.delivery(rq, m)
	reply := c.process(ctx, rq, in)
	if rq.msgLog.Enabled(ctx, slog.LevelDebug) {
		rq.msgLog.DebugContext(ctx, "wechat reply", "reply_len", len([]rune(reply.Text)))
	}
	if reply.Empty() {
		return nil
	}
	return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText(reply.Text)}
}

// process runs the turn; when another arrival owns the delivery, it waits
// for that arrival's reply until the deadline, and takes the delivery over
// when the owner died before settling it.
func (c *Callback) process(ctx context.Context, rq *request, in bot.Input) bot.Reply {
	for tookOver := false; ; tookOver = true {
		j := c.run(ctx, rq, in)
		switch {
		case j.late: // answered "success"; the reply is pushed
			return bot.Reply{}
		case j.status != 0:
			c.refuse(rq, j)
			return bot.Reply{}
		case j.res.Dup == bot.Fresh:
			switch {
			case j.failed:
				rq.outcome = OutcomeEngineError
			case j.res.Reply.Empty():
				rq.outcome = OutcomeNoReply
			default:
				rq.outcome = OutcomeReply
			}
			return j.res.Reply
		case j.res.Dup != bot.DupPending:
			return c.duplicate(rq, j.res)
		}
		res := c.await(ctx, rq, in)
		if res.Dup != bot.DupGone || tookOver {
			return c.duplicate(rq, res)
		}
		// The owner died mid-message and its claim lapsed: run it here.
	}
}

// duplicate answers an arrival of a delivery that another arrival owns.
func (c *Callback) duplicate(rq *request, res bot.Result) bot.Reply {
	switch res.Dup {
	case bot.DupReply:
		rq.outcome = OutcomeDuplicate
		return res.Reply
	case bot.DupReplay:
		rq.outcome = OutcomeReplay
	default: // still running, or its reply is pushed: "success"
		rq.outcome = OutcomeDupPending
	}
	return bot.Reply{}
}

// refuse answers with the status the turn decided on.
func (c *Callback) refuse(rq *request, j job) {
	rq.outcome = j.outcome
	if rq.w != nil {
		http.Error(rq.w, http.StatusText(j.status), j.status)
		rq.w.final = true // plain mode: the SDK answers "success" to a nil reply
	}
}

// await polls the delivery's state until its owner settles it or the reply
// deadline passes (DupPending).
func (c *Callback) await(ctx context.Context, rq *request, in bot.Input) bot.Result {
	wctx, cancel := context.WithDeadline(ctx, rq.deadline)
	defer cancel()
	delay := 5 * time.Millisecond
	t := time.NewTimer(delay)
	defer t.Stop()
	for {
		select {
		case <-wctx.Done():
			return bot.Result{Dup: bot.DupPending}
		case <-t.C:
		}
		res, err := c.engine.Peek(wctx, in)
		if err != nil && wctx.Err() == nil {
			rq.msgLog.ErrorContext(ctx, "wait for delivery", "err", err)
		}
		if res.Dup != bot.DupPending {
			return res
		}
		t.Reset(delay)
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// Job states: the engine's reply goes either to the waiting request or, once
// the request gave up, out as a pushed message. Exactly one of them wins.
const (
	jobRunning int32 = iota
	jobReplied
	jobLate
)

// job is what one run of the engine gave the request.
type job struct {
	res     bot.Result
	failed  bool   // the engine failed: res.Reply is the busy text
	status  int    // non-zero: answer with this HTTP status instead
	outcome string // the outcome of that status
	late    bool   // the deadline passed: answered "success", reply pushed
}

// run executes the engine's turn detached from the request, waiting until the
// reply deadline. The engine asks (Delivery.Ready) whether the request will
// answer with the reply before it keeps it for retries: if the deadline has
// passed, the reply is pushed instead and retries are answered "success".
func (c *Callback) run(ctx context.Context, rq *request, in bot.Input) job {
	var state atomic.Int32
	d := *in.Delivery // each run has its own Ready
	d.Ready = func(bot.Reply) bool { return state.CompareAndSwap(jobRunning, jobReplied) }
	in.Delivery = &d
	done := make(chan job, 1)
	logger := rq.msgLog
	c.inflight.Add(1)
	go func() {
		defer c.inflight.Done()
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.handleTimeout)
		defer cancel()
		j := c.invoke(hctx, logger, in)
		if state.Load() == jobReplied || state.CompareAndSwap(jobRunning, jobReplied) {
			done <- j
			return
		}
		c.push(hctx, logger, in.OpenID, j)
	}()

	timer := time.NewTimer(time.Until(rq.deadline))
	defer timer.Stop()
	select {
	case j := <-done:
		return j
	case <-timer.C:
		if state.CompareAndSwap(jobRunning, jobLate) {
			rq.outcome = OutcomeAsync
			return job{late: true}
		}
		return <-done // ready just as the deadline hit, and being kept
	}
}

// push sends a late reply as a customer-service message.
func (c *Callback) push(ctx context.Context, logger *slog.Logger, openID string, j job) {
	if j.status != 0 || j.res.Dup != bot.Fresh || j.res.Reply.Empty() {
		logger.InfoContext(ctx, "late reply empty", "outcome", "async_nothing")
		return
	}
	start := time.Now()
	if err := c.pusher.SendText(ctx, openID, j.res.Reply.Text); err != nil {
		logger.ErrorContext(ctx, "push late reply", "err", err, "duration", time.Since(start))
		return
	}
	logger.InfoContext(ctx, "late reply pushed", "duration", time.Since(start))
}

// invoke runs the engine's turn, turning errors and panics into a
// member-facing reply or a status. Errors are logged; content never is.
func (c *Callback) invoke(ctx context.Context, logger *slog.Logger, in bot.Input) (j job) {
	defer func() {
		if p := recover(); p != nil {
			logger.ErrorContext(ctx, "engine panic", "panic", fmt.Sprint(p))
			j = job{res: bot.Result{Reply: bot.ReplyFor(errEnginePanic)}, failed: true}
		}
	}()
	res, err := c.engine.Turn(ctx, in)
	switch {
	case err == nil:
		return job{res: res}
	case errors.Is(err, bot.ErrNonceReused):
		// A signed timestamp+nonce captured from one delivery, carrying
		// another body: a forgery in plain mode.
		return job{status: http.StatusForbidden, outcome: OutcomeNonceReused}
	case errors.Is(err, kv.ErrFull):
		logger.WarnContext(ctx, "store full, shedding load")
		return job{status: http.StatusServiceUnavailable, outcome: OutcomeOverloaded}
	}
	_, isUser := bot.UserMessage(err)
	if !isUser {
		logger.ErrorContext(ctx, "engine", "err", err)
	}
	return job{res: bot.Result{Reply: bot.ReplyFor(err)}, failed: !isUser}
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
