package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

const faqColumns = `SELECT id, question, alternates, answer, category, enabled, updated_at FROM faqs`

type faqRow struct {
	ID         int64     `db:"id"`
	Question   string    `db:"question"`
	Alternates string    `db:"alternates"` // JSON array of strings
	Answer     string    `db:"answer"`
	Category   string    `db:"category"`
	Enabled    bool      `db:"enabled"`
	UpdatedAt  time.Time `db:"updated_at"`
}

func (r faqRow) toFAQ() (FAQ, error) {
	f := FAQ{ID: r.ID, Question: r.Question, Answer: r.Answer, Category: r.Category, Enabled: r.Enabled, UpdatedAt: r.UpdatedAt.UTC()}
	if r.Alternates != "" {
		if err := json.Unmarshal([]byte(r.Alternates), &f.Alternates); err != nil {
			return FAQ{}, fmt.Errorf("faq %d alternates: %w", r.ID, err)
		}
	}
	if len(f.Alternates) == 0 {
		f.Alternates = nil
	}
	return f, nil
}

func alternatesJSON(alts []string) (string, error) {
	if len(alts) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(alts)
	return string(b), err
}

func checkFAQ(f FAQ) error {
	switch {
	case strings.TrimSpace(f.Question) == "":
		return fmt.Errorf("%w: question is empty", ErrInvalid)
	case strings.TrimSpace(f.Answer) == "":
		return fmt.Errorf("%w: answer is empty", ErrInvalid)
	case f.ID < 0:
		return fmt.Errorf("%w: negative id", ErrInvalid)
	case utf8.RuneCountInString(f.Category) > 100:
		return fmt.Errorf("%w: category longer than 100 characters", ErrInvalid)
	case len(f.Question) > 60000 || len(f.Answer) > 60000:
		return fmt.Errorf("%w: question or answer longer than 60000 bytes", ErrInvalid)
	}
	return nil
}

// FAQs returns every entry, enabled or not, ordered by id.
func (db *DB) FAQs(ctx context.Context) ([]FAQ, error) {
	var rows []faqRow
	if err := db.r.SelectContext(ctx, &rows, faqColumns+` ORDER BY id`); err != nil {
		return nil, fmt.Errorf("faqs: %w", err)
	}
	out := make([]FAQ, 0, len(rows))
	for _, r := range rows {
		f, err := r.toFAQ()
		if err != nil {
			return nil, fmt.Errorf("faqs: %w", err)
		}
		out = append(out, f)
	}
	return out, nil
}

// FAQByID returns one entry or ErrNotFound.
func (db *DB) FAQByID(ctx context.Context, id int64) (FAQ, error) {
	var r faqRow
	if err := db.r.GetContext(ctx, &r, faqColumns+` WHERE id = ?`, id); err != nil {
		return FAQ{}, fmt.Errorf("faq %d: %w", id, mapErr(err))
	}
	return r.toFAQ()
}

const (
	insertFAQ       = `INSERT INTO faqs (question, alternates, answer, category, enabled, updated_at) VALUES (?, ?, ?, ?, ?, ?)`
	insertFAQWithID = `INSERT INTO faqs (id, question, alternates, answer, category, enabled, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`
)

// CreateFAQ stores a new entry and returns its id. With f.ID > 0 the entry gets that id
// (ErrConflict when it is taken); otherwise the database picks one. UpdatedAt is set to now.
func (db *DB) CreateFAQ(ctx context.Context, f FAQ) (int64, error) {
	id, err := db.createFAQ(ctx, db.w, f)
	if err != nil {
		return 0, fmt.Errorf("create faq: %w", err)
	}
	return id, nil
}

func (db *DB) createFAQ(ctx context.Context, x sqlx.ExecerContext, f FAQ) (int64, error) {
	if err := checkFAQ(f); err != nil {
		return 0, err
	}
	alts, err := alternatesJSON(f.Alternates)
	if err != nil {
		return 0, err
	}
	if f.ID > 0 {
		if _, err := x.ExecContext(ctx, insertFAQWithID, f.ID, f.Question, alts, f.Answer, f.Category, f.Enabled, db.now()); err != nil {
			return 0, mapErr(err)
		}
		return f.ID, nil
	}
	res, err := x.ExecContext(ctx, insertFAQ, f.Question, alts, f.Answer, f.Category, f.Enabled, db.now())
	if err != nil {
		return 0, mapErr(err)
	}
	return res.LastInsertId()
}

const updateFAQ = `UPDATE faqs SET question = ?, alternates = ?, answer = ?, category = ?, enabled = ?, updated_at = ? WHERE id = ?`

// UpdateFAQ replaces the entry with f.ID (ErrNotFound when there is none); UpdatedAt is set
// to now.
func (db *DB) UpdateFAQ(ctx context.Context, f FAQ) error {
	if err := checkFAQ(f); err != nil {
		return fmt.Errorf("update faq %d: %w", f.ID, err)
	}
	alts, err := alternatesJSON(f.Alternates)
	if err != nil {
		return fmt.Errorf("update faq %d: %w", f.ID, err)
	}
	res, err := db.w.ExecContext(ctx, updateFAQ, f.Question, alts, f.Answer, f.Category, f.Enabled, db.now(), f.ID)
	if err != nil {
		return fmt.Errorf("update faq %d: %w", f.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update faq %d: %w", f.ID, err)
	}
	if n == 0 {
		// MySQL counts changed rows, not matched ones: tell "same values" from "no row".
		var exists int
		if err := db.w.GetContext(ctx, &exists, `SELECT COUNT(*) FROM faqs WHERE id = ?`, f.ID); err != nil {
			return fmt.Errorf("update faq %d: %w", f.ID, err)
		}
		if exists == 0 {
			return fmt.Errorf("update faq %d: %w", f.ID, ErrNotFound)
		}
	}
	return nil
}

// faqSeed names the seeds row that records the built-in FAQ was loaded.
const faqSeed = "faqs"

const (
	insertSeed          = `INSERT INTO seeds (name, applied_at) VALUES (?, ?)`
	insertSeedFAQMySQL  = insertFAQWithID + ` ON DUPLICATE KEY UPDATE id = id`
	insertSeedFAQSQLite = insertFAQWithID + ` ON CONFLICT (id) DO NOTHING`
)

// SeedFAQs loads the built-in FAQ once per database: the first call stores the entries
// (keeping their IDs; an ID already taken is skipped) and records the seed in the same
// transaction; every later call, from this replica or another, inserts nothing. It
// returns how many entries were inserted.
func (db *DB) SeedFAQs(ctx context.Context, entries []FAQ) (int, error) {
	for i, f := range entries {
		if err := checkFAQ(f); err != nil {
			return 0, fmt.Errorf("seed faqs: entry %d: %w", i, err)
		}
	}
	insertWithID := insertSeedFAQSQLite
	if db.mysql() {
		insertWithID = insertSeedFAQMySQL
	}
	var inserted int
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		inserted = 0
		if _, err := tx.ExecContext(ctx, insertSeed, faqSeed, db.now()); err != nil {
			if isUniqueViolation(err) {
				return nil // seeded before
			}
			return fmt.Errorf("record seed: %w", err)
		}
		for _, f := range entries {
			alts, err := alternatesJSON(f.Alternates)
			if err != nil {
				return err
			}
			if f.ID <= 0 {
				if _, err := tx.ExecContext(ctx, insertFAQ, f.Question, alts, f.Answer, f.Category, f.Enabled, db.now()); err != nil {
					return fmt.Errorf("insert faq: %w", err)
				}
				inserted++
				continue
			}
			res, err := tx.ExecContext(ctx, insertWithID, f.ID, f.Question, alts, f.Answer, f.Category, f.Enabled, db.now())
			if err != nil {
				return fmt.Errorf("insert faq %d: %w", f.ID, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				inserted++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("seed faqs: %w", err)
	}
	return inserted, nil
}
