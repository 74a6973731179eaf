package main

import (
	"context"
	"errors"
	"time"

	"unionbot/bot"
	"unionbot/storage"
	"unionbot/wx"
)

// errMediaExpired is WeChat's answer for a media id it no longer has (user
// media are kept three days).
const errMediaExpired = 40007

// useForms gives forms their durable drafts (the database) and photo steps:
// each photo is fetched from WeChat as it arrives and stored encrypted in the
// database, where every replica reads it.
func useForms(router *bot.Router, db *storage.DB, sender *wx.Sender) {
	router.UseForms(bot.FormOptions{
		Drafts: db,
		Photos: &bot.MediaPhotos{
			Fetch: sender.DownloadMedia,
			Expired: func(err error) bool {
				var ae *wx.APIError
				return errors.As(err, &ae) && ae.Code == errMediaExpired
			},
			Save: db,
		},
	})
}

// formMaintenanceEvery is how often a replica reminds and purges. Every
// replica runs it: RemindDrafts hands each draft to one of them.
const formMaintenanceEvery = 10 * time.Minute

// runFormMaintenance reminds members of a draft a day before it expires (the
// reminder goes on the outbox in the transaction that marks it sent), and
// purges expired drafts, photos that no submission kept and crisis messages
// past their retention.
func (a *app) runFormMaintenance(ctx context.Context, router *bot.Router) {
	keep := bot.DefaultDraftKeep
	remindAfter := keep - 24*time.Hour
	tick := func() {
		msg := func(d storage.DraftReminder) storage.OutboxMessage {
			text := router.DraftReminder(d.Form, d.Expires)
			return storage.OutboxMessage{
				Key:  "draft:" + d.OpenID + ":" + d.Form + ":" + d.Updated.UTC().Format(time.RFC3339),
				Kind: "draft_reminder", OpenID: d.OpenID, Service: true,
				Content: storage.OutboxContent{Text: text, Fields: map[string]string{"title": "待提交的申请", "status": "即将过期"}},
			}
		}
		for {
			got, err := a.db.RemindDrafts(ctx, remindAfter, keep, 100, msg)
			if err != nil {
				a.logger.WarnContext(ctx, "draft reminders", "err", err)
				break
			}
			if len(got) < 100 {
				break
			}
		}
		if n, err := a.db.PurgeFormDrafts(ctx, keep); err != nil {
			a.logger.WarnContext(ctx, "purge drafts", "err", err)
		} else if n > 0 {
			a.logger.InfoContext(ctx, "expired drafts purged", "count", n)
		}
		if n, err := a.db.PurgeMedia(ctx); err != nil {
			a.logger.WarnContext(ctx, "purge media", "err", err)
		} else if n > 0 {
			a.logger.InfoContext(ctx, "unkept photos purged", "count", n)
		}
		a.purgeCrisisTexts(ctx)
	}
	t := time.NewTicker(formMaintenanceEvery)
	defer t.Stop()
	for {
		tick()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
