package kv

import (
	"context"
	"fmt"
	"hash/maphash"
	"math/bits"
	"time"
)

// hashBuckets is a compact set of 64-bit key hashes with expiry, for the
// millions of delivery markers a flood leaves behind: entries are grouped in
// buckets by expiry, rounded up to the granularity, and a whole bucket is
// dropped at once when it expires. Each bucket is an open-addressing table of
// uint64 (hashTable), about 11 to 16 bytes an entry — a Go map[uint64]struct{}
// costs ~38 — instead of a string key and a value slice. A false match needs
// two keys with equal 64-bit hashes: about 1 in 10^6 over a few million
// markers' lifetime, an accepted risk.
type hashBuckets[V any] struct {
	buckets []hashBucket[V] // ascending by end
	last    int             // size of the most recently retired bucket, to presize the next
}

type hashBucket[V any] struct {
	end time.Duration // every entry has expired when now >= end
	t   hashTable[V]
}

// get returns the live entry for h and its bucket's end.
func (b *hashBuckets[V]) get(h uint64, now time.Duration) (V, time.Duration, bool) {
	for i := range b.buckets {
		bk := &b.buckets[i]
		if bk.end <= now {
			continue
		}
		if v, ok := bk.t.get(h); ok {
			return v, bk.end, true
		}
	}
	var zero V
	return zero, 0, false
}

// add stores h (not already present) to expire at exp rounded up to width,
// and returns that rounded expiry.
func (b *hashBuckets[V]) add(h uint64, v V, exp, width time.Duration) time.Duration {
	end := (exp + width - 1) / width * width
	i := len(b.buckets)
	for i > 0 && b.buckets[i-1].end >= end {
		if b.buckets[i-1].end == end {
			b.buckets[i-1].t.put(h, v)
			return end
		}
		i--
	}
	bk := hashBucket[V]{end: end}
	bk.t.init(b.last)
	bk.t.put(h, v)
	b.buckets = append(b.buckets, hashBucket[V]{})
	copy(b.buckets[i+1:], b.buckets[i:])
	b.buckets[i] = bk
	return end
}

// drop removes the expired buckets and returns how many entries they held.
func (b *hashBuckets[V]) drop(now time.Duration) int {
	n, k := 0, 0
	for k < len(b.buckets) && b.buckets[k].end <= now {
		b.last = b.buckets[k].t.n
		n += b.last
		k++
	}
	if k > 0 {
		clear(b.buckets[:k])
		b.buckets = append(b.buckets[:0], b.buckets[k:]...)
	}
	return n
}

// hashTable is an insert-only open-addressing (linear probing) table keyed by
// a 64-bit hash, 0 marking an empty slot (a hash of 0 is stored as 1). With
// V = struct{} a slot costs 8 bytes; it stays between 3/8 and 3/4 full.
type hashTable[V any] struct {
	keys []uint64
	vals []V
	n    int
}

func (t *hashTable[V]) init(hint int) {
	size := 16
	for size*3/4 < hint {
		size *= 2
	}
	t.keys, t.vals = make([]uint64, size), make([]V, size)
}

func (t *hashTable[V]) get(h uint64) (V, bool) {
	var zero V
	if len(t.keys) == 0 {
		return zero, false
	}
	h = max(h, 1)
	mask := uint64(len(t.keys) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch t.keys[i] {
		case h:
			return t.vals[i], true
		case 0:
			return zero, false
		}
	}
}

// put sets h to v, adding it if absent.
func (t *hashTable[V]) put(h uint64, v V) {
	if (t.n+1)*4 > len(t.keys)*3 {
		t.grow()
	}
	h = max(h, 1)
	mask := uint64(len(t.keys) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch t.keys[i] {
		case h:
			t.vals[i] = v
			return
		case 0:
			t.keys[i], t.vals[i] = h, v
			t.n++
			return
		}
	}
}

func (t *hashTable[V]) grow() {
	old, oldVals := t.keys, t.vals
	if len(old) == 0 {
		t.init(0)
		return
	}
	t.keys, t.vals, t.n = make([]uint64, 2*len(old)), make([]V, 2*len(old)), 0
	for i, h := range old {
		if h != 0 {
			t.put(h, oldVals[i])
		}
	}
}

func (m *Memory) hash(key string) uint64 { return maphash.String(m.hseed, key) }

// shardMask is the set of shards holding keys, as a bit mask.
type shardMask uint64

func (m *Memory) maskOf(mask shardMask, keys ...string) shardMask {
	for _, k := range keys {
		mask |= 1 << m.shardIndex(k)
	}
	return mask
}

// maskOfNamed is maskOf for optional keys: empty names are skipped.
func (m *Memory) maskOfNamed(mask shardMask, keys ...string) shardMask {
	for _, k := range keys {
		if k != "" {
			mask |= 1 << m.shardIndex(k)
		}
	}
	return mask
}

// lockShards locks the shards in mask in ascending order: every multi-shard
// operation takes them in that order, so two turns cannot deadlock.
func (m *Memory) lockShards(mask shardMask) {
	for rest := uint64(mask); rest != 0; rest &= rest - 1 {
		m.shards[bits.TrailingZeros64(rest)].mu.Lock()
	}
}

func (m *Memory) unlockShards(mask shardMask) {
	for rest := uint64(mask); rest != 0; rest &= rest - 1 {
		m.shards[bits.TrailingZeros64(rest)].mu.Unlock()
	}
}

// BeginTurn runs the first round trip of a message atomically: the shards
// of all its keys are locked for the duration.
func (m *Memory) BeginTurn(_ context.Context, a BeginTurnArgs) (TurnStart, error) {
	if err := a.validate(); err != nil {
		return TurnStart{}, err
	}
	lk := ""
	if a.LockKey != "" {
		lk = lockPrefix + a.LockKey
	}
	mask := m.maskOf(m.maskOfNamed(0, a.NonceKey, a.MarkerKey, a.StateKey, lk), a.Reads...)
	m.lockShards(mask)
	defer m.unlockShards(mask)
	now := m.now()
	var ts TurnStart

	// Inspect first, then check the bounds, then change: a refused turn
	// leaves nothing behind.
	var nonceHash, bodyHash uint64
	newNonce := false
	if a.NonceKey != "" {
		nonceHash, bodyHash = m.hash(a.NonceKey), maphash.Bytes(m.hseed, a.NonceVal)
		seen, _, ok := m.shard(a.NonceKey).nonces.get(nonceHash, now)
		if ok && seen != bodyHash {
			ts.NonceReused = true
			return ts, nil
		}
		newNonce = !ok
	}
	var markerHash uint64
	newMarker, claim := false, false
	if a.MarkerKey != "" {
		markerHash = m.hash(a.MarkerKey)
		ms := m.shard(a.MarkerKey)
		if st, ok := m.shard(a.StateKey).get(a.StateKey, now); ok {
			ts.Dup, ts.State = DupFound, clone(st.val)
		} else if _, _, ok := ms.markers.get(markerHash, now); !ok {
			newMarker, claim = true, true
		} else if _, pending := ms.pending[markerHash]; pending {
			ts.TakenOver, claim = true, true
		} else {
			ts.Dup = DupExpired
		}
	}
	var adds int64
	if newNonce {
		adds++
	}
	if newMarker {
		adds++
	}
	if adds > 0 && m.markers.Load()+adds > m.limits.maxMarkers {
		return TurnStart{}, fmt.Errorf("begin turn: markers: %w", ErrFull)
	}
	if (claim || (ts.Dup == DupNone && lk != "")) && m.used.Load() >= m.limits.maxBytes {
		m.full(1, m.limits.maxBytes) // asks for an early sweep
		return TurnStart{}, fmt.Errorf("begin turn: %w", ErrFull)
	}

	if newNonce {
		m.shard(a.NonceKey).nonces.add(nonceHash, bodyHash, now+a.NonceTTL, m.limits.granularity)
		m.markers.Add(1)
	}
	if newMarker {
		ms := m.shard(a.MarkerKey)
		end := ms.markers.add(markerHash, struct{}{}, now+a.MarkerTTL, m.limits.granularity)
		ms.pending[markerHash] = end
		m.markers.Add(1)
	}
	if claim {
		m.shard(a.StateKey).put(a.StateKey, memItem{val: []byte(ClaimValue), exp: now + a.ClaimTTL})
	}
	if ts.Dup != DupNone {
		return ts, nil
	}
	if lk != "" {
		ls := m.shard(lk)
		if _, held := ls.get(lk, now); held {
			return ts, nil
		}
		ls.put(lk, memItem{val: []byte(a.LockToken), exp: now + a.LockTTL})
		ts.Locked = true
	}
	ts.Values = m.readLocked(a.Reads, now)
	return ts, nil
}

// readLocked reads keys whose shards are locked; nil where a key is missing.
func (m *Memory) readLocked(keys []string, now time.Duration) [][]byte {
	vals := make([][]byte, len(keys))
	for i, k := range keys {
		if it, ok := m.shard(k).get(k, now); ok {
			vals[i] = clone(it.val)
		}
	}
	return vals
}

// EndTurn runs the second round trip of a message atomically. It never
// returns ErrFull: it finishes a turn BeginTurn admitted.
func (m *Memory) EndTurn(_ context.Context, a EndTurnArgs) error {
	if err := a.validate(); err != nil {
		return err
	}
	lk := ""
	if a.LockKey != "" {
		lk = lockPrefix + a.LockKey
	}
	mask := m.maskOfNamed(0, a.MarkerKey, a.StateKey, lk)
	for _, w := range a.Writes {
		mask = m.maskOf(mask, w.Key)
	}
	m.lockShards(mask)
	defer m.unlockShards(mask)
	now := m.now()

	if a.State != nil {
		ss, ms := m.shard(a.StateKey), m.shard(a.MarkerKey)
		h := m.hash(a.MarkerKey)
		_, _, marked := ms.markers.get(h, now)
		_, pending := ms.pending[h]
		pending = pending && marked
		st, ok := ss.get(a.StateKey, now)
		if (ok && string(st.val) == ClaimValue) || (!ok && pending) {
			ss.putShared(a.StateKey, a.State, now+a.StateTTL)
			delete(ms.pending, h)
		}
	}
	for _, w := range a.Writes {
		s := m.shard(w.Key)
		if w.Val == nil {
			s.remove(w.Key)
			continue
		}
		s.put(w.Key, memItem{val: clone(w.Val), exp: m.expiry(w.TTL)})
	}
	if lk != "" {
		s := m.shard(lk)
		if it, ok := s.get(lk, now); ok && string(it.val) == a.LockToken {
			s.remove(lk)
		}
	}
	return nil
}

// RenewClaim extends the claim on stateKey while it holds ClaimValue.
func (m *Memory) RenewClaim(_ context.Context, stateKey string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("%w: claim ttl must be positive", errTurnArgs)
	}
	s := m.shard(stateKey)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := m.now()
	it, ok := s.get(stateKey, now)
	if !ok || string(it.val) != ClaimValue {
		return false, nil
	}
	it.exp = now + ttl
	s.items[stateKey] = it // same size: no accounting change
	return true, nil
}

// GetMany reads keys as one snapshot; nil where a key is missing.
func (m *Memory) GetMany(_ context.Context, keys ...string) ([][]byte, error) {
	mask := m.maskOf(0, keys...)
	m.lockShards(mask)
	defer m.unlockShards(mask)
	return m.readLocked(keys, m.now()), nil
}
