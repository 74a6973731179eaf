// Package kv is short-lived shared state: conversation sessions, WeChat
// de-duplication keys, per-openid locks, counters for rate limits and lockouts,
// and the access token. Two implementations satisfy one contract: Redis (shared
// by every replica) and an in-process map with TTLs (one process, local mode).
package kv

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is returned by Get when the key does not exist or has expired.
var ErrNotFound = errors.New("kv: key not found")

// ErrLockTimeout is returned by Lock when ctx ends before the lock is acquired.
var ErrLockTimeout = errors.New("kv: lock not acquired")

// ErrFull is returned when the in-process store has reached its bounds and
// sheds load instead of growing: BeginTurn refuses new deliveries, and other
// writes fail once the byte budget's headroom is used up. The callback
// answers 503; WeChat retries later. Redis never returns it (its own
// maxmemory policy applies there).
var ErrFull = errors.New("kv: store full")

// Store is the contract both backends implement. Keys are plain strings; each
// implementation may add its own namespace prefix. A ttl of 0 means no expiry.
type Store interface {
	// Get returns the value or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores val under key, replacing any value, with the given ttl.
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	// SetNX stores val only when key does not exist; it reports whether it did.
	SetNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Incr adds 1 to the integer at key and returns the new value. When the key
	// is created by this call it gets ttl; an existing key keeps its expiry.
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	// TTL returns the remaining time to live of key, or ErrNotFound.
	TTL(ctx context.Context, key string) (time.Duration, error)
	// Lock blocks until it holds the exclusive lock named key, or ctx ends
	// (ErrLockTimeout wrapping ctx.Err()). The lock expires after ttl even if
	// unlock is never called, so a crashed holder cannot block others forever.
	// unlock releases the lock only if it is still held by this caller.
	Lock(ctx context.Context, key string, ttl time.Duration) (unlock func(), err error)
	// Ping reports whether the backend is reachable.
	Ping(ctx context.Context) error
}

// The hot path of one inbound WeChat message costs two round trips: BeginTurn
// (the plain-mode nonce check, the delivery's de-duplication claim, the
// member's lock and the reads the conversation needs) and EndTurn (the reply
// kept for WeChat's retries, the writes the conversation made, the unlock).
// On Redis each is one script; every key of a turn (Reads and Writes
// included) must carry the member's openid as a hash tag ("{openid}") so that
// Redis Cluster keeps them in one slot. The nonce key is the exception (it is
// named by timestamp and nonce): on a Cluster it is checked by a separate
// command, so plain mode costs a third round trip there; safe mode, the
// production setting, needs no nonce.
//
// De-duplication keeps two keys per delivery:
//
//   - the marker (MarkerKey) lives MarkerTTL, until the delivery's timestamp
//     has left the signature window, so a replay is recognised for as long as
//     its signature would be accepted. It says whether the delivery is still
//     being handled ("p") or was settled ("s").
//   - the state (StateKey) holds ClaimValue while the owner works (ClaimTTL,
//     renewed by a live owner with RenewClaim), then the settled value the
//     caller gives (the sealed reply, or an "async" note) for StateTTL, which
//     covers WeChat's retries only; after that a replay finds the marker alone
//     and gets an empty answer.
//
// A marker still "p" with no state means the owner died mid-message: the next
// arrival takes the delivery over.
//
// The marker and the nonce key belong to BeginTurn and EndTurn: read or write
// them with nothing else. (Memory keeps them as 64-bit hashes in compact
// expiry-bucketed sets, invisible to Get, and may keep them up to its marker
// granularity longer than asked; Redis keeps them as ordinary keys.) The
// state, lock, Reads and Writes keys are ordinary keys.

// ClaimValue is what StateKey holds while the delivery's owner works on it.
const ClaimValue = "p"

// DupState is what BeginTurn found of an earlier arrival of the delivery.
type DupState int

const (
	// DupNone: this arrival owns the delivery (first arrival, or a takeover
	// from a dead owner — see TurnStart.TakenOver), or no MarkerKey was given.
	DupNone DupState = iota
	// DupFound: an earlier arrival owns it; TurnStart.State holds the state
	// key's value (ClaimValue while it works, then the settled value).
	DupFound
	// DupExpired: the delivery was settled so long ago that its state is
	// gone; a replay, answered with nothing.
	DupExpired
)

// BeginTurnArgs names the keys of one message's first round trip. Empty
// names skip their part. TTLs of the parts given must be positive.
type BeginTurnArgs struct {
	// NonceKey/NonceVal bind a plain-mode timestamp+nonce pair to one body
	// (NonceVal is the body's hash) for NonceTTL: the first call records the
	// pair, a later call with the same NonceVal goes on, one with another
	// NonceVal gets NonceReused.
	NonceKey string
	NonceVal []byte
	NonceTTL time.Duration

	// MarkerKey and StateKey go together (both or neither).
	MarkerKey string
	MarkerTTL time.Duration
	StateKey  string
	ClaimTTL  time.Duration

	// LockKey is taken with LockToken for LockTTL when it is free. It names
	// a lock as Store.Lock does (both store it under "lock:"+LockKey), so
	// Lock(k) and a turn lock on k exclude each other.
	LockKey   string
	LockToken string
	LockTTL   time.Duration
	// Reads are read once the lock is held (session, last interaction, …),
	// or unconditionally when no LockKey is given.
	Reads []string
}

// TurnStart is what BeginTurn found. The parts run in order — nonce,
// de-duplication, lock, reads — and each stops the rest when it says no.
type TurnStart struct {
	// NonceReused: the pair was seen with another body. Nothing else was done.
	NonceReused bool
	// Dup other than DupNone: this arrival does not own the delivery; the
	// lock was not taken and Reads were not read.
	Dup DupState
	// State is the state key's value when Dup is DupFound.
	State []byte
	// TakenOver: the delivery was claimed after its first owner died.
	TakenOver bool
	// Locked: the lock was free and is now held with LockToken. When false
	// (another message of the member is being handled), Reads were not read:
	// the caller waits with AcquireLock and reads with GetMany.
	Locked bool
	// Values are the Reads, in order; nil where a key is missing (a present
	// empty value is non-nil). Values itself is nil when Reads were not read.
	Values [][]byte
}

// Write is one key written by EndTurn: Val nil deletes the key; TTL 0 means
// no expiry.
type Write struct {
	Key string
	Val []byte
	TTL time.Duration
}

// EndTurnArgs names the keys of one message's second round trip.
type EndTurnArgs struct {
	// State settles the delivery: written to StateKey (for StateTTL) only
	// while StateKey still holds ClaimValue — or is gone while the marker is
	// still "p", a claim that lapsed with nobody taking over — and then the
	// marker turns "s" (keeping its TTL). A state another owner settled is
	// never overwritten. nil leaves both alone.
	MarkerKey string
	StateKey  string
	State     []byte
	StateTTL  time.Duration

	// Writes are applied in order, whether or not the lock is still held.
	Writes []Write

	// LockKey is released when it still holds LockToken.
	LockKey   string
	LockToken string
}

// Turns is the two-round-trip hot path; both backends implement it.
type Turns interface {
	BeginTurn(ctx context.Context, a BeginTurnArgs) (TurnStart, error)
	EndTurn(ctx context.Context, a EndTurnArgs) error
	// RenewClaim extends the claim on stateKey by ttl while it still holds
	// ClaimValue, and reports whether it did.
	RenewClaim(ctx context.Context, stateKey string, ttl time.Duration) (bool, error)
	// AcquireLock blocks until it holds key (named as in BeginTurnArgs.LockKey)
	// with token for ttl, or ctx ends (ErrLockTimeout wrapping ctx.Err()).
	AcquireLock(ctx context.Context, key, token string, ttl time.Duration) error
	// GetMany reads keys in one round trip (all in one hash slot); nil where
	// a key is missing.
	GetMany(ctx context.Context, keys ...string) ([][]byte, error)
}

// errTurnArgs reports a malformed BeginTurnArgs or EndTurnArgs: a
// programming error, not a store failure.
var errTurnArgs = errors.New("kv: invalid turn arguments")

func (a *BeginTurnArgs) validate() error {
	switch {
	case a.NonceKey != "" && a.NonceTTL <= 0:
		return fmt.Errorf("%w: NonceTTL must be positive", errTurnArgs)
	case (a.MarkerKey == "") != (a.StateKey == ""):
		return fmt.Errorf("%w: MarkerKey and StateKey go together", errTurnArgs)
	case a.MarkerKey != "" && (a.MarkerTTL <= 0 || a.ClaimTTL <= 0):
		return fmt.Errorf("%w: MarkerTTL and ClaimTTL must be positive", errTurnArgs)
	case a.LockKey != "" && (a.LockTTL <= 0 || a.LockToken == ""):
		return fmt.Errorf("%w: a lock needs a positive LockTTL and a LockToken", errTurnArgs)
	}
	return nil
}

func (a *EndTurnArgs) validate() error {
	switch {
	case a.State != nil && (a.MarkerKey == "" || a.StateKey == ""):
		return fmt.Errorf("%w: State needs MarkerKey and StateKey", errTurnArgs)
	case a.State != nil && a.StateTTL <= 0:
		return fmt.Errorf("%w: StateTTL must be positive", errTurnArgs)
	case a.LockKey != "" && a.LockToken == "":
		return fmt.Errorf("%w: LockKey needs its LockToken", errTurnArgs)
	}
	for _, w := range a.Writes {
		if w.Key == "" {
			return fmt.Errorf("%w: a Write without Key", errTurnArgs)
		}
	}
	return nil
}
