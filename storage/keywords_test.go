package storage_test

import (
	"errors"
	"slices"
	"testing"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func TestKeywordRules(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		rules := []storage.KeywordRule{
			{Pattern: "你好", Match: storage.MatchExact, Reply: "您好！", Priority: 1, Enabled: true},
			{Pattern: "工资", Match: storage.MatchContains, Reply: "欠薪请发“法律援助”。", Priority: 5, Enabled: true},
			{Pattern: `^报名\s*\d+$`, Match: storage.MatchRegex, Reply: "收到", Priority: 5},
			{Pattern: "再见", Match: storage.MatchExact, Reply: "再见", Priority: 0, Enabled: true},
		}
		var ids []int64
		for _, r := range rules {
			id, err := db.CreateKeywordRule(ctx, r)
			if err != nil {
				t.Fatalf("CreateKeywordRule(%s): %v", r.Pattern, err)
			}
			ids = append(ids, id)
		}
		got, err := db.KeywordRules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var order []int64
		for _, r := range got {
			order = append(order, r.ID)
		}
		if want := []int64{ids[1], ids[2], ids[0], ids[3]}; !slices.Equal(order, want) {
			t.Errorf("order: got %v, want %v (priority desc, id asc)", order, want)
		}
		if r := got[1]; r.Pattern != rules[2].Pattern || r.Match != storage.MatchRegex || r.Reply != "收到" || r.Enabled || r.Priority != 5 {
			t.Errorf("round trip: got %+v, want %+v", r, rules[2])
		}

		for name, bad := range map[string]storage.KeywordRule{
			"unknown match kind": {Pattern: "x", Match: "fuzzy", Reply: "y"},
			"bad regex":          {Pattern: "([", Match: storage.MatchRegex, Reply: "y"},
			"empty reply":        {Pattern: "x", Match: storage.MatchExact},
		} {
			if _, err := db.CreateKeywordRule(ctx, bad); !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("%s: got %v, want ErrInvalid", name, err)
			}
		}

		if err := db.DeleteKeywordRule(ctx, ids[1]); err != nil {
			t.Fatalf("DeleteKeywordRule: %v", err)
		}
		if err := db.DeleteKeywordRule(ctx, ids[1]); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("delete twice: got %v, want ErrNotFound", err)
		}
		if got, err := db.KeywordRules(ctx); err != nil || len(got) != 3 || got[0].ID != ids[2] {
			t.Errorf("after delete: got %+v, %v", got, err)
		}
	})
}
