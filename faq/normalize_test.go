package faq

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"请问，工会会费交多少？", "会费交多少"},
		{"ＡＢＣ１２３５１", "abc12351"},
		{"你好！😀 互助金怎么申请呢？？", "互助怎么申请"},
		{"會費怎麼交", "会费怎么交"},
		{"公会费多少", "会费多少"},               // typo, then synonym
		{"报互助经要啥", "报销互助要什么"},           // homophone typo
		{"老板拖欠工资咋办", "单位欠薪怎么办"},         // base words and phrase synonym
		{"农民工能入会吗", "农民工能入会"},           // 农民工 must not become 农农民工
		{"我是打工的", "我是农民工"},              // ... while the variant still maps
		{"会费是工资的 0.5% 吗", "会费是工资的0.5%"}, // decimal point kept between digits
		{"第一. 问题", "第一问题"},
		{"参加工会组织的比赛", "参加工会组织的活动"}, // not 入会
		{"怎么参加工会", "怎么入会"},
		{"办医疗互助", "参加互助"},
		{"你好", ""},
		{"  ", ""},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLightNormalize(t *testing.T) {
	if got := lightNormalize(" 你好！ＨＩ "); got != "你好hi" {
		t.Errorf("lightNormalize = %q", got)
	}
}

func TestParseShortcut(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"3", 3, true},
		{" 12 ", 12, true},
		{"３", 3, true},
		{"第3条", 3, true},
		{"第 3 个", 3, true},
		{"3号", 3, true},
		{"第三条", 3, true},
		{"十二", 12, true},
		{"二十", 20, true},
		{"三十五", 35, true},
		{"No.7", 7, true},
		{"#2", 2, true},
		{"0", 0, false},
		{"10000", 0, false},
		{"3个人", 0, false},
		{"12351", 0, false},
		{"会费", 0, false},
		{"", 0, false},
		{"第", 0, false},
		{"-1", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseShortcut(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseShortcut(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLexiconRefusesConflicts(t *testing.T) {
	// 手机号 is a canon of one line and a variant of the other; canons are
	// checked in order, so 号码's line claims it first
	_, err := parseLexicon("word\t手机号\t手机号码\nword\t号码\t手机号码|手机号\n")
	if err == nil || !strings.Contains(err.Error(), `"手机号" is rewritten both to "号码" and to "手机号"`) {
		t.Errorf("conflicting lexicon accepted (err %v)", err)
	}
	if _, err := parseLexicon("word\t号码\t手机号码|手机号\nsynonym\t号码\t电话号码\n"); err != nil {
		t.Errorf("a word in two passes refused: %v", err)
	}
}
