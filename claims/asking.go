package claims

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode"

	"unionbot/pii"
)

//go:embed asking.txt
var askingText string

// Asking is a compiled list of the words that make a message ask to file a claim.
type Asking struct {
	about, want, not []string
}

// ParseAsking compiles a list in the format of asking.txt.
func ParseAsking(text string) (*Asking, error) {
	a := &Asking{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		group, words, ok := strings.Cut(line, ":")
		var dst *[]string
		switch strings.TrimSpace(group) {
		case "about":
			dst = &a.about
		case "want":
			dst = &a.want
		case "not":
			dst = &a.not
		}
		if !ok || dst == nil {
			return nil, fmt.Errorf("asking line %d: want `about|want|not: words`", i+1)
		}
		for _, w := range strings.Fields(words) {
			if w = foldText(w); w != "" {
				*dst = append(*dst, w)
			}
		}
	}
	if len(a.about) == 0 || len(a.want) == 0 {
		return nil, fmt.Errorf("asking: the about and want groups are both needed")
	}
	return a, nil
}

// DefaultAsking is the list in asking.txt.
var DefaultAsking = func() *Asking {
	a, err := ParseAsking(askingText)
	if err != nil {
		panic(err)
	}
	return a
}()

// Match reports whether text asks how to claim: "我住院了怎么报销", "互助金怎么申请",
// "住院花了好多钱工会能补吗"; not "互助保障一年多少钱" (what the cover costs).
func (a *Asking) Match(text string) bool {
	t := foldText(text)
	return t != "" && containsAny(t, a.about) && containsAny(t, a.want) && !containsAny(t, a.not)
}

// AsksToClaim is DefaultAsking.Match.
func AsksToClaim(text string) bool { return DefaultAsking.Match(text) }

func containsAny(t string, words []string) bool {
	for _, w := range words {
		if strings.Contains(t, w) {
			return true
		}
	}
	return false
}

// foldText is text as the words are compared: full-width characters folded to half-width,
// lower case, spaces and punctuation dropped.
func foldText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, pii.HalfWidth(s))
}
