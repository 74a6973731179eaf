package storage

// Browsing the audit log (console 审计, GET /api/v1/audit). The log is append-only: there is
// no update or delete path anywhere in the code.

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// AuditFilter selects audit entries; empty fields do not filter.
type AuditFilter struct {
	Actor    string    // exact, e.g. "officer:alice"
	Action   string    // prefix, e.g. "member." or "member.unbind"
	Subject  string    // exact, e.g. "member:42"
	Since    time.Time // at or after
	BeforeID int64     // cursor: only entries with a smaller id
	Limit    int       // default 50, at most 1000
}

// AuditLog returns the entries f selects, newest first.
func (db *DB) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	var where []string
	var args []any
	if f.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, f.Actor)
	}
	if f.Action != "" {
		// '!' escapes: a backslash means different things in MySQL and SQLite literals.
		esc := strings.NewReplacer(`!`, `!!`, `%`, `!%`, `_`, `!_`).Replace(f.Action)
		where, args = append(where, `action LIKE ? ESCAPE '!'`), append(args, esc+"%")
	}
	if f.Subject != "" {
		where, args = append(where, "subject = ?"), append(args, f.Subject)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, utc(f.Since))
	}
	if f.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, f.BeforeID)
	}
	q := auditColumns
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	var rows []auditRow
	if err := db.r.SelectContext(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	out := make([]AuditEntry, len(rows))
	for i, r := range rows {
		var err error
		if out[i], err = r.toEntry(); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
	}
	return out, nil
}
