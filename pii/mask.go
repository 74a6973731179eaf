package pii

import (
	"strings"
	"unicode/utf8"
)

// maskRune replaces each hidden character.
const maskRune = '*'

// mask keeps the first `first` and last `last` runes of s and hides the rest.
// When s is too short for at least one hidden rune, it falls back to hiding
// all but the last 2 runes, and everything when s has 2 runes or fewer.
func mask(s string, first, last int) string {
	r := []rune(s)
	n := len(r)
	if n <= first+last {
		first, last = 0, 2
	}
	if n <= last {
		return strings.Repeat(string(maskRune), n)
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(string(r[:first]))
	b.WriteString(strings.Repeat(string(maskRune), n-first-last))
	b.WriteString(string(r[n-last:]))
	return b.String()
}

// MaskIDNumber shows the first 4 and last 4 characters of an ID number:
// "110101199003071234" → "1101**********1234". Input of 8 characters or
// fewer keeps only its last 2.
func MaskIDNumber(s string) string {
	return mask(NormalizeIDNumber(s), 4, 4)
}

// MaskPhone shows the first 3 and last 4 digits of a phone number:
// "13812345678" → "138****5678". It normalizes first, so "+86 138-1234-5678"
// masks the same way. Input of 7 digits or fewer keeps only its last 2.
func MaskPhone(s string) string {
	return mask(NormalizePhone(s), 3, 4)
}

// MaskName keeps the first character of a name: "张三" → "张*",
// "欧阳娜娜" → "欧***"; a single character becomes "*".
func MaskName(s string) string {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if n <= 1 {
		return strings.Repeat(string(maskRune), n)
	}
	first, _ := utf8.DecodeRuneInString(s)
	return string(first) + strings.Repeat(string(maskRune), n-1)
}

// MaskBankCard shows only the last 4 digits of a card in a fixed
// "**** **** **** 1234" shape, which hides the card's length too. Spaces and
// dashes are removed first. Input of 7 characters or fewer keeps only its
// last 2.
func MaskBankCard(s string) string {
	s = stripSeparators(HalfWidth(s))
	if utf8.RuneCountInString(s) < 8 {
		return mask(s, 0, 2)
	}
	r := []rune(s)
	return "**** **** **** " + string(r[len(r)-4:])
}

// MaskMemberNo keeps the first 2 and last 3 characters of a member number:
// "GH2024000123" → "GH*******123". Five characters or fewer keep only the
// last 2.
func MaskMemberNo(s string) string {
	return mask(strings.TrimSpace(s), 2, 3)
}

// HalfWidth maps full-width ASCII (what Chinese input methods often type:
// "１３８", "Ｘ", "ＯＫ") and the ideographic space to their ASCII forms.
func HalfWidth(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			return r - 0xFEE0
		case r == 0x3000:
			return ' '
		}
		return r
	}, s)
}

// stripSeparators removes the spaces, dashes and dots people put inside
// long numbers.
func stripSeparators(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r', '-', '.', '\u00a0':
			return -1
		}
		return r
	}, s)
}
