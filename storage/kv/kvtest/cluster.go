package kvtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"unionbot/storage/kv"
)

// RedisClusterEnv names the test Redis Cluster: a comma-separated list of
// its nodes. scripts/test.sh starts a three-node cluster and sets it.
const RedisClusterEnv = "UNIONBOT_TEST_REDIS_CLUSTER"

// Cluster returns a Cluster client for the test Redis Cluster (kv.OpenRedis
// with several addresses), closed when the test ends. When the variable is
// unset or the cluster unreachable the test is skipped, or fails under
// CI=true.
func Cluster(t testing.TB) *redis.ClusterClient {
	t.Helper()
	var addrs []string
	for a := range strings.SplitSeq(os.Getenv(RedisClusterEnv), ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	fail := func(msg string) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if len(addrs) < 2 {
		fail(fmt.Sprintf("no Redis Cluster: set %s=host:port,host:port,… (scripts/test.sh starts one)", RedisClusterEnv))
	}
	conn, err := net.DialTimeout("tcp", addrs[0], time.Second)
	if err != nil {
		fail(fmt.Sprintf("redis cluster unreachable at %s: %v", addrs[0], err))
	}
	conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := kv.OpenRedis(ctx, addrs, "", 0)
	if err != nil {
		fail(fmt.Sprintf("redis cluster at %s: %v", strings.Join(addrs, ","), err))
	}
	cc, ok := c.(*redis.ClusterClient)
	if !ok {
		c.Close()
		t.Fatalf("OpenRedis with %d addresses returned %T, want a Cluster client", len(addrs), c)
	}
	// A node answering PING is not yet a cluster: wait for the slot map.
	if err := cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		info, err := n.ClusterInfo(ctx).Result()
		if err == nil && !strings.Contains(info, "cluster_state:ok") {
			err = fmt.Errorf("%s: cluster_state is not ok", n.Options().Addr)
		}
		return err
	}); err != nil {
		cc.Close()
		fail(fmt.Sprintf("redis cluster at %s: %v", strings.Join(addrs, ","), err))
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

// PrefixOn is Prefix for any test client c (a Cluster included): a private
// key prefix whose keys are deleted when the test ends.
func PrefixOn(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	prefix := "test:" + strings.ToLower(randText()[:12]) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := deletePrefix(ctx, c, prefix); err != nil {
			t.Errorf("clean up redis keys %s*: %v", prefix, err)
		}
	})
	return prefix
}

// CountingHook counts the round trips a go-redis client makes: one per
// command, one per pipeline. Connection set-up (HELLO, AUTH, CLIENT,
// SELECT, READONLY) and a Cluster client's topology queries (CLUSTER …) are
// not counted: they are not part of handling a message. A NOSCRIPT answer
// and the EVAL that follows are two round trips, and counted so.
type CountingHook struct {
	mu    sync.Mutex
	cmds  []string
	added map[*redis.Client]bool
}

// Count attaches a CountingHook to c. On a Cluster client it is added to
// every node client, present and future, so that it counts what goes on the
// wire, redirections included.
func Count(c redis.UniversalClient) *CountingHook {
	h := &CountingHook{added: make(map[*redis.Client]bool)}
	switch c := c.(type) {
	case *redis.ClusterClient:
		c.OnNewNode(h.attach)
		_ = c.ForEachShard(context.Background(), func(_ context.Context, n *redis.Client) error {
			h.attach(n)
			return nil
		})
	default:
		c.AddHook(h)
	}
	return h
}

func (h *CountingHook) attach(n *redis.Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.added[n] {
		h.added[n] = true
		n.AddHook(h)
	}
}

// Reset forgets what was counted so far.
func (h *CountingHook) Reset() {
	h.mu.Lock()
	h.cmds = h.cmds[:0]
	h.mu.Unlock()
}

// RoundTrips returns the number counted since the last Reset.
func (h *CountingHook) RoundTrips() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.cmds)
}

// Commands names what was counted, in order ("evalsha", "pipeline[get set]").
func (h *CountingHook) Commands() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.cmds...)
}

func (h *CountingHook) String() string {
	return fmt.Sprintf("%d round trips %v", h.RoundTrips(), h.Commands())
}

var uncounted = map[string]bool{"hello": true, "auth": true, "client": true, "select": true, "readonly": true, "cluster": true}

func (h *CountingHook) record(name string) {
	h.mu.Lock()
	h.cmds = append(h.cmds, name)
	h.mu.Unlock()
}

// DialHook is part of redis.Hook; dials are not round trips of a message.
func (h *CountingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook counts one round trip per command.
func (h *CountingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if name := cmd.Name(); !uncounted[name] {
			h.record(name)
		}
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook counts one round trip per pipeline (or transaction).
func (h *CountingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		var names []string
		for _, c := range cmds {
			if n := c.Name(); !uncounted[n] {
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			h.record("pipeline" + fmt.Sprint(names))
		}
		return next(ctx, cmds)
	}
}
