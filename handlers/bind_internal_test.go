package handlers

import (
	"testing"
	"time"

	"unionbot/bot"
)

func TestCheckName(t *testing.T) {
	cases := []struct {
		in, want string
		question bool // refused as a question (the interrupt hook may answer it)
		bad      bool
	}{
		{in: "张三", want: "张三"},
		{in: " 欧阳 修远 ", want: "欧阳修远"},
		{in: "张三。", want: "张三"},
		{in: "阿依古丽·买买提", want: "阿依古丽·买买提"},
		{in: "阿依古丽•买买提", want: "阿依古丽·买买提"},
		{in: "阿依古丽.买买提", want: "阿依古丽·买买提"},
		{in: "阿卜杜热合曼·阿卜杜拉·买买提明", want: "阿卜杜热合曼·阿卜杜拉·买买提明"},
		{in: "张", bad: true},
		{in: "张三李四王五赵", want: "张三李四王五赵"}, // 7 Han characters, no dot
		{in: "zhang san", want: "zhangsan"},
		{in: "Aygul Mamat", want: "aygulmamat"},
		{in: "Ａｙｇｕｌ・Ｍａｍａｔ", want: "aygul·mamat"},
		{in: "乌力吉巴雅尔", want: "乌力吉巴雅尔"},
		{in: "我要报销住院医疗费用", bad: true},
		{in: "申请困难职工补助金", bad: true},
		{in: "查一下我的互助保障", bad: true},
		{in: "cancel", bad: true},
		{in: "menu", bad: true},
		{in: "zenmebangding", bad: true},
		{in: "王 五", want: "王五"},
		{in: "王\u3000五", want: "王五"},
		{in: "阿依古丽・买买提", want: "阿依古丽·买买提"},
		{in: "阿依古丽 ． 买买提", want: "阿依古丽·买买提"},
		{in: "张三李四王五赵钱孙李周吴郑王冯陈褚卫蒋沈", want: "张三李四王五赵钱孙李周吴郑王冯陈褚卫蒋沈"}, // 20
		{in: "张三李四王五赵钱孙李周吴郑王冯陈褚卫蒋沈韩", bad: true},                   // 21
		{in: "a", bad: true},
		{in: "OK", bad: true},
		{in: "张_三", bad: true},
		{in: "张3", bad: true},
		{in: "·张三", want: "张三"},
		{in: "张··三", bad: true},
		{in: "阿依古丽阿依古丽·买买提买买提买买提买买提", bad: true},
		{in: "你好", bad: true},
		{in: "谢谢", bad: true},
		{in: "怎么入会", question: true},
		{in: "要带什么", question: true},
		{in: "会费多少", question: true},
		{in: "在吗", question: true},
		{in: "这是哪", question: true},
		{in: "可以吗", question: true},
		{in: "为什么", question: true},
		{in: "如何绑定", question: true},
		{in: "能不能不填", question: true},
		{in: "张三?", question: true},
		{in: "张三？", question: true},
	}
	for _, c := range cases {
		got, err := checkName(t.Context(), &bot.Session{}, c.in)
		msg, isUser := bot.UserMessage(err)
		switch {
		case c.question:
			if !isUser || msg != msgNameNotQ {
				t.Errorf("checkName(%q) = %q, %v; want the question refusal", c.in, got, err)
			}
		case c.bad:
			if !isUser || msg != msgBadName {
				t.Errorf("checkName(%q) = %q, %v; want the bad-name refusal", c.in, got, err)
			}
		case err != nil || got != c.want:
			t.Errorf("checkName(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestCheckIDSix(t *testing.T) {
	cases := []struct{ in, want, errMsg string }{
		{in: "123456", want: "123456"},
		{in: "12345X", want: "12345X"},
		{in: "12345x", want: "12345X"},
		{in: "１２３４５６", want: "123456"},
		{in: " 123 456 ", want: "123456"},
		{in: "11010519491231002X", want: "31002X"},
		{in: "11010519491231002x", want: "31002X"},
		{in: "110105194912310021", errMsg: msgBadIDFull}, // wrong check character
		{in: "1234X6", errMsg: msgBadIDSix},
		{in: "12345", errMsg: msgBadIDSix},
		{in: "1234567", errMsg: msgBadIDSix},
		{in: "abcdef", errMsg: msgBadIDSix},
		{in: "1101051949123100", errMsg: msgBadIDSix},
		{in: "", errMsg: msgBadIDSix},
	}
	for _, c := range cases {
		got, err := checkIDSix(t.Context(), &bot.Session{}, c.in)
		if c.errMsg != "" {
			if msg, ok := bot.UserMessage(err); !ok || msg != c.errMsg {
				t.Errorf("checkIDSix(%q) = %q, %v; want refusal %q", c.in, got, err, c.errMsg)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("checkIDSix(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{time.Hour, "1小时"},
		{2 * time.Hour, "2小时"},
		{90 * time.Minute, "90分钟"},
		{30 * time.Minute, "30分钟"},
		{1500 * time.Millisecond, "1分钟"},
		{61 * time.Second, "2分钟"},
	}
	for _, c := range cases {
		if got := humanDuration(c.d); got != c.want {
			t.Errorf("humanDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}
