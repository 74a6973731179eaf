package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"unionbot/storage/kv"
)

// Delivery describes how one inbound message arrived, for de-duplication
// within the engine's turn. The edge (package wx) owns WeChat's semantics —
// which deliveries are the same, how long a replay is recognised, the reply
// deadline — and the engine owns the turn: it claims the delivery, takes the
// member's lock and reads the session in one kv round trip (BeginTurn), and
// keeps the reply for retries, saves the session and unlocks in a second
// (EndTurn).
type Delivery struct {
	// StateKey and MarkerKey name the delivery (see kv.Turns). Both must
	// carry the member's openid as a hash tag, like the engine's own keys.
	StateKey  string
	MarkerKey string
	// MarkerTTL is how long a replay is recognised (until the delivery's
	// signature would no longer be accepted).
	MarkerTTL time.Duration
	// ClaimTTL bounds the claim while the owner works; a live owner renews it
	// every ClaimTTL/3 until it settles, so only a dead owner's claim lapses
	// and is taken over by the next retry.
	ClaimTTL time.Duration
	// StateTTL is how long the settled reply is kept for retries.
	StateTTL time.Duration

	// NonceKey, NonceVal and NonceTTL bind a plain-mode timestamp+nonce pair
	// to one body (NonceVal is the body's hash). Empty: no nonce to check.
	// While the check cannot run (the kv store is down) the engine answers
	// only side-effect-free routes.
	NonceKey string
	NonceVal []byte
	NonceTTL time.Duration

	// Ready is called once, as soon as the reply is ready and before it is
	// kept. It reports whether the edge will answer with it (the engine then
	// keeps it for retries) or push it itself because its deadline passed
	// (the engine then keeps a "pushed" note, and retries answer nothing).
	// Nil means the caller answers synchronously.
	Ready func(Reply) bool
}

// DupState says how a turn's result relates to earlier arrivals of its
// delivery.
type DupState int

const (
	// Fresh: this arrival handled the delivery; Result.Reply is its answer.
	Fresh DupState = iota
	// DupReply: an earlier arrival answered; Result.Reply is its reply
	// (empty when it had nothing to say).
	DupReply
	// DupPushed: the earlier arrival's reply went, or goes, out as a
	// customer-service message; answer nothing.
	DupPushed
	// DupPending: an earlier arrival is still working on it.
	DupPending
	// DupGone (Peek only): the delivery's state vanished while waiting — its
	// owner died, or its reply expired; call Turn again, which takes over or
	// reports DupReplay.
	DupGone
	// DupReplay: the delivery was settled long ago; answer nothing.
	DupReplay
)

// Result is what one turn produced.
type Result struct {
	Reply Reply
	Dup   DupState
}

// ErrNonceReused: a plain-mode timestamp+nonce pair arrived with another
// body than the first time — a captured signature carrying a forged message.
// The edge answers 403.
var ErrNonceReused = errors.New("bot: timestamp and nonce already used with another body")

// Kept states (the settled value of a delivery's state key).
const (
	keptPushed = 'a' // the reply was pushed by the edge
	keptReply  = 'r' // 'r' + the (sealed) JSON of the Reply
)

// keptState is the settled value of a delivery: the sealed reply when the
// edge answers with it, or a short note when the edge pushes it.
func (b *Bot) keptState(rep Reply, sync bool) ([]byte, error) {
	if !sync {
		return []byte{keptPushed}, nil
	}
	js, err := json.Marshal(rep)
	if err != nil {
		return nil, fmt.Errorf("keep reply: %w", err)
	}
	if b.sealer != nil {
		sealed, err := b.sealer.Encrypt(string(js))
		if err != nil {
			return nil, fmt.Errorf("keep reply: %w", err)
		}
		js = []byte(sealed)
	}
	return append([]byte{keptReply}, js...), nil
}

// resultOf reads a delivery's state value as another arrival sees it.
func (b *Bot) resultOf(state []byte) (Result, error) {
	switch {
	case string(state) == kv.ClaimValue:
		return Result{Dup: DupPending}, nil
	case len(state) == 1 && state[0] == keptPushed:
		return Result{Dup: DupPushed}, nil
	case len(state) > 0 && state[0] == keptReply:
		js := state[1:]
		if b.sealer != nil {
			plain, err := b.sealer.Decrypt(string(js))
			if err != nil {
				return Result{Dup: DupPushed}, fmt.Errorf("open kept reply: %w", err)
			}
			js = []byte(plain)
		}
		var rep Reply
		if err := json.Unmarshal(js, &rep); err != nil {
			return Result{Dup: DupPushed}, fmt.Errorf("decode kept reply: %w", err)
		}
		return Result{Reply: rep, Dup: DupReply}, nil
	}
	return Result{Dup: DupPushed}, fmt.Errorf("unknown delivery state %q", state)
}

// Peek reads the state of in's delivery, claimed by another arrival: one kv
// read, for an edge waiting for that arrival's reply. An unreadable state
// reads as DupPushed (answer nothing) with the error.
func (b *Bot) Peek(ctx context.Context, in Input) (Result, error) {
	d := in.Delivery
	if d == nil {
		return Result{}, errors.New("bot: Peek needs a Delivery")
	}
	v, err := b.store.Get(ctx, d.StateKey)
	if errors.Is(err, kv.ErrNotFound) {
		return Result{Dup: DupGone}, nil
	}
	if err != nil {
		return Result{Dup: DupPending}, fmt.Errorf("peek delivery: %w", err)
	}
	return b.resultOf(v)
}

// claimKeeper renews a delivery's claim while its owner works, with a timer
// rather than a goroutine per message: most turns end long before the first
// renewal. RenewClaim only extends a claim still in place, so a renewal
// racing EndTurn cannot undo the settled state.
type claimKeeper struct {
	mu      sync.Mutex
	stopped bool
	timer   *time.Timer
}

func (b *Bot) keepClaim(ctx context.Context, d *Delivery) *claimKeeper {
	k := &claimKeeper{}
	if d == nil || d.ClaimTTL <= 0 {
		k.stopped = true
		return k
	}
	ctx = context.WithoutCancel(ctx)
	every := d.ClaimTTL / 3
	k.mu.Lock()
	defer k.mu.Unlock()
	k.timer = time.AfterFunc(every, func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		if k.stopped {
			return
		}
		rctx, cancel := context.WithTimeout(ctx, every)
		defer cancel()
		if ok, err := b.turns.RenewClaim(rctx, d.StateKey, d.ClaimTTL); err != nil {
			b.logger.WarnContext(ctx, "renew delivery claim", "err", err)
		} else if !ok {
			// Settled or lost: nothing left to renew.
			k.stopped = true
			return
		}
		k.timer.Reset(every)
	})
	return k
}

// stop ends the renewals.
func (k *claimKeeper) stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stopped = true
	if k.timer != nil {
		k.timer.Stop()
	}
}
