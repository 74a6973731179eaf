package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"unionbot/admin/auth"
	"unionbot/config"
	"unionbot/pii"
	"unionbot/storage"
)

func TestCreateOfficerAndToken(t *testing.T) {
	dir := t.TempDir()
	env := func(k string) string {
		if k == "UNIONBOT_DATA_DIR" {
			return dir
		}
		return ""
	}
	cmd := func(stdin string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, env, strings.NewReader(stdin), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, _, errs := cmd("", "import-members", "docs/sample-roster.csv"); code != 0 {
		t.Fatalf("import: %d %s", code, errs)
	}

	if code, out, errs := cmd("Gh7!xkq2Lm9p\n", "create-officer", "zhang.wei", "--role", "reviewer,viewer", "--unit", "银湖食品公司工会"); code != 0 ||
		!strings.Contains(out, "zhang.wei created") || !strings.Contains(out, "银湖食品公司工会") {
		t.Fatalf("create-officer: %d %q %q", code, out, errs)
	}
	for _, tc := range []struct {
		name, stdin string
		args        []string
		code        int
		want        string
	}{
		{"short password", "abc123\n", []string{"create-officer", "a1", "--role", "admin"}, 1, "至少"},
		{"common password", "password123\n", []string{"create-officer", "a2", "--role", "admin"}, 1, "常见"},
		{"no password", "", []string{"create-officer", "a3", "--role", "admin"}, 1, "no password"},
		{"unknown role", "Gh7!xkq2Lm9p\n", []string{"create-officer", "a4", "--role", "boss"}, 2, "unknown role"},
		{"no role", "Gh7!xkq2Lm9p\n", []string{"create-officer", "a5"}, 2, "--role"},
		{"unknown unit", "Gh7!xkq2Lm9p\n", []string{"create-officer", "a6", "--role", "admin", "--unit", "没有这个工会"}, 2, "no unit named"},
		{"taken username", "Gh7!xkq2Lm9p\n", []string{"create-officer", "zhang.wei", "--role", "admin"}, 1, "already exists"},
		{"password as argument", "", []string{"create-officer", "a7", "--role", "admin", "--password", "x"}, 2, "password"},
	} {
		code, _, errs := cmd(tc.stdin, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d mentioning %q", tc.name, code, errs, tc.code, tc.want)
		}
	}

	code, out, errs := cmd("", "create-token", "export-bot", "--role", "viewer")
	if code != 0 {
		t.Fatalf("create-token: %d %s", code, errs)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	token := lines[len(lines)-1]
	if !strings.HasPrefix(token, auth.TokenPrefix) || strings.Contains(token, " ") || strings.Count(out, token) != 1 {
		t.Fatalf("create-token output %q: want the token alone on the last line", out)
	}

	db, err := storage.Open(t.Context(), storage.Options{DataDir: dir, Cipher: mustCipher(t, dir)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	o, err := db.OfficerByUsername(t.Context(), "zhang.wei")
	if err != nil || !auth.VerifyPassword(o.PasswordHash, "Gh7!xkq2Lm9p") || o.UnitName != "银湖食品公司工会" {
		t.Errorf("stored officer: %+v, %v", o, err)
	}
	tok, err := db.APITokenByHash(t.Context(), auth.HashToken(token))
	if err != nil || tok.Name != "export-bot" {
		t.Errorf("stored token: %+v, %v", tok, err)
	}
	if _, err := db.APITokenByHash(t.Context(), token); err == nil {
		t.Error("the token itself is stored, not only its hash")
	}
}

func mustCipher(t *testing.T, dir string) *pii.Cipher {
	t.Helper()
	key, err := config.EnsureSecretKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := pii.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
