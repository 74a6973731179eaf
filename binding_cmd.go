package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"unionbot/config"
	"unionbot/pii"
	"unionbot/storage"
)

// Binding help for officers (DESIGN.md §5). The rules — what a lock is, how long a code
// lives, what each writes to the audit log — are storage's, which the officers' console
// calls too; these commands only translate the outcome into words.

// cmdUnlockBinding clears the self-service binding lock of a member (the lock that
// repeated failed attempts at their name set), so they can bind by themselves again.
//
//	unlock-binding MEMBER_NO
func cmdUnlockBinding(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	no, err := memberNoArg("unlock-binding", args)
	if err != nil {
		return err
	}
	db, _, err := openDB(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	m, was, err := db.UnlockBinding(ctx, no, storage.AuditEntry{Actor: "cli"})
	if err != nil {
		return memberError(no, err)
	}
	who := describeMember(m)
	if was.IsZero() {
		fmt.Fprintf(stdout, "%s的自助绑定没有被锁定，无需解除（失败次数已清零）。\n", who)
		return nil
	}
	fmt.Fprintf(stdout, "已解除%s的自助绑定锁定（原定 %s 自动解除）。会员现在可以回复“绑定”重新绑定。\n",
		who, was.In(cst).Format("2006-01-02 15:04"))
	return nil
}

// cmdBindingCode prints a one-time binding code for a member, valid 24 hours, alone on the
// last line. The member sends "绑定码 CODE"; it binds even while self-service binding is
// locked.
//
//	binding-code MEMBER_NO
func cmdBindingCode(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	no, err := memberNoArg("binding-code", args)
	if err != nil {
		return err
	}
	db, _, err := openDB(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	c, err := db.IssueBindingCode(ctx, no, storage.DefaultBindingCodeTTL, storage.AuditEntry{Actor: "cli"})
	if err != nil {
		return memberError(no, err)
	}
	fmt.Fprintf(stdout, "%s的绑定码如下，%s 前有效，只能用一次（之前给过的绑定码已作废）。\n",
		describeMember(c.Member), c.ExpiresAt.In(cst).Format("2006-01-02 15:04"))
	fmt.Fprintf(stdout, "请核实是会员本人后再告知：在公众号里发送“绑定码 %s”即可绑定。\n", c.Code)
	fmt.Fprintln(stdout, c.Code)
	return nil
}

// cst is the zone officers read times in (China has no DST).
var cst = time.FixedZone("CST", 8*3600)

func memberNoArg(cmd string, args []string) (string, error) {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") || strings.TrimSpace(args[0]) == "" {
		return "", usageError{cmd + " MEMBER_NO"}
	}
	return strings.TrimSpace(args[0]), nil
}

// memberError says what went wrong with the member number in words an officer can act on.
func memberError(no string, err error) error {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("没有会员编号为 %s 的会员，请核对编号（或先导入名册）", no)
	case errors.Is(err, storage.ErrInvalid):
		return fmt.Errorf("会员 %s 不是“在册”状态，不能绑定；如状态有误，请先在名册中更正后重新导入", no)
	}
	return err
}

// describeMember names a member for an officer's terminal, the name masked.
func describeMember(m storage.Member) string {
	unit := m.UnitName
	if unit == "" {
		unit = "未登记工会"
	}
	return fmt.Sprintf("会员 %s（编号 %s，%s）", pii.MaskName(m.Name), m.MemberNo, unit)
}
