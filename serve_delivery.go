package main

import (
	"context"
	"fmt"
	"time"

	"unionbot/delivery"
	"unionbot/storage/kv"
	"unionbot/wx"
)

// newDelivery builds the outbox worker of this replica (docs/ARCHITECTURE.md,
// "Delivery"). The shared rate limit gets its own Redis client, so a busy
// worker never queues behind the callback's pool.
func (a *app) newDelivery(ctx context.Context, sender *wx.Sender) error {
	tpl, err := delivery.ParseTemplates(a.cfg.Delivery.Templates)
	if err != nil {
		return fmt.Errorf("UNIONBOT_DELIVERY_TEMPLATES: %w", err)
	}
	lims := delivery.Limiters{delivery.NewProcessLimiter(a.cfg.Delivery.ProcessRate)}
	if a.cfg.Delivery.Rate > 0 {
		if len(a.cfg.Redis.Addrs) == 0 {
			// One process: the global limit is this process's limit.
			lims = append(lims, delivery.NewProcessLimiter(a.cfg.Delivery.Rate))
		} else {
			rc, err := kv.OpenRedis(ctx, a.cfg.Redis.Addrs, a.cfg.Redis.Password, a.cfg.Redis.DB)
			if err != nil {
				return fmt.Errorf("delivery rate limit: %w", err)
			}
			a.closers = append(a.closers, rc.Close)
			lims = append(lims, delivery.NewSharedLimiter(rc, a.cfg.Redis.Prefix+"delivery", a.cfg.Delivery.Rate))
		}
	}
	a.delivery = delivery.New(delivery.Deps{
		Store: a.db, Sender: sender, Seen: a.kv, Limiter: lims,
		Metrics: delivery.NewMetrics(a.registry), Logger: a.logger,
	}, delivery.Options{PublicURL: a.cfg.PublicURL, Templates: tpl})
	return nil
}

// runDelivery runs the worker until ctx ends; wait returns once it has
// recorded the sends in flight, or after budget.
func (a *app) runDelivery(ctx context.Context) (wait func(budget time.Duration)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.delivery.Run(ctx)
	}()
	return func(budget time.Duration) {
		select {
		case <-done:
		case <-time.After(budget):
			a.logger.Warn("delivery worker still recording at shutdown; its leases run out and are taken over")
		}
	}
}

// deadlineOf is ctx's deadline, or now when it has none.
func deadlineOf(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now()
}
