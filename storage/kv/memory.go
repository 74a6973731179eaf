package kv

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// lockPrefix namespaces lock keys, in both backends, so that Lock("x") never
// collides with a value stored under "x" (locking the key one is about to
// write is a natural thing to do).
const lockPrefix = "lock:"

// errNotInteger matches what Redis answers to INCR on a non-integer value.
var errNotInteger = errors.New("kv: value is not an integer or out of range")

// errLockTTL is returned by Lock for a ttl that would never expire.
var errLockTTL = errors.New("kv: lock ttl must be positive")

const (
	memoryShards        = 64 // power of two; spreads lock contention across keys
	memorySweepInterval = 5 * time.Second
)

// Memory is the in-process Store for a single replica (local mode). Keys are
// spread over shards, each with its own mutex, so unrelated keys do not
// contend and the janitor never stops the whole store at once. Expired keys
// are invisible as soon as they expire; the janitor only reclaims memory.
type Memory struct {
	seed   maphash.Seed
	base   time.Time // monotonic origin for expiry times
	shards [memoryShards]memShard
	tokens atomic.Uint64 // lock tokens: unique within the process is enough

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

type memShard struct {
	mu    sync.Mutex
	items map[string]memItem
	// waiters holds, per key, a channel closed when that key is removed, so
	// Lock waits for a release instead of polling.
	waiters map[string]chan struct{}
}

type memItem struct {
	val []byte
	exp time.Duration // since Memory.base; 0 = never
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store and starts its janitor; call Close to stop it.
func NewMemory() *Memory {
	return newMemory(memorySweepInterval)
}

func newMemory(sweep time.Duration) *Memory {
	m := &Memory{
		seed: maphash.MakeSeed(),
		base: time.Now(),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for i := range m.shards {
		m.shards[i].items = make(map[string]memItem)
		m.shards[i].waiters = make(map[string]chan struct{})
	}
	go m.janitor(sweep)
	return m
}

// Close stops the janitor. The store keeps working (expired keys stay
// invisible) but is no longer swept. Close is idempotent.
func (m *Memory) Close() {
	m.closeOnce.Do(func() {
		close(m.stop)
		<-m.done
	})
}

func (m *Memory) janitor(every time.Duration) {
	defer close(m.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.sweep()
		}
	}
}

// sweep drops expired keys, one shard at a time.
func (m *Memory) sweep() {
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		now := m.now()
		for k, it := range s.items {
			if it.expired(now) {
				s.remove(k)
			}
		}
		s.mu.Unlock()
	}
}

func (m *Memory) now() time.Duration { return time.Since(m.base) }

func (m *Memory) shard(key string) *memShard {
	return &m.shards[maphash.String(m.seed, key)&(memoryShards-1)]
}

// expiry turns a ttl into an absolute expiry; ttl <= 0 means never.
func (m *Memory) expiry(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		return 0
	}
	return m.now() + ttl
}

func (it memItem) expired(now time.Duration) bool { return it.exp != 0 && now >= it.exp }

// get returns the live item at key; s.mu must be held. An expired item is
// removed on the spot.
func (s *memShard) get(key string, now time.Duration) (memItem, bool) {
	it, ok := s.items[key]
	if !ok {
		return memItem{}, false
	}
	if it.expired(now) {
		s.remove(key)
		return memItem{}, false
	}
	return it, true
}

// remove deletes key and wakes anyone waiting for it; s.mu must be held.
func (s *memShard) remove(key string) {
	delete(s.items, key)
	if ch, ok := s.waiters[key]; ok {
		close(ch)
		delete(s.waiters, key)
	}
}

func clone(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return append([]byte(nil), b...)
}

// Get returns a copy of the value at key, or ErrNotFound.
func (m *Memory) Get(_ context.Context, key string) ([]byte, error) {
	s := m.shard(key)
	s.mu.Lock()
	it, ok := s.get(key, m.now())
	s.mu.Unlock()
	if !ok {
		return nil, ErrNotFound
	}
	return clone(it.val), nil
}

// Set stores a copy of val under key; ttl <= 0 means no expiry.
func (m *Memory) Set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	it := memItem{val: clone(val), exp: m.expiry(ttl)}
	s := m.shard(key)
	s.mu.Lock()
	s.items[key] = it
	s.mu.Unlock()
	return nil
}

// SetNX stores a copy of val only when key does not exist.
func (m *Memory) SetNX(_ context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	return m.setNX(key, val, ttl), nil
}

func (m *Memory) setNX(key string, val []byte, ttl time.Duration) bool {
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := m.now()
	if _, ok := s.get(key, now); ok {
		return false
	}
	it := memItem{val: clone(val)}
	if ttl > 0 {
		it.exp = now + ttl
	}
	s.items[key] = it
	return true
}

// Delete removes key; a missing key is not an error.
func (m *Memory) Delete(_ context.Context, key string) error {
	s := m.shard(key)
	s.mu.Lock()
	s.remove(key)
	s.mu.Unlock()
	return nil
}

// Incr adds 1 to the decimal integer at key, as Redis INCR does; a key it
// creates gets ttl, an existing key keeps its expiry.
func (m *Memory) Incr(_ context.Context, key string, ttl time.Duration) (int64, error) {
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := m.now()
	it, ok := s.get(key, now)
	var n int64
	if ok {
		var err error
		n, err = strconv.ParseInt(string(it.val), 10, 64)
		if err != nil || n == 1<<63-1 {
			return 0, fmt.Errorf("incr %s: %w", key, errNotInteger)
		}
	} else if ttl > 0 {
		it.exp = now + ttl
	}
	n++
	it.val = strconv.AppendInt(make([]byte, 0, 8), n, 10)
	s.items[key] = it
	return n, nil
}

// TTL returns the time key has left, 0 for a key that never expires, or
// ErrNotFound.
func (m *Memory) TTL(_ context.Context, key string) (time.Duration, error) {
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := m.now()
	it, ok := s.get(key, now)
	if !ok {
		return 0, ErrNotFound
	}
	if it.exp == 0 {
		return 0, nil
	}
	return it.exp - now, nil
}

// Lock acquires the lock named key (stored under "lock:"+key). A waiter
// sleeps until the holder releases the lock, the lock expires, or ctx ends.
func (m *Memory) Lock(ctx context.Context, key string, ttl time.Duration) (func(), error) {
	if ttl <= 0 {
		return nil, errLockTTL
	}
	lk := lockPrefix + key
	token := strconv.AppendUint(nil, m.tokens.Add(1), 36)
	s := m.shard(lk)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrLockTimeout, err)
		}
		s.mu.Lock()
		now := m.now()
		held, ok := s.get(lk, now)
		if !ok {
			s.items[lk] = memItem{val: token, exp: now + ttl}
			s.mu.Unlock()
			return func() { m.unlock(lk, token) }, nil
		}
		released, ok := s.waiters[lk]
		if !ok {
			released = make(chan struct{})
			s.waiters[lk] = released
		}
		s.mu.Unlock()

		// Wake when it is released, when it expires, or when ctx ends.
		wait := held.exp - now
		if held.exp == 0 {
			wait = time.Hour // a lock key stored without expiry: only a release wakes us
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-released:
		case <-timer.C:
		case <-ctx.Done():
		}
	}
}

// unlock releases lk only if it still holds token: after the lock expired and
// someone else took it, a late unlock must not free their lock.
func (m *Memory) unlock(lk string, token []byte) {
	s := m.shard(lk)
	s.mu.Lock()
	defer s.mu.Unlock()
	if it, ok := s.get(lk, m.now()); ok && string(it.val) == string(token) {
		s.remove(lk)
	}
}

// Ping always succeeds: the store is in the process.
func (m *Memory) Ping(context.Context) error { return nil }
