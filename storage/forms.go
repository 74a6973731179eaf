package storage

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The forms members are half-way through live in the kv store with their
// session, which a Redis restart without persistence (or a restart of the
// embedded process) loses. open_forms is the durable note that a member has
// one open, written when a form starts or ends (not on every message), so the
// engine can tell the member their answers were lost and how to start again.

// OpenForm records that openID started form at at, replacing any earlier row.
func (db *DB) OpenForm(ctx context.Context, openID, form string, at time.Time) error {
	if openID == "" || form == "" {
		return fmt.Errorf("open form: %w: empty openid or form", ErrInvalid)
	}
	if at.IsZero() {
		at = db.now()
	}
	q := `INSERT INTO open_forms (open_id, form, started_at) VALUES (?, ?, ?)
ON CONFLICT (open_id) DO UPDATE SET form = excluded.form, started_at = excluded.started_at`
	if db.mysql() {
		q = `INSERT INTO open_forms (open_id, form, started_at) VALUES (?, ?, ?)
ON DUPLICATE KEY UPDATE form = VALUES(form), started_at = VALUES(started_at)`
	}
	if _, err := db.w.ExecContext(ctx, q, openID, form, utc(at)); err != nil {
		return fmt.Errorf("open form %s for %s: %w", form, openID, err)
	}
	return nil
}

// CloseForm removes openID's open-form row; none is not an error.
func (db *DB) CloseForm(ctx context.Context, openID string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM open_forms WHERE open_id = ?`, openID); err != nil {
		return fmt.Errorf("close form of %s: %w", openID, err)
	}
	return nil
}

// TakeOpenForm returns the form openID had open and removes the row, so that
// of several replicas asking at once only one is told (ok); ok is false when
// there was none.
func (db *DB) TakeOpenForm(ctx context.Context, openID string) (form string, ok bool, err error) {
	err = db.r.GetContext(ctx, &form, `SELECT form FROM open_forms WHERE open_id = ?`, openID)
	if err != nil {
		if err = mapErr(err); errors.Is(err, ErrNotFound) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("open form of %s: %w", openID, err)
	}
	res, err := db.w.ExecContext(ctx, `DELETE FROM open_forms WHERE open_id = ? AND form = ?`, openID, form)
	if err != nil {
		return "", false, fmt.Errorf("take open form of %s: %w", openID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return "", false, fmt.Errorf("take open form of %s: %w", openID, err)
	}
	return form, n == 1, nil
}

// HasDurableState reports, in one read, whether openID has a form draft or an
// open-form note (bot.DurableProbe).
func (db *DB) HasDurableState(ctx context.Context, openID string) (bool, error) {
	var has bool
	err := db.r.GetContext(ctx, &has, `SELECT EXISTS (SELECT 1 FROM form_drafts WHERE open_id = ?)
        OR EXISTS (SELECT 1 FROM open_forms WHERE open_id = ?)`, openID, openID)
	if err != nil {
		return false, fmt.Errorf("durable state of %s: %w", openID, err)
	}
	return has, nil
}
