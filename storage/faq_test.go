package storage_test

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func TestFAQCRUD(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		explicit := storage.FAQ{ID: 100, Question: "如何入会？", Alternates: []string{"怎么加入工会", "入会流程"}, Answer: "请联系所在单位工会。", Category: "入会", Enabled: true}
		if id, err := db.CreateFAQ(ctx, explicit); err != nil || id != 100 {
			t.Fatalf("CreateFAQ with id: got %d, %v; want 100", id, err)
		}
		if _, err := db.CreateFAQ(ctx, explicit); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("CreateFAQ with a taken id: got %v, want ErrConflict", err)
		}
		auto := storage.FAQ{Question: "互助金怎么申请？", Answer: "发送“互助金”开始申请。😀", Category: "互助保障"}
		autoID, err := db.CreateFAQ(ctx, auto)
		if err != nil || autoID <= 100 {
			t.Fatalf("CreateFAQ auto id: got %d, %v; want > 100", autoID, err)
		}
		if _, err := db.CreateFAQ(ctx, storage.FAQ{Question: "空答案"}); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("CreateFAQ without answer: got %v, want ErrInvalid", err)
		}

		got, err := db.FAQByID(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if got.Question != explicit.Question || got.Answer != explicit.Answer || got.Category != explicit.Category ||
			!got.Enabled || !slices.Equal(got.Alternates, explicit.Alternates) || got.UpdatedAt.IsZero() {
			t.Errorf("FAQByID: got %+v, want %+v", got, explicit)
		}

		auto.ID = autoID
		auto.Alternates = []string{"申请互助金"}
		auto.Enabled = true
		if err := db.UpdateFAQ(ctx, auto); err != nil {
			t.Fatalf("UpdateFAQ: %v", err)
		}
		if err := db.UpdateFAQ(ctx, auto); err != nil {
			t.Errorf("UpdateFAQ with the same values: %v", err)
		}
		if err := db.UpdateFAQ(ctx, storage.FAQ{ID: 999, Question: "q", Answer: "a"}); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("UpdateFAQ unknown id: got %v, want ErrNotFound", err)
		}
		if _, err := db.FAQByID(ctx, 999); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("FAQByID unknown id: got %v, want ErrNotFound", err)
		}

		all, err := db.FAQs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || all[0].ID != 100 || all[1].ID != autoID {
			t.Fatalf("FAQs: got %+v, want ids [100 %d]", all, autoID)
		}
		if u := all[1]; u.Answer != auto.Answer || !u.Enabled || !slices.Equal(u.Alternates, auto.Alternates) {
			t.Errorf("updated FAQ: got %+v, want %+v", u, auto)
		}
		if all[0].Alternates == nil || all[1].Alternates == nil {
			t.Errorf("alternates lost: %+v", all)
		}
	})
}

func seedEntries() []storage.FAQ {
	return []storage.FAQ{
		{ID: 1, Question: "问题一", Answer: "答案一", Enabled: true},
		{ID: 2, Question: "问题二", Alternates: []string{"二"}, Answer: "答案二", Enabled: true},
		{ID: 3, Question: "问题三", Answer: "答案三"},
	}
}

func TestSeedFAQsOnceUnderConcurrency(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		const replicas = 4
		counts := make([]int, replicas)
		errs := make([]error, replicas)
		var wg sync.WaitGroup
		for i := range replicas {
			wg.Go(func() { counts[i], errs[i] = db.SeedFAQs(ctx, seedEntries()) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("SeedFAQs: %v", err)
		}
		slices.Sort(counts)
		if want := []int{0, 0, 0, 3}; !slices.Equal(counts, want) {
			t.Errorf("inserted per call: got %v, want %v", counts, want)
		}
		all, err := db.FAQs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 3 || all[0].ID != 1 || all[2].ID != 3 || all[2].Enabled || all[1].Alternates[0] != "二" {
			t.Errorf("seeded FAQs: got %+v", all)
		}
		// Officers edit a seeded entry; a restart seeds nothing and keeps the edit.
		all[0].Answer = "新答案"
		if err := db.UpdateFAQ(ctx, all[0]); err != nil {
			t.Fatal(err)
		}
		if n, err := db.SeedFAQs(ctx, seedEntries()); err != nil || n != 0 {
			t.Errorf("SeedFAQs after seeding: got %d, %v; want 0, nil", n, err)
		}
		if f, err := db.FAQByID(ctx, 1); err != nil || f.Answer != "新答案" {
			t.Errorf("edited entry after re-seed: got %q, %v", f.Answer, err)
		}
	})
}

func TestSeedFAQsSkipsTakenIDs(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		if _, err := db.CreateFAQ(ctx, storage.FAQ{ID: 2, Question: "自建", Answer: "自建答案"}); err != nil {
			t.Fatal(err)
		}
		n, err := db.SeedFAQs(ctx, seedEntries())
		if err != nil || n != 2 {
			t.Errorf("SeedFAQs: got %d, %v; want 2", n, err)
		}
		if f, err := db.FAQByID(ctx, 2); err != nil || f.Question != "自建" {
			t.Errorf("entry 2: got %q, %v; want the officer's entry kept", f.Question, err)
		}
	})
}
