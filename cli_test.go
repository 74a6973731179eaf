package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// These tests cover what a newcomer meets first: help, the messages of
// commands that need a running bot, the import's wording, and warnings.

func noEnv(string) string { return "" }

func TestHelpPrintsUsage(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"-help"}, {"serve", "--help"}} {
		var out, errb bytes.Buffer
		if code := run(t.Context(), args, noEnv, nil, &out, &errb); code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errb.String())
		}
		contains(t, out.String(), "usage: unionbot", "UNIONBOT_ADDR", "UNIONBOT_MYSQL_DSN", "UNIONBOT_REDIS_ADDR",
			"README.md", "Configuration")
		if errb.Len() > 0 {
			t.Fatalf("%q: stderr %s", args, errb.String())
		}
	}
	// Help works even when the configuration is invalid: it is how one
	// finds out what the variables are.
	var out, errb bytes.Buffer
	bad := func(k string) string { return map[string]string{"UNIONBOT_ADDR": "nonsense"}[k] }
	if code := run(t.Context(), []string{"--help"}, bad, nil, &out, &errb); code != 0 {
		t.Fatalf("help with a bad configuration: exit %d", code)
	}
	// A subcommand's own -h prints its flags and the usage, exit 0.
	out.Reset()
	errb.Reset()
	if code := run(t.Context(), []string{"import-members", "-h"}, noEnv, nil, &out, &errb); code != 0 {
		t.Fatalf("import-members -h: exit %d: %s", code, errb.String())
	}
	contains(t, errb.String(), "-dry-run")
	contains(t, out.String(), "usage: unionbot")
}

// TestUsageNamesEveryCommand reads run's switch from main.go, so a command
// added there without a usage line fails here.
func TestUsageNamesEveryCommand(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	ast.Inspect(f, func(n ast.Node) bool {
		fd, ok := n.(*ast.FuncDecl)
		if !ok || fd.Name.Name != "runEnv" {
			return true
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			if cc, ok := n.(*ast.CaseClause); ok {
				for _, e := range cc.List {
					if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						cmds = append(cmds, s)
					}
				}
			}
			return true
		})
		return false
	})
	if len(cmds) < 7 {
		t.Fatalf("found only %q in run's switch", cmds)
	}
	// The officers' commands of the binding lockout and the backup are
	// listed too (docs/CONTRACTS.md §2).
	cmds = append(cmds, "backup", "unlock-binding", "binding-code")
	for _, c := range cmds {
		if !strings.Contains(usage, "\n  "+c+" ") {
			t.Errorf("usage does not list %q", c)
		}
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestCommandsNeedingTheBotSayHowToStartIt(t *testing.T) {
	env := map[string]string{"UNIONBOT_ADDR": closedAddr(t), "UNIONBOT_DATA_DIR": t.TempDir()}
	getenv := func(k string) string { return env[k] }
	for _, args := range [][]string{{"sync-menu"}, {"chat"}} {
		var out, errb bytes.Buffer
		if code := run(t.Context(), args, getenv, strings.NewReader(""), &out, &errb); code != 1 {
			t.Fatalf("%q: exit %d: %s %s", args, code, out.String(), errb.String())
		}
		contains(t, errb.String(), "先启动服务：go run .", "go run . "+args[0], env["UNIONBOT_ADDR"])
		for _, bad := range []string{"api.weixin.qq.com", "dial tcp"} {
			if strings.Contains(errb.String(), bad) {
				t.Errorf("%q: the error shows %q: %s", args, bad, errb.String())
			}
		}
	}
}

func TestImportMembersWording(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"UNIONBOT_DATA_DIR": filepath.Join(dir, "data")}
	getenv := func(k string) string { return env[k] }

	// A missing file: a Chinese message naming the file, and no database
	// created for nothing.
	var out, errb bytes.Buffer
	missing := filepath.Join(dir, "名册.csv")
	if code := run(t.Context(), []string{"import-members", missing}, getenv, nil, &out, &errb); code != 1 {
		t.Fatalf("missing file: exit %d: %s", code, errb.String())
	}
	contains(t, errb.String(), "找不到名册文件", missing, "未导入任何数据")
	if strings.Contains(errb.String(), "no such file") {
		t.Errorf("English inside the Chinese message: %s", errb.String())
	}
	if _, err := os.Stat(env["UNIONBOT_DATA_DIR"]); err == nil {
		t.Error("a missing roster file still created the data directory")
	}

	// The flag after the file works; one bad row is "1 行", not "1 rows".
	path := filepath.Join(dir, "roster.csv")
	csv := "会员编号,姓名,身份证号,所属工会\n" +
		"GH-1,王建国," + idNumber("11010519800101002") + ",城关镇总工会\n" +
		"GH-2,李坏,110101199003071230,城关镇总工会\n"
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	if code := run(t.Context(), []string{"import-members", path, "--dry-run"}, getenv, nil, &out, &errb); code != 1 {
		t.Fatalf("dry run with the flag last: exit %d: %s", code, errb.String())
	}
	contains(t, out.String(), "试运行", "可导入：1")
	contains(t, errb.String(), "有 1 行未通过校验")
	if strings.Contains(errb.String(), "rows") {
		t.Errorf("English plural in the error: %s", errb.String())
	}

	// Two files is a usage error that says what it got.
	errb.Reset()
	if code := run(t.Context(), []string{"import-members", path, "--dry-run", path}, getenv, nil, &out, &errb); code != 2 {
		t.Fatalf("two files: exit %d", code)
	}
	contains(t, errb.String(), "got 2")
}

func TestMisspeltVariableIsWarnedAbout(t *testing.T) {
	env := map[string]string{"UNIONBOT_DATA_DIR": t.TempDir(), "UNIONBOT_REDIS_ADRR": "127.0.0.1:6379"}
	getenv := func(k string) string { return env[k] }
	environ := func() []string {
		var kv []string
		for k, v := range env {
			kv = append(kv, k+"="+v)
		}
		return kv
	}
	var out, errb bytes.Buffer
	if code := runEnv(t.Context(), []string{"migrate"}, getenv, environ, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	contains(t, errb.String(), "warning: UNIONBOT_REDIS_ADRR", "did you mean UNIONBOT_REDIS_ADDR?")
	if strings.Contains(errb.String(), "127.0.0.1:6379") {
		t.Errorf("the warning shows the value: %s", errb.String())
	}
}
