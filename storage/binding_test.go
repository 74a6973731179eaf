package storage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"unionbot/internal/testclock"
	"unionbot/pii"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// by is the audit input of changes made in these tests.
var by = storage.AuditEntry{Actor: "member:test", RequestID: "req-1", ClientAddr: "203.0.113.9"}

func TestBindAndUnbind(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		wantResults(t, upsert(t, db, rec(1), rec(2)), storage.Inserted, storage.Inserted)
		m1, m2 := memberByNo(t, db, rec(1).MemberNo), memberByNo(t, db, rec(2).MemberNo)

		if err := db.BindMember(ctx, m1.ID, "oOpenID_One", by); err != nil {
			t.Fatalf("bind: %v", err)
		}
		if err := db.BindMember(ctx, m1.ID, "oOpenID_One", by); err != nil {
			t.Errorf("bind same pair again: got %v, want nil", err)
		}
		cases := []struct {
			name   string
			member int64
			openID string
			want   error
		}{
			{"member bound to another openid", m1.ID, "oOpenID_Two", storage.ErrConflict},
			{"openid bound to another member", m2.ID, "oOpenID_One", storage.ErrConflict},
			{"openid differs only in case", m2.ID, "oopenid_one", nil},
			{"no such member", 999999, "oOpenID_Three", storage.ErrNotFound},
			{"empty openid", m2.ID, "", storage.ErrInvalid},
		}
		for _, tc := range cases {
			err := db.BindMember(ctx, tc.member, tc.openID, by)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
			}
		}

		got, err := db.MemberByOpenID(ctx, "oOpenID_One")
		if err != nil || got.ID != m1.ID || got.OpenID != "oOpenID_One" || got.BoundAt.IsZero() {
			t.Fatalf("MemberByOpenID: got id %d openid %q bound %v, %v; want %d bound", got.ID, got.OpenID, got.BoundAt, err, m1.ID)
		}

		// A roster re-import that changes the member keeps the binding.
		changed := rec(1)
		changed.Phone = "13500000000"
		wantResults(t, upsert(t, db, changed), storage.Updated)
		if got, err := db.MemberByOpenID(ctx, "oOpenID_One"); err != nil || got.Phone != changed.Phone {
			t.Errorf("after re-import: got %q, %v; want still bound with new phone", got.Phone, err)
		}

		un, err := db.UnbindMember(ctx, "oOpenID_One", by)
		if err != nil || un.ID != m1.ID || un.OpenID != "" || un.Name != rec(1).Name {
			t.Errorf("UnbindMember: got id %d openid %q name %q, %v; want member %d unbound", un.ID, un.OpenID, un.Name, err, m1.ID)
		}
		if _, err := db.MemberByOpenID(ctx, "oOpenID_One"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("MemberByOpenID after unbind: got %v, want ErrNotFound", err)
		}
		if _, err := db.UnbindMember(ctx, "oOpenID_One", by); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("UnbindMember twice: got %v, want ErrNotFound", err)
		}
		if m := memberByNo(t, db, rec(1).MemberNo); m.OpenID != "" || !m.BoundAt.IsZero() {
			t.Errorf("unbound member still shows openid %q bound at %v", m.OpenID, m.BoundAt)
		}
		// Now the openid and the member are free again.
		if err := db.BindMember(ctx, m1.ID, "oOpenID_Two", by); err != nil {
			t.Errorf("rebind member to a new openid: %v", err)
		}
	})
}

func TestConcurrentBindSameOpenID(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		recs := []storage.MemberRecord{rec(1), rec(2), rec(3), rec(4)}
		upsert(t, db, recs...)
		var ids []int64
		for _, r := range recs {
			ids = append(ids, memberByNo(t, db, r.MemberNo).ID)
		}
		errs := make([]error, len(ids))
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() { errs[i] = db.BindMember(context.WithoutCancel(t.Context()), id, "oRace", by) })
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, storage.ErrConflict):
				t.Errorf("bind %d: got %v, want nil or ErrConflict", i, err)
			}
		}
		if won != 1 {
			t.Errorf("%d binds of one openid succeeded, want exactly 1", won)
		}
	})
}

// BenchmarkUpsertMembers measures roster batches of 1,000 members as the importer sends
// them: "new" inserts fresh members each iteration, "unchanged" re-sends a stored batch.
// 100 iterations of "new" is the 100,000-member import (-benchtime=100x).
// A binding and its audit row commit together: the row carries who, the request and the
// before/after openid, and a bind whose audit row cannot be written does not happen.
func TestBindWritesAuditInSameTransaction(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		upsert(t, db, rec(1), rec(2))
		m1, m2 := memberByNo(t, db, rec(1).MemberNo), memberByNo(t, db, rec(2).MemberNo)

		if err := db.BindMember(ctx, m1.ID, "oAudit", by); err != nil {
			t.Fatalf("bind: %v", err)
		}
		// The same pair again (a retried delivery) writes no second row.
		if err := db.BindMember(ctx, m1.ID, "oAudit", by); err != nil {
			t.Fatalf("bind again: %v", err)
		}
		got, err := db.AuditEntries(ctx, fmt.Sprintf("member:%d", m1.ID), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("audit rows after bind and rebind: got %d (%+v), want 1", len(got), got)
		}
		e := got[0]
		if e.Action != "member.bind" || e.Actor != by.Actor || e.RequestID != by.RequestID || e.ClientAddr != by.ClientAddr ||
			e.Before["open_id"] != "" || e.After["open_id"] != "oAudit" {
			t.Errorf("audit row: got %+v", e)
		}
		if strings.Contains(e.Detail, rec(1).Name) || !strings.Contains(e.Detail, pii.MaskMemberNo(rec(1).MemberNo)) {
			t.Errorf("audit detail %q: want the member masked", e.Detail)
		}

		// An audit row that cannot be written (no actor) takes the binding down with it.
		if err := db.BindMember(ctx, m2.ID, "oNoAudit", storage.AuditEntry{}); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("bind without an auditable actor: got %v, want ErrInvalid", err)
		}
		if m := memberByNo(t, db, rec(2).MemberNo); m.OpenID != "" {
			t.Errorf("member bound to %q although its audit row failed", m.OpenID)
		}
		if _, err := db.UnbindMember(ctx, "oAudit", storage.AuditEntry{}); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("unbind without an auditable actor: got %v, want ErrInvalid", err)
		}
		if m := memberByNo(t, db, rec(1).MemberNo); m.OpenID != "oAudit" {
			t.Errorf("member unbound (openid %q) although its audit row failed", m.OpenID)
		}
	})
}

// clocked returns db with a test clock.
func clocked(db *storage.DB) (*storage.DB, *testclock.Clock) {
	c := testclock.New(time.Date(2026, 5, 3, 2, 0, 0, 0, time.UTC))
	return db.WithClock(c.Now), c
}

var testLimits = storage.BindingLimits{
	PerOpenID:     storage.BindingLimit{Max: 3, Window: time.Hour, Lockout: time.Hour},
	PerName:       storage.BindingLimit{Max: 10, Window: 24 * time.Hour, Lockout: 24 * time.Hour},
	PerOpenIDCode: storage.BindingLimit{Max: 2, Window: 24 * time.Hour, Lockout: 24 * time.Hour},
}

func TestBindingFailuresLockPerOpenID(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		db, clock := clocked(db)
		ctx := t.Context()
		for want := 2; want >= 1; want-- {
			f, err := db.RecordBindingFailure(ctx, "oGuess", fmt.Sprintf("名字%d", want), testLimits, by)
			if err != nil || f.OpenIDLeft != want || f.Lock.Locked() {
				t.Fatalf("failure: got %+v, %v; want %d left, unlocked", f, err, want)
			}
		}
		f, err := db.RecordBindingFailure(ctx, "oGuess", "名字0", testLimits, by)
		if err != nil || f.OpenIDLeft != 0 || !f.Lock.OpenIDUntil.Equal(clock.Now().Add(time.Hour)) || !f.Lock.NameUntil.IsZero() {
			t.Fatalf("third failure: got %+v, %v; want the openid locked for 1h", f, err)
		}
		if l, err := db.BindingLockOf(ctx, "oGuess", ""); err != nil || l.OpenIDUntil.IsZero() {
			t.Errorf("lock of openid: got %+v, %v; want locked", l, err)
		}
		if l, err := db.BindingLockOf(ctx, "oOther", "名字0"); err != nil || l.Locked() {
			t.Errorf("lock of another openid: got %+v, %v; want none", l, err)
		}
		audits, err := db.AuditEntries(ctx, "openid:oGuess", 10)
		if err != nil || len(audits) != 1 || audits[0].Action != "binding.lock" || audits[0].Actor != by.Actor {
			t.Errorf("audit of the lock: got %+v, %v", audits, err)
		}
		// The lock ends on its own, and the count starts afresh.
		clock.Add(time.Hour)
		if l, err := db.BindingLockOf(ctx, "oGuess", ""); err != nil || l.Locked() {
			t.Errorf("lock after it ran out: got %+v, %v; want none", l, err)
		}
		if f, err := db.RecordBindingFailure(ctx, "oGuess", "名字9", testLimits, by); err != nil || f.OpenIDLeft != 2 {
			t.Errorf("failure after the lock: got %+v, %v; want 2 left", f, err)
		}
		// Failures older than the window are forgotten.
		clock.Add(61 * time.Minute)
		if f, err := db.RecordBindingFailure(ctx, "oGuess", "名字9", testLimits, by); err != nil || f.OpenIDLeft != 2 {
			t.Errorf("failure after the window: got %+v, %v; want 2 left", f, err)
		}
	})
}

// Guesses at one name from many openids meet the per-name limit: at most 10 in 24 hours.
func TestBindingFailuresLockPerNameAcrossOpenIDs(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		db, clock := clocked(db)
		ctx := t.Context()
		var f storage.BindingFailure
		var err error
		for i := range 10 {
			// Spacing and dot look-alikes do not make another name.
			name := "阿依古丽·买买提"
			if i%2 == 1 {
				name = "阿依古丽 • 买买提"
			}
			if f, err = db.RecordBindingFailure(ctx, fmt.Sprintf("oAttacker%d", i), name, testLimits, by); err != nil {
				t.Fatal(err)
			}
			if i < 9 && (f.NameLeft != 9-i || f.Lock.Locked()) {
				t.Fatalf("failure %d: got %+v; want %d left for the name", i+1, f, 9-i)
			}
		}
		if !f.Lock.NameUntil.Equal(clock.Now().Add(24*time.Hour)) || !f.Lock.OpenIDUntil.IsZero() {
			t.Fatalf("tenth failure: got %+v; want the name locked for 24h, not the openid", f)
		}
		if l, err := db.BindingLockOf(ctx, "oNewcomer", "阿依古丽·买买提"); err != nil || l.NameUntil.IsZero() || !l.OpenIDUntil.IsZero() {
			t.Errorf("lock for a fresh openid on that name: got %+v, %v; want the name locked", l, err)
		}
		if l, err := db.BindingLockOf(ctx, "oNewcomer", "张三"); err != nil || l.Locked() {
			t.Errorf("lock for another name: got %+v, %v; want none", l, err)
		}
		clock.Add(24 * time.Hour)
		if l, err := db.BindingLockOf(ctx, "oNewcomer", "阿依古丽·买买提"); err != nil || l.Locked() {
			t.Errorf("name lock after 24h: got %+v, %v; want none", l, err)
		}
	})
}

// Concurrent failures from many openids at one name are all counted.
func TestBindingFailuresConcurrent(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		lim := testLimits
		lim.PerName.Max = 1000
		var wg sync.WaitGroup
		errs := make([]error, 20)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = db.RecordBindingFailure(context.WithoutCancel(t.Context()), fmt.Sprintf("o%d", i), "王五", lim, by)
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		f, err := db.RecordBindingFailure(t.Context(), "oLast", "王五", lim, by)
		if err != nil || f.NameLeft != 1000-21 {
			t.Errorf("after 20 concurrent failures and one more: got %+v, %v; want %d left", f, err, 1000-21)
		}
	})
}

// A lock is in the database: a new handle on the same file or database still sees it, as
// after a restart of the embedded mode or with Redis flushed.
func TestBindingLockSurvivesRestart(t *testing.T) {
	clock := testclock.New(time.Date(2026, 5, 3, 2, 0, 0, 0, time.UTC))
	check := func(t *testing.T, open func() *storage.DB) {
		first := open().WithClock(clock.Now)
		for range 3 {
			if _, err := first.RecordBindingFailure(t.Context(), "oRestart", "李四", testLimits, by); err != nil {
				t.Fatal(err)
			}
		}
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}
		second := open().WithClock(clock.Now)
		defer second.Close()
		l, err := second.BindingLockOf(t.Context(), "oRestart", "李四")
		if err != nil || !l.OpenIDUntil.Equal(clock.Now().Add(time.Hour)) {
			t.Errorf("lock after reopening: got %+v, %v; want the openid locked for 1h", l, err)
		}
	}
	t.Run("embedded", func(t *testing.T) {
		dir := t.TempDir()
		check(t, func() *storage.DB {
			db, err := storage.Open(t.Context(), storage.Options{DataDir: dir, Cipher: storagetest.TestCipher(t)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			return db
		})
	})
	t.Run("mysql", func(t *testing.T) {
		dsn := storagetest.MySQLDSN(t)
		check(t, func() *storage.DB {
			db, err := storage.Open(t.Context(), storage.Options{MySQLDSN: dsn, Cipher: storagetest.TestCipher(t)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			return db
		})
	})
}

func TestUnlockBinding(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		db, clock := clocked(db)
		ctx := t.Context()
		r := rec(7)
		upsert(t, db, r)
		for i := range 10 {
			if _, err := db.RecordBindingFailure(ctx, fmt.Sprintf("o%d", i), r.Name, testLimits, by); err != nil {
				t.Fatal(err)
			}
		}
		cli := storage.AuditEntry{Actor: "cli"}
		m, was, err := db.UnlockBinding(ctx, " "+r.MemberNo+" ", cli)
		if err != nil || m.MemberNo != r.MemberNo || !was.Equal(clock.Now().Add(24*time.Hour)) {
			t.Fatalf("unlock: got %s, %v, %v; want member %s, locked until +24h", m.MemberNo, was, err, r.MemberNo)
		}
		if l, err := db.BindingLockOf(ctx, "oAny", r.Name); err != nil || l.Locked() {
			t.Errorf("lock after unlock: got %+v, %v; want none", l, err)
		}
		// The count starts afresh too.
		if f, err := db.RecordBindingFailure(ctx, "oAny", r.Name, testLimits, by); err != nil || f.NameLeft != 9 {
			t.Errorf("failure after unlock: got %+v, %v; want 9 left", f, err)
		}
		audits, err := db.AuditEntries(ctx, fmt.Sprintf("member:%d", m.ID), 10)
		if err != nil || len(audits) != 1 || audits[0].Action != "binding.unlock" || audits[0].Actor != "cli" || audits[0].Before["locked_until"] == "" {
			t.Errorf("audit of unlock: got %+v, %v", audits, err)
		}
		if _, _, err := db.UnlockBinding(ctx, "NOPE", cli); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("unlock of an unknown member: got %v, want ErrNotFound", err)
		}
	})
}

func TestBindingCodes(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		db, clock := clocked(db)
		ctx := t.Context()
		a, b, gone := rec(1), rec(2), rec(3)
		gone.Status = storage.StatusTransferred
		upsert(t, db, a, b, gone)
		cli := storage.AuditEntry{Actor: "cli"}

		if _, err := db.IssueBindingCode(ctx, gone.MemberNo, 0, cli); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("code for a transferred member: got %v, want ErrInvalid", err)
		}
		if _, err := db.IssueBindingCode(ctx, "NOPE", 0, cli); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("code for an unknown member: got %v, want ErrNotFound", err)
		}
		first, err := db.IssueBindingCode(ctx, a.MemberNo, 0, cli)
		if err != nil {
			t.Fatal(err)
		}
		code, err := db.IssueBindingCode(ctx, a.MemberNo, 0, cli) // replaces the first
		if err != nil || len(code.Code) != 11 || !code.ExpiresAt.Equal(clock.Now().Add(24*time.Hour)) || code.Member.MemberNo != a.MemberNo {
			t.Fatalf("issue: got %+v, %v", code, err)
		}
		raw, err := storage.RawRows(ctx, db, `SELECT code_hash FROM binding_codes`)
		if err != nil || len(raw) != 1 || strings.Contains(raw[0][0], code.Code[:5]) {
			t.Errorf("stored codes: got %v, %v; want one, hashed", raw, err)
		}
		if _, err := db.RedeemBindingCode(ctx, "oMember", first.Code, testLimits, by); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("redeem a replaced code: got %v, want ErrNotFound", err)
		}

		// Self-service locks do not stop a code.
		for i := range 10 {
			if _, err := db.RecordBindingFailure(ctx, "oMember", a.Name, testLimits, storage.AuditEntry{Actor: fmt.Sprintf("member:%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		// Typed in lower case, with spaces, full-width: still the code.
		typed := " " + strings.ToLower(code.Code[:5]) + " " + pii.HalfWidth(code.Code[6:]) + " "
		m, err := db.RedeemBindingCode(ctx, "oMember", typed, testLimits, by)
		if err != nil || m.MemberNo != a.MemberNo || m.OpenID != "oMember" {
			t.Fatalf("redeem: got %s bound to %q, %v", m.MemberNo, m.OpenID, err)
		}
		audits, err := db.AuditEntries(ctx, fmt.Sprintf("member:%d", m.ID), 10)
		if err != nil || len(audits) != 3 || audits[0].Action != "member.bind.code" || audits[0].After["open_id"] != "oMember" ||
			audits[1].Action != "binding.code.issue" || strings.Contains(audits[1].Detail, code.Code) {
			t.Errorf("audit: got %+v, %v", audits, err)
		}
		// One use only.
		if _, err := db.RedeemBindingCode(ctx, "oSomeone", code.Code, testLimits, by); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("redeem a used code: got %v, want ErrNotFound", err)
		}

		// A code moves a binding another openid holds (the officer vouched for this person).
		if err := db.BindMember(ctx, memberByNo(t, db, b.MemberNo).ID, "oImpostor", by); err != nil {
			t.Fatal(err)
		}
		cb, err := db.IssueBindingCode(ctx, b.MemberNo, time.Hour, cli)
		if err != nil {
			t.Fatal(err)
		}
		// Not onto an openid bound to someone else, though; the code stays valid.
		if _, err := db.RedeemBindingCode(ctx, "oMember", cb.Code, testLimits, by); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("redeem onto an openid bound to another member: got %v, want ErrConflict", err)
		}
		if m, err := db.RedeemBindingCode(ctx, "oRealB", cb.Code, testLimits, by); err != nil || m.OpenID != "oRealB" {
			t.Errorf("redeem over another openid: got %q, %v", m.OpenID, err)
		}
		if audits, _ := db.AuditEntries(ctx, fmt.Sprintf("member:%d", memberByNo(t, db, b.MemberNo).ID), 1); len(audits) != 1 || audits[0].Before["open_id"] != "oImpostor" {
			t.Errorf("audit of the move: got %+v; want the old openid kept", audits)
		}

		// Expired codes do not bind.
		cc, err := db.IssueBindingCode(ctx, a.MemberNo, time.Hour, cli)
		if err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Hour)
		if _, err := db.RedeemBindingCode(ctx, "oLate", cc.Code, testLimits, by); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("redeem an expired code: got %v, want ErrNotFound", err)
		}
		// Wrong codes are counted per openid (2 here): then even a right one waits.
		cd, err := db.IssueBindingCode(ctx, a.MemberNo, 0, cli)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.RedeemBindingCode(ctx, "oLate", "AAAAA-AAAAA", testLimits, by); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("wrong code: got %v, want ErrNotFound", err)
		}
		if _, err := db.RedeemBindingCode(ctx, "oLate", cd.Code, testLimits, by); !errors.Is(err, storage.ErrLocked) {
			t.Errorf("right code after two wrong ones: got %v, want ErrLocked", err)
		}
		clock.Add(24 * time.Hour)
		cd, err = db.IssueBindingCode(ctx, a.MemberNo, 0, cli)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.RedeemBindingCode(ctx, "oLate", cd.Code, testLimits, by); err != nil {
			t.Errorf("right code after the code lock ran out: %v", err)
		}
	})
}
