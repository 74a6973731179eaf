package faq

import (
	"sync"
	"testing"
)

// Every question and alternate of the seed must find its own entry first.
func TestSeedSelfRetrieval(t *testing.T) {
	seed := mustSeed(t)
	ix := NewIndex(seed)
	confident, total := 0, 0
	for _, e := range seed {
		for _, q := range append([]string{e.Question}, e.Alternates...) {
			total++
			lvl, top := ix.Match(q)
			if len(top) == 0 || top[0].ID != e.ID {
				t.Errorf("%q (entry %d): got %v", q, e.ID, top)
				continue
			}
			if lvl == Confident {
				confident++
			}
		}
	}
	// a seed phrasing is the easiest possible query: nearly all should be Confident
	if share := float64(confident) / float64(total); share < 0.9 {
		t.Errorf("only %d of %d seed phrasings are answered Confident", confident, total)
	}
}

func TestSearch(t *testing.T) {
	ix := NewIndex(mustSeed(t))
	res := ix.Search("互助金要什么材料", 5)
	if len(res) != 5 {
		t.Fatalf("got %d results, want 5", len(res))
	}
	if res[0].ID != 14 {
		t.Errorf("top result %d, want 14 (claim documents)", res[0].ID)
	}
	for i := 1; i < len(res); i++ {
		if res[i].Score > res[i-1].Score {
			t.Errorf("results not sorted: %v", res)
		}
	}
	if got := ix.Search("互助金要什么材料", 0); got != nil {
		t.Errorf("k=0 gave %v", got)
	}
	if got := ix.Search("？！。", 3); got != nil {
		t.Errorf("punctuation-only query gave %v", got)
	}
}

func TestMatchLevels(t *testing.T) {
	ix := NewIndex(mustSeed(t))
	tests := []struct {
		q    string
		want Level
		id   int64 // expected top entry, 0 to skip
	}{
		{"工会会费交多少？", Confident, 7},
		{"12351是什么电话", Confident, 29},
		{"老板拖欠工资怎么办", Confident, 23},
		{"今天天气怎么样", None, 0},
		// only question words: a list, never a direct answer
		{"这个怎么弄啊", Middling, 0},
		{"多少钱", Middling, 0},
		{"你好", None, 0},
		{"", None, 0},
	}
	for _, tt := range tests {
		lvl, top := ix.Match(tt.q)
		if lvl != tt.want {
			t.Errorf("Match(%q) level %v, want %v (top %v)", tt.q, lvl, tt.want, top)
		}
		if tt.id != 0 && (len(top) == 0 || top[0].ID != tt.id) {
			t.Errorf("Match(%q) top %v, want entry %d first", tt.q, top, tt.id)
		}
		if len(top) > 3 {
			t.Errorf("Match(%q) returned %d results", tt.q, len(top))
		}
	}
}

func TestLevelFromScores(t *testing.T) {
	ix := NewIndex(nil)
	p := ix.p
	tests := []struct {
		top  []Result
		want Level
	}{
		{nil, None},
		{[]Result{{1, p.none - 0.01}}, None},
		{[]Result{{1, p.none + 0.01}, {2, p.none}}, Middling}, // no margin
		{[]Result{{1, p.confident}}, Confident},
		{[]Result{{1, p.confident + 0.2}, {2, p.confident + 0.2 - p.confidentMargin/2}}, Middling}, // too close
		{[]Result{{1, p.confident + 0.2}, {2, p.confident + 0.2 - p.confidentMargin - 0.01}}, Confident},
	}
	for _, tt := range tests {
		if got := ix.level(tt.top); got != tt.want {
			t.Errorf("level(%v) = %v, want %v", tt.top, got, tt.want)
		}
	}
}

func TestIndexEntries(t *testing.T) {
	ix := NewIndex([]Entry{
		{ID: 5, Question: "会费交多少", Answer: "a"},
		{ID: 2, Question: "怎么入会", Answer: "b"},
		{ID: 5, Question: "重复的", Answer: "ignored"},
		{ID: 9, Question: "", Answer: "no phrasing"},
	})
	if ix.Len() != 3 {
		t.Fatalf("Len = %d, want 3", ix.Len())
	}
	if e, ok := ix.Entry(5); !ok || e.Answer != "a" {
		t.Errorf("Entry(5) = %+v, %v; the first of duplicate IDs must win", e, ok)
	}
	if _, ok := ix.Entry(7); ok {
		t.Error("Entry(7) found")
	}
	es := ix.Entries()
	if es[0].ID != 2 || es[1].ID != 5 || es[2].ID != 9 {
		t.Errorf("Entries not ordered by ID: %v", es)
	}
	if top := ix.Search("入会", 3); len(top) == 0 || top[0].ID != 2 {
		t.Errorf("Search = %v", top)
	}

	empty := NewIndex(nil)
	if lvl, top := empty.Match("会费"); lvl != None || top != nil {
		t.Errorf("empty index: %v %v", lvl, top)
	}
}

func TestIndexConcurrent(t *testing.T) {
	ix := NewIndex(mustSeed(t))
	want := ix.Search("申请互助金需要哪些材料", 3)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				got := ix.Search("申请互助金需要哪些材料", 3)
				if len(got) != len(want) || got[0] != want[0] {
					t.Errorf("concurrent Search diverged: %v vs %v", got, want)
					return
				}
				ix.Match("老板不发工资")
			}
		}()
	}
	wg.Wait()
}

func BenchmarkMatch(b *testing.B) {
	ix := NewIndex(mustSeed(b))
	cases := loadCases(b, "testdata/eval.tsv")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix.Match(cases[i%len(cases)].Query)
	}
}

func BenchmarkNewIndex(b *testing.B) {
	seed := mustSeed(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		NewIndex(seed)
	}
}
