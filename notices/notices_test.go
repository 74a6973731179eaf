package notices

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTransitions(t *testing.T) {
	cases := []struct {
		from Status
		ev   Event
		to   Status
	}{
		{Draft, Schedule, Scheduled}, {Draft, Publish, Sending}, {Draft, Cancel, Cancelled},
		{Scheduled, Publish, Sending}, {Scheduled, Cancel, Cancelled}, {Scheduled, Unschedule, Draft},
		{Sending, Finish, Done}, {Sending, Cancel, Cancelled},
		{Done, Cancel, ""}, {Cancelled, Publish, ""}, {Sending, Publish, ""}, {Draft, Finish, ""},
	}
	for _, c := range cases {
		got, err := Next(c.from, c.ev)
		if got != c.to || (c.to == "") != errors.Is(err, ErrIllegal) {
			t.Errorf("%s --%s--> %q (%v), want %q", c.from, c.ev, got, err, c.to)
		}
	}
}

func TestChooseChannel(t *testing.T) {
	cases := []struct {
		size, over int
		want       Channel
		got        Channel
		reason     string
	}{
		{0, 0, "", Individual, "没有可发送的对象"},
		{1, 0, Mass, Individual, "群发至少需要2人"},
		{IndividualMax, 0, "", Individual, "不占用"},
		{IndividualMax + 1, 0, "", Mass, "每人每月最多收到4条"},
		{500, 12, "", Mass, "12人这次收不到"},
		{500, 0, Individual, Individual, "按您的选择"},
		{5, 0, Mass, Mass, "按您的选择使用群发"},
	}
	for _, c := range cases {
		ch := ChooseChannel(c.size, c.over, c.want)
		if ch.Channel != c.got || !strings.Contains(ch.Reason, c.reason) {
			t.Errorf("ChooseChannel(%d, %d, %q) = %+v, want %s with %q", c.size, c.over, c.want, ch, c.got, c.reason)
		}
	}
}

func TestAudienceCheck(t *testing.T) {
	if _, err := (Audience{Kind: "units"}).Check(); !errors.Is(err, ErrAudience) {
		t.Errorf("units without units: %v", err)
	}
	a, err := Audience{Kind: "units", Units: []string{" 城关镇工会", "城关镇工会", ""}, Tags: []string{"x"}}.Check()
	if err != nil || len(a.Units) != 1 || len(a.Tags) != 0 {
		t.Errorf("normalised %+v %v", a, err)
	}
	if _, err := (Audience{Kind: "everyone"}).Check(); !errors.Is(err, ErrAudience) {
		t.Errorf("unknown kind: %v", err)
	}
	if d := (Audience{Kind: "enrolled"}).Describe(2026); d != "2026年度参加互助保障的已绑定会员" {
		t.Errorf("describe %q", d)
	}
}

func TestActivityCheckAndText(t *testing.T) {
	now := time.Date(2026, 7, 1, 2, 0, 0, 0, time.UTC)
	if _, err := (Activity{StartsAt: now.Add(-time.Hour), Place: "x"}).Check(now); !errors.Is(err, ErrContent) {
		t.Errorf("past start: %v", err)
	}
	if _, err := (Activity{StartsAt: now.Add(time.Hour), Place: "x", SignupDeadline: now.Add(2 * time.Hour)}).Check(now); err == nil {
		t.Errorf("deadline after start accepted")
	}
	a, err := Activity{StartsAt: now.Add(48 * time.Hour), Place: " 职工之家 ", Capacity: 30}.Check(now)
	if err != nil || a.SignupDeadline != a.StartsAt || a.RemindBefore != DefaultRemind || a.Place != "职工之家" {
		t.Fatalf("defaults %+v %v", a, err)
	}
	text := MessageText(7, "送清凉", strings.Repeat("高温", 100), &a, 3, "https://u.example/")
	for _, want := range []string{"【送清凉】", "…", "7月3日（周五）10:00", "名额：30人", "报名 3", "https://u.example/n/7", "退订"} {
		if !strings.Contains(text, want) {
			t.Errorf("message lacks %q:\n%s", want, text)
		}
	}
}
