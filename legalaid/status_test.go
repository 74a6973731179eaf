package legalaid

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestTransitionTable(t *testing.T) {
	legal := map[[2]Status]bool{
		{Submitted, Accepted}: true, {Submitted, Closed}: true, {Accepted, Contacted}: true,
		{Contacted, InProgress}: true, {InProgress, Closed}: true, {Closed, InProgress}: true,
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			for _, role := range []Role{RoleLegal, RoleAdmin} {
				err := Transition(from, to, role)
				if legal[[2]Status{from, to}] {
					if err != nil {
						t.Errorf("%s→%s by %s: got %v, want allowed", from, to, role, err)
					}
					continue
				}
				if !errors.Is(err, ErrIllegal) || errors.Is(err, ErrForbidden) {
					t.Errorf("%s→%s by %s: got %v, want ErrIllegal", from, to, role, err)
				}
			}
			for _, role := range []Role{"reviewer", "finance", "viewer", "member", ""} {
				if err := Transition(from, to, role); !errors.Is(err, ErrForbidden) {
					t.Errorf("%s→%s by %q: got %v, want ErrForbidden", from, to, role, err)
				}
			}
		}
	}
}

func TestTransitionErrorMessages(t *testing.T) {
	var te *TransitionError
	if err := Transition(Accepted, Closed, RoleLegal); !errors.As(err, &te) || te.Message() != "案件当前为「已受理」，不能改为「已结案」" {
		t.Fatalf("illegal: %v", err)
	}
	if !strings.Contains(te.Error(), "accepted → closed (legal): illegal transition") {
		t.Fatalf("Error() = %q", te.Error())
	}
	if err := Transition(Submitted, Accepted, "reviewer"); !errors.As(err, &te) || te.Message() != "只有法律援助工作人员可以办理案件" {
		t.Fatalf("forbidden: %v", err)
	}
}

func TestNext(t *testing.T) {
	cases := map[Status][]Status{
		Submitted: {Accepted, Closed}, Accepted: {Contacted}, Contacted: {InProgress},
		InProgress: {Closed}, Closed: {InProgress},
	}
	for from, want := range cases {
		if got := Next(from, RoleLegal); !slices.Equal(got, want) {
			t.Errorf("Next(%s) = %v, want %v", from, got, want)
		}
		if got := Next(from, "viewer"); got != nil {
			t.Errorf("Next(%s, viewer) = %v, want none", from, got)
		}
	}
}

func TestCheck(t *testing.T) {
	long := strings.Repeat("字", MaxReason+1)
	cases := []struct {
		name     string
		from, to Status
		d        Details
		want     string // "" = accepted
	}{
		{"accept needs nothing", Submitted, Accepted, Details{}, ""},
		{"close needs an outcome", InProgress, Closed, Details{}, "结案须选择结果"},
		{"close with an unknown outcome", InProgress, Closed, Details{Outcome: "won"}, "结案须选择结果"},
		{"close mediated", InProgress, Closed, Details{Outcome: Mediated}, ""},
		{"close advised", InProgress, Closed, Details{Outcome: Advised}, ""},
		{"decline from submitted needs a reason", Submitted, Closed, Details{Outcome: Declined, Reason: " \u3000"}, "不予受理须填写原因（会告知申请人）"},
		{"decline from submitted", Submitted, Closed, Details{Outcome: Declined, Reason: "不属于劳动争议"}, ""},
		{"submitted closes only as declined", Submitted, Closed, Details{Outcome: Mediated, Reason: "x"}, "未受理的案件只能以「不予受理」结案"},
		{"decline later needs a reason", InProgress, Closed, Details{Outcome: Declined}, "不予受理须填写原因（会告知申请人）"},
		{"reopen needs a reason", Closed, InProgress, Details{Reason: "  "}, "重新办理须填写原因"},
		{"reopen", Closed, InProgress, Details{Reason: "对方未履行调解协议"}, ""},
		{"in_progress from contacted needs no reason", Contacted, InProgress, Details{}, ""},
		{"reason at most 500", Closed, InProgress, Details{Reason: long}, "原因不能超过 500 字"},
		{"reason of exactly 500", Closed, InProgress, Details{Reason: long[len("字"):]}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.from, tc.to, tc.d)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v, want accepted", err)
				}
				return
			}
			var de *DetailsError
			if !errors.As(err, &de) || de.Message() != tc.want || !errors.Is(err, ErrDetails) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if de.Error() != "transition details: "+tc.want {
				t.Fatalf("Error() = %q", de.Error())
			}
		})
	}
}

func TestLabelsAndValidity(t *testing.T) {
	if Submitted.Label() != "已登记" || Closed.Label() != "已结案" || Status("x").Label() != "x" {
		t.Fatal("status labels")
	}
	if !InProgress.Valid() || Status("done").Valid() || !Accepted.Open() || Closed.Open() || Status("x").Open() {
		t.Fatal("status validity")
	}
	for _, s := range Statuses {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
	}
	if WageArrears.Label() != "拖欠工资" || Crisis.Label() != "紧急求助" || !Crisis.Valid() || Type("x").Valid() {
		t.Fatal("type labels")
	}
	if ty, ok := TypeOf("工伤认定与赔偿"); !ok || ty != WorkInjury {
		t.Fatal("TypeOf")
	}
	if _, ok := TypeOf("紧急求助"); ok {
		t.Fatal("crisis is not chosen by requesters")
	}
	if st, ok := StageOf("投诉无答复"); !ok || st != NoResponse || st.Label() != "投诉无答复" || !st.Valid() || Stage("x").Valid() {
		t.Fatal("stages")
	}
	if _, ok := StageOf("不知道"); ok {
		t.Fatal("StageOf unknown")
	}
	if Declined.Label() != "不予受理" || !Advised.Valid() || Outcome("").Valid() {
		t.Fatal("outcomes")
	}
	if len(Types) != 6 || len(Stages) != 5 || len(Outcomes) != 5 {
		t.Fatal("lists")
	}
	if !Officer(RoleLegal) || !Officer(RoleAdmin) || Officer("reviewer") {
		t.Fatal("Officer")
	}
}
