package config

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// envPrefix starts every variable the service reads.
const envPrefix = "UNIONBOT_"

// testEnvPrefix starts variables that only the test suite reads
// (UNIONBOT_TEST_MYSQL_DSN, …); they are often exported in a developer's
// shell, so they are never reported as unknown.
const testEnvPrefix = "UNIONBOT_TEST_"

// KnownVariables returns, sorted, the name of every variable Load reads,
// including the NAME_FILE form of each secret. It is taken from Load itself
// (every name it asks getenv for), so a variable added to Load is known here
// without a second list to keep.
var KnownVariables = sync.OnceValue(func() []string {
	seen := map[string]bool{}
	_, _ = Load(func(name string) string {
		seen[name] = true
		return ""
	})
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
})

// UnknownVariables looks through environ (NAME=value pairs, as os.Environ
// returns them) for UNIONBOT_* variables that Load does not read, and returns
// one warning per such name, naming the closest known variable when one is
// near enough to be the intended one (UNIONBOT_REDIS_ADRR → UNIONBOT_REDIS_ADDR).
// Values are never looked at, so no secret can appear in a warning.
func UnknownVariables(environ []string) []string {
	known := KnownVariables()
	var warnings []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix) || strings.HasPrefix(name, testEnvPrefix) {
			continue
		}
		if _, found := slices.BinarySearch(known, name); found {
			continue
		}
		if best := closest(name, known); best != "" {
			warnings = append(warnings, fmt.Sprintf("%s is not a unionbot variable and is ignored; did you mean %s?", name, best))
		} else {
			warnings = append(warnings, fmt.Sprintf("%s is not a unionbot variable and is ignored (every variable: README.md, \"Configuration\")", name))
		}
	}
	slices.Sort(warnings)
	return slices.Compact(warnings)
}

// closest returns the known name at the smallest edit distance from name,
// or "" when even that one differs in more than a third of the part after
// the UNIONBOT_ prefix (then it is a guess, not a typo).
func closest(name string, known []string) string {
	best, bestDist := "", -1
	for _, k := range known {
		if d := editDistance(name, k); bestDist < 0 || d < bestDist {
			best, bestDist = k, d
		}
	}
	limit := max(2, (len(name)-len(envPrefix))/3)
	if bestDist < 0 || bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b: the
// number of single-byte insertions, deletions, substitutions and swaps of
// neighbours that turn one into the other. Variable names are ASCII.
func editDistance(a, b string) int {
	// d[i][j] is the distance between a[:i] and b[:j]; three rows suffice.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
