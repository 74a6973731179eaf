package legalaid

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode"
)

//go:embed signals.txt
var signalsText string

// Signal is a crisis signal found in a message.
type Signal struct {
	Category string // self_harm, violence, injury, protest
	Pattern  string // the line of signals.txt that matched
}

// Signals is a compiled list of crisis signals.
type Signals struct {
	patterns []pattern
	ignore   []string
}

type pattern struct {
	category string
	text     string
	parts    []string
}

// gapChar separates the parts of a pattern that may have other characters between them,
// at most maxGap.
const (
	gapChar = "…"
	maxGap  = 8
)

// ParseSignals compiles a signal list in the format of signals.txt.
func ParseSignals(text string) (*Signals, error) {
	s := &Signals{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if ph, ok := strings.CutPrefix(line, "!"); ok {
			s.ignore = append(s.ignore, fold(ph))
			continue
		}
		cat, pat, ok := strings.Cut(line, " ")
		pat = strings.TrimSpace(pat)
		if !ok || pat == "" {
			return nil, fmt.Errorf("signals line %d: want `category pattern`", i+1)
		}
		p := pattern{category: cat, text: pat}
		for _, part := range strings.Split(pat, gapChar) {
			if part = fold(part); part != "" {
				p.parts = append(p.parts, part)
			}
		}
		if len(p.parts) == 0 {
			return nil, fmt.Errorf("signals line %d: empty pattern", i+1)
		}
		s.patterns = append(s.patterns, p)
	}
	return s, nil
}

// DefaultSignals is the reviewed list in signals.txt.
var DefaultSignals = func() *Signals {
	s, err := ParseSignals(signalsText)
	if err != nil {
		panic(err)
	}
	return s
}()

// Detect reports the first crisis signal in text, if any.
func Detect(text string) (Signal, bool) { return DefaultSignals.Detect(text) }

// Detect reports the first signal of s in text, if any.
func (s *Signals) Detect(text string) (Signal, bool) {
	t := fold(text)
	for _, ig := range s.ignore {
		t = strings.ReplaceAll(t, ig, "\x00")
	}
	for _, p := range s.patterns {
		if p.match(t) {
			return Signal{Category: p.category, Pattern: p.text}, true
		}
	}
	return Signal{}, false
}

// match reports whether the parts of p occur in t in order, each within maxGap
// characters of the one before.
func (p pattern) match(t string) bool {
	for off := 0; ; {
		i := strings.Index(t[off:], p.parts[0])
		if i < 0 {
			return false
		}
		start := off + i
		if matchRest(t[start+len(p.parts[0]):], p.parts[1:]) {
			return true
		}
		off = start + len(p.parts[0])
	}
}

func matchRest(t string, parts []string) bool {
	if len(parts) == 0 {
		return true
	}
	window := t
	if r := []rune(t); len(r) > maxGap+len([]rune(parts[0])) {
		window = string(r[:maxGap+len([]rune(parts[0]))])
	}
	for off := 0; ; {
		i := strings.Index(window[off:], parts[0])
		if i < 0 {
			return false
		}
		end := off + i + len(parts[0])
		if matchRest(t[end:], parts[1:]) {
			return true
		}
		off = end
	}
}

// fold is text as signals are compared: full-width ASCII folded to half-width, lower case,
// spaces and punctuation dropped.
func fold(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '！' && r <= '～' {
			r -= 0xFEE0
		}
		if unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
