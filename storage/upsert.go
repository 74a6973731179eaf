package storage

// Roster import: UpsertMembers and its helpers.
//
// UpsertMembers contract (the roster importer relies on it):
//
//	func (db *DB) UpsertMembers(ctx context.Context, recs []MemberRecord) ([]UpsertOutcome, error)
//
// It returns exactly one UpsertOutcome per record, in the order of recs. A record it cannot
// store gets Result Rejected and a non-nil Err, changes nothing, and does not stop the other
// records of the batch, which are still applied:
//   - Err wraps ErrConflict when the ID number already belongs to another member number,
//     either stored before or given by an earlier record of the same batch (the earlier
//     record wins); the message names the member numbers, never the ID number.
//   - Err wraps ErrInvalid when a required field is missing or malformed (the importer
//     validates first, so this is a safety net).
//
// Other records get Inserted, Updated or Unchanged (the stored row already says the same).
// A field named in MemberRecord.Keep keeps its stored value for an existing member (kept
// enrollment years are not rewritten) and is none / the default for a new one; such a record
// is Unchanged when its other fields equal the stored ones. A record that changes the ID
// number behind an existing member number drops that member's WeChat binding (open_id,
// bound_at) and, when one existed, writes an audit entry "member.unbind.id_changed" in the
// same transaction.
// The error return is non-nil only when the whole batch failed (database down, context
// cancelled): then none of the batch was stored and the slice is nil. A batch is one
// transaction; the importer sends about 1,000 records per call.
//
// Personal information (name, ID number, phone) is stored encrypted with the cipher and found
// by keyed hash: id_number_hash = Hash("id_number", ID), bind_hash = Hash("bind",
// pii.NormalizeName(name)+"|"+last 6 of the ID, upper-case X), phone_hash = Hash("phone", phone). row_hash is a
// keyed hash of the whole normalised record, so an unchanged re-import writes nothing.

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"unionbot/pii"
)

const (
	// upsertLockName serialises roster batches across replicas on MySQL, so two imports of
	// the same file neither deadlock nor both count a member as inserted.
	upsertLockName = "unionbot_members_upsert"
	upsertLockWait = 60 * time.Second

	memberWriteRows     = 400  // rows per multi-row member INSERT on MySQL (13 placeholders each)
	enrollmentWriteRows = 1000 // rows per multi-row enrollment INSERT on MySQL (4 placeholders each)
	lookupChunk         = 1000 // values per IN (…) list
)

// memberIn is one normalised, valid record on its way in.
type memberIn struct {
	pos                                     int // index in the caller's slice
	no, name, idNumber, phone, unit, status string
	joined                                  sql.NullTime
	years                                   []int
	idHash, bindHash, phoneHash, rowHash    string
	nameEnc, idEnc, phoneEnc                string // filled by encrypt, kept across retries
	encrypted                               bool
	keep                                    KeepFields // fields an existing member keeps
}

// keeps reports whether the record leaves any stored field as it is.
func (m *memberIn) keeps() bool { return m.keep != KeepFields{} }

// UpsertMembers stores roster records keyed by member number; see the contract at the top
// of this file.
func (db *DB) UpsertMembers(ctx context.Context, recs []MemberRecord) ([]UpsertOutcome, error) {
	out, err := db.upsertMembers(ctx, recs, nil)
	if err != nil {
		return nil, fmt.Errorf("upsert members: %w", err)
	}
	return out, nil
}

// upsertMembers is UpsertMembers with, when then is set, more work in the batch's
// transaction: then sees the outcomes and its error rolls the whole batch back. then runs
// (in a transaction) even when no record is valid, and again when the transaction is retried.
func (db *DB) upsertMembers(ctx context.Context, recs []MemberRecord, then func(tx *sqlx.Tx, out []UpsertOutcome) error) ([]UpsertOutcome, error) {
	base := make([]UpsertOutcome, len(recs))
	valid := make([]*memberIn, 0, len(recs))
	idOwner := make(map[string]string, len(recs)) // id hash → first member number giving it
	for i, rec := range recs {
		m, err := db.prepareMember(rec)
		if err != nil {
			base[i] = UpsertOutcome{Result: Rejected, Err: err}
			continue
		}
		m.pos = i
		if owner, ok := idOwner[m.idHash]; ok && owner != m.no {
			base[i] = UpsertOutcome{Result: Rejected, Err: fmt.Errorf(
				"member %s: %w: same ID number as member %s earlier in the import", m.no, ErrConflict, owner)}
			continue
		}
		idOwner[m.idHash] = m.no
		valid = append(valid, m)
	}
	if len(valid) == 0 && then == nil {
		return base, nil
	}
	chunks := distinctChunks(valid)

	var out []UpsertOutcome
	run := func(tx *sqlx.Tx) error {
		out = slices.Clone(base) // fresh per attempt: a retried transaction starts over
		units := make(map[string]int64)
		for _, c := range chunks {
			if err := db.upsertChunk(ctx, tx, c, units, out); err != nil {
				return err
			}
		}
		if then != nil {
			return then(tx, out)
		}
		return nil
	}
	var err error
	if db.mysql() && len(valid) > 0 {
		err = db.withNamedLock(ctx, upsertLockName, upsertLockWait, func(conn *sqlx.Conn) error {
			return inTxOn(ctx, conn, run)
		})
	} else {
		err = db.withImportCache(ctx, func() error { return db.inTx(ctx, run) })
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// prepareMember validates and normalises one record and computes its hashes.
func (db *DB) prepareMember(rec MemberRecord) (*memberIn, error) {
	m := &memberIn{
		no:       strings.TrimSpace(rec.MemberNo),
		name:     strings.TrimSpace(rec.Name),
		idNumber: normIDNumber(rec.IDNumber),
		phone:    pii.NormalizePhone(rec.Phone),
		unit:     strings.TrimSpace(rec.UnitName),
		status:   strings.TrimSpace(rec.Status),
		joined:   dateOnly(rec.JoinedOn),
		keep:     rec.Keep,
	}
	// A kept field is "none" / the default for a new member; an existing member's stored
	// value replaces it in upsertChunk.
	if m.keep.Phone {
		m.phone = ""
	}
	if m.keep.JoinedOn {
		m.joined = sql.NullTime{}
	}
	if m.keep.Status {
		m.status = ""
	}
	invalid := func(format string, args ...any) error {
		no := m.no
		if no == "" {
			no = "(no number)"
		}
		return fmt.Errorf("member %s: %w: %s", no, ErrInvalid, fmt.Sprintf(format, args...))
	}
	switch {
	case m.no == "":
		return nil, invalid("member number is empty")
	case utf8.RuneCountInString(m.no) > 64:
		return nil, invalid("member number is longer than 64 characters")
	case m.name == "":
		return nil, invalid("name is empty")
	case utf8.RuneCountInString(m.name) > 64:
		return nil, invalid("name is longer than 64 characters")
	case m.idNumber == "":
		return nil, invalid("ID number is empty")
	case len(m.idNumber) > 32:
		return nil, invalid("ID number is longer than 32 characters")
	case len(m.phone) > 32:
		return nil, invalid("phone is longer than 32 characters")
	case utf8.RuneCountInString(m.unit) > 191:
		return nil, invalid("unit name is longer than 191 characters")
	}
	if m.status == "" {
		m.status = StatusActive
	}
	if m.status != StatusActive && m.status != StatusTransferred && m.status != StatusWithdrawn {
		return nil, invalid("unknown status %q", m.status)
	}
	for _, y := range rec.MutualAidYears {
		if m.keep.MutualAidYears {
			break
		}
		if y < 1900 || y > 2999 {
			return nil, invalid("mutual-aid year %d out of range", y)
		}
		m.years = append(m.years, y)
	}
	slices.Sort(m.years)
	m.years = slices.Compact(m.years)

	m.idHash = db.cipher.Hash(hashIDNumber, m.idNumber)
	m.bindHash = db.cipher.Hash(hashBind, bindKey(pii.NormalizeName(m.name), lastN(m.idNumber, 6)))
	db.hashPhoneAndRow(m)
	return m, nil
}

// hashPhoneAndRow (re)computes the hashes of the fields a record may keep. The row hash
// covers every stored field, the bind hash included, so that a change of how the bind hash
// is derived makes the next import rewrite the rows.
func (db *DB) hashPhoneAndRow(m *memberIn) {
	m.phoneHash = ""
	if m.phone != "" {
		m.phoneHash = db.cipher.Hash(hashPhone, m.phone)
	}
	joined := ""
	if m.joined.Valid {
		joined = m.joined.Time.Format(time.DateOnly)
	}
	years := make([]string, len(m.years))
	for i, y := range m.years {
		years[i] = strconv.Itoa(y)
	}
	m.rowHash = db.cipher.Hash(hashRow, strings.Join([]string{
		m.no, m.name, m.idNumber, m.phone, m.unit, joined, m.status, strings.Join(years, ";"), m.bindHash,
	}, "\x1f"))
}

const selectKeptFields = `SELECT m.member_no, m.phone_enc, m.joined_on, m.status,
    (SELECT GROUP_CONCAT(e.year) FROM mutual_aid_enrollments e WHERE e.member_id = m.id) AS years
FROM members m WHERE m.member_no IN (?)`

type keptRow struct {
	MemberNo string         `db:"member_no"`
	PhoneEnc string         `db:"phone_enc"`
	JoinedOn sql.NullTime   `db:"joined_on"`
	Status   string         `db:"status"`
	Years    sql.NullString `db:"years"`
}

// applyKept sets the fields each record keeps: an existing member's stored values, the
// defaults for a new one. It runs on every transaction attempt, so a retry starts over.
func (db *DB) applyKept(ctx context.Context, tx *sqlx.Tx, chunk []*memberIn, existing map[string]existingMember) error {
	var nos []string
	for _, m := range chunk {
		if _, ok := existing[m.no]; ok && m.keeps() {
			nos = append(nos, m.no)
		}
	}
	stored := make(map[string]keptRow, len(nos))
	if len(nos) > 0 {
		var rows []keptRow
		if err := selectIn(ctx, tx, &rows, selectKeptFields, nos); err != nil {
			return fmt.Errorf("read kept member fields: %w", err)
		}
		for _, r := range rows {
			stored[r.MemberNo] = r
		}
	}
	for _, m := range chunk {
		if !m.keeps() {
			continue
		}
		r, ok := stored[m.no]
		if !ok {
			r = keptRow{Status: StatusActive} // a new member: none / the default
		}
		if m.keep.Phone {
			phone, err := db.decrypt(r.PhoneEnc)
			if err != nil {
				return fmt.Errorf("decrypt phone of member %s: %w", m.no, err)
			}
			if phone != m.phone {
				m.phone, m.encrypted = phone, false
			}
		}
		if m.keep.JoinedOn {
			m.joined = dateOnly(timeOf(r.JoinedOn))
		}
		if m.keep.Status {
			m.status = r.Status
		}
		if m.keep.MutualAidYears {
			years, err := parseYears(r.Years.String)
			if err != nil {
				return fmt.Errorf("member %s: %w", m.no, err)
			}
			m.years = years
		}
		db.hashPhoneAndRow(m)
	}
	return nil
}

func (db *DB) encrypt(m *memberIn) error {
	if m.encrypted {
		return nil
	}
	var err error
	if m.nameEnc, err = db.cipher.Encrypt(m.name); err != nil {
		return fmt.Errorf("encrypt name of member %s: %w", m.no, err)
	}
	if m.idEnc, err = db.cipher.Encrypt(m.idNumber); err != nil {
		return fmt.Errorf("encrypt ID number of member %s: %w", m.no, err)
	}
	if m.phoneEnc, err = db.cipher.Encrypt(m.phone); err != nil {
		return fmt.Errorf("encrypt phone of member %s: %w", m.no, err)
	}
	m.encrypted = true
	return nil
}

// distinctChunks splits the records, keeping their order, so that no chunk holds a member
// number twice: a repeated number is applied after the earlier one, as a file read top to
// bottom would be.
func distinctChunks(ms []*memberIn) [][]*memberIn {
	var chunks [][]*memberIn
	var cur []*memberIn
	seen := make(map[string]bool)
	for _, m := range ms {
		if seen[m.no] {
			chunks = append(chunks, cur)
			cur, seen = nil, make(map[string]bool)
		}
		seen[m.no] = true
		cur = append(cur, m)
	}
	return append(chunks, cur)
}

const selectExistingMembers = `SELECT id, member_no, row_hash, id_number_hash, open_id FROM members WHERE member_no IN (?)`

const selectIDHashOwners = `SELECT member_no, id_number_hash FROM members WHERE id_number_hash IN (?)`

const selectMemberIDs = `SELECT id, member_no FROM members WHERE member_no IN (?)`

type existingMember struct {
	ID       int64          `db:"id"`
	MemberNo string         `db:"member_no"`
	RowHash  string         `db:"row_hash"`
	IDHash   string         `db:"id_number_hash"`
	OpenID   sql.NullString `db:"open_id"`
}

type idHashOwner struct {
	MemberNo string `db:"member_no"`
	IDHash   string `db:"id_number_hash"`
}

// upsertChunk applies records with distinct member numbers and fills their outcomes.
func (db *DB) upsertChunk(ctx context.Context, tx *sqlx.Tx, chunk []*memberIn, units map[string]int64, out []UpsertOutcome) error {
	nos := make([]string, len(chunk))
	for i, m := range chunk {
		nos[i] = m.no
	}
	// On MySQL the rows are locked: a member binding between this read and
	// the write must not be unbound by it without the audit entry the read
	// decides on. SQLite's single writer already excludes that.
	q := selectExistingMembers
	if db.dialect == DialectMySQL {
		q += " FOR UPDATE"
	}
	var rows []existingMember
	if err := selectIn(ctx, tx, &rows, q, nos); err != nil {
		return fmt.Errorf("read existing members: %w", err)
	}
	existing := make(map[string]existingMember, len(rows))
	for _, r := range rows {
		existing[r.MemberNo] = r
	}
	if err := db.applyKept(ctx, tx, chunk, existing); err != nil {
		return err
	}

	var todo []*memberIn
	for _, m := range chunk {
		if e, ok := existing[m.no]; ok && e.RowHash == m.rowHash {
			out[m.pos] = UpsertOutcome{Result: Unchanged}
			continue
		}
		todo = append(todo, m)
	}
	if len(todo) == 0 {
		return nil
	}

	// An ID number held by another member number rejects the record before the write, so
	// the unique key never aborts the multi-row statement for everyone.
	hashes := make([]string, len(todo))
	for i, m := range todo {
		hashes[i] = m.idHash
	}
	var owners []idHashOwner
	if err := selectIn(ctx, tx, &owners, selectIDHashOwners, hashes); err != nil {
		return fmt.Errorf("read ID number owners: %w", err)
	}
	ownerOf := make(map[string]string, len(owners))
	for _, o := range owners {
		ownerOf[o.IDHash] = o.MemberNo
	}
	write := todo[:0:0]
	for _, m := range todo {
		if owner, ok := ownerOf[m.idHash]; ok && owner != m.no {
			out[m.pos] = UpsertOutcome{Result: Rejected, Err: fmt.Errorf(
				"member %s: %w: ID number already belongs to member %s", m.no, ErrConflict, owner)}
			continue
		}
		write = append(write, m)
	}
	if len(write) == 0 {
		return nil
	}

	names := make([]string, 0, len(write))
	for _, m := range write {
		if m.unit != "" {
			names = append(names, m.unit)
		}
	}
	if err := db.resolveUnits(ctx, tx, names, units); err != nil {
		return err
	}
	for _, m := range write {
		if err := db.encrypt(m); err != nil {
			return err
		}
	}
	// Member IDs: known for updated rows; for inserted ones, from the write or read back.
	ids := make(map[string]int64, len(write))
	var updated []int64
	for _, m := range write {
		if e, ok := existing[m.no]; ok {
			ids[m.no] = e.ID
			if !m.keep.MutualAidYears {
				updated = append(updated, e.ID)
			}
			// The write below drops the WeChat binding of a member whose ID number changed:
			// whoever bound it proved to be the previous person.
			if e.IDHash != m.idHash && e.OpenID.Valid {
				detail := fmt.Sprintf("导入名册时会员编号 %s 的身份证号已变更，已解除原微信绑定（%s）",
					pii.MaskMemberNo(m.no), e.OpenID.String)
				if err := db.auditTx(ctx, tx, AuditEntry{Actor: "import", Action: "member.unbind.id_changed",
					Subject: memberSubject(e.ID), Detail: detail,
					Before: map[string]string{"open_id": e.OpenID.String}, After: map[string]string{"open_id": ""}}); err != nil {
					return fmt.Errorf("audit unbind of member %s: %w", m.no, err)
				}
			}
		}
	}
	if err := db.writeMembers(ctx, tx, write, units, ids, db.now()); err != nil {
		return err
	}
	var newNos []string
	for _, m := range write {
		if _, ok := ids[m.no]; !ok {
			newNos = append(newNos, m.no)
		}
	}
	if len(newNos) > 0 {
		var got []existingMember
		if err := selectIn(ctx, tx, &got, selectMemberIDs, newNos); err != nil {
			return fmt.Errorf("read new member ids: %w", err)
		}
		for _, g := range got {
			ids[g.MemberNo] = g.ID
		}
	}
	if err := db.replaceEnrollments(ctx, tx, write, ids, updated); err != nil {
		return err
	}
	for _, m := range write {
		if _, ok := existing[m.no]; ok {
			out[m.pos] = UpsertOutcome{Result: Updated}
		} else {
			out[m.pos] = UpsertOutcome{Result: Inserted}
		}
	}
	return nil
}

const memberInsertColumns = `INSERT INTO members (member_no, name_enc, bind_hash, id_number_enc, id_number_hash,
    phone_enc, phone_hash, unit_id, joined_on, status, row_hash, created_at, updated_at) VALUES `

// The open_id and bound_at assignments compare with the old id_number_hash, so they come
// before it is overwritten: MySQL evaluates the assignments left to right.
const memberUpsertMySQL = ` ON DUPLICATE KEY UPDATE name_enc = VALUES(name_enc), bind_hash = VALUES(bind_hash),
    open_id = IF(id_number_hash = VALUES(id_number_hash), open_id, NULL),
    bound_at = IF(id_number_hash = VALUES(id_number_hash), bound_at, NULL),
    id_number_enc = VALUES(id_number_enc), id_number_hash = VALUES(id_number_hash),
    phone_enc = VALUES(phone_enc), phone_hash = VALUES(phone_hash), unit_id = VALUES(unit_id),
    joined_on = VALUES(joined_on), status = VALUES(status), row_hash = VALUES(row_hash),
    updated_at = VALUES(updated_at)`

const updateMemberSQLite = `UPDATE members SET name_enc = ?, bind_hash = ?,
    open_id = CASE WHEN id_number_hash = ? THEN open_id END, bound_at = CASE WHEN id_number_hash = ? THEN bound_at END,
    id_number_enc = ?, id_number_hash = ?, phone_enc = ?, phone_hash = ?, unit_id = ?, joined_on = ?, status = ?, row_hash = ?, updated_at = ?
WHERE id = ?`

// writeMembers inserts or updates the records; ids holds the ids of the members that
// exist. MySQL gets multi-row INSERT … ON DUPLICATE KEY UPDATE, which saves round trips.
// SQLite runs in-process, so round trips cost nothing, and its single writer means ids is
// exact: a prepared INSERT for new members (adding their ids to ids) and an UPDATE by id
// for changed ones. An SQLite upsert would be slower: a statement that may update a unique
// or foreign-key column needs a statement journal, which copies every page it touches.
func (db *DB) writeMembers(ctx context.Context, tx *sqlx.Tx, ms []*memberIn, units map[string]int64, ids map[string]int64, now time.Time) error {
	unitOf := func(m *memberIn) sql.NullInt64 {
		if m.unit == "" {
			return sql.NullInt64{}
		}
		return sql.NullInt64{Int64: units[m.unit], Valid: true}
	}
	if db.mysql() {
		const cols = 13
		for part := range slices.Chunk(ms, memberWriteRows) {
			args := make([]any, 0, len(part)*cols)
			for _, m := range part {
				args = append(args, m.no, m.nameEnc, m.bindHash, m.idEnc, m.idHash, m.phoneEnc, m.phoneHash,
					unitOf(m), m.joined, m.status, m.rowHash, now, now)
			}
			q := memberInsertColumns + placeholders(len(part), cols) + memberUpsertMySQL
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("write members: %w", mapErr(err))
			}
		}
		return nil
	}

	var ins, upd *sql.Stmt
	defer func() {
		for _, st := range []*sql.Stmt{ins, upd} {
			if st != nil {
				st.Close()
			}
		}
	}()
	for _, m := range ms {
		var err error
		if id, ok := ids[m.no]; ok {
			if upd == nil {
				if upd, err = tx.PrepareContext(ctx, updateMemberSQLite); err != nil {
					return fmt.Errorf("prepare member update: %w", err)
				}
			}
			_, err = upd.ExecContext(ctx, m.nameEnc, m.bindHash, m.idHash, m.idHash, m.idEnc, m.idHash, m.phoneEnc, m.phoneHash,
				unitOf(m), m.joined, m.status, m.rowHash, now, id)
		} else {
			if ins == nil {
				if ins, err = tx.PrepareContext(ctx, memberInsertColumns+placeholders(1, 13)); err != nil {
					return fmt.Errorf("prepare member insert: %w", err)
				}
			}
			var res sql.Result
			res, err = ins.ExecContext(ctx, m.no, m.nameEnc, m.bindHash, m.idEnc, m.idHash, m.phoneEnc, m.phoneHash,
				unitOf(m), m.joined, m.status, m.rowHash, now, now)
			if err == nil {
				ids[m.no], err = res.LastInsertId()
			}
		}
		if err != nil {
			return fmt.Errorf("write member %s: %w", m.no, mapErr(err))
		}
	}
	return nil
}
