package faq

// Similar questions are grouped for officers (未答问题): a greedy single pass
// over the questions, most frequent text first, joining a question to the
// first group whose representative shares enough of its character bigrams
// (Dice coefficient on the normalized text).

// GroupThreshold is the Dice similarity from which two questions are grouped.
const GroupThreshold = 0.5

// Group returns groups of indexes into normalized (each a faq.Normalize
// output): identical texts always together, similar ones by GroupThreshold.
// Groups come largest first; within a group, indexes keep their input order.
func Group(normalized []string) [][]int {
	type group struct {
		rep     map[string]int
		members []int
	}
	var groups []*group
	byText := map[string]*group{}
	for i, s := range normalized {
		if g, ok := byText[s]; ok {
			g.members = append(g.members, i)
			continue
		}
		bg := bigrams(s)
		var best *group
		bestSim := GroupThreshold
		for _, g := range groups {
			if sim := dice(bg, g.rep); sim >= bestSim {
				best, bestSim = g, sim
			}
		}
		if best == nil {
			best = &group{rep: bg}
			groups = append(groups, best)
		}
		best.members = append(best.members, i)
		byText[s] = best
	}
	out := make([][]int, len(groups))
	for i, g := range groups {
		out[i] = g.members
	}
	// stable: largest first, earlier first among equals
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && len(out[j]) > len(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func bigrams(s string) map[string]int {
	rs := []rune(s)
	m := make(map[string]int, len(rs))
	if len(rs) == 1 {
		m[s]++
	}
	for i := 0; i+1 < len(rs); i++ {
		m[string(rs[i:i+2])]++
	}
	return m
}

func dice(a, b map[string]int) float64 {
	var na, nb, both int
	for k, x := range a {
		na += x
		both += min(x, b[k])
	}
	for _, y := range b {
		nb += y
	}
	if na+nb == 0 {
		return 0
	}
	return 2 * float64(both) / float64(na+nb)
}
