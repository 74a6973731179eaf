package faq

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func mustSeed(t testing.TB) []Entry {
	t.Helper()
	seed, err := Seed()
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	return seed
}

func TestSeedShape(t *testing.T) {
	seed := mustSeed(t)
	if len(seed) < 45 {
		t.Fatalf("seed has %d entries, want at least 45", len(seed))
	}
	seen := map[string]int64{}
	for i, e := range seed {
		if e.ID != int64(i+1) {
			t.Errorf("entry %d has id %d", i, e.ID)
		}
		if e.Category == "" {
			t.Errorf("entry %d: empty category", e.ID)
		}
		if n := len(e.Alternates); n < 3 || n > 6 {
			t.Errorf("entry %d: %d alternates, want 3..6", e.ID, n)
		}
		if n := utf8.RuneCountInString(e.Answer); n < 60 || n > 300 {
			t.Errorf("entry %d: answer has %d characters, want 60..300", e.ID, n)
		}
		for _, q := range append([]string{e.Question}, e.Alternates...) {
			k := strings.TrimSpace(q)
			if k == "" {
				t.Errorf("entry %d: empty phrasing", e.ID)
			}
			if other, dup := seen[k]; dup {
				t.Errorf("phrasing %q appears in entries %d and %d", k, other, e.ID)
			}
			seen[k] = e.ID
		}
	}
}

// The seed must not invent phone numbers: the only numbers of five or more
// digits allowed are the national hotlines 12351 (unions) and 12333 (human
// resources and social security).
func TestSeedNoInventedPhoneNumbers(t *testing.T) {
	long := regexp.MustCompile(`\d{5,}`)
	for _, e := range mustSeed(t) {
		for _, n := range long.FindAllString(e.Answer+strings.Join(e.Alternates, " ")+e.Question, -1) {
			if n != "12351" && n != "12333" {
				t.Errorf("entry %d mentions number %s", e.ID, n)
			}
		}
	}
}

func TestSeedCoversTopics(t *testing.T) {
	var all strings.Builder
	for _, e := range mustSeed(t) {
		all.WriteString(e.Question + e.Answer)
	}
	text := all.String()
	for _, topic := range []string{
		"入会", "会籍转移", "0.5%", "2%", "互助", "出院小结", "费用清单", "15个工作日", "封顶", "观察期",
		"法律援助", "农民工", "不审查经济困难", "12351", "困难职工", "普惠", "送清凉", "送温暖", "集体合同",
		"报名", "电子会员卡", "个人信息", "绑定", "进度", "退订", "人工",
	} {
		if !strings.Contains(text, topic) {
			t.Errorf("no seed entry covers %q", topic)
		}
	}
}
