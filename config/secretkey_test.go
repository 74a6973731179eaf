package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestEnsureSecretKeyCreatesThenReuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	k1, err := EnsureSecretKey(dir)
	if err != nil {
		t.Fatalf("first call: %v", err)
	}
	if len(k1) != 32 {
		t.Fatalf("key length %d, want 32", len(k1))
	}
	if bytes.Equal(k1, make([]byte, 32)) {
		t.Fatal("key is all zeros")
	}
	fi, err := os.Stat(filepath.Join(dir, SecretKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode %o, want 600", perm)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := di.Mode().Perm(); perm != 0o700 {
		t.Errorf("dir mode %o, want 700", perm)
	}
	k2, err := EnsureSecretKey(dir)
	if err != nil {
		t.Fatalf("second call: %v", err)
	}
	if !bytes.Equal(k1, k2) {
		t.Error("second call returned a different key")
	}
	// The stored file must be loadable by the same rules as UNIONBOT_SECRET_KEY.
	b, _ := os.ReadFile(filepath.Join(dir, SecretKeyFile))
	c, err := Load(env(map[string]string{"UNIONBOT_SECRET_KEY": strings.TrimSpace(string(b))}))
	if err != nil || !bytes.Equal(c.SecretKey, k1) {
		t.Errorf("file content does not load as UNIONBOT_SECRET_KEY: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only %s", len(entries), SecretKeyFile)
	}
}

func TestEnsureSecretKeyConcurrent(t *testing.T) {
	dir := t.TempDir()
	const n = 16
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = EnsureSecretKey(dir) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("call %d got a different key: racing creators must agree", i)
		}
	}
}

func TestEnsureSecretKeyBadFileKept(t *testing.T) {
	for name, content := range map[string]string{
		"not base64": "%%%%\n",
		"too short":  "AAAA\n",
		"empty":      "",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, SecretKeyFile)
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := EnsureSecretKey(dir); err == nil {
				t.Fatal("got no error for a corrupt key file")
			}
			b, _ := os.ReadFile(p)
			if string(b) != content {
				t.Errorf("corrupt key file was changed to %q", b)
			}
		})
	}
}
