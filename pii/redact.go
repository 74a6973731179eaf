package pii

import (
	"strings"
	"unicode/utf8"
)

// Redact masks whatever in free text looks like personal numbers: ID numbers
// (18 characters, 17 digits and a digit or X; also the old 15-digit form),
// mainland mobile numbers (11 digits 1[3-9]…, optionally after 86) and bank
// cards (16 to 19 digits). Digits may be full-width or split by single spaces
// or dashes ("138 1234 5678"). It errs on the side of masking: it is meant for
// logs and officer views, where an over-masked date is harmless and a leaked
// ID number is not. Other text, including shorter numbers, is left as is.
func Redact(text string) string {
	if !hasDigit(text) {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	last := 0 // text[last:] not yet written
	for i := 0; i < len(text); {
		if _, ok := digitAt(text, i); !ok {
			_, size := utf8.DecodeRuneInString(text[i:])
			i += size
			continue
		}
		groups, end := scanGroups(text, i)
		for _, span := range maskGroups(groups) {
			b.WriteString(text[last:span.start])
			b.WriteString(span.masked)
			last = span.end
		}
		i = end
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' || s[i] == 0xEF { // 0xEF leads full-width digits
			return true
		}
	}
	return false
}

// digitAt reports the ASCII digit at byte i, accepting full-width ０-９.
func digitAt(s string, i int) (byte, bool) {
	c := s[i]
	if c >= '0' && c <= '9' {
		return c, true
	}
	if c == 0xEF {
		r, _ := utf8.DecodeRuneInString(s[i:])
		if r >= '０' && r <= '９' {
			return byte('0' + r - '０'), true
		}
	}
	return 0, false
}

// group is a run of digits (maybe ending in X) in text[start:end].
type group struct {
	start, end int
	digits     string // ASCII digits, plus a trailing X if any
}

// scanGroups reads digit groups from i, joined by one space or dash each,
// and returns them with the byte offset after the last one.
func scanGroups(s string, i int) ([]group, int) {
	var groups []group
	for {
		g := group{start: i}
		var d []byte
		for i < len(s) {
			c, ok := digitAt(s, i)
			if !ok {
				break
			}
			d = append(d, c)
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
		if i < len(s) && (s[i] == 'X' || s[i] == 'x') {
			d = append(d, 'X')
			i++
		}
		g.end, g.digits = i, string(d)
		groups = append(groups, g)
		if g.digits[len(g.digits)-1] == 'X' || i+1 >= len(s) || (s[i] != ' ' && s[i] != '-') {
			return groups, i
		}
		if _, ok := digitAt(s, i+1); !ok {
			return groups, i
		}
		i++ // the separator
	}
}

type maskedSpan struct {
	start, end int
	masked     string
}

// maxDigits is the longest personal number Redact knows (a 19-digit card).
const maxDigits = 19

// maskGroups finds, left to right, the longest runs of consecutive groups
// whose digits look like personal numbers, so "13812345678 2" still masks
// the phone even though the whole run is 12 digits.
func maskGroups(groups []group) []maskedSpan {
	var spans []maskedSpan
	joined := make([]string, 0, 8)
	for i := 0; i < len(groups); {
		// Candidates groups[i..j], bounded by what a personal number can hold.
		joined = joined[:0]
		var digits strings.Builder
		for j := i; j < len(groups) && digits.Len()+len(groups[j].digits) <= maxDigits; j++ {
			digits.WriteString(groups[j].digits)
			joined = append(joined, digits.String())
		}
		found := false
		for k := len(joined) - 1; k >= 0; k-- {
			if m, ok := classify(joined[k]); ok {
				spans = append(spans, maskedSpan{groups[i].start, groups[i+k].end, m})
				i, found = i+k+1, true
				break
			}
		}
		if !found {
			// A group ending in X that is not an ID: try it without the X.
			g := groups[i]
			if d, ok := strings.CutSuffix(g.digits, "X"); ok {
				if m, ok := classify(d); ok {
					spans = append(spans, maskedSpan{g.start, g.end - 1, m})
				}
			}
			i++
		}
	}
	return spans
}

// classify masks d when it looks like a personal number.
func classify(d string) (string, bool) {
	n := len(d)
	x := strings.HasSuffix(d, "X") // scanGroups puts X only at the very end
	switch {
	case n == 18: // ID number (or an 18-digit card: masked either way)
		return mask(d, 4, 4), true
	case x:
		return "", false
	case n == 11 && isMobile(d):
		return mask(d, 3, 4), true
	case n == 13 && strings.HasPrefix(d, "86") && isMobile(d[2:]):
		return mask(d[2:], 3, 4), true
	case n == 15: // first-generation ID number
		return mask(d, 4, 4), true
	case n >= 16 && n <= maxDigits:
		return MaskBankCard(d), true
	}
	return "", false
}
