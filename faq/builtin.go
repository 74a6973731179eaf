package faq

import (
	_ "embed"
	"strings"
)

// The built-in evaluation sets, for the console's score after an edit.
var (
	//go:embed testdata/eval.tsv
	evalTSV string
	//go:embed testdata/colloquial.tsv
	colloquialTSV string
	//go:embed testdata/heldout.tsv
	heldoutTSV string
)

var builtinCases = func() []EvalCase {
	var out []EvalCase
	for _, t := range []string{evalTSV, colloquialTSV, heldoutTSV} {
		cs, err := ParseEval(strings.NewReader(t))
		if err != nil {
			panic("faq: built-in evaluation: " + err.Error())
		}
		out = append(out, cs...)
	}
	return out
}()

// EvaluateBuiltin scores ix on the built-in evaluation sets (eval, colloquial
// and held-out: about 400 questions about the default entries). An officer's
// edit that lowers the direct rate or raises the wrong rate made matching
// worse for the questions members ask about those entries.
func EvaluateBuiltin(ix *Index) Report { return Evaluate(ix, builtinCases) }
