package handlers_test

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"unionbot/faq"
	"unionbot/handlers"
	"unionbot/internal/testlog"
	"unionbot/pii"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func TestBindSuccess(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ms := f.seedRoster()
		const me = "oid-bind-ok"

		got := f.say(me, "绑定")
		mustContain(t, got, "姓名", "第1/2步")
		got = f.say(me, zhang.name)
		mustContain(t, got, "身份证号码后6位", "第2/2步")
		got = f.say(me, zhang.last6(t))
		mustContain(t, got, "绑定成功", pii.MaskName(zhang.name), pii.MaskMemberNo(zhang.no), zhang.unit, "我的信息")
		mustNotContain(t, got, zhang.name, zhang.no, zhang.id(t), zhang.last6(t))

		m, err := f.db.MemberByOpenID(t.Context(), me)
		if err != nil {
			t.Fatalf("member by openid after bind: %v", err)
		}
		if m.ID != ms[zhang.no].ID {
			t.Errorf("bound member %d, want %d", m.ID, ms[zhang.no].ID)
		}
		audits, err := f.db.AuditEntries(t.Context(), fmt.Sprintf("member:%d", m.ID), 10)
		if err != nil {
			t.Fatalf("audit entries: %v", err)
		}
		if len(audits) != 1 || audits[0].Action != "member.bind" || audits[0].Actor != "member:"+me {
			t.Fatalf("audit = %+v, want one member.bind by member:%s", audits, me)
		}
		mustNotContain(t, audits[0].Detail, zhang.name, zhang.no, zhang.last6(t))
		mustContain(t, audits[0].Detail, pii.MaskMemberNo(zhang.no))
		// The conversation is over: the next message is not taken as a form answer.
		mustContain(t, f.say(me, "绑定"), "已绑定会员", pii.MaskMemberNo(zhang.no), "解绑")
	})
}

func TestBindWrongInfoCountsTries(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		const me = "oid-wrong"
		got := f.bind(me, person{name: zhang.name, id17: "15062719850312422"}) // another ID
		mustContain(t, got, "没有查到", "还可以再试4次", "绑定")
		mustNotContain(t, got, zhang.name)
		got = f.bind(me, person{name: "张三", id17: zhang.id17})
		mustContain(t, got, "还可以再试3次")
		if _, err := f.db.MemberByOpenID(t.Context(), me); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("member by openid after failed binds: err %v, want ErrNotFound", err)
		}
		// The right details still bind (the count is not reset: see TestBindSuccessKeepsFailureCount).
		mustContain(t, f.bind(me, zhang), "绑定成功")
		if m, err := f.db.MemberByNo(t.Context(), zhang.no); err != nil || m.OpenID != me {
			t.Errorf("member after bind: openid %q err %v, want %q", m.OpenID, err, me)
		}
	})
}

// TestBindLockout: the lock ends on its own, by the clock (no sleeping).
func TestBindLockout(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, memoryKV(t), func(d *handlers.Deps) {
			d.BindingLimits.PerOpenID = storage.BindingLimit{Max: 3, Window: 20 * time.Minute, Lockout: 20 * time.Minute}
		})
		f.seedRoster()
		const me = "oid-lock"
		wrong := person{name: zhang.name, id17: "15062719850312422"}
		mustContain(t, f.bind(me, wrong), "还可以再试2次")
		mustContain(t, f.bind(me, wrong), "还可以再试1次")
		got := f.bind(me, wrong)
		mustContain(t, got, "连续3次", "暂时锁定", "联系所在基层工会", "20分钟")

		got = f.say(me, "绑定")
		mustContain(t, got, "绑定已暂时锁定", "约20分钟后再试", "绑定码")
		mustNotContain(t, got, "姓名")
		// Right details do not get through while locked either.
		if got := f.say(me, zhang.name); strings.Contains(got, "第2/2步") {
			t.Errorf("form went on while locked:\n%s", got)
		}

		f.clock.Add(20 * time.Minute)
		mustContain(t, f.say(me, "绑定"), "第1/2步")
		mustContain(t, f.say(me, zhang.name), "第2/2步")
		mustContain(t, f.say(me, zhang.last6(t)), "绑定成功")
	})
}

func TestBindLockoutDefaultsTell(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		const me = "oid-lock-default"
		wrong := person{name: li.name, id17: "15062719900101163"}
		for i := 4; i >= 1; i-- {
			mustContain(t, f.bind(me, wrong), fmt.Sprintf("还可以再试%d次", i))
		}
		until := f.clock.Now().Add(time.Hour).In(shanghai).Format("15:04")
		mustContain(t, f.bind(me, wrong), "连续5次", "1小时后", until)
		mustContain(t, f.say(me, "绑定"), "约60分钟后再试")
	})
}

func TestBindMemberBoundElsewhere(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ms := f.seedRoster()
		if err := f.db.BindMember(t.Context(), ms[li.no].ID, "oid-someone-else", storage.AuditEntry{Actor: "test"}); err != nil {
			t.Fatalf("bind elsewhere: %v", err)
		}
		const me = "oid-late"
		got := f.bind(me, li)
		mustContain(t, got, "已绑定了其他微信", "联系所在基层工会")
		mustNotContain(t, got, "还可以再试") // counted (it confirms a right pair), but not told
		if m, _ := f.db.MemberByNo(t.Context(), li.no); m.OpenID != "oid-someone-else" {
			t.Errorf("member openid %q changed", m.OpenID)
		}
	})
}

func TestBindOpenIDAlreadyBound(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		const me = "oid-twice"
		mustContain(t, f.bind(me, zhang), "绑定成功")
		got := f.say(me, "绑定")
		mustContain(t, got, "已绑定会员", pii.MaskMemberNo(zhang.no), "解绑")
		mustNotContain(t, got, "第1/2步")
		// Clicking the menu refuses the same way.
		mustContain(t, f.click(me, "bind"), "已绑定会员")
	})
}

func TestBindCancelAndBack(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		const me = "oid-cancel"
		f.say(me, "绑定")
		f.say(me, zhang.name)
		mustContain(t, f.say(me, "取消"), "已取消「绑定会员」")
		// Not in the form any more: six digits are not an ID answer.
		got := f.say(me, zhang.last6(t))
		mustNotContain(t, got, "绑定成功")
		if _, err := f.db.MemberByOpenID(t.Context(), me); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("bound after cancel: %v", err)
		}

		f.say(me, "绑定")
		mustContain(t, f.say(me, li.name), "第2/2步")
		mustContain(t, f.say(me, "返回"), "第1/2步", "姓名")
		mustContain(t, f.say(me, zhang.name), "第2/2步")
		mustContain(t, f.say(me, zhang.last6(t)), "绑定成功", pii.MaskName(zhang.name))
	})
}

func TestBindQuestionInsteadOfName(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		f.seedFAQs()
		ix := defaultIndex(t)
		q := "怎样加入工会？"
		entry := wantLevel(t, ix, q, faq.Confident)
		const me = "oid-asks"
		f.say(me, "绑定")
		got := f.say(me, q)
		mustContain(t, got, entry.Answer, "继续办理「绑定会员」", "第1/2步", "姓名")
		// A question the FAQ cannot answer for sure is refused as a name.
		vague := "这个怎么弄啊"
		if lvl, _ := ix.Match(vague); lvl == faq.Confident {
			t.Fatalf("test needs a question the FAQ is not sure of; %q is confident", vague)
		}
		got = f.say(me, vague)
		mustContain(t, got, "需要输入您的姓名", "第1/2步")
		mustContain(t, f.say(me, zhang.name), "第2/2步")
		mustContain(t, f.say(me, zhang.last6(t)), "绑定成功")
	})
}

func TestBindFullIDAccepted(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		const me = "oid-full-id"
		f.say(me, "绑定")
		f.say(me, ayi.name)
		full := ayi.id(t)
		got := f.say(me, full[:17]+"x") // lower-case x
		mustContain(t, got, "绑定成功", pii.MaskName(ayi.name), pii.MaskMemberNo(ayi.no))
		mustNotContain(t, got, full, ayi.name)

		const other = "oid-bad-full-id"
		f.say(other, "绑定")
		f.say(other, zhang.name)
		bad := zhang.id(t)[:17] + "0"
		if bad == zhang.id(t) {
			bad = zhang.id(t)[:17] + "1"
		}
		got = f.say(other, bad)
		mustContain(t, got, "校验不通过", "第2/2步")
		mustNotContain(t, got, bad)
	})
}

func TestBindRefusesInactiveMembers(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		got := f.bind("oid-transferred", wang)
		mustContain(t, got, "已转出", "新的基层工会")
		mustNotContain(t, got, "绑定成功", "还可以再试")
		got = f.bind("oid-withdrawn", zhao)
		mustContain(t, got, "已退会")
		for _, o := range []string{"oid-transferred", "oid-withdrawn"} {
			if _, err := f.db.MemberByOpenID(t.Context(), o); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("%s bound: %v", o, err)
			}
		}
	})
}

func TestUnbindWithConfirmation(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		const me = "oid-unbind"
		mustContain(t, f.say(me, "解绑"), "还没有绑定")

		mustContain(t, f.bind(me, zhang), "绑定成功")
		got := f.say(me, "解绑")
		mustContain(t, got, pii.MaskName(zhang.name), pii.MaskMemberNo(zhang.no), zhang.unit, "确认")
		mustNotContain(t, got, zhang.name, zhang.no)
		// Anything but 确认 keeps the binding and asks again, with the member.
		got = f.say(me, "嗯")
		mustContain(t, got, pii.MaskMemberNo(zhang.no), "确认")
		if _, err := f.db.MemberByOpenID(t.Context(), me); err != nil {
			t.Fatalf("unbound before confirmation: %v", err)
		}
		mustContain(t, f.say(me, "确认"), "已解除绑定")
		if _, err := f.db.MemberByOpenID(t.Context(), me); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("member by openid after unbind: %v, want ErrNotFound", err)
		}
		mustContain(t, f.say(me, "我的信息"), "还没有绑定")
		m, err := f.db.MemberByNo(t.Context(), zhang.no)
		if err != nil {
			t.Fatal(err)
		}
		audits, err := f.db.AuditEntries(t.Context(), fmt.Sprintf("member:%d", m.ID), 10)
		if err != nil || len(audits) != 2 || audits[0].Action != "member.unbind" || audits[0].Actor != "member:"+me {
			t.Errorf("audit = %+v (err %v), want member.unbind then member.bind", audits, err)
		}

		// 取消 at the confirmation keeps the binding.
		mustContain(t, f.bind(me, zhang), "绑定成功")
		f.click(me, "unbind")
		mustContain(t, f.say(me, "取消"), "已取消「解除绑定」")
		if _, err := f.db.MemberByOpenID(t.Context(), me); err != nil {
			t.Errorf("unbound after 取消: %v", err)
		}
	})
}

func TestBindAmbiguousMatchRefused(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		// Another 张三丰 whose ID differs only in the region code: same last 6.
		twin := person{no: "HQ2024000199", name: zhang.name, id17: "15060019850312421", unit: "县水务公司工会",
			status: storage.StatusActive}
		if twin.last6(t) != zhang.last6(t) {
			t.Fatalf("test premise: %s and %s differ in the last 6", twin.last6(t), zhang.last6(t))
		}
		out, err := f.db.UpsertMembers(t.Context(), []storage.MemberRecord{{MemberNo: twin.no, Name: twin.name,
			IDNumber: twin.id(t), UnitName: twin.unit, Status: twin.status}})
		if err != nil || out[0].Err != nil {
			t.Fatalf("upsert twin: %v %v", err, out)
		}
		const me = "oid-twin"
		got := f.bind(me, zhang)
		mustContain(t, got, "多条", "联系所在基层工会")
		mustNotContain(t, got, "绑定成功", "还可以再试", twin.unit, zhang.unit)
		if _, err := f.db.MemberByOpenID(t.Context(), me); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("bound despite two matches: %v", err)
		}
	})
}

// TestLogsHoldNoPII walks binding (failed, refused, successful) and unbinding
// with a debug logger and checks that no name or ID digits reach the log.
func TestLogsHoldNoPII(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		var buf testlog.Buffer
		logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		f := newFixture(t, db, memoryKV(t), func(d *handlers.Deps) { d.Logger = logger })
		f.seedRoster()
		f.bind("oid-log", person{name: li.name, id17: "15062719900101163"})
		f.bind("oid-log", wang)
		f.bind("oid-log", zhang)
		f.say("oid-log", "解绑")
		f.say("oid-log", "确认")
		log := buf.String()
		if !strings.Contains(log, "member bound") || !strings.Contains(log, "member unbound") {
			t.Fatalf("expected bind events in the log:\n%s", log)
		}
		for _, p := range []person{li, wang, zhang} {
			mustNotContain(t, log, p.name, p.last6(t), p.id(t))
		}
	})
}

// A member binds whatever spacing or middle-dot look-alike the roster used for the name
// and whichever the member types; Latin-script names bind too.
func TestBindRosterNameForms(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		people := []struct {
			p     person
			typed string
		}{
			{person{no: "HQ2024000201", name: "王 五", id17: "15062719850312431"}, "王五"},
			{person{no: "HQ2024000202", name: "热依拉•买买提", id17: "15062719850312432"}, "热依拉·买买提"},
			{person{no: "HQ2024000203", name: "古丽・艾力", id17: "15062719850312433"}, "古丽 . 艾力"},
			{person{no: "HQ2024000204", name: "Aygul Mamat", id17: "15062719850312434"}, "Aygul Mamat"},
			{person{no: "HQ2024000205", name: "欧阳娜娜娜娜娜", id17: "15062719850312435"}, "欧阳娜娜娜娜娜"},
		}
		recs := make([]storage.MemberRecord, len(people))
		for i, c := range people {
			recs[i] = storage.MemberRecord{MemberNo: c.p.no, Name: c.p.name, IDNumber: c.p.id(t),
				UnitName: "县水务公司工会", Status: storage.StatusActive}
		}
		out, err := f.db.UpsertMembers(t.Context(), recs)
		if err != nil {
			t.Fatalf("upsert: %v", err)
		}
		for i, o := range out {
			if o.Err != nil {
				t.Fatalf("upsert %s: %v", people[i].p.no, o.Err)
			}
		}
		for i, c := range people {
			me := fmt.Sprintf("oid-name-form-%d", i)
			f.say(me, "绑定")
			mustContain(t, f.say(me, c.typed), "第2/2步")
			mustContain(t, f.say(me, c.p.last6(t)), "绑定成功", pii.MaskMemberNo(c.p.no))
			if m, err := f.db.MemberByOpenID(t.Context(), me); err != nil || m.MemberNo != c.p.no {
				t.Errorf("%q typed for roster name %q: bound %q, err %v", c.typed, c.p.name, m.MemberNo, err)
			}
		}
	})
}

// A successful bind does not reset the failure count, so binding one's own membership and
// unbinding again gives no fresh tries at someone else's details.
func TestBindSuccessKeepsFailureCount(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		const me = "oid-guesser"
		guess := person{name: li.name, id17: "15062719900101163"}
		for i := 4; i >= 1; i-- {
			mustContain(t, f.bind(me, guess), fmt.Sprintf("还可以再试%d次", i))
		}
		mustContain(t, f.bind(me, zhang), "绑定成功")
		f.say(me, "解绑")
		mustContain(t, f.say(me, "确认"), "已解除绑定")
		got := f.bind(me, guess)
		mustContain(t, got, "连续5次", "暂时锁定")
		mustContain(t, f.say(me, "绑定"), "绑定已暂时锁定")
	})
}
