package main

import (
	"runtime/debug"
	"strings"
)

// embeddedMemoryLimit is the Go heap's soft limit for a bot serving on the
// in-process kv store. Its own data is bounded (the store's byte budget and
// marker table, sessions, the FAQ index); without a limit the collector lets
// the heap reach twice that before it runs, which on a small server is memory
// taken for nothing. GOMEMLIMIT, when set, wins.
const embeddedMemoryLimit = 100 << 20

// setMemoryLimit applies embeddedMemoryLimit when the command serves (the
// default) on the in-process kv store and GOMEMLIMIT is not set. It returns
// the limit applied, or 0.
func setMemoryLimit(args []string, getenv func(string) string) int64 {
	serving := len(args) == 0 || args[0] == "serve" || strings.HasPrefix(args[0], "-")
	if !serving || getenv("GOMEMLIMIT") != "" || strings.TrimSpace(getenv("UNIONBOT_REDIS_ADDR")) != "" {
		return 0
	}
	debug.SetMemoryLimit(embeddedMemoryLimit)
	return embeddedMemoryLimit
}
