package kvtest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"unionbot/storage/kv"
)

// TurnStore is a backend with both contracts.
type TurnStore interface {
	kv.Store
	kv.Turns
}

// RunTurns runs the contract suite of kv.Turns. open must return a store in
// which the test's keys are private and whose markers expire within a few
// milliseconds of their ttl (Memory: a small WithMarkerGranularity).
func RunTurns(t *testing.T, open func(t *testing.T) TurnStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s TurnStore)
	}{
		{"first claim", testTurnFirstClaim},
		{"concurrent arrivals one owner", testTurnConcurrent},
		{"dup finds claim then settled state", testTurnDupFound},
		{"settle only while claimed", testTurnSettleOnlyClaimed},
		{"replay after state expired", testTurnDupExpired},
		{"takeover from dead owner", testTurnTakeover},
		{"marker expires", testTurnMarkerExpires},
		{"lock busy", testTurnLockBusy},
		{"reads in order", testTurnReads},
		{"writes set and delete", testTurnWrites},
		{"unlock needs token", testTurnUnlockToken},
		{"lock shared with Lock", testTurnLockInterop},
		{"acquire lock respects ctx", testTurnAcquireCtx},
		{"nonce", testTurnNonce},
		{"renew claim", testTurnRenew},
		{"invalid arguments", testTurnInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// turnKeys names the keys of one delivery of member oid, all with the
// member's hash tag as the callback names them.
type turnKeys struct {
	marker, state, lock, sess string
}

func keysFor(oid, msg string) turnKeys {
	tag := "{" + oid + "}"
	return turnKeys{
		marker: "wx:m:" + tag + ":" + msg,
		state:  "wx:s:" + tag + ":" + msg,
		lock:   "oid:" + tag,
		sess:   "sess:" + tag,
	}
}

func (k turnKeys) begin(token string, reads ...string) kv.BeginTurnArgs {
	return kv.BeginTurnArgs{
		MarkerKey: k.marker, MarkerTTL: time.Minute,
		StateKey: k.state, ClaimTTL: 10 * time.Second,
		LockKey: k.lock, LockToken: token, LockTTL: 10 * time.Second,
		Reads: reads,
	}
}

func (k turnKeys) end(token string, state string) kv.EndTurnArgs {
	a := kv.EndTurnArgs{MarkerKey: k.marker, StateKey: k.state, LockKey: k.lock, LockToken: token}
	if state != "" {
		a.State, a.StateTTL = []byte(state), time.Minute
	}
	return a
}

func begin(t *testing.T, s TurnStore, a kv.BeginTurnArgs) kv.TurnStart {
	t.Helper()
	ts, err := s.BeginTurn(t.Context(), a)
	if err != nil {
		t.Fatalf("BeginTurn: %v", err)
	}
	return ts
}

func end(t *testing.T, s TurnStore, a kv.EndTurnArgs) {
	t.Helper()
	if err := s.EndTurn(t.Context(), a); err != nil {
		t.Fatalf("EndTurn: %v", err)
	}
}

// wantTTL checks that key lives about want (within a generous margin below).
func wantTTL(t *testing.T, s kv.Store, key string, want time.Duration) {
	t.Helper()
	d, err := s.TTL(t.Context(), key)
	if err != nil {
		t.Fatalf("TTL(%q): %v", key, err)
	}
	if d <= 0 || d > want || d < want-want/4-time.Second {
		t.Fatalf("TTL(%q) = %s, want about %s", key, d, want)
	}
}

// wantLockFree checks that the lock named key can be taken now (and leaves
// it free again).
func wantLockFree(t *testing.T, s TurnStore, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := s.AcquireLock(ctx, key, "probe", time.Minute); err != nil {
		t.Fatalf("lock %q is not free: %v", key, err)
	}
	end(t, s, kv.EndTurnArgs{LockKey: key, LockToken: "probe"})
}

// wantLockHeld checks that the lock named key cannot be taken within 100 ms.
func wantLockHeld(t *testing.T, s TurnStore, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err := s.AcquireLock(ctx, key, "probe", time.Minute)
	if err == nil {
		end(t, s, kv.EndTurnArgs{LockKey: key, LockToken: "probe"})
		t.Fatalf("lock %q was free", key)
	}
	if !errors.Is(err, kv.ErrLockTimeout) {
		t.Fatalf("AcquireLock(%q) = %v, want ErrLockTimeout", key, err)
	}
}

func testTurnFirstClaim(t *testing.T, s TurnStore) {
	k := keysFor("o1", "1")
	ts := begin(t, s, k.begin("t1"))
	if ts.Dup != kv.DupNone || ts.TakenOver || ts.NonceReused || !ts.Locked {
		t.Fatalf("first arrival = %+v, want an owned, locked turn", ts)
	}
	if len(ts.Values) != 0 {
		t.Fatalf("Values = %q, want none (no Reads)", ts.Values)
	}
	wantValue(t, s, k.state, kv.ClaimValue)
	wantTTL(t, s, k.state, 10*time.Second)
	wantLockHeld(t, s, k.lock)
	end(t, s, k.end("t1", "reply"))
	wantValue(t, s, k.state, "reply")
	wantTTL(t, s, k.state, time.Minute)
	wantLockFree(t, s, k.lock)

	// A turn with no dedup part is just lock + reads.
	mustSet(t, s, k.sess, "session", time.Minute)
	ts = begin(t, s, kv.BeginTurnArgs{LockKey: k.lock, LockToken: "t2", LockTTL: time.Minute, Reads: []string{k.sess}})
	if ts.Dup != kv.DupNone || !ts.Locked || len(ts.Values) != 1 || string(ts.Values[0]) != "session" {
		t.Fatalf("lock-only turn = %+v", ts)
	}
	// Reads without a lock are read at once.
	ts = begin(t, s, kv.BeginTurnArgs{Reads: []string{k.sess}})
	if ts.Locked || len(ts.Values) != 1 || string(ts.Values[0]) != "session" {
		t.Fatalf("reads-only turn = %+v", ts)
	}
}

func testTurnConcurrent(t *testing.T, s TurnStore) {
	const n = 40
	k := keysFor("o2", "7")
	mustSet(t, s, k.sess, "session", time.Minute)
	var owners, locked, found atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			ts, err := s.BeginTurn(t.Context(), k.begin("t"+strconv.Itoa(i), k.sess))
			if err != nil {
				errs <- err
				return
			}
			switch ts.Dup {
			case kv.DupNone:
				owners.Add(1)
				if len(ts.Values) != 1 || string(ts.Values[0]) != "session" {
					errs <- errors.New("the owner did not get its reads")
				}
			case kv.DupFound:
				found.Add(1)
				if string(ts.State) != kv.ClaimValue || ts.Values != nil {
					errs <- errors.New("a duplicate got reads or a state other than the claim")
				}
			default:
				errs <- errors.New("unexpected DupExpired")
			}
			if ts.Locked {
				locked.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if owners.Load() != 1 || locked.Load() != 1 || found.Load() != n-1 {
		t.Fatalf("owners %d, locked %d, found %d; want 1, 1, %d", owners.Load(), locked.Load(), found.Load(), n-1)
	}
}

func testTurnDupFound(t *testing.T, s TurnStore) {
	k := keysFor("o3", "1")
	begin(t, s, k.begin("t1"))
	ts := begin(t, s, k.begin("t2"))
	if ts.Dup != kv.DupFound || string(ts.State) != kv.ClaimValue || ts.Locked || ts.Values != nil {
		t.Fatalf("retry while working = %+v, want DupFound with the claim", ts)
	}
	end(t, s, k.end("t1", "the reply"))
	ts = begin(t, s, k.begin("t3"))
	if ts.Dup != kv.DupFound || string(ts.State) != "the reply" || ts.Locked {
		t.Fatalf("retry after settle = %+v, want DupFound with the reply", ts)
	}
	// A duplicate neither took the lock nor touched the state.
	wantLockFree(t, s, k.lock)
	wantValue(t, s, k.state, "the reply")
	// An empty settled value is a value.
	k2 := keysFor("o3", "2")
	begin(t, s, k2.begin("t4"))
	end(t, s, kv.EndTurnArgs{MarkerKey: k2.marker, StateKey: k2.state, State: []byte{}, StateTTL: time.Minute})
	ts = begin(t, s, k2.begin("t5"))
	if ts.Dup != kv.DupFound || ts.State == nil || len(ts.State) != 0 {
		t.Fatalf("retry after an empty settle = %+v, want DupFound with an empty state", ts)
	}
}

func testTurnSettleOnlyClaimed(t *testing.T, s TurnStore) {
	k := keysFor("o4", "1")
	begin(t, s, k.begin("t1"))
	end(t, s, k.end("t1", "first"))
	// A second settle (a slow owner after a takeover) does not overwrite.
	end(t, s, k.end("t1", "second"))
	wantValue(t, s, k.state, "first")
	wantTTL(t, s, k.state, time.Minute)

	// Settled, then the state expired: a late settle leaves it gone, and the
	// delivery stays a replay.
	if err := s.Delete(t.Context(), k.state); err != nil {
		t.Fatal(err)
	}
	end(t, s, k.end("t1", "late"))
	wantMissing(t, s, k.state)
	if ts := begin(t, s, k.begin("t2")); ts.Dup != kv.DupExpired {
		t.Fatalf("after a late settle = %+v, want DupExpired", ts)
	}

	// A claim that lapsed with nobody taking over is still settled by its
	// owner, so a later retry does not run the message again.
	k2 := keysFor("o4", "2")
	begin(t, s, k2.begin("t3"))
	if err := s.Delete(t.Context(), k2.state); err != nil {
		t.Fatal(err)
	}
	end(t, s, k2.end("t3", "done"))
	wantValue(t, s, k2.state, "done")
	if ts := begin(t, s, k2.begin("t4")); ts.Dup != kv.DupFound || string(ts.State) != "done" {
		t.Fatalf("after settling a lapsed claim = %+v, want DupFound with the reply", ts)
	}

	// No State: the claim stays, only the lock goes.
	k3 := keysFor("o4", "3")
	begin(t, s, k3.begin("t5"))
	end(t, s, k3.end("t5", ""))
	wantValue(t, s, k3.state, kv.ClaimValue)
	wantLockFree(t, s, k3.lock)
}

func testTurnDupExpired(t *testing.T, s TurnStore) {
	k := keysFor("o5", "1")
	begin(t, s, k.begin("t1"))
	a := k.end("t1", "reply")
	a.StateTTL = shortTTL
	start := time.Now()
	end(t, s, a)
	waitGone(t, s, k.state, start)
	ts := begin(t, s, k.begin("t2"))
	if ts.Dup != kv.DupExpired || ts.State != nil || ts.Locked || ts.TakenOver || ts.Values != nil {
		t.Fatalf("replay after the state expired = %+v, want DupExpired and nothing else", ts)
	}
	wantMissing(t, s, k.state)
	wantLockFree(t, s, k.lock)
}

func testTurnTakeover(t *testing.T, s TurnStore) {
	k := keysFor("o6", "1")
	a := k.begin("dead")
	a.ClaimTTL, a.LockTTL = shortTTL, shortTTL
	start := time.Now()
	begin(t, s, a)
	// The owner dies: nobody renews the claim.
	waitGone(t, s, k.state, start)
	ts := begin(t, s, k.begin("heir"))
	if ts.Dup != kv.DupNone || !ts.TakenOver {
		t.Fatalf("arrival after the owner died = %+v, want a takeover", ts)
	}
	wantValue(t, s, k.state, kv.ClaimValue)
	wantTTL(t, s, k.state, 10*time.Second)
	// The heir works and settles like any owner.
	if !ts.Locked {
		// The dead owner's lock may outlive its claim by a moment.
		ctx, cancel := context.WithTimeout(t.Context(), pollTimeout)
		defer cancel()
		if err := s.AcquireLock(ctx, k.lock, "heir", 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if again := begin(t, s, k.begin("late")); again.Dup != kv.DupFound || string(again.State) != kv.ClaimValue {
		t.Fatalf("arrival during the takeover = %+v, want DupFound", again)
	}
	end(t, s, k.end("heir", "reply"))
	if again := begin(t, s, k.begin("late")); again.Dup != kv.DupFound || string(again.State) != "reply" {
		t.Fatalf("arrival after the takeover settled = %+v", again)
	}
}

func testTurnMarkerExpires(t *testing.T, s TurnStore) {
	k := keysFor("o7", "1")
	a := k.begin("t1")
	a.MarkerTTL, a.ClaimTTL = shortTTL, shortTTL
	begin(t, s, a)
	e := k.end("t1", "r")
	e.StateTTL = shortTTL
	end(t, s, e)
	// Once the marker has expired too, the delivery is new again (its
	// signature would have been refused long before).
	time.Sleep(shortTTL + 50*time.Millisecond)
	ts := begin(t, s, k.begin("t2"))
	if ts.Dup != kv.DupNone || ts.TakenOver || !ts.Locked {
		t.Fatalf("arrival after the marker expired = %+v, want a fresh claim", ts)
	}
}

func testTurnLockBusy(t *testing.T, s TurnStore) {
	k := keysFor("o8", "1")
	mustSet(t, s, k.sess, "v1", time.Minute)
	if err := s.AcquireLock(t.Context(), k.lock, "other", time.Minute); err != nil {
		t.Fatal(err)
	}
	ts := begin(t, s, k.begin("mine", k.sess))
	if ts.Dup != kv.DupNone || ts.Locked || ts.Values != nil {
		t.Fatalf("turn with the lock busy = %+v, want owned, unlocked, no reads", ts)
	}
	wantValue(t, s, k.state, kv.ClaimValue) // the delivery is claimed all the same
	// The caller waits for the lock, then reads.
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), pollTimeout)
		defer cancel()
		got <- s.AcquireLock(ctx, k.lock, "mine", time.Minute)
	}()
	time.Sleep(20 * time.Millisecond)
	mustSet(t, s, k.sess, "v2", time.Minute) // the other message saves, then unlocks
	end(t, s, kv.EndTurnArgs{LockKey: k.lock, LockToken: "other"})
	if err := <-got; err != nil {
		t.Fatalf("AcquireLock after release: %v", err)
	}
	vals, err := s.GetMany(t.Context(), k.sess)
	if err != nil || len(vals) != 1 || string(vals[0]) != "v2" {
		t.Fatalf("GetMany = %q, %v; want the saved session", vals, err)
	}
	end(t, s, k.end("mine", "reply"))
	wantLockFree(t, s, k.lock)
}

func testTurnReads(t *testing.T, s TurnStore) {
	k := keysFor("o9", "1")
	last, hand := "last:{o9}", "hand:{o9}"
	mustSet(t, s, k.sess, "session", time.Minute)
	mustSet(t, s, hand, "", time.Minute)
	reads := []string{hand, "missing:{o9}", k.sess, last}
	ts := begin(t, s, k.begin("t1", reads...))
	if !ts.Locked || len(ts.Values) != len(reads) {
		t.Fatalf("turn = %+v, want %d values", ts, len(reads))
	}
	if ts.Values[0] == nil || len(ts.Values[0]) != 0 || ts.Values[1] != nil ||
		string(ts.Values[2]) != "session" || ts.Values[3] != nil {
		t.Fatalf("Values = %q, want [\"\" nil session nil]", ts.Values)
	}
	// Values are copies.
	copy(ts.Values[2], "XXXXXXX")
	vals, err := s.GetMany(t.Context(), reads...)
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != 4 || vals[0] == nil || vals[1] != nil || string(vals[2]) != "session" || vals[3] != nil {
		t.Fatalf("GetMany = %q", vals)
	}
	if vals, err := s.GetMany(t.Context()); err != nil || len(vals) != 0 {
		t.Fatalf("GetMany() = %q, %v; want nothing", vals, err)
	}
}

func testTurnWrites(t *testing.T, s TurnStore) {
	k := keysFor("o10", "1")
	mustSet(t, s, "gone:{o10}", "x", time.Minute)
	begin(t, s, k.begin("t1"))
	a := k.end("t1", "reply")
	a.Writes = []kv.Write{
		{Key: k.sess, Val: []byte("new session"), TTL: 30 * time.Minute},
		{Key: "last:{o10}", Val: []byte("1700000000"), TTL: 0},
		{Key: "empty:{o10}", Val: []byte{}, TTL: time.Minute},
		{Key: "gone:{o10}"},
		{Key: "never:{o10}"},
		{Key: "twice:{o10}", Val: []byte("a"), TTL: time.Minute},
		{Key: "twice:{o10}", Val: []byte("b"), TTL: 2 * time.Minute},
	}
	end(t, s, a)
	wantValue(t, s, k.sess, "new session")
	wantTTL(t, s, k.sess, 30*time.Minute)
	wantValue(t, s, "last:{o10}", "1700000000")
	if d, err := s.TTL(t.Context(), "last:{o10}"); err != nil || d != 0 {
		t.Fatalf("TTL of a write without ttl = %s, %v; want no expiry", d, err)
	}
	wantValue(t, s, "empty:{o10}", "")
	wantMissing(t, s, "gone:{o10}")
	wantMissing(t, s, "never:{o10}")
	wantValue(t, s, "twice:{o10}", "b")
	wantTTL(t, s, "twice:{o10}", 2*time.Minute)
	wantLockFree(t, s, k.lock)
}

func testTurnUnlockToken(t *testing.T, s TurnStore) {
	k := keysFor("o11", "1")
	begin(t, s, k.begin("right"))
	end(t, s, k.end("wrong", ""))
	wantLockHeld(t, s, k.lock)
	end(t, s, k.end("right", ""))
	wantLockFree(t, s, k.lock)
}

func testTurnLockInterop(t *testing.T, s TurnStore) {
	k := keysFor("o12", "1")
	begin(t, s, k.begin("t1"))
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if unlock, err := s.Lock(ctx, k.lock, time.Minute); err == nil {
		unlock()
		t.Fatal("Lock got a lock a turn holds")
	}
	// The lock is not a value under the same name.
	wantMissing(t, s, k.lock)
	end(t, s, k.end("t1", ""))
	unlock, err := s.Lock(t.Context(), k.lock, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if ts := begin(t, s, kv.BeginTurnArgs{LockKey: k.lock, LockToken: "t2", LockTTL: time.Minute}); ts.Locked {
		t.Fatal("a turn got a lock Lock holds")
	}
	unlock()
}

func testTurnAcquireCtx(t *testing.T, s TurnStore) {
	k := keysFor("o13", "1")
	if err := s.AcquireLock(t.Context(), k.lock, "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.AcquireLock(ctx, k.lock, "b", time.Minute)
	if !errors.Is(err, kv.ErrLockTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("AcquireLock on a held lock = %v, want ErrLockTimeout wrapping DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("AcquireLock returned %s after a 100ms deadline", took)
	}
	// A lock whose holder never releases it expires.
	if err := s.AcquireLock(t.Context(), "crash:{o13}", "a", shortTTL); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(t.Context(), pollTimeout)
	defer cancel2()
	if err := s.AcquireLock(ctx2, "crash:{o13}", "b", time.Minute); err != nil {
		t.Fatalf("AcquireLock after the holder's ttl: %v", err)
	}
	if err := s.AcquireLock(t.Context(), "zero:{o13}", "a", 0); err == nil {
		t.Fatal("AcquireLock with ttl 0 succeeded")
	}
}

func testTurnNonce(t *testing.T, s TurnStore) {
	nonce := "wx:nonce:1700000000:abc"
	withNonce := func(k turnKeys, token, body string) kv.BeginTurnArgs {
		a := k.begin(token, k.sess)
		a.NonceKey, a.NonceVal, a.NonceTTL = nonce, []byte(body), time.Minute
		return a
	}
	k1 := keysFor("o14", "1")
	mustSet(t, s, k1.sess, "session", time.Minute)
	if ts := begin(t, s, withNonce(k1, "t1", "body A")); ts.NonceReused || ts.Dup != kv.DupNone || !ts.Locked {
		t.Fatalf("first use of a nonce = %+v", ts)
	}
	end(t, s, k1.end("t1", "reply"))
	// The same pair with another body (a forged message): refused, nothing done.
	k2 := keysFor("o15", "9")
	mustSet(t, s, k2.sess, "session", time.Minute)
	ts := begin(t, s, withNonce(k2, "t2", "body B"))
	if !ts.NonceReused || ts.Locked || ts.Values != nil || ts.Dup != kv.DupNone {
		t.Fatalf("nonce with another body = %+v, want NonceReused only", ts)
	}
	wantMissing(t, s, k2.state)
	wantLockFree(t, s, k2.lock)
	// WeChat's retry of the same body passes the nonce check and meets dedup.
	ts = begin(t, s, withNonce(k1, "t3", "body A"))
	if ts.NonceReused || ts.Dup != kv.DupFound || string(ts.State) != "reply" {
		t.Fatalf("retry with the same body = %+v, want DupFound with the reply", ts)
	}
	// The nonce expires with its ttl.
	a := withNonce(keysFor("o16", "1"), "t4", "x")
	a.NonceKey, a.NonceTTL = "wx:nonce:1700000000:short", shortTTL
	begin(t, s, a)
	time.Sleep(shortTTL + 50*time.Millisecond)
	b := withNonce(keysFor("o16", "2"), "t5", "y")
	b.NonceKey = a.NonceKey
	if ts := begin(t, s, b); ts.NonceReused {
		t.Fatal("an expired nonce still refuses another body")
	}
	// Nonce alone.
	only := kv.BeginTurnArgs{NonceKey: "wx:nonce:1:only", NonceVal: []byte("z"), NonceTTL: time.Minute}
	if ts := begin(t, s, only); ts.NonceReused {
		t.Fatal("first nonce-only turn refused")
	}
	only.NonceVal = []byte("zz")
	if ts := begin(t, s, only); !ts.NonceReused {
		t.Fatal("nonce-only turn with another body accepted")
	}
}

func testTurnRenew(t *testing.T, s TurnStore) {
	k := keysFor("o17", "1")
	a := k.begin("t1")
	a.ClaimTTL = 5 * time.Second
	begin(t, s, a)
	if ok, err := s.RenewClaim(t.Context(), k.state, time.Minute); err != nil || !ok {
		t.Fatalf("RenewClaim while claimed = %v, %v; want true", ok, err)
	}
	wantTTL(t, s, k.state, time.Minute)
	wantValue(t, s, k.state, kv.ClaimValue)
	e := k.end("t1", "reply")
	e.StateTTL = 30 * time.Second
	end(t, s, e)
	if ok, err := s.RenewClaim(t.Context(), k.state, time.Hour); err != nil || ok {
		t.Fatalf("RenewClaim after settle = %v, %v; want false", ok, err)
	}
	wantValue(t, s, k.state, "reply")
	wantTTL(t, s, k.state, 30*time.Second)
	if ok, err := s.RenewClaim(t.Context(), "wx:s:{o17}:none", time.Minute); err != nil || ok {
		t.Fatalf("RenewClaim of a missing claim = %v, %v; want false", ok, err)
	}
	wantMissing(t, s, "wx:s:{o17}:none")
}

func testTurnInvalid(t *testing.T, s TurnStore) {
	k := keysFor("o18", "1")
	bad := []kv.BeginTurnArgs{
		{MarkerKey: k.marker, MarkerTTL: time.Minute},
		{StateKey: k.state, ClaimTTL: time.Minute},
		{MarkerKey: k.marker, StateKey: k.state, ClaimTTL: time.Minute},
		{MarkerKey: k.marker, StateKey: k.state, MarkerTTL: time.Minute},
		{LockKey: k.lock, LockToken: "t"},
		{LockKey: k.lock, LockTTL: time.Minute},
		{NonceKey: "n", NonceVal: []byte("v")},
	}
	for i, a := range bad {
		if ts, err := s.BeginTurn(t.Context(), a); err == nil {
			t.Errorf("BeginTurn(bad %d) = %+v, want an error", i, ts)
		}
	}
	badEnd := []kv.EndTurnArgs{
		{State: []byte("x"), StateTTL: time.Minute},
		{MarkerKey: k.marker, StateKey: k.state, State: []byte("x")},
		{LockKey: k.lock},
		{Writes: []kv.Write{{Val: []byte("x")}}},
	}
	for i, a := range badEnd {
		if err := s.EndTurn(t.Context(), a); err == nil {
			t.Errorf("EndTurn(bad %d) succeeded", i)
		}
	}
	wantMissing(t, s, k.state)
	wantLockFree(t, s, k.lock)
}
