package faq

import (
	"strconv"
	"strings"
)

// ParseShortcut reads a message that is only a number, such as "3", "３",
// "第3条", "3号", "第三个" or "No.3", and returns the number. The caller
// decides what it refers to: one of the questions just offered, or an FAQ
// entry ID. Numbers must be between 1 and 9999.
func ParseShortcut(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0xFF10 && r <= 0xFF19: // full-width digits
			r -= 0xFEE0
		case r == ' ' || r == 0x3000 || r == '.' || r == '。' || r == '、' || r == '#' || r == '＃':
			continue
		}
		b.WriteRune(r)
	}
	t := strings.ToLower(b.String())
	t = strings.TrimPrefix(t, "no")
	t = strings.TrimPrefix(t, "第")
	for _, suf := range []string{"条", "个", "项", "号", "题", "问"} {
		t = strings.TrimSuffix(t, suf)
	}
	if t == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		var ok bool
		n, ok = chineseNumber(t)
		if !ok {
			return 0, false
		}
	}
	if n < 1 || n > 9999 {
		return 0, false
	}
	return n, true
}

// chineseNumber parses 一 to 九十九 written in Chinese numerals (两 counts as 2).
func chineseNumber(s string) (int64, bool) {
	digit := func(r rune) (int64, bool) {
		i := strings.IndexRune("零一二三四五六七八九", r)
		if i >= 0 {
			return int64(len([]rune("零一二三四五六七八九"[:i]))), true
		}
		if r == '两' {
			return 2, true
		}
		return 0, false
	}
	rs := []rune(s)
	switch len(rs) {
	case 1:
		if rs[0] == '十' {
			return 10, true
		}
		return digit(rs[0])
	case 2:
		if rs[0] == '十' { // 十三
			d, ok := digit(rs[1])
			return 10 + d, ok
		}
		if rs[1] == '十' { // 三十
			d, ok := digit(rs[0])
			return d * 10, ok && d > 0
		}
	case 3:
		if rs[1] == '十' { // 三十五
			t, ok1 := digit(rs[0])
			u, ok2 := digit(rs[2])
			return t*10 + u, ok1 && ok2 && t > 0
		}
	}
	return 0, false
}
