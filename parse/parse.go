// Package parse reads what a Chinese member types for a date, an amount of
// money or a yes/no, in every reasonable way of writing it, and says in short
// Chinese why an answer could not be read. It is pure: "today" is passed in,
// amounts are integer fen (分), never floats. It imports nothing from this
// module, so forms, the console and imports can all share it.
package parse

import (
	"strings"
	"unicode"
)

// Error is a reason meant for the member, in Chinese.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func fail(msg string) error { return &Error{Msg: msg} }

// clean folds full-width characters to half-width, drops every space and
// trailing punctuation, and lower-cases.
func clean(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\u3000' || unicode.IsSpace(r):
			continue
		case r >= '！' && r <= '～': // full-width ASCII block
			r -= 0xFEE0
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return strings.TrimRightFunc(b.String(), func(r rune) bool {
		return r == '.' || r == '。' || r == '!' || r == '！' || r == '~' || r == ',' || r == '，'
	})
}

// Chinese numerals.
var cnDigit = map[rune]int64{
	'零': 0, '〇': 0, '一': 1, '壹': 1, '二': 2, '贰': 2, '两': 2, '三': 3, '叁': 3, '四': 4, '肆': 4,
	'五': 5, '伍': 5, '六': 6, '陆': 6, '七': 7, '柒': 7, '八': 8, '捌': 8, '九': 9, '玖': 9,
}

var cnUnit = map[rune]int64{'十': 10, '拾': 10, '百': 100, '佰': 100, '千': 1000, '仟': 1000}

// cnInt reads an integer written in Chinese numerals ("三千五百", "十一",
// "一万二千"), or in digits. Colloquial "三千五" (= 3500) and "五百五"
// (= 550) are read as people mean them. ok is false for anything else.
func cnInt(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	if n, ok := digits(s); ok {
		return n, true
	}
	var total, section, digit int64
	var lastUnit int64 = 1
	hasDigit := false
	rs := []rune(s)
	for i, r := range rs {
		if d, ok := cnDigit[r]; ok {
			digit, hasDigit = d, true
			if i == len(rs)-1 && lastUnit > 10 && d != 0 && rs[i-1] != '零' {
				// "三千五": the last digit counts one unit below the last one.
				digit *= lastUnit / 10
			}
			continue
		}
		if u, ok := cnUnit[r]; ok {
			if !hasDigit {
				if u != 10 {
					return 0, false
				}
				digit = 1 // "十一" = 11
			}
			section += digit * u
			digit, hasDigit, lastUnit = 0, false, u
			continue
		}
		if r == '万' {
			section += digit
			if section == 0 {
				return 0, false
			}
			total += section * 10000
			section, digit, hasDigit, lastUnit = 0, 0, false, 10000
			continue
		}
		return 0, false
	}
	return total + section + digit, true
}

// digits reads a run of ASCII digits (at most 15).
func digits(s string) (int64, bool) {
	if s == "" || len(s) > 15 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
