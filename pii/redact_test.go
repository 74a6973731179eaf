package pii

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	id := withCheck("11010119900307123")
	tests := []struct{ name, in, want string }{
		{"no digits", "你好，我想申请互助金", "你好，我想申请互助金"},
		{"short numbers kept", "报名 3 号活动，2024年5月1日，金额1200.50元", "报名 3 号活动，2024年5月1日，金额1200.50元"},
		{"id number", "我的身份证号是" + id + "，谢谢", "我的身份证号是1101**********" + id[14:] + "，谢谢"},
		{"id with lower x", "身份证11010519491231002x", "身份证1101**********002X"},
		{"id spaced", "110101 19900307 " + id[14:], "1101**********" + id[14:]},
		{"old 15-digit id", "旧证110101900307123", "旧证1101*******7123"},
		{"mobile", "电话13812345678", "电话138****5678"},
		{"mobile spaced", "电话 138 1234 5678 联系", "电话 138****5678 联系"},
		{"mobile dashed", "138-1234-5678", "138****5678"},
		{"mobile with country code", "+86 13812345678", "+138****5678"},
		{"mobile glued to code", "8613812345678", "138****5678"},
		{"mobile full-width", "手机１３８１２３４５６７８", "手机138****5678"},
		{"mobile then a digit", "13812345678 2次", "138****5678 2次"},
		{"mobile then x", "13812345678x", "138****5678x"},
		{"mobile in english", "call 13912345678 now", "call 139****5678 now"},
		{"not a mobile", "12812345678", "12812345678"},
		{"card 16", "卡号6222021234567890", "卡号**** **** **** 7890"},
		{"card 19 spaced", "卡号 6222 0212 3456 7890 123。", "卡号 **** **** **** 0123。"},
		{"card 17 dashed", "6222-0212-3456-7890-1", "**** **** **** 8901"},
		{"several", "张三 " + id + " 13812345678 6222021234567890",
			"张三 1101**********" + id[14:] + " 138****5678 **** **** **** 7890"},
		{"twenty digits left alone", "12345678901234567890", "12345678901234567890"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.in); got != tc.want {
				t.Fatalf("Redact(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestRedactNeverLeaks checks, over many shapes, that no personal number
// survives in the output.
func TestRedactNeverLeaks(t *testing.T) {
	secrets := []string{withCheck("44030619851120001"), "15912345678", "6217001234567890123"}
	wrappers := []string{"%s", "前%s后", "a%sb", " %s ", "（%s）", "%s。", "号码:%s,", "%s\n%s"}
	for _, s := range secrets {
		for _, w := range wrappers {
			in := strings.ReplaceAll(w, "%s", s)
			out := Redact(in)
			if strings.Contains(out, s) || strings.Contains(out, s[3:10]) {
				t.Errorf("Redact(%q) = %q leaks %s", in, out, s)
			}
		}
	}
}

func TestRedactManyGroups(t *testing.T) {
	// Thousands of tiny digit groups must not blow up (the search is bounded).
	in := strings.Repeat("1 ", 50000)
	if out := Redact(in); len(out) == 0 {
		t.Fatal("empty output")
	}
}

func BenchmarkRedact(b *testing.B) {
	text := "您好，我叫张三，身份证号110101199003071237，手机13812345678，想申请大病互助金，发票共3张，金额12000元。"
	for b.Loop() {
		Redact(text)
	}
}
