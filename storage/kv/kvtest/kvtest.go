// Package kvtest is the contract every kv.Store backend must pass (Run), a
// shared benchmark (Bench), and helpers that hand tests a real Redis with a
// private key prefix (Redis, Prefix).
package kvtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"unionbot/storage/kv"
)

// Short TTLs keep the suite fast; waits poll up to a generous deadline so a
// loaded CI machine cannot make them flaky.
const (
	shortTTL    = 150 * time.Millisecond
	pollTimeout = 5 * time.Second
)

// Run runs the contract suite. open must return a store in which the test's
// keys are private (a fresh Memory, or a Redis with a fresh prefix); it is
// called once per subtest, and subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T) kv.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s kv.Store)
	}{
		{"get set overwrite", testGetSet},
		{"missing key", testMissing},
		{"values are copied", testCopies},
		{"binary values", testBinary},
		{"ttl expiry", testExpiry},
		{"ttl reports", testTTL},
		{"delete", testDelete},
		{"setnx one winner", testSetNXRace},
		{"setnx after expiry", testSetNXExpiry},
		{"incr concurrent", testIncrConcurrent},
		{"incr ttl only at creation", testIncrTTL},
		{"incr non-integer", testIncrNonInteger},
		{"lock exclusive", testLockExclusive},
		{"lock released by unlock", testLockRelease},
		{"lock expires", testLockExpiry},
		{"stale unlock keeps new holder", testStaleUnlock},
		{"lock respects ctx", testLockCtx},
		{"lock does not collide with value", testLockNamespace},
		{"lock rejects zero ttl", testLockZeroTTL},
		{"ping", testPing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

func mustSet(t *testing.T, s kv.Store, key, val string, ttl time.Duration) {
	t.Helper()
	if err := s.Set(t.Context(), key, []byte(val), ttl); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func wantValue(t *testing.T, s kv.Store, key, want string) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if string(got) != want {
		t.Fatalf("Get(%q) = %q, want %q", key, got, want)
	}
}

func wantMissing(t *testing.T, s kv.Store, key string) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, got, err)
	}
}

// waitGone polls until key is gone and returns how long that took from start.
func waitGone(t *testing.T, s kv.Store, key string, start time.Time) time.Duration {
	t.Helper()
	for time.Since(start) < pollTimeout {
		_, err := s.Get(t.Context(), key)
		if errors.Is(err, kv.ErrNotFound) {
			return time.Since(start)
		}
		if err != nil {
			t.Fatalf("Get(%q): %v", key, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("key %q still present after %s", key, pollTimeout)
	return 0
}

func testGetSet(t *testing.T, s kv.Store) {
	mustSet(t, s, "a", "one", 0)
	mustSet(t, s, "b", "two", time.Minute)
	wantValue(t, s, "a", "one")
	wantValue(t, s, "b", "two")
	mustSet(t, s, "a", "uno", 0)
	wantValue(t, s, "a", "uno")
	wantValue(t, s, "b", "two")
	// Overwriting replaces the expiry too.
	mustSet(t, s, "b", "dos", 0)
	if d, err := s.TTL(t.Context(), "b"); err != nil || d != 0 {
		t.Fatalf("TTL after Set without ttl = %v, %v; want 0 (no expiry)", d, err)
	}
}

func testMissing(t *testing.T, s kv.Store) {
	wantMissing(t, s, "nope")
	if _, err := s.TTL(t.Context(), "nope"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("TTL(missing) err = %v, want ErrNotFound", err)
	}
	if err := s.Delete(t.Context(), "nope"); err != nil {
		t.Fatalf("Delete(missing) = %v, want nil", err)
	}
}

func testCopies(t *testing.T, s kv.Store) {
	buf := []byte("original")
	if err := s.Set(t.Context(), "k", buf, 0); err != nil {
		t.Fatal(err)
	}
	copy(buf, "CHANGED!")
	wantValue(t, s, "k", "original")
	got, err := s.Get(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	copy(got, "CHANGED!")
	wantValue(t, s, "k", "original")
}

func testBinary(t *testing.T, s kv.Store) {
	all := make([]byte, 0, 512)
	for i := range 256 {
		all = append(all, byte(i), byte(255-i))
	}
	for name, val := range map[string][]byte{
		"all bytes":      all,
		"invalid utf8":   {0xff, 0xfe, 0x00, 0xc3},
		"empty":          {},
		"nil":            nil,
		"chinese":        []byte("工会会员：张三"),
		"trailing zeros": {1, 0, 0, 0},
	} {
		if err := s.Set(t.Context(), name, val, time.Minute); err != nil {
			t.Fatalf("Set(%s): %v", name, err)
		}
		got, err := s.Get(t.Context(), name)
		if err != nil {
			t.Fatalf("Get(%s): %v (an empty value is a value, not a missing key)", name, err)
		}
		if string(got) != string(val) {
			t.Fatalf("Get(%s) = %x, want %x", name, got, val)
		}
	}
	ok, err := s.SetNX(t.Context(), "nx-bin", all, time.Minute)
	if err != nil || !ok {
		t.Fatalf("SetNX = %v, %v", ok, err)
	}
	wantValue(t, s, "nx-bin", string(all))
}

func testExpiry(t *testing.T, s kv.Store) {
	start := time.Now()
	mustSet(t, s, "short", "x", shortTTL)
	mustSet(t, s, "forever", "y", 0)
	mustSet(t, s, "long", "z", time.Hour)
	if time.Since(start) < shortTTL/2 {
		// Only meaningful if we are still well inside the ttl.
		wantValue(t, s, "short", "x")
	}
	took := waitGone(t, s, "short", start)
	if took < shortTTL-10*time.Millisecond {
		t.Fatalf("key expired after %s, before its ttl of %s", took, shortTTL)
	}
	if _, err := s.TTL(t.Context(), "short"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("TTL(expired) err = %v, want ErrNotFound", err)
	}
	wantValue(t, s, "forever", "y")
	wantValue(t, s, "long", "z")
	// An expired key can be set again.
	mustSet(t, s, "short", "again", 0)
	wantValue(t, s, "short", "again")
}

func testTTL(t *testing.T, s kv.Store) {
	mustSet(t, s, "m", "v", time.Minute)
	d, err := s.TTL(t.Context(), "m")
	if err != nil {
		t.Fatal(err)
	}
	if d <= 50*time.Second || d > time.Minute {
		t.Fatalf("TTL = %s, want just under 1m", d)
	}
	mustSet(t, s, "none", "v", 0)
	if d, err := s.TTL(t.Context(), "none"); err != nil || d != 0 {
		t.Fatalf("TTL(no expiry) = %s, %v; want 0, nil", d, err)
	}
	mustSet(t, s, "ms", "v", 1500*time.Millisecond)
	if d, err := s.TTL(t.Context(), "ms"); err != nil || d <= time.Second || d > 1500*time.Millisecond {
		t.Fatalf("TTL = %s, %v; want millisecond precision near 1.5s", d, err)
	}
}

func testDelete(t *testing.T, s kv.Store) {
	mustSet(t, s, "d", "v", 0)
	mustSet(t, s, "keep", "v", 0)
	if err := s.Delete(t.Context(), "d"); err != nil {
		t.Fatal(err)
	}
	wantMissing(t, s, "d")
	wantValue(t, s, "keep", "v")
	if err := s.Delete(t.Context(), "d"); err != nil {
		t.Fatalf("second Delete = %v", err)
	}
}

func testSetNXRace(t *testing.T, s kv.Store) {
	const n = 50
	var wins atomic.Int32
	var winner atomic.Value
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			val := strconv.Itoa(i)
			ok, err := s.SetNX(t.Context(), "nx", []byte(val), time.Minute)
			if err != nil {
				errs <- err
				return
			}
			if ok {
				wins.Add(1)
				winner.Store(val)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("SetNX: %v", err)
	}
	if w := wins.Load(); w != 1 {
		t.Fatalf("%d winners, want exactly 1", w)
	}
	wantValue(t, s, "nx", winner.Load().(string))
	if d, err := s.TTL(t.Context(), "nx"); err != nil || d <= 0 || d > time.Minute {
		t.Fatalf("TTL after SetNX = %s, %v; want the given ttl", d, err)
	}
	// An existing value (even without ttl) blocks SetNX and stays unchanged.
	mustSet(t, s, "plain", "kept", 0)
	if ok, err := s.SetNX(t.Context(), "plain", []byte("new"), 0); err != nil || ok {
		t.Fatalf("SetNX on existing key = %v, %v; want false", ok, err)
	}
	wantValue(t, s, "plain", "kept")
}

func testSetNXExpiry(t *testing.T, s kv.Store) {
	start := time.Now()
	if ok, err := s.SetNX(t.Context(), "seen", []byte("1"), shortTTL); err != nil || !ok {
		t.Fatalf("first SetNX = %v, %v", ok, err)
	}
	if ok, err := s.SetNX(t.Context(), "seen", []byte("2"), shortTTL); err != nil || ok {
		t.Fatalf("second SetNX = %v, %v; want false", ok, err)
	}
	waitGone(t, s, "seen", start)
	if ok, err := s.SetNX(t.Context(), "seen", []byte("3"), 0); err != nil || !ok {
		t.Fatalf("SetNX after expiry = %v, %v; want true", ok, err)
	}
	wantValue(t, s, "seen", "3")
}

func testIncrConcurrent(t *testing.T, s kv.Store) {
	const n = 50
	seen := make([]atomic.Bool, n+1)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			v, err := s.Incr(t.Context(), "ctr", time.Minute)
			if err != nil {
				errs <- err
				return
			}
			if v < 1 || v > n || seen[v].Swap(true) {
				errs <- fmt.Errorf("Incr returned %d twice or out of 1..%d", v, n)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	wantValue(t, s, "ctr", strconv.Itoa(n))
}

func testIncrTTL(t *testing.T, s kv.Store) {
	ctx := t.Context()
	if v, err := s.Incr(ctx, "fails", 10*time.Second); err != nil || v != 1 {
		t.Fatalf("first Incr = %d, %v; want 1", v, err)
	}
	if v, err := s.Incr(ctx, "fails", time.Hour); err != nil || v != 2 {
		t.Fatalf("second Incr = %d, %v; want 2", v, err)
	}
	if d, err := s.TTL(ctx, "fails"); err != nil || d <= 0 || d > 10*time.Second {
		t.Fatalf("TTL = %s, %v; want the 10s from creation, not the later 1h", d, err)
	}

	// No ttl at creation: no expiry, and a later ttl does not add one.
	if _, err := s.Incr(ctx, "total", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr(ctx, "total", time.Minute); err != nil {
		t.Fatal(err)
	}
	if d, err := s.TTL(ctx, "total"); err != nil || d != 0 {
		t.Fatalf("TTL = %s, %v; want 0 (no expiry)", d, err)
	}

	// An existing counter set by Set keeps its value and expiry; "0" counts
	// as existing.
	mustSet(t, s, "zero", "0", 0)
	if v, err := s.Incr(ctx, "zero", time.Minute); err != nil || v != 1 {
		t.Fatalf("Incr on \"0\" = %d, %v; want 1", v, err)
	}
	if d, err := s.TTL(ctx, "zero"); err != nil || d != 0 {
		t.Fatalf("TTL = %s, %v; an existing key must keep its (absent) expiry", d, err)
	}
	mustSet(t, s, "forty", "41", time.Minute)
	if v, err := s.Incr(ctx, "forty", 0); err != nil || v != 42 {
		t.Fatalf("Incr on \"41\" = %d, %v; want 42", v, err)
	}
	wantValue(t, s, "forty", "42")

	// After the counter expires, the next Incr starts again at 1 with a new ttl.
	start := time.Now()
	if _, err := s.Incr(ctx, "window", shortTTL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, s, "window", start)
	if v, err := s.Incr(ctx, "window", time.Minute); err != nil || v != 1 {
		t.Fatalf("Incr after expiry = %d, %v; want 1", v, err)
	}
	if d, err := s.TTL(ctx, "window"); err != nil || d <= shortTTL {
		t.Fatalf("TTL = %s, %v; want the new 1m ttl", d, err)
	}
}

func testIncrNonInteger(t *testing.T, s kv.Store) {
	mustSet(t, s, "word", "abc", 0)
	if v, err := s.Incr(t.Context(), "word", 0); err == nil {
		t.Fatalf("Incr on %q = %d, want an error", "abc", v)
	}
	wantValue(t, s, "word", "abc")
}

// testLockExclusive increments a counter with a non-atomic read-modify-write
// under the lock: any overlap between holders loses updates.
func testLockExclusive(t *testing.T, s kv.Store) {
	const workers, rounds = 10, 10
	mustSet(t, s, "counter", "0", 0)
	var inside atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range rounds {
				if err := lockedIncrement(t.Context(), s, &inside); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	wantValue(t, s, "counter", strconv.Itoa(workers*rounds))
}

func lockedIncrement(ctx context.Context, s kv.Store, inside *atomic.Int32) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	unlock, err := s.Lock(ctx, "counter", 10*time.Second)
	if err != nil {
		return fmt.Errorf("Lock: %w", err)
	}
	defer unlock()
	if n := inside.Add(1); n != 1 {
		return fmt.Errorf("%d holders inside the lock at once", n)
	}
	defer inside.Add(-1)
	b, err := s.Get(ctx, "counter")
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return err
	}
	runtimeYield()
	return s.Set(ctx, "counter", []byte(strconv.Itoa(n+1)), 0)
}

// runtimeYield widens the race window so a broken lock shows up reliably.
func runtimeYield() { time.Sleep(100 * time.Microsecond) }

func testLockRelease(t *testing.T, s kv.Store) {
	unlock, err := s.Lock(t.Context(), "r", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	unlock() // a second call is harmless
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	unlock2, err := s.Lock(ctx, "r", time.Minute)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	// A waiter is let in promptly when the holder unlocks, long before the ttl.
	got := make(chan error, 1)
	start := time.Now()
	go func() {
		u, err := s.Lock(ctx, "r", time.Minute)
		if err == nil {
			u()
		}
		got <- err
	}()
	time.Sleep(20 * time.Millisecond)
	unlock2()
	if err := <-got; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	if took := time.Since(start); took > 900*time.Millisecond {
		t.Fatalf("waiter got the lock after %s", took)
	}
}

func testLockExpiry(t *testing.T, s kv.Store) {
	start := time.Now()
	if _, err := s.Lock(t.Context(), "crashed", shortTTL); err != nil {
		t.Fatal(err)
	}
	// The holder "crashes": never unlocks. Another caller gets in after ttl.
	ctx, cancel := context.WithTimeout(t.Context(), pollTimeout)
	defer cancel()
	unlock, err := s.Lock(ctx, "crashed", time.Minute)
	if err != nil {
		t.Fatalf("Lock after the holder's ttl: %v", err)
	}
	defer unlock()
	if took := time.Since(start); took < shortTTL-10*time.Millisecond {
		t.Fatalf("second holder got in after %s, before the first lock's ttl %s", took, shortTTL)
	}
}

func testStaleUnlock(t *testing.T, s kv.Store) {
	unlockA, err := s.Lock(t.Context(), "stale", shortTTL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), pollTimeout)
	defer cancel()
	unlockB, err := s.Lock(ctx, "stale", time.Minute) // waits for A's lock to expire
	if err != nil {
		t.Fatalf("B: %v", err)
	}
	unlockA() // A wakes up late: must not release B's lock
	short, cancelShort := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancelShort()
	if unlockC, err := s.Lock(short, "stale", time.Minute); err == nil {
		unlockC()
		t.Fatal("C got the lock: A's stale unlock released B's lock")
	} else if !errors.Is(err, kv.ErrLockTimeout) {
		t.Fatalf("C: %v, want ErrLockTimeout", err)
	}
	unlockB()
	unlockC, err := s.Lock(ctx, "stale", time.Minute)
	if err != nil {
		t.Fatalf("C after B unlocked: %v", err)
	}
	unlockC()
}

func testLockCtx(t *testing.T, s kv.Store) {
	unlock, err := s.Lock(t.Context(), "busy", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	u, err := s.Lock(ctx, "busy", time.Minute)
	if err == nil {
		u()
		t.Fatal("got a lock that is held")
	}
	if !errors.Is(err, kv.ErrLockTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrLockTimeout wrapping context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Lock returned %s after its deadline of 100ms", took)
	}

	canceled, cancel2 := context.WithCancel(t.Context())
	cancel2()
	if u, err := s.Lock(canceled, "busy", time.Minute); err == nil {
		u()
		t.Fatal("got a lock with a canceled ctx")
	} else if !errors.Is(err, kv.ErrLockTimeout) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrLockTimeout wrapping context.Canceled", err)
	}
	// Even a free lock is not taken with a canceled ctx.
	if u, err := s.Lock(canceled, "free", time.Minute); err == nil {
		u()
		t.Fatal("got a lock with a canceled ctx")
	}
}

func testLockNamespace(t *testing.T, s kv.Store) {
	mustSet(t, s, "sess:o1", "session", 0)
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	unlock, err := s.Lock(ctx, "sess:o1", time.Minute)
	if err != nil {
		t.Fatalf("Lock on a key that holds a value: %v", err)
	}
	wantValue(t, s, "sess:o1", "session")
	unlock()
	wantValue(t, s, "sess:o1", "session")
}

func testLockZeroTTL(t *testing.T, s kv.Store) {
	if u, err := s.Lock(t.Context(), "z", 0); err == nil {
		u()
		t.Fatal("Lock with ttl 0 succeeded; it would never expire")
	}
}

func testPing(t *testing.T, s kv.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// Bench measures the operations on the callback's hot path: a dedup SetNX, a
// session Get and Set, and a per-user Lock/unlock, from parallel goroutines
// on distinct keys; and, when s implements kv.Turns, a whole message's
// BeginTurn+EndTurn (claim, lock, two reads; settle, two writes, unlock).
func Bench(b *testing.B, s kv.Store) {
	ctx := b.Context()
	val := []byte(strings.Repeat("s", 256)) // about a serialized session
	var seq atomic.Int64
	b.Run("Set", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				k := "bench:set:" + strconv.FormatInt(seq.Add(1)%1024, 10)
				if err := s.Set(ctx, k, val, time.Minute); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("Get", func(b *testing.B) {
		for i := range 1024 {
			if err := s.Set(ctx, "bench:get:"+strconv.Itoa(i), val, time.Minute); err != nil {
				b.Fatal(err)
			}
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				k := "bench:get:" + strconv.FormatInt(seq.Add(1)%1024, 10)
				if _, err := s.Get(ctx, k); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("SetNX", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				k := "bench:nx:" + strconv.FormatInt(seq.Add(1), 10)
				if _, err := s.SetNX(ctx, k, val[:8], 2*time.Second); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("Incr", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				k := "bench:incr:" + strconv.FormatInt(seq.Add(1)%1024, 10)
				if _, err := s.Incr(ctx, k, time.Minute); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("LockUnlock", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				k := "bench:lock:" + strconv.FormatInt(seq.Add(1)%1024, 10)
				unlock, err := s.Lock(ctx, k, 10*time.Second)
				if err != nil {
					b.Fatal(err)
				}
				unlock()
			}
		})
	})
	if ts, ok := s.(kv.Turns); ok {
		b.Run("Turn", func(b *testing.B) { benchTurn(b, ts, val) })
	}
}

// benchTurn runs one message per iteration: a new delivery of one of 1024
// members per goroutine (each goroutine has its own members, so they never
// contend for a member's lock).
func benchTurn(b *testing.B, s kv.Turns, sess []byte) {
	ctx := b.Context()
	var seq, workers atomic.Int64
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	b.RunParallel(func(pb *testing.PB) {
		w := strconv.FormatInt(workers.Add(1), 10)
		for pb.Next() {
			n := seq.Add(1)
			tag := "{bench" + w + ":" + strconv.FormatInt(n%1024, 10) + "}"
			msg := run + ":" + strconv.FormatInt(n, 10)
			a := kv.BeginTurnArgs{
				MarkerKey: "bench:m:" + tag + msg, MarkerTTL: 2 * time.Second,
				StateKey: "bench:s:" + tag + msg, ClaimTTL: time.Second,
				LockKey: "bench:" + tag, LockToken: msg, LockTTL: 10 * time.Second,
				Reads: []string{"bench:sess:" + tag, "bench:last:" + tag},
			}
			st, err := s.BeginTurn(ctx, a)
			if err != nil {
				b.Fatal(err)
			}
			if st.Dup != kv.DupNone || !st.Locked {
				b.Fatalf("BeginTurn = %+v, want an owned, locked turn", st)
			}
			if err := s.EndTurn(ctx, kv.EndTurnArgs{
				MarkerKey: a.MarkerKey, StateKey: a.StateKey, State: sess[:128], StateTTL: 2 * time.Second,
				Writes: []kv.Write{
					{Key: a.Reads[0], Val: sess, TTL: time.Minute},
					{Key: a.Reads[1], Val: []byte("1700000000"), TTL: time.Minute},
				},
				LockKey: a.LockKey, LockToken: a.LockToken,
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// RedisAddrEnv names the test Redis: host:port, or a comma-separated list
// for a Cluster.
const RedisAddrEnv = "UNIONBOT_TEST_REDIS_ADDR"

const defaultRedisAddr = "127.0.0.1:6379"

// Redis returns a client for the test Redis, closed when the test ends. When
// the server is unreachable the test is skipped, or fails under CI=true so a
// green CI always means Redis was exercised.
func Redis(t testing.TB) redis.UniversalClient {
	t.Helper()
	addr := os.Getenv(RedisAddrEnv)
	if addr == "" {
		addr = defaultRedisAddr
	}
	var addrs []string
	for a := range strings.SplitSeq(addr, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	// A plain dial first: a refused connection fails at once, where the
	// client's retries would spend seconds on every test.
	var c redis.UniversalClient
	conn, err := net.DialTimeout("tcp", addrs[0], time.Second)
	if err == nil {
		conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		c, err = kv.OpenRedis(ctx, addrs, "", 0)
	}
	if err != nil {
		msg := fmt.Sprintf("redis unreachable at %s: %v; start one or set %s=host:port", addr, err, RedisAddrEnv)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Prefix returns a key prefix private to this test ("test:<random>:") on the
// test Redis, and deletes every key under it when the test ends. Like Redis,
// it skips the test (or fails under CI) when Redis is unreachable.
func Prefix(t testing.TB) string {
	t.Helper()
	return PrefixOn(t, Redis(t))
}

func randText() string { return rand.Text() }

// deletePrefix removes every key matching prefix*, on every master when c is
// a Cluster client.
func deletePrefix(ctx context.Context, c redis.UniversalClient, prefix string) error {
	scan := func(ctx context.Context, node redis.Cmdable) error {
		iter := node.Scan(ctx, 0, prefix+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			return err
		}
		// One DEL per key: in a Cluster, keys of one prefix span slots.
		for _, k := range keys {
			if err := node.Del(ctx, k).Err(); err != nil {
				return err
			}
		}
		return nil
	}
	if cc, ok := c.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			return scan(ctx, node)
		})
	}
	return scan(ctx, c)
}
