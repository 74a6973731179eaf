package faq

import (
	"strings"
	"testing"
)

func TestRulesMatch(t *testing.T) {
	rules, errs := CompileRules([]Rule{
		{ID: 1, Pattern: "你好", Match: MatchExact, Reply: "greeting"},
		{ID: 2, Pattern: "工会费", Match: MatchExact, Reply: "dues"},
		{ID: 3, Pattern: "送清凉", Match: MatchContains, Reply: "summer", Priority: 5},
		{ID: 4, Pattern: `^\d{4}年.*活动$`, Match: MatchRegex, Reply: "year activity"},
		{ID: 5, Pattern: "活动", Match: MatchContains, Reply: "activity low"},
		{ID: 6, Pattern: "活动", Match: MatchContains, Reply: "activity high", Priority: 9},
		{ID: 7, Pattern: "清凉", Match: MatchContains, Reply: "same priority, higher id", Priority: 5},
		{ID: 8, Pattern: "ABC", Match: MatchExact, Reply: "abc"},
	})
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	tests := []struct {
		text string
		want int64 // 0: no match
	}{
		{"你好", 1},
		{" 你好！！", 1},
		{"謝謝", 0}, // Normalize drops both 你好 and 谢谢: they must not match each other
		{"谢谢", 0},
		{"你好，我想问会费", 0}, // exact needs the whole message
		{"工会费", 2},
		{"会费？", 2}, // via Normalize: 工会费 and 会费 are the same word
		{"今年送清凉什么时候发", 3},
		{"送清凉活动", 6}, // the priority 9 rule wins over 3 (priority 5)
		{"清凉油", 7},
		{"2025年职工活动", 6}, // regex rule 4 has priority 0, below rule 6
		{"abc", 8},
		{"ＡＢＣ", 8},
		{"会员卡", 0},
	}
	for _, tt := range tests {
		got, ok := rules.Match(tt.text)
		if tt.want == 0 {
			if ok {
				t.Errorf("Match(%q) = rule %d, want none", tt.text, got.ID)
			}
			continue
		}
		if !ok || got.ID != tt.want {
			t.Errorf("Match(%q) = rule %d (%v), want %d", tt.text, got.ID, ok, tt.want)
		}
	}
}

func TestRulesRegexOnRawText(t *testing.T) {
	rules, errs := CompileRules([]Rule{{ID: 1, Pattern: `^报名\s+\d+$`, Match: MatchRegex, Reply: "r"}})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if _, ok := rules.Match("  报名 12 "); !ok {
		t.Error("regex should see the raw text, trimmed")
	}
	if _, ok := rules.Match("报名12"); ok {
		t.Error("regex matched text without the space it requires")
	}
}

func TestCompileRulesErrors(t *testing.T) {
	rules, errs := CompileRules([]Rule{
		{ID: 11, Pattern: "([", Match: MatchRegex, Reply: "x"},
		{ID: 12, Pattern: "会费", Match: "fuzzy", Reply: "x"},
		{ID: 13, Pattern: " ", Match: MatchExact, Reply: "x"},
		{ID: 14, Pattern: "会费", Match: MatchExact, Reply: ""},
		{ID: 15, Pattern: "！？", Match: MatchContains, Reply: "x"},
		{ID: 16, Pattern: "会费", Match: MatchExact, Reply: "ok"},
	})
	if len(errs) != 5 {
		t.Fatalf("got %d errors, want 5: %v", len(errs), errs)
	}
	for i, id := range []string{"11", "12", "13", "14", "15"} {
		if !strings.Contains(errs[i].Error(), "rule "+id) {
			t.Errorf("error %q does not name rule %s", errs[i], id)
		}
	}
	if rules.Len() != 1 {
		t.Errorf("Len = %d, want 1 usable rule", rules.Len())
	}
	if r, ok := rules.Match("会费"); !ok || r.ID != 16 {
		t.Errorf("the valid rule must still work: %v %v", r, ok)
	}
}

func TestNilRules(t *testing.T) {
	var r *Rules
	if _, ok := r.Match("会费"); ok {
		t.Error("nil rules matched")
	}
}

func TestContainsRuleDoesNotShrinkToOneCharacter(t *testing.T) {
	rules, errs := CompileRules([]Rule{
		{ID: 1, Pattern: "在吗", Match: MatchContains, Reply: "在的"},
		{ID: 2, Pattern: "有没有", Match: MatchContains, Reply: "有"},
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, q := range []string{"我在工地受伤了怎么办", "现在能交会费", "有什么活动"} {
		if r, ok := rules.Match(q); ok {
			t.Errorf("%q matched rule %d (%q)", q, r.ID, r.Pattern)
		}
	}
	for _, q := range []string{"你好在吗", "在吗？", "工会有没有法律援助"} {
		if _, ok := rules.Match(q); !ok {
			t.Errorf("%q did not match", q)
		}
	}
}

func TestContainsRuleKeepsSynonyms(t *testing.T) {
	rules, errs := CompileRules([]Rule{
		{ID: 1, Pattern: "工会会费", Match: MatchContains, Reply: "会费"},
		{ID: 2, Pattern: "拖欠工资", Match: MatchContains, Reply: "欠薪"},
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for q, want := range map[string]int64{"会费怎么交": 1, "老板欠薪怎么办": 2} {
		if r, ok := rules.Match(q); !ok || r.ID != want {
			t.Errorf("%q matched %v %v, want rule %d", q, r.ID, ok, want)
		}
	}
}
