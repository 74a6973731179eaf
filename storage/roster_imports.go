package storage

// Roster import jobs. The console checks an uploaded roster (a dry run, in the request) and
// keeps the file here — encrypted, in chunks every replica can read — as an import in status
// "checked" for an hour. 确认导入 queues it; a replica claims it (a lease it renews while it
// works) and applies it in batches: each batch's members, the import's progress (counts,
// the last file row accounted for) and the row errors found since the previous batch commit
// in ONE transaction, guarded by the lease. A worker that dies leaves its lease to run out;
// another replica then claims the import and resumes after the last committed batch, so no
// row is applied or counted twice. An import claimed too often without finishing is marked
// failed with a reason, never left silent. Finishing (or failing) drops the file.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Statuses of a roster import.
const (
	ImportChecked = "checked" // dry run shown, waiting for 确认导入 until ExpiresAt
	ImportQueued  = "queued"  // confirmed, waiting for a worker
	ImportRunning = "running" // a worker holds the lease
	ImportDone    = "done"
	ImportFailed  = "failed"
)

// MaxImportAttempts is how many times an import is claimed before it is marked failed (a
// file that kills its worker every time must not be retried for ever).
const MaxImportAttempts = 3

// importChunk is the size of one stored piece of a roster file: sealed and base64-encoded
// it stays well under MariaDB's default 16 MB max_allowed_packet.
const importChunk = 4 << 20

// ErrLeaseLost means another worker has taken the import over (this one was too slow to
// renew its lease); the caller stops without writing anything more.
var ErrLeaseLost = fmt.Errorf("%w: the import's lease belongs to another worker", ErrConflict)

// RosterImport is one import job.
type RosterImport struct {
	ID        int64  `db:"id"`
	Status    string `db:"status"`
	FileName  string `db:"file_name"`
	Format    string `db:"format"` // "csv" or "xlsx"
	Size      int64  `db:"size"`
	SHA256    string `db:"sha256"`
	RowsTotal int    `db:"rows_total"` // data rows the dry run read
	Accepted  int    `db:"accepted"`   // rows the dry run found valid
	// Progress, as of the last committed batch.
	LastRow       int    `db:"last_row"` // file row up to which every row is accounted for
	RowsDone      int    `db:"rows_done"`
	Inserted      int    `db:"inserted"`
	Updated       int    `db:"updated"`
	Unchanged     int    `db:"unchanged"`
	Rejected      int    `db:"rejected"`
	ErrorsOmitted int    `db:"errors_omitted"`
	Message       string `db:"message"` // why it failed, in Chinese
	CreatedBy     string `db:"created_by"`
	QueuedBy      string `db:"queued_by"`
	RequestID     string `db:"request_id"`
	ClientAddr    string `db:"client_addr"`
	LeaseOwner    string `db:"lease_owner"`
	Attempts      int    `db:"attempts"`
	ErrorsKept    int    `db:"-"` // row errors stored (filled by ClaimRosterImport)
	LeaseUntil    time.Time
	CreatedAt     time.Time
	ExpiresAt     time.Time
	StartedAt     time.Time
	UpdatedAt     time.Time
	FinishedAt    time.Time
}

// Finished reports whether the import has ended (done or failed).
func (r RosterImport) Finished() bool { return r.Status == ImportDone || r.Status == ImportFailed }

type rosterImportRow struct {
	RosterImport
	LeaseUntilN sql.NullTime `db:"lease_until"`
	CreatedAtN  time.Time    `db:"created_at"`
	ExpiresAtN  sql.NullTime `db:"expires_at"`
	StartedAtN  sql.NullTime `db:"started_at"`
	UpdatedAtN  time.Time    `db:"updated_at"`
	FinishedAtN sql.NullTime `db:"finished_at"`
}

func (r rosterImportRow) out() RosterImport {
	v := r.RosterImport
	v.LeaseUntil, v.CreatedAt, v.ExpiresAt = timeOf(r.LeaseUntilN), utc(r.CreatedAtN), timeOf(r.ExpiresAtN)
	v.StartedAt, v.UpdatedAt, v.FinishedAt = timeOf(r.StartedAtN), utc(r.UpdatedAtN), timeOf(r.FinishedAtN)
	return v
}

const selectRosterImport = `SELECT id, status, file_name, format, size, sha256, rows_total, accepted, last_row, rows_done,
    inserted, updated, unchanged, rejected, errors_omitted, message, created_by, queued_by, request_id, client_addr,
    lease_owner, lease_until, attempts, created_at, expires_at, started_at, updated_at, finished_at FROM roster_imports`

// ImportRowError is one refused cell of an import, as officers read it.
type ImportRowError struct {
	Row    int    `db:"row_no"`
	Column string `db:"column_name"`
	Reason string `db:"reason"`
}

// ImportProgress is how far an import got: every file row up to LastRow is accounted for in
// the counts (totals so far); Errors are the row errors found since the previous batch.
type ImportProgress struct {
	LastRow, Rows, Inserted, Updated, Unchanged, Rejected, ErrorsOmitted int
	Errors                                                               []ImportRowError
}

// NewRosterImport is a checked roster file to keep until 确认导入.
type NewRosterImport struct {
	FileName  string
	Format    string // "csv" or "xlsx"
	Data      []byte
	RowsTotal int
	Accepted  int
	CreatedBy string    // the officer who uploaded it (audit actor)
	Expires   time.Time // when an unconfirmed upload is dropped
}

// CreateRosterImport keeps a checked roster file (encrypted) as an import in status checked.
func (db *DB) CreateRosterImport(ctx context.Context, n NewRosterImport) (RosterImport, error) {
	if len(n.Data) == 0 || (n.Format != "csv" && n.Format != "xlsx") || n.CreatedBy == "" || n.Expires.IsZero() {
		return RosterImport{}, fmt.Errorf("create roster import: %w: data, format, creator and expiry are required", ErrInvalid)
	}
	name := clip(n.FileName, 255)
	sum := sha256.Sum256(n.Data)
	now := db.now()
	var id int64
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO roster_imports (status, file_name, format, size, sha256, rows_total, accepted,
    created_by, created_at, expires_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ImportChecked, name, n.Format, len(n.Data), hex.EncodeToString(sum[:]), n.RowsTotal, n.Accepted, n.CreatedBy,
			now, utc(n.Expires), now)
		if err != nil {
			return mapErr(err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		for seq, off := 0, 0; off < len(n.Data); seq, off = seq+1, off+importChunk {
			sealed, err := db.cipher.Encrypt(string(n.Data[off:min(off+importChunk, len(n.Data))]))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO roster_import_chunks (import_id, seq, data) VALUES (?, ?, ?)`,
				id, seq, []byte(sealed)); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
	if err != nil {
		return RosterImport{}, fmt.Errorf("create roster import: %w", err)
	}
	return db.RosterImport(ctx, id)
}

// RosterImport returns an import, or ErrNotFound.
func (db *DB) RosterImport(ctx context.Context, id int64) (RosterImport, error) {
	return db.rosterImportOn(ctx, db.r, id)
}

func (db *DB) rosterImportOn(ctx context.Context, q sqlx.QueryerContext, id int64) (RosterImport, error) {
	var r rosterImportRow
	if err := sqlx.GetContext(ctx, q, &r, selectRosterImport+` WHERE id = ?`, id); err != nil {
		return RosterImport{}, fmt.Errorf("roster import %d: %w", id, mapErr(err))
	}
	return r.out(), nil
}

// RosterImportErrors returns up to limit row errors of an import, by row, and how many it
// holds in all.
func (db *DB) RosterImportErrors(ctx context.Context, id int64, limit int) ([]ImportRowError, int, error) {
	out := []ImportRowError{}
	var total int
	if err := db.r.GetContext(ctx, &total, `SELECT COUNT(*) FROM roster_import_errors WHERE import_id = ?`, id); err != nil {
		return nil, 0, fmt.Errorf("roster import %d errors: %w", id, err)
	}
	if err := db.r.SelectContext(ctx, &out, `SELECT row_no, column_name, reason FROM roster_import_errors
WHERE import_id = ? ORDER BY row_no, id LIMIT ?`, id, limit); err != nil {
		return nil, 0, fmt.Errorf("roster import %d errors: %w", id, err)
	}
	return out, total, nil
}

// RosterImportData returns the import's file, decrypted.
func (db *DB) RosterImportData(ctx context.Context, id int64) ([]byte, error) {
	var chunks [][]byte
	if err := db.r.SelectContext(ctx, &chunks, `SELECT data FROM roster_import_chunks WHERE import_id = ? ORDER BY seq`, id); err != nil {
		return nil, fmt.Errorf("roster import %d file: %w", id, err)
	}
	if len(chunks) == 0 {
		return nil, fmt.Errorf("roster import %d file: %w", id, ErrNotFound)
	}
	var b strings.Builder
	for _, c := range chunks {
		plain, err := db.cipher.Decrypt(string(c))
		if err != nil {
			return nil, fmt.Errorf("roster import %d file: %w", id, err)
		}
		b.WriteString(plain)
	}
	return []byte(b.String()), nil
}

// QueueRosterImport confirms a checked import (确认导入): it waits for a worker from now on.
// ErrNotFound when there is no such import or its hour has passed; ErrConflict when it was
// confirmed already. The audit row "roster.import.queue" commits with the change.
func (db *DB) QueueRosterImport(ctx context.Context, id int64, audit AuditEntry) (RosterImport, error) {
	now := db.now()
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		cur, err := db.rosterImportOn(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case cur.Status != ImportChecked:
			return ErrConflict
		case !now.Before(cur.ExpiresAt):
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `UPDATE roster_imports SET status = ?, queued_by = ?, request_id = ?, client_addr = ?,
    expires_at = NULL, updated_at = ? WHERE id = ? AND status = ?`, ImportQueued, audit.Actor, audit.RequestID, audit.ClientAddr,
			now, id, ImportChecked); err != nil {
			return err
		}
		audit.Action, audit.Subject = "roster.import.queue", fmt.Sprintf("roster_import:%d", id)
		audit.Detail = fmt.Sprintf("确认导入 %d 行（文件共 %d 行）", cur.Accepted, cur.RowsTotal)
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return RosterImport{}, fmt.Errorf("queue roster import %d: %w", id, err)
	}
	return db.RosterImport(ctx, id)
}

// RosterImportsToRun lists imports a worker may claim now: queued ones, and running ones
// whose worker's lease has run out.
func (db *DB) RosterImportsToRun(ctx context.Context, limit int) ([]int64, error) {
	var ids []int64
	if err := db.r.SelectContext(ctx, &ids, `SELECT id FROM roster_imports WHERE status = ? OR (status = ? AND lease_until < ?)
ORDER BY id LIMIT ?`, ImportQueued, ImportRunning, db.now(), limit); err != nil {
		return nil, fmt.Errorf("roster imports to run: %w", err)
	}
	return ids, nil
}

// ClaimRosterImport gives the import to owner until now+lease when it is queued or its
// previous worker's lease has run out; ErrConflict when another worker holds it or it is
// not waiting. The returned import says where to resume (LastRow, counts, ErrorsKept).
func (db *DB) ClaimRosterImport(ctx context.Context, id int64, owner string, lease time.Duration) (RosterImport, error) {
	if owner == "" || lease <= 0 {
		return RosterImport{}, fmt.Errorf("claim roster import: %w: owner and lease are required", ErrInvalid)
	}
	now := db.now()
	res, err := db.w.ExecContext(ctx, `UPDATE roster_imports SET status = ?, lease_owner = ?, lease_until = ?, attempts = attempts + 1,
    started_at = COALESCE(started_at, ?), updated_at = ? WHERE id = ? AND (status = ? OR (status = ? AND lease_until < ?))`,
		ImportRunning, owner, now.Add(lease), now, now, id, ImportQueued, ImportRunning, now)
	if err != nil {
		return RosterImport{}, fmt.Errorf("claim roster import %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return RosterImport{}, fmt.Errorf("claim roster import %d: %w", id, errors.Join(ErrConflict, err))
	}
	imp, err := db.RosterImport(ctx, id)
	if err != nil {
		return RosterImport{}, err
	}
	if _, imp.ErrorsKept, err = db.RosterImportErrors(ctx, id, 0); err != nil {
		return RosterImport{}, fmt.Errorf("claim roster import %d: %w", id, err)
	}
	return imp, nil
}

// RenewRosterImportLease extends owner's lease; ErrLeaseLost when owner no longer holds it.
func (db *DB) RenewRosterImportLease(ctx context.Context, id int64, owner string, lease time.Duration) error {
	now := db.now()
	return db.leased(ctx, db.w, id, owner, "renew roster import lease", `UPDATE roster_imports SET lease_until = ?, updated_at = ?
WHERE id = ? AND status = ? AND lease_owner = ?`, now.Add(lease), now, id, ImportRunning, owner)
}

// leased runs an UPDATE guarded by the lease (its last two arguments are status running
// and owner): no row changed means the lease is lost.
func (db *DB) leased(ctx context.Context, x sqlx.ExecerContext, id int64, owner, what, query string, args ...any) error {
	res, err := x.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s %d: %w", what, id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%s %d (%s): %w", what, id, owner, errors.Join(ErrLeaseLost, err))
	}
	return nil
}

// ApplyRosterBatch stores a batch of the import's records (as UpsertMembers) and, in the
// same transaction, the progress progress computes from the outcomes, renewing owner's
// lease; when owner has lost the lease nothing is stored and the error is ErrLeaseLost.
// progress may run more than once (a retried transaction) and must not keep state.
func (db *DB) ApplyRosterBatch(ctx context.Context, id int64, owner string, lease time.Duration, recs []MemberRecord,
	progress func([]UpsertOutcome) ImportProgress) ([]UpsertOutcome, error) {
	out, err := db.upsertMembers(ctx, recs, func(tx *sqlx.Tx, outs []UpsertOutcome) error {
		p := progress(outs)
		now := db.now()
		if err := db.leased(ctx, tx, id, owner, "roster import progress", `UPDATE roster_imports SET last_row = ?, rows_done = ?,
    inserted = ?, updated = ?, unchanged = ?, rejected = ?, errors_omitted = ?, lease_until = ?, updated_at = ?
WHERE id = ? AND status = ? AND lease_owner = ?`, p.LastRow, p.Rows, p.Inserted, p.Updated, p.Unchanged, p.Rejected,
			p.ErrorsOmitted, now.Add(lease), now, id, ImportRunning, owner); err != nil {
			return err
		}
		return db.insertImportErrors(ctx, tx, id, p.Errors)
	})
	if err != nil {
		return nil, fmt.Errorf("roster import %d batch: %w", id, err)
	}
	return out, nil
}

// insertImportErrors appends row errors, several rows per statement.
func (db *DB) insertImportErrors(ctx context.Context, tx *sqlx.Tx, id int64, errs []ImportRowError) error {
	const per = 200
	for len(errs) > 0 {
		n := min(per, len(errs))
		q := `INSERT INTO roster_import_errors (import_id, row_no, column_name, reason) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?),", n), ",")
		args := make([]any, 0, 4*n)
		for _, e := range errs[:n] {
			args = append(args, id, e.Row, clip(e.Column, 255), clip(e.Reason, 500))
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("store import errors: %w", err)
		}
		errs = errs[n:]
	}
	return nil
}

// FinishRosterImport marks owner's import done, drops its file and writes the audit row
// "roster.import" for the officer who confirmed it, in one transaction.
func (db *DB) FinishRosterImport(ctx context.Context, id int64, owner string) error {
	return db.endRosterImport(ctx, id, owner, ImportDone, "", "roster.import")
}

// FailRosterImport marks owner's import failed with message (Chinese, for officers), drops
// its file and audits "roster.import.failed"; the rows of batches already committed stay.
func (db *DB) FailRosterImport(ctx context.Context, id int64, owner, message string) error {
	return db.endRosterImport(ctx, id, owner, ImportFailed, clip(message, 500), "roster.import.failed")
}

func (db *DB) endRosterImport(ctx context.Context, id int64, owner, status, message, action string) error {
	now := db.now()
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := db.leased(ctx, tx, id, owner, "end roster import", `UPDATE roster_imports SET status = ?, message = ?,
    lease_owner = '', lease_until = NULL, finished_at = ?, updated_at = ? WHERE id = ? AND status = ? AND lease_owner = ?`,
			status, message, now, now, id, ImportRunning, owner); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM roster_import_chunks WHERE import_id = ?`, id); err != nil {
			return err
		}
		imp, err := db.rosterImportOn(ctx, tx, id)
		if err != nil {
			return err
		}
		a := AuditEntry{Actor: imp.QueuedBy, RequestID: imp.RequestID, ClientAddr: imp.ClientAddr, Action: action,
			Subject: fmt.Sprintf("roster_import:%d", id), Detail: fmt.Sprintf("%d 行：新增 %d，更新 %d，未变化 %d，拒绝 %d",
				imp.RowsDone, imp.Inserted, imp.Updated, imp.Unchanged, imp.Rejected)}
		if a.Actor == "" {
			a.Actor = "import"
		}
		if message != "" {
			a.Detail += "；" + message
		}
		return db.auditTx(ctx, tx, a)
	})
	if err != nil {
		return fmt.Errorf("end roster import %d: %w", id, err)
	}
	return nil
}

// PurgeRosterImports drops checked imports nobody confirmed in time (file and row).
func (db *DB) PurgeRosterImports(ctx context.Context) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var ids []int64
		if err := tx.SelectContext(ctx, &ids, `SELECT id FROM roster_imports WHERE status = ? AND expires_at <= ?`,
			ImportChecked, db.now()); err != nil || len(ids) == 0 {
			return err
		}
		for _, table := range []string{"roster_import_chunks", "roster_import_errors"} {
			q, args, err := sqlx.In(`DELETE FROM `+table+` WHERE import_id IN (?)`, ids)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		q, args, err := sqlx.In(`DELETE FROM roster_imports WHERE id IN (?)`, ids)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge roster imports: %w", err)
	}
	return n, nil
}
