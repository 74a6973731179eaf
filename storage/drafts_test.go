package storage_test

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// clockDB opens a fresh database of each dialect whose clock the test moves.
func eachWithClock(t *testing.T, fn func(t *testing.T, db *storage.DB, now *time.Time)) {
	t.Helper()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		now := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
		db.SetClockForTest(func() time.Time { return now })
		fn(t, db, &now)
	})
}

func TestFormDrafts(t *testing.T) {
	eachWithClock(t, func(t *testing.T, db *storage.DB, now *time.Time) {
		ctx := t.Context()
		if _, _, _, ok, err := db.FormDraft(ctx, "oD", "claim"); ok || err != nil {
			t.Fatalf("none yet: %v %v", ok, err)
		}
		data := map[string]string{"hospital": "旗人民医院", "card": "6228480000000000018"}
		if err := db.SaveFormDraft(ctx, "oD", "claim", 3, data, *now); err != nil {
			t.Fatal(err)
		}
		data["cost"] = "350000"
		if err := db.SaveFormDraft(ctx, "oD", "claim", 4, data, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveFormDraft(ctx, "oD", "legal", 1, map[string]string{"x": "y"}, *now); err != nil {
			t.Fatal(err)
		}
		step, got, updated, ok, err := db.FormDraft(ctx, "oD", "claim")
		if err != nil || !ok || step != 4 || got["cost"] != "350000" || got["hospital"] != "旗人民医院" || !updated.Equal(now.Add(time.Minute)) {
			t.Fatalf("draft = %d %v %v %v %v", step, got, updated, ok, err)
		}
		if form, ok, err := db.LatestFormDraft(ctx, "oD"); err != nil || !ok || form != "claim" {
			t.Fatalf("latest = %q %v %v", form, ok, err)
		}
		// Sealed at rest: the card number is nowhere in the row.
		raw := db.RawForTest(t, `SELECT data FROM form_drafts WHERE form = 'claim'`)
		if strings.Contains(raw, "6228") || strings.Contains(raw, "医院") {
			t.Fatal("draft stored in clear")
		}
		if err := db.DeleteFormDraft(ctx, "oD", "claim"); err != nil {
			t.Fatal(err)
		}
		if _, _, _, ok, _ := db.FormDraft(ctx, "oD", "claim"); ok {
			t.Fatal("deleted draft still there")
		}
		if form, _, _ := db.LatestFormDraft(ctx, "oD"); form != "legal" {
			t.Fatalf("latest after delete = %q", form)
		}
	})
}

func TestDraftsToRemindOnce(t *testing.T) {
	eachWithClock(t, func(t *testing.T, db *storage.DB, now *time.Time) {
		ctx := t.Context()
		start := *now
		idle, keep := 6*24*time.Hour, 7*24*time.Hour
		for _, o := range []string{"oA", "oB", "oC"} {
			if err := db.SaveFormDraft(ctx, o, "claim", 1, map[string]string{"k": o}, start); err != nil {
				t.Fatal(err)
			}
		}
		*now = start.Add(5 * 24 * time.Hour)
		if err := db.SaveFormDraft(ctx, "oC", "claim", 2, map[string]string{"k": "c"}, *now); err != nil {
			t.Fatal(err) // oC answered again: its reminder moves on
		}
		if got, err := db.DraftsToRemind(ctx, idle, keep, 10); err != nil || len(got) != 0 {
			t.Fatalf("day 5: %v %v", got, err)
		}
		*now = start.Add(6*24*time.Hour + time.Hour)
		// Two replicas ask at once: each draft goes to one of them.
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				got, err := db.DraftsToRemind(ctx, idle, keep, 10)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, r := range got {
					seen[r.OpenID]++
					if !r.Expires.Equal(start.Add(keep)) {
						t.Errorf("expires = %v", r.Expires)
					}
				}
			})
		}
		wg.Wait()
		if len(seen) != 2 || seen["oA"] != 1 || seen["oB"] != 1 {
			t.Fatalf("reminded %v, want oA and oB once", seen)
		}
		if got, _ := db.DraftsToRemind(ctx, idle, keep, 10); len(got) != 0 {
			t.Fatalf("reminded twice: %v", got)
		}
		*now = start.Add(11*24*time.Hour + time.Hour)
		if got, _ := db.DraftsToRemind(ctx, idle, keep, 10); len(got) != 1 || got[0].OpenID != "oC" {
			t.Fatalf("oC on its own schedule: %v", got)
		}
		*now = start.Add(keep + time.Hour)
		if n, err := db.PurgeFormDrafts(ctx, keep); err != nil || n != 2 {
			t.Fatalf("purge = %d %v, want 2", n, err)
		}
		if _, _, _, ok, _ := db.FormDraft(ctx, "oC", "claim"); !ok {
			t.Fatal("a recent draft was purged")
		}
	})
}

func TestMedia(t *testing.T) {
	eachWithClock(t, func(t *testing.T, db *storage.DB, now *time.Time) {
		ctx := t.Context()
		img := append([]byte("\xff\xd8\xff\xe0 invoice "), bytes.Repeat([]byte{7}, 300_000)...)
		id, hash, err := db.SaveMedia(ctx, "oM", "image/jpeg", img, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(hash) != 64 {
			t.Fatalf("hash %q", hash)
		}
		m, err := db.MediaByID(ctx, id)
		if err != nil || !bytes.Equal(m.Data, img) || m.ContentType != "image/jpeg" || m.OpenID != "oM" || m.Size != len(img) || m.SHA256 != hash {
			t.Fatalf("read back: %v (%d bytes)", err, len(m.Data))
		}
		if raw := db.RawForTest(t, `SELECT data FROM media`); strings.Contains(raw, "invoice") {
			t.Fatal("media stored in clear")
		}
		id2, hash2, err := db.SaveMedia(ctx, "oM", "image/jpeg", img, now.Add(time.Hour))
		if err != nil || hash2 != hash {
			t.Fatal(err)
		}
		if ids, err := db.MediaIDsBySHA256(ctx, hash); err != nil || len(ids) != 2 || ids[0] != id {
			t.Fatalf("by hash: %v %v", ids, err)
		}
		if err := db.KeepMedia(ctx, "someone-else", []int64{id}); err != nil {
			t.Fatal(err)
		}
		if err := db.KeepMedia(ctx, "oM", []int64{id2}); err != nil {
			t.Fatal(err)
		}
		*now = now.Add(2 * time.Hour)
		if n, err := db.PurgeMedia(ctx); err != nil || n != 1 {
			t.Fatalf("purge = %d %v", n, err)
		}
		if _, err := db.MediaByID(ctx, id); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("purged medium: %v", err)
		}
		if m, err := db.MediaByID(ctx, id2); err != nil || !m.ExpiresAt.IsZero() {
			t.Fatalf("kept medium: %v %v", m.ExpiresAt, err)
		}
		if _, _, err := db.SaveMedia(ctx, "oM", "image/jpeg", make([]byte, storage.MaxMediaBytes+1), time.Time{}); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("too large: %v", err)
		}
		if got := storage.ParseMediaRefs(storage.MediaRef(12) + ",m13,x,"); len(got) != 2 || got[0] != 12 || got[1] != 13 {
			t.Fatalf("refs %v", got)
		}
	})
}

func TestRemindDraftsEnqueuesWithTheMark(t *testing.T) {
	eachWithClock(t, func(t *testing.T, db *storage.DB, now *time.Time) {
		ctx := t.Context()
		start := *now
		idle, keep := 6*24*time.Hour, 7*24*time.Hour
		if err := db.SaveFormDraft(ctx, "oR", "claim", 1, map[string]string{"k": "v"}, start); err != nil {
			t.Fatal(err)
		}
		*now = start.Add(idle + time.Hour)
		msg := func(d storage.DraftReminder) storage.OutboxMessage {
			return storage.OutboxMessage{Key: "draft:" + d.OpenID + ":" + d.Form, Kind: "draft_reminder",
				OpenID: d.OpenID, Content: storage.OutboxContent{Text: "提醒"}}
		}
		got, err := db.RemindDrafts(ctx, idle, keep, 10, msg)
		if err != nil || len(got) != 1 {
			t.Fatalf("remind = %v, %v", got, err)
		}
		row, err := db.OutboxByKey(ctx, "draft:oR:claim")
		if err != nil || row.OpenID != "oR" || row.Content.Text != "提醒" {
			t.Fatalf("outbox row = %+v, %v", row, err)
		}
		// A failing enqueue (a key too long for the outbox) leaves the draft
		// unreminded, to be tried again.
		if err := db.SaveFormDraft(ctx, "oS", "claim", 1, map[string]string{"k": "v"}, start); err != nil {
			t.Fatal(err)
		}
		bad := func(d storage.DraftReminder) storage.OutboxMessage {
			m := msg(d)
			m.Key = strings.Repeat("k", 300)
			return m
		}
		if _, err := db.RemindDrafts(ctx, idle, keep, 10, bad); err == nil {
			t.Fatal("an enqueue that fails must fail the reminder")
		}
		if got, err := db.RemindDrafts(ctx, idle, keep, 10, msg); err != nil || len(got) != 1 || got[0].OpenID != "oS" {
			t.Fatalf("retry = %v, %v", got, err)
		}
	})
}
