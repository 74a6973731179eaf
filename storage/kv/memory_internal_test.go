package kv

import (
	"context"
	"testing"
	"time"
)

func (m *Memory) size() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.items)
		s.mu.Unlock()
	}
	return n
}

func TestMemoryJanitorSweeps(t *testing.T) {
	m := newMemory(20 * time.Millisecond)
	defer m.Close()
	ctx := context.Background()
	for i := range 100 {
		if err := m.Set(ctx, "tmp"+string(rune('a'+i%26))+string(rune('0'+i/26)), []byte("x"), 30*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Set(ctx, "keep", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	if n := m.size(); n != 101 {
		t.Fatalf("size = %d, want 101", n)
	}
	// Nobody reads the expired keys: only the janitor can reclaim them.
	deadline := time.Now().Add(5 * time.Second)
	for m.size() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("janitor left %d keys, want 1", m.size())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := m.Get(ctx, "keep"); err != nil {
		t.Fatalf("janitor removed a live key: %v", err)
	}
}

func TestMemoryCloseIdempotent(t *testing.T) {
	m := NewMemory()
	m.Close()
	m.Close()
	// The store still works after Close.
	if err := m.Set(context.Background(), "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(context.Background(), "k"); err != nil {
		t.Fatal(err)
	}
}
