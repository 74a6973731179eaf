package delivery

import (
	"strings"
	"testing"
	"time"

	"unionbot/bot"
)

func TestPlan(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	tpl := Templates{
		"claim_status": {Template: "T1", Fields: map[string]string{"thing1": "title"}, Subscribe: "S1", SubscribeFields: map[string]string{"thing1": "title"}},
		"notice":       {Subscribe: "S2", SubscribeFields: map[string]string{"thing1": "title"}},
	}
	base := Situation{Now: now, Kind: "claim_status", Service: true, HasText: true, HasOpenID: true}
	with := func(f func(*Situation)) Situation { s := base; f(&s); return s }
	cases := []struct {
		name string
		s    Situation
		want Channel
	}{
		{"inside 48 hours", with(func(s *Situation) { s.LastSeen = now.Add(-47 * time.Hour) }), ChannelCustom},
		{"just outside 48 hours", with(func(s *Situation) { s.LastSeen = now.Add(-48 * time.Hour) }), ChannelTemplate},
		{"never seen", base, ChannelTemplate},
		{"45015 closed customer service", with(func(s *Situation) {
			s.LastSeen = now.Add(-time.Hour)
			s.Closed = []Channel{ChannelCustom}
		}), ChannelTemplate},
		{"45047 then template closed too, subscribe accepted", with(func(s *Situation) {
			s.LastSeen = now.Add(-time.Hour)
			s.Closed = []Channel{ChannelCustom, ChannelTemplate}
			s.SubscribeAccepted = true
		}), ChannelSubscribe},
		{"not a service notification", with(func(s *Situation) { s.Kind, s.Service = "notice", false }), ChannelUnread},
		{"not a service notification, subscribe accepted", with(func(s *Situation) {
			s.Kind, s.Service, s.SubscribeAccepted = "notice", false, true
		}), ChannelSubscribe},
		{"kind without template", with(func(s *Situation) { s.Kind = "case_status" }), ChannelUnread},
		{"no text for customer service", with(func(s *Situation) { s.HasText, s.LastSeen = false, now }), ChannelTemplate},
		{"member not bound", with(func(s *Situation) { s.HasOpenID, s.LastSeen = false, now }), ChannelUnread},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Plan(tc.s, tpl); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestTemplateData(t *testing.T) {
	got, err := TemplateData(map[string]string{"thing1": "title", "phrase2": "status"},
		map[string]string{"title": "2026年度职工互助保障金申请（住院）审核结果", "status": "已通过\n请查收"})
	if err != nil {
		t.Fatal(err)
	}
	if got["thing1"] != "2026年度职工互助保障金申请（住院）…" || got["phrase2"] != "已通过 请查收" {
		t.Errorf("got %q", got)
	}
	for _, v := range got {
		if n := len([]rune(v)); n > 20 || strings.ContainsAny(v, "\r\n") {
			t.Errorf("%q breaks the template rule", v)
		}
	}
	if _, err := TemplateData(map[string]string{"time3": "time"}, map[string]string{"title": "x"}); err == nil {
		t.Error("a missing field went unnoticed")
	}
	if l := Link("https://u.example.cn/", "/n/12"); l != "https://u.example.cn/n/12" {
		t.Errorf("link %q", l)
	}
	if Link("", "/n/12") != "" {
		t.Error("a link without a public URL")
	}
}

func TestParseTemplates(t *testing.T) {
	got, err := ParseTemplates(`{"claim_status":{"template":"T","fields":{"thing1":"title"}}}`)
	if err != nil || got["claim_status"].Template != "T" {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{`{"x":{"template":"T"}}`, `{"x":{"tempalte":"T"}}`, `[1]`} {
		if _, err := ParseTemplates(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestUnreadNotice(t *testing.T) {
	if UnreadNotice(nil, 0) != "" {
		t.Error("a notice with nothing unread")
	}
	got := UnreadNotice([]string{"您的互助金申请已通过", "法律援助申请已受理"}, 3)
	want := "您有3条新通知：\n1. 您的互助金申请已通过\n2. 法律援助申请已受理\n……另有1条，发送“进度”查看全部。"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestSeenKeyMatchesTheCallback(t *testing.T) {
	if SeenKey("oX") != bot.SeenKey("oX") {
		t.Fatalf("delivery reads %q, the callback writes %q", SeenKey("oX"), bot.SeenKey("oX"))
	}
}

// TestPlanFallsThrough: each channel is taken only while WeChat has not refused it and
// the person can get it; with every one closed or unavailable the message waits in the
// unread list, never in a channel that cannot carry it.
func TestPlanFallsThrough(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	tpl := Templates{
		"claim_status": {Template: "T1", Fields: map[string]string{"thing1": "title"}, Subscribe: "S1", SubscribeFields: map[string]string{"thing1": "title"}},
		"legal_status": {Template: "T2", Fields: map[string]string{"thing1": "title"}},
	}
	all := Situation{Now: now, LastSeen: now.Add(-time.Minute), Kind: "claim_status", Service: true, HasText: true, HasOpenID: true, SubscribeAccepted: true}
	with := func(f func(*Situation)) Situation { s := all; f(&s); return s }
	for _, tc := range []struct {
		name string
		s    Situation
		want Channel
	}{
		{"everything open", all, ChannelCustom},
		{"every channel refused", with(func(s *Situation) {
			s.Closed = []Channel{ChannelCustom, ChannelTemplate, ChannelSubscribe}
		}), ChannelUnread},
		{"subscribe refused, not a service notification", with(func(s *Situation) {
			s.Service, s.LastSeen, s.Closed = false, time.Time{}, []Channel{ChannelSubscribe}
		}), ChannelUnread},
		{"kind without a subscribe message, accepted anyway", with(func(s *Situation) {
			s.Kind, s.LastSeen, s.Closed = "legal_status", time.Time{}, []Channel{ChannelTemplate}
		}), ChannelUnread},
		{"only unread refused (never is): custom", with(func(s *Situation) { s.Closed = []Channel{ChannelUnread} }), ChannelCustom},
		{"seen a second inside the window", with(func(s *Situation) { s.LastSeen = now.Add(-Window + time.Second) }), ChannelCustom},
	} {
		if got := Plan(tc.s, tpl); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestTemplateValues(t *testing.T) {
	twenty := "二〇二六年度职工互助保障金住院申"
	twenty += strings.Repeat("请", 20-len([]rune(twenty)))
	if got := FieldValue(twenty); got != twenty {
		t.Errorf("20 characters were cut: %q", got)
	}
	if got := FieldValue(twenty + "书"); got != string([]rune(twenty)[:19])+"…" {
		t.Errorf("21 characters: %q", got)
	}
	if got := FieldValue(" 已通过\t\n 请查收 "); got != "已通过 请查收" {
		t.Errorf("whitespace: %q", got)
	}
	// A field present but blank leaves a hole in the template: an error, like a missing one.
	if _, err := TemplateData(map[string]string{"thing1": "title"}, map[string]string{"title": " \n"}); err == nil {
		t.Error("a blank field went unnoticed")
	}
	if Link("https://u.example.cn", "") != "" || Link("https://u.example.cn", "n/12") != "https://u.example.cn/n/12" {
		t.Error("Link")
	}
}

func TestParseTemplatesSubscribe(t *testing.T) {
	got, err := ParseTemplates(` {"notice":{"subscribe":"S","subscribe_fields":{"thing1":"title"}},
		"claim_status":{"template":"T","fields":{"thing1":"title"},"subscribe":"S2","subscribe_fields":{"thing2":"status"}}} `)
	if err != nil || got["notice"].Subscribe != "S" || got["claim_status"].SubscribeFields["thing2"] != "status" {
		t.Fatalf("%v %v", got, err)
	}
	if got, err := ParseTemplates("  "); err != nil || len(got) != 0 {
		t.Errorf("blank: %v %v", got, err)
	}
	if _, err := ParseTemplates(`{"notice":{"subscribe":"S"}}`); err == nil || !strings.Contains(err.Error(), "subscribe_fields") {
		t.Errorf("a subscribe message without fields: %v", err)
	}
}

func TestUnreadNoticeLines(t *testing.T) {
	// Every kept message listed: no "另有" line.
	if got := UnreadNotice([]string{"法律援助申请已受理"}, 1); got != "您有1条新通知：\n1. 法律援助申请已受理" {
		t.Errorf("got %q", got)
	}
	// A long line is cut to 60 characters on one line.
	sixty := strings.Repeat("通", 60)
	if got := UnreadNotice([]string{sixty, sixty + "知\n第二行"}, 2); got != "您有2条新通知：\n1. "+sixty+"\n2. "+strings.Repeat("通", 59)+"…" {
		t.Errorf("got %q", got)
	}
	if UnreadNotice([]string{"x"}, -1) != "" {
		t.Error("a negative count")
	}
}
