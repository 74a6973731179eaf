package storage_test

import (
	"testing"
	"time"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func TestConsoleQueries(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		recs := []storage.MemberRecord{
			{MemberNo: "A1", Name: "张三", IDNumber: "11010119900307123X", UnitName: "甲工会", MutualAidYears: []int{2025, 2026}},
			{MemberNo: "A2", Name: "李四", IDNumber: "110101199003074033", UnitName: "甲工会", MutualAidYears: []int{2026}},
			{MemberNo: "B1", Name: "张三", IDNumber: "110101199003075016", UnitName: "乙工会", MutualAidYears: []int{2026}},
			{MemberNo: "B2", Name: "王五", IDNumber: "110101199003076091", UnitName: "乙工会", Status: storage.StatusWithdrawn},
			{MemberNo: "N1", Name: "赵六", IDNumber: "110101199003077014"},
		}
		if out, err := db.UpsertMembers(ctx, recs); err != nil {
			t.Fatal(err)
		} else {
			for i, o := range out {
				if o.Err != nil {
					t.Fatalf("record %d: %v", i, o.Err)
				}
			}
		}
		a, _ := db.UnitByName(ctx, "甲工会")
		b, _ := db.UnitByName(ctx, "乙工会")
		m, _ := db.MemberByNo(ctx, "A1")
		if err := db.BindMember(ctx, m.ID, "o-a1", storage.AuditEntry{Actor: "member:o-a1"}); err != nil {
			t.Fatal(err)
		}

		search := func(q storage.MemberQuery) []string {
			t.Helper()
			ms, err := db.SearchMembers(ctx, q)
			if err != nil {
				t.Fatalf("SearchMembers(%+v): %v", q, err)
			}
			var nos []string
			for _, m := range ms {
				nos = append(nos, m.MemberNo)
			}
			return nos
		}
		for _, tc := range []struct {
			name string
			q    storage.MemberQuery
			want string
		}{
			{"all", storage.MemberQuery{}, "A1 A2 B1 B2 N1"},
			{"by number", storage.MemberQuery{Text: "B2"}, "B2"},
			{"by name", storage.MemberQuery{Text: "张三"}, "A1 B1"},
			{"by name, full-width space", storage.MemberQuery{Text: " 张 三 "}, "A1 B1"},
			{"by name within a unit", storage.MemberQuery{Text: "张三", UnitID: b.ID}, "B1"},
			{"by unit", storage.MemberQuery{UnitID: a.ID}, "A1 A2"},
			{"partial name finds nothing", storage.MemberQuery{Text: "张"}, ""},
			{"cursor and limit", storage.MemberQuery{AfterID: m.ID, Limit: 2}, "A2 B1"},
		} {
			if got := join(search(tc.q)); got != tc.want {
				t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
			}
		}
		// A re-import that renames a member re-indexes the name.
		recs[1].Name = "李思"
		if _, err := db.UpsertMembers(ctx, recs[1:2]); err != nil {
			t.Fatal(err)
		}
		if got := join(search(storage.MemberQuery{Text: "李四"})); got != "" {
			t.Errorf("old name still found: %q", got)
		}
		if got := join(search(storage.MemberQuery{Text: "李思"})); got != "A2" {
			t.Errorf("new name: got %q", got)
		}

		d, err := db.DashboardFigures(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Units) != 2 || d.Units[0].Unit != "乙工会" || d.Units[1].Unit != "甲工会" {
			t.Fatalf("units: %+v", d.Units)
		}
		// 乙: B2 withdrew, so one member on the roll.
		if u := d.Units[1]; u.Members != 2 || u.Bound != 1 || u.Enrolled[2025] != 1 || u.Enrolled[2026] != 2 {
			t.Errorf("甲工会: %+v", u)
		}
		if u := d.Units[0]; u.Members != 1 || u.Bound != 0 || u.Enrolled[2026] != 1 {
			t.Errorf("乙工会: %+v", u)
		}
		if len(d.Years) != 2 || d.Years[0] != 2025 || d.Years[1] != 2026 {
			t.Errorf("years: %v", d.Years)
		}
		if one, err := db.DashboardFigures(ctx, a.ID); err != nil || len(one.Units) != 1 || one.Units[0].UnitID != a.ID {
			t.Errorf("one unit: %+v, %v", one, err)
		}

		since := time.Now().Add(-time.Hour)
		for _, e := range []storage.AuditEntry{
			{Actor: "officer:li", Action: "binding.unlock", Subject: "member:1"},
			{Actor: "officer:wang", Action: "binding.code.issue", Subject: "member:2"},
			{Actor: "officer:li", Action: "member_x", Subject: "member:2"},
		} {
			if err := db.AddAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		actions := func(f storage.AuditFilter) string {
			t.Helper()
			es, err := db.AuditLog(ctx, f)
			if err != nil {
				t.Fatalf("AuditLog(%+v): %v", f, err)
			}
			var out []string
			for _, e := range es {
				out = append(out, e.Action)
			}
			return join(out)
		}
		if got := actions(storage.AuditFilter{Actor: "officer:li"}); got != "member_x binding.unlock" {
			t.Errorf("by actor: %q", got)
		}
		if got := actions(storage.AuditFilter{Action: "binding."}); got != "binding.code.issue binding.unlock" {
			t.Errorf("by action prefix: %q", got)
		}
		if got := actions(storage.AuditFilter{Action: "member_"}); got != "member_x" {
			t.Errorf("underscore is literal: %q", got)
		}
		if got := actions(storage.AuditFilter{Subject: "member:2", Since: since}); got != "member_x binding.code.issue" {
			t.Errorf("by subject: %q", got)
		}
		if got := actions(storage.AuditFilter{Since: time.Now().Add(time.Hour)}); got != "" {
			t.Errorf("since the future: %q", got)
		}
		all, _ := db.AuditLog(ctx, storage.AuditFilter{Limit: 2})
		if len(all) != 2 {
			t.Fatalf("limit: %d", len(all))
		}
		if rest, _ := db.AuditLog(ctx, storage.AuditFilter{BeforeID: all[1].ID}); len(rest) == 0 || rest[0].ID >= all[1].ID {
			t.Errorf("cursor: %+v", rest)
		}
	})
}

func join(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}
