package storage_test

import (
	"slices"
	"testing"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// TestListClaimsOrder: the queue newest first and, for the reviewers' "waiting longest"
// view, oldest first, each paged by its cursor without losing or repeating a claim.
func TestListClaimsOrder(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newClaimsFixture(t, db)
		ctx := t.Context()
		var filed []string
		for i, adm := range []string{"2026-10-01", "2026-10-05", "2026-10-09", "2026-10-13", "2026-10-17"} {
			m := []int{1, 2, 4}[i%3]
			filed = append(filed, f.submit(t, f.input(t, m, adm, "invoice "+adm)).Number)
		}
		walk := func(oldest bool) []string {
			t.Helper()
			var out []string
			var before int64
			for range 10 {
				cs, next, err := f.db.ListClaims(ctx, storage.ClaimFilter{Oldest: oldest, Before: before, Limit: 2})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range cs {
					out = append(out, c.Number)
				}
				if next == 0 {
					return out
				}
				before = next
			}
			t.Fatal("the cursor never ends")
			return nil
		}
		if got := walk(true); !slices.Equal(got, filed) {
			t.Errorf("oldest first: %v, want %v", got, filed)
		}
		newest := slices.Clone(filed)
		slices.Reverse(newest)
		if got := walk(false); !slices.Equal(got, newest) {
			t.Errorf("newest first: %v, want %v", got, newest)
		}
	})
}
