package storage_test

import (
	"testing"
	"time"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func TestOpenForms(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		if _, ok, err := db.TakeOpenForm(ctx, "oForm"); err != nil || ok {
			t.Fatalf("none yet: ok=%v err=%v", ok, err)
		}
		if err := db.OpenForm(ctx, "oForm", "bind", at); err != nil {
			t.Fatal(err)
		}
		if err := db.OpenForm(ctx, "oForm", "unbind", at.Add(time.Minute)); err != nil {
			t.Fatal(err) // a second form replaces the first
		}
		form, ok, err := db.TakeOpenForm(ctx, "oForm")
		if err != nil || !ok || form != "unbind" {
			t.Fatalf("take: %q %v %v, want unbind", form, ok, err)
		}
		if _, ok, _ := db.TakeOpenForm(ctx, "oForm"); ok {
			t.Error("taken twice")
		}
		if err := db.OpenForm(ctx, "oForm", "bind", at); err != nil {
			t.Fatal(err)
		}
		if err := db.CloseForm(ctx, "oForm"); err != nil {
			t.Fatal(err)
		}
		if err := db.CloseForm(ctx, "oForm"); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := db.TakeOpenForm(ctx, "oForm"); ok {
			t.Error("a closed form was taken")
		}
	})
}

func TestHasDurableState(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		has := func(openID string) bool {
			t.Helper()
			ok, err := db.HasDurableState(ctx, openID)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if has("oProbe") {
			t.Fatal("a member with nothing has durable state")
		}
		if err := db.OpenForm(ctx, "oProbe", "bind", at); err != nil {
			t.Fatal(err)
		}
		if !has("oProbe") || has("oOther") {
			t.Fatal("an open-form note is not seen, or seen for another member")
		}
		if err := db.CloseForm(ctx, "oProbe"); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveFormDraft(ctx, "oProbe", "claim", 2, map[string]string{"a": "b"}, at); err != nil {
			t.Fatal(err)
		}
		if !has("oProbe") {
			t.Fatal("a draft is not seen")
		}
		if err := db.DeleteFormDraft(ctx, "oProbe", "claim"); err != nil {
			t.Fatal(err)
		}
		if has("oProbe") {
			t.Fatal("durable state after the draft went")
		}
	})
}
