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
		switch r {
		case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
			return -1
		}
		if unicode.IsSpace(r) {
			return -1
		}
		if nameDots[r] {
			return '·'
		}
		return unicode.ToLower(r)
	}, HalfWidth(s)) // full-width '．' becomes '.', a dot look-alike
}
