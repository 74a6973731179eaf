package storage_test

import (
	"errors"
	"testing"
	"time"

	"unionbot/claims"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// yearlyFixture files, on top of claimsFixture plus rec(3) (第0基层工会) and rec(5)
// (第2基层工会), the claims whose figures TestYearlyFigures works out by hand.
func yearlyFixture(t *testing.T, db *storage.DB) *claimsFixture {
	t.Helper()
	f := newClaimsFixture(t, db)
	upsert(t, f.db, rec(3), rec(5))
	f.m[3], f.m[5] = memberByNo(t, f.db, rec(3).MemberNo), memberByNo(t, f.db, rec(5).MemberNo)
	units, err := db.Units(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	unit := map[string]int64{}
	for _, u := range units {
		unit[u.Name] = u.ID
	}
	admin := storage.AuditEntry{Actor: "officer:admin"}
	for _, p := range []struct {
		unit   string
		year   int
		amount claims.Fen
	}{{"第1基层工会", 2026, claims.Yuan(200)}, {"第2基层工会", 2026, 15050}, {"第1基层工会", 2025, claims.Yuan(999)}, {"第1基层工会", 2026, claims.Yuan(200)}} {
		if err := f.db.SetUnitPremium(t.Context(), unit[p.unit], p.year, p.amount, admin); err != nil {
			t.Fatal(err)
		}
	}
	file := func(i int, plan claims.Plan, admitted string) string {
		in := f.input(t, i, admitted, "invoice "+admitted+string(plan))
		in.Plan = plan
		return f.submit(t, in).Number
	}
	rv, fin := claims.RoleReviewer, claims.RoleFinance
	// 2025-12-31 23:59 in China: last year. 2026-01-01 00:00: this year.
	f.clock.Set(time.Date(2025, 12, 31, 15, 59, 0, 0, time.UTC))
	file(5, claims.Hospital, "2025-12-01") // G
	f.clock.Set(time.Date(2025, 12, 31, 16, 0, 0, 0, time.UTC))
	file(4, claims.CriticalIllness, "2025-12-10") // H
	f.clock.Set(nov24)
	a := file(1, claims.Hospital, "2026-11-01")
	f.move(t, a, claims.Reviewing, rv, 1, claims.Details{})
	f.move(t, a, claims.Approved, rv, 2, claims.Details{Amount: claims.Yuan(3000)})
	f.move(t, a, claims.Paid, fin, 3, claims.Details{PaymentRef: "B1"})
	b := file(1, claims.Accident, "2026-11-01")
	f.move(t, b, claims.Reviewing, rv, 1, claims.Details{})
	f.move(t, b, claims.Approved, rv, 2, claims.Details{Amount: claims.Yuan(500)})
	c := file(4, claims.Hospital, "2026-11-02")
	f.move(t, c, claims.Reviewing, rv, 1, claims.Details{})
	f.move(t, c, claims.Rejected, rv, 2, claims.Details{Reason: "不在保障范围"})
	d := file(2, claims.Hospital, "2026-11-03")
	if _, err := f.db.TransitionClaim(t.Context(), d, storage.TransitionRequest{To: claims.Withdrawn, Role: claims.RoleMember}, memberAudit(2)); err != nil {
		t.Fatal(err)
	}
	e := file(2, claims.Accident, "2026-11-04")
	f.move(t, e, claims.Reviewing, rv, 1, claims.Details{})
	f.move(t, e, claims.Approved, rv, 2, claims.Details{Amount: claims.Yuan(1200)})
	f.move(t, e, claims.PaymentFailed, fin, 3, claims.Details{Reason: "户名不符"})
	file(5, claims.OutpatientSpecial, "2026-11-05") // F
	return f
}

func TestYearlyFigures(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := yearlyFixture(t, db)
		ctx := t.Context()
		y, err := db.YearlyFigures(ctx, 2026, 0)
		if err != nil {
			t.Fatal(err)
		}
		// By hand: 第0 has rec(3) enrolled and nothing else; 第1 has rec(1), rec(4), the
		// claims A (paid 3000), B (approved 500), C (rejected), H (filed 2026-01-01 00:00 CST);
		// 第2 has rec(2), rec(5), the claims E (approved 1200, payment failed) and F (filed),
		// D withdrawn and G filed in 2025 do not count.
		want := []storage.UnitYear{
			{Unit: "第0基层工会", Enrolled: 1},
			{Unit: "第1基层工会", Enrolled: 2, Premiums: claims.Yuan(200), Claims: 4, Claimants: 2, Approved: claims.Yuan(3500), PaidClaims: 1, Paid: claims.Yuan(3000)},
			{Unit: "第2基层工会", Enrolled: 2, Premiums: 15050, Claims: 2, Claimants: 2, Approved: claims.Yuan(1200)},
		}
		if len(y.Units) != len(want) {
			t.Fatalf("units: %+v", y.Units)
		}
		for i, w := range want {
			got := y.Units[i]
			w.UnitID = got.UnitID
			if got != w || got.UnitID == 0 {
				t.Errorf("unit %d:\ngot  %+v\nwant %+v", i, got, w)
			}
		}
		wantTotal := storage.UnitYear{Unit: "合计", Enrolled: 5, Premiums: 35050, Claims: 6, Claimants: 4, Approved: claims.Yuan(4700), PaidClaims: 1, Paid: claims.Yuan(3000)}
		if y.Total != wantTotal || y.UnitsWithClaims != 2 || y.Year != 2026 {
			t.Errorf("total:\ngot  %+v (%d units with claims)\nwant %+v", y.Total, y.UnitsWithClaims, wantTotal)
		}
		// Last year: only G (第2, filed 23:59 on 31 December) and 第1's premium of 999.
		y, err = db.YearlyFigures(ctx, 2025, 0)
		if err != nil {
			t.Fatal(err)
		}
		if y.Total.Claims != 1 || y.Total.Premiums != claims.Yuan(999) || y.Total.Enrolled != 5 || y.UnitsWithClaims != 1 {
			t.Errorf("2025: %+v, %d units with claims", y.Total, y.UnitsWithClaims)
		}
		// One unit.
		y, err = db.YearlyFigures(ctx, 2026, f.m[2].UnitID)
		if err != nil {
			t.Fatal(err)
		}
		if len(y.Units) != 1 || y.Units[0].Unit != "第2基层工会" || y.Total.Claims != 2 || y.Total.Enrolled != 2 || y.Total.Approved != claims.Yuan(1200) {
			t.Errorf("unit 2: %+v total %+v", y.Units, y.Total)
		}
		// The 公示 list: masked names, unit, amount.
		list, err := db.PublicList(ctx, 2026, 0)
		if err != nil {
			t.Fatal(err)
		}
		wantList := []storage.PublicEntry{
			{Name: "测*****", Unit: "第1基层工会", Amount: claims.Yuan(3000)},
			{Name: "测*****", Unit: "第1基层工会", Amount: claims.Yuan(500)},
			{Name: "测*****", Unit: "第2基层工会", Amount: claims.Yuan(1200)},
		}
		if len(list) != len(wantList) {
			t.Fatalf("public list: %+v", list)
		}
		for i := range list {
			if list[i] != wantList[i] {
				t.Errorf("public %d: got %+v, want %+v", i, list[i], wantList[i])
			}
		}
		// Filters of the claims list.
		for _, c := range []struct {
			f    storage.ClaimFilter
			want int
		}{
			{storage.ClaimFilter{Year: 2026}, 7},
			{storage.ClaimFilter{Year: 2025}, 1},
			{storage.ClaimFilter{Status: claims.Approved}, 1},
			{storage.ClaimFilter{Plan: claims.Accident}, 2},
			{storage.ClaimFilter{UnitID: f.m[1].UnitID}, 4},
			{storage.ClaimFilter{MemberID: f.m[5].ID}, 2},
			{storage.ClaimFilter{UnitID: f.m[1].UnitID, Plan: claims.Hospital, Year: 2026}, 2},
		} {
			got, _, err := db.ListClaims(ctx, c.f)
			if err != nil || len(got) != c.want {
				t.Errorf("ListClaims(%+v): %d, %v; want %d", c.f, len(got), err, c.want)
			}
		}
		// Pages, newest first.
		p1, next, err := db.ListClaims(ctx, storage.ClaimFilter{Limit: 5})
		if err != nil || len(p1) != 5 || next == 0 {
			t.Fatalf("page 1: %d %d %v", len(p1), next, err)
		}
		p2, next2, err := db.ListClaims(ctx, storage.ClaimFilter{Limit: 5, Before: next})
		if err != nil || len(p2) != 3 || next2 != 0 || p2[0].ID >= p1[4].ID {
			t.Errorf("page 2: %d %d %v", len(p2), next2, err)
		}
		if err := f.db.SetUnitPremium(ctx, 0, 2026, 1, storage.AuditEntry{Actor: "x"}); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("premium without unit: %v", err)
		}
	})
}

// TestYearlyLegalCases counts the legal-aid requests of a unit's members by the year they
// were submitted; a non-member's request belongs to no unit and is not in the units' figures.
func TestYearlyLegalCases(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := yearlyFixture(t, db)
		ctx := t.Context()
		for oid, member := range map[string]int64{"o-legal-2": f.m[2].ID, "o-not-a-member": 0} {
			in := legalInput(oid)
			in.MemberID = member
			if _, _, err := f.db.SubmitLegalCase(ctx, in, memberAuditOf(oid)); err != nil {
				t.Fatal(err)
			}
		}
		y, err := f.db.YearlyFigures(ctx, 2026, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range y.Units {
			want := 0
			if u.UnitID == f.m[2].UnitID {
				want = 1
			}
			if u.LegalCases != want {
				t.Errorf("%s: %d legal cases, want %d", u.Unit, u.LegalCases, want)
			}
		}
		if y.Total.LegalCases != 1 {
			t.Errorf("total legal cases %d", y.Total.LegalCases)
		}
		if y, err := f.db.YearlyFigures(ctx, 2025, 0); err != nil || y.Total.LegalCases != 0 {
			t.Errorf("2025: %+v %v", y.Total, err)
		}
	})
}
