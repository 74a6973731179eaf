package handlers_test

import (
	"strings"
	"testing"
	"time"

	"unionbot/handlers"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func TestStaffHours(t *testing.T) {
	h, err := handlers.ParseStaffHours("1-5 08:30-12:00,14:00-17:30; 6 09:00-12:00")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.String(); got != "周一至周五 8:30-12:00、14:00-17:30；周六 9:00-12:00" {
		t.Errorf("String = %q", got)
	}
	at := func(d, hh, mm int) time.Time { return time.Date(2026, 3, d, hh, mm, 0, 0, shanghai) } // 2026-03-02 is a Monday
	for _, c := range []struct {
		t    time.Time
		open bool
		next time.Time
	}{
		{at(2, 8, 29), false, at(2, 8, 30)},
		{at(2, 8, 30), true, at(2, 8, 30)},
		{at(2, 12, 30), false, at(2, 14, 0)},
		{at(6, 18, 0), false, at(7, 9, 0)},
		{at(7, 12, 0), false, at(9, 8, 30)},
	} {
		if got := h.Open(c.t); got != c.open {
			t.Errorf("Open(%v) = %v", c.t, got)
		}
		if got := h.Next(c.t); !got.Equal(c.next) {
			t.Errorf("Next(%v) = %v, want %v", c.t, got, c.next)
		}
	}
	for _, bad := range []string{"1-5", "0-5 09:00-17:00", "1-8 09:00-17:00", "1-5 17:00-09:00", "1-5 9h-17h", "5-1 09:00-10:00"} {
		if _, err := handlers.ParseStaffHours(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if d, _ := handlers.ParseStaffHours(""); d.String() != "周一至周五 9:00-17:00" {
		t.Errorf("default %q", d.String())
	}
}

// The hand-off in chat: 人工 opens it; free text goes to staff; commands keep working;
// 取消 ends it; after an officer closes it the member is answered as usual.
func TestHandoffInChat(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, memoryKV(t))
		f.seedFAQs()
		ctx := t.Context()
		const me = "oid-handoff"
		// Sunday 2026-05-03 10:30: outside the default hours.
		mustContain(t, f.say(me, "人工"), "已为您转接人工服务", "周一至周五 9:00-17:00", "最早明天9:00后回复", "取消")
		mustContain(t, f.say(me, "转人工"), "您已在人工对话中")
		mustContain(t, f.say(me, "单位拖欠我三个月工资怎么办"), "已转给工作人员", "最早明天9:00")
		mustContain(t, f.say(me, "菜单"), "绑定")
		// Crisis signals are still heard (the legal-aid screen answers them at once).
		mustContain(t, f.say(me, "我真的不想活了"), "110")
		h, err := f.db.OpenHandoffOf(ctx, me)
		if err != nil {
			t.Fatal(err)
		}
		full, _ := f.db.Handoff(ctx, h.ID)
		if len(full.Messages) != 1 || full.Messages[0].Text != "单位拖欠我三个月工资怎么办" {
			t.Fatalf("kept %+v", full)
		}
		mustContain(t, f.say(me, "取消"), "已结束人工对话")
		if _, err := f.db.OpenHandoffOf(ctx, me); err == nil {
			t.Fatal("still open after 取消")
		}
		// 取消 again is no longer the hand-off's.
		mustNotContain(t, f.say(me, "取消"), "已结束人工对话")

		// Monday in working hours; an officer closes it; the next message is answered as usual.
		f.clock.Set(time.Date(2026, 5, 4, 10, 0, 0, 0, shanghai))
		mustContain(t, f.say(me, "人工"), "现在是工作时间")
		h, _ = f.db.OpenHandoffOf(ctx, me)
		mustContain(t, f.say(me, "在吗"), "已转给工作人员")
		if _, err := f.db.CloseHandoff(ctx, h.ID, storage.CloseByOfficer, handlers.MsgHandoffClosedByOfficer, storage.AuditEntry{Actor: "officer:x"}); err != nil {
			t.Fatal(err)
		}
		mustNotContain(t, f.say(me, "会费怎么交"), "已转给工作人员")

		// Idle conversations close by the job, with the clock.
		mustContain(t, f.say(me, "人工"), "已为您转接")
		f.clock.Add(47 * time.Hour)
		if closed, _, err := f.svc.Handoff.Maintain(ctx); err != nil || closed != 0 {
			t.Fatalf("closed early: %d %v", closed, err)
		}
		f.clock.Add(2 * time.Hour)
		if closed, _, err := f.svc.Handoff.Maintain(ctx); err != nil || closed != 1 {
			t.Fatalf("idle close: %d %v", closed, err)
		}
	})
}

func TestOfficerLinkInChat(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, memoryKV(t))
		ctx := t.Context()
		o, err := f.db.CreateOfficer(ctx, storage.NewOfficer{Username: "lixia", DisplayName: "李霞", PasswordHash: "x",
			Roles: []string{"legal"}}, storage.AuditEntry{Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		code, err := f.db.IssueOfficerLinkCode(ctx, o.ID, 0, storage.AuditEntry{Actor: "officer:lixia"})
		if err != nil {
			t.Fatal(err)
		}
		mustContain(t, f.say("oid-officer", "干部绑定"), "我的微信")
		mustContain(t, f.say("oid-officer", "干部绑定 ABCDE-FGHJK"), "无效或已过期")
		mustContain(t, f.say("oid-officer", "干部绑定 "+strings.ToLower(code.Code)), "已将本微信与后台账号 李霞（lixia）关联")
		mustContain(t, f.say("oid-officer", "干部绑定 "+code.Code), "无效或已过期") // used up
		linked, err := f.db.LinkedOfficers(ctx, "legal")
		if err != nil || len(linked) != 1 || linked[0].OpenID != "oid-officer" || linked[0].OfficerID != o.ID {
			t.Fatalf("linked %+v %v", linked, err)
		}
		if none, _ := f.db.LinkedOfficers(ctx, "finance"); len(none) != 0 {
			t.Fatalf("finance %+v", none)
		}
		// Expired codes do not link.
		code, _ = f.db.IssueOfficerLinkCode(ctx, o.ID, 0, storage.AuditEntry{Actor: "officer:lixia"})
		f.clock.Add(16 * time.Minute)
		mustContain(t, f.say("oid-other", "干部绑定 "+code.Code), "无效或已过期")
		if err := f.db.UnlinkOfficerWeChat(ctx, o.ID, storage.AuditEntry{Actor: "officer:lixia"}); err != nil {
			t.Fatal(err)
		}
		if linked, _ := f.db.LinkedOfficers(ctx, ""); len(linked) != 0 {
			t.Fatalf("after unlink %+v", linked)
		}
	})
}
