package faq

import "testing"

func TestGroup(t *testing.T) {
	qs := []string{"包工头跑了工钱要不回来", "今天天气", "包工头跑了工钱要不回", "包工头跑了工钱要不回来", "天气预报"}
	var norm []string
	for _, q := range qs {
		norm = append(norm, Normalize(q))
	}
	g := Group(norm)
	if len(g) < 2 || len(g[0]) != 3 || g[0][0] != 0 || g[0][1] != 2 || g[0][2] != 3 {
		t.Errorf("groups %v", g)
	}
}
