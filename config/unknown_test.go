package config

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestUnknownVariablesNameTheClosest(t *testing.T) {
	environ := []string{
		"PATH=/usr/bin",
		"UNIONBOT_ADDR=127.0.0.1:8080",              // known
		"UNIONBOT_REDIS_ADRR=redis:6379",            // swapped letters
		"UNIONBOT_WECHAT_APP_ID=wx1",                // extra underscore
		"UNIONBOT_SECRETKEY=c2VjcmV0LXZhbHVlLTEyMw", // missing underscore; the value must not show
		"UNIONBOT_SECRET_KEY_FILE=/run/secrets/k",   // the _FILE form of a secret is known
		"UNIONBOT_TEST_MYSQL_DSN=root@tcp(db)/",     // the test suite's own
		"UNIONBOT_COMPLETELY_DIFFERENT=1",           // no near name
		"UNIONBOT_REDIS_ADRR=again",                 // reported once
	}
	got := UnknownVariables(environ)
	want := []string{
		"UNIONBOT_COMPLETELY_DIFFERENT is not a unionbot variable and is ignored (every variable: README.md, \"Configuration\")",
		"UNIONBOT_REDIS_ADRR is not a unionbot variable and is ignored; did you mean UNIONBOT_REDIS_ADDR?",
		"UNIONBOT_SECRETKEY is not a unionbot variable and is ignored; did you mean UNIONBOT_SECRET_KEY?",
		"UNIONBOT_WECHAT_APP_ID is not a unionbot variable and is ignored; did you mean UNIONBOT_WECHAT_APPID?",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, w := range got {
		if strings.Contains(w, "c2VjcmV0") || strings.Contains(w, "redis:6379") {
			t.Fatalf("a warning shows a value: %s", w)
		}
	}
	if got := UnknownVariables([]string{"UNIONBOT_ADDR=:1", "HOME=/root"}); len(got) != 0 {
		t.Fatalf("known variables warned about: %q", got)
	}
}

func TestKnownVariablesAreLoadsOwn(t *testing.T) {
	known := KnownVariables()
	for _, n := range []string{envAddr, envRedisAddr, envSecretKey, envSecretKey + "_FILE", envUnionName, envDebugAddr} {
		if _, ok := slices.BinarySearch(known, n); !ok {
			t.Errorf("%s missing from KnownVariables %q", n, known)
		}
	}
}

// TestReadmeListsEveryVariable keeps the README's configuration table (the
// one the usage text points to) complete.
func TestReadmeListsEveryVariable(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, n := range KnownVariables() {
		if base, ok := strings.CutSuffix(n, "_FILE"); ok && slices.Contains(KnownVariables(), base) {
			continue // the _FILE form of every secret is described once
		}
		if !strings.Contains(readme, "`"+n+"`") {
			t.Errorf("README.md does not list %s", n)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"abc", "", 3}, {"", "ab", 2},
		{"ADDR", "ADRR", 1}, {"ADDR", "DADR", 1}, {"APPID", "APP_ID", 1}, {"kitten", "sitting", 3},
	} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
		if got := editDistance(c.b, c.a); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.b, c.a, got, c.d)
		}
	}
}
