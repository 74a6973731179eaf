package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Limiter paces sends: Wait returns when one send may go, or ctx ends.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Limiters waits on each in turn (the process's own limit, then the shared one).
type Limiters []Limiter

// Wait implements Limiter.
func (ls Limiters) Wait(ctx context.Context) error {
	for _, l := range ls {
		if l == nil {
			continue
		}
		if err := l.Wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

// NewProcessLimiter limits this process to perSecond sends (burst of a
// tenth of a second's worth, at least 1); nil when perSecond is 0.
func NewProcessLimiter(perSecond int) Limiter {
	if perSecond <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(perSecond), max(1, perSecond/10))
}

// SharedLimiter is the send rate of all replicas together, a GCRA in Redis
// (go-redis/redis_rate), so the limit holds however many workers run.
type SharedLimiter struct {
	l     *redis_rate.Limiter
	key   string
	limit redis_rate.Limit
}

// NewSharedLimiter limits all users of key on c to perSecond sends, with a
// burst of a tenth of a second's worth; nil when perSecond is 0.
func NewSharedLimiter(c redis.UniversalClient, key string, perSecond int) *SharedLimiter {
	if perSecond <= 0 || c == nil {
		return nil
	}
	return &SharedLimiter{
		l:     redis_rate.NewLimiter(c),
		key:   key,
		limit: redis_rate.Limit{Rate: perSecond, Period: time.Second, Burst: max(1, perSecond/10)},
	}
}

// Wait implements Limiter: it asks Redis for one send and sleeps as long as
// Redis says before asking again.
func (s *SharedLimiter) Wait(ctx context.Context) error {
	if s == nil {
		return nil
	}
	for {
		res, err := s.l.Allow(ctx, s.key, s.limit)
		if err != nil {
			return fmt.Errorf("shared rate limit: %w", err)
		}
		if res.Allowed > 0 {
			return nil
		}
		wait := max(res.RetryAfter, time.Millisecond)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
