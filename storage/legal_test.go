package storage_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"unionbot/internal/testclock"
	"unionbot/legalaid"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// legalFixture is one subtest's view of a shared database: its own clock on its own day
// (so case numbers start at 1) and its own requesters (openids under a prefix).
type legalFixture struct {
	db     *storage.DB
	clock  *testclock.Clock
	member storage.Member // rec(1), 第1基层工会
	prefix string
}

func (f *legalFixture) o(s string) string { return f.prefix + s }

func newLegalFixture(t *testing.T, db *storage.DB) *legalFixture {
	t.Helper()
	f := &legalFixture{clock: testclock.New(nov24)}
	f.db = db.WithClock(f.clock.Now)
	upsert(t, f.db, rec(1))
	f.member = memberByNo(t, f.db, rec(1).MemberNo)
	return f
}

// TestLegalStorage runs the legal-aid storage tests on one database per backend (a fresh
// MariaDB database costs seconds); each subtest lives on its own day with its own people.
func TestLegalStorage(t *testing.T) {
	tests := []struct {
		name string
		fn   func(*testing.T, *legalFixture)
	}{
		{"queue and scoping", legalLegalQueueAndScoping}, // first: it lists every case
		{"submit", legalSubmitLegalCase},
		{"concurrent numbering", legalConcurrentLegalSubmissionsNumbering},
		{"lifecycle", legalLegalCaseLifecycle},
		{"decline", legalDeclineLegalCase},
		{"concurrent transitions", legalConcurrentLegalTransitions},
		{"crisis", legalCrisisCases},
		{"assign and notes", legalAssignAndNotes},
		{"satisfaction", legalLegalSatisfaction},
		{"crisis purge", legalCrisisPurge},
		{"yearly figures", legalYearlyFigures},
		{"crisis alerts", legalCrisisAlerts}, // last: its linked officers would be alerted by the others
	}
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		base := newLegalFixture(t, db)
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				day := nov24.AddDate(0, 0, 2*i)
				f := &legalFixture{db: db, clock: testclock.New(day), member: base.member, prefix: fmt.Sprintf("t%d-", i)}
				f.db = db.WithClock(f.clock.Now)
				tc.fn(t, f)
			})
		}
	})
}

func legalInput(openID string) storage.LegalCaseInput {
	return storage.LegalCaseInput{
		OpenID: openID, Type: legalaid.WageArrears, Stage: legalaid.NotStarted, Employer: "银湖建筑工程有限公司",
		Workplace: "旗开发区工地", Workers: 23, Amount: 4200000, HasAmount: true,
		Description: "干了八个月，老板一直拖着不结工资。\n包工头电话打不通。", ContactName: "李春生",
		ContactPhone: "13912345678", ContactTime: "晚上7点以后",
	}
}

var cst = time.FixedZone("CST", 8*3600)

var officerAudit = storage.AuditEntry{Actor: "officer:wangli", RequestID: "req-1"}

func memberAuditOf(openID string) storage.AuditEntry {
	return storage.AuditEntry{Actor: "member:" + openID}
}

func legalSubmitLegalCase(t *testing.T, f *legalFixture) {
	{
		ctx := t.Context()
		photo, _, err := f.db.SaveMedia(ctx, f.o("oWorker"), "image/jpeg", []byte("payslip"), f.clock.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		in := legalInput(f.o("oWorker"))
		in.Evidence = []int64{photo}
		in.SubmitToken = "tok-1"
		c, created, err := f.db.SubmitLegalCase(ctx, in, memberAuditOf("oWorker"))
		if err != nil || !created {
			t.Fatalf("SubmitLegalCase: %v %v", created, err)
		}
		day := f.clock.Now().In(cst).Format("20060102")
		if c.Number != "FY"+day+"-0001" || c.Status != legalaid.Submitted || c.Version != 1 || c.UnitID != 0 ||
			c.MemberID != 0 || c.Urgent || c.Workers != 23 || !c.HasAmount || c.Amount != 4200000 {
			t.Fatalf("case %+v", c)
		}
		if c.ContactName != "李春生" || c.ContactPhone != "13912345678" || c.ContactPhoneMasked != "139****5678" ||
			!strings.Contains(c.Description, "包工头") || c.ContactTime != "晚上7点以后" {
			t.Fatalf("personal fields %+v", c)
		}
		if len(c.Evidence) != 1 || c.Evidence[0].MediaID != photo {
			t.Fatalf("evidence %+v", c.Evidence)
		}
		if m, err := f.db.MediaByID(ctx, photo); err != nil || !m.ExpiresAt.IsZero() {
			t.Fatalf("evidence photo not kept: %+v %v", m.ExpiresAt, err)
		}
		if len(c.Events) != 1 || c.Events[0].To != legalaid.Submitted {
			t.Fatalf("events %+v", c.Events)
		}
		// Idempotent by token.
		again, created, err := f.db.SubmitLegalCase(ctx, in, memberAuditOf("oWorker"))
		if err != nil || created || again.Number != c.Number {
			t.Fatalf("second submit: %v %v %v", again.Number, created, err)
		}
		// A member's case carries their unit; the day's sequence goes on.
		in2 := legalInput(f.o("oM"))
		in2.MemberID, in2.HasAmount = f.member.ID, false
		c2, _, err := f.db.SubmitLegalCase(ctx, in2, memberAuditOf("oM"))
		if err != nil || c2.Number != "FY"+day+"-0002" || c2.UnitID != f.member.UnitID || c2.MemberNo != f.member.MemberNo || c2.HasAmount {
			t.Fatalf("member case %+v %v", c2, err)
		}
		// Another's photo cannot be evidence.
		in3 := legalInput(f.o("oOther"))
		in3.Evidence = []int64{photo}
		if _, _, err := f.db.SubmitLegalCase(ctx, in3, memberAuditOf("oOther")); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("another's photo: %v", err)
		}
		// The next day starts at 1 again (China time).
		f.clock.Set(time.Date(2026, 11, 24, 16, 0, 0, 0, time.UTC).AddDate(0, 0, int(f.clock.Now().Sub(nov24).Hours()/24))) // 00:00 next day in China
		c4, _, err := f.db.SubmitLegalCase(ctx, legalInput(f.o("oX")), memberAuditOf("oX"))
		if err != nil || c4.Number != "FY"+f.clock.Now().In(cst).Format("20060102")+"-0001" || c4.Number == c.Number {
			t.Fatalf("next day %v %v", c4.Number, err)
		}
		var audit []storage.AuditEntry
		for _, n := range []string{c.Number, c2.Number, c4.Number} {
			a, err := f.db.AuditLog(ctx, storage.AuditFilter{Action: "legal.submit", Subject: "legal:" + n})
			if err != nil || len(a) != 1 {
				t.Fatalf("audit of %s: %d %v", n, len(a), err)
			}
			audit = append(audit, a...)
		}
		for _, a := range audit {
			if strings.Contains(fmt.Sprint(a), "13912345678") || strings.Contains(fmt.Sprint(a), "李春生") {
				t.Fatalf("audit holds personal data: %+v", a)
			}
		}
	}
}

func TestSubmitLegalCaseValidation(t *testing.T) {
	db := newLegalFixture(t, storagetest.Embedded(t)).db
	for name, mod := range map[string]func(*storage.LegalCaseInput){
		"no openid":      func(in *storage.LegalCaseInput) { in.OpenID = "" },
		"crisis type":    func(in *storage.LegalCaseInput) { in.Type = legalaid.Crisis },
		"bad stage":      func(in *storage.LegalCaseInput) { in.Stage = "x" },
		"no employer":    func(in *storage.LegalCaseInput) { in.Employer = " " },
		"no workers":     func(in *storage.LegalCaseInput) { in.Workers = 0 },
		"no description": func(in *storage.LegalCaseInput) { in.Description = "" },
		"no name":        func(in *storage.LegalCaseInput) { in.ContactName = "" },
		"bad phone":      func(in *storage.LegalCaseInput) { in.ContactPhone = "12345" },
		"negative":       func(in *storage.LegalCaseInput) { in.Amount = -1 },
	} {
		in := legalInput("o1")
		mod(&in)
		if _, _, err := db.SubmitLegalCase(t.Context(), in, memberAuditOf("o1")); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}

func legalConcurrentLegalSubmissionsNumbering(t *testing.T, f *legalFixture) {
	{
		var wg sync.WaitGroup
		numbers := make([]string, 6)
		for i := range numbers {
			wg.Go(func() {
				c, _, err := f.db.SubmitLegalCase(t.Context(), legalInput(f.o(fmt.Sprintf("%d", i))), memberAuditOf("o"))
				if err != nil {
					t.Errorf("submit %d: %v", i, err)
				}
				numbers[i] = c.Number
			})
		}
		wg.Wait()
		seen := map[string]bool{}
		for _, n := range numbers {
			if seen[n] || !strings.HasPrefix(n, "FY"+f.clock.Now().In(cst).Format("20060102")+"-000") {
				t.Fatalf("numbers %v", numbers)
			}
			seen[n] = true
		}
	}
}

func legalLegalCaseLifecycle(t *testing.T, f *legalFixture) {
	{
		ctx := t.Context()
		c, _, err := f.db.SubmitLegalCase(ctx, legalInput(f.o("oW")), memberAuditOf("oW"))
		if err != nil {
			t.Fatal(err)
		}
		move := func(to legalaid.Status, version int, d legalaid.Details) (storage.LegalCase, error) {
			return f.db.TransitionLegalCase(ctx, c.Number, storage.LegalTransition{To: to, Version: version,
				Role: legalaid.RoleLegal, Details: d}, officerAudit)
		}
		// Illegal, forbidden, stale.
		if _, err := move(legalaid.Contacted, 1, legalaid.Details{}); !errors.Is(err, legalaid.ErrIllegal) {
			t.Fatalf("skip accepted: %v", err)
		}
		if _, err := f.db.TransitionLegalCase(ctx, c.Number, storage.LegalTransition{To: legalaid.Accepted, Role: "reviewer"}, officerAudit); !errors.Is(err, legalaid.ErrForbidden) {
			t.Fatalf("reviewer: %v", err)
		}
		if _, err := move(legalaid.Accepted, 7, legalaid.Details{}); !errors.Is(err, storage.ErrStale) {
			t.Fatalf("stale: %v", err)
		}
		if _, err := move(legalaid.Closed, 1, legalaid.Details{Outcome: legalaid.Mediated}); !errors.Is(err, legalaid.ErrDetails) {
			t.Fatalf("close unaccepted as mediated: %v", err)
		}
		if _, err := f.db.TransitionLegalCase(ctx, "FY20990101-0001", storage.LegalTransition{To: legalaid.Accepted, Role: legalaid.RoleLegal}, officerAudit); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("missing: %v", err)
		}
		steps := []struct {
			to     legalaid.Status
			d      legalaid.Details
			notice string
		}{
			{legalaid.Accepted, legalaid.Details{}, "已受理"},
			{legalaid.Contacted, legalaid.Details{}, "已和您联系"},
			{legalaid.InProgress, legalaid.Details{}, ""},
			{legalaid.Closed, legalaid.Details{Outcome: legalaid.Mediated}, "已结案（调解成功）"},
			{legalaid.InProgress, legalaid.Details{Reason: "对方未按调解协议付款"}, "已重新办理"},
			{legalaid.Closed, legalaid.Details{Outcome: legalaid.Arbitration}, "已结案（仲裁）"},
		}
		version := 1
		for _, s := range steps {
			got, err := move(s.to, version, s.d)
			if err != nil {
				t.Fatalf("to %s: %v", s.to, err)
			}
			version++
			if got.Status != s.to || got.Version != version {
				t.Fatalf("to %s: %+v", s.to, got)
			}
			key := fmt.Sprintf("legal:%s:v%d", c.Number, version)
			row, err := f.db.OutboxByKey(ctx, key)
			if s.notice == "" {
				if !errors.Is(err, storage.ErrNotFound) {
					t.Fatalf("to %s: unexpected notice %v %v", s.to, row.Content.Text, err)
				}
				continue
			}
			if err != nil || row.OpenID != f.o("oW") || row.Kind != storage.LegalNoticeKind || !row.Service ||
				!strings.Contains(row.Content.Text, s.notice) || row.Content.Fields["number"] != c.Number {
				t.Fatalf("to %s: notice %+v %v", s.to, row, err)
			}
		}
		got, err := f.db.LegalCaseByNumber(ctx, c.Number)
		if err != nil || got.Outcome != legalaid.Arbitration || got.ContactedAt.IsZero() || got.ClosedAt.IsZero() || len(got.Events) != 7 {
			t.Fatalf("closed case %+v %v", got, err)
		}
		if got.Events[5].Reason != "对方未按调解协议付款" || got.Events[5].From != legalaid.Closed {
			t.Fatalf("reopen event %+v", got.Events[5])
		}
		audit, err := f.db.AuditLog(ctx, storage.AuditFilter{Action: "legal.transition", Subject: "legal:" + c.Number})
		if err != nil || len(audit) != 6 || audit[0].Actor != "officer:wangli" || audit[0].After["outcome"] != "arbitration" {
			t.Fatalf("audit %+v %v", audit, err)
		}
	}
}

func legalDeclineLegalCase(t *testing.T, f *legalFixture) {
	{
		ctx := t.Context()
		c, _, _ := f.db.SubmitLegalCase(ctx, legalInput(f.o("oW")), memberAuditOf("oW"))
		req := storage.LegalTransition{To: legalaid.Closed, Role: legalaid.RoleLegal, Details: legalaid.Details{Outcome: legalaid.Declined}}
		if _, err := f.db.TransitionLegalCase(ctx, c.Number, req, officerAudit); !errors.Is(err, legalaid.ErrDetails) {
			t.Fatalf("decline without reason: %v", err)
		}
		req.Details.Reason = "  不属于劳动争议，建议向消费者协会投诉 "
		got, err := f.db.TransitionLegalCase(ctx, c.Number, req, officerAudit)
		if err != nil || got.Outcome != legalaid.Declined || got.Reason != "不属于劳动争议，建议向消费者协会投诉" {
			t.Fatalf("decline: %+v %v", got, err)
		}
		row, err := f.db.OutboxByKey(ctx, "legal:"+c.Number+":v2")
		if err != nil || !strings.Contains(row.Content.Text, "原因：不属于劳动争议") || strings.Contains(row.Content.Text, "回复 1 到 5") {
			t.Fatalf("decline notice %+v %v", row.Content.Text, err)
		}
		// A declined case asks no rating.
		if _, err := f.db.LegalRatingDue(ctx, f.o("oW")); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("rating due after decline: %v", err)
		}
	}
}

func legalConcurrentLegalTransitions(t *testing.T, f *legalFixture) {
	{
		c, _, _ := f.db.SubmitLegalCase(t.Context(), legalInput(f.o("oW")), memberAuditOf("oW"))
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, stale := 0, 0
		for range 4 {
			wg.Go(func() {
				_, err := f.db.TransitionLegalCase(t.Context(), c.Number, storage.LegalTransition{To: legalaid.Accepted,
					Version: 1, Role: legalaid.RoleLegal}, officerAudit)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, storage.ErrStale), errors.Is(err, legalaid.ErrIllegal):
					stale++
				default:
					t.Errorf("transition: %v", err)
				}
			})
		}
		wg.Wait()
		if ok != 1 || stale != 3 {
			t.Fatalf("ok %d stale %d", ok, stale)
		}
	}
}

func legalCrisisCases(t *testing.T, f *legalFixture) {
	{
		ctx := t.Context()
		sig, _ := legalaid.Detect("不给钱我就从楼上跳下去")
		c, created, err := f.db.ReportCrisis(ctx, storage.CrisisReport{OpenID: f.o("oC"), Signal: sig, Text: "不给钱我就从楼上跳下去"}, memberAuditOf("oC"))
		if err != nil || !created || c.Type != legalaid.Crisis || !c.Urgent || c.CrisisText != "不给钱我就从楼上跳下去" ||
			c.CrisisCategory != "self_harm" || c.UnitID != 0 || c.Status != legalaid.Submitted {
			t.Fatalf("crisis case %+v %v %v", c, created, err)
		}
		// A second message flags the same open case.
		again, created, err := f.db.ReportCrisis(ctx, storage.CrisisReport{OpenID: f.o("oC"), Signal: sig, Text: "我真的不想活了"}, memberAuditOf("oC"))
		if err != nil || created || again.Number != c.Number || !strings.Contains(again.CrisisText, "不想活") || again.Version != 2 {
			t.Fatalf("second crisis %+v %v %v", again, created, err)
		}
		// The request filed afterwards completes the urgent case.
		in := legalInput(f.o("oC"))
		in.Description = "老板欠了三个月工资"
		req, created, err := f.db.SubmitLegalCase(ctx, in, memberAuditOf("oC"))
		if err != nil || !created || req.Number != c.Number || req.Type != legalaid.WageArrears || !req.Urgent || req.Employer == "" {
			t.Fatalf("completed urgent case %+v %v %v", req, created, err)
		}
		urgent := true
		list, _, err := f.db.ListLegalCases(ctx, storage.LegalCaseFilter{Urgent: &urgent})
		if err != nil || !slices.ContainsFunc(list, func(l storage.LegalCase) bool { return l.Number == c.Number }) {
			t.Fatalf("urgent list %v %v", list, err)
		}
		for _, l := range list {
			if !l.Urgent {
				t.Fatalf("not urgent in the urgent list: %+v", l)
			}
		}
		before, _ := f.db.LegalCounts(ctx, 0)
		// An open request is flagged, not duplicated.
		in2 := legalInput(f.o("oD"))
		plain, _, _ := f.db.SubmitLegalCase(ctx, in2, memberAuditOf("oD"))
		flagged, created, err := f.db.ReportCrisis(ctx, storage.CrisisReport{OpenID: f.o("oD"), Signal: sig, Text: "明天去堵门"}, memberAuditOf("oD"))
		if err != nil || created || flagged.Number != plain.Number || !flagged.Urgent || flagged.Type != legalaid.WageArrears {
			t.Fatalf("flag open case %+v %v %v", flagged, created, err)
		}
		got, _ := f.db.LegalCaseByNumber(ctx, plain.Number)
		if last := got.Events[len(got.Events)-1]; last.Kind != storage.LegalEventUrgent || last.Text != "明天去堵门" {
			t.Fatalf("urgent event %+v", last)
		}
		counts, err := f.db.LegalCounts(ctx, 0)
		if err != nil || counts.Open != before.Open+1 || counts.Urgent != before.Urgent+1 || counts.Unassigned != before.Unassigned+1 {
			t.Fatalf("counts %+v %v", counts, err)
		}
		// A crisis inside the request itself makes it urgent.
		in3 := legalInput(f.o("oE"))
		in3.Crisis, in3.CrisisText = &sig, "我要从楼上跳下去"
		c3, _, err := f.db.SubmitLegalCase(ctx, in3, memberAuditOf("oE"))
		if err != nil || !c3.Urgent || c3.CrisisText != "我要从楼上跳下去" {
			t.Fatalf("urgent request %+v %v", c3, err)
		}
	}
}

func legalLegalQueueAndScoping(t *testing.T, f *legalFixture) {
	{
		ctx := t.Context()
		var numbers []string
		for i := range 5 {
			in := legalInput(f.o(fmt.Sprintf("%d", i)))
			if i%2 == 0 {
				in.MemberID = f.member.ID
			}
			if i == 3 {
				in.Type = legalaid.WorkInjury
			}
			c, _, err := f.db.SubmitLegalCase(ctx, in, memberAuditOf("o"))
			if err != nil {
				t.Fatal(err)
			}
			numbers = append(numbers, c.Number)
		}
		sig, _ := legalaid.Detect("跳楼")
		if _, _, err := f.db.ReportCrisis(ctx, storage.CrisisReport{OpenID: f.o("1"), Signal: sig, Text: "跳楼"}, memberAuditOf("o1")); err != nil {
			t.Fatal(err)
		}
		// Urgent first, then newest first, across pages.
		var all []string
		cursor := ""
		for {
			page, next, err := f.db.ListLegalCases(ctx, storage.LegalCaseFilter{Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page {
				all = append(all, c.Number)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		want := []string{numbers[1], numbers[4], numbers[3], numbers[2], numbers[0]}
		if fmt.Sprint(all) != fmt.Sprint(want) {
			t.Fatalf("queue %v, want %v", all, want)
		}
		unit, _, err := f.db.ListLegalCases(ctx, storage.LegalCaseFilter{UnitID: f.member.UnitID})
		if err != nil || len(unit) != 3 {
			t.Fatalf("unit's cases %d %v", len(unit), err)
		}
		for _, c := range unit {
			if c.UnitID != f.member.UnitID {
				t.Fatalf("another unit's case %+v", c)
			}
		}
		none, _, err := f.db.ListLegalCases(ctx, storage.LegalCaseFilter{NoUnit: true})
		if err != nil || len(none) != len(all)-3 {
			t.Fatalf("non-members' cases %d of %d: %v", len(none), len(all), err)
		}
		for _, c := range none {
			if c.UnitID != 0 {
				t.Fatalf("a unit's case among the non-members' %+v", c)
			}
		}
		injury, _, _ := f.db.ListLegalCases(ctx, storage.LegalCaseFilter{Type: legalaid.WorkInjury})
		if len(injury) != 1 || injury[0].Number != numbers[3] {
			t.Fatalf("type filter %v", injury)
		}
		if _, _, err := f.db.ListLegalCases(ctx, storage.LegalCaseFilter{Cursor: "x"}); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("bad cursor: %v", err)
		}
		mine, err := f.db.LegalCasesOf(ctx, f.o("1"), 10)
		if err != nil || len(mine) != 1 || mine[0].Number != numbers[1] {
			t.Fatalf("LegalCasesOf %v %v", mine, err)
		}
	}
}

func legalAssignAndNotes(t *testing.T, f *legalFixture) {
	{
		ctx := t.Context()
		mk := func(name string, roles []string, unit int64) {
			if _, err := f.db.CreateOfficer(ctx, storage.NewOfficer{Username: name, PasswordHash: "x", Roles: roles, UnitID: unit}, officerAudit); err != nil {
				t.Fatal(err)
			}
		}
		mk("lawyer", []string{"legal"}, 0)
		mk("unitlawyer", []string{"legal"}, f.member.UnitID)
		mk("reviewer", []string{"reviewer"}, 0)
		c, _, _ := f.db.SubmitLegalCase(ctx, legalInput(f.o("oW")), memberAuditOf("oW")) // a non-member's case
		for _, bad := range []string{"reviewer", "unitlawyer", "nobody"} {
			if _, err := f.db.AssignLegalCase(ctx, c.Number, bad, 0, officerAudit); !errors.Is(err, storage.ErrNotLegalOfficer) {
				t.Errorf("assign to %s: %v", bad, err)
			}
		}
		if _, err := f.db.AssignLegalCase(ctx, c.Number, "lawyer", 9, officerAudit); !errors.Is(err, storage.ErrStale) {
			t.Fatalf("stale assign: %v", err)
		}
		got, err := f.db.AssignLegalCase(ctx, c.Number, "lawyer", 1, officerAudit)
		if err != nil || got.Assignee != "lawyer" || got.Version != 2 {
			t.Fatalf("assign %+v %v", got, err)
		}
		mine, _, _ := f.db.ListLegalCases(ctx, storage.LegalCaseFilter{Assignee: "lawyer"})
		if len(mine) != 1 {
			t.Fatalf("assigned to me %d", len(mine))
		}
		if err := f.db.AddLegalNote(ctx, c.Number, "  已电话联系，周五面谈 ", officerAudit); err != nil {
			t.Fatal(err)
		}
		if err := f.db.AddLegalNote(ctx, c.Number, " ", officerAudit); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("empty note: %v", err)
		}
		full, _ := f.db.LegalCaseByNumber(ctx, c.Number)
		last := full.Events[len(full.Events)-1]
		if last.Kind != storage.LegalEventNote || last.Text != "已电话联系，周五面谈" || last.Actor != "officer:wangli" {
			t.Fatalf("note %+v", last)
		}
		audit, _ := f.db.AuditLog(ctx, storage.AuditFilter{Action: "legal.note"})
		if len(audit) != 1 || strings.Contains(fmt.Sprint(audit[0]), "周五") {
			t.Fatalf("note audit %+v", audit)
		}
	}
}

func legalLegalSatisfaction(t *testing.T, f *legalFixture) {
	{
		ctx := t.Context()
		c, _, _ := f.db.SubmitLegalCase(ctx, legalInput(f.o("oW")), memberAuditOf("oW"))
		if _, err := f.db.LegalRatingDue(ctx, f.o("oW")); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("due while open: %v", err)
		}
		for _, s := range []storage.LegalTransition{{To: legalaid.Accepted}, {To: legalaid.Contacted}, {To: legalaid.InProgress},
			{To: legalaid.Closed, Details: legalaid.Details{Outcome: legalaid.Advised}}} {
			s.Role = legalaid.RoleLegal
			if _, err := f.db.TransitionLegalCase(ctx, c.Number, s, officerAudit); err != nil {
				t.Fatal(err)
			}
		}
		due, err := f.db.LegalRatingDue(ctx, f.o("oW"))
		if err != nil || due.Number != c.Number {
			t.Fatalf("due %v %v", due.Number, err)
		}
		if _, err := f.db.LegalRatingDue(ctx, f.o("oSomeoneElse")); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("another requester: %v", err)
		}
		if err := f.db.RateLegalCase(ctx, f.o("oSomeoneElse"), c.Number, 5, memberAuditOf("x")); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("rate another's case: %v", err)
		}
		if err := f.db.RateLegalCase(ctx, f.o("oW"), c.Number, 6, memberAuditOf("oW")); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("rating 6: %v", err)
		}
		if err := f.db.RateLegalCase(ctx, f.o("oW"), c.Number, 4, memberAuditOf("oW")); err != nil {
			t.Fatal(err)
		}
		if err := f.db.RateLegalCase(ctx, f.o("oW"), c.Number, 5, memberAuditOf("oW")); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("rated twice: %v", err)
		}
		if err := f.db.CommentLegalCase(ctx, f.o("oW"), c.Number, "律师很耐心"); err != nil {
			t.Fatal(err)
		}
		got, _ := f.db.LegalCaseByNumber(ctx, c.Number)
		if got.Satisfaction != 4 || got.SatisfactionComment != "律师很耐心" || got.RatedAt.IsZero() {
			t.Fatalf("rating %+v", got)
		}
		// Eight days after closing a reopened-and-closed case asks no more.
		if _, err := f.db.TransitionLegalCase(ctx, c.Number, storage.LegalTransition{To: legalaid.InProgress, Role: legalaid.RoleLegal,
			Details: legalaid.Details{Reason: "再议"}}, officerAudit); err != nil {
			t.Fatal(err)
		}
		f.clock.Add(8 * 24 * time.Hour)
		if _, err := f.db.LegalRatingDue(ctx, f.o("oW")); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("due after reopening: %v", err)
		}
	}
}

// legalCrisisAlerts: a crisis message alerts, in its own transaction, the linked legal
// officers who see the case, and nobody else; one alert per case, officer and hour.
func legalCrisisAlerts(t *testing.T, f *legalFixture) {
	ctx := t.Context()
	upsert(t, f.db, rec(2))
	other := memberByNo(t, f.db, rec(2).MemberNo) // another unit than f.member's
	link := func(name string, roles []string, unit int64, linked bool) storage.LinkedOfficer {
		t.Helper()
		o, err := f.db.CreateOfficer(ctx, storage.NewOfficer{Username: f.o(name), PasswordHash: "x", Roles: roles, UnitID: unit}, officerAudit)
		if err != nil {
			t.Fatal(err)
		}
		if !linked {
			return storage.LinkedOfficer{OfficerID: o.ID}
		}
		code, err := f.db.IssueOfficerLinkCode(ctx, o.ID, 0, officerAudit)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.RedeemOfficerLinkCode(ctx, f.o("wx-"+name), code.Code); err != nil {
			t.Fatal(err)
		}
		return storage.LinkedOfficer{OfficerID: o.ID, OpenID: f.o("wx-" + name)}
	}
	county := link("county-legal", []string{"legal"}, 0, true)
	unitLegal := link("unit-legal", []string{"legal"}, f.member.UnitID, true)
	otherUnit := link("other-legal", []string{"legal"}, other.UnitID, true)
	unlinked := link("unlinked-legal", []string{"legal"}, 0, false)
	publisher := link("publisher", []string{"publisher", "viewer"}, 0, true)
	admin := link("admin", []string{"admin"}, 0, true)

	alerted := func(number string, o storage.LinkedOfficer) (storage.OutboxRow, bool) {
		t.Helper()
		hour := f.clock.Now().In(cst).Format("2006010215")
		row, err := f.db.OutboxByKey(ctx, fmt.Sprintf("legal:alert:%s:%d:%s", number, o.OfficerID, hour))
		if errors.Is(err, storage.ErrNotFound) {
			return row, false
		}
		if err != nil {
			t.Fatal(err)
		}
		return row, true
	}
	sig, _ := legalaid.Detect("他们要打人了")
	// A non-member's crisis: county-level legal officers only.
	c, _, err := f.db.ReportCrisis(ctx, storage.CrisisReport{OpenID: f.o("oX"), Signal: sig, Text: "他们要打人了",
		PublicURL: "https://union.example.cn/"}, memberAuditOf("oX"))
	if err != nil {
		t.Fatal(err)
	}
	row, ok := alerted(c.Number, county)
	if !ok || row.OpenID != county.OpenID || row.Kind != storage.LegalAlertKind || !row.Service ||
		!strings.Contains(row.Content.Text, c.Number) || !strings.Contains(row.Content.Text, "暴力冲突") ||
		!strings.Contains(row.Content.Text, "https://union.example.cn/admin/legal/"+c.Number) ||
		strings.Contains(row.Content.Text, "打人") || row.Content.Link != "/admin/legal/"+c.Number {
		t.Fatalf("county officer's alert %+v %v", row, ok)
	}
	for name, o := range map[string]storage.LinkedOfficer{"unit officer": unitLegal, "other unit": otherUnit,
		"unlinked": unlinked, "publisher": publisher, "admin (a legal officer was alerted)": admin} {
		if _, ok := alerted(c.Number, o); ok {
			t.Errorf("%s alerted of a non-member's case", name)
		}
	}
	// A member's crisis: the unit's legal officer and the county's, not another unit's.
	m, _, err := f.db.ReportCrisis(ctx, storage.CrisisReport{OpenID: f.o("oM"), MemberID: f.member.ID, Signal: sig,
		Text: "工地上有人拿刀"}, memberAuditOf("oM"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []storage.LinkedOfficer{county, unitLegal} {
		if row, ok := alerted(m.Number, o); !ok || !strings.Contains(row.Content.Text, "干部后台") {
			t.Errorf("officer %d not alerted of the member's case: %+v", o.OfficerID, row)
		}
	}
	if _, ok := alerted(m.Number, otherUnit); ok {
		t.Error("another unit's officer alerted")
	}
	// More messages within the hour: no second alert; the next hour: one more.
	before, _ := f.db.OutboxCounts(ctx)
	if _, _, err := f.db.ReportCrisis(ctx, storage.CrisisReport{OpenID: f.o("oM"), MemberID: f.member.ID, Signal: sig,
		Text: "快来人"}, memberAuditOf("oM")); err != nil {
		t.Fatal(err)
	}
	if after, _ := f.db.OutboxCounts(ctx); sumCounts(after) != sumCounts(before) {
		t.Fatalf("alerted again within the hour: %v → %v", before, after)
	}
	f.clock.Add(time.Hour)
	if _, _, err := f.db.ReportCrisis(ctx, storage.CrisisReport{OpenID: f.o("oM"), MemberID: f.member.ID, Signal: sig,
		Text: "还在打"}, memberAuditOf("oM")); err != nil {
		t.Fatal(err)
	}
	if _, ok := alerted(m.Number, unitLegal); !ok {
		t.Fatal("no alert the next hour")
	}
	// Without any linked legal officer who sees the case, the admins are alerted.
	if err := f.db.UnlinkOfficerWeChat(ctx, county.OfficerID, officerAudit); err != nil {
		t.Fatal(err)
	}
	n, _, err := f.db.ReportCrisis(ctx, storage.CrisisReport{OpenID: f.o("oY"), Signal: sig, Text: "要出人命了"}, memberAuditOf("oY"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := alerted(n.Number, admin); !ok {
		t.Fatal("admin not alerted when no legal officer is linked")
	}
	if _, ok := alerted(n.Number, publisher); ok {
		t.Fatal("publisher alerted")
	}
}

func sumCounts(m map[string]int64) (n int64) {
	for _, v := range m {
		n += v
	}
	return n
}

// legalCrisisPurge: crisis messages are erased once their case has been closed longer than
// the retention, with an audit row; open, reopened and recently closed cases keep them.
func legalCrisisPurge(t *testing.T, f *legalFixture) {
	ctx := t.Context()
	const keep = 180 * 24 * time.Hour
	sig, _ := legalaid.Detect("我不想活了")
	report := func(who, text string) storage.LegalCase {
		t.Helper()
		c, _, err := f.db.ReportCrisis(ctx, storage.CrisisReport{OpenID: f.o(who), Signal: sig, Text: text}, memberAuditOf(who))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	move := func(number string, steps ...storage.LegalTransition) {
		t.Helper()
		for _, s := range steps {
			s.Role = legalaid.RoleLegal
			if _, err := f.db.TransitionLegalCase(ctx, number, s, officerAudit); err != nil {
				t.Fatal(err)
			}
		}
	}
	closeIt := []storage.LegalTransition{{To: legalaid.Accepted}, {To: legalaid.Contacted}, {To: legalaid.InProgress},
		{To: legalaid.Closed, Details: legalaid.Details{Outcome: legalaid.Advised}}}
	// A crisis case, then a request with a crisis flagged on it (an urgent event).
	old := report("oOld", "我不想活了")
	move(old.Number, closeIt...)
	req, _, err := f.db.SubmitLegalCase(ctx, legalInput(f.o("oReq")), memberAuditOf("oReq"))
	if err != nil {
		t.Fatal(err)
	}
	report("oReq", "再不给钱我就从楼上跳下去")
	move(req.Number, closeIt...)
	reopened := report("oReopen", "活不下去了")
	move(reopened.Number, closeIt...)
	open := report("oOpen", "我想死")

	f.clock.Add(keep - time.Hour)
	if got, err := f.db.PurgeCrisisTexts(ctx, keep, 0); err != nil || len(got) != 0 {
		t.Fatalf("purged before the retention: %v %v", got, err)
	}
	move(reopened.Number, storage.LegalTransition{To: legalaid.InProgress, Details: legalaid.Details{Reason: "当事人又来求助"}})
	f.clock.Add(2 * time.Hour)
	got, err := f.db.PurgeCrisisTexts(ctx, keep, 0)
	if err != nil || !slices.Equal(got, []string{old.Number, req.Number}) {
		t.Fatalf("purged %v %v", got, err)
	}
	for _, n := range []string{old.Number, req.Number} {
		c, err := f.db.LegalCaseByNumber(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if c.CrisisText != "" || !c.Urgent || c.CrisisCategory != "self_harm" {
			t.Fatalf("after the purge %s: %q urgent=%v %q", n, c.CrisisText, c.Urgent, c.CrisisCategory)
		}
		for _, e := range c.Events {
			if e.Kind == storage.LegalEventUrgent && e.Text != "" {
				t.Fatalf("urgent event text kept: %+v", e)
			}
		}
		// The request itself (its description) is kept.
		if n == req.Number && c.Description == "" {
			t.Fatal("the request's description was purged")
		}
		audit, err := f.db.AuditEntries(ctx, "legal:"+n, 20)
		if err != nil || !slices.ContainsFunc(audit, func(a storage.AuditEntry) bool {
			return a.Action == "legal.crisis.purge" && a.Actor == "system" && strings.Contains(a.Detail, "结案满 180 天")
		}) {
			t.Fatalf("no audit of the purge of %s: %+v %v", n, audit, err)
		}
	}
	for _, n := range []string{reopened.Number, open.Number} {
		if c, _ := f.db.LegalCaseByNumber(ctx, n); c.CrisisText == "" {
			t.Fatalf("%s purged while open", n)
		}
	}
	// A second run finds nothing.
	if got, err := f.db.PurgeCrisisTexts(ctx, keep, 0); err != nil || len(got) != 0 {
		t.Fatalf("purged twice: %v %v", got, err)
	}
}

// legalYearlyFigures: a year's cases by type, outcome and unit, and its ratings per officer
// and month, for the county and for one unit. It runs in 2031, a year no other subtest
// reaches.
func legalYearlyFigures(t *testing.T, f *legalFixture) {
	ctx := t.Context()
	f.clock.Add(time.Date(2031, 1, 10, 10, 0, 0, 0, cst).Sub(f.clock.Now()))
	if _, err := f.db.CreateOfficer(ctx, storage.NewOfficer{Username: f.o("lawyer"), DisplayName: "刘律师", PasswordHash: "x",
		Roles: []string{"legal"}}, officerAudit); err != nil {
		t.Fatal(err)
	}
	closeAs := func(number string, o legalaid.Outcome) {
		t.Helper()
		for _, s := range []storage.LegalTransition{{To: legalaid.Accepted}, {To: legalaid.Contacted}, {To: legalaid.InProgress},
			{To: legalaid.Closed, Details: legalaid.Details{Outcome: o}}} {
			s.Role = legalaid.RoleLegal
			if _, err := f.db.TransitionLegalCase(ctx, number, s, officerAudit); err != nil {
				t.Fatal(err)
			}
		}
	}
	in := legalInput(f.o("oMember"))
	in.MemberID = f.member.ID
	member, _, err := f.db.SubmitLegalCase(ctx, in, memberAuditOf("oMember"))
	if err != nil {
		t.Fatal(err)
	}
	in = legalInput(f.o("oMigrant"))
	in.Type = legalaid.LaborContract
	migrant, _, err := f.db.SubmitLegalCase(ctx, in, memberAuditOf("oMigrant"))
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := legalaid.Detect("我不想活了")
	if _, _, err := f.db.ReportCrisis(ctx, storage.CrisisReport{OpenID: f.o("oCrisis"), Signal: sig, Text: "我不想活了"}, memberAuditOf("oCrisis")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.AssignLegalCase(ctx, member.Number, f.o("lawyer"), 0, officerAudit); err != nil {
		t.Fatal(err)
	}
	closeAs(member.Number, legalaid.Mediated)
	if err := f.db.RateLegalCase(ctx, f.o("oMember"), member.Number, 5, memberAuditOf("oMember")); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(60 * 24 * time.Hour) // March
	closeAs(migrant.Number, legalaid.Advised)
	if err := f.db.RateLegalCase(ctx, f.o("oMigrant"), migrant.Number, 2, memberAuditOf("oMigrant")); err != nil {
		t.Fatal(err)
	}

	y, err := f.db.LegalYearly(ctx, 2031, 0)
	if err != nil {
		t.Fatal(err)
	}
	tally := func(ts []storage.LegalTally) map[string]int {
		m := map[string]int{}
		for _, t := range ts {
			if t.Count > 0 {
				m[t.Label] = t.Count
			}
		}
		return m
	}
	if y.Cases != 3 || y.Urgent != 1 || y.NonMember != 2 || y.Closed != 2 || len(y.ByType) != 7 || len(y.ByOutcome) != 6 {
		t.Fatalf("yearly %+v", y)
	}
	if got := fmt.Sprint(tally(y.ByType), tally(y.ByOutcome), tally(y.ByUnit)); got !=
		"map[劳动合同:1 拖欠工资:1 紧急求助:1] map[已咨询:1 未结案:1 调解成功:1] map[第1基层工会:1 非会员:2]" {
		t.Fatalf("tallies %s", got)
	}
	if y.Ratings.Count != 2 || y.Ratings.Average() != 3.5 || y.ByMonth[0].Count != 1 || y.ByMonth[0].Sum != 5 ||
		y.ByMonth[2].Count != 1 || y.ByMonth[2].Average() != 2 || y.ByMonth[1].Count != 0 || y.ByMonth[2].Label != "3月" {
		t.Fatalf("ratings %+v by month %+v", y.Ratings, y.ByMonth)
	}
	if len(y.ByOfficer) != 2 || y.ByOfficer[0].Label != "未分派" || y.ByOfficer[0].Sum != 2 ||
		y.ByOfficer[1].Label != "刘律师" || y.ByOfficer[1].Key != f.o("lawyer") || y.ByOfficer[1].Average() != 5 {
		t.Fatalf("by officer %+v", y.ByOfficer)
	}
	// A unit's officer: only the unit's members' cases and ratings.
	u, err := f.db.LegalYearly(ctx, 2031, f.member.UnitID)
	if err != nil || u.Cases != 1 || u.NonMember != 0 || u.Ratings.Count != 1 || len(u.ByUnit) != 1 || len(u.ByOfficer) != 1 {
		t.Fatalf("unit's yearly %+v %v", u, err)
	}
	if e, err := f.db.LegalYearly(ctx, 2032, 0); err != nil || e.Cases != 0 || e.Ratings.Count != 0 || len(e.ByMonth) != 12 {
		t.Fatalf("empty year %+v %v", e, err)
	}
}
