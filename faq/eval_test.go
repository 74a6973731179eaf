package faq

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func loadCases(tb testing.TB, path string) []EvalCase {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	cases, err := ParseEval(f)
	if err != nil {
		tb.Fatal(err)
	}
	return cases
}

// Floors for testdata/eval.tsv. They sit at what the matcher reaches
// (top-1 110/115, top-3 114/115, confident precision 106/107, rejection 11/12)
// less about one line, so an edit that loses more fails the suite.
const (
	floorTop1         = 0.95
	floorTop3         = 0.98
	floorConfPrec     = 0.95
	floorRejection    = 0.80
	minEvalLines      = 110
	minIrrelevantEval = 10
)

func TestEvaluation(t *testing.T) {
	seed := mustSeed(t)
	cases := loadCases(t, "testdata/eval.tsv")
	checkHeldOut(t, seed, cases)
	if len(cases) < minEvalLines {
		t.Errorf("eval has %d lines, want at least %d", len(cases), minEvalLines)
	}

	r := Evaluate(NewIndex(seed), cases)
	t.Log(r)
	logMisses(t, r)
	if r.Irrelevant < minIrrelevantEval {
		t.Errorf("eval has %d irrelevant lines, want at least %d", r.Irrelevant, minIrrelevantEval)
	}
	check(t, "top-1 accuracy", r.Top1Accuracy(), floorTop1)
	check(t, "top-3 accuracy", r.Top3Accuracy(), floorTop3)
	check(t, "confident precision", r.ConfidentPrecision(), floorConfPrec)
	check(t, "rejection accuracy", r.RejectionAccuracy(), floorRejection)
}

// TestBlindSet scores testdata/blind.tsv, written together with eval.tsv
// before the matcher existed and never looked at while tuning. Its floors
// are looser: it measures how well the tuning generalises.
func TestBlindSet(t *testing.T) {
	seed := mustSeed(t)
	cases := loadCases(t, "testdata/blind.tsv")
	checkHeldOut(t, seed, cases)
	r := Evaluate(NewIndex(seed), cases)
	t.Log(r)
	logMisses(t, r)
	check(t, "blind top-1 accuracy", r.Top1Accuracy(), blindFloorTop1)
	check(t, "blind top-3 accuracy", r.Top3Accuracy(), blindFloorTop3)
	check(t, "blind confident precision", r.ConfidentPrecision(), blindFloorConfPrec)
	check(t, "blind direct", r.DirectRate(), blindFloorDirect)
	checkAtMost(t, "blind wrong", r.WrongRate(), blindCeilWrong)
}

// The chosen scoring (best phrasing mixed with the whole entry and its
// answer) must beat plain best-phrasing BM25; this records why the mix exists.
func TestScoringBeatsBestPhrasingOnly(t *testing.T) {
	seed := mustSeed(t)
	cases := loadCases(t, "testdata/eval.tsv")
	p := defaultParams
	p.phraseW, p.entryW, p.answerW = 1, 0, 0
	plain := Evaluate(newIndex(seed, p), cases)
	chosen := Evaluate(NewIndex(seed), cases)
	t.Logf("best phrasing only: %v", plain)
	t.Logf("chosen mix:         %v", chosen)
	if chosen.Top1 <= plain.Top1 {
		t.Errorf("chosen scoring top-1 %d is not better than best-phrasing-only %d", chosen.Top1, plain.Top1)
	}
}

func TestEvaluateCounts(t *testing.T) {
	ix := NewIndex([]Entry{
		{ID: 1, Question: "工会会费交多少", Alternates: []string{"会费标准"}, Answer: "0.5%"},
		{ID: 2, Question: "怎么申请法律援助", Alternates: []string{"法律援助条件"}, Answer: "发送法律援助"},
	})
	r := Evaluate(ix, []EvalCase{
		{Expected: 1, Query: "会费交多少"},
		{Expected: 2, Query: "会费交多少"}, // wrong on purpose
		{Expected: 0, Query: "今天天气怎么样"},
	})
	if r.Answerable != 2 || r.Top1 != 1 || r.Irrelevant != 1 || r.Rejected != 1 {
		t.Errorf("report %+v", r)
	}
	if r.Confident != 2 || r.ConfidentCorrect != 1 {
		t.Errorf("confident %d/%d, want 1/2", r.ConfidentCorrect, r.Confident)
	}
	if len(r.Misses) != 1 || r.Misses[0].Case.Expected != 2 {
		t.Errorf("misses %+v", r.Misses)
	}
}

func TestParseEval(t *testing.T) {
	cases, err := ParseEval(strings.NewReader("# comment\n\n3\t会费交多少\n0\t天气\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 || cases[0].Expected != 3 || cases[0].Line != 3 || cases[1].Query != "天气" {
		t.Errorf("cases %+v", cases)
	}
	for _, bad := range []string{"3 会费", "x\t会费", "-1\t会费", "3\t  "} {
		if _, err := ParseEval(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseEval(%q) accepted", bad)
		}
	}
}

// checkHeldOut makes sure an evaluation set is held out from the seed and
// covers it: no line repeats a seed phrasing, every expected ID exists, and
// every entry is asked about at least once.
func checkHeldOut(t *testing.T, seed []Entry, cases []EvalCase) {
	t.Helper()
	phrasings := map[string]int64{}
	ids := map[int64]bool{}
	for _, e := range seed {
		ids[e.ID] = true
		for _, q := range append([]string{e.Question}, e.Alternates...) {
			phrasings[strings.TrimSpace(q)] = e.ID
		}
	}
	asked := map[int64]int{}
	for _, c := range cases {
		if id, dup := phrasings[c.Query]; dup {
			t.Errorf("line %d %q is a seed phrasing of entry %d", c.Line, c.Query, id)
		}
		if c.Expected != 0 && !ids[c.Expected] {
			t.Errorf("line %d expects unknown entry %d", c.Line, c.Expected)
		}
		asked[c.Expected]++
	}
	for id := range ids {
		if asked[id] == 0 {
			t.Errorf("no line asks about entry %d", id)
		}
	}
}

func check(t *testing.T, what string, got, floor float64) {
	t.Helper()
	if got < floor {
		t.Errorf("%s %.3f is below the floor %.3f", what, got, floor)
	}
}

func logMisses(t *testing.T, r Report) {
	t.Helper()
	if len(r.Misses) == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "misses:\n%-5s %-4s %-9s %-28s %s\n", "line", "want", "level", "got (id:score)", "question")
	for _, m := range r.Misses {
		var got []string
		for _, res := range m.Top {
			got = append(got, fmt.Sprintf("%d:%.2f", res.ID, res.Score))
		}
		fmt.Fprintf(&b, "%-5d %-4d %-9s %-28s %s\n", m.Case.Line, m.Case.Expected, m.Level, strings.Join(got, " "), m.Case.Query)
	}
	t.Log(b.String())
}

// Blind-set floors: the one run after the first tuning reached top-1 50/55,
// top-3 54/55, confident precision 31/31. Issue 8, scored once after each
// round's tuning had stopped: direct 37/55 and wrong 2/60 after the first,
// 41/55 and 1/60 after the second, 44/55 and 3/60 after the third (top-1
// 52/55, top-3 53/55, confident precision 44/47); after the pinyin round
// 45/55 and 3/60. Floors sit about two lines
// under the last run; wrong may not pass 3 lines. Do not tune the matcher on
// its misses.
const (
	blindFloorTop1     = 0.91
	blindFloorTop3     = 0.94
	blindFloorConfPrec = 0.90
	blindFloorDirect   = 0.76
	blindCeilWrong     = 0.051
)

// colloquialSets are issue 8's sets of questions typed the way workers type
// on a phone, with the floors each must keep: direct (right entry, answered
// Confident), top-1, and at most this share of wrong Confident answers.
// Tuning sets log their misses; held-out sets do not, on purpose: never tune
// on them, write new lines into dev.tsv instead. Floors sit about two lines
// under what the matcher reaches, and wrong at the 2 % where it holds.
var colloquialSets = []struct {
	file                string
	tuning              bool
	direct, top1, wrong float64
}{
	// the spoken, dialect and misspelt phrasings the lexicon was first built
	// against. Reached: direct 161/165, wrong 0/175, top-1 162/165.
	{"colloquial.tsv", true, 0.95, 0.96, 0.012},
	// the tuning set of the second to fourth rounds (twelve or more phrasings
	// per entry). Reached: direct 605/663, wrong 11/687, top-1 645/663.
	{"dev.tsv", true, 0.90, 0.965, 0.02},
	// written with colloquial.tsv, before the lexicon and threshold work;
	// scored once at the end of each round: 90/110 direct and 1/120 wrong
	// after the first, 93/110 and 2/120 after the second, 100/110 and 1/120
	// (top-1 109/110) after the third.
	{"heldout.tsv", false, 0.89, 0.97, 0.02},
	// written at the start of the second round, before any of its changes:
	// the matcher before that round 85/110 direct, 1/120 wrong; after the
	// second 87/110 and 3/120; after the third 92/110 and 2/120 (top-1
	// 105/110); after the pinyin round 91/110 and 1/120 (top-1 104/110).
	{"unseen.tsv", false, 0.82, 0.93, 0.02},
	// written after the second round had landed, scored once at the end of
	// the third: direct 96/110, wrong 2/120, top-1 105/110.
	{"fresh.tsv", false, 0.85, 0.93, 0.02},
	// written after the third round had landed (unchanged by the pinyin
	// round). A fourth round tuned on a
	// widened dev.tsv scored exactly what the third-round matcher gets here
	// (98/110 direct, 2/120 wrong) and lost lines on fresh.tsv and blind.tsv,
	// so it was not kept. Top-1 103/110.
	{"final.tsv", false, 0.87, 0.92, 0.02},
	// the pinyin round's tuning set: two homophone slips of a pinyin input
	// method per entry. Reached: direct 102/110, wrong 1/115, top-1 105/110
	// (without the homophone channel 99/110 and 103/110, under both floors).
	{"dev_typos.tsv", true, 0.91, 0.94, 0.02},
	// written before the homophone channel, scored once at the end: direct
	// 53/55, wrong 0/60, top-1 54/55 (without the channel 51/55, 1/60 and
	// 53/55 — its direct floor sits one line under, so losing the channel
	// fails it).
	{"typos.tsv", false, 0.94, 0.96, 0.02},
}

func TestColloquialSets(t *testing.T) {
	for _, set := range colloquialSets {
		t.Run(strings.TrimSuffix(set.file, ".tsv"), func(t *testing.T) {
			r := scoreSet(t, "testdata/"+set.file, set.tuning)
			check(t, "direct", r.DirectRate(), set.direct)
			check(t, "top-1", r.Top1Accuracy(), set.top1)
			checkAtMost(t, "wrong", r.WrongRate(), set.wrong)
		})
	}
}

// scoreSet checks an evaluation file against the seed and scores it; the
// misses of tuning sets are logged, those of held-out sets are not.
func scoreSet(t *testing.T, path string, logMissed bool) Report {
	t.Helper()
	seed := mustSeed(t)
	cases := loadCases(t, path)
	checkHeldOut(t, seed, cases)
	r := Evaluate(NewIndex(seed), cases)
	t.Log(r)
	if logMissed {
		logMisses(t, r)
	}
	return r
}

func checkAtMost(t *testing.T, what string, got, ceiling float64) {
	t.Helper()
	if got > ceiling {
		t.Errorf("%s %.3f is above the ceiling %.3f", what, got, ceiling)
	}
}
