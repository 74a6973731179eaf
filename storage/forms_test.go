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
