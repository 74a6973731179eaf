package faq

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Normalize turns a member's message into the canonical form the matcher
// indexes: full-width ASCII becomes half-width, letters are lower-cased,
// common traditional characters become simplified, frequent typos and
// (per the data in lexicon.tsv)
// homophones are corrected, domain synonyms collapse to one word (for
// example 工会费 → 会费, 拖欠工资 → 欠薪), polite fillers and sentence
// particles are dropped, and punctuation, emoji and spaces are removed.
// The result may be empty (e.g. for "你好！").
func Normalize(s string) string {
	return phrasePass.Replace(synonymPass.Replace(dropTail(baseNormalize(s))))
}

// dropTail removes one spoken question tail (能报不 → 能报, 有赔偿没 → 有赔偿)
// from the end of s, when something is left before it. It runs before the
// filler pass so 行不行吗 style endings and particles both go.
func dropTail(s string) string {
	for _, t := range lex.tails {
		rest, ok := strings.CutSuffix(s, t)
		if !ok || utf8.RuneCountInString(rest) < 2 {
			continue
		}
		if last, _ := utf8.DecodeLastRuneInString(rest); strings.ContainsRune(tailGuard, last) {
			continue // 什么, 怎么, 有没, 要不: the tail is part of a word
		}
		return rest
	}
	return s
}

// tailGuard are characters that form a word with a following tail character
// (什么, 怎么, 这么, 多么, 要不, 有没, 还没, 都没, 并不).
const tailGuard = "什怎这那多要有还都并"

// baseNormalize does the character-level work and the first, typo-fixing
// replacement pass. A second pass (synonymPass) sees its output, so a typo
// fix can feed a synonym (公会费 → 工会费 → 会费).
func baseNormalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	rs := []rune(s)
	for i, r := range rs {
		r = foldRune(r)
		switch {
		case isWordRune(r), r == '%' || r == '+':
			b.WriteRune(r)
		case r == '.':
			// keep a decimal point between digits (0.5%), drop it elsewhere
			if i > 0 && i+1 < len(rs) && isDigit(foldRune(rs[i-1])) && isDigit(foldRune(rs[i+1])) {
				b.WriteByte('.')
			}
		}
		// everything else (punctuation, symbols, emoji, spaces) is dropped
	}
	return firstPass.Replace(b.String())
}

// foldRune maps full-width ASCII to half-width, traditional to simplified
// (for common characters) and upper to lower case.
func foldRune(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
		r -= 0xFEE0
	case r == 0x3000: // ideographic space
		r = ' '
	}
	if t, ok := tradToSimp[r]; ok {
		r = t
	}
	return unicode.ToLower(r)
}

// isWordRune reports letters (Han included) and digits.
func isWordRune(r rune) bool {
	if r < 0x80 {
		return (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// newReplacer builds a strings.Replacer that prefers the longest key at each
// position: strings.Replacer picks the first matching key in argument order,
// so keys are sorted longest first.
func newReplacer(pairs [][2]string) *strings.Replacer {
	sorted := make([][2]string, len(pairs))
	copy(sorted, pairs)
	sort.SliceStable(sorted, func(i, j int) bool {
		return len([]rune(sorted[i][0])) > len([]rune(sorted[j][0]))
	})
	args := make([]string, 0, 2*len(sorted))
	for _, p := range sorted {
		args = append(args, p[0], p[1])
	}
	return strings.NewReplacer(args...)
}

// pairsFrom flattens canonical → variants groups into replacement pairs. Each
// canonical word also maps to itself, so that a variant hiding inside it is
// not replaced (without 农民工 → 农民工, "农民工" would become "农农民工"
// through the variant 民工).
func pairsFrom(groups map[string][]string) [][2]string {
	var out [][2]string
	for to, froms := range groups {
		if to != "" {
			out = append(out, [2]string{to, to})
		}
		for _, f := range froms {
			out = append(out, [2]string{f, to})
		}
	}
	return out
}

var (
	lex         = mustLexicon(lexiconTSV)
	firstPass   = newReplacer(append(pairsFrom(lex.groups["typo"]), pairsFrom(lex.groups["word"])...))
	synonymPass = newReplacer(append(pairsFrom(lex.groups["synonym"]), pairsFrom(lex.groups["filler"])...))
	phrasePass  = newReplacer(pairsFrom(lex.groups["phrase"]))
	vaguePass   = newReplacer(pairsFrom(map[string][]string{"": lex.vague}))
)

// vagueOnly reports whether a normalized query is made only of the
// lexicon's vague words (question words, pronouns, generic verbs).
func vagueOnly(norm string) bool {
	return norm != "" && vaguePass.Replace(norm) == ""
}

// tradToSimp maps traditional characters that are common in union questions
// to their simplified forms. It is not a full converter: members in the
// county write simplified, this only rescues the occasional traditional IME.
var tradToSimp = func() map[rune]rune {
	const trad = "會費資險請問麼門診補勞動務員號機醫療報銷辦給錢幫難證單權熱線電話關係轉離職約簽協親屬發溫涼節傷業進訂閱綁為這個們沒時間長還嗎聯繫體優戶與傳過後來對說樣讓幾處條國學歲婦兒農駕車齡殘疾險級區縣鄉鎮義務應當網絡雙倍類這裡麼認際舊開選擇標準數額歷擔實現領獎頭負責願遞產書圖寫愛驛"
	const simp = "会费资险请问么门诊补劳动务员号机医疗报销办给钱帮难证单权热线电话关系转离职约签协亲属发温凉节伤业进订阅绑为这个们没时间长还吗联系体优户与传过后来对说样让几处条国学岁妇儿农驾车龄残疾险级区县乡镇义务应当网络双倍类这里么认际旧开选择标准数额历担实现领奖头负责愿递产书图写爱驿"
	t, s := []rune(trad), []rune(simp)
	if len(t) != len(s) {
		panic("faq: tradToSimp tables differ in length")
	}
	m := make(map[rune]rune, len(t))
	for i := range t {
		if t[i] != s[i] {
			m[t[i]] = s[i]
		}
	}
	return m
}()
