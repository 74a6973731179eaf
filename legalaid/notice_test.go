package legalaid

import (
	"strings"
	"testing"
	"time"
)

func TestNotice(t *testing.T) {
	const n = "FY20261124-0003"
	cases := []struct {
		from, to Status
		d        Details
		want     []string // "" entries: no notice
	}{
		{Submitted, Accepted, Details{}, []string{"FY20261124-0003 已受理", "进度"}},
		{Accepted, Contacted, Details{}, []string{"已和您联系", "12351"}},
		{Contacted, InProgress, Details{}, nil},
		{InProgress, Closed, Details{Outcome: Mediated}, []string{"已结案（调解成功）", "回复 1 到 5"}},
		{Submitted, Closed, Details{Outcome: Declined, Reason: "不属于劳动争议"}, []string{"未予受理", "原因：不属于劳动争议", "12351"}},
		{Closed, InProgress, Details{Reason: "x"}, []string{"已重新办理"}},
	}
	for _, tc := range cases {
		got, ok := Notice(n, tc.from, tc.to, tc.d)
		if ok != (tc.want != nil) {
			t.Errorf("%s→%s: notice %v, want %v", tc.from, tc.to, ok, tc.want != nil)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s→%s: %q lacks %q", tc.from, tc.to, got, w)
			}
		}
		if ok && strings.Contains(got, "回复 1 到 5") != (tc.to == Closed && tc.d.Outcome != Declined) {
			t.Errorf("%s→%s: rating question misplaced in %q", tc.from, tc.to, got)
		}
	}
}

func TestOverdue(t *testing.T) {
	filed := time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)
	cases := []struct {
		s      Status
		urgent bool
		after  time.Duration
		want   bool
	}{
		{Submitted, false, DefaultSLA, false},
		{Submitted, false, DefaultSLA + time.Second, true},
		{Accepted, false, DefaultSLA + time.Second, true},
		{Contacted, false, 30 * DefaultSLA, false},
		{InProgress, false, 30 * DefaultSLA, false},
		{Closed, true, 30 * DefaultSLA, false},
		{Submitted, true, DefaultUrgentSLA, false},
		{Submitted, true, DefaultUrgentSLA + time.Second, true},
		// The defaults themselves: three days for first contact, two hours when urgent.
		{Submitted, false, 72 * time.Hour, false},
		{Accepted, false, 72*time.Hour + time.Second, true},
		{Submitted, true, 2 * time.Hour, false},
		{Submitted, true, 2*time.Hour + time.Second, true},
	}
	for _, tc := range cases {
		if got := Overdue(tc.s, tc.urgent, filed, filed.Add(tc.after), DefaultSLA, DefaultUrgentSLA); got != tc.want {
			t.Errorf("Overdue(%s, urgent=%v, +%v) = %v, want %v", tc.s, tc.urgent, tc.after, got, tc.want)
		}
	}
}

func TestValidRating(t *testing.T) {
	// A bare number answers the rating question for a week after closing.
	if RatingWindow != 7*24*time.Hour {
		t.Errorf("RatingWindow = %v, want a week", RatingWindow)
	}
	for n, want := range map[int]bool{0: false, 1: true, 3: true, 5: true, 6: false, -1: false} {
		if ValidRating(n) != want {
			t.Errorf("ValidRating(%d) = %v", n, !want)
		}
	}
}

func TestAlert(t *testing.T) {
	got := Alert("FY20261124-0003", "self_harm", "https://u.example/admin/legal/FY20261124-0003")
	for _, w := range []string{"紧急求助", "FY20261124-0003", "自伤风险", "https://u.example/admin/legal/FY20261124-0003"} {
		if !strings.Contains(got, w) {
			t.Errorf("alert %q lacks %q", got, w)
		}
	}
	if got := Alert("FY1", "unknown", ""); !strings.Contains(got, "紧急情况") || !strings.Contains(got, "干部后台") {
		t.Errorf("alert without link %q", got)
	}
	// Every category of the reviewed signal list has its own label.
	for _, line := range strings.Split(signalsText, "\n") {
		cat, _, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || strings.HasPrefix(cat, "#") || strings.HasPrefix(cat, "!") {
			continue
		}
		if CrisisLabel(cat) == "紧急情况" {
			t.Errorf("category %q has no label", cat)
		}
	}
}
