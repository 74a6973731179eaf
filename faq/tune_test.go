package faq

import (
	"os"
	"testing"
)

func loadCases(t testing.TB, path string) []EvalCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := ParseEval(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTuneDump(t *testing.T) {
	if os.Getenv("FAQ_TUNE") == "" {
		t.Skip("set FAQ_TUNE=1")
	}
	seed, err := Seed()
	if err != nil {
		t.Fatal(err)
	}
	ix := NewIndex(seed)
	r := Evaluate(ix, loadCases(t, "testdata/eval.tsv"))
	t.Log(r)
	for _, m := range r.Misses {
		t.Logf("exp %2d %-9s %v  %s | %s", m.Case.Expected, m.Level, m.Top, m.Case.Query, Normalize(m.Case.Query))
	}
}

func TestTuneSweep(t *testing.T) {
	if os.Getenv("FAQ_TUNE") == "" {
		t.Skip("set FAQ_TUNE=1")
	}
	seed, _ := Seed()
	cases := loadCases(t, "testdata/eval.tsv")
	for _, uni := range []float64{0.2, 0.35, 0.5, 0.8} {
		for _, stop := range []int{0, 1, 2} {
			for _, mix := range [][3]float64{{1, 0, 0}, {0.6, 0.4, 0}, {0.6, 0.4, 0.15}, {0.4, 0.6, 0.15}, {0.6, 0.2, 0.2}} {
				p := defaultParams
				p.uniW, p.stopMode = uni, stop
				p.phraseW, p.entryW, p.answerW = mix[0], mix[1], mix[2]
				r := Evaluate(newIndex(seed, p), cases)
				t.Logf("uni %.2f stop %d mix %v: top1 %.3f top3 %.3f", uni, stop, mix, r.Top1Accuracy(), r.Top3Accuracy())
			}
		}
	}
}

func TestTuneLevels(t *testing.T) {
	if os.Getenv("FAQ_TUNE") == "" {
		t.Skip("set FAQ_TUNE=1")
	}
	seed, _ := Seed()
	ix := NewIndex(seed)
	for _, c := range loadCases(t, "testdata/eval.tsv") {
		_, top := ix.Match(c.Query)
		s1, s2 := 0.0, 0.0
		var id int64
		if len(top) > 0 {
			s1, id = top[0].Score, top[0].ID
		}
		if len(top) > 1 {
			s2 = top[1].Score
		}
		t.Logf("LV %.3f %.3f %v %s", s1, s1-s2, id == c.Expected, c.Query)
	}
}
