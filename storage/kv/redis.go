package kv

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"runtime"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the Store shared by every replica. It works on a single server,
// Sentinel or Cluster client: each Store command and script touches exactly
// one key, and the keys of one turn share the member's hash tag, so no
// cross-slot operation is ever needed.
type Redis struct {
	c       redis.UniversalClient
	prefix  string
	cluster bool  // the nonce key is checked apart from the turn's script
	err     error // a prefix that would break hash tags; every call returns it
}

var (
	_ Store = (*Redis)(nil)
	_ Turns = (*Redis)(nil)
)

// ErrRedisPrefix is returned by every call of a Redis store whose prefix
// contains "{": it would become the hash tag of every key, so that the keys
// of one turn could land in different Cluster slots.
var ErrRedisPrefix = errors.New(`kv: the redis key prefix must not contain "{"`)

// ValidateRedisPrefix reports whether prefix can namespace the keys (see
// ErrRedisPrefix); configuration checks it before NewRedis.
func ValidateRedisPrefix(prefix string) error {
	if strings.Contains(prefix, "{") {
		return fmt.Errorf("%w (got %q)", ErrRedisPrefix, prefix)
	}
	return nil
}

// NewRedis returns a Store over c that puts prefix in front of every key
// (e.g. "unionbot:"), so several deployments or tests can share one server.
// A prefix with "{" makes every call (Ping included) fail with
// ErrRedisPrefix. The caller owns c and closes it.
func NewRedis(c redis.UniversalClient, prefix string) *Redis {
	_, cluster := c.(*redis.ClusterClient)
	return &Redis{c: c, prefix: prefix, cluster: cluster, err: ValidateRedisPrefix(prefix)}
}

// Redis timeouts: a kv call sits on the callback path, which must answer
// WeChat within 5 s, so a stuck server has to fail fast.
const (
	redisDialTimeout  = 2 * time.Second
	redisReadTimeout  = time.Second
	redisWriteTimeout = time.Second
)

// OpenRedis connects to addrs and pings the server under ctx. One address
// gives a plain client; several give a Cluster client (where db must be 0).
func OpenRedis(ctx context.Context, addrs []string, password string, db int) (redis.UniversalClient, error) {
	if len(addrs) == 0 {
		return nil, errors.New("open redis: no address")
	}
	if len(addrs) > 1 && db != 0 {
		return nil, fmt.Errorf("open redis: db must be 0 with Redis Cluster (got %d)", db)
	}
	procs := runtime.GOMAXPROCS(0)
	c := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:        addrs,
		Password:     password,
		DB:           db,
		DialTimeout:  redisDialTimeout,
		ReadTimeout:  redisReadTimeout,
		WriteTimeout: redisWriteTimeout,
		// Honour ctx deadlines on the socket too, so the callback's reply
		// budget bounds every Redis round trip.
		ContextTimeoutEnabled: true,
		// Lock waiters poll without holding a connection, so go-redis's usual
		// 10 per CPU is plenty; keep a few warm for bursts after a broadcast.
		PoolSize:     10 * procs,
		MinIdleConns: procs,
		PoolTimeout:  redisReadTimeout + time.Second,
	})
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("open redis %s: %w", strings.Join(addrs, ","), err)
	}
	return c, nil
}

// redisTTL turns a ttl into what SET/PEXPIRE take: whole milliseconds,
// rounded up so a key never dies before its ttl, and 0 for no expiry.
func redisTTL(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		return 0
	}
	return (ttl + time.Millisecond - 1).Truncate(time.Millisecond)
}

// Get returns the value at key, or ErrNotFound.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	b, err := r.c.Get(ctx, r.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("kv get %s: %w", key, err)
	}
	return b, nil
}

// Set stores val under key; ttl <= 0 means no expiry.
func (r *Redis) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if r.err != nil {
		return r.err
	}
	if err := r.c.Set(ctx, r.prefix+key, val, redisTTL(ttl)).Err(); err != nil {
		return fmt.Errorf("kv set %s: %w", key, err)
	}
	return nil
}

// SetNX stores val only when key does not exist (SET NX PX).
func (r *Redis) SetNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	if r.err != nil {
		return false, r.err
	}
	ok, err := r.setNX(ctx, r.prefix+key, val, ttl)
	if err != nil {
		return false, fmt.Errorf("kv setnx %s: %w", key, err)
	}
	return ok, nil
}

func (r *Redis) setNX(ctx context.Context, fullKey string, val any, ttl time.Duration) (bool, error) {
	err := r.c.SetArgs(ctx, fullKey, val, redis.SetArgs{Mode: "NX", TTL: redisTTL(ttl)}).Err()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, redis.Nil):
		return false, nil
	default:
		return false, err
	}
}

// Delete removes key; a missing key is not an error.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if r.err != nil {
		return r.err
	}
	if err := r.c.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("kv delete %s: %w", key, err)
	}
	return nil
}

// incrScript increments KEYS[1] and, only when this call created the key,
// gives it ARGV[1] milliseconds to live; atomic, so a crash cannot leave a
// counter without expiry.
var incrScript = redis.NewScript(`
local fresh = redis.call('EXISTS', KEYS[1]) == 0
local n = redis.call('INCR', KEYS[1])
local ttl = tonumber(ARGV[1])
if fresh and ttl > 0 then
	redis.call('PEXPIRE', KEYS[1], ttl)
end
return n
`)

// Incr adds 1 to the integer at key; a key it creates gets ttl.
func (r *Redis) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := incrScript.Run(ctx, r.c, []string{r.prefix + key}, redisTTL(ttl).Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("kv incr %s: %w", key, err)
	}
	return n, nil
}

// TTL returns the time key has left, 0 for a key that never expires, or
// ErrNotFound.
func (r *Redis) TTL(ctx context.Context, key string) (time.Duration, error) {
	if r.err != nil {
		return 0, r.err
	}
	d, err := r.c.PTTL(ctx, r.prefix+key).Result()
	if err != nil {
		return 0, fmt.Errorf("kv ttl %s: %w", key, err)
	}
	// go-redis passes PTTL's -2 (no key) and -1 (no expiry) through as raw
	// nanosecond durations.
	switch d {
	case -2:
		return 0, ErrNotFound
	case -1:
		return 0, nil
	}
	return d, nil
}

// unlockScript deletes the lock only if it still holds our token.
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0
`)

// Lock polling: the first retry comes quickly, since most holders finish in
// a few milliseconds, then backs off to spare Redis under contention.
const (
	lockPollMin = 5 * time.Millisecond
	lockPollMax = 50 * time.Millisecond
	// unlockTimeout bounds the release, which runs even after the caller's
	// ctx has ended; if it fails the lock simply expires.
	unlockTimeout = time.Second
)

// Lock acquires the lock named key (stored as prefix+"lock:"+key) with
// SET NX PX and a random token, polling until it succeeds or ctx ends.
func (r *Redis) Lock(ctx context.Context, key string, ttl time.Duration) (func(), error) {
	if r.err != nil {
		return nil, r.err
	}
	if ttl <= 0 {
		return nil, errLockTTL
	}
	lk := r.prefix + lockPrefix + key
	token := rand.Text()
	if err := r.acquire(ctx, lk, token, ttl); err != nil {
		return nil, fmt.Errorf("kv lock %s: %w", key, err)
	}
	return func() { r.unlock(ctx, lk, token) }, nil
}

// acquire polls SET NX PX on lk until it holds token, or ctx ends
// (ErrLockTimeout wrapping ctx.Err()).
func (r *Redis) acquire(ctx context.Context, lk, token string, ttl time.Duration) error {
	wait := lockPollMin
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
		ok, err := r.setNX(ctx, lk, token, ttl)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return fmt.Errorf("%w: %w", ErrLockTimeout, ctxErr)
			}
			return err
		}
		if ok {
			return nil
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-timer.C:
		case <-ctx.Done():
		}
		// Jitter keeps waiters on several replicas from polling in step.
		wait = min(wait*2, lockPollMax)
		wait += mrand.N(wait / 4)
	}
}

func (r *Redis) unlock(ctx context.Context, lk, token string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
	defer cancel()
	// An error leaves the lock to expire by its ttl, which is the designed
	// fallback; there is no caller to hand the error to.
	_ = unlockScript.Run(ctx, r.c, []string{lk}, token).Err()
}

// Ping reports whether Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	if r.err != nil {
		return r.err
	}
	if err := r.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("kv ping: %w", err)
	}
	return nil
}
