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
	// memoryKickGap spaces the extra sweeps a full store asks for, so a
	// flood against a full store cannot keep the janitor scanning.
	memoryKickGap = 250 * time.Millisecond
)

// Default bounds of NewMemory, sized for the callback under a flood of about
// 6,400 msg/s: markers live 600 s (3.84 M of them, 11 to 16 bytes each in
// steady state), settled replies 30 s under the byte budget; together near
// 100 MB of heap at the bounds.
const (
	DefaultMemoryMaxBytes   = 48 << 20
	DefaultMemoryMaxMarkers = 4_500_000
	// DefaultMemoryMarkerGranularity is the width of a marker expiry bucket:
	// a marker may outlive its ttl by up to this much.
	DefaultMemoryMarkerGranularity = 30 * time.Second
)

// memItemOverhead approximates the heap an item costs beyond its key and
// value bytes (map slot, item header, allocation rounding).
const memItemOverhead = 80

// MemoryOption sets a bound of NewMemory.
type MemoryOption func(*memoryLimits)

type memoryLimits struct {
	maxBytes    int64
	maxMarkers  int64
	granularity time.Duration
	sweep       time.Duration
}

// WithMaxBytes bounds the ordinary keys (values, states, sessions, locks):
// BeginTurn sheds new deliveries with ErrFull once n bytes (keys, values and
// an estimated overhead per item) are held; other writes fail with ErrFull
// past n plus an eighth, which leaves room to finish turns already begun.
func WithMaxBytes(n int64) MemoryOption { return func(l *memoryLimits) { l.maxBytes = n } }

// WithMaxMarkers bounds the delivery markers and nonce records together:
// BeginTurn returns ErrFull instead of adding one more.
func WithMaxMarkers(n int) MemoryOption { return func(l *memoryLimits) { l.maxMarkers = int64(n) } }

// WithMarkerGranularity sets the width of the expiry buckets that hold
// markers and nonces; they are dropped a bucket at a time, so one may outlive
// its ttl by up to d. Tests with short ttls use a few milliseconds.
func WithMarkerGranularity(d time.Duration) MemoryOption {
	return func(l *memoryLimits) { l.granularity = d }
}

// Memory is the in-process Store for a single replica (local mode). Keys are
// spread over shards, each with its own mutex, so unrelated keys do not
// contend and the janitor never stops the whole store at once; a turn locks
// the shards of all its keys in ascending order, so it is atomic without
// deadlock. Expired keys are invisible as soon as they expire; the janitor
// only reclaims memory. The store is bounded (see MemoryOption).
type Memory struct {
	seed    maphash.Seed // shard selection
	hseed   maphash.Seed // marker and nonce hashes
	base    time.Time    // monotonic origin for expiry times
	limits  memoryLimits
	shards  [memoryShards]memShard
	tokens  atomic.Uint64 // lock tokens: unique within the process is enough
	shared  internTable   // kept replies, one copy of each distinct value
	used    atomic.Int64  // bytes of ordinary items (memItemSize)
	markers atomic.Int64  // markers and nonce records

	kick      chan struct{}
	lastSweep atomic.Int64 // m.now() of the last sweep's start
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

type memShard struct {
	mu     sync.Mutex
	used   *atomic.Int64
	shared *internTable
	items  map[string]memItem
	// waiters holds, per key, a channel closed when that key is removed, so
	// Lock waits for a release instead of polling.
	waiters map[string]chan struct{}

	// markers are the delivery markers, by 64-bit hash of MarkerKey; pending
	// holds those still "p" (few: messages in flight, and dead owners'),
	// with their bucket's end.
	markers hashBuckets[struct{}]
	pending map[uint64]time.Duration
	// nonces map the hash of a NonceKey to the hash of its NonceVal.
	nonces hashBuckets[uint64]
}

type memItem struct {
	val    []byte
	exp    time.Duration // since Memory.base; 0 = never
	shared bool          // val belongs to the intern table, counted there once
}

func memItemSize(key string, it memItem) int64 {
	if it.shared {
		return int64(len(key)) + memItemOverhead
	}
	return int64(len(key)+cap(it.val)) + memItemOverhead
}

// internTable holds one copy of each kept reply that several deliveries share: the
// same FAQ answer or menu goes to thousands of members after a broadcast, and a copy
// per delivery made replies most of the store (about 800 B each, so 30 s of them
// filled the budget at 2,000 msg/s). Its lock is taken under shard locks, never
// the other way round.
type internTable struct {
	mu   sync.Mutex
	used *atomic.Int64
	vals map[string]*internVal
}

type internVal struct {
	b    []byte
	refs int
}

// internOverhead approximates the heap of an interned value beyond its bytes
// (map slot, string header, counter).
const internOverhead = 64

// acquire returns the table's copy of b, adding it when new.
func (t *internTable) acquire(b []byte) []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.vals[string(b)]; ok {
		v.refs++
		return v.b
	}
	v := &internVal{b: clone(b), refs: 1}
	t.vals[string(v.b)] = v
	t.used.Add(int64(len(v.b)) + internOverhead)
	return v.b
}

// release drops one reference to b, and b itself with the last one.
func (t *internTable) release(b []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.vals[string(b)]
	if !ok {
		return
	}
	if v.refs--; v.refs == 0 {
		delete(t.vals, string(b))
		t.used.Add(-int64(len(v.b)) - internOverhead)
	}
}

var (
	_ Store = (*Memory)(nil)
	_ Turns = (*Memory)(nil)
)

// NewMemory returns an empty store and starts its janitor; call Close to stop it.
func NewMemory(opts ...MemoryOption) *Memory {
	return newMemory(memorySweepInterval, opts...)
}

func newMemory(sweep time.Duration, opts ...MemoryOption) *Memory {
	l := memoryLimits{
		maxBytes:    DefaultMemoryMaxBytes,
		maxMarkers:  DefaultMemoryMaxMarkers,
		granularity: DefaultMemoryMarkerGranularity,
		sweep:       sweep,
	}
	for _, o := range opts {
		o(&l)
	}
	if l.granularity <= 0 {
		l.granularity = time.Millisecond
	}
	// Dropping marker buckets promptly keeps their memory near the bound.
	l.sweep = min(l.sweep, max(l.granularity, 10*time.Millisecond))
	m := &Memory{
		seed:   maphash.MakeSeed(),
		hseed:  maphash.MakeSeed(),
		base:   time.Now(),
		limits: l,
		kick:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	m.shared = internTable{used: &m.used, vals: make(map[string]*internVal)}
	for i := range m.shards {
		s := &m.shards[i]
		s.used = &m.used
		s.shared = &m.shared
		s.items = make(map[string]memItem)
		s.waiters = make(map[string]chan struct{})
		s.pending = make(map[uint64]time.Duration)
	}
	go m.janitor(l.sweep)
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
		case <-m.kick:
		}
		m.sweep()
	}
}

// full reports that adding grow bytes would pass limit, and asks the janitor
// for an early sweep (expired keys may be what fills the store).
func (m *Memory) full(grow, limit int64) bool {
	if grow <= 0 || m.used.Load()+grow <= limit {
		return false
	}
	if m.now()-time.Duration(m.lastSweep.Load()) >= memoryKickGap {
		select {
		case m.kick <- struct{}{}:
		default:
		}
	}
	return true
}

// hardLimit is where writes other than a turn's end fail: the byte budget
// plus an eighth, so turns BeginTurn admitted below the budget can finish.
func (m *Memory) hardLimit() int64 { return m.limits.maxBytes + m.limits.maxBytes/8 }

// sweep drops expired keys, markers and nonces, one shard at a time.
func (m *Memory) sweep() {
	m.lastSweep.Store(int64(m.now()))
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		now := m.now()
		for k, it := range s.items {
			if it.expired(now) {
				s.remove(k)
			}
		}
		n := s.markers.drop(now) + s.nonces.drop(now)
		for h, end := range s.pending {
			if end <= now {
				delete(s.pending, h)
			}
		}
		s.mu.Unlock()
		m.markers.Add(-int64(n))
	}
}

func (m *Memory) now() time.Duration { return time.Since(m.base) }

func (m *Memory) shardIndex(key string) uint64 {
	return maphash.String(m.seed, key) & (memoryShards - 1)
}

func (m *Memory) shard(key string) *memShard { return &m.shards[m.shardIndex(key)] }

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

// put stores it under key and accounts for its size; s.mu must be held.
func (s *memShard) put(key string, it memItem) {
	if old, ok := s.items[key]; ok {
		s.forget(key, old)
	}
	s.items[key] = it
	s.used.Add(memItemSize(key, it))
}

// putShared stores val under key as an interned value; s.mu must be held.
func (s *memShard) putShared(key string, val []byte, exp time.Duration) {
	s.put(key, memItem{val: s.shared.acquire(val), exp: exp, shared: true})
}

// forget takes item it at key out of the accounting; s.mu must be held.
func (s *memShard) forget(key string, it memItem) {
	s.used.Add(-memItemSize(key, it))
	if it.shared {
		s.shared.release(it.val)
	}
}

// growth is what storing val under key would add to the store's size; s.mu
// must be held.
func (s *memShard) growth(key string, val []byte) int64 {
	n := memItemSize(key, memItem{val: val})
	if old, ok := s.items[key]; ok {
		n -= memItemSize(key, old)
	}
	return n
}

// remove deletes key and wakes anyone waiting for it; s.mu must be held.
func (s *memShard) remove(key string) {
	if old, ok := s.items[key]; ok {
		s.forget(key, old)
	}
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
	defer s.mu.Unlock()
	if m.full(s.growth(key, it.val), m.hardLimit()) {
		return fmt.Errorf("set %s: %w", key, ErrFull)
	}
	s.put(key, it)
	return nil
}

// SetNX stores a copy of val only when key does not exist.
func (m *Memory) SetNX(_ context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := m.now()
	if _, ok := s.get(key, now); ok {
		return false, nil
	}
	it := memItem{val: clone(val)}
	if ttl > 0 {
		it.exp = now + ttl
	}
	if m.full(s.growth(key, it.val), m.hardLimit()) {
		return false, fmt.Errorf("setnx %s: %w", key, ErrFull)
	}
	s.put(key, it)
	return true, nil
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
	it.val, it.shared = strconv.AppendInt(make([]byte, 0, 8), n, 10), false
	if m.full(s.growth(key, it.val), m.hardLimit()) {
		return 0, fmt.Errorf("incr %s: %w", key, ErrFull)
	}
	s.put(key, it)
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
	if err := m.acquire(ctx, lk, token, ttl); err != nil {
		return nil, err
	}
	return func() { m.unlock(lk, token) }, nil
}

// AcquireLock takes the lock named key (stored under "lock:"+key) with token,
// waiting as Lock does.
func (m *Memory) AcquireLock(ctx context.Context, key, token string, ttl time.Duration) error {
	if ttl <= 0 {
		return errLockTTL
	}
	return m.acquire(ctx, lockPrefix+key, []byte(token), ttl)
}

func (m *Memory) acquire(ctx context.Context, lk string, token []byte, ttl time.Duration) error {
	s := m.shard(lk)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%w: %w", ErrLockTimeout, err)
		}
		s.mu.Lock()
		now := m.now()
		held, ok := s.get(lk, now)
		if !ok {
			s.put(lk, memItem{val: token, exp: now + ttl})
			s.mu.Unlock()
			return nil
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
