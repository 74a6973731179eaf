package kv_test

import (
	"testing"

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

func BenchmarkMemory(b *testing.B) {
	m := kv.NewMemory()
	defer m.Close()
	kvtest.Bench(b, m)
}
