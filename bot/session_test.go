package bot

import (
	"errors"
	"testing"
	"time"

	"unionbot/storage/kv"
)

func TestSessionsSaveLoadAndDeleteWhenEmptied(t *testing.T) {
	store := kv.NewMemory()
	t.Cleanup(store.Close)
	ss := NewSessions(store, time.Hour)
	ctx := t.Context()

	s, err := ss.Load(ctx, "o1")
	if err != nil || s.Form != "" {
		t.Fatalf("fresh session = %+v, %v", s, err)
	}
	if err := ss.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(ctx, sessionPrefix+"o1"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("an idle session was written: %v", err)
	}

	s.Form, s.Step, s.Data = "bind", 1, map[string]string{"name": "张三"}
	if err := ss.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := ss.Load(ctx, "o1")
	if err != nil || got.Form != "bind" || got.Step != 1 || got.Data["name"] != "张三" {
		t.Fatalf("loaded %+v, %v", got, err)
	}
	if ttl, err := store.TTL(ctx, sessionPrefix+"o1"); err != nil || ttl <= 0 || ttl > time.Hour {
		t.Fatalf("session ttl = %v, %v", ttl, err)
	}

	got.Form, got.Step, got.Data = "", 0, nil
	if err := ss.Save(ctx, got); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(ctx, sessionPrefix+"o1"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("an emptied session was kept: %v", err)
	}

	// A session the store cannot decode starts afresh instead of wedging.
	store.Set(ctx, sessionPrefix+"o2", []byte("{not json"), time.Hour)
	if s, err := ss.Load(ctx, "o2"); err != nil || s.Form != "" {
		t.Fatalf("corrupt session = %+v, %v", s, err)
	}
}
