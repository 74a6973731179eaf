package faq

import (
	"strings"
	"unicode/utf8"

	"github.com/mozillazg/go-pinyin"
)

// syllable returns the toneless pinyin of a Han character's first reading
// (工 → gong, 绿 → lv), or "" for a character the dictionary does not know.
// Workers type with pinyin input methods and often pick a homophone (互助金 →
// 互住金, 工伤 → 工商): the character differs, the syllables do not, so the
// matcher indexes syllables beside characters.
//
// The reading comes straight from go-pinyin's table; its own conversion runs
// regular expressions for every character, far too slow for every query.
func syllable(r rune) string {
	v, ok := pinyin.PinyinDict[int(r)]
	if !ok {
		return ""
	}
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	return stripTone(v)
}

// stripTone drops the tone marks of one syllable (lǜ → lv, ń → n).
func stripTone(v string) string {
	plain := true
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	for _, r := range v {
		b.WriteByte(toneless(r))
	}
	return b.String()
}

func toneless(r rune) byte {
	switch r {
	case 'ā', 'á', 'ǎ', 'à':
		return 'a'
	case 'ē', 'é', 'ě', 'è', 'ê', 'ế', 'ề':
		return 'e'
	case 'ī', 'í', 'ǐ', 'ì':
		return 'i'
	case 'ō', 'ó', 'ǒ', 'ò':
		return 'o'
	case 'ū', 'ú', 'ǔ', 'ù':
		return 'u'
	case 'ü', 'ǖ', 'ǘ', 'ǚ', 'ǜ':
		return 'v'
	case 'ń', 'ň', 'ǹ':
		return 'n'
	case 'ḿ':
		return 'm'
	}
	if r < 0x80 {
		return byte(r)
	}
	return '?'
}

// homophones maps the syllable pair ("gong shang") of every bigram of two Han
// characters in the FAQ's phrasings and answers to that bigram's token; when
// two bigrams sound the same, the one in more documents wins (ties: the
// smaller string, so every build is the same).
func homophones(fields ...field) map[string]string {
	df := map[string]int{}
	for _, f := range fields {
		for t, ps := range f.postings {
			df[t] += len(ps)
		}
	}
	out := map[string]string{}
	for t, n := range df {
		key := pairSyllables(t)
		if key == "" {
			continue
		}
		if cur, seen := out[key]; !seen || n > df[cur] || n == df[cur] && t < cur {
			out[key] = t
		}
	}
	return out
}

// pairSyllables is "gong shang" for the bigram token of 工商, "" for any other
// token or a character go-pinyin does not know.
func pairSyllables(t string) string {
	a, b, ok := strings.Cut(t, "\x1f")
	if !ok {
		return ""
	}
	ra, sa := utf8.DecodeRuneInString(a)
	rb, sb := utf8.DecodeRuneInString(b)
	if sa != len(a) || sb != len(b) {
		return ""
	}
	pa, pb := syllable(ra), syllable(rb)
	if pa == "" || pb == "" {
		return ""
	}
	return pa + " " + pb
}

// homophoneTokens returns, for each bigram of q the FAQ never uses whose
// syllables are those of a bigram it does use, that bigram with homophoneW of
// the query bigram's weight.
func (ix *Index) homophoneTokens(q []token) []token {
	if ix.homophone == nil {
		return nil
	}
	var out []token
	for _, tok := range q {
		if _, known := ix.phrases.idf[tok.t]; known {
			continue
		}
		if _, known := ix.answers.idf[tok.t]; known {
			continue
		}
		if fix, ok := ix.homophone[pairSyllables(tok.t)]; ok {
			out = append(out, token{fix, ix.p.homophoneW * tok.w})
		}
	}
	return out
}
