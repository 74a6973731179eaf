package storage_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func TestUnansweredMaskedPickedPurged(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		raw := "我手机13812345678，身份证110101199003074514，卡号6222021234567890123 咋绑不上"
		id, err := db.RecordUnanswered(ctx, storage.UnansweredQuestion{Question: raw, Normalized: raw,
			Outcome: storage.OutcomeGuesses, Offered: []int64{46, 45, 52}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.RecordUnanswered(ctx, storage.UnansweredQuestion{Question: "  ", Outcome: storage.OutcomeNone}); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("empty question: %v, want ErrInvalid", err)
		}
		if err := db.RecordUnansweredPick(ctx, id, 46); err != nil {
			t.Fatal(err)
		}
		qs, err := db.UnansweredQuestions(ctx, time.Now().Add(-time.Hour), 0)
		if err != nil || len(qs) != 1 {
			t.Fatalf("pending: %v, %v", qs, err)
		}
		q := qs[0]
		for _, digits := range []string{"13812345678", "110101199003074514", "6222021234567890123", "1234567", "19900307"} {
			if strings.Contains(q.Question, digits) || strings.Contains(q.Normalized, digits) {
				t.Errorf("stored question keeps %s: %q / %q", digits, q.Question, q.Normalized)
			}
		}
		if !strings.Contains(q.Question, "咋绑不上") || q.PickedFAQ != 46 || !slices.Equal(q.Offered, []int64{46, 45, 52}) || q.Outcome != storage.OutcomeGuesses {
			t.Errorf("stored %+v", q)
		}
		old, err := db.RecordUnanswered(ctx, storage.UnansweredQuestion{Question: "很久以前的问题", Outcome: storage.OutcomeNone,
			AskedAt: time.Now().Add(-100 * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		n, err := db.PurgeUnanswered(ctx, time.Now().Add(-90*24*time.Hour))
		if err != nil || n != 1 {
			t.Errorf("purge: %d, %v; want 1", n, err)
		}
		if got, _ := db.UnansweredByIDs(ctx, []int64{id, old}); len(got) != 1 || got[0].ID != id {
			t.Errorf("after purge: %+v", got)
		}
	})
}

func TestAttachParaphrasesAndFAQWrites(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		who := storage.AuditEntry{Actor: "officer:wangli", RequestID: "req-1"}
		v0, err := db.FAQVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		id, err := db.SaveFAQ(ctx, storage.FAQ{Question: "工伤怎么认定？", Answer: "先申请工伤认定。", Category: "维权", Enabled: true}, who)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, q := range []string{"干活把手弄伤了算工伤不", "干活把手弄伤了算工伤不", "在厂里被机器砸了"} {
			qid, err := db.RecordUnanswered(ctx, storage.UnansweredQuestion{Question: q, Outcome: storage.OutcomeNone})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, qid)
		}
		if _, err := db.AttachParaphrases(ctx, 99999, ids, who); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("attach to a missing entry: %v", err)
		}
		added, err := db.AttachParaphrases(ctx, id, ids, who)
		if err != nil || added != 2 {
			t.Fatalf("attach: %d, %v; want 2 distinct texts", added, err)
		}
		if again, err := db.AttachParaphrases(ctx, id, ids[:1], who); err != nil || again != 0 {
			t.Errorf("attach again: %d, %v; want 0 new", again, err)
		}
		ps, err := db.FAQParaphrases(ctx)
		if err != nil || !slices.Equal(ps[id], []string{"干活把手弄伤了算工伤不", "在厂里被机器砸了"}) {
			t.Errorf("paraphrases %v, %v", ps, err)
		}
		if pending, _ := db.UnansweredQuestions(ctx, time.Time{}, 0); len(pending) != 0 {
			t.Errorf("attached questions still pending: %+v", pending)
		}
		if err := db.RetireFAQ(ctx, id, who); err != nil {
			t.Fatal(err)
		}
		if err := db.RetireFAQ(ctx, 99999, who); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("retire missing: %v", err)
		}
		f, _ := db.FAQByID(ctx, id)
		if f.Enabled {
			t.Error("retired entry still enabled")
		}
		f.Enabled, f.Answer = true, "先申请工伤认定，30日内。"
		if _, err := db.SaveFAQ(ctx, f, who); err != nil {
			t.Fatal(err)
		}
		newID, err := db.CreateFAQFromUnanswered(ctx, storage.FAQ{Question: "夜班有补贴吗？", Answer: "按单位规定。", Enabled: true},
			[]int64{ids[2]}, who)
		if err != nil {
			t.Fatal(err)
		}
		ps, _ = db.FAQParaphrases(ctx)
		if !slices.Equal(ps[newID], []string{"在厂里被机器砸了"}) {
			t.Errorf("new entry paraphrases %v", ps[newID])
		}
		v1, _ := db.FAQVersion(ctx)
		if v1 != v0+7 { // save, attach, attach, retire, save, create + attach
			t.Errorf("version %d → %d, want +7", v0, v1)
		}
		audit, err := db.AuditEntries(ctx, "", 20)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, a := range audit {
			if a.Actor == "officer:wangli" {
				actions = append(actions, a.Action)
			}
		}
		want := []string{"faq.attach", "faq.create", "faq.update", "faq.retire", "faq.attach", "faq.attach", "faq.create"}
		if !slices.Equal(actions, want) {
			t.Errorf("audit actions %v, want %v", actions, want)
		}
	})
}
