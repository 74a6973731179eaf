package legalaid

import (
	"strings"
	"testing"
)

// The fixture list of issue 12: messages that must be caught, and ordinary sentences that
// must not be.
var crisisHits = map[string]string{
	"不给钱我就从楼上跳下去":        "self_harm",
	"再不给钱我就从楼上跳下去":       "self_harm",
	"我从18楼跳下":            "self_harm",
	"老板再不结账，我就跳楼":        "self_harm",
	"我真的不想活了":            "self_harm",
	"活不下去了，孩子学费都交不起":     "self_harm",
	"我 想 死":              "self_harm",
	"实在没办法只能喝农药了":        "self_harm",
	"拿不到钱我就跟他同归于尽":       "violence",
	"我要杀了老板":             "violence",
	"工头带人来打人，我们被打了":      "violence",
	"工友手被机器卷进去了，正在流血，救命": "injury",
	"有人晕倒了老板不让送医院":       "injury",
	"我们二十几个人明天去公司堵门":     "protest",
	"工友已经爬上塔吊了":          "protest",
	"大家准备拉横幅讨薪":          "protest",
	"ＴＡ说要跳楼！！":           "self_harm",
}

var crisisMisses = []string{
	"我快累死了",
	"笑死我了",
	"今天热死了，厂里没空调",
	"想死你了",
	"商场跳楼价大甩卖",
	"老板拖欠工资怎么办",
	"被辞退了不给补偿",
	"我们厂二十多个人被拖欠工资三个月",
	"去年在工地摔伤了，能认定工伤吗",
	"我想跳槽，合同没到期怎么办",
	"要打人工客服",
	"考勤被打卡机记错了",
	"工资被打回去重算",
	"法律援助",
	"",
}

func TestDetectHits(t *testing.T) {
	for text, cat := range crisisHits {
		s, ok := Detect(text)
		if !ok || s.Category != cat {
			t.Errorf("Detect(%q) = %+v, %v; want category %s", text, s, ok, cat)
		}
		if ok && s.Pattern == "" {
			t.Errorf("Detect(%q): no pattern", text)
		}
	}
}

func TestDetectMisses(t *testing.T) {
	for _, text := range crisisMisses {
		if s, ok := Detect(text); ok {
			t.Errorf("Detect(%q) = %+v, want no signal", text, s)
		}
	}
}

func TestGapPatterns(t *testing.T) {
	s, err := ParseSignals("x 从…跳下\ny 甲…乙…丙\n!从不跳下")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{
		"从跳下":           true,
		"从12345678跳下":   true,  // 8 between: within the gap
		"从123456789跳下":  false, // 9 between
		"跳下从":           false,
		"从12345跳下":      true,  // shorter than the window
		"从12345678跳下去了": true,  // longer than the window, the match inside it
		"从不跳下":          false, // ignored phrase
		"从一二三从四跳下":      true,  // a later start matches
		"甲12乙34丙":       true,
		"甲乙123456789丙":  false,
		"甲乙丙":           true,
		"甲123456789乙丙":  false,
		"甲1乙2甲乙丙":       true,
		"乙丙":            false,
	}
	for text, want := range cases {
		if _, ok := s.Detect(text); ok != want {
			t.Errorf("Detect(%q) = %v, want %v", text, ok, want)
		}
	}
}

// A part after a gap may be long (a whole phrase): the window it is looked for in grows
// with it, so the phrase is found right after the gap, or up to maxGap characters later.
func TestGapPatternLongPart(t *testing.T) {
	long := "拖欠了我们整整三个月的工资还不让我们去劳动监察大队投诉"
	s, err := ParseSignals("protest 老板…" + long)
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]bool{
		"老板" + long:                      true,
		"老板他们几个" + long:                  true,
		"老板12345678" + long:              true,
		"老板123456789" + long:             false,
		"老板" + long[:len(long)-len("诉")]: false,
	} {
		if _, ok := s.Detect(text); ok != want {
			t.Errorf("Detect(%q) = %v, want %v", text, ok, want)
		}
	}
}

func TestParseSignalsErrors(t *testing.T) {
	for _, bad := range []string{"nocategory", "cat  ", "cat …"} {
		if _, err := ParseSignals(bad); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("ParseSignals(%q) = %v, want a line error", bad, err)
		}
	}
	s, err := ParseSignals("# comment\n\n  a 甲  \n")
	if err != nil || len(s.patterns) != 1 || s.patterns[0].text != "甲" || s.patterns[0].category != "a" {
		t.Fatalf("ParseSignals: %+v %v", s, err)
	}
}

func TestFold(t *testing.T) {
	if got := fold("  ＡＢ，c！ 跳 楼 "); got != "abc跳楼" {
		t.Fatalf("fold = %q", got)
	}
}

func TestQuestion(t *testing.T) {
	cases := map[string]Type{
		"老板拖欠工资怎么办":     WageArrears,
		"被辞退了不给补偿":      LaborContract,
		"包工头欠薪跑了":       WageArrears,
		"工伤赔偿怎么算":       WorkInjury,
		"公司不给交社保":       SocialInsurance,
		"怎么申请劳动仲裁":      ArbitrationLitigation,
		"没签劳动合同能要双倍工资吗": LaborContract,
		"ＮＩＡＮ":          "",
		"会费怎么交":         "",
		"":              "",
	}
	for text, want := range cases {
		got, ok := Question(text)
		if got != want || ok != (want != "") {
			t.Errorf("Question(%q) = %q, %v; want %q", text, got, ok, want)
		}
	}
}
