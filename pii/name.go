package pii

import (
	"strings"
	"unicode"
)

// nameDots are the look-alikes of the middle dot "·" that separates the parts
// of minority names (阿依古丽·买买提): bullets, katakana middle dots, full- and
// half-width full stops, the hyphenation point and the bullet operators.
var nameDots = map[rune]bool{
	'•': true, '・': true, '．': true, '.': true, '‧': true, '∙': true,
	'･': true, '⋅': true, '。': true,
}

// NormalizeName is the one form of a person's name that is compared and
// hashed, wherever the name came from (a roster cell, a chat message): it
// drops all whitespace (inner, full-width, non-breaking, zero-width), maps
// full-width ASCII to half-width, every middle-dot look-alike to "·", and
// Latin letters to lower case (a roster's "ZHANG SAN" is the member's
// "Zhang San").
func NormalizeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0 // full-width ASCII; '．' becomes '.', mapped below
		case unicode.IsSpace(r), r == '\u200b', r == '\u200c', r == '\u200d', r == '\u2060', r == '\ufeff':
			return -1
		}
		if nameDots[r] {
			return '·'
		}
		return unicode.ToLower(r)
	}, s)
}
