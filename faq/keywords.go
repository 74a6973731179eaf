package faq

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Keyword rule match kinds (the same strings as storage.MatchExact etc.).
const (
	MatchExact    = "exact"
	MatchContains = "contains"
	MatchRegex    = "regex"
)

// Rule is an officer-defined auto-reply, checked before the FAQ.
type Rule struct {
	ID       int64
	Pattern  string
	Match    string // MatchExact, MatchContains or MatchRegex
	Reply    string
	Priority int // higher first
}

// Rules is a compiled, immutable rule set, safe for concurrent use.
type Rules struct {
	rules []compiledRule // priority desc, ID asc
}

type compiledRule struct {
	Rule
	light string // lightNormalize(Pattern)
	norm  string // Normalize(Pattern); may be empty
	re    *regexp.Regexp
}

// CompileRules checks and orders rules. A rule that cannot be used (unknown
// match kind, empty pattern or reply, bad regular expression) is skipped and
// reported by an error naming its ID; the others still work.
func CompileRules(rules []Rule) (*Rules, []error) {
	var errs []error
	out := &Rules{}
	for _, r := range rules {
		c := compiledRule{Rule: r}
		switch {
		case strings.TrimSpace(r.Pattern) == "":
			errs = append(errs, fmt.Errorf("keyword rule %d: empty pattern", r.ID))
			continue
		case strings.TrimSpace(r.Reply) == "":
			errs = append(errs, fmt.Errorf("keyword rule %d: empty reply", r.ID))
			continue
		}
		switch r.Match {
		case MatchExact, MatchContains:
			c.light = lightNormalize(r.Pattern)
			c.norm = Normalize(r.Pattern)
			if c.light == "" {
				errs = append(errs, fmt.Errorf("keyword rule %d: pattern %q has no letters or digits", r.ID, r.Pattern))
				continue
			}
		case MatchRegex:
			re, err := regexp.Compile(r.Pattern)
			if err != nil {
				errs = append(errs, fmt.Errorf("keyword rule %d: bad regex %q: %w", r.ID, r.Pattern, err))
				continue
			}
			c.re = re
		default:
			errs = append(errs, fmt.Errorf("keyword rule %d: unknown match kind %q (want exact, contains or regex)", r.ID, r.Match))
			continue
		}
		out.rules = append(out.rules, c)
	}
	sort.SliceStable(out.rules, func(i, j int) bool {
		a, b := out.rules[i], out.rules[j]
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		return a.ID < b.ID
	})
	return out, errs
}

// Len is the number of usable rules.
func (r *Rules) Len() int { return len(r.rules) }

// Match returns the first rule (priority desc, then ID asc) that matches text.
//
//   - exact: the text equals the pattern after light normalization
//     (full-width → half-width, lower case, traditional → simplified,
//     punctuation and spaces removed), or after Normalize when that leaves
//     something (so a rule for 工会费 also answers 会费？). The second form
//     never matches on an empty result, so a rule for 你好, which Normalize
//     drops as a filler, does not answer 谢谢.
//   - contains: the same two forms, with "contains" instead of "equals".
//   - regex: the pattern runs on the raw text with surrounding spaces trimmed.
func (r *Rules) Match(text string) (Rule, bool) {
	if r == nil || len(r.rules) == 0 {
		return Rule{}, false
	}
	light, norm := "", ""
	prepared := false
	raw := strings.TrimSpace(text)
	for _, c := range r.rules {
		if c.re != nil {
			if c.re.MatchString(raw) {
				return c.Rule, true
			}
			continue
		}
		if !prepared {
			light, norm = lightNormalize(text), Normalize(text)
			prepared = true
		}
		switch c.Match {
		case MatchExact:
			if light == c.light || (c.norm != "" && norm == c.norm) {
				return c.Rule, true
			}
		case MatchContains:
			// The Normalize form carries synonyms ("拖欠工资" finds
			// "老板欠薪"), but it also drops fillers: "在吗" shrinks to "在",
			// which would then be found in "我在工地受伤了". A one-character
			// normalised pattern is too weak to use.
			useNorm := utf8.RuneCountInString(c.norm) >= 2
			if strings.Contains(light, c.light) || (useNorm && strings.Contains(norm, c.norm)) {
				return c.Rule, true
			}
		}
	}
	return Rule{}, false
}

// lightNormalize folds width, case and traditional characters and drops
// everything but letters and digits; unlike Normalize it keeps every word.
func lightNormalize(s string) string {
	var b strings.Builder
	for _, r := range s {
		r = foldRune(r)
		if isWordRune(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
