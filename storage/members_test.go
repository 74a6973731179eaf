package storage_test

import (
	"context"
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

// rec builds a valid roster record numbered i: ID number 11010119900101NNNN-ish, phone
// 138NNNNNNNN, name 测试NNNN.
func rec(i int) storage.MemberRecord {
	return storage.MemberRecord{
		MemberNo:       fmt.Sprintf("M%06d", i),
		Name:           fmt.Sprintf("测试%04d", i),
		IDNumber:       fmt.Sprintf("110101199001%06d", i),
		Phone:          fmt.Sprintf("138%08d", i),
		UnitName:       fmt.Sprintf("第%d基层工会", i%3),
		JoinedOn:       time.Date(2020, time.March, 1+i%28, 0, 0, 0, 0, time.UTC),
		Status:         storage.StatusActive,
		MutualAidYears: []int{2025, 2026},
	}
}

func upsert(t *testing.T, db *storage.DB, recs ...storage.MemberRecord) []storage.UpsertOutcome {
	t.Helper()
	out, err := db.UpsertMembers(t.Context(), recs)
	if err != nil {
		t.Fatalf("UpsertMembers: %v", err)
	}
	if len(out) != len(recs) {
		t.Fatalf("UpsertMembers returned %d outcomes for %d records", len(out), len(recs))
	}
	return out
}

func wantResults(t *testing.T, out []storage.UpsertOutcome, want ...storage.UpsertResult) {
	t.Helper()
	for i, o := range out {
		if o.Result != want[i] {
			t.Errorf("record %d: got %v (err %v), want %v", i, o.Result, o.Err, want[i])
		}
		if (o.Err != nil) != (o.Result == storage.Rejected) {
			t.Errorf("record %d: result %v with err %v: Err must be set exactly for Rejected", i, o.Result, o.Err)
		}
	}
}

func memberByNo(t *testing.T, db *storage.DB, no string) storage.Member {
	t.Helper()
	m, err := db.MemberByNo(t.Context(), no)
	if err != nil {
		t.Fatalf("MemberByNo(%s): %v", no, err)
	}
	return m
}

// checkMember compares the roster facts of m with r.
func checkMember(t *testing.T, m storage.Member, r storage.MemberRecord) {
	t.Helper()
	status := r.Status
	if status == "" {
		status = storage.StatusActive
	}
	years := slices.Clone(r.MutualAidYears)
	slices.Sort(years)
	years = slices.Compact(years)
	if len(years) == 0 {
		years = nil
	}
	got := []any{m.MemberNo, m.Name, m.IDNumber, m.Phone, m.UnitName, m.JoinedOn.Format(time.DateOnly), m.Status, fmt.Sprint(m.MutualAidYears)}
	want := []any{r.MemberNo, r.Name, strings.ToUpper(r.IDNumber), r.Phone, r.UnitName, r.JoinedOn.Format(time.DateOnly), status, fmt.Sprint(years)}
	if r.JoinedOn.IsZero() {
		want[5] = time.Time{}.Format(time.DateOnly)
	}
	if !slices.Equal(got, want) {
		t.Errorf("member %s:\n got  %v\n want %v", r.MemberNo, got, want)
	}
	if m.ID == 0 || m.CreatedAt.IsZero() || m.UpdatedAt.IsZero() {
		t.Errorf("member %s: id %d, created %v, updated %v: want all set", r.MemberNo, m.ID, m.CreatedAt, m.UpdatedAt)
	}
}

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

func TestMemberLookups(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		a := rec(1)
		a.IDNumber = "11010119900307123X"
		// Same name and same last six ID characters, different person: binding must see both.
		b := rec(2)
		b.Name = a.Name
		b.IDNumber = "32010219851107123X"
		c := rec(3)
		wantResults(t, upsert(t, db, a, b, c), storage.Inserted, storage.Inserted, storage.Inserted)
		ma := memberByNo(t, db, a.MemberNo)

		byID, err := db.MemberByID(ctx, ma.ID)
		if err != nil || byID.MemberNo != a.MemberNo {
			t.Errorf("MemberByID: got %s, %v; want %s", byID.MemberNo, err, a.MemberNo)
		}
		byIDNo, err := db.MemberByIDNumber(ctx, " 11010119900307123x ")
		if err != nil || byIDNo.ID != ma.ID {
			t.Errorf("MemberByIDNumber (lower-case x): got %d, %v; want %d", byIDNo.ID, err, ma.ID)
		}
		checkMember(t, byIDNo, a)

		both, err := db.MembersByNameAndIDSuffix(ctx, a.Name, "07123x")
		if err != nil {
			t.Fatal(err)
		}
		var nos []string
		for _, m := range both {
			nos = append(nos, m.MemberNo)
		}
		if !slices.Equal(nos, []string{a.MemberNo, b.MemberNo}) {
			t.Errorf("MembersByNameAndIDSuffix: got %v, want %v", nos, []string{a.MemberNo, b.MemberNo})
		}
		for _, q := range [][2]string{{a.Name, "071234"}, {"别人", "07123X"}, {c.Name, a.IDNumber[12:]}} {
			ms, err := db.MembersByNameAndIDSuffix(ctx, q[0], q[1])
			if err != nil || len(ms) != 0 {
				t.Errorf("MembersByNameAndIDSuffix(%q, %q): got %d members, %v; want none", q[0], q[1], len(ms), err)
			}
		}
		only, err := db.MembersByNameAndIDSuffix(ctx, c.Name, c.IDNumber[12:])
		if err != nil || len(only) != 1 || only[0].MemberNo != c.MemberNo {
			t.Errorf("MembersByNameAndIDSuffix(c): got %v, %v; want just %s", only, err, c.MemberNo)
		}

		notFound := map[string]error{}
		_, notFound["MemberByID"] = db.MemberByID(ctx, 999999)
		_, notFound["MemberByNo"] = db.MemberByNo(ctx, "nope")
		_, notFound["MemberByOpenID"] = db.MemberByOpenID(ctx, "o-nobody")
		_, notFound["MemberByOpenID empty"] = db.MemberByOpenID(ctx, "")
		_, notFound["MemberByIDNumber"] = db.MemberByIDNumber(ctx, "110101190001011234")
		for name, err := range notFound {
			if !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("%s: got %v, want ErrNotFound", name, err)
			}
		}
	})
}

func TestPIINotStoredInPlaintext(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		r := rec(42)
		r.Name = "欧阳明月"
		r.IDNumber = "44030419880808876X"
		r.Phone = "13987654321"
		wantResults(t, upsert(t, db, r), storage.Inserted)
		rows, err := storage.RawRows(t.Context(), db, "SELECT * FROM members")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 {
			t.Fatalf("members rows: got %d, want 1", len(rows))
		}
		dump := strings.Join(rows[0], "\x00")
		for what, secret := range map[string]string{
			"name": r.Name, "ID number": r.IDNumber, "ID number digits": r.IDNumber[:17],
			"ID suffix": r.IDNumber[12:], "phone": r.Phone, "phone digits": r.Phone[3:],
		} {
			if strings.Contains(dump, secret) {
				t.Errorf("%s %q stored in plaintext in members", what, secret)
			}
		}
		if !strings.Contains(dump, r.MemberNo) {
			t.Errorf("raw dump does not hold the member number; is RawRows reading the table? %q", dump)
		}
		// Decryption gives the values back.
		checkMember(t, memberByNo(t, db, r.MemberNo), r)
	})
}

func TestBindAndUnbind(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		wantResults(t, upsert(t, db, rec(1), rec(2)), storage.Inserted, storage.Inserted)
		m1, m2 := memberByNo(t, db, rec(1).MemberNo), memberByNo(t, db, rec(2).MemberNo)

		if err := db.BindMember(ctx, m1.ID, "oOpenID_One"); err != nil {
			t.Fatalf("bind: %v", err)
		}
		if err := db.BindMember(ctx, m1.ID, "oOpenID_One"); err != nil {
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
			err := db.BindMember(ctx, tc.member, tc.openID)
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

		un, err := db.UnbindMember(ctx, "oOpenID_One")
		if err != nil || un.ID != m1.ID || un.OpenID != "" || un.Name != rec(1).Name {
			t.Errorf("UnbindMember: got id %d openid %q name %q, %v; want member %d unbound", un.ID, un.OpenID, un.Name, err, m1.ID)
		}
		if _, err := db.MemberByOpenID(ctx, "oOpenID_One"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("MemberByOpenID after unbind: got %v, want ErrNotFound", err)
		}
		if _, err := db.UnbindMember(ctx, "oOpenID_One"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("UnbindMember twice: got %v, want ErrNotFound", err)
		}
		if m := memberByNo(t, db, rec(1).MemberNo); m.OpenID != "" || !m.BoundAt.IsZero() {
			t.Errorf("unbound member still shows openid %q bound at %v", m.OpenID, m.BoundAt)
		}
		// Now the openid and the member are free again.
		if err := db.BindMember(ctx, m1.ID, "oOpenID_Two"); err != nil {
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
			wg.Go(func() { errs[i] = db.BindMember(context.WithoutCancel(t.Context()), id, "oRace") })
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
