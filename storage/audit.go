package storage

// The audit log. A change to state and its audit row commit in one transaction: every
// exported method that changes state takes an AuditEntry saying who asked (Actor, and
// RequestID/ClientAddr when known) and writes the row on its own transaction with
// db.auditTx, filling in what it changed (Action, Subject, Before, After). A crash between
// the two can then leave neither, never one without the other. A new repository method
// follows the same shape:
//
//	func (db *DB) DoThing(ctx context.Context, id int64, audit AuditEntry) error {
//		return db.inTx(ctx, func(tx *sqlx.Tx) error {
//			… change the rows on tx …
//			audit.Action, audit.Subject = "thing.do", fmt.Sprintf("thing:%d", id)
//			return db.auditTx(ctx, tx, audit)
//		})
//	}

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// AuditEntry is one row of the append-only audit log: what storage methods that change
// state take as their audit input, and what AuditEntries returns. On input the caller fills
// in who (Actor, RequestID, ClientAddr) and may add Detail; the method fills in what it
// changed. ID and At are set by storage.
//
// Callers pass masked text: Subject, Detail and the Before/After values must never hold raw
// personal information. As a last guard, anything shaped like a mainland ID number or mobile
// number is masked before it is stored.
type AuditEntry struct {
	ID         int64
	At         time.Time
	Actor      string            // who: "member:<openid>", "officer:alice", "cli", "import", "system"
	Action     string            // what, e.g. "member.bind"
	Subject    string            // on what, e.g. "member:42"
	Detail     string            // masked free text
	RequestID  string            // the request that made the change, when there was one
	ClientAddr string            // the client's address (console and API), when known
	Before     map[string]string // the changed fields before the change (masked); nil when none
	After      map[string]string // the changed fields after the change (masked); nil when none
}

const insertAudit = `INSERT INTO audit_log (at, actor, action, subject, detail, request_id, client_addr,
    before_state, after_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

// AddAudit appends an entry that goes with no state change of storage's own (a login, an
// export). A change made through storage writes its row itself, in the change's transaction.
func (db *DB) AddAudit(ctx context.Context, e AuditEntry) error {
	if err := db.auditTx(ctx, db.w, e); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// Audit appends one row with only the basic fields; see AddAudit.
func (db *DB) Audit(ctx context.Context, actor, action, subject, detail string) error {
	return db.AddAudit(ctx, AuditEntry{Actor: actor, Action: action, Subject: subject, Detail: detail})
}

// audit writes a basic row on x, the transaction of the change.
func (db *DB) audit(ctx context.Context, x sqlx.ExecerContext, actor, action, subject, detail string) error {
	return db.auditTx(ctx, x, AuditEntry{Actor: actor, Action: action, Subject: subject, Detail: detail})
}

// auditTx writes e on x, the transaction of the change it records.
func (db *DB) auditTx(ctx context.Context, x sqlx.ExecerContext, e AuditEntry) error {
	switch {
	case e.Actor == "" || e.Action == "":
		return fmt.Errorf("%w: audit needs an actor and an action", ErrInvalid)
	case utf8.RuneCountInString(e.Actor) > 100 || utf8.RuneCountInString(e.Action) > 100:
		return fmt.Errorf("%w: audit actor or action longer than 100 characters", ErrInvalid)
	case utf8.RuneCountInString(e.Subject) > 191:
		return fmt.Errorf("%w: audit subject longer than 191 characters", ErrInvalid)
	case len(e.Detail) > 60000:
		return fmt.Errorf("%w: audit detail longer than 60000 bytes", ErrInvalid)
	}
	before, err := auditState(e.Before)
	if err != nil {
		return err
	}
	after, err := auditState(e.After)
	if err != nil {
		return err
	}
	_, err = x.ExecContext(ctx, insertAudit, db.now(), e.Actor, e.Action, scrubPII(e.Subject), scrubPII(e.Detail),
		clip(e.RequestID, 64), clip(e.ClientAddr, 64), before, after)
	return err
}

// auditState encodes a before/after map as JSON with its values masked; nil stays NULL.
func auditState(m map[string]string) (sql.NullString, error) {
	if m == nil {
		return sql.NullString{}, nil
	}
	masked := make(map[string]string, len(m))
	for k, v := range m {
		masked[k] = scrubPII(v)
	}
	b, err := json.Marshal(masked) // keys sorted
	if err != nil {
		return sql.NullString{}, fmt.Errorf("encode audit state: %w", err)
	}
	if len(b) > 60000 {
		return sql.NullString{}, fmt.Errorf("%w: audit state longer than 60000 bytes", ErrInvalid)
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// clip cuts s to at most n bytes on a character boundary: request ids and addresses come
// from outside and only need to be recognisable.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

const auditColumns = `SELECT id, at, actor, action, subject, detail, request_id, client_addr, before_state,
    after_state FROM audit_log`

type auditRow struct {
	ID         int64          `db:"id"`
	At         time.Time      `db:"at"`
	Actor      string         `db:"actor"`
	Action     string         `db:"action"`
	Subject    string         `db:"subject"`
	Detail     string         `db:"detail"`
	RequestID  string         `db:"request_id"`
	ClientAddr string         `db:"client_addr"`
	Before     sql.NullString `db:"before_state"`
	After      sql.NullString `db:"after_state"`
}

func (r auditRow) toEntry() (AuditEntry, error) {
	e := AuditEntry{ID: r.ID, At: r.At.UTC(), Actor: r.Actor, Action: r.Action, Subject: r.Subject,
		Detail: r.Detail, RequestID: r.RequestID, ClientAddr: r.ClientAddr}
	for _, s := range []struct {
		col sql.NullString
		dst *map[string]string
	}{{r.Before, &e.Before}, {r.After, &e.After}} {
		if !s.col.Valid {
			continue
		}
		if err := json.Unmarshal([]byte(s.col.String), s.dst); err != nil {
			return AuditEntry{}, fmt.Errorf("audit entry %d: decode state: %w", r.ID, err)
		}
	}
	return e, nil
}

// defaultAuditLimit applies when AuditEntries is asked for limit <= 0.
const defaultAuditLimit = 100

// AuditEntries returns the newest entries about subject ("" means any subject), newest
// first, at most limit of them (100 when limit <= 0).
func (db *DB) AuditEntries(ctx context.Context, subject string, limit int) ([]AuditEntry, error) {
	if limit <= 0 {
		limit = defaultAuditLimit
	}
	var rows []auditRow
	var err error
	if subject == "" {
		err = db.r.SelectContext(ctx, &rows, auditColumns+` ORDER BY id DESC LIMIT ?`, limit)
	} else {
		err = db.r.SelectContext(ctx, &rows, auditColumns+` WHERE subject = ? ORDER BY id DESC LIMIT ?`, subject, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	out := make([]AuditEntry, len(rows))
	for i, r := range rows {
		if out[i], err = r.toEntry(); err != nil {
			return nil, fmt.Errorf("audit entries: %w", err)
		}
	}
	return out, nil
}

var (
	// An 18-character resident ID number (17 digits and a digit or X), not inside a longer number.
	idNumberShape = regexp.MustCompile(`(^|[^0-9])([0-9]{4})([0-9]{10})([0-9]{3}[0-9Xx])($|[^0-9])`)
	// An 11-digit mainland mobile number, not inside a longer number.
	mobileShape = regexp.MustCompile(`(^|[^0-9])(1[3-9][0-9])([0-9]{4})([0-9]{4})($|[^0-9])`)
)

// scrubPII masks ID-number and mobile-number shapes the way the rest of the product shows
// them (1101**********1234, 138****5678).
func scrubPII(s string) string {
	s = replaceAllOverlapping(idNumberShape, s, "${1}${2}**********${4}${5}")
	return replaceAllOverlapping(mobileShape, s, "${1}${2}****${4}${5}")
}

// replaceAllOverlapping repeats the replacement until nothing matches, because a match
// consumes the separator that the next number would need.
func replaceAllOverlapping(re *regexp.Regexp, s, repl string) string {
	for range 4 {
		next := re.ReplaceAllString(s, repl)
		if next == s {
			break
		}
		s = next
	}
	return s
}
