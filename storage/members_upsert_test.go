package storage_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// The bind lookup finds a member whatever spacing and middle-dot look-alike the roster or
// the chat used for the name.
func TestBindLookupNormalisesName(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		a, b := rec(1), rec(2)
		a.Name = "王 五"
		b.Name = "阿依古丽•买买提"
		upsert(t, db, a, b)
		cases := []struct {
			rec  storage.MemberRecord
			name string
		}{
			{a, "王五"}, {a, "王\u3000五"}, {a, " 王 五 "},
			{b, "阿依古丽·买买提"}, {b, "阿依古丽・买买提"}, {b, "阿依古丽 . 买买提"}, {b, "阿依古丽•买买提"},
		}
		for _, c := range cases {
			ms, err := db.MembersByNameAndIDSuffix(t.Context(), c.name, c.rec.IDNumber[12:])
			if err != nil {
				t.Fatalf("MembersByNameAndIDSuffix(%q): %v", c.name, err)
			}
			if len(ms) != 1 || ms[0].MemberNo != c.rec.MemberNo {
				t.Errorf("MembersByNameAndIDSuffix(%q) = %d members, want %s", c.name, len(ms), c.rec.MemberNo)
			}
		}
		// The stored name stays as the roster wrote it.
		if got := memberByNo(t, db, a.MemberNo).Name; got != "王 五" {
			t.Errorf("stored name %q, want %q", got, "王 五")
		}
	})
}

// A re-import that puts another ID number behind a member number drops the WeChat binding
// of the previous person and audits it; an import that keeps the ID number keeps it.
func TestUpsertMembersIDChangeUnbinds(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		a, b := rec(1), rec(2)
		upsert(t, db, a, b)
		ma, mb := memberByNo(t, db, a.MemberNo), memberByNo(t, db, b.MemberNo)
		if err := db.BindMember(ctx, ma.ID, "oid-a"); err != nil {
			t.Fatalf("bind a: %v", err)
		}
		if err := db.BindMember(ctx, mb.ID, "oid-b"); err != nil {
			t.Fatalf("bind b: %v", err)
		}
		a2, b2 := a, b
		a2.IDNumber = "110101199001999999" // another person behind the same number
		b2.Phone = "13900000002"           // same person, new phone
		wantResults(t, upsert(t, db, a2, b2), storage.Updated, storage.Updated)

		got := memberByNo(t, db, a.MemberNo)
		if got.OpenID != "" || !got.BoundAt.IsZero() {
			t.Errorf("member with changed ID number: open_id %q bound_at %v, want unbound", got.OpenID, got.BoundAt)
		}
		if _, err := db.MemberByOpenID(ctx, "oid-a"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("MemberByOpenID(oid-a) err %v, want ErrNotFound", err)
		}
		if got := memberByNo(t, db, b.MemberNo); got.OpenID != "oid-b" || got.BoundAt.IsZero() {
			t.Errorf("member with same ID number: open_id %q bound_at %v, want still bound to oid-b", got.OpenID, got.BoundAt)
		}
		audits, err := db.AuditEntries(ctx, fmt.Sprintf("member:%d", ma.ID), 10)
		if err != nil {
			t.Fatalf("audit entries: %v", err)
		}
		if len(audits) != 1 || audits[0].Action != "member.unbind.id_changed" || audits[0].Actor != "import" {
			t.Fatalf("audit = %+v, want one member.unbind.id_changed by import", audits)
		}
		for _, raw := range []string{a.IDNumber, a2.IDNumber, a.MemberNo, a.Name} {
			if strings.Contains(audits[0].Detail, raw) {
				t.Errorf("audit detail %q holds raw %q", audits[0].Detail, raw)
			}
		}
		if other, _ := db.AuditEntries(ctx, fmt.Sprintf("member:%d", mb.ID), 10); len(other) != 0 {
			t.Errorf("audit for unchanged ID number: %+v, want none", other)
		}
		// The new person can bind the member now.
		if err := db.BindMember(ctx, ma.ID, "oid-new"); err != nil {
			t.Errorf("bind after ID change: %v", err)
		}
	})
}

// Keep flags leave the stored phone, join date, status and enrollment years of an existing
// member as they are, count an otherwise equal record as Unchanged, and mean none / the
// default for a new member.
func TestUpsertMembersKeepFields(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		full := rec(1)
		full.Status = storage.StatusTransferred
		upsert(t, db, full)
		before := memberByNo(t, db, full.MemberNo)
		enrollBefore, err := db.Enrollments(ctx, before.ID)
		if err != nil {
			t.Fatalf("enrollments: %v", err)
		}

		keepAll := storage.KeepFields{Phone: true, JoinedOn: true, Status: true, MutualAidYears: true}
		partial := storage.MemberRecord{MemberNo: full.MemberNo, Name: full.Name, IDNumber: full.IDNumber,
			UnitName: full.UnitName, Keep: keepAll}
		wantResults(t, upsert(t, db, partial), storage.Unchanged)
		checkMember(t, memberByNo(t, db, full.MemberNo), full)

		// A change of a present field updates it and keeps the others.
		partial.UnitName = "新基层工会"
		wantResults(t, upsert(t, db, partial), storage.Updated)
		want := full
		want.UnitName = partial.UnitName
		after := memberByNo(t, db, full.MemberNo)
		checkMember(t, after, want)
		enrollAfter, err := db.Enrollments(ctx, before.ID)
		if err != nil {
			t.Fatalf("enrollments: %v", err)
		}
		if fmt.Sprint(enrollAfter) != fmt.Sprint(enrollBefore) {
			t.Errorf("enrollments %v, want kept %v", enrollAfter, enrollBefore)
		}
		// The full record again is Unchanged: the kept values made the stored row hash whole.
		want.Status = full.Status
		wantResults(t, upsert(t, db, want), storage.Unchanged)

		// Only some flags: the phone is kept, an empty join date in a present column clears it.
		some := want
		some.Phone = ""
		some.JoinedOn = time.Time{}
		some.Keep = storage.KeepFields{Phone: true}
		wantResults(t, upsert(t, db, some), storage.Updated)
		want.JoinedOn = time.Time{}
		checkMember(t, memberByNo(t, db, full.MemberNo), want)

		// A new member with Keep flags gets none / the default, whatever the record holds.
		fresh := rec(2)
		fresh.Status = storage.StatusWithdrawn
		fresh.Keep = keepAll
		wantResults(t, upsert(t, db, fresh), storage.Inserted)
		wantFresh := fresh
		wantFresh.Phone, wantFresh.JoinedOn, wantFresh.Status, wantFresh.MutualAidYears = "", time.Time{}, "", nil
		checkMember(t, memberByNo(t, db, fresh.MemberNo), wantFresh)
		wantResults(t, upsert(t, db, fresh), storage.Unchanged)
	})
}
