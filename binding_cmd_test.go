package main

import (
	"bytes"
	"strings"
	"testing"

	"unionbot/config"
	"unionbot/localwx"
)

// TestBindingHelpCommands: an officer gives a member a binding code from the command line
// and the member binds with it in chat; unlock-binding answers for a member with or
// without a lock; mistakes in the member number are told plainly.
func TestBindingHelpCommands(t *testing.T) {
	dir := t.TempDir()
	getenv := func(k string) string { return map[string]string{"UNIONBOT_DATA_DIR": dir}[k] }
	cmd := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(t.Context(), args, getenv, nil, &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, out, errs := cmd("import-members", "docs/sample-roster.csv"); code != 0 {
		t.Fatalf("import sample roster: exit %d: %s %s", code, out, errs)
	}

	code, out, errs := cmd("binding-code", "GH00000001")
	if code != 0 {
		t.Fatalf("binding-code: exit %d: %s %s", code, out, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	bindingCode := lines[len(lines)-1]
	if len(bindingCode) != 11 || bindingCode[5] != '-' {
		t.Fatalf("binding-code: last line %q, want the code alone (XXXXX-XXXXX):\n%s", bindingCode, out)
	}
	contains(t, out, "GH00000001", "韩*", "只能用一次", "绑定码 "+bindingCode)
	if strings.Contains(out, "韩娜霞") {
		t.Errorf("binding-code printed the member's full name:\n%s", out)
	}

	code, out, _ = cmd("unlock-binding", "GH00000001")
	if code != 0 || !strings.Contains(out, "没有被锁定") {
		t.Errorf("unlock-binding without a lock: exit %d: %s", code, out)
	}
	if code, _, errs := cmd("binding-code", "NOPE-1"); code != 1 || !strings.Contains(errs, "没有会员编号为 NOPE-1") {
		t.Errorf("binding-code for an unknown member: exit %d: %s", code, errs)
	}
	if code, _, errs := cmd("binding-code", "GH00000002"); code != 1 || !strings.Contains(errs, "在册") {
		t.Errorf("binding-code for a withdrawn member: exit %d: %s", code, errs)
	}
	if code, _, _ := cmd("unlock-binding"); code != 2 {
		t.Errorf("unlock-binding without MEMBER_NO: exit %d, want 2", code)
	}

	r := start(t, map[string]string{"UNIONBOT_DATA_DIR": dir})
	c := chat{t, r.client(config.DevToken, localAppID, "", localwx.Plain), "o-code"}
	contains(t, c.say("绑定码 "+strings.ToLower(bindingCode)), "绑定成功")
	contains(t, c.say("我的信息"), "GH")
}
