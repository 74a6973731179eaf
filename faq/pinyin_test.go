package faq

import (
	"testing"

	"github.com/mozillazg/go-pinyin"
)

func TestSyllable(t *testing.T) {
	for in, want := range map[rune]string{'工': "gong", '商': "shang", '伤': "shang", '绿': "lv", '女': "nv", '会': "hui", '的': "de", 'a': "", '。': ""} {
		if got := syllable(in); got != want {
			t.Errorf("syllable(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every character of the basic CJK block gets the syllable go-pinyin's own
// (slow) conversion gives, so the fast tone stripping misses no mark.
func TestSyllableAgreesWithGoPinyin(t *testing.T) {
	a := pinyin.NewArgs()
	a.Fallback = func(rune, pinyin.Args) []string { return nil }
	for r := rune(0x4E00); r <= 0x9FA5; r++ {
		want := ""
		if p := pinyin.SinglePinyin(r, a); len(p) > 0 {
			want = p[0]
		}
		if got := syllable(r); got != want {
			t.Fatalf("syllable(%q) = %q, go-pinyin says %q", r, got, want)
		}
	}
}

// A bigram the FAQ never uses that sounds like one it does scores as that
// bigram too: 任定 (a pinyin slip for 认定) finds the 认定 entry, with a higher
// score than without the channel; a bigram the FAQ uses gets nothing extra.
func TestHomophoneBigram(t *testing.T) {
	entries := []Entry{
		{ID: 1, Question: "受伤了工伤怎么认定", Answer: "向人社部门申请认定"},
		{ID: 2, Question: "会费交多少", Answer: "工资的百分之零点五"},
		{ID: 3, Question: "产假有多少天", Answer: "九十八天"},
	}
	on := newIndex(entries, defaultParams)
	off := defaultParams
	off.homophoneW = 0
	without := newIndex(entries, off)
	got, base := on.Search("受伤任定", 1), without.Search("受伤任定", 1)
	if len(got) == 0 || got[0].ID != 1 || len(base) == 0 || got[0].Score <= base[0].Score {
		t.Errorf("受伤任定: with homophones %v, without %v", got, base)
	}
	if h := on.homophoneTokens(sortedTokens(tokenize(Normalize("工伤认定"), on.p))); len(h) != 0 {
		t.Errorf("工伤认定 got homophone tokens %v", h)
	}
	if h := on.homophoneTokens(sortedTokens(tokenize("汇费", on.p))); len(h) != 1 || h[0].t != "会\x1f费" {
		t.Errorf("汇费 homophone tokens %v, want 会费", h)
	}
}

// When two of the FAQ's bigrams sound the same, the one in more documents
// stands for the syllables, whatever the map order.
func TestHomophonesPicksTheCommonerBigram(t *testing.T) {
	entries := []Entry{
		{ID: 1, Question: "公示在哪看", Answer: "公示栏"},
		{ID: 2, Question: "公示多久", Answer: "七天"},
		{ID: 3, Question: "工事怎么办", Answer: "找班长"},
	}
	for i := 0; i < 5; i++ {
		if got := newIndex(entries, defaultParams).homophone["gong shi"]; got != "公\x1f示" {
			t.Fatalf("gong shi → %q, want 公示", got)
		}
	}
}

// The channel must earn its place on the homophone-typo tuning set: more
// direct answers than without it, and no more wrong ones.
func TestHomophoneChannelHelpsTypos(t *testing.T) {
	seed := mustSeed(t)
	cases := loadCases(t, "testdata/dev_typos.tsv")
	off := defaultParams
	off.homophoneW = 0
	with, without := Evaluate(NewIndex(seed), cases), Evaluate(newIndex(seed, off), cases)
	t.Logf("with homophones:    %v", with)
	t.Logf("without homophones: %v", without)
	if with.ConfidentCorrect <= without.ConfidentCorrect || with.ConfidentWrong > without.ConfidentWrong {
		t.Errorf("homophone channel: direct %d (without %d), wrong %d (without %d)",
			with.ConfidentCorrect, without.ConfidentCorrect, with.ConfidentWrong, without.ConfidentWrong)
	}
}
