package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"time"

	"unionbot/storage/kv"
)

// Bot is the conversation core behind the callback. One input is one turn of
// two kv round trips: BeginTurn claims the delivery, takes the member's lock
// and reads the member's hot-path state; EndTurn keeps the reply for WeChat's
// retries, writes what the turn changed and unlocks. It is transport-free, so
// tests and the load tool can drive it directly.
type Bot struct {
	store    kv.Store
	turns    kv.Turns
	sessions *Sessions
	sealer   Sealer
	router   *Router
	forms    OpenForms
	logger   *slog.Logger
	lockTTL  time.Duration
	now      func() time.Time
}

// OpenForms is the durable note of the form each member has open (a row per
// member, written when a form starts or ends, not on every message). A form
// lives in the session, which the kv store may lose (a Redis restart without
// persistence, a restart of the embedded process); the note lets the engine
// tell the member so. *storage.DB implements it.
type OpenForms interface {
	OpenForm(ctx context.Context, openID, form string, at time.Time) error
	CloseForm(ctx context.Context, openID string) error
	// TakeOpenForm returns and removes the note; ok is false when there was
	// none (or another replica took it first).
	TakeOpenForm(ctx context.Context, openID string) (form string, ok bool, err error)
}

// DurableProbe is implemented by an OpenForms that can also tell, in one
// read, whether a member has a draft or an open-form note at all. A member's
// first message in days (after a broadcast: most of the traffic) then costs
// one query instead of the draft's and the note's.
type DurableProbe interface {
	HasDurableState(ctx context.Context, openID string) (bool, error)
}

// Deps are what a Bot needs.
type Deps struct {
	// Store must also implement kv.Turns (both backends do).
	Store      kv.Store
	Router     *Router
	Logger     *slog.Logger
	SessionTTL time.Duration
	// Sealer encrypts sessions and kept replies at rest (nil: plain JSON).
	Sealer Sealer
	// LockTTL bounds how long a crashed replica can hold a member's lock.
	LockTTL time.Duration
	// Forms, when set, notes open forms durably so a lost one is announced.
	Forms OpenForms
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// SeenTTL is how long the time of a member's last message is kept: WeChat
// allows customer-service messages for 48 hours after it.
const SeenTTL = 49 * time.Hour

// endTurnTimeout bounds EndTurn, which runs even when the turn's own context
// is spent: the reply, the session and the unlock must not be dropped.
const endTurnTimeout = 3 * time.Second

// New builds a Bot. It panics when Store does not implement kv.Turns.
func New(d Deps) *Bot {
	turns, ok := d.Store.(kv.Turns)
	if !ok {
		panic(fmt.Sprintf("bot.New: %T does not implement kv.Turns", d.Store))
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.LockTTL <= 0 {
		d.LockTTL = 30 * time.Second
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	ss := NewSessions(d.Store, d.SessionTTL, d.Sealer)
	ss.now = d.Now
	if d.Router != nil && d.Router.now == nil {
		d.Router.now = d.Now // one clock for session times and form idleness
	}
	return &Bot{
		store:    d.Store,
		turns:    turns,
		sessions: ss,
		sealer:   d.Sealer,
		router:   d.Router,
		forms:    d.Forms,
		logger:   d.Logger,
		lockTTL:  d.LockTTL,
		now:      d.Now,
	}
}

// Handle answers one input (see Turn); for callers that need only the reply.
func (b *Bot) Handle(ctx context.Context, in Input) (Reply, error) {
	res, err := b.Turn(ctx, in)
	return res.Reply, err
}

// The reads of BeginTurn, in order: the member's hot-path state, read in the
// same round trip that takes the lock. To add one (hand-off mode, unread
// notices, …): add its index here and its key in turnReads (with the
// "{openid}" hash tag, like SeenKey), decode it from the values in Turn, and
// when the turn changes it, append its kv.Write in endWrites — both round
// trips stay one each.
const (
	readSession = iota
	readSeen
	numReads
)

func turnReads(openID string) []string {
	keys := make([]string, numReads)
	keys[readSession] = SessionKey(openID)
	keys[readSeen] = SeenKey(openID)
	return keys
}

// Turn answers one input. Messages of one openid are handled one at a time
// across all replicas (the member's lock), so two quick messages cannot both
// read the same session and overwrite each other's answers; with a Delivery,
// arrivals of one delivery get one side effect and the same reply.
//
// Errors: ErrNonceReused (a forged plain-mode delivery), kv.ErrFull (the
// in-process store sheds load), or a kv failure after the turn began. When
// BeginTurn itself fails (the store is down) the input is answered without
// state if its route is side-effect free, and with the busy text otherwise.
func (b *Bot) Turn(ctx context.Context, in Input) (Result, error) {
	d := in.Delivery
	token := newToken()
	args := kv.BeginTurnArgs{
		LockKey: lockKey(in.OpenID), LockToken: token, LockTTL: b.lockTTL,
		Reads: turnReads(in.OpenID),
	}
	if d != nil {
		args.NonceKey, args.NonceVal, args.NonceTTL = d.NonceKey, d.NonceVal, d.NonceTTL
		args.MarkerKey, args.MarkerTTL = d.MarkerKey, d.MarkerTTL
		args.StateKey, args.ClaimTTL = d.StateKey, d.ClaimTTL
	}
	start, err := b.turns.BeginTurn(ctx, args)
	switch {
	case errors.Is(err, kv.ErrFull):
		return Result{}, err
	case err != nil:
		return b.stateless(ctx, in, err), nil
	case start.NonceReused:
		return Result{}, ErrNonceReused
	case start.Dup == kv.DupExpired:
		return Result{Dup: DupReplay}, nil
	case start.Dup == kv.DupFound:
		res, err := b.resultOf(start.State)
		if err != nil {
			b.logger.ErrorContext(ctx, "kept reply unreadable", "open_id", in.OpenID, "err", err)
		}
		return res, nil
	}
	if start.TakenOver {
		b.logger.WarnContext(ctx, "delivery claim abandoned, taking over", "open_id", in.OpenID)
	}
	keeper := b.keepClaim(ctx, d)
	defer keeper.stop()
	values := start.Values
	if !start.Locked {
		// Another message of the member is being handled: wait for it (more
		// round trips, only under contention).
		if err := b.turns.AcquireLock(ctx, args.LockKey, token, b.lockTTL); err != nil {
			return Result{}, fmt.Errorf("lock conversation: %w", err)
		}
		if values, err = b.turns.GetMany(ctx, args.Reads...); err != nil {
			b.endTurn(ctx, in, kv.EndTurnArgs{LockKey: args.LockKey, LockToken: token})
			return Result{}, fmt.Errorf("read conversation: %w", err)
		}
	}
	if len(values) != numReads {
		values = make([][]byte, numReads)
	}

	rep, s, before := b.converse(ctx, in, values)

	end := kv.EndTurnArgs{LockKey: args.LockKey, LockToken: token}
	end.Writes = b.endWrites(ctx, s)
	if d != nil {
		keeper.stop()
		sync := d.Ready == nil || d.Ready(rep)
		state, err := b.keptState(rep, sync)
		if err != nil {
			b.logger.ErrorContext(ctx, "keep reply", "open_id", in.OpenID, "err", err)
			state = []byte{keptPushed} // retries answer nothing rather than fail
		}
		end.MarkerKey, end.StateKey, end.State, end.StateTTL = d.MarkerKey, d.StateKey, state, d.StateTTL
	}
	b.endTurn(ctx, in, end)
	b.noteForm(ctx, in.OpenID, before, s.Form)
	return Result{Reply: rep}, nil
}

// converse routes one input on the member's state; it returns the reply, the
// session after it, and the form open before it.
func (b *Bot) converse(ctx context.Context, in Input, values [][]byte) (Reply, Session, string) {
	// The lock expires after lockTTL even if we still hold it (so a crashed
	// replica cannot block a member); stop our own work before that, so two
	// handlers never run for one member at once.
	ctx, cancel := context.WithTimeout(ctx, b.lockTTL-b.lockTTL/10)
	defer cancel()
	s := b.sessions.decode(in.OpenID, values[readSession])
	before := s.Form
	if values[readSession] == nil && values[readSeen] == nil && b.mayHaveDurableState(ctx, in.OpenID) {
		// Neither a session nor a message in the last 49 hours: a member
		// back after a long pause, a new one, or a kv store that lost its
		// data. Only then are the drafts of durable forms and the durable
		// note of an open form consulted.
		if rep, ok := b.router.RestoreDraft(ctx, &s); ok {
			return rep, s, before
		}
		if rep, ok := b.lostForm(ctx, in.OpenID); ok {
			return rep, s, before
		}
	}
	rep, err := b.route(ctx, &s, in)
	if err != nil {
		b.logger.ErrorContext(ctx, "handle message", "open_id", in.OpenID, "err", err)
		rep = ReplyFor(err)
	}
	return rep, s, before
}

// mayHaveDurableState is false only when the probe says openID has neither a
// draft nor an open-form note. The probe answers for the router's drafts only
// when both live in the same store.
func (b *Bot) mayHaveDurableState(ctx context.Context, openID string) bool {
	p, ok := b.forms.(DurableProbe)
	if !ok || (b.router.drafts != nil && any(b.router.drafts) != any(b.forms)) {
		return true
	}
	has, err := p.HasDurableState(ctx, openID)
	if err != nil {
		b.logger.WarnContext(ctx, "durable state probe", "open_id", openID, "err", err)
		return true
	}
	return has
}

// route runs the router, turning a handler's panic into an error so that the
// turn still ends (the lock released, the busy text kept for retries).
func (b *Bot) route(ctx context.Context, s *Session, in Input) (rep Reply, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panic: %v", p)
		}
	}()
	return b.router.Route(ctx, s, in)
}

// endWrites are the kv writes of a turn: the session when it changed, and
// the time of the member's last message.
func (b *Bot) endWrites(ctx context.Context, s Session) []kv.Write {
	ws := make([]kv.Write, 0, 2)
	if w, ok, err := b.sessions.write(s); err != nil {
		// The work is done (a bind, a submission): answering "busy" now would
		// invite the member to do it again. Say what happened; at worst the
		// conversation resumes from the previous step.
		b.logger.ErrorContext(ctx, "save session", "open_id", s.OpenID, "err", err)
	} else if ok {
		if keep := b.router.SessionKeep(&s); w.Val != nil && keep > w.TTL {
			w.TTL = keep // a durable form outlives the session TTL
		}
		ws = append(ws, w)
	}
	seen := strconv.AppendInt(nil, b.now().Unix(), 10)
	return append(ws, kv.Write{Key: SeenKey(s.OpenID), Val: seen, TTL: SeenTTL})
}

// endTurn runs EndTurn even when ctx is spent.
func (b *Bot) endTurn(ctx context.Context, in Input, a kv.EndTurnArgs) {
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), endTurnTimeout)
	defer cancel()
	if err := b.turns.EndTurn(ectx, a); err != nil {
		// The member still gets the reply; the lock and the claim expire on
		// their own.
		b.logger.ErrorContext(ctx, "end turn", "open_id", in.OpenID, "err", err)
	}
}

// stateless answers when BeginTurn failed: no session, no lock, no
// de-duplication and no verified nonce, so only side-effect-free routes.
func (b *Bot) stateless(ctx context.Context, in Input, cause error) Result {
	b.logger.ErrorContext(ctx, "begin turn", "open_id", in.OpenID, "err", cause)
	if rep, ok := b.router.RouteStateless(ctx, in); ok {
		return Result{Reply: rep}
	}
	return Result{Reply: ReplyFor(cause)}
}

// noteForm keeps the durable note of the member's open form in step with the
// session: written when a form starts (or another replaces it), removed when
// it ends. A failure is logged; the note only serves the lost-form notice.
func (b *Bot) noteForm(ctx context.Context, openID, before, after string) {
	if b.forms == nil || before == after {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), endTurnTimeout)
	defer cancel()
	var err error
	if after != "" {
		err = b.forms.OpenForm(ctx, openID, after, b.now())
	} else {
		err = b.forms.CloseForm(ctx, openID)
	}
	if err != nil {
		b.logger.WarnContext(ctx, "note open form", "open_id", openID, "err", err)
	}
}

// lostForm tells the member that the form they had open is gone, when the
// durable note says there was one.
func (b *Bot) lostForm(ctx context.Context, openID string) (Reply, bool) {
	if b.forms == nil {
		return Reply{}, false
	}
	name, ok, err := b.forms.TakeOpenForm(ctx, openID)
	if err != nil {
		b.logger.WarnContext(ctx, "open form note", "open_id", openID, "err", err)
		return Reply{}, false
	}
	f := b.router.forms[name]
	if !ok || f == nil {
		return Reply{}, false
	}
	return Text(fmt.Sprintf(msgFormLost, f.Title, b.router.keywordOf(name))), true
}

// keywordOf is the shortest keyword of an intent (what to tell a member to
// type), or its name.
func (r *Router) keywordOf(name string) string {
	var ks []string
	for k, n := range r.keywords {
		if n == name {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		return name
	}
	sort.Slice(ks, func(i, j int) bool {
		if len(ks[i]) != len(ks[j]) {
			return len(ks[i]) < len(ks[j])
		}
		return ks[i] < ks[j]
	})
	return ks[0]
}

// newToken is a lock token unique across replicas.
func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
