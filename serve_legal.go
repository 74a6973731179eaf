package main

import "context"

// purgeCrisisTexts erases crisis messages of cases closed longer than
// UNIONBOT_CRISIS_RETENTION ago (kept only to protect the person, PIPL Art. 13(4)); the
// form maintenance tick runs it. Each purge is audited by storage.
func (a *app) purgeCrisisTexts(ctx context.Context) {
	for {
		got, err := a.db.PurgeCrisisTexts(ctx, a.cfg.CrisisRetention, 100)
		if err != nil {
			a.logger.WarnContext(ctx, "purge crisis messages", "err", err)
			return
		}
		if len(got) > 0 {
			a.logger.InfoContext(ctx, "crisis messages past their retention erased", "cases", len(got))
		}
		if len(got) < 100 {
			return
		}
	}
}
