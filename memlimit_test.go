package main

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestSetMemoryLimit(t *testing.T) {
	t.Cleanup(func() { debug.SetMemoryLimit(math.MaxInt64) })
	env := func(kv map[string]string) func(string) string {
		return func(k string) string { return kv[k] }
	}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want int64
	}{
		{"default serve, embedded", nil, nil, embeddedMemoryLimit},
		{"explicit serve", []string{"serve"}, nil, embeddedMemoryLimit},
		{"flags only", []string{"--help"}, nil, embeddedMemoryLimit},
		{"other command", []string{"import-members", "x.csv"}, nil, 0},
		{"redis holds the state", nil, map[string]string{"UNIONBOT_REDIS_ADDR": "r:6379"}, 0},
		{"operator's GOMEMLIMIT wins", nil, map[string]string{"GOMEMLIMIT": "1GiB"}, 0},
	}
	for _, c := range cases {
		debug.SetMemoryLimit(math.MaxInt64)
		got := setMemoryLimit(c.args, env(c.env))
		if got != c.want {
			t.Errorf("%s: limit %d, want %d", c.name, got, c.want)
		}
		if applied := debug.SetMemoryLimit(-1); (c.want != 0) != (applied == embeddedMemoryLimit) {
			t.Errorf("%s: runtime limit %d", c.name, applied)
		}
	}
}
