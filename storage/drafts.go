package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// A durable form (a mutual-aid claim) keeps its answers here as well as in the
// session, so that they survive a Redis restart, a deploy and days of
// silence: one draft per member and form, written when an answer is accepted.
// The answers hold medical and bank details, so the row is sealed with the
// PII cipher. The engine reads a draft only when a member starts such a form
// or comes back with no session at all, never on the hot path.

type draftBody struct {
	Step int               `json:"step"`
	Data map[string]string `json:"data"`
}

// SaveFormDraft stores (or replaces) openID's draft of form at step with its
// answers, updated at at. A new answer also re-arms the expiry reminder.
func (db *DB) SaveFormDraft(ctx context.Context, openID, form string, step int, data map[string]string, at time.Time) error {
	if openID == "" || form == "" {
		return fmt.Errorf("save draft: %w: empty openid or form", ErrInvalid)
	}
	if at.IsZero() {
		at = db.now()
	}
	b, err := json.Marshal(draftBody{Step: step, Data: data})
	if err != nil {
		return fmt.Errorf("save draft: %w", err)
	}
	sealed, err := db.cipher.Encrypt(string(b))
	if err != nil {
		return fmt.Errorf("save draft: %w", err)
	}
	q := `INSERT INTO form_drafts (open_id, form, step, data, created_at, updated_at, reminded_at) VALUES (?, ?, ?, ?, ?, ?, NULL)
ON CONFLICT (open_id, form) DO UPDATE SET step = excluded.step, data = excluded.data, updated_at = excluded.updated_at, reminded_at = NULL`
	if db.mysql() {
		q = `INSERT INTO form_drafts (open_id, form, step, data, created_at, updated_at, reminded_at) VALUES (?, ?, ?, ?, ?, ?, NULL)
ON DUPLICATE KEY UPDATE step = VALUES(step), data = VALUES(data), updated_at = VALUES(updated_at), reminded_at = NULL`
	}
	if _, err := db.w.ExecContext(ctx, q, openID, form, step, sealed, utc(at), utc(at)); err != nil {
		return fmt.Errorf("save draft %s of %s: %w", form, openID, err)
	}
	return nil
}

// FormDraft returns openID's draft of form; ok is false when there is none.
func (db *DB) FormDraft(ctx context.Context, openID, form string) (step int, data map[string]string, updated time.Time, ok bool, err error) {
	var r struct {
		Step    int       `db:"step"`
		Data    string    `db:"data"`
		Updated time.Time `db:"updated_at"`
	}
	err = db.r.GetContext(ctx, &r, `SELECT step, data, updated_at FROM form_drafts WHERE open_id = ? AND form = ?`, openID, form)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, time.Time{}, false, nil
	}
	if err != nil {
		return 0, nil, time.Time{}, false, fmt.Errorf("draft %s of %s: %w", form, openID, err)
	}
	body, err := db.openDraft(r.Data)
	if err != nil {
		return 0, nil, time.Time{}, false, fmt.Errorf("draft %s of %s: %w", form, openID, err)
	}
	return body.Step, body.Data, r.Updated.UTC(), true, nil
}

func (db *DB) openDraft(sealed string) (draftBody, error) {
	plain, err := db.cipher.Decrypt(sealed)
	if err != nil {
		return draftBody{}, err
	}
	var body draftBody
	if err := json.Unmarshal([]byte(plain), &body); err != nil {
		return draftBody{}, fmt.Errorf("decode: %w", err)
	}
	if body.Data == nil {
		body.Data = map[string]string{}
	}
	return body, nil
}

// LatestFormDraft names the form of openID's most recently updated draft;
// ok is false when the member has none.
func (db *DB) LatestFormDraft(ctx context.Context, openID string) (form string, ok bool, err error) {
	err = db.r.GetContext(ctx, &form, `SELECT form FROM form_drafts WHERE open_id = ? ORDER BY updated_at DESC LIMIT 1`, openID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("latest draft of %s: %w", openID, err)
	}
	return form, true, nil
}

// DeleteFormDraft removes openID's draft of form (submitted, abandoned or
// started over); none is not an error.
func (db *DB) DeleteFormDraft(ctx context.Context, openID, form string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM form_drafts WHERE open_id = ? AND form = ?`, openID, form); err != nil {
		return fmt.Errorf("delete draft %s of %s: %w", form, openID, err)
	}
	return nil
}

// DraftReminder is a draft whose member should be told it will expire.
type DraftReminder struct {
	OpenID  string
	Form    string
	Updated time.Time
	Expires time.Time
}

// DraftsToRemind returns, at most limit at a time, the drafts left untouched
// for idle (and not yet past keep, when they expire) whose member has not been
// reminded since their last answer, and marks them reminded: each draft is
// returned once, even with several replicas asking at once.
func (db *DB) DraftsToRemind(ctx context.Context, idle, keep time.Duration, limit int) ([]DraftReminder, error) {
	return db.RemindDrafts(ctx, idle, keep, limit, nil)
}

// RemindDrafts is DraftsToRemind that also enqueues msg(draft) for each draft
// it hands out, in the transaction that marks the draft reminded: a reminder
// is marked sent only with its message on the outbox. msg may be nil.
func (db *DB) RemindDrafts(ctx context.Context, idle, keep time.Duration, limit int, msg func(DraftReminder) OutboxMessage) ([]DraftReminder, error) {
	if limit <= 0 {
		limit = 100
	}
	now := db.now()
	var rows []struct {
		OpenID  string    `db:"open_id"`
		Form    string    `db:"form"`
		Updated time.Time `db:"updated_at"`
	}
	err := db.r.SelectContext(ctx, &rows, `SELECT open_id, form, updated_at FROM form_drafts
WHERE reminded_at IS NULL AND updated_at <= ? AND updated_at > ? ORDER BY updated_at LIMIT ?`,
		now.Add(-idle), now.Add(-keep), limit)
	if err != nil {
		return nil, fmt.Errorf("drafts to remind: %w", err)
	}
	var out []DraftReminder
	for _, r := range rows {
		d := DraftReminder{OpenID: r.OpenID, Form: r.Form, Updated: r.Updated.UTC(), Expires: r.Updated.UTC().Add(keep)}
		took := false
		err := db.inTx(ctx, func(tx *sqlx.Tx) error {
			// Only the replica whose update takes the row reminds; a draft
			// answered meanwhile (updated_at moved) is not reminded.
			res, err := tx.ExecContext(ctx, `UPDATE form_drafts SET reminded_at = ?
WHERE open_id = ? AND form = ? AND reminded_at IS NULL AND updated_at = ?`, now, r.OpenID, r.Form, utc(r.Updated))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil || n != 1 {
				return err
			}
			took = true
			if msg != nil {
				_, err = db.Enqueue(ctx, tx, msg(d))
			}
			return err
		})
		if err != nil {
			return out, fmt.Errorf("mark draft reminded: %w", err)
		}
		if took {
			out = append(out, d)
		}
	}
	return out, nil
}

// PurgeFormDrafts deletes drafts untouched for keep and returns how many went.
func (db *DB) PurgeFormDrafts(ctx context.Context, keep time.Duration) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM form_drafts WHERE updated_at <= ?`, db.now().Add(-keep))
	if err != nil {
		return 0, fmt.Errorf("purge drafts: %w", err)
	}
	return res.RowsAffected()
}
