package handlers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// A WeChat retry of the last answer, delivered after the first run bound the member and
// died before its session and reply were stored, gets the success reply — not "already
// bound" — and the binding has exactly one audit row.
func TestBindRetryAfterCrashSaysSuccess(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ms := f.seedRoster()
		const me = "oid-crash"
		f.say(me, "绑定")
		mustContain(t, f.say(me, zhang.name), "第2/2步")
		// The first run of the last answer: it bound (with its audit row, one
		// transaction) and died before the session and the reply were stored, so
		// the session still waits for the ID digits.
		if err := f.db.BindMember(t.Context(), ms[zhang.no].ID, me, storage.AuditEntry{Actor: "member:" + me}); err != nil {
			t.Fatal(err)
		}
		got := f.say(me, zhang.last6(t)) // the retry
		mustContain(t, got, "绑定成功")
		mustNotContain(t, got, "已绑定会员")
		audits, err := f.db.AuditEntries(t.Context(), fmt.Sprintf("member:%d", ms[zhang.no].ID), 10)
		if err != nil || len(audits) != 1 || audits[0].Action != "member.bind" {
			t.Errorf("audit after bind and retry: got %+v, %v; want one member.bind", audits, err)
		}
		// Other details from a bound openid still get "already bound".
		f.say(me, "绑定")
		mustContain(t, f.say(me, "绑定"), "已绑定会员")
	})
}

// Wrong guesses at one member's ID digits from many openids meet a limit per name: the
// tenth locks the name for everyone, a right guess then binds nothing, and the member is
// told to contact their union. The lock ends on its own after 24 hours.
func TestBindGuessesAcrossOpenIDsLockTheName(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		for i := range 10 {
			wrong := person{name: zhang.name, id17: fmt.Sprintf("150627198503124%02d", 30+i)}
			if wrong.last6(t) == zhang.last6(t) {
				t.Fatal("test premise: a wrong guess is right")
			}
			got := f.bind(fmt.Sprintf("oid-attacker-%d", i), wrong)
			if i < 9 {
				mustContain(t, got, "没有查到")
			} else {
				mustContain(t, got, "这个姓名", "锁定", "联系所在基层工会", "绑定码")
			}
		}
		got := f.bind("oid-attacker-right", zhang)
		mustContain(t, got, "锁定", "联系所在基层工会")
		mustNotContain(t, got, "绑定成功", zhang.unit)
		if m, _ := f.db.MemberByNo(t.Context(), zhang.no); m.OpenID != "" {
			t.Fatalf("bound to %q while the name was locked", m.OpenID)
		}
		// Another name is not affected.
		mustContain(t, f.bind("oid-li", li), "绑定成功")

		f.clock.Add(24 * time.Hour)
		mustContain(t, f.bind("oid-zhang", zhang), "绑定成功")
	})
}

// Replies that confirm a right pair without binding it (bound elsewhere, transferred) are
// attempts: repeating them locks the openid like wrong guesses do.
func TestRevealingRepliesCountAsAttempts(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ms := f.seedRoster()
		if err := f.db.BindMember(t.Context(), ms[li.no].ID, "oid-owner", storage.AuditEntry{Actor: "test"}); err != nil {
			t.Fatal(err)
		}
		const me = "oid-prober"
		for range 2 {
			mustContain(t, f.bind(me, li), "已绑定了其他微信")
			mustContain(t, f.bind(me, wang), "已转出")
		}
		mustContain(t, f.bind(me, li), "连续5次", "暂时锁定")
		mustContain(t, f.say(me, "绑定"), "绑定已暂时锁定")
	})
}

// A lock lives in the database: a bot restarted with an empty kv store (Redis flushed,
// or the embedded mode restarted) still refuses.
func TestBindLockSurvivesKVLoss(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, memoryKV(t))
		f.seedRoster()
		const me = "oid-restart"
		wrong := person{name: zhang.name, id17: "15062719850312422"}
		for range 5 {
			f.bind(me, wrong)
		}
		restarted := newFixture(t, db, memoryKV(t))
		restarted.clock.Set(f.clock.Now())
		mustContain(t, restarted.say(me, "绑定"), "绑定已暂时锁定")
	})
}

// An officer's help: unlock-binding clears a name lock; a binding code binds even while
// both the name and the openid are locked, once.
func TestUnlockAndBindingCode(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		const me = "oid-real-zhang"
		for i := range 10 {
			f.bind(fmt.Sprintf("oid-x-%d", i), person{name: zhang.name, id17: fmt.Sprintf("150627198503124%02d", 30+i)})
		}
		for i := range 5 {
			f.bind(me, person{name: li.name, id17: fmt.Sprintf("150627199001011%02d", 70+i)})
		}
		mustContain(t, f.say(me, "绑定"), "绑定已暂时锁定")

		mustContain(t, f.say(me, "绑定码"), "例如：", "绑定码 ")
		mustContain(t, f.say(me, "绑定码 AAAAA-BBBBB"), "不对")
		code, err := f.db.IssueBindingCode(t.Context(), zhang.no, 0, storage.AuditEntry{Actor: "cli"})
		if err != nil {
			t.Fatal(err)
		}
		got := f.say(me, "绑定码 "+strings.ToLower(code.Code))
		mustContain(t, got, "绑定成功", "会员编号")
		if m, _ := f.db.MemberByNo(t.Context(), zhang.no); m.OpenID != me {
			t.Fatalf("member bound to %q after the code, want %s", m.OpenID, me)
		}
		f.say(me, "解绑")
		f.say(me, "确认")
		mustContain(t, f.say(me, "绑定码 "+code.Code), "不对", "只能用一次")

		// Unlocking the name lets self-service binding through again (from an unlocked openid).
		if _, _, err := f.db.UnlockBinding(t.Context(), zhang.no, storage.AuditEntry{Actor: "cli"}); err != nil {
			t.Fatal(err)
		}
		mustContain(t, f.bind("oid-fresh", zhang), "绑定成功")
	})
}

// Inside the bind form, a binding code gets a hint instead of "not a name".
func TestBindingCodeTypedInsideForm(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		f.say("oid-form", "绑定")
		mustContain(t, f.say("oid-form", "绑定码 ABCDE-FGHJK"), "取消", "绑定码")
	})
}
