package storage

// Members: how they are read back (decrypted) and found, and the keyed hashes they are
// found by. Writing them is upsert.go (the roster), binding.go (WeChat binding).

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"unionbot/pii"
)

// Keyed-hash domains, one per purpose, so equal inputs never give equal hashes across
// columns. The ID number and phone domains are pii's, so other packages can compute them.
const (
	hashIDNumber = pii.DomainIDNumber
	hashPhone    = pii.DomainPhone
	hashBind     = "bind"
	hashRow      = "member_row"
)

// memberColumns reads a member with its unit name and its enrollment years, comma-joined
// (GROUP_CONCAT is spelled the same in both dialects; the years are sorted in Go).
const memberColumns = `SELECT m.id, m.member_no, m.name_enc, m.id_number_enc, m.phone_enc, m.unit_id,
    u.name AS unit_name, m.joined_on, m.status, m.open_id, m.bound_at, m.created_at, m.updated_at,
    (SELECT GROUP_CONCAT(e.year) FROM mutual_aid_enrollments e WHERE e.member_id = m.id) AS years
FROM members m LEFT JOIN units u ON u.id = m.unit_id`

const (
	selectMemberByID        = memberColumns + ` WHERE m.id = ?`
	selectMemberByNo        = memberColumns + ` WHERE m.member_no = ?`
	selectMemberByOpenID    = memberColumns + ` WHERE m.open_id = ?`
	selectMemberByIDHash    = memberColumns + ` WHERE m.id_number_hash = ?`
	selectMembersByBindHash = memberColumns + ` WHERE m.bind_hash = ? ORDER BY m.id`
)

type memberRow struct {
	ID          int64          `db:"id"`
	MemberNo    string         `db:"member_no"`
	NameEnc     string         `db:"name_enc"`
	IDNumberEnc string         `db:"id_number_enc"`
	PhoneEnc    string         `db:"phone_enc"`
	UnitID      sql.NullInt64  `db:"unit_id"`
	UnitName    sql.NullString `db:"unit_name"`
	JoinedOn    sql.NullTime   `db:"joined_on"`
	Status      string         `db:"status"`
	OpenID      sql.NullString `db:"open_id"`
	BoundAt     sql.NullTime   `db:"bound_at"`
	CreatedAt   time.Time      `db:"created_at"`
	UpdatedAt   time.Time      `db:"updated_at"`
	Years       sql.NullString `db:"years"`
}

func (db *DB) toMember(r memberRow) (Member, error) {
	m := Member{
		ID:        r.ID,
		MemberNo:  r.MemberNo,
		UnitID:    r.UnitID.Int64,
		UnitName:  r.UnitName.String,
		JoinedOn:  timeOf(r.JoinedOn),
		Status:    r.Status,
		OpenID:    r.OpenID.String,
		BoundAt:   timeOf(r.BoundAt),
		CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(),
	}
	var err error
	if m.Name, err = db.decrypt(r.NameEnc); err != nil {
		return Member{}, fmt.Errorf("decrypt name of member %s: %w", r.MemberNo, err)
	}
	if m.IDNumber, err = db.decrypt(r.IDNumberEnc); err != nil {
		return Member{}, fmt.Errorf("decrypt ID number of member %s: %w", r.MemberNo, err)
	}
	if m.Phone, err = db.decrypt(r.PhoneEnc); err != nil {
		return Member{}, fmt.Errorf("decrypt phone of member %s: %w", r.MemberNo, err)
	}
	if m.MutualAidYears, err = parseYears(r.Years.String); err != nil {
		return Member{}, fmt.Errorf("member %s: %w", r.MemberNo, err)
	}
	return m, nil
}

func (db *DB) decrypt(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	return db.cipher.Decrypt(s)
}

func (db *DB) memberWhere(ctx context.Context, q sqlx.QueryerContext, query string, arg any) (Member, error) {
	var r memberRow
	if err := sqlx.GetContext(ctx, q, &r, query, arg); err != nil {
		return Member{}, mapErr(err)
	}
	return db.toMember(r)
}

// MemberByID returns the member with that id, or ErrNotFound.
func (db *DB) MemberByID(ctx context.Context, id int64) (Member, error) {
	m, err := db.memberWhere(ctx, db.r, selectMemberByID, id)
	if err != nil {
		return Member{}, fmt.Errorf("member %d: %w", id, err)
	}
	return m, nil
}

// MemberByNo returns the member with that member number, or ErrNotFound.
func (db *DB) MemberByNo(ctx context.Context, memberNo string) (Member, error) {
	m, err := db.memberWhere(ctx, db.r, selectMemberByNo, strings.TrimSpace(memberNo))
	if err != nil {
		return Member{}, fmt.Errorf("member by number %s: %w", memberNo, err)
	}
	return m, nil
}

// MemberByOpenID returns the member bound to a WeChat openid, or ErrNotFound.
func (db *DB) MemberByOpenID(ctx context.Context, openID string) (Member, error) {
	if openID == "" {
		return Member{}, fmt.Errorf("member by openid: %w", ErrNotFound)
	}
	m, err := db.memberWhere(ctx, db.r, selectMemberByOpenID, openID)
	if err != nil {
		return Member{}, fmt.Errorf("member by openid %s: %w", openID, err)
	}
	return m, nil
}

// MemberByIDNumber finds a member by ID number (through its keyed hash; case of a final X
// and surrounding spaces do not matter), or returns ErrNotFound.
func (db *DB) MemberByIDNumber(ctx context.Context, idNumber string) (Member, error) {
	id := normIDNumber(idNumber)
	if id == "" {
		return Member{}, fmt.Errorf("member by ID number: %w", ErrNotFound)
	}
	m, err := db.memberWhere(ctx, db.r, selectMemberByIDHash, db.cipher.Hash(hashIDNumber, id))
	if err != nil {
		return Member{}, fmt.Errorf("member by ID number: %w", err)
	}
	return m, nil
}

// MembersByNameAndIDSuffix returns the members whose name and last six ID characters match,
// ordered by id; none is an empty slice and a nil error. Binding asks for exactly these two
// facts, so they are looked up by one keyed hash.
func (db *DB) MembersByNameAndIDSuffix(ctx context.Context, name, idLast6 string) ([]Member, error) {
	h := db.cipher.Hash(hashBind, bindKey(pii.NormalizeName(name), lastN(normIDNumber(idLast6), 6)))
	var rows []memberRow
	if err := db.r.SelectContext(ctx, &rows, selectMembersByBindHash, h); err != nil {
		return nil, fmt.Errorf("members by name and ID suffix: %w", err)
	}
	out := make([]Member, 0, len(rows))
	for _, r := range rows {
		m, err := db.toMember(r)
		if err != nil {
			return nil, fmt.Errorf("members by name and ID suffix: %w", err)
		}
		out = append(out, m)
	}
	return out, nil
}

// CountMembers returns how many members are stored, whatever their status.
func (db *DB) CountMembers(ctx context.Context) (int, error) {
	var n int
	if err := db.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM members`); err != nil {
		return 0, fmt.Errorf("count members: %w", err)
	}
	return n, nil
}

// selectIn runs a query with one "IN (?)" over values, in chunks, appending to dest.
func selectIn[T any, V any](ctx context.Context, q sqlx.QueryerContext, dest *[]T, query string, values []V) error {
	for part := range slices.Chunk(values, lookupChunk) {
		expanded, args, err := sqlx.In(query, part)
		if err != nil {
			return err
		}
		var got []T
		if err := sqlx.SelectContext(ctx, q, &got, expanded, args...); err != nil {
			return err
		}
		*dest = append(*dest, got...)
	}
	return nil
}

// normIDNumber is the one form of an ID number that is stored and hashed (half-width,
// no spaces or dashes, upper-case X).
func normIDNumber(s string) string { return pii.NormalizeIDNumber(s) }

// bindKey is what the bind hash covers: the name (pii.NormalizeName) and the last six ID
// characters.
func bindKey(name, last6 string) string { return name + "|" + last6 }

// lastN returns the last n characters of s (all of s when shorter).
func lastN(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[len(r)-n:])
}

// dateOnly keeps the calendar date of t (as seen in t's own location) at UTC midnight.
func dateOnly(t time.Time) sql.NullTime {
	if t.IsZero() {
		return sql.NullTime{}
	}
	y, mo, d := t.Date()
	return sql.NullTime{Time: time.Date(y, mo, d, 0, 0, 0, 0, time.UTC), Valid: true}
}
