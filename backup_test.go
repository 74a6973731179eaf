package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"unionbot/config"
	"unionbot/localwx"
	"unionbot/storage"
)

// TestBackupWhileServingAndRestore takes a backup with the bot running,
// restores it (with the secret key) into a new data directory, and a bot
// started there knows the member as before (issue 6 §1.12).
func TestBackupWhileServingAndRestore(t *testing.T) {
	dir := t.TempDir()
	r := start(t, map[string]string{"UNIONBOT_DATA_DIR": dir})
	id := idNumber("32010219760315002")
	seedMember(t, r.app.db, "GH-BK-1", "周建华", id)
	c := r.client(config.DevToken, localAppID, "", localwx.Plain)
	contains(t, chat{t, c, "o-backup-1"}.say("菜单"), "绑定")

	dest := filepath.Join(t.TempDir(), "unionbot-2026-01-01.db")
	getenv := func(k string) string { return map[string]string{"UNIONBOT_DATA_DIR": dir}[k] }
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"backup", dest}, getenv, nil, &out, &errb); code != 0 {
		t.Fatalf("backup: exit %d: %s %s", code, out.String(), errb.String())
	}
	for _, want := range []string{dest, filepath.Join(dir, config.SecretKeyFile), "密钥", "secret key", "unionbot.db"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("backup output lacks %q:\n%s", want, out.String())
		}
	}

	// A second backup to the same name is refused, the first one kept.
	before, _ := os.ReadFile(dest)
	out.Reset()
	errb.Reset()
	if code := run(t.Context(), []string{"backup", dest}, getenv, nil, &out, &errb); code == 0 || !strings.Contains(errb.String(), "已存在") {
		t.Fatalf("backup over an existing file: exit %d, stderr %q", code, errb.String())
	}
	if after, _ := os.ReadFile(dest); !bytes.Equal(before, after) {
		t.Fatal("existing backup was changed")
	}

	// Restore as the README says: the copy as DATA_DIR/unionbot.db, the same key.
	restored := t.TempDir()
	copyFile(t, dest, filepath.Join(restored, storage.EmbeddedFile))
	copyFile(t, filepath.Join(dir, config.SecretKeyFile), filepath.Join(restored, config.SecretKeyFile))
	r2 := start(t, map[string]string{"UNIONBOT_DATA_DIR": restored})
	c2 := r2.client(config.DevToken, localAppID, "", localwx.Plain)
	ch := chat{t, c2, "o-backup-2"}
	ch.say("绑定")
	ch.say("周建华")
	contains(t, ch.say(id[12:]), "绑定成功")
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestBackupCommandRefuses: MySQL is backed up with its own tools; a missing
// FILE is a usage error; an empty data directory is not backed up.
func TestBackupCommandRefuses(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"mysql", map[string]string{
			"UNIONBOT_MYSQL_DSN":  "u:p@tcp(127.0.0.1:1)/unionbot",
			"UNIONBOT_SECRET_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		}, []string{"backup", filepath.Join(t.TempDir(), "b.db")}, 1, "mysqldump"},
		{"no file", map[string]string{"UNIONBOT_DATA_DIR": t.TempDir()}, []string{"backup"}, 2, "FILE"},
		{"no database", map[string]string{"UNIONBOT_DATA_DIR": t.TempDir()}, []string{"backup", filepath.Join(t.TempDir(), "b.db")}, 1, "没有数据库"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(t.Context(), tc.args, func(k string) string { return tc.env[k] }, nil, &out, &errb)
			if code != tc.code || !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errb.String(), tc.code, tc.want)
			}
			if len(tc.args) > 1 {
				if _, err := os.Stat(tc.args[1]); err == nil {
					t.Errorf("%s was written", tc.args[1])
				}
			}
		})
	}
}
