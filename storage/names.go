package storage

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"unionbot/pii"
)

// NameProblem says why a name can never bind a WeChat account to a member.
type NameProblem int

const (
	NameOK         NameProblem = iota
	NameQuestion               // reads like a question ("怎么绑定", "张三?")
	NameSentence               // reads like a sentence or small talk ("查一下我的保障", "你好")
	NameLength                 // not 2–20 characters once normalised
	NameCharacters             // a character other than Han, Latin letters and "·", or a "·" out of place
)

// Name length bounds, in characters of the normalised name.
const (
	MinNameLen = 2
	MaxNameLen = 20
)

// questionMarkers show that a question was typed where a name was asked for.
var questionMarkers = []string{"吗", "怎么", "什么", "如何", "为什么", "哪", "?", "？", "多少", "能不能", "可以", "请问", "咋"}

// chatter is small talk that would otherwise pass for a two-character name.
var chatter = map[string]bool{
	"你好": true, "您好": true, "谢谢": true, "好的": true, "不知道": true, "没有": true,
	"是的": true, "不是": true, "知道了": true, "收到": true, "哈哈": true, "嗯嗯": true,
	"在不在": true, "不要": true, "不用": true, "算了吧": true, "绑定": true, "会员": true,
	"ok": true, "hi": true, "hello": true, "yes": true, "no": true, "thanks": true, "help": true,
	"cancel": true, "menu": true, "unbind": true, "bind": true, "back": true, "quit": true, "exit": true,
}

// sentenceWords never occur in a person's name but fill the sentences members type instead
// of one ("查一下我的互助保障", "申请困难职工补助金"). Long minority names written without
// the dot (乌力吉巴雅尔) are still names.
var sentenceWords = []string{"我", "你", "您", "的", "了", "呢", "吧", "啊", "一下", "申请", "报销", "补助",
	"查询", "保障", "互助", "工会", "工资", "帮忙", "办理", "医疗", "费用"}

// BindableName is the one rule for names that can bind, used by the bind form for what a
// member types and by the roster import for what it stores, so that a member is never
// imported under a name the chat would refuse. It returns the name as binding compares it
// (pii.NormalizeName: no spaces, one middle dot "·", Latin in lower case) and NameOK, or
// why the name cannot bind: 2–20 Han characters and Latin letters, parts joined by "·"
// (阿依古丽·买买提), and a Han name without a dot must not read like a question or a
// sentence.
func BindableName(s string) (string, NameProblem) {
	for _, q := range questionMarkers {
		if strings.Contains(s, q) {
			return "", NameQuestion
		}
	}
	v := pii.NormalizeName(s)
	if chatter[v] {
		return "", NameSentence
	}
	if n := utf8.RuneCountInString(v); n < MinNameLen || n > MaxNameLen {
		return "", NameLength
	}
	latin := false
	for _, p := range strings.Split(v, "·") {
		if p == "" {
			return "", NameCharacters
		}
		for _, r := range p {
			switch {
			case unicode.Is(unicode.Han, r):
			case unicode.Is(unicode.Latin, r) && unicode.IsLetter(r):
				latin = true
			default:
				return "", NameCharacters
			}
		}
	}
	if !latin && !strings.Contains(v, "·") {
		for _, w := range sentenceWords {
			if strings.Contains(v, w) {
				return "", NameSentence
			}
		}
	}
	return v, NameOK
}
