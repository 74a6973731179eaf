package kv_test

import (
	"testing"
	"time"

	"unionbot/storage/kv"
	"unionbot/storage/kv/kvtest"
)

func TestMemory(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store {
		m := kv.NewMemory()
		t.Cleanup(m.Close)
		return m
	})
}

func TestMemoryTurns(t *testing.T) {
	kvtest.RunTurns(t, func(t *testing.T) kvtest.TurnStore {
		m := kv.NewMemory(kv.WithMarkerGranularity(5 * time.Millisecond))
		t.Cleanup(m.Close)
		return m
	})
}

func BenchmarkMemory(b *testing.B) {
	m := kv.NewMemory()
	defer m.Close()
	kvtest.Bench(b, m)
}
