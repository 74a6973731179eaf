// Package kv is short-lived shared state: conversation sessions, WeChat
// de-duplication keys, per-openid locks, counters for rate limits and lockouts,
// and the access token. Two implementations satisfy one contract: Redis (shared
// by every replica) and an in-process map with TTLs (one process, local mode).
package kv

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by Get when the key does not exist or has expired.
var ErrNotFound = errors.New("kv: key not found")

// ErrLockTimeout is returned by Lock when ctx ends before the lock is acquired.
var ErrLockTimeout = errors.New("kv: lock not acquired")

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
// On Redis each is one script; every key of a turn carries the member's
// openid as a hash tag ("{openid}") so that Redis Cluster keeps them in one
// slot. The nonce key is the exception (it is named by timestamp and nonce):
// on a Cluster it is checked by a separate command, so plain mode costs a
// third round trip there; safe mode, the production setting, needs no nonce.
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

// ClaimValue is what StateKey holds while the delivery's owner works on it.
const ClaimValue = "p"

// DupState is what BeginTurn found of an earlier arrival of the delivery.
type DupState int

const (
	// DupNone: this arrival owns the delivery (first arrival, or a takeover
	// from a dead owner — see TurnStart.TakenOver).
	DupNone DupState = iota
	// DupFound: an earlier arrival owns it; TurnStart.State holds the state
	// key's value (ClaimValue while it works, then the settled value).
	DupFound
	// DupExpired: the delivery was settled so long ago that its state is
	// gone; a replay, answered with nothing.
	DupExpired
)

// BeginTurnArgs names the keys of one message's first round trip. Empty
// names skip their part.
type BeginTurnArgs struct {
	// NonceKey/NonceVal bind a plain-mode timestamp+nonce pair to one body
	// (NonceVal is the body's hash) for NonceTTL.
	NonceKey string
	NonceVal []byte
	NonceTTL time.Duration

	MarkerKey string
	MarkerTTL time.Duration
	StateKey  string
	ClaimTTL  time.Duration

	// LockKey is taken with LockToken for LockTTL when it is free.
	LockKey   string
	LockToken string
	LockTTL   time.Duration
	// Reads are read once the lock is held (session, last interaction, …).
	Reads []string
}

// TurnStart is what BeginTurn found.
type TurnStart struct {
	// NonceReused: the pair was seen with another body. Nothing else was done.
	NonceReused bool
	Dup         DupState
	// State is the state key's value when Dup is DupFound.
	State []byte
	// TakenOver: the delivery was claimed after its first owner died.
	TakenOver bool
	// Locked: the lock was free and is now held with LockToken. When false
	// (another message of the member is being handled), Reads were not read:
	// the caller waits with AcquireLock and reads with GetMany.
	Locked bool
	// Values are the Reads, in order; nil where a key is missing.
	Values [][]byte
}

// Write is one key written by EndTurn: Val nil deletes the key.
type Write struct {
	Key string
	Val []byte
	TTL time.Duration
}

// EndTurnArgs names the keys of one message's second round trip.
type EndTurnArgs struct {
	// State settles the delivery: written to StateKey (for StateTTL) only
	// while StateKey still holds ClaimValue, and the marker turns "s"
	// (keeping its TTL). nil leaves both alone.
	MarkerKey string
	StateKey  string
	State     []byte
	StateTTL  time.Duration

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
	// AcquireLock blocks until it holds key with token for ttl, or ctx ends
	// (ErrLockTimeout).
	AcquireLock(ctx context.Context, key, token string, ttl time.Duration) error
	// GetMany reads keys in one round trip (all in one hash slot); nil where
	// a key is missing.
	GetMany(ctx context.Context, keys ...string) ([][]byte, error)
}
