package main

import (
	"context"
	"time"
)

// handoffMaintenanceEvery is how often a replica closes idle 人工 conversations and purges
// old ones. Every replica runs it; storage closes each conversation once.
const handoffMaintenanceEvery = time.Minute

// rosterSweepEvery is how often a replica looks for roster imports waiting for a worker
// (one whose worker died resumes once its lease, a minute, has run out).
const rosterSweepEvery = 20 * time.Second

// runHandoffMaintenance closes conversations without activity for 48 hours (the member is
// told, through the outbox, how to reach staff again) and purges closed ones after
// UNIONBOT_HANDOFF_RETENTION.
func (a *app) runHandoffMaintenance(ctx context.Context) {
	if a.handoff == nil {
		return
	}
	t := time.NewTicker(handoffMaintenanceEvery)
	defer t.Stop()
	for {
		closed, purged, err := a.handoff.Maintain(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			a.logger.WarnContext(ctx, "hand-off maintenance", "err", err)
		case closed > 0 || purged > 0:
			a.logger.InfoContext(ctx, "hand-off maintenance", "closed_idle", closed, "purged", purged)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
