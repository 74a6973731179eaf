package config

import (
	"strings"
	"testing"
)

// TestSummaryNamesTheLocalKeyFile: local mode encrypts with the key it keeps
// in the data directory, and the startup summary must not say "unset".
func TestSummaryNamesTheLocalKeyFile(t *testing.T) {
	c, err := Load(func(k string) string { return map[string]string{envDataDir: "/srv/ub"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	if s := c.String(); !strings.Contains(s, "secret_key=file:/srv/ub/secret.key") || strings.Contains(s, "secret_key=unset") {
		t.Fatalf("summary: %s", s)
	}
	c.SecretKey = make([]byte, SecretKeySize)
	if s := c.String(); !strings.Contains(s, "secret_key=set") {
		t.Fatalf("summary with a key: %s", s)
	}
}
