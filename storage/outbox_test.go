package storage_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"unionbot/internal/testclock"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

var outboxStart = time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)

func notice(key, openID string) storage.OutboxMessage {
	return storage.OutboxMessage{Key: key, Kind: "claim_status", OpenID: openID, Service: true,
		Content: storage.OutboxContent{Text: "您的互助金申请已通过", Fields: map[string]string{"status": "已通过"}}}
}

func TestEnqueueCommitsWithTheChange(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		boom := errors.New("the claim update failed")
		err := db.InTxForTest(ctx, func(tx *sqlx.Tx) error {
			if _, err := db.Enqueue(ctx, tx, notice("claim:1:approved", "oA")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("tx: %v", err)
		}
		if _, err := db.OutboxByKey(ctx, "claim:1:approved"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("a rolled-back change enqueued its message: %v", err)
		}
		for i := range 2 {
			var created bool
			err := db.InTxForTest(ctx, func(tx *sqlx.Tx) error {
				var err error
				created, err = db.Enqueue(ctx, tx, notice("claim:1:approved", "oA"))
				return err
			})
			if err != nil || created != (i == 0) {
				t.Fatalf("enqueue %d: created=%v err=%v", i, created, err)
			}
		}
		counts, err := db.OutboxCounts(ctx)
		if err != nil || counts[storage.OutboxPending] != 1 {
			t.Fatalf("counts %v %v, want one pending row", counts, err)
		}
		if _, err := db.EnqueueMessage(ctx, storage.OutboxMessage{Key: "k", Kind: "notice"}); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("no recipient or content: %v", err)
		}
	})
}

func TestClaimLeaseAndTakeover(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, base *storage.DB) {
		ctx := t.Context()
		clock := testclock.New(outboxStart)
		db := base.WithClock(clock.Now)
		for i := range 3 {
			if _, err := db.EnqueueMessage(ctx, notice(fmt.Sprintf("n%d", i), fmt.Sprintf("o%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.EnqueueMessage(ctx, storage.OutboxMessage{Key: "later", Kind: "reminder", OpenID: "oL",
			Content: storage.OutboxContent{Text: "明天活动"}, NotBefore: outboxStart.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := db.InTxForTest(ctx, func(tx *sqlx.Tx) error {
			_, err := db.EnqueueMass(ctx, tx, storage.MassMessage{Key: "act:9", Kind: "notice", Text: "活动通知", OpenIDs: []string{"o1", "o2"}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		got, err := db.ClaimOutbox(ctx, "w1", 10, 30*time.Second, false)
		if err != nil || len(got) != 3 {
			t.Fatalf("claim: %d rows, %v; want the 3 due personal rows", len(got), err)
		}
		if got[0].State != storage.OutboxSending || got[0].Attempts != 1 || got[0].Content.Text == "" {
			t.Errorf("claimed row %+v", got[0])
		}
		if again, _ := db.ClaimOutbox(ctx, "w2", 10, 30*time.Second, false); len(again) != 0 {
			t.Fatalf("leased rows claimed twice: %d", len(again))
		}
		mass, err := db.ClaimOutbox(ctx, "w1", 1, 30*time.Second, true)
		if err != nil || len(mass) != 1 || !mass[0].Mass || len(mass[0].Content.OpenIDs) != 2 {
			t.Fatalf("mass claim: %+v %v", mass, err)
		}
		// w1 records one row and then dies.
		if err := db.CompleteOutbox(ctx, "w1", []storage.OutboxResult{{ID: got[0].ID, State: storage.OutboxSent, Channel: "custom"}}); err != nil {
			t.Fatal(err)
		}
		clock.Add(29 * time.Second)
		if rq, unk, err := db.ReapExpired(ctx); err != nil || rq != 0 || unk != 0 {
			t.Fatalf("reaped live leases: %d %d %v", rq, unk, err)
		}
		clock.Add(2 * time.Second)
		rq, unk, err := db.ReapExpired(ctx)
		if err != nil || rq != 2 || unk != 1 {
			t.Fatalf("reap: requeued %d unknown %d (%v), want 2 and 1", rq, unk, err)
		}
		taken, err := db.ClaimOutbox(ctx, "w2", 10, 30*time.Second, false)
		if err != nil || len(taken) != 2 || taken[0].Attempts != 2 {
			t.Fatalf("takeover: %+v %v", taken, err)
		}
		// The dead worker's late result does not overwrite the new owner's lease.
		if err := db.CompleteOutbox(ctx, "w1", []storage.OutboxResult{{ID: taken[0].ID, State: storage.OutboxFailed, ErrCode: 43004}}); err != nil {
			t.Fatal(err)
		}
		res := []storage.OutboxResult{
			{ID: taken[0].ID, State: storage.OutboxFailed, Channel: "template", ErrCode: 43004, ErrMsg: "require subscribe"},
			{ID: taken[1].ID, State: storage.OutboxPending, Channel: "custom", ErrCode: -1, NextAt: clock.Now().Add(time.Minute)},
		}
		if err := db.CompleteOutbox(ctx, "w2", res); err != nil {
			t.Fatal(err)
		}
		r0, _ := db.OutboxByKey(ctx, taken[0].Key)
		if r0.State != storage.OutboxFailed || r0.ErrCode != 43004 || r0.Channel != "template" {
			t.Errorf("failed row %+v", r0)
		}
		if again, _ := db.ClaimOutbox(ctx, "w2", 10, 30*time.Second, false); len(again) != 0 {
			t.Fatalf("a row backing off was claimed early: %d", len(again))
		}
		clock.Add(time.Hour)
		again, _ := db.ClaimOutbox(ctx, "w2", 10, 30*time.Second, false)
		if len(again) != 2 { // the retry and the delayed reminder
			t.Fatalf("after the back-off: %d rows", len(again))
		}
		b, _ := db.MassBatches(ctx, "act:9")
		if len(b) != 1 || b[0].State != storage.OutboxUnknown {
			t.Fatalf("mass batch after its worker died: %+v", b)
		}
		st, err := db.OutboxStats(ctx)
		if err != nil || st.Unknown != 1 || st.Depth["claim_status"] != 1 || st.Depth["reminder"] != 1 {
			t.Fatalf("stats %+v %v", st, err)
		}
	})
}

func TestCancelOutbox(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		if _, err := db.EnqueueMessage(ctx, notice("c1", "oC")); err != nil {
			t.Fatal(err)
		}
		if ok, err := db.CancelOutbox(ctx, "c1"); !ok || err != nil {
			t.Fatalf("cancel: %v %v", ok, err)
		}
		if ok, _ := db.CancelOutbox(ctx, "c1"); ok {
			t.Error("cancelled twice")
		}
		if got, _ := db.ClaimOutbox(ctx, "w", 10, time.Minute, false); len(got) != 0 {
			t.Fatal("a cancelled message was claimed")
		}
	})
}

func TestUnreadNotices(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		for i := range 3 {
			if _, err := db.EnqueueMessage(ctx, notice(fmt.Sprintf("u%d", i), "oU")); err != nil {
				t.Fatal(err)
			}
		}
		rows, _ := db.ClaimOutbox(ctx, "w", 10, time.Minute, false)
		var res []storage.OutboxResult
		for _, r := range rows[:2] {
			res = append(res, storage.OutboxResult{ID: r.ID, State: storage.OutboxUnread, Channel: "unread", SkipChannels: []string{"custom"}})
		}
		res = append(res, storage.OutboxResult{ID: rows[2].ID, State: storage.OutboxSent, Channel: "custom"})
		if err := db.CompleteOutbox(ctx, "w", res); err != nil {
			t.Fatal(err)
		}
		got, total, err := db.UnreadNotices(ctx, "oU", 0, 10)
		if err != nil || total != 2 || len(got) != 2 || got[0].Key != "u0" || !slices.Equal(got[0].SkipChannels, []string{"custom"}) {
			t.Fatalf("unread: %+v total %d %v", got, total, err)
		}
		if err := db.MarkNoticesRead(ctx, []int64{got[0].ID, got[1].ID}); err != nil {
			t.Fatal(err)
		}
		if _, total, _ := db.UnreadNotices(ctx, "oU", 0, 10); total != 0 {
			t.Errorf("still unread: %d", total)
		}
		recent, err := db.RecentNotices(ctx, "oU", 0, 5)
		if err != nil || len(recent) != 2 || recent[0].Key != "u1" || recent[0].ReadAt.IsZero() {
			t.Fatalf("recent (for 进度): %+v %v", recent, err)
		}
	})
}

func TestEnqueueMassBatchesAndQuota(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		ids := make([]string, 0, storage.MassBatchSize+5)
		for i := range storage.MassBatchSize + 5 {
			ids = append(ids, fmt.Sprintf("oM%05d", i))
		}
		ids = append(ids, "oM00000") // a duplicate
		if err := db.SetNoticeOptOut(ctx, "oM00001", true); err != nil {
			t.Fatal(err)
		}
		if err := db.RecordUnsubscribe(ctx, "oM00002", time.Time{}); err != nil {
			t.Fatal(err)
		}
		var plan storage.MassPlan
		if err := db.InTxForTest(ctx, func(tx *sqlx.Tx) error {
			var err error
			plan, err = db.EnqueueMass(ctx, tx, storage.MassMessage{Key: "act:1", Kind: "notice", Text: "三月活动", OpenIDs: ids})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if plan.Batches != 2 || plan.Recipients != storage.MassBatchSize+3 || len(plan.OptedOut) != 2 {
			t.Fatalf("plan %d batches %d recipients, opted out %v", plan.Batches, plan.Recipients, plan.OptedOut)
		}
		b, _ := db.MassBatches(ctx, "act:1")
		if len(b) != 2 || len(b[0].Content.OpenIDs) != 5002 || b[1].Recipients != 5001 {
			t.Fatalf("batches: %d", len(b))
		}
		rows, _ := db.ClaimOutbox(ctx, "w", 1, time.Minute, true)
		sent := rows[0].Content.OpenIDs[1:]
		if err := db.CompleteMass(ctx, "w", storage.OutboxResult{ID: rows[0].ID, State: storage.OutboxSent, WxMsgID: 77},
			"2026-03", sent, []string{"oM00000"}); err != nil {
			t.Fatal(err)
		}
		used, err := db.MassQuotaUsed(ctx, "2026-03", []string{"oM00000", "oM00003", "oX"})
		if err != nil || used["oM00003"] != 1 || used["oM00000"] != 0 || len(used) != 1 {
			t.Fatalf("quota used %v %v", used, err)
		}
		if n, _ := db.MassQuotaTotal(ctx, "2026-03"); n != int64(len(sent)) {
			t.Errorf("quota total %d", n)
		}
		b, _ = db.MassBatches(ctx, "act:1")
		if b[0].State != storage.OutboxSent || b[0].WxMsgID != 77 || !slices.Equal(b[0].OverQuota, []string{"oM00000"}) {
			t.Errorf("batch result %+v", b[0].OverQuota)
		}
		if err := db.SetNoticeOptOut(ctx, "oM00001", false); err != nil {
			t.Fatal(err)
		}
	})
}

func TestClaimConcurrentWorkers(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		const n = 300
		if err := db.InTxForTest(ctx, func(tx *sqlx.Tx) error {
			for i := range n {
				if _, err := db.Enqueue(ctx, tx, notice(fmt.Sprintf("k%d", i), fmt.Sprintf("o%d", i))); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		seen := map[int64]string{}
		var wg sync.WaitGroup
		for w := range 4 {
			owner := fmt.Sprintf("w%d", w)
			wg.Go(func() {
				for {
					rows, err := db.ClaimOutbox(ctx, owner, 16, time.Minute, false)
					if err != nil {
						t.Error(err)
						return
					}
					if len(rows) == 0 {
						return
					}
					mu.Lock()
					for _, r := range rows {
						if prev, dup := seen[r.ID]; dup {
							t.Errorf("row %d leased by %s and %s", r.ID, prev, owner)
						}
						seen[r.ID] = owner
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != n {
			t.Fatalf("leased %d of %d", len(seen), n)
		}
	})
}

func TestSubscribeConsents(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		if ok, _ := db.HasSubscribeConsent(ctx, "oS", "T1"); ok {
			t.Fatal("consent out of nowhere")
		}
		if err := db.RecordSubscribeConsent(ctx, "oS", "T1", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := db.RecordSubscribeConsent(ctx, "oS", "T1", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if ok, err := db.HasSubscribeConsent(ctx, "oS", "T1"); !ok || err != nil {
			t.Fatalf("consent: %v %v", ok, err)
		}
		if err := db.UseSubscribeConsent(ctx, "oS", "T1"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := db.HasSubscribeConsent(ctx, "oS", "T1"); ok {
			t.Error("a used consent remains")
		}
	})
}
