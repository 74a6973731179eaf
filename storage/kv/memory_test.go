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

// BenchmarkMemory measures the cost of each operation, not the bounds: a
// flat-out benchmark writes far faster than keys expire, so it gets room.
func BenchmarkMemory(b *testing.B) {
	m := kv.NewMemory(kv.WithMaxBytes(4<<30), kv.WithMaxMarkers(100_000_000))
	defer m.Close()
	kvtest.Bench(b, m)
}
