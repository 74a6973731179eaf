package faq

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

//go:embed lexicon.tsv
var lexiconTSV string

// lexicon is lexicon.tsv parsed: canonical → variants per pass, and the
// question tails longest first.
type lexicon struct {
	groups map[string]map[string][]string
	tails  []string
	vague  []string // words that name no topic (see vagueOnly)
}

var lexiconPasses = map[string]bool{"typo": true, "word": true, "synonym": true, "phrase": true, "filler": true, "tail": true, "vague": true}

// parseLexicon reads lines of pass<TAB>canonical<TAB>variant|variant|…;
// blank lines and # comments are skipped.
func parseLexicon(text string) (lexicon, error) {
	lx := lexicon{groups: map[string]map[string][]string{}}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 || !lexiconPasses[f[0]] {
			return lexicon{}, fmt.Errorf("lexicon line %d: want pass<TAB>canonical<TAB>variants with a known pass", n+1)
		}
		pass, canon := f[0], strings.TrimSpace(f[1])
		var variants []string
		for _, v := range strings.Split(f[2], "|") {
			if v = strings.TrimSpace(v); v != "" {
				variants = append(variants, v)
			}
		}
		switch pass {
		case "tail":
			lx.tails = append(lx.tails, variants...)
			continue
		case "vague":
			lx.vague = append(lx.vague, variants...)
			continue
		}
		if canon == "" && pass != "filler" {
			return lexicon{}, fmt.Errorf("lexicon line %d: empty canonical word", n+1)
		}
		if lx.groups[pass] == nil {
			lx.groups[pass] = map[string][]string{}
		}
		lx.groups[pass][canon] = append(lx.groups[pass][canon], variants...)
	}
	if err := lx.checkConflicts(); err != nil {
		return lexicon{}, err
	}
	sort.SliceStable(lx.tails, func(i, j int) bool {
		return utf8.RuneCountInString(lx.tails[i]) > utf8.RuneCountInString(lx.tails[j])
	})
	return lx, nil
}

func mustLexicon(text string) lexicon {
	lx, err := parseLexicon(text)
	if err != nil {
		panic("faq: " + err.Error())
	}
	return lx
}

// replacerPasses are the passes that share one replacement pass in Normalize.
var replacerPasses = [][]string{{"typo", "word"}, {"synonym", "filler"}, {"phrase"}}

// checkConflicts refuses a word that two lines of one replacement pass
// rewrite differently: which one won would depend on map order.
func (lx lexicon) checkConflicts() error {
	for _, passes := range replacerPasses {
		to := map[string]string{}
		for _, pass := range passes {
			// canons in order, so the same lexicon names the same conflict
			canons := make([]string, 0, len(lx.groups[pass]))
			for canon := range lx.groups[pass] {
				canons = append(canons, canon)
			}
			sort.Strings(canons)
			for _, canon := range canons {
				variants := lx.groups[pass][canon]
				keys := variants
				if canon != "" {
					keys = append([]string{canon}, variants...)
				}
				for _, k := range keys {
					if prev, ok := to[k]; ok && prev != canon {
						return fmt.Errorf("lexicon: %q is rewritten both to %q and to %q in the %s pass", k, prev, canon, strings.Join(passes, "/"))
					}
					to[k] = canon
				}
			}
		}
	}
	return nil
}
