package kv

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func (m *Memory) size() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.items)
		s.mu.Unlock()
	}
	return n
}

func TestMemoryJanitorSweeps(t *testing.T) {
	// In a synctest bubble the janitor's ticker and the store's clock are
	// the bubble's: the test waits exactly as long as the TTL, however
	// loaded the machine is.
	synctest.Test(t, func(t *testing.T) {
		m := newMemory(20 * time.Millisecond)
		defer m.Close()
		ctx := context.Background()
		for i := range 100 {
			if err := m.Set(ctx, "tmp"+string(rune('a'+i%26))+string(rune('0'+i/26)), []byte("x"), 300*time.Millisecond); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.Set(ctx, "keep", []byte("x"), 0); err != nil {
			t.Fatal(err)
		}
		if n := m.size(); n != 101 {
			t.Fatalf("size = %d, want 101", n)
		}
		// Nobody reads the expired keys: only the janitor can reclaim them.
		time.Sleep(300*time.Millisecond + 2*20*time.Millisecond)
		synctest.Wait()
		if n := m.size(); n != 1 {
			t.Fatalf("janitor left %d keys, want 1", n)
		}
		if _, err := m.Get(ctx, "keep"); err != nil {
			t.Fatalf("janitor removed a live key: %v", err)
		}
	})
}

func TestMemoryCloseIdempotent(t *testing.T) {
	m := NewMemory()
	m.Close()
	m.Close()
	// The store still works after Close.
	if err := m.Set(context.Background(), "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(context.Background(), "k"); err != nil {
		t.Fatal(err)
	}
}

func turnArgs(i int) BeginTurnArgs {
	id := strconv.Itoa(i)
	return BeginTurnArgs{
		MarkerKey: "m:{" + id + "}", MarkerTTL: time.Minute,
		StateKey: "s:{" + id + "}", ClaimTTL: time.Minute,
		LockKey: "l:{" + id + "}", LockToken: "t", LockTTL: time.Minute,
	}
}

func endArgs(a BeginTurnArgs, state string) EndTurnArgs {
	return EndTurnArgs{
		MarkerKey: a.MarkerKey, StateKey: a.StateKey, State: []byte(state), StateTTL: time.Minute,
		LockKey: a.LockKey, LockToken: a.LockToken,
	}
}

func TestMemoryMarkersBounded(t *testing.T) {
	m := NewMemory(WithMaxMarkers(10))
	defer m.Close()
	ctx := context.Background()
	for i := range 10 {
		a := turnArgs(i)
		if _, err := m.BeginTurn(ctx, a); err != nil {
			t.Fatalf("turn %d: %v", i, err)
		}
		if err := m.EndTurn(ctx, endArgs(a, "r")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.BeginTurn(ctx, turnArgs(10)); !errors.Is(err, ErrFull) {
		t.Fatalf("11th marker: err = %v, want ErrFull", err)
	}
	// A refused turn leaves nothing behind.
	if _, err := m.Get(ctx, turnArgs(10).StateKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("refused turn left its claim: %v", err)
	}
	// Duplicates of known deliveries are still answered.
	if ts, err := m.BeginTurn(ctx, turnArgs(3)); err != nil || ts.Dup != DupFound || string(ts.State) != "r" {
		t.Fatalf("duplicate on a full store = %+v, %v", ts, err)
	}
	// A nonce counts as a marker too.
	if _, err := m.BeginTurn(ctx, BeginTurnArgs{NonceKey: "n", NonceVal: []byte("b"), NonceTTL: time.Minute}); !errors.Is(err, ErrFull) {
		t.Fatalf("nonce on a full store: err = %v, want ErrFull", err)
	}
}

func TestMemoryMarkerBucketsReclaimed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMemory(WithMarkerGranularity(10 * time.Millisecond))
		defer m.Close()
		ctx := context.Background()
		const n = 500
		const ttl = 500 * time.Millisecond
		for i := range n {
			a := turnArgs(i)
			a.MarkerTTL, a.ClaimTTL, a.LockTTL = ttl, ttl, ttl
			if _, err := m.BeginTurn(ctx, a); err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 { // half settle, half die: pending entries must go too
				e := endArgs(a, "r")
				e.StateTTL = ttl
				if err := m.EndTurn(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			if err := m.Set(ctx, "nonce-free:"+strconv.Itoa(i), []byte("x"), ttl); err != nil {
				t.Fatal(err)
			}
		}
		if got := m.markers.Load(); got != n {
			t.Fatalf("markers = %d, want %d", got, n)
		}
		time.Sleep(ttl + 3*10*time.Millisecond)
		synctest.Wait()
		if m.markers.Load() != 0 || m.used.Load() != 0 || m.pendingCount() != 0 {
			t.Fatalf("after expiry: markers %d, bytes %d, pending %d; want all 0",
				m.markers.Load(), m.used.Load(), m.pendingCount())
		}
	})
}

func (m *Memory) pendingCount() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.pending)
		for _, b := range s.markers.buckets {
			n += b.t.n
		}
		s.mu.Unlock()
	}
	return n
}

func TestMemoryBytesBounded(t *testing.T) {
	const budget = 64 << 10
	m := NewMemory(WithMaxBytes(budget))
	defer m.Close()
	ctx := context.Background()
	big := make([]byte, 1024)
	i := 0
	for ; i < 1000; i++ {
		if m.used.Load() >= budget {
			break
		}
		if err := m.Set(ctx, "k"+strconv.Itoa(i), big, time.Minute); err != nil {
			t.Fatalf("Set %d below the budget: %v", i, err)
		}
	}
	// Over the budget: new deliveries are shed...
	a := turnArgs(1)
	if _, err := m.BeginTurn(ctx, a); !errors.Is(err, ErrFull) {
		t.Fatalf("BeginTurn over the budget: err = %v, want ErrFull", err)
	}
	// ...while plain writes have the headroom, then fail too.
	var err error
	for j := 0; j < 1000 && err == nil; j++ {
		err = m.Set(ctx, "h"+strconv.Itoa(j), big, time.Minute)
	}
	if !errors.Is(err, ErrFull) {
		t.Fatalf("Set past the headroom: err = %v, want ErrFull", err)
	}
	if used := m.used.Load(); used > budget+budget/8 {
		t.Fatalf("used %d bytes, past the hard limit %d", used, budget+budget/8)
	}
	// Shrinking or deleting is always allowed, and frees room.
	if err := m.Set(ctx, "k0", []byte("x"), time.Minute); err != nil {
		t.Fatalf("shrinking Set on a full store: %v", err)
	}
	for j := range i {
		if err := m.Delete(ctx, "k"+strconv.Itoa(j)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.BeginTurn(ctx, a); err != nil {
		t.Fatalf("BeginTurn after freeing room: %v", err)
	}
}

func TestMemoryEndTurnNotRefused(t *testing.T) {
	m := NewMemory(WithMaxBytes(4 << 10))
	defer m.Close()
	ctx := context.Background()
	a := turnArgs(1)
	if _, err := m.BeginTurn(ctx, a); err != nil {
		t.Fatal(err)
	}
	// The turn was admitted; its end must land even past the budget.
	e := endArgs(a, string(make([]byte, 16<<10)))
	e.Writes = []Write{{Key: "sess:{1}", Val: make([]byte, 16<<10), TTL: time.Minute}}
	if err := m.EndTurn(ctx, e); err != nil {
		t.Fatalf("EndTurn past the budget: %v", err)
	}
	if v, err := m.Get(ctx, "sess:{1}"); err != nil || len(v) != 16<<10 {
		t.Fatalf("session after EndTurn: %d bytes, %v", len(v), err)
	}
}

func TestHashTable(t *testing.T) {
	var tb hashTable[uint64]
	if _, ok := tb.get(5); ok {
		t.Fatal("empty table found a key")
	}
	const n = 10_000
	for i := range uint64(n) {
		tb.put(i*0x9e3779b97f4a7c15, i) // includes hash 0, stored as 1
	}
	tb.put(0x9e3779b97f4a7c15, 42) // overwrite
	if tb.n != n {
		t.Fatalf("n = %d, want %d", tb.n, n)
	}
	for i := range uint64(n) {
		want := i
		if i == 1 {
			want = 42
		}
		if v, ok := tb.get(i * 0x9e3779b97f4a7c15); !ok || v != want {
			t.Fatalf("get(%d) = %d, %v; want %d", i, v, ok, want)
		}
	}
	if _, ok := tb.get(12345); ok {
		t.Fatal("found a key never put")
	}
	if len(tb.keys)*3 < tb.n*4 {
		t.Fatalf("table %d slots for %d keys: over 3/4 full", len(tb.keys), tb.n)
	}
}

// stat returns how many values the table holds and the references to val,
// under the table's lock (the janitor may be sweeping).
func (t *internTable) stat(val string) (values, refs int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.vals[val]; ok {
		refs = v.refs
	}
	return len(t.vals), refs
}

// Identical kept replies share one copy, counted once, and it goes with the
// last delivery that keeps it; the accounting returns to where it started.
func TestMemoryKeptRepliesShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemory(20 * time.Millisecond)
		defer m.Close()
		ctx := context.Background()
		base := m.used.Load()
		answer := "r" + strings.Repeat("互助金申领需要身份证、发票和出院小结。", 20)
		const n = 100
		for i := range n {
			a := turnArgs(i)
			if _, err := m.BeginTurn(ctx, a); err != nil {
				t.Fatal(err)
			}
			e := endArgs(a, answer)
			if i == n-1 {
				e = endArgs(a, answer+"!") // one different reply
			}
			e.StateTTL = time.Second
			if err := m.EndTurn(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := m.shared.stat(""); got != 2 {
			t.Fatalf("interned values = %d, want 2", got)
		}
		if grown := m.used.Load() - base; grown > int64(2*len(answer)+n*200) {
			t.Fatalf("%d kept copies of a %d-byte reply cost %d bytes: not shared", n, len(answer), grown)
		}
		for i := range n {
			ts, err := m.BeginTurn(ctx, turnArgs(i))
			want := answer
			if i == n-1 {
				want += "!"
			}
			if err != nil || ts.Dup != DupFound || string(ts.State) != want {
				t.Fatalf("delivery %d retried: %v, %v", i, ts.Dup, err)
			}
			ts.State[0] = 'x' // a caller's copy, not the shared bytes
		}
		// Overwriting a shared state releases it too (a claim then a new reply).
		if err := m.Delete(ctx, turnArgs(0).StateKey); err != nil {
			t.Fatal(err)
		}
		if _, refs := m.shared.stat(answer); refs != n-2 {
			t.Fatalf("after one delete the reply has %d references, want %d", refs, n-2)
		}
		time.Sleep(time.Second + 3*20*time.Millisecond)
		synctest.Wait()
		if got, _ := m.shared.stat(""); got != 0 {
			t.Fatalf("interned values after expiry = %d, want 0", got)
		}
		if got := m.used.Load(); got != base {
			t.Fatalf("bytes in use after expiry = %d, want %d", got, base)
		}
	})
}
