package delivery

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"sync"
	"time"

	"unionbot/storage"
	"unionbot/wx"
)

// Store is what the worker needs of storage; *storage.DB implements it.
type Store interface {
	ClaimOutbox(ctx context.Context, owner string, limit int, lease time.Duration, mass bool) ([]storage.OutboxRow, error)
	CompleteOutbox(ctx context.Context, owner string, results []storage.OutboxResult) error
	ReapExpired(ctx context.Context) (requeued, unknown int64, err error)
	CompleteMass(ctx context.Context, owner string, r storage.OutboxResult, month string, sentTo, overQuota []string) error
	MassQuotaUsed(ctx context.Context, month string, openIDs []string) (map[string]int, error)
	HasSubscribeConsent(ctx context.Context, openID, templateID string) (bool, error)
	UseSubscribeConsent(ctx context.Context, openID, templateID string) error
	OutboxStats(ctx context.Context) (storage.OutboxStats, error)
	MassQuotaTotal(ctx context.Context, month string) (int64, error)
}

var _ Store = (*storage.DB)(nil)

// Sender is the WeChat edge's outbound calls; *wx.Sender implements it. Its
// errors are *wx.APIError for WeChat errcodes, and it refreshes a rejected
// access token once by itself (40001).
type Sender interface {
	SendText(ctx context.Context, openID, text string) error
	SendTemplate(ctx context.Context, m wx.TemplateMessage) (int64, error)
	SendSubscribe(ctx context.Context, m wx.SubscribeMessage) error
	SendMassText(ctx context.Context, openIDs []string, text, clientMsgID string) (wx.MassResult, error)
}

var _ Sender = (*wx.Sender)(nil)

// Seen reads the time of a person's last interaction, which the callback
// writes as Unix seconds under SeenKey in the same round trip as its reply.
// kv.Store implements it.
type Seen interface {
	Get(ctx context.Context, key string) ([]byte, error)
}

// SeenKey is where the callback keeps openID's last interaction; it must stay
// equal to bot.SeenKey (a test checks).
func SeenKey(openID string) string { return "seen:{" + openID + "}" }

// Deps are the worker's collaborators.
type Deps struct {
	Store   Store
	Sender  Sender
	Seen    Seen    // nil: nobody counts as recently seen (no customer-service messages)
	Limiter Limiter // nil: no limit
	Metrics *Metrics
	Logger  *slog.Logger
}

// Options tune the worker; zero values take the defaults.
type Options struct {
	Owner       string        // this worker's lease name; default host-pid-random
	Lanes       int           // claim-send-record loops for personal messages; default 4
	Batch       int           // rows per claim; default 64
	Concurrency int           // sends at once per lane; default 16
	Lease       time.Duration // how long a claim is ours; default 30 s (keep under WeChat's 10-minute template de-duplication)
	Poll        time.Duration // pause when nothing is due; default 250 ms
	IdlePoll    time.Duration // the pause grows, doubling, up to this while nothing keeps being due; default 8 × Poll
	MaxAttempts int           // transient failures before giving up; default 8
	BackoffBase time.Duration // first retry delay; default 2 s, doubling
	BackoffMax  time.Duration // longest retry delay; default 15 min
	StatsEvery  time.Duration // queue figures refresh; default 10 s
	SendTimeout time.Duration // one send, token refresh included; default 15 s
	PublicURL   string        // UNIONBOT_PUBLIC_URL, for template links
	Templates   Templates
	Now         func() time.Time // the clock; default time.Now
}

// Worker sends the outbox. Run one in every replica.
type Worker struct {
	d    Deps
	o    Options
	log  *slog.Logger
	now  func() time.Time
	lane sync.WaitGroup
}

// New returns a worker.
func New(d Deps, o Options) *Worker {
	if o.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		o.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
		if len(o.Owner) > 64 {
			o.Owner = o.Owner[len(o.Owner)-64:]
		}
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Lanes, 4)
	def(&o.Batch, 64)
	def(&o.Concurrency, 16)
	def(&o.MaxAttempts, 8)
	defd(&o.Lease, 30*time.Second)
	defd(&o.Poll, 250*time.Millisecond)
	defd(&o.IdlePoll, 8*o.Poll)
	defd(&o.BackoffBase, 2*time.Second)
	defd(&o.BackoffMax, 15*time.Minute)
	defd(&o.StatsEvery, 10*time.Second)
	defd(&o.SendTimeout, 15*time.Second)
	if o.Templates == nil {
		o.Templates = Templates{}
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{d: d, o: o, log: log.With("worker", o.Owner), now: now}
}

// Owner returns the worker's lease name.
func (w *Worker) Owner() string { return w.o.Owner }

// Run works until ctx ends, then finishes the sends in flight and records
// them (so a clean stop leaves nothing leased), and returns.
func (w *Worker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range w.o.Lanes {
		wg.Go(func() { w.personalLoop(ctx) })
	}
	wg.Go(func() { w.massLoop(ctx) })
	wg.Go(func() { w.housekeeping(ctx) })
	wg.Wait()
	return nil
}

// RunOnce claims and sends one round of due messages (personal and mass)
// and returns how many rows it handled; for tests and tools.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	n, err := w.personalRound(ctx)
	if err != nil {
		return n, err
	}
	m, err := w.massRound(ctx)
	return n + m, err
}

// Reap ends expired leases now (Run does it every third of a lease).
func (w *Worker) Reap(ctx context.Context) error {
	requeued, unknown, err := w.d.Store.ReapExpired(ctx)
	if err != nil {
		return err
	}
	if requeued > 0 || unknown > 0 {
		w.log.WarnContext(ctx, "delivery leases taken over", "requeued", requeued, "unknown", unknown)
	}
	return nil
}

func (w *Worker) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// backoff is a loop's pause between empty rounds: Poll after work, doubling
// up to IdlePoll while rounds keep finding nothing. An idle replica's lanes
// then poll the outbox a few times a second in all instead of sixteen (each
// poll a transaction on the shared database), at the cost of at most
// IdlePoll before a message enqueued into a quiet outbox goes out.
type backoff struct {
	base, max, cur time.Duration
}

// next is the pause after an empty round.
func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.base
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	return b.cur
}

// reset starts over after a round that found work.
func (b *backoff) reset() { b.cur = 0 }

func (w *Worker) personalLoop(ctx context.Context) {
	idle := backoff{base: w.o.Poll, max: w.o.IdlePoll}
	for ctx.Err() == nil {
		n, err := w.personalRound(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.ErrorContext(ctx, "delivery round", "err", err)
		}
		if n > 0 && err == nil {
			idle.reset()
			continue
		}
		w.sleep(ctx, idle.next())
	}
}

// personalRound claims one batch, sends it and records the outcomes. Sends
// and the record run on a context that ctx's end does not cancel, so a stop
// never leaves a sent message unrecorded.
func (w *Worker) personalRound(ctx context.Context) (int, error) {
	rows, err := w.d.Store.ClaimOutbox(ctx, w.o.Owner, w.o.Batch, w.o.Lease, false)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	work := context.WithoutCancel(ctx)
	results := make([]storage.OutboxResult, len(rows))
	sem := make(chan struct{}, w.o.Concurrency)
	var wg sync.WaitGroup
	for i, r := range rows {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			sctx, cancel := context.WithTimeout(work, w.o.SendTimeout)
			defer cancel()
			results[i] = w.deliver(sctx, r)
		})
	}
	wg.Wait()
	return len(rows), w.record(work, func(ctx context.Context) error {
		return w.d.Store.CompleteOutbox(ctx, w.o.Owner, results)
	})
}

// record retries a result write a few times: the sends are done, and a row
// left leased would be sent again after its lease.
func (w *Worker) record(ctx context.Context, fn func(ctx context.Context) error) error {
	var err error
	for attempt := range 5 {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = fn(rctx)
		cancel()
		if err == nil {
			return nil
		}
		w.sleep(ctx, time.Duration(attempt+1)*200*time.Millisecond)
	}
	return fmt.Errorf("record delivery results: %w", err)
}

func closedChannels(names []string) []Channel {
	out := make([]Channel, 0, len(names))
	for _, n := range names {
		out = append(out, Channel(n))
	}
	return out
}

func channelNames(cs []Channel) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, string(c))
	}
	return out
}

// errNoTemplateData: the message lacks a field its template needs.
var errNoTemplateData = errors.New("template data incomplete")

// deliver plans, sends and judges one personal message.
func (w *Worker) deliver(ctx context.Context, row storage.OutboxRow) storage.OutboxResult {
	res := storage.OutboxResult{ID: row.ID}
	closed := closedChannels(row.SkipChannels)
	kt := w.o.Templates[row.Kind]
	sit := Situation{
		Now: w.now(), Kind: row.Kind, Service: row.Service, HasText: row.Content.Text != "",
		HasOpenID: row.OpenID != "", LastSeen: w.lastSeen(ctx, row.OpenID),
	}
	if kt.Subscribe != "" && row.OpenID != "" {
		ok, err := w.d.Store.HasSubscribeConsent(ctx, row.OpenID, kt.Subscribe)
		if err != nil {
			w.log.WarnContext(ctx, "subscribe consent", "open_id", row.OpenID, "err", err)
		}
		sit.SubscribeAccepted = ok
	}
	for {
		sit.Closed = closed
		ch := Plan(sit, w.o.Templates)
		res.Channel, res.SkipChannels = string(ch), channelNames(closed)
		if ch == ChannelUnread {
			res.State = storage.OutboxUnread
			w.d.Metrics.sent(ch)
			return res
		}
		if w.d.Limiter != nil {
			if err := w.d.Limiter.Wait(ctx); err != nil {
				return w.retry(res, row, 0, err)
			}
		}
		err := w.send(ctx, ch, row, kt)
		if err == nil {
			res.State = storage.OutboxSent
			w.d.Metrics.sent(ch)
			if ch == ChannelSubscribe {
				if err := w.d.Store.UseSubscribeConsent(ctx, row.OpenID, kt.Subscribe); err != nil {
					w.log.WarnContext(ctx, "use subscribe consent", "open_id", row.OpenID, "err", err)
				}
			}
			return res
		}
		if errors.Is(err, errNoTemplateData) {
			w.log.WarnContext(ctx, "template data incomplete", "kind", row.Kind, "key", row.Key, "err", err)
			closed = append(closed, ch)
			continue
		}
		var ae *wx.APIError
		if !errors.As(err, &ae) {
			w.d.Metrics.failed(0)
			return w.retry(res, row, 0, err)
		}
		w.d.Metrics.failed(int(ae.Code))
		switch {
		case ae.NextChannel():
			closed = append(closed, ch) // never again on this channel
			continue
		case ae.Permanent():
			res.State, res.ErrCode, res.ErrMsg = storage.OutboxFailed, int(ae.Code), ae.Msg
			return res
		case ae.Transient(), ae.TokenExpired():
			return w.retry(res, row, int(ae.Code), err)
		}
		// An errcode we do not know: record it rather than loop on it.
		res.State, res.ErrCode, res.ErrMsg = storage.OutboxFailed, int(ae.Code), ae.Msg
		return res
	}
}

func (w *Worker) send(ctx context.Context, ch Channel, row storage.OutboxRow, kt KindTemplates) error {
	switch ch {
	case ChannelCustom:
		return w.d.Sender.SendText(ctx, row.OpenID, row.Content.Text)
	case ChannelTemplate:
		data, err := TemplateData(kt.Fields, row.Content.Fields)
		if err != nil {
			return fmt.Errorf("%w: %v", errNoTemplateData, err)
		}
		_, err = w.d.Sender.SendTemplate(ctx, wx.TemplateMessage{
			ToUser: row.OpenID, TemplateID: kt.Template, URL: Link(w.o.PublicURL, row.Content.Link), Data: data,
			// WeChat drops a second template with the same id for 10
			// minutes: a row re-sent after its worker died is not
			// delivered twice.
			ClientMsgID: clientMsgID(row.Key),
		})
		return err
	case ChannelSubscribe:
		data, err := TemplateData(kt.SubscribeFields, row.Content.Fields)
		if err != nil {
			return fmt.Errorf("%w: %v", errNoTemplateData, err)
		}
		return w.d.Sender.SendSubscribe(ctx, wx.SubscribeMessage{
			ToUser: row.OpenID, TemplateID: kt.Subscribe, Page: Link(w.o.PublicURL, row.Content.Link), Data: data,
		})
	}
	return fmt.Errorf("send: unknown channel %q", ch)
}

// clientMsgID is the de-duplication id WeChat gets for a message: a hash of
// its outbox key (keys may be longer than WeChat allows).
func clientMsgID(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:16])
}

// lastSeen reads the recipient's last interaction; unknown is the zero time,
// which keeps customer-service messages out (the next channel is safe).
func (w *Worker) lastSeen(ctx context.Context, openID string) time.Time {
	if w.d.Seen == nil || openID == "" {
		return time.Time{}
	}
	v, err := w.d.Seen.Get(ctx, SeenKey(openID))
	if err != nil {
		return time.Time{}
	}
	sec, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

// retry puts the row back to pending after an exponential back-off with
// jitter, or fails it after MaxAttempts.
func (w *Worker) retry(res storage.OutboxResult, row storage.OutboxRow, code int, err error) storage.OutboxResult {
	res.ErrCode, res.ErrMsg = code, err.Error()
	if row.Attempts >= w.o.MaxAttempts {
		res.State = storage.OutboxFailed
		return res
	}
	res.State = storage.OutboxPending
	res.NextAt = w.now().Add(w.backoff(row.Attempts))
	return res
}

// backoff is base·2^(attempt-1), capped, with "equal jitter": between half
// and all of it, so retries of many rows spread out.
func (w *Worker) backoff(attempt int) time.Duration {
	d := float64(w.o.BackoffBase) * math.Pow(2, float64(max(attempt, 1)-1))
	d = min(d, float64(w.o.BackoffMax))
	return time.Duration(d/2 + mrand.Float64()*d/2)
}

// ---- mass sending ----

func (w *Worker) massLoop(ctx context.Context) {
	idle := backoff{base: w.o.Poll, max: w.o.IdlePoll}
	for ctx.Err() == nil {
		n, err := w.massRound(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.ErrorContext(ctx, "mass round", "err", err)
		}
		if n > 0 && err == nil {
			idle.reset()
			continue
		}
		w.sleep(ctx, idle.next())
	}
}

// shanghai is where WeChat's months turn.
var shanghai = time.FixedZone("CST", 8*3600)

// Month is the quota month of t ("2026-03"), in China's time.
func Month(t time.Time) string { return t.In(shanghai).Format("2006-01") }

// massRound sends one mass batch: followers who already had their monthly
// quota are left out and listed with the batch; a send whose outcome is
// unknown (no answer) is recorded as unknown, never sent again.
func (w *Worker) massRound(ctx context.Context) (int, error) {
	rows, err := w.d.Store.ClaimOutbox(ctx, w.o.Owner, 1, w.o.Lease, true)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	row := rows[0]
	work := context.WithoutCancel(ctx)
	month := Month(w.now())
	res := storage.OutboxResult{ID: row.ID, Channel: string(ChannelMass)}
	used, err := w.d.Store.MassQuotaUsed(work, month, row.Content.OpenIDs)
	if err != nil {
		res = w.retry(res, row, 0, err)
		return 1, w.record(work, func(ctx context.Context) error {
			return w.d.Store.CompleteMass(ctx, w.o.Owner, res, month, nil, nil)
		})
	}
	to := make([]string, 0, len(row.Content.OpenIDs))
	var over []string
	for _, o := range row.Content.OpenIDs {
		if used[o] >= storage.MassMonthlyQuota {
			over = append(over, o)
			continue
		}
		to = append(to, o)
	}
	if w.d.Metrics != nil {
		w.d.Metrics.overQuota.Add(float64(len(over)))
	}
	if len(over) > 0 {
		w.log.InfoContext(ctx, "mass batch: followers over the monthly quota left out", "key", row.Key, "over_quota", len(over))
	}
	var sentTo []string
	switch {
	case len(to) == 0:
		res.State = storage.OutboxSent
	case w.d.Limiter != nil && w.d.Limiter.Wait(ctx) != nil:
		res = w.retry(res, row, 0, ctx.Err())
	default:
		sctx, cancel := context.WithTimeout(work, w.o.SendTimeout)
		mr, err := w.d.Sender.SendMassText(sctx, to, row.Content.Text, clientMsgID(row.Key))
		cancel()
		res, sentTo = w.judgeMass(res, row, to, mr, err)
	}
	return 1, w.record(work, func(ctx context.Context) error {
		return w.d.Store.CompleteMass(ctx, w.o.Owner, res, month, sentTo, over)
	})
}

func (w *Worker) judgeMass(res storage.OutboxResult, row storage.OutboxRow, to []string, mr wx.MassResult, err error) (storage.OutboxResult, []string) {
	if err == nil {
		res.State, res.WxMsgID = storage.OutboxSent, mr.MsgID
		w.d.Metrics.sent(ChannelMass)
		return res, to
	}
	var ae *wx.APIError
	if !errors.As(err, &ae) {
		// No answer: WeChat may have started the job. Sending again could
		// reach everyone twice, so the batch is unknown (counted, shown).
		w.d.Metrics.failed(0)
		res.State, res.ErrMsg = storage.OutboxUnknown, err.Error()
		return res, nil
	}
	w.d.Metrics.failed(int(ae.Code))
	switch {
	case ae.Code == 45065: // a job with our clientmsgid exists: it went out before
		res.State, res.ErrCode, res.ErrMsg = storage.OutboxSent, int(ae.Code), ae.Msg
	case ae.Transient() || ae.TokenExpired():
		res = w.retry(res, row, int(ae.Code), err)
	default:
		res.State, res.ErrCode, res.ErrMsg = storage.OutboxFailed, int(ae.Code), ae.Msg
	}
	return res, nil
}

// ---- housekeeping ----

func (w *Worker) housekeeping(ctx context.Context) {
	reap := time.NewTicker(max(w.o.Lease/3, time.Second))
	defer reap.Stop()
	stats := time.NewTicker(w.o.StatsEvery)
	defer stats.Stop()
	w.refreshStats(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-reap.C:
			if err := w.Reap(ctx); err != nil && ctx.Err() == nil {
				w.log.ErrorContext(ctx, "reap leases", "err", err)
			}
		case <-stats.C:
			w.refreshStats(ctx)
		}
	}
}

func (w *Worker) refreshStats(ctx context.Context) {
	m := w.d.Metrics
	if m == nil {
		return
	}
	st, err := w.d.Store.OutboxStats(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.log.WarnContext(ctx, "outbox stats", "err", err)
		}
		return
	}
	m.depth.Reset()
	for kind, n := range st.Depth {
		m.depth.WithLabelValues(kind).Set(float64(n))
	}
	m.unknown.Set(float64(st.Unknown))
	if st.OldestPending.IsZero() {
		m.oldest.Set(0)
	} else {
		m.oldest.Set(max(0, w.now().Sub(st.OldestPending).Seconds()))
	}
	if n, err := w.d.Store.MassQuotaTotal(ctx, Month(w.now())); err == nil {
		m.quotaUsed.Set(float64(n))
	}
}
