package parse

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// China is the zone every date a member types is meant in (China has had no
// daylight saving time since 1991, so a fixed zone needs no tz database).
var China = time.FixedZone("CST", 8*3600)

// Reasons for dates a member gets.
const (
	msgDateFormat = "日期格式不对，请按 2026-11-03 或 11月3日 这样回复"
	msgDateNoDay  = "没有这一天（%d年%d月%d日），请再看一下日期"
	msgDateRange  = "年份不对，请按 2026-11-03 这样回复"
)

var (
	reYMD      = regexp.MustCompile(`^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$`)
	reYMDcn    = regexp.MustCompile(`^(\d{4}|[零〇一二三四五六七八九]{4})年([^年月日号]{1,3})月([^年月日号]{1,3})[日号]?$`)
	reMDcn     = regexp.MustCompile(`^([^年月日号]{1,3})月([^年月日号]{1,3})[日号]?$`)
	reMD       = regexp.MustCompile(`^(\d{1,2})[-/.](\d{1,2})$`)
	reDcn      = regexp.MustCompile(`^([^年月日号]{1,3})[日号]$`)
	reCompact  = regexp.MustCompile(`^(\d{4})(\d{2})(\d{2})$`)
	relativeTo = map[string]int{"今天": 0, "今日": 0, "昨天": -1, "昨日": -1, "前天": -2, "大前天": -3}
)

// Date reads a calendar day: 2026-11-03, 2026/11/3, 2026.11.3, 2026年11月3日
// (or 号, or in Chinese numerals), 11月3日, 11月3, 11/3, 3号, 20261103, 今天,
// 昨天, 前天, 大前天. A date without a year is in the year of today, or the
// year before when that would put it after today (a member in January
// writing 12月28日 means last December); a day alone is in this month, or
// the month before on the same rule. today is taken in China time. The result
// is midnight UTC of that day (the form storage keeps dates in). On failure
// the error is an *Error whose message can be shown to the member as is.
func Date(s string, today time.Time) (time.Time, error) {
	s = clean(s)
	s = strings.TrimSuffix(strings.TrimSuffix(s, "入院"), "出院")
	t := today.In(China)
	ty, tm, td := t.Date()
	if d, ok := relativeTo[s]; ok {
		return time.Date(ty, tm, td+d, 0, 0, 0, 0, time.UTC), nil
	}
	var y, m, d int64
	yearKnown, monthKnown := true, true
	num := func(x string) int64 {
		n, ok := cnInt(x)
		if !ok {
			return -1
		}
		return n
	}
	switch {
	case reCompact.MatchString(s):
		g := reCompact.FindStringSubmatch(s)
		y, m, d = num(g[1]), num(g[2]), num(g[3])
	case reYMD.MatchString(s):
		g := reYMD.FindStringSubmatch(s)
		y, m, d = num(g[1]), num(g[2]), num(g[3])
	case reYMDcn.MatchString(s):
		g := reYMDcn.FindStringSubmatch(s)
		y, m, d = cnYear(g[1]), num(g[2]), num(g[3])
	case reMDcn.MatchString(s):
		g := reMDcn.FindStringSubmatch(s)
		m, d, yearKnown = num(g[1]), num(g[2]), false
	case reMD.MatchString(s):
		g := reMD.FindStringSubmatch(s)
		m, d, yearKnown = num(g[1]), num(g[2]), false
	case reDcn.MatchString(s):
		g := reDcn.FindStringSubmatch(s)
		d, yearKnown, monthKnown = num(g[1]), false, false
	default:
		return time.Time{}, fail(msgDateFormat)
	}
	if !yearKnown {
		y = int64(ty)
	}
	if !monthKnown {
		m = int64(tm)
	}
	if y < 0 || m < 0 || d < 0 {
		return time.Time{}, fail(msgDateFormat)
	}
	if y < 1900 || y > 2200 {
		return time.Time{}, fail(msgDateRange)
	}
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, fail(msgDateFormat)
	}
	date := time.Date(int(y), time.Month(m), int(d), 0, 0, 0, 0, time.UTC)
	todayUTC := time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC)
	if !monthKnown && (date.Day() != int(d) || date.After(todayUTC)) {
		// "28号" on the 3rd: the 28th of last month.
		prev := time.Date(ty, tm-1, 1, 0, 0, 0, 0, time.UTC)
		y, m = int64(prev.Year()), int64(prev.Month())
		date = time.Date(int(y), time.Month(m), int(d), 0, 0, 0, 0, time.UTC)
	} else if !yearKnown && date.After(todayUTC) {
		y--
		date = time.Date(int(y), time.Month(m), int(d), 0, 0, 0, 0, time.UTC)
	}
	if date.Day() != int(d) || date.Month() != time.Month(m) {
		return time.Time{}, fail(fmt.Sprintf(msgDateNoDay, y, m, d))
	}
	return date, nil
}

// cnYear reads "2026" or "二〇二六".
func cnYear(s string) int64 {
	if n, ok := digits(s); ok {
		return n
	}
	var n int64
	for _, r := range s {
		d, ok := cnDigit[r]
		if !ok {
			return -1
		}
		n = n*10 + d
	}
	return n
}

// FormatDate writes a date the way people read it: 2026年11月3日.
func FormatDate(t time.Time) string {
	return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
}

// FormatShortDate writes a date without its year: 11月3日.
func FormatShortDate(t time.Time) string {
	return fmt.Sprintf("%d月%d日", int(t.Month()), t.Day())
}

// ISODate writes a date as 2026-11-03 (how forms keep dates).
func ISODate(t time.Time) string { return t.Format(time.DateOnly) }

// ParseISODate reads what ISODate wrote.
func ParseISODate(s string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}
