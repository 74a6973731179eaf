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

// TestTransitionTable pins every (status, event) pair: the legal ones lead where the
// design says, every other one is refused, so a move added by mistake (re-publishing a
// cancelled notice, cancelling one already sent) fails here.
func TestTransitionTable(t *testing.T) {
	legal := map[Status]map[Event]Status{
		Draft:     {Schedule: Scheduled, Publish: Sending, Cancel: Cancelled},
		Scheduled: {Publish: Sending, Cancel: Cancelled, Unschedule: Draft},
		Sending:   {Finish: Done, Cancel: Cancelled},
	}
	for _, s := range []Status{Draft, Scheduled, Sending, Done, Cancelled} {
		for _, ev := range []Event{Schedule, Publish, Finish, Cancel, Unschedule} {
			got, err := Next(s, ev)
			want, ok := legal[s][ev]
			if ok && (err != nil || got != want) {
				t.Errorf("%s --%s--> %q, %v; want %s", s, ev, got, err, want)
			}
			if !ok && (got != "" || !errors.Is(err, ErrIllegal) || !strings.Contains(err.Error(), string(ev)+" on a "+string(s))) {
				t.Errorf("%s --%s--> %q, %v; want ErrIllegal naming the move", s, ev, got, err)
			}
		}
	}
}

func TestStatusLabels(t *testing.T) {
	labels := map[Status]string{Draft: "草稿", Scheduled: "定时待发", Sending: "发送中", Done: "已发完", Cancelled: "已取消"}
	for s, want := range labels {
		if !s.Valid() || s.Label() != want {
			t.Errorf("%s: valid %t, label %q; want %q", s, s.Valid(), s.Label(), want)
		}
	}
	if Status("sent").Valid() || Status("sent").Label() != "sent" {
		t.Error("an unknown status is valid or labelled")
	}
	// Only what has not started sending may still be edited.
	for s, want := range map[Status]bool{Draft: true, Scheduled: true, Sending: false, Done: false, Cancelled: false} {
		if s.Editable() != want {
			t.Errorf("%s.Editable() = %t, want %t", s, s.Editable(), want)
		}
	}
}

// TestAudienceTargeting: each kind keeps only the list it uses, refuses an empty list,
// says who it reaches, and tells whether only bound members are targeted (the chat asks
// a follower to bind before signing up for a members-only notice).
func TestAudienceTargeting(t *testing.T) {
	cases := []struct {
		in          Audience
		units, tags []string
		members     bool
		describe    string
		err         string
	}{
		{in: Audience{Kind: " all ", Units: []string{"x"}, Tags: []string{"y"}}, describe: "全部关注者"},
		{in: Audience{Kind: "bound"}, members: true, describe: "已绑定的会员"},
		{in: Audience{Kind: "enrolled"}, members: true, describe: "2026年度参加互助保障的已绑定会员"},
		{in: Audience{Kind: "units", Units: []string{"城关镇工会", " 银湖食品公司工会 ", "城关镇工会"}},
			units: []string{"城关镇工会", "银湖食品公司工会"}, members: true, describe: "城关镇工会、银湖食品公司工会的已绑定会员"},
		{in: Audience{Kind: "tags", Tags: []string{"女职工", "", "新会员", "女职工"}, Units: []string{"城关镇工会"}},
			tags: []string{"女职工", "新会员"}, describe: "带有标签“女职工”“新会员”的关注者"},
		{in: Audience{Kind: "units", Units: []string{" ", ""}}, err: "请至少选择一个基层工会"},
		{in: Audience{Kind: "tags"}, err: "请至少选择一个标签"},
		{in: Audience{Kind: ""}, err: "发送对象只能是"},
	}
	for _, c := range cases {
		got, err := c.in.Check()
		if c.err != "" {
			if !errors.Is(err, ErrAudience) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%+v: got %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%+v: %v", c.in, err)
			continue
		}
		if strings.Join(got.Units, "|") != strings.Join(c.units, "|") || strings.Join(got.Tags, "|") != strings.Join(c.tags, "|") {
			t.Errorf("%+v normalised to %+v", c.in, got)
		}
		if got.Units == nil || got.Tags == nil {
			t.Errorf("%+v: lists must be empty, not null, in JSON", c.in)
		}
		if got.MembersOnly() != c.members {
			t.Errorf("%s: MembersOnly = %t, want %t", got.Kind, got.MembersOnly(), c.members)
		}
		if d := got.Describe(2026); d != c.describe {
			t.Errorf("%s: Describe = %q, want %q", got.Kind, d, c.describe)
		}
	}
	if (Audience{Kind: "x"}).MembersOnly() || (Audience{Kind: "x"}).Describe(2026) != "x" {
		t.Error("an unknown kind")
	}
}

func TestChooseChannelReasons(t *testing.T) {
	// No quota problem: no sentence about people left out.
	if ch := ChooseChannel(500, 0, ""); ch.Channel != Mass || strings.Contains(ch.Reason, "收不到") || !strings.HasPrefix(ch.Reason, "受众500人") {
		t.Errorf("500, none over quota: %+v", ch)
	}
	if ch := ChooseChannel(2, 0, ""); ch.Channel != Individual || !strings.HasPrefix(ch.Reason, "受众2人，逐条发送") {
		t.Errorf("2 people: %+v", ch)
	}
	// Nobody to send to or a single person: individual whatever the officer asked.
	if ch := ChooseChannel(0, 0, Mass); ch.Channel != Individual || !strings.Contains(ch.Reason, "没有可发送的对象") {
		t.Errorf("0 people, mass asked: %+v", ch)
	}
	if ch := ChooseChannel(1, 0, Individual); ch.Reason != "只有1人，逐条发送（群发至少需要2人）。" {
		t.Errorf("1 person: %+v", ch)
	}
	if ch := ChooseChannel(5, 3, Mass); !strings.HasPrefix(ch.Reason, "按您的选择使用群发。受众5人") || !strings.Contains(ch.Reason, "本月已收满4条的3人") {
		t.Errorf("5 people, mass asked: %+v", ch)
	}
}

func TestCheckContent(t *testing.T) {
	title64, body5000 := strings.Repeat("标", MaxTitle), strings.Repeat("文", MaxBody)
	cases := []struct {
		title, body string
		err         string
	}{
		{" 送清凉 ", "\n高温补贴发放通知 ", ""},
		{title64, body5000, ""},
		{"  ", "x", "请填写标题"},
		{title64 + "标", "x", "标题最多64个字"},
		{"送\n清凉", "x", "标题不能换行"},
		{"送\r清凉", "x", "标题不能换行"},
		{"送清凉", " \n ", "请填写正文"},
		{"送清凉", body5000 + "文", "正文最多5000个字"},
	}
	for _, c := range cases {
		title, body, err := CheckContent(c.title, c.body)
		if c.err == "" {
			if err != nil || title != strings.TrimSpace(c.title) || body != strings.TrimSpace(c.body) {
				t.Errorf("CheckContent(%.20q): %q %.20q %v", c.title, title, body, err)
			}
			continue
		}
		if !errors.Is(err, ErrContent) || !strings.Contains(err.Error(), c.err) {
			t.Errorf("CheckContent(%.20q, %.20q) = %v, want %q", c.title, c.body, err, c.err)
		}
	}
}

func TestActivityCheckLimits(t *testing.T) {
	now := time.Date(2026, 7, 1, 2, 0, 0, 0, time.UTC)
	start := now.Add(48 * time.Hour)
	ok := Activity{StartsAt: start, Place: "职工之家", Capacity: 30, Waitlist: true, RemindBefore: -1}
	cases := []struct {
		name string
		edit func(*Activity)
		err  string
	}{
		{"valid", func(*Activity) {}, ""},
		{"no start", func(a *Activity) { a.StartsAt = time.Time{} }, "请填写活动开始时间"},
		{"starts now", func(a *Activity) { a.StartsAt = now }, "活动开始时间已经过去"},
		{"starts in a second", func(a *Activity) { a.StartsAt = now.Add(time.Second); a.SignupDeadline = time.Time{} }, ""},
		{"no place", func(a *Activity) { a.Place = " \t" }, "请填写活动地点"},
		{"place of 100", func(a *Activity) { a.Place = strings.Repeat("地", MaxPlace) }, ""},
		{"place of 101", func(a *Activity) { a.Place = strings.Repeat("地", MaxPlace+1) }, "地点最多100个字"},
		{"negative capacity", func(a *Activity) { a.Capacity = -1 }, "名额应在0到100000之间"},
		{"capacity 100000", func(a *Activity) { a.Capacity = 100000 }, ""},
		{"capacity 100001", func(a *Activity) { a.Capacity = 100001 }, "名额应在0到100000之间"},
		{"deadline at the start", func(a *Activity) { a.SignupDeadline = start }, ""},
		{"deadline after the start", func(a *Activity) { a.SignupDeadline = start.Add(time.Minute) }, "报名截止时间不能晚于活动开始时间"},
	}
	for _, c := range cases {
		a := ok
		c.edit(&a)
		got, err := a.Check(now)
		if c.err != "" {
			if !errors.Is(err, ErrContent) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		// An officer's own settings are kept: no reminder, a waitlist with places.
		if got.RemindBefore != -1 || !got.Waitlist {
			t.Errorf("%s: %+v", c.name, got)
		}
	}
	// Without a reminder set, the signed-up are reminded a day before.
	if a, err := (Activity{StartsAt: start, Place: "x"}).Check(now); err != nil || a.RemindBefore != 24*time.Hour {
		t.Errorf("default reminder: %v %v", a.RemindBefore, err)
	}
	// Without a limit there is no waitlist to join.
	a, err := Activity{StartsAt: start, Place: "x", Waitlist: true, SignupDeadline: now.Add(time.Hour)}.Check(now)
	if err != nil || a.Waitlist || a.SignupDeadline != now.Add(time.Hour) {
		t.Errorf("unlimited: %+v %v", a, err)
	}
}

func TestMessageTextVariants(t *testing.T) {
	// 2026-11-03 06:30 UTC is 14:30 on a Tuesday in China.
	at := time.Date(2026, 11, 3, 6, 30, 0, 0, time.UTC)
	if got := When(at); got != "11月3日（周二）14:30" {
		t.Errorf("When = %q", got)
	}
	if got := When(time.Date(2026, 11, 7, 16, 5, 0, 0, time.UTC)); got != "11月8日（周日）00:05" {
		t.Errorf("When past midnight = %q", got)
	}
	if PagePath(42) != "/n/42" {
		t.Errorf("PagePath = %q", PagePath(42))
	}
	// A plain notice without a public address: no activity lines, no link.
	got := MessageText(7, "会费调整", "  自12月起会费按新标准收取。 ", nil, 0, "")
	if want := "【会费调整】\n自12月起会费按新标准收取。\n\n回复“退订”不再接收通知。"; got != want {
		t.Errorf("plain notice:\n%q\nwant\n%q", got, want)
	}
	// An activity without a limit shows no places.
	act := &Activity{StartsAt: at, Place: "职工之家"}
	got = MessageText(9, "观影", "周二观影", act, 12, "https://u.example")
	want := "【观影】\n周二观影\n\n时间：11月3日（周二）14:30\n地点：职工之家\n报名：回复“报名 12”\n\n全文：https://u.example/n/9\n\n回复“退订”不再接收通知。"
	if got != want {
		t.Errorf("activity:\n%q\nwant\n%q", got, want)
	}
}

func TestExcerpt(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"一二三四五", 5, "一二三四五"},
		{" 一二三四五六 ", 5, "一二三四五…"},
		{"一二 三四五", 3, "一二…"},
		{"", 3, ""},
	} {
		if got := Excerpt(c.in, c.n); got != c.want {
			t.Errorf("Excerpt(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
