package storage_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func TestUpsertMembersClassifies(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		a, b := rec(1), rec(2)
		wantResults(t, upsert(t, db, a, b), storage.Inserted, storage.Inserted)
		checkMember(t, memberByNo(t, db, a.MemberNo), a)
		first := memberByNo(t, db, a.MemberNo)

		wantResults(t, upsert(t, db, a, b), storage.Unchanged, storage.Unchanged)
		if got := memberByNo(t, db, a.MemberNo); !got.UpdatedAt.Equal(first.UpdatedAt) {
			t.Errorf("unchanged upsert moved UpdatedAt from %v to %v", first.UpdatedAt, got.UpdatedAt)
		}

		time.Sleep(2 * time.Millisecond) // UpdatedAt has microsecond precision
		a.Phone = "13900000000"
		a.Status = storage.StatusTransferred
		a.UnitName = "新成立工会"
		wantResults(t, upsert(t, db, a, b), storage.Updated, storage.Unchanged)
		got := memberByNo(t, db, a.MemberNo)
		checkMember(t, got, a)
		if got.ID != first.ID || !got.CreatedAt.Equal(first.CreatedAt) {
			t.Errorf("update changed id/created: got %d %v, want %d %v", got.ID, got.CreatedAt, first.ID, first.CreatedAt)
		}
		if !got.UpdatedAt.After(first.UpdatedAt) {
			t.Errorf("update kept UpdatedAt %v, want after %v", got.UpdatedAt, first.UpdatedAt)
		}

		if n, err := db.CountMembers(t.Context()); err != nil || n != 2 {
			t.Errorf("CountMembers: got %d, %v; want 2, nil", n, err)
		}
		units, err := db.Units(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range units {
			names = append(names, u.Name)
			if u.Name == got.UnitName && u.ID != got.UnitID {
				t.Errorf("unit %s: id %d, member says %d", u.Name, u.ID, got.UnitID)
			}
		}
		if want := []string{"新成立工会", b.UnitName, rec(1).UnitName}; !sameSet(names, want) {
			t.Errorf("Units: got %v, want %v", names, want)
		}
	})
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func TestUpsertMembersOptionalFields(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		r := storage.MemberRecord{MemberNo: " X1 ", Name: "  王五 ", IDNumber: "11010119900307123x"}
		wantResults(t, upsert(t, db, r), storage.Inserted)
		m := memberByNo(t, db, "X1")
		checkMember(t, m, storage.MemberRecord{MemberNo: "X1", Name: "王五", IDNumber: "11010119900307123X"})
		if m.UnitID != 0 || !m.JoinedOn.IsZero() || m.Phone != "" {
			t.Errorf("optional fields: unit %d joined %v phone %q, want zero values", m.UnitID, m.JoinedOn, m.Phone)
		}
		wantResults(t, upsert(t, db, r), storage.Unchanged)
	})
}

func TestUpsertMembersReplacesEnrollments(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		r := rec(7)
		r.MutualAidYears = []int{2025, 2024, 2025}
		wantResults(t, upsert(t, db, r), storage.Inserted)
		m := memberByNo(t, db, r.MemberNo)
		checkEnrollments(t, db, m.ID, 2024, 2025)

		r.MutualAidYears = []int{2026, 2025}
		wantResults(t, upsert(t, db, r), storage.Updated)
		checkEnrollments(t, db, m.ID, 2025, 2026)
		checkMember(t, memberByNo(t, db, r.MemberNo), r)

		r.MutualAidYears = nil
		wantResults(t, upsert(t, db, r), storage.Updated)
		checkEnrollments(t, db, m.ID)
		if got := memberByNo(t, db, r.MemberNo).MutualAidYears; len(got) != 0 {
			t.Errorf("MutualAidYears after clearing: got %v, want none", got)
		}
		if es, err := db.Enrollments(ctx, 987654); err != nil || len(es) != 0 {
			t.Errorf("Enrollments of unknown member: got %v, %v; want none, nil", es, err)
		}
	})
}

func checkEnrollments(t *testing.T, db *storage.DB, memberID int64, years ...int) {
	t.Helper()
	es, err := db.Enrollments(t.Context(), memberID)
	if err != nil {
		t.Fatalf("Enrollments: %v", err)
	}
	var got []int
	for _, e := range es {
		got = append(got, e.Year)
		from := time.Date(e.Year, time.January, 1, 0, 0, 0, 0, time.UTC)
		to := time.Date(e.Year, time.December, 31, 0, 0, 0, 0, time.UTC)
		if e.MemberID != memberID || !e.CoverFrom.Equal(from) || !e.CoverTo.Equal(to) {
			t.Errorf("enrollment %d: got member %d cover %v–%v, want member %d cover %v–%v",
				e.Year, e.MemberID, e.CoverFrom, e.CoverTo, memberID, from, to)
		}
	}
	if !slices.Equal(got, years) {
		t.Errorf("enrollment years: got %v, want %v", got, years)
	}
}

func TestUpsertMembersRejectsPerRecord(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		stored := rec(1)
		wantResults(t, upsert(t, db, stored), storage.Inserted)

		clash := rec(2)
		clash.IDNumber = stored.IDNumber // another member number, same ID number
		twinA, twinB := rec(3), rec(4)
		twinB.IDNumber = twinA.IDNumber // same ID number twice in the batch
		noName := rec(5)
		noName.Name = " "
		badStatus := rec(6)
		badStatus.Status = "开除"
		fine := rec(8)
		out := upsert(t, db, clash, twinA, twinB, noName, badStatus, fine)
		wantResults(t, out, storage.Rejected, storage.Inserted, storage.Rejected, storage.Rejected, storage.Rejected, storage.Inserted)

		for i, wantErr := range []error{storage.ErrConflict, nil, storage.ErrConflict, storage.ErrInvalid, storage.ErrInvalid, nil} {
			if wantErr != nil && !errors.Is(out[i].Err, wantErr) {
				t.Errorf("record %d: err %v, want %v", i, out[i].Err, wantErr)
			}
		}
		if msg := out[0].Err.Error(); !strings.Contains(msg, clash.MemberNo) || !strings.Contains(msg, stored.MemberNo) {
			t.Errorf("conflict message %q should name both member numbers", msg)
		}
		for i, o := range out {
			if o.Err != nil && strings.Contains(o.Err.Error(), stored.IDNumber) || o.Err != nil && strings.Contains(o.Err.Error(), twinA.IDNumber) {
				t.Errorf("record %d: error %q leaks the ID number", i, o.Err)
			}
		}
		for _, no := range []string{clash.MemberNo, twinB.MemberNo, noName.MemberNo, badStatus.MemberNo} {
			if _, err := db.MemberByNo(t.Context(), no); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("rejected member %s: MemberByNo err %v, want ErrNotFound", no, err)
			}
		}
		checkMember(t, memberByNo(t, db, stored.MemberNo), stored)
		checkMember(t, memberByNo(t, db, fine.MemberNo), fine)

		// An existing member changing to a taken ID number is rejected and keeps its row.
		moved := stored
		moved.IDNumber = fine.IDNumber
		moved.Phone = "13700000000"
		wantResults(t, upsert(t, db, moved), storage.Rejected)
		checkMember(t, memberByNo(t, db, stored.MemberNo), stored)
	})
}

func TestUpsertMembersSameNumberTwiceInBatch(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		first, second := rec(1), rec(1)
		second.Name = "改名后"
		second.MutualAidYears = []int{2027}
		wantResults(t, upsert(t, db, first, rec(2), second), storage.Inserted, storage.Inserted, storage.Updated)
		checkMember(t, memberByNo(t, db, first.MemberNo), second)
	})
}

func TestUpsertMembersLargeBatch(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		const n = 2100 // more than one IN list and several multi-row statements
		recs := make([]storage.MemberRecord, n)
		for i := range recs {
			recs[i] = rec(i)
		}
		for i, o := range upsert(t, db, recs...) {
			if o.Result != storage.Inserted {
				t.Fatalf("record %d: got %v (%v), want inserted", i, o.Result, o.Err)
			}
		}
		recs[1500].Phone = "13611112222"
		for i, o := range upsert(t, db, recs...) {
			want := storage.Unchanged
			if i == 1500 {
				want = storage.Updated
			}
			if o.Result != want {
				t.Fatalf("record %d: got %v (%v), want %v", i, o.Result, o.Err, want)
			}
		}
		if c, err := db.CountMembers(t.Context()); err != nil || c != n {
			t.Errorf("CountMembers: got %d, %v; want %d", c, err, n)
		}
		checkMember(t, memberByNo(t, db, recs[1500].MemberNo), recs[1500])
		checkMember(t, memberByNo(t, db, recs[n-1].MemberNo), recs[n-1])
		rows, err := storage.RawRows(t.Context(), db, "SELECT COUNT(*) FROM mutual_aid_enrollments")
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprint(2 * n); rows[0][0] != want {
			t.Errorf("enrollment rows: got %s, want %s", rows[0][0], want)
		}
	})
}

func TestConcurrentUpsertOfSameRecords(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		const n = 300
		recs := make([]storage.MemberRecord, n)
		for i := range recs {
			recs[i] = rec(i)
		}
		var wg sync.WaitGroup
		outs := make([][]storage.UpsertOutcome, 2)
		errs := make([]error, 2)
		for g := range 2 {
			wg.Go(func() { outs[g], errs[g] = db.UpsertMembers(t.Context(), recs) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent UpsertMembers: %v", err)
		}
		for i := range n {
			a, b := outs[0][i].Result, outs[1][i].Result
			if !(a == storage.Inserted && b == storage.Unchanged || a == storage.Unchanged && b == storage.Inserted) {
				t.Fatalf("record %d: got %v and %v, want one inserted and one unchanged", i, a, b)
			}
		}
		if c, err := db.CountMembers(t.Context()); err != nil || c != n {
			t.Errorf("CountMembers: got %d, %v; want %d", c, err, n)
		}
		rows, err := storage.RawRows(t.Context(), db, "SELECT COUNT(*) FROM mutual_aid_enrollments")
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprint(2 * n); rows[0][0] != want {
			t.Errorf("enrollment rows: got %s, want %s", rows[0][0], want)
		}
		checkMember(t, memberByNo(t, db, recs[n/2].MemberNo), recs[n/2])
	})
}

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
		if err := db.BindMember(ctx, ma.ID, "oid-a", by); err != nil {
			t.Fatalf("bind a: %v", err)
		}
		if err := db.BindMember(ctx, mb.ID, "oid-b", by); err != nil {
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
		// The newest row is the unbind; the one before it is the member's own bind.
		if len(audits) != 2 || audits[0].Action != "member.unbind.id_changed" || audits[0].Actor != "import" ||
			audits[0].Before["open_id"] != "oid-a" || audits[0].After["open_id"] != "" {
			t.Fatalf("audit = %+v, want member.unbind.id_changed by import after the bind", audits)
		}
		for _, raw := range []string{a.IDNumber, a2.IDNumber, a.MemberNo, a.Name} {
			if strings.Contains(audits[0].Detail, raw) {
				t.Errorf("audit detail %q holds raw %q", audits[0].Detail, raw)
			}
		}
		if other, _ := db.AuditEntries(ctx, fmt.Sprintf("member:%d", mb.ID), 10); len(other) != 1 || other[0].Action != "member.bind" {
			t.Errorf("audit for unchanged ID number: %+v, want only its bind", other)
		}
		// The new person can bind the member now.
		if err := db.BindMember(ctx, ma.ID, "oid-new", by); err != nil {
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

func BenchmarkUpsertMembers(b *testing.B) {
	const batch = 1000
	backends := []struct {
		name string
		open func(testing.TB) *storage.DB
	}{{"embedded", storagetest.Embedded}, {"mysql", storagetest.MySQL}}
	for _, be := range backends {
		b.Run(be.name+"/new", func(b *testing.B) {
			db := be.open(b)
			next := 0
			for b.Loop() {
				recs := make([]storage.MemberRecord, batch)
				for i := range recs {
					recs[i] = rec(next)
					next++
				}
				if _, err := db.UpsertMembers(b.Context(), recs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "members/s")
		})
		b.Run(be.name+"/unchanged", func(b *testing.B) {
			db := be.open(b)
			recs := make([]storage.MemberRecord, batch)
			for i := range recs {
				recs[i] = rec(i)
			}
			if _, err := db.UpsertMembers(b.Context(), recs); err != nil {
				b.Fatal(err)
			}
			n := 0
			for b.Loop() {
				if _, err := db.UpsertMembers(b.Context(), recs); err != nil {
					b.Fatal(err)
				}
				n += batch
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "members/s")
		})
	}
}
