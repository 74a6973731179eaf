package storage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"unionbot/claims"
	"unionbot/internal/testclock"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// claimsFixture is a database with members rec(1) (第1基层工会), rec(2) (第2基层工会) and
// rec(4) (第1基层工会), all enrolled for 2025 and 2026, on a clock standing at
// 2026-11-24 10:00 in China.
type claimsFixture struct {
	db    *storage.DB
	clock *testclock.Clock
	m     map[int]storage.Member
}

var nov24 = time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC) // 10:00 CST

func newClaimsFixture(t *testing.T, db *storage.DB) *claimsFixture {
	t.Helper()
	f := &claimsFixture{clock: testclock.New(nov24), m: map[int]storage.Member{}}
	f.db = db.WithClock(f.clock.Now)
	upsert(t, f.db, rec(1), rec(2), rec(4))
	for _, i := range []int{1, 2, 4} {
		f.m[i] = memberByNo(t, f.db, rec(i).MemberNo)
	}
	return f
}

// photo stores a medium for member i and returns its id.
func (f *claimsFixture) photo(t *testing.T, i int, content string) int64 {
	t.Helper()
	id, _, err := f.db.SaveMedia(t.Context(), openIDOf(i), "image/jpeg", []byte(content), f.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatalf("SaveMedia: %v", err)
	}
	return id
}

func openIDOf(i int) string { return fmt.Sprintf("oid-%d", i) }

func (f *claimsFixture) input(t *testing.T, i int, admitted string, invoice string) storage.ClaimInput {
	t.Helper()
	adm, _ := time.Parse(time.DateOnly, admitted)
	return storage.ClaimInput{
		MemberID: f.m[i].ID, Plan: claims.Hospital, Hospital: "旗人民医院",
		AdmittedOn: adm, DischargedOn: adm.AddDate(0, 0, 10), Diagnosis: "急性阑尾炎",
		TotalCost: claims.Yuan(10000), InsurancePaid: claims.Yuan(4000), OutOfPocket: claims.Yuan(6000),
		BankName: "农业银行", BankCard: "6228 4800 1234 5678 901",
		Attachments: []storage.AttachmentInput{
			{Kind: claims.DocInvoice, MediaID: f.photo(t, i, invoice)},
			{Kind: claims.DocIDCard, MediaID: f.photo(t, i, "id card of "+openIDOf(i))},
		},
		MediaOwner: openIDOf(i),
	}
}

func memberAudit(i int) storage.AuditEntry { return storage.AuditEntry{Actor: "member:" + openIDOf(i)} }

func (f *claimsFixture) submit(t *testing.T, in storage.ClaimInput) storage.Claim {
	t.Helper()
	res, err := f.db.SubmitClaim(t.Context(), in, storage.AuditEntry{Actor: "member:test"})
	if err != nil {
		t.Fatalf("SubmitClaim: %v", err)
	}
	if !res.Created {
		t.Fatalf("SubmitClaim: not created")
	}
	return res.Claim
}

func (f *claimsFixture) move(t *testing.T, number string, to claims.Status, role claims.Role, version int, d claims.Details) storage.Claim {
	t.Helper()
	c, err := f.db.TransitionClaim(t.Context(), number, storage.TransitionRequest{To: to, Version: version, Role: role, Details: d},
		storage.AuditEntry{Actor: "officer:" + string(role)})
	if err != nil {
		t.Fatalf("%s → %s as %s: %v", number, to, role, err)
	}
	return c
}

func TestSubmitClaim(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newClaimsFixture(t, db)
		ctx := t.Context()
		in := f.input(t, 1, "2026-11-01", "invoice A")
		c := f.submit(t, in)
		if c.Number != "HZ20261124-0001" || c.Status != claims.Submitted || c.Version != 1 {
			t.Errorf("claim: %s %s v%d", c.Number, c.Status, c.Version)
		}
		// rec(1) joined 2020-03-02: 6 full years on 2026-11-01 → 20 元 a day. Example rules,
		// 6000 out of pocket: 2500 + 1000 × 60% = 3100; + 10 days × 20 = 3300.
		if c.Estimate.Amount != claims.Yuan(3300) || c.RulesVersion != 0 || c.Estimate.Days != 10 {
			t.Errorf("estimate: %+v (rules %d)", c.Estimate, c.RulesVersion)
		}
		if c.UnitName != "第1基层工会" || c.MemberNo != rec(1).MemberNo || c.MemberName != rec(1).Name || c.Diagnosis != "急性阑尾炎" {
			t.Errorf("claim facts: %+v", c)
		}
		if c.BankCardMasked != "**** **** **** 8901" || c.OutOfPocket != claims.Yuan(6000) || c.TotalCost != claims.Yuan(10000) {
			t.Errorf("money facts: %q %v %v", c.BankCardMasked, c.OutOfPocket, c.TotalCost)
		}
		if len(c.Attachments) != 2 || c.Attachments[0].Kind != claims.DocInvoice || len(c.History) != 1 || c.History[0].To != claims.Submitted {
			t.Errorf("attachments %+v history %+v", c.Attachments, c.History)
		}
		if card, err := db.ClaimBankCard(ctx, c.Number); err != nil || card != "6228480012345678901" {
			t.Errorf("ClaimBankCard: %q %v", card, err)
		}
		// The media are kept, the diagnosis and card are not in clear on disk.
		raw, err := storage.RawRows(ctx, db, `SELECT diagnosis_enc, bank_card_enc FROM claims`)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(fmt.Sprint(raw), "阑尾炎") || strings.Contains(fmt.Sprint(raw), "5678") {
			t.Errorf("sensitive data in clear: %v", raw)
		}
		for _, a := range in.Attachments {
			m, err := db.MediaByID(ctx, a.MediaID)
			if err != nil || !m.ExpiresAt.IsZero() {
				t.Errorf("medium %d: kept? expires %v, %v", a.MediaID, m.ExpiresAt, err)
			}
		}
		// Audit and the member's confirmation committed with it.
		if es, err := db.AuditEntries(ctx, "claim:"+c.Number, 0); err != nil || len(es) != 1 || es[0].Action != "claim.submit" {
			t.Errorf("audit: %+v %v", es, err)
		}
		row, err := db.OutboxByKey(ctx, "claim:"+c.Number+":v1")
		if err != nil || row.MemberID != f.m[1].ID || !strings.Contains(row.Content.Text, c.Number) || row.Kind != storage.ClaimNoticeKind {
			t.Errorf("outbox: %+v %v", row, err)
		}

		// The next claim of the day takes the next number; past midnight in China the count restarts.
		c2 := f.submit(t, f.input(t, 2, "2026-11-02", "invoice B"))
		f.clock.Set(time.Date(2026, 11, 24, 16, 30, 0, 0, time.UTC)) // 00:30 on the 25th in China
		c3 := f.submit(t, f.input(t, 4, "2026-11-03", "invoice C"))
		if c2.Number != "HZ20261124-0002" || c3.Number != "HZ20261125-0001" {
			t.Errorf("numbers: %s %s", c2.Number, c3.Number)
		}

		// Invalid input and a medium that does not exist change nothing.
		bad := f.input(t, 1, "2026-10-01", "x")
		bad.OutOfPocket = bad.TotalCost + 1
		if _, err := db.SubmitClaim(ctx, bad, memberAudit(1)); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("out of pocket above total: %v", err)
		}
		bad = f.input(t, 1, "2026-10-01", "x")
		bad.Attachments = append(bad.Attachments, storage.AttachmentInput{Kind: claims.DocSettlement, MediaID: 99999})
		if _, err := f.db.SubmitClaim(ctx, bad, memberAudit(1)); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("missing medium: %v", err)
		}
		if list, _, err := db.ListClaims(ctx, storage.ClaimFilter{}); err != nil || len(list) != 3 {
			t.Errorf("after refusals: %d claims, %v", len(list), err)
		}
	})
}

func TestSubmitClaimIdempotentAndDuplicates(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newClaimsFixture(t, db)
		ctx := t.Context()
		in := f.input(t, 1, "2026-11-01", "invoice A")
		in.SubmitToken = "delivery:oid-1:12345"
		// Three retries of 确认 at once: one claim.
		var wg sync.WaitGroup
		results := make([]storage.SubmitResult, 3)
		errs := make([]error, 3)
		for i := range results {
			wg.Go(func() { results[i], errs[i] = f.db.SubmitClaim(ctx, in, memberAudit(1)) })
		}
		wg.Wait()
		created := 0
		for i := range results {
			if errs[i] != nil {
				t.Fatalf("retry %d: %v", i, errs[i])
			}
			if results[i].Created {
				created++
			}
			if results[i].Claim.Number != "HZ20261124-0001" {
				t.Errorf("retry %d: %s", i, results[i].Claim.Number)
			}
		}
		if created != 1 {
			t.Errorf("created %d times", created)
		}
		// Same member, plan and admission date from another submission: refused, naming the first.
		again := f.input(t, 1, "2026-11-01", "invoice A2")
		_, err := f.db.SubmitClaim(ctx, again, memberAudit(1))
		var dup *storage.DuplicateClaimError
		if !errors.As(err, &dup) || dup.Number != "HZ20261124-0001" || !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("duplicate: %v", err)
		}
		// Another plan on that date is another claim.
		other := f.input(t, 1, "2026-11-01", "invoice A3")
		other.Plan = claims.Accident
		f.submit(t, other)
		// Once the first is withdrawn, the member may file again.
		if _, err := f.db.TransitionClaim(ctx, "HZ20261124-0001", storage.TransitionRequest{To: claims.Withdrawn, Role: claims.RoleMember, MemberID: f.m[1].ID}, memberAudit(1)); err != nil {
			t.Fatal(err)
		}
		refiled := f.submit(t, f.input(t, 1, "2026-11-01", "invoice A4"))
		if refiled.Number != "HZ20261124-0003" {
			t.Errorf("refiled: %s", refiled.Number)
		}
		// An identical invoice in another member's claim is flagged on both, not refused.
		copyCat := f.submit(t, f.input(t, 2, "2026-11-05", "invoice A4"))
		if copyCat.SameInvoice == nil || copyCat.SameInvoice[0] != refiled.Number {
			t.Errorf("same invoice on the copy: %v", copyCat.SameInvoice)
		}
		first, err := db.ClaimByNumber(ctx, refiled.Number)
		if err != nil || len(first.SameInvoice) != 1 || first.SameInvoice[0] != copyCat.Number {
			t.Errorf("same invoice on the first: %v %v", first.SameInvoice, err)
		}
		// The same ID card photo in two claims of one member is no invoice: not flagged.
		if c, _ := db.ClaimByNumber(ctx, "HZ20261124-0002"); len(c.SameInvoice) != 0 {
			t.Errorf("ID card flagged: %v", c.SameInvoice)
		}
	})
}

func TestTransitionClaim(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newClaimsFixture(t, db)
		ctx := t.Context()
		n := f.submit(t, f.input(t, 1, "2026-11-01", "inv")).Number

		try := func(to claims.Status, role claims.Role, version int, d claims.Details) error {
			_, err := f.db.TransitionClaim(ctx, n, storage.TransitionRequest{To: to, Version: version, Role: role, Details: d}, storage.AuditEntry{Actor: "officer:x"})
			return err
		}
		if err := try(claims.Approved, claims.RoleReviewer, 1, claims.Details{Amount: 1}); !errors.Is(err, claims.ErrIllegal) {
			t.Errorf("submitted → approved: %v", err)
		}
		if err := try(claims.Reviewing, claims.RoleFinance, 1, claims.Details{}); !errors.Is(err, claims.ErrForbidden) {
			t.Errorf("finance starts review: %v", err)
		}
		// Someone else's withdrawal attempt: not found.
		if _, err := f.db.TransitionClaim(ctx, n, storage.TransitionRequest{To: claims.Withdrawn, Role: claims.RoleMember, MemberID: f.m[2].ID}, memberAudit(2)); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("another member withdraws: %v", err)
		}
		f.move(t, n, claims.Reviewing, claims.RoleReviewer, 1, claims.Details{})
		if err := try(claims.Withdrawn, claims.RoleMember, 0, claims.Details{}); !errors.Is(err, claims.ErrIllegal) {
			t.Errorf("withdraw under review: %v", err)
		}
		if err := try(claims.NeedMore, claims.RoleReviewer, 1, claims.Details{Missing: "出院小结"}); !errors.Is(err, storage.ErrStale) || !errors.Is(err, storage.ErrConflict) {
			t.Errorf("stale version: %v", err)
		}
		if err := try(claims.NeedMore, claims.RoleReviewer, 2, claims.Details{}); !errors.Is(err, claims.ErrDetails) {
			t.Errorf("need_more without what: %v", err)
		}
		c := f.move(t, n, claims.NeedMore, claims.RoleReviewer, 2, claims.Details{Missing: "出院小结"})
		if c.Missing != "出院小结" || c.Version != 3 {
			t.Errorf("need_more: %q v%d", c.Missing, c.Version)
		}
		// The member sends the photos and 好了.
		if err := f.db.AddClaimAttachments(ctx, n, f.m[1].ID, openIDOf(1), []storage.AttachmentInput{{Kind: claims.DocDischargeSummary, MediaID: f.photo(t, 1, "summary")}}, memberAudit(1)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.TransitionClaim(ctx, n, storage.TransitionRequest{To: claims.Reviewing, Role: claims.RoleMember, MemberID: f.m[1].ID}, memberAudit(1)); err != nil {
			t.Fatal(err)
		}
		c = f.move(t, n, claims.Approved, claims.RoleReviewer, 4, claims.Details{Amount: claims.Yuan(3000)})
		if c.ApprovedAmount != claims.Yuan(3000) || c.Missing != "" {
			t.Errorf("approved: %v %q", c.ApprovedAmount, c.Missing)
		}
		if err := try(claims.Paid, claims.RoleReviewer, 5, claims.Details{PaymentRef: "B1"}); !errors.Is(err, claims.ErrForbidden) {
			t.Errorf("reviewer pays: %v", err)
		}
		f.move(t, n, claims.PaymentFailed, claims.RoleFinance, 5, claims.Details{Reason: "户名不符"})
		if _, err := f.db.TransitionClaim(ctx, n, storage.TransitionRequest{To: claims.Approved, Role: claims.RoleMember, MemberID: f.m[1].ID}, memberAudit(1)); err != nil {
			t.Fatal(err)
		}
		c = f.move(t, n, claims.Paid, claims.RoleFinance, 7, claims.Details{PaymentRef: "B20261201-9"})
		if c.ApprovedAmount != claims.Yuan(3000) || c.PaymentRef != "B20261201-9" || c.Reason != "" {
			t.Errorf("paid: %v %q %q", c.ApprovedAmount, c.PaymentRef, c.Reason)
		}
		got, err := db.ClaimByNumber(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		var steps []string
		for _, h := range got.History {
			steps = append(steps, string(h.To))
		}
		if want := "submitted reviewing need_more reviewing approved payment_failed approved paid"; strings.Join(steps, " ") != want {
			t.Errorf("history: %v", steps)
		}
		if got.History[4].Amount != claims.Yuan(3000) || got.History[5].Reason != "户名不符" || got.History[2].Missing != "出院小结" {
			t.Errorf("history details: %+v", got.History)
		}
		if len(got.Attachments) != 3 {
			t.Errorf("attachments: %d", len(got.Attachments))
		}
		// One message per step, and one audit row.
		for v := 1; v <= 8; v++ {
			if _, err := db.OutboxByKey(ctx, fmt.Sprintf("claim:%s:v%d", n, v)); err != nil {
				t.Errorf("outbox v%d: %v", v, err)
			}
		}
		if es, _ := db.AuditEntries(ctx, "claim:"+n, 0); len(es) != 9 { // submit, 7 transitions, attach
			t.Errorf("audit rows: %d", len(es))
		}
		if err := try(claims.Reviewing, claims.RoleAdmin, 8, claims.Details{}); !errors.Is(err, claims.ErrIllegal) {
			t.Errorf("paid is final: %v", err)
		}
		if err := f.db.AddClaimAttachments(ctx, n, 0, "", []storage.AttachmentInput{{Kind: claims.DocOther, MediaID: f.photo(t, 1, "late")}}, memberAudit(1)); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("attach to a paid claim: %v", err)
		}
		if _, err := f.db.TransitionClaim(ctx, "HZ19990101-0001", storage.TransitionRequest{To: claims.Reviewing, Role: claims.RoleAdmin}, storage.AuditEntry{Actor: "x"}); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("unknown claim: %v", err)
		}
	})
}

func TestConcurrentApprovals(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newClaimsFixture(t, db)
		n := f.submit(t, f.input(t, 1, "2026-11-01", "inv")).Number
		f.move(t, n, claims.Reviewing, claims.RoleReviewer, 1, claims.Details{})
		for round := range 5 {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range errs {
				wg.Go(func() {
					_, errs[i] = f.db.TransitionClaim(context.Background(), n, storage.TransitionRequest{To: claims.Approved, Version: 2,
						Role: claims.RoleReviewer, Details: claims.Details{Amount: claims.Yuan(100 + int64(i))}}, storage.AuditEntry{Actor: fmt.Sprint("officer:r", i)})
				})
			}
			wg.Wait()
			ok, stale := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, storage.ErrStale):
					stale++
				default:
					t.Errorf("round %d: %v", round, err)
				}
			}
			if ok != 1 || stale != 1 {
				t.Fatalf("round %d: %d won, %d stale", round, ok, stale)
			}
			if round < 4 { // a fresh claim in review for the next round
				n = f.submit(t, f.input(t, 1, fmt.Sprintf("2026-10-%02d", round+1), "inv")).Number
				f.move(t, n, claims.Reviewing, claims.RoleReviewer, 1, claims.Details{})
			}
		}
	})
}

func TestClaimRules(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newClaimsFixture(t, db)
		ctx := t.Context()
		rs, err := db.ClaimRules(ctx)
		if err != nil || !rs.Example() || rs.Version != 0 || rs.Rules.MinPerStay != claims.Yuan(200) {
			t.Fatalf("initial rules: %+v %v", rs, err)
		}
		own := claims.ExampleRules()
		own.Bands = []claims.Band{{UpTo: 0, RatioPct: 80}}
		own.PerYearCap = claims.Yuan(5000)
		audit := storage.AuditEntry{Actor: "officer:admin"}
		saved, err := f.db.SaveClaimRules(ctx, own, 0, "admin", audit)
		if err != nil || saved.Version != 1 || saved.ConfirmedBy != "admin" {
			t.Fatalf("save: %+v %v", saved, err)
		}
		if _, err := f.db.SaveClaimRules(ctx, own, 0, "admin2", audit); !errors.Is(err, storage.ErrStale) {
			t.Errorf("stale save: %v", err)
		}
		bad := own
		bad.Bands = nil
		var re *claims.RulesError
		if _, err := f.db.SaveClaimRules(ctx, bad, 1, "admin", audit); !errors.As(err, &re) {
			t.Errorf("invalid rules: %v", err)
		}
		rs, err = db.ClaimRules(ctx)
		if err != nil || rs.Example() || rs.Version != 1 || rs.Rules.Bands[0].RatioPct != 80 {
			t.Fatalf("rules now: %+v %v", rs, err)
		}
		// Claims record the version; an approved claim counts against the yearly cap of the next.
		// 6000 × 80% = 4800 + 10 days × 20 = 5000: exactly the cap.
		c := f.submit(t, f.input(t, 1, "2026-11-01", "inv1"))
		if c.RulesVersion != 1 || c.Estimate.Amount != claims.Yuan(5000) || c.Estimate.Capped != "" {
			t.Errorf("first claim: v%d %+v", c.RulesVersion, c.Estimate)
		}
		f.move(t, c.Number, claims.Reviewing, claims.RoleReviewer, 1, claims.Details{})
		f.move(t, c.Number, claims.Approved, claims.RoleReviewer, 2, claims.Details{Amount: claims.Yuan(4000)})
		est, rs2, err := f.db.EstimateClaim(ctx, f.m[1].ID, claims.Case{Plan: claims.OutpatientSpecial, AdmittedOn: day("2026-11-10"), DischargedOn: day("2026-11-10"), OutOfPocket: claims.Yuan(2000)})
		if err != nil || rs2.Version != 1 || est.Amount != claims.Yuan(1000) || est.Capped != claims.CapPerYear {
			t.Errorf("estimate against the yearly cap: %+v %v", est, err)
		}
		// An admission outside every enrolment is not covered.
		est, _, err = f.db.EstimateClaim(ctx, f.m[1].ID, claims.Case{Plan: claims.Hospital, AdmittedOn: day("2024-05-01"), DischargedOn: day("2024-05-03"), OutOfPocket: 100})
		if err != nil || est.Refusal != claims.RefusedNotCovered {
			t.Errorf("not covered: %+v %v", est, err)
		}
	})
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCorrectClaimCard(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newClaimsFixture(t, db)
		ctx := t.Context()
		n := f.submit(t, f.input(t, 1, "2026-11-01", "inv")).Number
		if _, err := f.db.CorrectClaimCard(ctx, n, f.m[1].ID, "工商银行", "6222020000000000", memberAudit(1)); !errors.Is(err, claims.ErrIllegal) {
			t.Errorf("correct before a failed payment: %v", err)
		}
		f.move(t, n, claims.Reviewing, claims.RoleReviewer, 1, claims.Details{})
		f.move(t, n, claims.Approved, claims.RoleReviewer, 2, claims.Details{Amount: claims.Yuan(500)})
		f.move(t, n, claims.PaymentFailed, claims.RoleFinance, 3, claims.Details{Reason: "户名不符"})
		if _, err := f.db.CorrectClaimCard(ctx, n, f.m[2].ID, "工商银行", "6222020000000000", memberAudit(2)); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("another member corrects: %v", err)
		}
		c, err := f.db.CorrectClaimCard(ctx, n, f.m[1].ID, "工商银行", "6222 0200 0000 0001", memberAudit(1))
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != claims.Approved || c.Version != 5 || c.BankCardMasked != "**** **** **** 0001" || c.BankName != "工商银行" || c.Reason != "" || c.ApprovedAmount != claims.Yuan(500) {
			t.Errorf("corrected: %+v", c)
		}
		if card, _ := db.ClaimBankCard(ctx, n); card != "6222020000000001" {
			t.Errorf("card: %s", card)
		}
		if row, err := db.OutboxByKey(ctx, "claim:"+n+":v5"); err != nil || !strings.Contains(row.Content.Text, "银行卡信息已更正") {
			t.Errorf("notice: %+v %v", row, err)
		}
		f.move(t, n, claims.Paid, claims.RoleFinance, 5, claims.Details{PaymentRef: "B2"})
	})
}
