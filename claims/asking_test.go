package claims

import (
	"strings"
	"testing"
)

func TestAsksToClaim(t *testing.T) {
	for _, s := range []string{
		"我住院了怎么报销", "互助金怎么申请", "生病了能报销吗", "住院花了好多钱工会能补吗",
		"怎么申请互助金？", "互助金怎么领", "住院费能报吗", "做了手术，工会给报销吗", "看病的钱能找工会报吗",
		"住院了工会有补助吗", "出院了怎么申请补助", "申请互助金需要哪些材料", "我摔伤骨折了，能申请互助吗",
		"老婆生病住院了怎么办", "ＨＯＷ 互助金 申领？",
	} {
		if !AsksToClaim(s) {
			t.Errorf("%q: not taken as asking to claim", s)
		}
	}
	for _, s := range []string{
		"互助保障一年多少钱", "互助金多久能到账", "怎么参加互助保障", "医保怎么报销", "我的互助金申请到哪一步了",
		"活动怎么报名", "工伤住院了怎么办", "住院能报多少钱", "我老公住院了我能帮他申请吗", "互助保障是什么",
		"互助金审核结果出来了吗", "法律援助怎么申请", "你好", "",
	} {
		if AsksToClaim(s) {
			t.Errorf("%q: taken as asking to claim", s)
		}
	}
}

// Spaces and punctuation a member types inside a word (a phone's space bar, a comma) are
// dropped before the words are compared, not turned into something else.
func TestAskingIgnoresSpacesAndPunctuationInsideWords(t *testing.T) {
	for _, s := range []string{"住 院了怎么报销", "互助金，怎么 申·请？", "出院了　能 报吗"} {
		if !AsksToClaim(s) {
			t.Errorf("%q: not taken as asking to claim", s)
		}
	}
	if got := foldText("互助金， 怎么申请？ＡＢ"); got != "互助金怎么申请ab" {
		t.Errorf("foldText: %q", got)
	}
}

func TestParseAskingErrors(t *testing.T) {
	for _, text := range []string{"about 住院", "what: 住院", "about: 住院", "want: 报销"} {
		if _, err := ParseAsking(text); err == nil {
			t.Errorf("%q: no error", text)
		}
	}
	// The error names the file's line, so whoever edits asking.txt finds it.
	if _, err := ParseAsking("# c\nabout: 牙\nwhat: 补"); err == nil || !strings.Contains(err.Error(), "asking line 3:") {
		t.Errorf("bad third line: %v", err)
	}
	a, err := ParseAsking("# c\nabout: 牙\nwant: 补\nnot: 多少")
	if err != nil || !a.Match("补牙") || a.Match("补牙多少钱") || a.Match("牙疼") {
		t.Fatalf("custom list: %v", err)
	}
}
