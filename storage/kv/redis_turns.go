package kv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// The turn scripts take the parts a call names in ARGV[1] ("n" nonce, "d"
// marker and state, "l" lock), and consume KEYS and ARGV in that order; the
// remaining KEYS are the reads (BeginTurn) or the writes (EndTurn). "p" is
// ClaimValue and a pending marker, "s" a settled marker.

// beginTurnScript returns {nonceReused, dup, state, takenOver, locked,
// values...}; dup is 0 (DupNone), 1 (DupFound) or 2 (DupExpired).
var beginTurnScript = redis.NewScript(`
local parts, k, a = ARGV[1], 1, 2
local out = {0, 0, false, 0, 0}
if string.find(parts, 'n', 1, true) then
	local seen = redis.call('GET', KEYS[k])
	if seen then
		if seen ~= ARGV[a] then
			out[1] = 1
			return out
		end
	else
		redis.call('SET', KEYS[k], ARGV[a], 'PX', ARGV[a + 1])
	end
	k, a = k + 1, a + 2
end
if string.find(parts, 'd', 1, true) then
	local mk, sk = KEYS[k], KEYS[k + 1]
	local st = redis.call('GET', sk)
	if st then
		out[2], out[3] = 1, st
		return out
	end
	local m = redis.call('GET', mk)
	if not m then
		redis.call('SET', mk, 'p', 'PX', ARGV[a])
	elseif m == 'p' then
		out[4] = 1
	else
		out[2] = 2
		return out
	end
	redis.call('SET', sk, 'p', 'PX', ARGV[a + 1])
	k, a = k + 2, a + 2
end
if string.find(parts, 'l', 1, true) then
	if not redis.call('SET', KEYS[k], ARGV[a], 'NX', 'PX', ARGV[a + 1]) then
		return out
	end
	out[5] = 1
	k = k + 1
end
if k <= #KEYS then
	local vals = redis.call('MGET', unpack(KEYS, k))
	for i = 1, #vals do
		out[5 + i] = vals[i]
	end
end
return out
`)

// endTurnScript settles the delivery, applies the writes (ARGV value and
// milliseconds each: -1 deletes, 0 never expires) and releases the lock; it
// returns 1 when it settled.
var endTurnScript = redis.NewScript(`
local parts, k, a = ARGV[1], 1, 2
local settled = 0
if string.find(parts, 'd', 1, true) then
	local mk, sk = KEYS[k], KEYS[k + 1]
	local st = redis.call('GET', sk)
	if st == 'p' or (not st and redis.call('GET', mk) == 'p') then
		redis.call('SET', sk, ARGV[a], 'PX', ARGV[a + 1])
		redis.call('SET', mk, 's', 'XX', 'KEEPTTL')
		settled = 1
	end
	k, a = k + 2, a + 2
end
local lk, token
if string.find(parts, 'l', 1, true) then
	lk, token = KEYS[k], ARGV[a]
	k, a = k + 1, a + 1
end
while k <= #KEYS do
	local ttl = tonumber(ARGV[a + 1])
	if ttl < 0 then
		redis.call('DEL', KEYS[k])
	elseif ttl == 0 then
		redis.call('SET', KEYS[k], ARGV[a])
	else
		redis.call('SET', KEYS[k], ARGV[a], 'PX', ttl)
	end
	k, a = k + 1, a + 2
end
if lk and redis.call('GET', lk) == token then
	redis.call('DEL', lk)
end
return settled
`)

// renewClaimScript extends KEYS[1] by ARGV[2] ms while it holds ARGV[1].
var renewClaimScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// LoadScripts loads the turn scripts on every server (every master of a
// Cluster), so that even the first turn on a node costs one round trip, not
// a NOSCRIPT answer and a second send. Optional: Run loads a missing script
// by itself.
func (r *Redis) LoadScripts(ctx context.Context) error {
	if r.err != nil {
		return r.err
	}
	for _, s := range []*redis.Script{beginTurnScript, endTurnScript, renewClaimScript, unlockScript, incrScript} {
		if err := s.Load(ctx, r.c).Err(); err != nil {
			return fmt.Errorf("kv load scripts: %w", err)
		}
	}
	return nil
}

func ms(d time.Duration) int64 { return redisTTL(d).Milliseconds() }

// BeginTurn is one script on a single server. On a Cluster a NonceKey (in
// another slot) is first checked with SET NX GET, a round trip of its own.
func (r *Redis) BeginTurn(ctx context.Context, a BeginTurnArgs) (TurnStart, error) {
	if r.err != nil {
		return TurnStart{}, r.err
	}
	if err := a.validate(); err != nil {
		return TurnStart{}, err
	}
	var ts TurnStart
	parts := make([]byte, 0, 3)
	keys := make([]string, 0, 4+len(a.Reads))
	args := make([]any, 1, 7)
	if a.NonceKey != "" {
		if r.cluster {
			reused, err := r.nonceReused(ctx, a)
			if err != nil {
				return TurnStart{}, err
			}
			if reused {
				ts.NonceReused = true
				return ts, nil
			}
		} else {
			parts = append(parts, 'n')
			keys = append(keys, r.prefix+a.NonceKey)
			args = append(args, a.NonceVal, ms(a.NonceTTL))
		}
	}
	if a.MarkerKey != "" {
		parts = append(parts, 'd')
		keys = append(keys, r.prefix+a.MarkerKey, r.prefix+a.StateKey)
		args = append(args, ms(a.MarkerTTL), ms(a.ClaimTTL))
	}
	if a.LockKey != "" {
		parts = append(parts, 'l')
		keys = append(keys, r.prefix+lockPrefix+a.LockKey)
		args = append(args, a.LockToken, ms(a.LockTTL))
	}
	for _, k := range a.Reads {
		keys = append(keys, r.prefix+k)
	}
	if len(keys) == 0 { // a nonce alone, checked above
		ts.Values = [][]byte{}
		return ts, nil
	}
	args[0] = string(parts)
	res, err := beginTurnScript.Run(ctx, r.c, keys, args...).Slice()
	if err != nil {
		return TurnStart{}, fmt.Errorf("kv begin turn: %w", err)
	}
	if len(res) < 5 {
		return TurnStart{}, fmt.Errorf("kv begin turn: script returned %d values", len(res))
	}
	ts.NonceReused = res[0] == int64(1)
	ts.Dup = DupState(asInt(res[1]))
	ts.State = asBytes(res[2])
	ts.TakenOver = res[3] == int64(1)
	ts.Locked = res[4] == int64(1)
	if !ts.NonceReused && ts.Dup == DupNone && (ts.Locked || a.LockKey == "") {
		// A missing key reads false in Lua, which keeps the array whole.
		ts.Values = make([][]byte, len(a.Reads))
		for i := range min(len(a.Reads), len(res)-5) {
			ts.Values[i] = asBytes(res[5+i])
		}
	}
	return ts, nil
}

// nonceReused records the nonce if it is new (SET NX GET) and reports
// whether it was seen with another body.
func (r *Redis) nonceReused(ctx context.Context, a BeginTurnArgs) (bool, error) {
	seen, err := r.c.SetArgs(ctx, r.prefix+a.NonceKey, a.NonceVal,
		redis.SetArgs{Mode: "NX", TTL: redisTTL(a.NonceTTL), Get: true}).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return false, nil // new: recorded
	case err != nil:
		return false, fmt.Errorf("kv begin turn: nonce: %w", err)
	}
	return seen != string(a.NonceVal), nil
}

func asInt(v any) int64 {
	n, _ := v.(int64)
	return n
}

// asBytes turns a script's bulk reply into a value: nil for a missing key.
func asBytes(v any) []byte {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	return []byte(s)
}

// EndTurn is one script: settle, writes, unlock.
func (r *Redis) EndTurn(ctx context.Context, a EndTurnArgs) error {
	if r.err != nil {
		return r.err
	}
	if err := a.validate(); err != nil {
		return err
	}
	parts := make([]byte, 0, 2)
	keys := make([]string, 0, 3+len(a.Writes))
	args := make([]any, 1, 4+2*len(a.Writes))
	if a.State != nil {
		parts = append(parts, 'd')
		keys = append(keys, r.prefix+a.MarkerKey, r.prefix+a.StateKey)
		args = append(args, a.State, ms(a.StateTTL))
	}
	if a.LockKey != "" {
		parts = append(parts, 'l')
		keys = append(keys, r.prefix+lockPrefix+a.LockKey)
		args = append(args, a.LockToken)
	}
	for _, w := range a.Writes {
		keys = append(keys, r.prefix+w.Key)
		if w.Val == nil {
			args = append(args, "", -1)
		} else {
			args = append(args, w.Val, ms(w.TTL))
		}
	}
	if len(keys) == 0 {
		return nil
	}
	args[0] = string(parts)
	if err := endTurnScript.Run(ctx, r.c, keys, args...).Err(); err != nil {
		return fmt.Errorf("kv end turn: %w", err)
	}
	return nil
}

// RenewClaim extends the claim on stateKey while it holds ClaimValue.
func (r *Redis) RenewClaim(ctx context.Context, stateKey string, ttl time.Duration) (bool, error) {
	if r.err != nil {
		return false, r.err
	}
	if ttl <= 0 {
		return false, fmt.Errorf("%w: claim ttl must be positive", errTurnArgs)
	}
	n, err := renewClaimScript.Run(ctx, r.c, []string{r.prefix + stateKey}, ClaimValue, ms(ttl)).Int64()
	if err != nil {
		return false, fmt.Errorf("kv renew claim %s: %w", stateKey, err)
	}
	return n == 1, nil
}

// AcquireLock polls for the lock named key (prefix+"lock:"+key) with token.
func (r *Redis) AcquireLock(ctx context.Context, key, token string, ttl time.Duration) error {
	if r.err != nil {
		return r.err
	}
	if ttl <= 0 {
		return errLockTTL
	}
	if err := r.acquire(ctx, r.prefix+lockPrefix+key, token, ttl); err != nil {
		return fmt.Errorf("kv acquire lock %s: %w", key, err)
	}
	return nil
}

// GetMany reads keys with one MGET; on a Cluster they must share a slot.
func (r *Redis) GetMany(ctx context.Context, keys ...string) ([][]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	if len(keys) == 0 {
		return [][]byte{}, nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.prefix + k
	}
	res, err := r.c.MGet(ctx, full...).Result()
	if err != nil {
		return nil, fmt.Errorf("kv get many: %w", err)
	}
	vals := make([][]byte, len(keys))
	for i := range min(len(vals), len(res)) {
		vals[i] = asBytes(res[i])
	}
	return vals, nil
}
