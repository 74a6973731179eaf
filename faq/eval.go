package faq

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// EvalCase is one line of an evaluation file: a question a member might type
// and the FAQ entry that should answer it (0: nothing in the FAQ is relevant).
type EvalCase struct {
	Line     int
	Expected int64
	Query    string
}

// ParseEval reads lines of "expected_id<TAB>question". Blank lines and lines
// starting with # are skipped.
func ParseEval(r io.Reader) ([]EvalCase, error) {
	var out []EvalCase
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, q, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, fmt.Errorf("eval line %d: want expected_id<TAB>question", n)
		}
		exp, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
		if err != nil || exp < 0 {
			return nil, fmt.Errorf("eval line %d: bad expected id %q", n, id)
		}
		q = strings.TrimSpace(q)
		if q == "" {
			return nil, fmt.Errorf("eval line %d: empty question", n)
		}
		out = append(out, EvalCase{Line: n, Expected: exp, Query: q})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read eval: %w", err)
	}
	return out, nil
}

// Miss is an evaluation line the matcher did not get right at top-1 (or, for
// an irrelevant line, did not reject).
type Miss struct {
	Case  EvalCase
	Level Level
	Top   []Result
}

// Report sums up an evaluation run.
type Report struct {
	Answerable int // lines with an expected entry
	Top1, Top3 int // answerable lines whose entry ranked first / in the top three

	Confident        int // lines (of any kind) answered Confident
	ConfidentCorrect int // of those, answered with the expected entry
	ConfidentWrong   int // of those, answered with another entry (or any entry for an irrelevant line)

	Middling int // lines answered Middling

	Irrelevant int // lines expecting nothing
	Rejected   int // of those, answered None

	Misses []Miss
}

// Top1Accuracy is Top1 / Answerable.
func (r Report) Top1Accuracy() float64 { return ratio(r.Top1, r.Answerable) }

// Top3Accuracy is Top3 / Answerable.
func (r Report) Top3Accuracy() float64 { return ratio(r.Top3, r.Answerable) }

// Total is the number of lines.
func (r Report) Total() int { return r.Answerable + r.Irrelevant }

// DirectRate is the share of answerable lines answered Confident with the
// expected entry: the member got the right answer without picking from a list.
func (r Report) DirectRate() float64 { return ratio(r.ConfidentCorrect, r.Answerable) }

// WrongRate is the share of all lines answered Confident with a wrong entry
// (for an irrelevant line, any entry): the member got a wrong answer.
func (r Report) WrongRate() float64 { return ratio(r.ConfidentWrong, r.Total()) }

// ConfidentPrecision is the share of Confident answers that were right.
func (r Report) ConfidentPrecision() float64 { return ratio(r.ConfidentCorrect, r.Confident) }

// RejectionAccuracy is the share of irrelevant lines answered None.
func (r Report) RejectionAccuracy() float64 { return ratio(r.Rejected, r.Irrelevant) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// String formats the headline figures.
func (r Report) String() string {
	return fmt.Sprintf("direct %.3f (%d/%d)  wrong %.3f (%d/%d)  top1 %.3f (%d/%d)  top3 %.3f (%d/%d)  confident precision %.3f (%d/%d)  middling %d  rejection %.3f (%d/%d)",
		r.DirectRate(), r.ConfidentCorrect, r.Answerable, r.WrongRate(), r.ConfidentWrong, r.Total(),
		r.Top1Accuracy(), r.Top1, r.Answerable, r.Top3Accuracy(), r.Top3, r.Answerable,
		r.ConfidentPrecision(), r.ConfidentCorrect, r.Confident, r.Middling,
		r.RejectionAccuracy(), r.Rejected, r.Irrelevant)
}

// Evaluate runs every case through ix.Match.
func Evaluate(ix *Index, cases []EvalCase) Report {
	var r Report
	for _, c := range cases {
		lvl, top := ix.Match(c.Query)
		first := int64(0)
		if len(top) > 0 {
			first = top[0].ID
		}
		switch lvl {
		case Confident:
			r.Confident++
			if c.Expected != 0 && first == c.Expected {
				r.ConfidentCorrect++
			} else {
				r.ConfidentWrong++
			}
		case Middling:
			r.Middling++
		}
		if c.Expected == 0 {
			r.Irrelevant++
			if lvl == None {
				r.Rejected++
			} else {
				r.Misses = append(r.Misses, Miss{Case: c, Level: lvl, Top: top})
			}
			continue
		}
		r.Answerable++
		if first == c.Expected {
			r.Top1++
		} else {
			r.Misses = append(r.Misses, Miss{Case: c, Level: lvl, Top: top})
		}
		for _, t := range top {
			if t.ID == c.Expected {
				r.Top3++
				break
			}
		}
	}
	return r
}
