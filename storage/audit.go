package storage

import (
	"context"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

const insertAudit = `INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)`

// Audit appends one row to the audit log. Callers pass masked text: detail and subject must
// never hold raw personal information. As a last guard, anything shaped like a mainland ID
// number or mobile number is masked before it is stored.
func (db *DB) Audit(ctx context.Context, actor, action, subject, detail string) error {
	if err := db.audit(ctx, db.w, actor, action, subject, detail); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// audit writes the row on x, so a repository can log inside the transaction of the change.
func (db *DB) audit(ctx context.Context, x sqlx.ExecerContext, actor, action, subject, detail string) error {
	switch {
	case actor == "" || action == "":
		return fmt.Errorf("%w: audit needs an actor and an action", ErrInvalid)
	case utf8.RuneCountInString(actor) > 100 || utf8.RuneCountInString(action) > 100:
		return fmt.Errorf("%w: audit actor or action longer than 100 characters", ErrInvalid)
	case utf8.RuneCountInString(subject) > 191:
		return fmt.Errorf("%w: audit subject longer than 191 characters", ErrInvalid)
	case len(detail) > 60000:
		return fmt.Errorf("%w: audit detail longer than 60000 bytes", ErrInvalid)
	}
	_, err := x.ExecContext(ctx, insertAudit, db.now(), actor, action, scrubPII(subject), scrubPII(detail))
	return err
}

const auditColumns = `SELECT id, at, actor, action, subject, detail FROM audit_log`

type auditRow struct {
	ID      int64     `db:"id"`
	At      time.Time `db:"at"`
	Actor   string    `db:"actor"`
	Action  string    `db:"action"`
	Subject string    `db:"subject"`
	Detail  string    `db:"detail"`
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
		out[i] = AuditEntry{ID: r.ID, At: r.At.UTC(), Actor: r.Actor, Action: r.Action, Subject: r.Subject, Detail: r.Detail}
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
