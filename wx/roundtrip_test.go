package wx

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"unionbot/localwx"
	"unionbot/storage/kv"
	"unionbot/storage/kv/kvtest"
)

// clusterEnv names the test Redis Cluster (comma-separated seed addresses).
const clusterEnv = "UNIONBOT_TEST_REDIS_CLUSTER"

// roundTrips counts the commands and pipelines a go-redis client sends: one
// each is one network round trip (a script is one command).
type roundTrips struct {
	mu   sync.Mutex
	cmds []string
}

func (c *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.add(cmd.Name())
		return next(ctx, cmd)
	}
}

func (c *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		for i, cmd := range cmds {
			names[i] = cmd.Name()
		}
		c.add("pipeline(" + strings.Join(names, ",") + ")")
		return next(ctx, cmds)
	}
}

func (c *roundTrips) add(name string) {
	c.mu.Lock()
	c.cmds = append(c.cmds, name)
	c.mu.Unlock()
}

// take returns the commands counted since the last take.
func (c *roundTrips) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.cmds
	c.cmds = nil
	return out
}

// clusterClient returns a client for the test Cluster, or skips (fails under
// CI) when none is configured or reachable.
func clusterClient(t *testing.T) redis.UniversalClient {
	t.Helper()
	env := os.Getenv(clusterEnv)
	if env == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set under CI", clusterEnv)
		}
		t.Skipf("no Redis Cluster: set %s=127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103 (the test script starts one)", clusterEnv)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	c, err := kv.OpenRedis(ctx, strings.Split(env, ","), "", 0)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis cluster at %s: %v", env, err)
		}
		t.Skipf("redis cluster at %s unreachable: %v", env, err)
	}
	if _, ok := c.(*redis.ClusterClient); !ok {
		t.Fatalf("%s=%s did not give a cluster client", clusterEnv, env)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// cleanPrefix deletes the keys under prefix on every master when the test ends.
func cleanPrefix(t *testing.T, c redis.UniversalClient, prefix string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		del := func(ctx context.Context, n *redis.Client) error {
			iter := n.Scan(ctx, 0, prefix+"*", 500).Iterator()
			for iter.Next(ctx) {
				n.Del(ctx, iter.Val())
			}
			return iter.Err()
		}
		if cc, ok := c.(*redis.ClusterClient); ok {
			_ = cc.ForEachMaster(ctx, del)
		} else if n, ok := c.(*redis.Client); ok {
			_ = del(ctx, n)
		}
	})
}

// TestRoundTripsPerMessage counts the Redis round trips of one ordinary
// message through the real callback (localwx plays WeChat, the real engine
// answers): at most two — BeginTurn and EndTurn — on a single Redis and on a
// real Redis Cluster. A count, not a timing.
func TestRoundTripsPerMessage(t *testing.T) {
	backends := []struct {
		name   string
		client func(t *testing.T) redis.UniversalClient
		// plain mode checks its nonce with a separate command on a Cluster
		// (the nonce key cannot share the member's slot).
		plainMax int
	}{
		{"redis", func(t *testing.T) redis.UniversalClient { return kvtest.Redis(t) }, 2},
		{"cluster", clusterClient, 3},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			c := b.client(t)
			counter := &roundTrips{}
			c.AddHook(counter)
			prefix := "test:rt" + strings.ToLower(rand.Text()[:10]) + ":"
			cleanPrefix(t, c, prefix)
			store := kv.NewRedis(c, prefix)

			for _, mode := range []struct {
				mode localwx.Mode
				max  int
			}{{localwx.Safe, 2}, {localwx.Plain, b.plainMax}} {
				h := newWXHarness(t, wxHarnessOptions{mode: mode.mode, store: store})
				send := func(openID, text string) []string {
					t.Helper()
					counter.take()
					resp, err := h.client.Send(t.Context(), localwx.TextMsg(openID, text))
					if err != nil || resp.Text != "echo:"+text {
						t.Fatalf("%s: reply %q, %v", text, resp.Text, err)
					}
					return counter.take()
				}
				// The first message loads the scripts (EVALSHA, then EVAL).
				send("oWarm"+mode.mode.String(), "warm up")
				member := "oRT" + mode.mode.String()
				for _, text := range []string{"会费怎么交", "remember", "第二个问题", "forget"} {
					cmds := send(member, text)
					t.Logf("%s/%s %q: %d round trips %v", b.name, mode.mode, text, len(cmds), cmds)
					if len(cmds) > mode.max {
						t.Errorf("%s mode, %q: %d round trips %v, want at most %d", mode.mode, text, len(cmds), cmds, mode.max)
					}
				}
				// A retry after the reply: one round trip, the kept reply.
				p := wxPrepare(t, h, localwx.TextMsg(member, "重试"))
				if _, err := h.client.Do(t.Context(), p); err != nil {
					t.Fatal(err)
				}
				counter.take()
				resp, err := h.client.Do(t.Context(), p)
				cmds := counter.take()
				t.Logf("%s/%s retry: %d round trips %v", b.name, mode.mode, len(cmds), cmds)
				if err != nil || resp.Text != "echo:重试" || len(cmds) > mode.max-1 {
					t.Errorf("retry: %q, %v, %d round trips %v", resp.Text, err, len(cmds), cmds)
				}
			}
		})
	}
}
