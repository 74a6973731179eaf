package storage_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
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
