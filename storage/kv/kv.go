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
