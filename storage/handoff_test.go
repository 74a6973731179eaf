package storage_test

import (
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"unionbot/internal/testclock"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func TestHandoffLifecycle(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, base *storage.DB) {
		ctx := t.Context()
		clock := testclock.New(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC))
		db := base.WithClock(clock.Now)
		if _, err := db.UpsertMembers(ctx, []storage.MemberRecord{{MemberNo: "H1", Name: "韩梅", IDNumber: "11010119900307123X", UnitName: "甲镇工会"}}); err != nil {
			t.Fatal(err)
		}
		m, _ := db.MemberByNo(ctx, "H1")
		if err := db.BindMember(ctx, m.ID, "o-member", storage.AuditEntry{Actor: "test"}); err != nil {
			t.Fatal(err)
		}

		h, created, err := db.OpenHandoff(ctx, "o-member", storage.AuditEntry{Actor: "member:o-member"})
		if err != nil || !created {
			t.Fatalf("open: %v %v", created, err)
		}
		if h.Status != storage.HandoffOpen || h.MemberNo != "H1" || h.MemberName != "韩梅" || h.UnitName != "甲镇工会" || h.UnitID == 0 {
			t.Fatalf("opened %+v", h)
		}
		again, created, err := db.OpenHandoff(ctx, "o-member", storage.AuditEntry{Actor: "member:o-member"})
		if err != nil || created || again.ID != h.ID {
			t.Fatalf("second open: %+v %v %v", again, created, err)
		}
		guest, _, err := db.OpenHandoff(ctx, "o-guest", storage.AuditEntry{Actor: "member:o-guest"})
		if err != nil || guest.UnitID != 0 || guest.MemberID != 0 {
			t.Fatalf("guest: %+v %v", guest, err)
		}

		if err := db.AddMemberMessage(ctx, h.ID, "o-member", "  我想问问互助金的事，身份证110101199003071234  ", true); err != nil {
			t.Fatal(err)
		}
		if err := db.AddMemberMessage(ctx, h.ID, "o-other", "not mine", false); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("someone else's hand-off: %v", err)
		}

		// Units scope the list.
		list, err := db.Handoffs(ctx, storage.HandoffQuery{Statuses: []string{storage.HandoffOpen}, UnitID: h.UnitID})
		if err != nil || len(list) != 1 || list[0].ID != h.ID || !list[0].Urgent {
			t.Fatalf("unit list: %+v %v", list, err)
		}
		if all, _ := db.Handoffs(ctx, storage.HandoffQuery{}); len(all) != 2 || all[0].ID != guest.ID {
			t.Fatalf("all: %+v", all)
		}

		// Two officers claim at once: one wins.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, who := range []string{"officer:a", "officer:b"} {
			wg.Go(func() {
				_, errs[i] = db.ClaimHandoff(ctx, h.ID, who, storage.AuditEntry{Actor: who})
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, storage.ErrHandoffTaken) || !errors.Is(err, storage.ErrConflict):
				t.Fatalf("claim: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d claims won", won)
		}
		got, _ := db.Handoff(ctx, h.ID)
		winner, loser := got.ClaimedBy, "officer:a"
		if winner == "officer:a" {
			loser = "officer:b"
		}
		if _, err := db.ClaimHandoff(ctx, h.ID, winner, storage.AuditEntry{Actor: winner}); err != nil {
			t.Fatalf("claiming one's own again: %v", err)
		}
		if _, _, err := db.ReplyHandoff(ctx, h.ID, loser, "我来", storage.AuditEntry{Actor: loser}); !errors.Is(err, storage.ErrHandoffTaken) {
			t.Fatalf("reply by the loser: %v", err)
		}

		clock.Add(time.Minute)
		_, msg, err := db.ReplyHandoff(ctx, h.ID, winner, "您好，请说说具体情况。", storage.AuditEntry{Actor: winner})
		if err != nil {
			t.Fatal(err)
		}
		row, err := db.OutboxByKey(ctx, msg.OutboxKey)
		if err != nil || row.Kind != "officer_reply" || row.OpenID != "o-member" || row.Content.Text != "【工作人员回复】\n您好，请说说具体情况。" {
			t.Fatalf("outbox %+v %v", row, err)
		}
		got, err = db.Handoff(ctx, h.ID)
		if err != nil || len(got.Messages) != 2 || got.Messages[0].Text != "我想问问互助金的事，身份证110101199003071234" ||
			got.Messages[1].Sender != storage.SenderOfficer || got.Messages[1].Officer != winner {
			t.Fatalf("messages %+v %v", got.Messages, err)
		}
		if !got.LastActivity.Equal(clock.Now().Truncate(time.Microsecond)) || got.LastMemberAt.IsZero() {
			t.Fatalf("activity %v / member %v", got.LastActivity, got.LastMemberAt)
		}

		// A reply to a guest's open hand-off claims it.
		if g, _, err := db.ReplyHandoff(ctx, guest.ID, "officer:c", "请讲", storage.AuditEntry{Actor: "officer:c"}); err != nil || g.Status != storage.HandoffClaimed || g.ClaimedBy != "officer:c" {
			t.Fatalf("guest reply: %+v %v", g, err)
		}

		// Idle: the guest's (active a minute ago) stays, then both close after 48 hours.
		clock.Add(47*time.Hour + 30*time.Minute)
		if closed, err := db.CloseIdleHandoffs(ctx, 48*time.Hour, "已结束", 10); err != nil || len(closed) != 0 {
			t.Fatalf("closed early: %+v %v", closed, err)
		}
		clock.Add(time.Hour)
		closed, err := db.CloseIdleHandoffs(ctx, 48*time.Hour, "人工对话已结束。", 10)
		if err != nil || len(closed) != 2 {
			t.Fatalf("idle close: %+v %v", closed, err)
		}
		if row, err := db.OutboxByKey(ctx, "handoff:"+strconv.FormatInt(h.ID, 10)+":closed"); err != nil || row.Content.Text != "人工对话已结束。" || row.OpenID != "o-member" {
			t.Fatalf("close notice %+v %v", row, err)
		}
		if err := db.AddMemberMessage(ctx, h.ID, "o-member", "还在吗", false); !errors.Is(err, storage.ErrHandoffClosed) {
			t.Fatalf("message after close: %v", err)
		}
		if _, _, err := db.ReplyHandoff(ctx, h.ID, winner, "在", storage.AuditEntry{Actor: winner}); !errors.Is(err, storage.ErrHandoffClosed) {
			t.Fatalf("reply after close: %v", err)
		}
		if _, err := db.OpenHandoffOf(ctx, "o-member"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("still open: %v", err)
		}
		// A new one may open; the member closes it.
		h2, created, err := db.OpenHandoff(ctx, "o-member", storage.AuditEntry{Actor: "member:o-member"})
		if err != nil || !created || h2.ID == h.ID {
			t.Fatalf("reopen: %+v %v", h2, err)
		}
		if _, err := db.CloseHandoff(ctx, h2.ID, storage.CloseByMember, "", storage.AuditEntry{Actor: "member:o-member"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CloseHandoff(ctx, h2.ID, storage.CloseByOfficer, "", storage.AuditEntry{Actor: winner}); !errors.Is(err, storage.ErrHandoffClosed) {
			t.Fatalf("second close: %v", err)
		}
		audits, err := db.AuditLog(ctx, storage.AuditFilter{Action: "handoff.reply", Limit: 10})
		if err != nil || len(audits) != 2 {
			t.Fatalf("reply audits %d %v", len(audits), err)
		}

		// Retention.
		clock.Add(89 * 24 * time.Hour)
		if n, err := db.PurgeHandoffs(ctx, 90*24*time.Hour); err != nil || n != 0 {
			t.Fatalf("purged early: %d %v", n, err)
		}
		clock.Add(48 * time.Hour)
		if n, err := db.PurgeHandoffs(ctx, 90*24*time.Hour); err != nil || n != 3 {
			t.Fatalf("purge: %d %v", n, err)
		}
		if _, err := db.Handoff(ctx, h.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("purged hand-off: %v", err)
		}
	})
}
