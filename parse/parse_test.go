package parse

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// today is 2026-01-05 09:00 in China (01:00 UTC): early January, so dates
// without a year in December mean last year.
var today = time.Date(2026, 1, 5, 1, 0, 0, 0, time.UTC)

func TestDate(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2026-11-03", "2026-11-03"},
		{"2026/11/3", "2026-11-03"},
		{"2026.1.3", "2026-01-03"},
		{"２０２６－１１－０３", "2026-11-03"},
		{"2026年11月3日", "2026-11-03"},
		{"2026年11月3号", "2026-11-03"},
		{"2026 年 11 月 3 日", "2026-11-03"},
		{"二〇二五年十一月三日", "2025-11-03"},
		{"20261103", "2026-11-03"},
		{"1月3日", "2026-01-03"},
		{"1月3号", "2026-01-03"},
		{"1月3", "2026-01-03"},
		{"一月三日", "2026-01-03"},
		{"11月13号", "2025-11-13"}, // would be in the future this year
		{"12月28日", "2025-12-28"},
		{"12/28", "2025-12-28"},
		{"1-5", "2026-01-05"},
		{"3号", "2026-01-03"},
		{"28号", "2025-12-28"}, // after today this month: last month
		{"今天", "2026-01-05"},
		{"昨天", "2026-01-04"},
		{"前天", "2026-01-03"},
		{"大前天", "2026-01-02"},
		{"今日", "2026-01-05"},
		{"昨日", "2026-01-04"},
		{"2024-02-29", "2024-02-29"},
		{"11月3日入院", "2025-11-03"},
		// The ends of the accepted years, months and days.
		{"1900-01-01", "1900-01-01"},
		{"2200-12-31", "2200-12-31"},
		{"2025-12-01", "2025-12-01"},
		{"2025-10-31", "2025-10-31"},
		{"1号", "2026-01-01"},
		{"31号", "2025-12-31"},
	} {
		got, err := Date(tc.in, today)
		if err != nil {
			t.Errorf("Date(%q): %v", tc.in, err)
			continue
		}
		if s := ISODate(got); s != tc.want {
			t.Errorf("Date(%q) = %s, want %s", tc.in, s, tc.want)
		}
	}
}

func TestDateTodayIsChinaTime(t *testing.T) {
	// 2026-01-04 17:00 UTC is already the 5th in China.
	got, err := Date("今天", time.Date(2026, 1, 4, 17, 0, 0, 0, time.UTC))
	if err != nil || ISODate(got) != "2026-01-05" {
		t.Fatalf("今天 = %v %v, want 2026-01-05", got, err)
	}
}

func TestDateErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "日期格式不对"},
		{"上周", "日期格式不对"},
		{"2026-13-01", "日期格式不对"},
		{"2026-02-30", "没有这一天（2026年2月30日）"},
		{"2025-02-29", "没有这一天"},
		{"20260230", "没有这一天"},
		{"0026-01-01", "年份不对"},
		{"0000-01-01", "年份不对"},
		{"1899-12-31", "年份不对"},
		{"2201-01-01", "年份不对"},
		{"2025-11-31", "没有这一天（2025年11月31日）"},
		{"2025-10-32", "日期格式不对"},
		{"2025-10-00", "日期格式不对"},
		{"2月30日", "没有这一天"},
		{"11月", "日期格式不对"},
		// A word where the month or day should be is not read as a number (nor as 1).
		{"上月3号", "日期格式不对"},
		{"11月底", "日期格式不对"},
		{"3500", "日期格式不对"},
	} {
		_, err := Date(tc.in, today)
		var pe *Error
		if !errors.As(err, &pe) || !strings.Contains(pe.Msg, tc.want) {
			t.Errorf("Date(%q) error = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestFormatDate(t *testing.T) {
	d := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	if FormatDate(d) != "2026年11月3日" || FormatShortDate(d) != "11月3日" || ISODate(d) != "2026-11-03" {
		t.Fatal(FormatDate(d), FormatShortDate(d), ISODate(d))
	}
	if back, ok := ParseISODate("2026-11-03"); !ok || !back.Equal(d) {
		t.Fatal(back, ok)
	}
}

func TestMoney(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"3500", 350000},
		{"0", 0},
		{"3,500.50", 350050},
		{"3，500.5", 350050},
		{"3500元", 350000},
		{"3500.5元", 350050},
		{"3500.05元", 350005},
		{"¥3500", 350000},
		{"￥3,500.00", 350000},
		{"３５００元", 350000},
		{"3500块", 350000},
		{"3500 元整", 350000},
		{".5", 50},
		{"1.2万", 1200000},
		{"2万", 2000000},
		{"三千五百元", 350000},
		{"三千五", 350000},
		{"五百五", 55000},
		{"一万二千元", 1200000},
		{"一万二", 1200000},
		{"三千零五元", 300500},
		{"十五元", 1500},
		{"两千元", 200000},
		{"叁仟伍佰元整", 350000},
		{"三千五百元五角", 350050},
		{"三千五百元五角六分", 350056},
		{"三千五百元零六分", 350006},
		{"一百块五", 10050},
		{"五毛", 50},
		{"三元九角九分", 399},
		{"三元九毛", 390},
		// One hundred million yuan is the largest amount taken, however it is written.
		{"100000000", MaxFen},
		{"100,000,000.00元", MaxFen},
		{"10000万", MaxFen},
		{"100000000元0角0分", MaxFen},
	} {
		got, err := Money(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Money(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestMoneyErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "金额格式不对"},
		{"很多", "金额格式不对"},
		{"3500.505", "小数点后两位"},
		{"-5", "负数"},
		{"1.2.3", "金额格式不对"},
		{"100000001", "太大"},
		{"99999999999999", "太大"},
		{"100000000.01", "太大"},
		{"10000.000001万", "太大"},
		{"100000000元五角", "太大"},
		{"100000001元", "太大"},
		{"999999999999999", "太大"}, // 15 digits: read, and too large, not a format error
		{"999999999999999万", "太大"},
		// × 1,000,000 fen would overflow int64 and wrap to 4,483.84 元: refused before multiplying.
		{"18446744073710万", "太大"},
		{"三元十角", "金额格式不对"},
		{"三元五角十分", "金额格式不对"},
		{"3500美元", "金额格式不对"},
		{"abc", "金额格式不对"},
	} {
		_, err := Money(tc.in)
		var pe *Error
		if !errors.As(err, &pe) || !strings.Contains(pe.Msg, tc.want) {
			t.Errorf("Money(%q) error = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestFormatMoney(t *testing.T) {
	for fen, want := range map[int64]string{0: "0.00 元", 5: "0.05 元", 138000: "1,380.00 元", 12345678901: "123,456,789.01 元", 100000: "1,000.00 元",
		-138005: "-1,380.05 元", -5: "-0.05 元"} {
		if got := FormatMoney(fen); got != want {
			t.Errorf("FormatMoney(%d) = %q, want %q", fen, got, want)
		}
	}
}

func TestYesNo(t *testing.T) {
	for in, want := range map[string]bool{"是": true, "是的": true, "好的": true, "好": true, "对": true, "确认": true,
		"嗯": true, "OK": true, "同意！": true, "好的～": true, "是的~": true, "不用了～": false, "否": false, "不": false, "不用了": false, "没有": false, "不是": false, "不要": false} {
		yes, ok := YesNo(in)
		if !ok || yes != want {
			t.Errorf("YesNo(%q) = %v %v, want %v", in, yes, ok, want)
		}
	}
	for _, in := range []string{"", "1", "也许", "我想想", "是不是"} {
		if _, ok := YesNo(in); ok {
			t.Errorf("YesNo(%q) read as an answer", in)
		}
	}
}

// The parsers never panic, and what they accept round-trips through the
// formatters.
func FuzzDate(f *testing.F) {
	for _, s := range []string{"2026-11-03", "11月3日", "二〇二五年十一月三日", "3号", "20261103", "昨天", "12/28"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Date(s, today)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Msg == "" {
				t.Fatalf("Date(%q): error without a reason: %v", s, err)
			}
			return
		}
		if back, err := Date(ISODate(d), today); err != nil || !back.Equal(d) {
			t.Fatalf("Date(%q) = %v does not round-trip: %v %v", s, d, back, err)
		}
	})
}

func FuzzMoney(f *testing.F) {
	for _, s := range []string{"3500", "3,500.50", "三千五百元五角", "1.2万", "¥3500", "一万二"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fen, err := Money(s)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Msg == "" {
				t.Fatalf("Money(%q): error without a reason: %v", s, err)
			}
			return
		}
		if fen < 0 || fen > MaxFen {
			t.Fatalf("Money(%q) = %d out of range", s, fen)
		}
		txt := FormatFen(fen)
		if !utf8.ValidString(txt) {
			t.Fatal("invalid text")
		}
		if back, err := Money(txt); err != nil || back != fen {
			t.Fatalf("Money(%q) = %d; FormatFen %q reads back as %d %v", s, fen, txt, back, err)
		}
	})
}
