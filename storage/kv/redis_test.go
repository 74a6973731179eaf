package kv_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"unionbot/storage/kv"
	"unionbot/storage/kv/kvtest"
)

func TestRedis(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store {
		return kv.NewRedis(kvtest.Redis(t), kvtest.Prefix(t))
	})
}

// TestRedisPrefix checks that every key, lock keys included, lands under the
// prefix, so deployments and tests sharing a server stay apart.
func TestRedisPrefix(t *testing.T) {
	c := kvtest.Redis(t)
	prefix := kvtest.Prefix(t)
	s := kv.NewRedis(c, prefix)
	ctx := t.Context()
	if err := s.Set(ctx, "a", []byte("1"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr(ctx, "b", time.Minute); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock(ctx, "c", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := s.BeginTurn(ctx, kv.BeginTurnArgs{
		NonceKey: "n", NonceVal: []byte("b"), NonceTTL: time.Minute,
		MarkerKey: "m{o}", MarkerTTL: time.Minute, StateKey: "s{o}", ClaimTTL: time.Minute,
		LockKey: "l{o}", LockToken: "t", LockTTL: time.Minute, Reads: []string{"r{o}"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.EndTurn(ctx, kv.EndTurnArgs{Writes: []kv.Write{{Key: "w{o}", Val: []byte("x"), TTL: time.Minute}}}); err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{prefix + "a": true, prefix + "b": true, prefix + "lock:c": true,
		prefix + "n": true, prefix + "m{o}": true, prefix + "s{o}": true, prefix + "lock:l{o}": true, prefix + "w{o}": true}
	if len(keys) != len(want) {
		t.Fatalf("keys under prefix = %v, want %d keys", keys, len(want))
	}
	for _, k := range keys {
		if !want[k] {
			t.Errorf("unexpected key %q", k)
		}
	}
	if v, err := c.Get(ctx, prefix+"a").Result(); err != nil || v != "1" {
		t.Fatalf("raw GET = %q, %v", v, err)
	}
	other := kv.NewRedis(c, prefix+"other:")
	if _, err := other.Get(ctx, "a"); err == nil {
		t.Fatal("a store with another prefix sees the key")
	}
}

// TestRedisPrefixBrace: a "{" in the prefix would be every key's hash tag,
// so the store refuses to work with it, loudly.
func TestRedisPrefixBrace(t *testing.T) {
	c := kvtest.Redis(t)
	if err := kv.ValidateRedisPrefix("unionbot:"); err != nil {
		t.Fatalf("plain prefix refused: %v", err)
	}
	s := kv.NewRedis(c, "bad{x}:")
	if err := s.Ping(t.Context()); !errors.Is(err, kv.ErrRedisPrefix) {
		t.Fatalf("Ping = %v, want ErrRedisPrefix", err)
	}
	if err := s.Set(t.Context(), "k", []byte("v"), time.Minute); !errors.Is(err, kv.ErrRedisPrefix) {
		t.Fatalf("Set = %v, want ErrRedisPrefix", err)
	}
	if _, err := s.BeginTurn(t.Context(), kv.BeginTurnArgs{Reads: []string{"k"}}); !errors.Is(err, kv.ErrRedisPrefix) {
		t.Fatalf("BeginTurn = %v, want ErrRedisPrefix", err)
	}
	if n, err := c.Exists(t.Context(), "bad{x}:k").Result(); err != nil || n != 0 {
		t.Fatalf("the refused store wrote a key: %d, %v", n, err)
	}
}

func TestOpenRedisUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	// Port 1 on loopback refuses connections at once.
	_, err := kv.OpenRedis(ctx, []string{"127.0.0.1:1"}, "", 0)
	if err == nil {
		t.Fatal("OpenRedis on a closed port succeeded")
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("error %q does not name the address", err)
	}
	if _, err := kv.OpenRedis(ctx, []string{"a:1", "b:1"}, "", 3); err == nil {
		t.Fatal("OpenRedis accepted db 3 for a cluster")
	}
}

func TestRedisUnreachableErrors(t *testing.T) {
	// A client that cannot connect (a closed loopback port): every operation reports an error, and
	// Lock returns it instead of spinning until its ctx ends.
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	dc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { dc.Close() })
	dead := kv.NewRedis(dc, "x:")
	if _, err := dead.Get(ctx, "k"); err == nil || errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get on dead redis = %v, want a connection error", err)
	}
	start := time.Now()
	if _, err := dead.Lock(ctx, "k", time.Second); err == nil {
		t.Fatal("Lock on dead redis succeeded")
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("Lock on dead redis waited for its ctx instead of failing")
	}
	if err := dead.Ping(ctx); err == nil {
		t.Fatal("Ping on dead redis succeeded")
	}
}

func BenchmarkRedis(b *testing.B) {
	kvtest.Bench(b, kv.NewRedis(kvtest.Redis(b), kvtest.Prefix(b)))
}

func TestRedisTurns(t *testing.T) {
	kvtest.RunTurns(t, func(t *testing.T) kvtest.TurnStore {
		return kv.NewRedis(kvtest.Redis(t), kvtest.Prefix(t))
	})
}

func TestRedisCluster(t *testing.T) {
	c := kvtest.Cluster(t)
	kvtest.Run(t, func(t *testing.T) kv.Store {
		return kv.NewRedis(c, kvtest.PrefixOn(t, c))
	})
}

func TestRedisClusterTurns(t *testing.T) {
	c := kvtest.Cluster(t)
	kvtest.RunTurns(t, func(t *testing.T) kvtest.TurnStore {
		return kv.NewRedis(c, kvtest.PrefixOn(t, c))
	})
}

// TestRedisTurnRoundTrips counts what one ordinary message costs on the wire:
// BeginTurn and EndTurn, one round trip each, on a single server and on a
// Cluster alike (safe mode). Plain mode's nonce rides in BeginTurn's script
// on a single server and takes a round trip of its own on a Cluster.
func TestRedisTurnRoundTrips(t *testing.T) {
	for _, tc := range []struct {
		name       string
		client     func(t *testing.T) redis.UniversalClient
		nonceTrips int
	}{
		{"single", func(t *testing.T) redis.UniversalClient { return kvtest.Redis(t) }, 2},
		{"cluster", func(t *testing.T) redis.UniversalClient { return kvtest.Cluster(t) }, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.client(t)
			s := kv.NewRedis(c, kvtest.PrefixOn(t, c))
			rt := kvtest.Count(c)
			ctx := t.Context()
			turn := func(oid, msg string, nonce bool) {
				t.Helper()
				tag := "{" + oid + "}"
				a := kv.BeginTurnArgs{
					MarkerKey: "wx:m:" + tag + ":" + msg, MarkerTTL: 10 * time.Minute,
					StateKey: "wx:s:" + tag + ":" + msg, ClaimTTL: 10 * time.Second,
					LockKey: "oid:" + tag, LockToken: "t" + msg, LockTTL: 30 * time.Second,
					Reads: []string{"sess:" + tag, "last:" + tag},
				}
				if nonce {
					a.NonceKey, a.NonceVal, a.NonceTTL = "wx:nonce:"+oid+":"+msg, []byte("body hash"), 10*time.Minute
				}
				ts, err := s.BeginTurn(ctx, a)
				if err != nil || ts.Dup != kv.DupNone || !ts.Locked || len(ts.Values) != 2 {
					t.Fatalf("BeginTurn = %+v, %v", ts, err)
				}
				if err := s.EndTurn(ctx, kv.EndTurnArgs{
					MarkerKey: a.MarkerKey, StateKey: a.StateKey, State: []byte("sealed reply"), StateTTL: 30 * time.Second,
					Writes: []kv.Write{
						{Key: "sess:" + tag, Val: []byte("session"), TTL: time.Hour},
						{Key: "last:" + tag, Val: []byte("1700000000"), TTL: 48 * time.Hour},
					},
					LockKey: a.LockKey, LockToken: a.LockToken,
				}); err != nil {
					t.Fatal(err)
				}
			}
			want := func(what string, n int) {
				t.Helper()
				if got := rt.RoundTrips(); got != n {
					t.Fatalf("%s: %s, want %d", what, rt, n)
				}
			}

			turn("warm", "0", true) // loads the scripts on this member's node
			rt.Reset()
			turn("warm", "1", false)
			want("a message in safe mode", 2)
			rt.Reset()
			turn("warm", "2", true)
			want("a message in plain mode", tc.nonceTrips)

			// A retry of a settled delivery is one round trip.
			rt.Reset()
			ts, err := s.BeginTurn(ctx, kv.BeginTurnArgs{
				MarkerKey: "wx:m:{warm}:1", MarkerTTL: time.Minute, StateKey: "wx:s:{warm}:1", ClaimTTL: time.Second,
				LockKey: "oid:{warm}", LockToken: "x", LockTTL: time.Second,
			})
			if err != nil || ts.Dup != kv.DupFound || string(ts.State) != "sealed reply" {
				t.Fatalf("retry = %+v, %v", ts, err)
			}
			want("a retry", 1)

			// With the scripts preloaded on every node, members on any node
			// cost two round trips from their first message.
			if err := s.LoadScripts(ctx); err != nil {
				t.Fatal(err)
			}
			for i := range 12 {
				rt.Reset()
				turn("member"+strconv.Itoa(i), "1", false)
				want("a member's first message after LoadScripts", 2)
			}
		})
	}
}

func BenchmarkRedisCluster(b *testing.B) {
	c := kvtest.Cluster(b)
	kvtest.Bench(b, kv.NewRedis(c, kvtest.PrefixOn(b, c)))
}
