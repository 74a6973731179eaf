package bot

import (
	"errors"
	"strings"
	"testing"
	"time"

	"unionbot/storage/kv"
)

func TestSessionsSaveLoadAndDeleteWhenEmptied(t *testing.T) {
	store := kv.NewMemory()
	t.Cleanup(store.Close)
	ss := NewSessions(store, time.Hour, nil)
	ctx := t.Context()

	s, err := ss.Load(ctx, "o1")
	if err != nil || s.Form != "" {
		t.Fatalf("fresh session = %+v, %v", s, err)
	}
	if err := ss.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(ctx, SessionKey("o1")); !errors.Is(err, kv.ErrNotFound) {
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
	if ttl, err := store.TTL(ctx, SessionKey("o1")); err != nil || ttl <= 0 || ttl > time.Hour {
		t.Fatalf("session ttl = %v, %v", ttl, err)
	}

	got.Form, got.Step, got.Data = "", 0, nil
	if err := ss.Save(ctx, got); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(ctx, SessionKey("o1")); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("an emptied session was kept: %v", err)
	}

	// A session the store cannot decode starts afresh instead of wedging.
	store.Set(ctx, SessionKey("o2"), []byte("{not json"), time.Hour)
	if s, err := ss.Load(ctx, "o2"); err != nil || s.Form != "" {
		t.Fatalf("corrupt session = %+v, %v", s, err)
	}
}

// xorSealer is a reversible stand-in for pii.Cipher (which bot must not
// import): enough to see that what reaches the store is not the JSON.
type xorSealer struct{}

func (xorSealer) Encrypt(p string) (string, error) { return "S" + flip(p), nil }
func (xorSealer) Decrypt(s string) (string, error) {
	if len(s) == 0 || s[0] != 'S' {
		return "", errors.New("not sealed")
	}
	return flip(s[1:]), nil
}
func flip(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] ^= 0x5a
	}
	return string(b)
}

func TestSessionsSealed(t *testing.T) {
	store := kv.NewMemory()
	t.Cleanup(store.Close)
	ctx := t.Context()
	ss := NewSessions(store, time.Hour, xorSealer{})
	s := Session{OpenID: "o1", Form: "bind", Data: map[string]string{"name": "张三", "id6": "12345X"}}
	if err := ss.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	raw, err := store.Get(ctx, SessionKey("o1"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "张三") || strings.Contains(string(raw), "12345X") || strings.Contains(string(raw), "bind") {
		t.Fatalf("session stored in clear: %q", raw)
	}
	got, err := ss.Load(ctx, "o1")
	if err != nil || got.Data["id6"] != "12345X" {
		t.Fatalf("loaded %+v, %v", got, err)
	}
	// A session sealed under another key (or stored before sealing) starts
	// afresh and is overwritten on the next save.
	plain := NewSessions(store, time.Hour, nil)
	if err := plain.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got, err := ss.Load(ctx, "o1"); err != nil || got.Form != "" {
		t.Fatalf("unreadable session = %+v, %v", got, err)
	}
}
