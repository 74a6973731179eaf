package storage

// What officers change in the knowledge base from the console and the API: entries saved
// and retired with an audit row in their transaction, members' phrasings attached to an
// entry as paraphrases, and the knowledge version every replica polls to rebuild its
// matcher at once (no restart) when any of these change.

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
)

// FAQParaphrase is a member's phrasing an officer attached to an entry.
type FAQParaphrase struct {
	ID        int64  `db:"id"`
	FAQID     int64  `db:"faq_id"`
	Text      string `db:"text"`
	CreatedBy string `db:"created_by"`
}

// FAQVersion is a counter raised by every change made through SaveFAQ, RetireFAQ and
// AttachParaphrases. Replicas compare it with the one their index was built at.
func (db *DB) FAQVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := db.r.GetContext(ctx, &v, `SELECT COALESCE(MAX(version), 0) FROM faq_version`); err != nil {
		return 0, fmt.Errorf("faq version: %w", err)
	}
	return v, nil
}

func (db *DB) bumpFAQVersion(ctx context.Context, tx *sqlx.Tx) error {
	q := `INSERT INTO faq_version (id, version) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET version = faq_version.version + 1`
	if db.mysql() {
		q = `INSERT INTO faq_version (id, version) VALUES (1, 1) ON DUPLICATE KEY UPDATE version = version + 1`
	}
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("bump faq version: %w", err)
	}
	return nil
}

// FAQParaphrases returns every attached paraphrase by entry, in the order attached.
func (db *DB) FAQParaphrases(ctx context.Context) (map[int64][]string, error) {
	var rows []FAQParaphrase
	if err := db.r.SelectContext(ctx, &rows, `SELECT id, faq_id, text, created_by FROM faq_paraphrases ORDER BY id`); err != nil {
		return nil, fmt.Errorf("faq paraphrases: %w", err)
	}
	out := map[int64][]string{}
	for _, r := range rows {
		out[r.FAQID] = append(out[r.FAQID], r.Text)
	}
	return out, nil
}

func faqState(f FAQ) map[string]string {
	return map[string]string{
		"question": f.Question, "answer": clipRunes(f.Answer, 300), "category": f.Category,
		"alternates": strings.Join(f.Alternates, " | "), "enabled": strconv.FormatBool(f.Enabled),
	}
}

// SaveFAQ creates the entry (f.ID 0: the database picks the id) or replaces it, with the
// audit row (faq.create / faq.update, before and after) in the same transaction, and
// raises the knowledge version. It returns the entry's id.
func (db *DB) SaveFAQ(ctx context.Context, f FAQ, audit AuditEntry) (int64, error) {
	if err := checkFAQ(f); err != nil {
		return 0, fmt.Errorf("save faq: %w", err)
	}
	var id int64
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		id, err = db.saveFAQTx(ctx, tx, f, audit)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("save faq: %w", err)
	}
	return id, nil
}

func (db *DB) saveFAQTx(ctx context.Context, tx *sqlx.Tx, f FAQ, audit AuditEntry) (int64, error) {
	id := f.ID
	if f.ID == 0 {
		var err error
		if id, err = db.createFAQ(ctx, tx, f); err != nil {
			return 0, err
		}
		audit.Action, audit.After = "faq.create", faqState(f)
	} else {
		var r faqRow
		if err := tx.GetContext(ctx, &r, faqColumns+` WHERE id = ?`, f.ID); err != nil {
			return 0, mapErr(err)
		}
		old, err := r.toFAQ()
		if err != nil {
			return 0, err
		}
		alts, err := alternatesJSON(f.Alternates)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, updateFAQ, f.Question, alts, f.Answer, f.Category, f.Enabled, db.now(), f.ID); err != nil {
			return 0, err
		}
		audit.Action, audit.Before, audit.After = "faq.update", faqState(old), faqState(f)
	}
	audit.Subject = fmt.Sprintf("faq:%d", id)
	if err := db.bumpFAQVersion(ctx, tx); err != nil {
		return 0, err
	}
	return id, db.auditTx(ctx, tx, audit)
}

// RetireFAQ disables the entry (members no longer get it; officers still see it and may
// enable it again), audited as faq.retire.
func (db *DB) RetireFAQ(ctx context.Context, id int64, audit AuditEntry) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE faqs SET enabled = ?, updated_at = ? WHERE id = ?`, false, db.now(), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrNotFound
		}
		if err := db.bumpFAQVersion(ctx, tx); err != nil {
			return err
		}
		audit.Action, audit.Subject = "faq.retire", fmt.Sprintf("faq:%d", id)
		audit.Before, audit.After = map[string]string{"enabled": "true"}, map[string]string{"enabled": "false"}
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("retire faq %d: %w", id, err)
	}
	return nil
}

// AttachParaphrases attaches the unanswered questions ids to entry faqID: each distinct
// question text not yet a paraphrase of the entry becomes one, the questions are marked
// attached (they leave the pending list), the knowledge version rises and the audit row
// (faq.attach) is written, all in one transaction. It returns how many paraphrases were
// added. ErrNotFound when the entry does not exist.
func (db *DB) AttachParaphrases(ctx context.Context, faqID int64, ids []int64, audit AuditEntry) (int, error) {
	var added int
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		added, err = db.attachParaphrasesTx(ctx, tx, faqID, ids, audit)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("attach to faq %d: %w", faqID, err)
	}
	return added, nil
}

// CreateFAQFromUnanswered creates entry f with the unanswered questions ids as its first
// paraphrases, in one transaction with both audit rows. It returns the new entry's id.
func (db *DB) CreateFAQFromUnanswered(ctx context.Context, f FAQ, ids []int64, audit AuditEntry) (int64, error) {
	if err := checkFAQ(f); err != nil {
		return 0, fmt.Errorf("create faq: %w", err)
	}
	f.ID = 0
	var id int64
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if id, err = db.saveFAQTx(ctx, tx, f, audit); err != nil {
			return err
		}
		_, err = db.attachParaphrasesTx(ctx, tx, id, ids, audit)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("create faq: %w", err)
	}
	return id, nil
}

func (db *DB) attachParaphrasesTx(ctx context.Context, tx *sqlx.Tx, faqID int64, ids []int64, audit AuditEntry) (int, error) {
	var exists int
	if err := tx.GetContext(ctx, &exists, `SELECT COUNT(*) FROM faqs WHERE id = ?`, faqID); err != nil {
		return 0, err
	}
	if exists == 0 {
		return 0, ErrNotFound
	}
	qs, err := db.unansweredByIDs(ctx, tx, ids)
	if err != nil {
		return 0, err
	}
	if len(qs) == 0 {
		return 0, fmt.Errorf("%w: no such unanswered questions", ErrNotFound)
	}
	var have []string
	if err := tx.SelectContext(ctx, &have, `SELECT text FROM faq_paraphrases WHERE faq_id = ?`, faqID); err != nil {
		return 0, err
	}
	seen := map[string]bool{}
	for _, h := range have {
		seen[h] = true
	}
	var texts []string
	for _, q := range qs {
		if !seen[q.Question] {
			seen[q.Question] = true
			texts = append(texts, q.Question)
		}
	}
	now := db.now()
	for _, t := range texts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO faq_paraphrases (faq_id, text, created_at, created_by) VALUES (?, ?, ?, ?)`,
			faqID, t, now, clip(audit.Actor, 100)); err != nil {
			return 0, err
		}
	}
	query, args, err := sqlx.In(`UPDATE unanswered_questions SET attached_faq_id = ?, resolved_at = ? WHERE id IN (?)`, faqID, now, ids)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return 0, err
	}
	if err := db.bumpFAQVersion(ctx, tx); err != nil {
		return 0, err
	}
	audit.Action, audit.Subject = "faq.attach", fmt.Sprintf("faq:%d", faqID)
	audit.Before = nil
	audit.After = map[string]string{"paraphrases": strings.Join(texts, " | "), "questions": strconv.Itoa(len(qs))}
	return len(texts), db.auditTx(ctx, tx, audit)
}
