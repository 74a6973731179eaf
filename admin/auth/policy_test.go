package auth

import (
	"errors"
	"testing"
)

// TestPolicyMatrix pins who may do what, role by role, at the county level and in a unit.
// The expectations are written out from the README's table and DESIGN §11, not read from
// policy, so a changed entry (a role added to or dropped from an action, a lost county
// restriction) fails here and not only in the console's HTTP matrix.
func TestPolicyMatrix(t *testing.T) {
	const (
		A = RoleAdmin
		R = RoleReviewer
		F = RoleFinance
		L = RoleLegal
		P = RolePublisher
		V = RoleViewer
	)
	all := []Role{A, R, F, L, P, V}
	want := []struct {
		act    Action
		roles  []Role
		county bool // only principals without a unit
	}{
		{ViewDashboard, all, false},
		{ReadMembers, all, false},
		{HelpBinding, []Role{A, R}, false},
		{RevealIDNumber, []Role{A}, false},
		{ReadAudit, []Role{A}, true},
		{ManageOfficers, []Role{A}, false},
		{ReadClaims, []Role{A, R, F, V}, false},
		{TransitionClaims, []Role{A, R, F}, false},
		{RecordPayments, []Role{F}, false},
		{ViewPayments, []Role{A, F}, false},
		{EnterClaims, []Role{A, R}, false},
		{ReadClaimStats, all, false},
		{ManageClaimRules, []Role{A}, true},
		{ReadLegalCases, []Role{A, L}, false},
		{HandleLegalCases, []Role{A, L}, false},
		{ReadFAQ, all, false},
		{ManageFAQ, []Role{A, P}, true},
		{ReadNotices, all, false},
		{PublishNotices, []Role{A, P}, false},
		{ReadSignups, []Role{A, P, V}, false},
		{CheckInActivity, []Role{A, P}, false},
		{ReadHandoffs, []Role{A, R, L}, false},
		{AnswerHandoffs, []Role{A, R, L}, false},
		{ManageKeywords, []Role{A, P}, true},
		{ImportRoster, []Role{A}, true},
		{ChangeMemberStatus, []Role{A}, false},
		{LinkOwnWeChat, all, false},
	}
	if len(want) != len(policy) {
		t.Errorf("policy has %d actions, this test pins %d: add the new action's row here", len(policy), len(want))
	}
	for _, w := range want {
		for _, role := range all {
			allowed := false
			for _, r := range w.roles {
				allowed = allowed || r == role
			}
			for _, unit := range []int64{0, 7} {
				p := Principal{Kind: KindOfficer, Name: "x", Roles: []Role{role}, UnitID: unit}
				exp := allowed && (unit == 0 || !w.county)
				if got := Can(p, w.act); got != exp {
					t.Errorf("Can(%s, unit %d, %s) = %t, want %t", role, unit, w.act, got, exp)
				}
			}
		}
	}
}

func TestCanRoleCombinations(t *testing.T) {
	// Any one of the principal's roles grants the action, wherever it stands in the list.
	p := Principal{Roles: []Role{RoleViewer, RoleFinance}, UnitID: 3}
	if !Can(p, RecordPayments) || !Can(p, ReadSignups) || Can(p, HelpBinding) {
		t.Error("a viewer+finance principal: want payments and sign-ups, not binding help")
	}
	// No roles, or only unknown ones, grant nothing, not even reading.
	for _, p := range []Principal{{}, {Roles: []Role{"root"}}} {
		if Can(p, ReadMembers) || Can(p, ViewDashboard) {
			t.Errorf("%v may read", p.Roles)
		}
	}
	// An action missing from the table is refused to everyone, admins included.
	if Can(Principal{Roles: AllRoles}, Action("members.delete")) {
		t.Error("an unknown action is allowed")
	}
}

func TestAuthorize(t *testing.T) {
	county := Principal{Kind: KindToken, Name: "ci", Roles: []Role{RoleReviewer}}
	unit := Principal{Kind: KindOfficer, Name: "zhaoyun", Roles: []Role{RoleReviewer}, UnitID: 7}
	for _, tc := range []struct {
		name       string
		p          Principal
		act        Action
		recordUnit int64
		want       error
	}{
		{"county sees a unit's record", county, ReadClaims, 7, nil},
		{"county sees a record with no unit", county, ReadClaims, 0, nil},
		{"county, a list", county, ReadClaims, NoRecord, nil},
		{"unit sees its own record", unit, ReadClaims, 7, nil},
		{"unit, a list", unit, ReadClaims, NoRecord, nil},
		{"another unit's record is missing", unit, ReadClaims, 8, ErrNotFound},
		{"a record with no unit is missing for a unit", unit, ReadClaims, 0, ErrNotFound},
		// NoRecord is no unit's id: unit 1's record is another unit's record like any other.
		{"unit 1's record is missing for unit 7", unit, ReadClaims, 1, ErrNotFound},
		{"role may not: own unit", unit, RecordPayments, 7, ErrForbidden},
		// The role is checked first: a refused action is 403 whatever the record's unit,
		// so a 404 never tells a role that may not act which records exist.
		{"role may not: another unit", unit, RecordPayments, 8, ErrForbidden},
		{"role may not: a list", county, RecordPayments, NoRecord, ErrForbidden},
		{"county-only action from a unit", Principal{Roles: []Role{RoleAdmin}, UnitID: 7}, ReadAudit, NoRecord, ErrForbidden},
		{"county-only action at county level", Principal{Roles: []Role{RoleAdmin}}, ReadAudit, NoRecord, nil},
	} {
		if err := Authorize(tc.p, tc.act, tc.recordUnit); !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
			t.Errorf("%s: Authorize = %v, want %v", tc.name, err, tc.want)
		}
	}
	if Sees(unit, NoRecord) {
		t.Error("Sees(unit, NoRecord): NoRecord is not a unit")
	}
}

func TestUnitFilter(t *testing.T) {
	county := Principal{Roles: []Role{RoleViewer}}
	unit := Principal{Roles: []Role{RoleViewer}, UnitID: 7}
	for _, tc := range []struct {
		name   string
		p      Principal
		asked  int64
		unit   int64
		wantOK bool
	}{
		{"county, any unit", county, 0, 0, true},
		{"county asks for a unit", county, 8, 8, true},
		{"unit, any unit: its own", unit, 0, 7, true},
		{"unit asks for its own", unit, 7, 7, true},
		{"unit asks for another: empty list", unit, 8, 0, false},
	} {
		got, ok := UnitFilter(tc.p, tc.asked)
		if got != tc.unit || ok != tc.wantOK {
			t.Errorf("%s: UnitFilter = %d, %t; want %d, %t", tc.name, got, ok, tc.unit, tc.wantOK)
		}
	}
}

func TestPrincipalNames(t *testing.T) {
	if got := (Principal{Kind: KindOfficer, Name: "alice"}).Actor(); got != "officer:alice" {
		t.Errorf("Actor = %q", got)
	}
	if got := (Principal{Kind: KindToken, Name: "ci"}).Actor(); got != "token:ci" {
		t.Errorf("Actor = %q", got)
	}
	labels := map[Role]string{RoleAdmin: "管理员", RoleReviewer: "审核", RoleFinance: "财务", RoleLegal: "法律援助",
		RolePublisher: "发布", RoleViewer: "只读", Role("future"): "future"}
	for r, want := range labels {
		if got := r.Label(); got != want {
			t.Errorf("%s.Label() = %q, want %q", r, got, want)
		}
	}
	if got := Strings([]Role{RoleAdmin, RoleLegal}); len(got) != 2 || got[0] != "admin" || got[1] != "legal" {
		t.Errorf("Strings = %v", got)
	}
}
