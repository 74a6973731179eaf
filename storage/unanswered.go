package storage

// 未答问题: the questions the FAQ could not answer directly (a list of guesses or nothing),
// kept masked for officers to turn into answers, with the entry a member picked from the
// list. They hold no openid: only the question, what was offered and what was picked.

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"unionbot/pii"
)

// Outcomes of an unanswered question.
const (
	OutcomeGuesses = "guesses" // a numbered list of close questions was offered
	OutcomeNone    = "none"    // nothing matched: the member was told so
)

// UnansweredQuestion is one question the FAQ did not answer directly.
type UnansweredQuestion struct {
	ID         int64
	Question   string  // masked: ID, phone and card numbers never stored
	Normalized string  // faq.Normalize of the masked question, for grouping
	Outcome    string  // OutcomeGuesses or OutcomeNone
	Offered    []int64 // entries offered, in list order
	PickedFAQ  int64   // the entry the member picked from the list, 0 if none
	Attached   int64   // the entry an officer attached it to, 0 while pending
	AskedAt    time.Time
	ResolvedAt time.Time
}

type unansweredRow struct {
	ID         int64         `db:"id"`
	Question   string        `db:"question"`
	Normalized string        `db:"normalized"`
	Outcome    string        `db:"outcome"`
	Offered    string        `db:"offered"`
	Picked     sql.NullInt64 `db:"picked_faq_id"`
	Attached   sql.NullInt64 `db:"attached_faq_id"`
	AskedAt    time.Time     `db:"asked_at"`
	ResolvedAt sql.NullTime  `db:"resolved_at"`
}

func (r unansweredRow) toQuestion() UnansweredQuestion {
	q := UnansweredQuestion{ID: r.ID, Question: r.Question, Normalized: r.Normalized, Outcome: r.Outcome,
		PickedFAQ: r.Picked.Int64, Attached: r.Attached.Int64, AskedAt: r.AskedAt.UTC()}
	if r.ResolvedAt.Valid {
		q.ResolvedAt = r.ResolvedAt.Time.UTC()
	}
	for _, s := range strings.Split(r.Offered, ",") {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			q.Offered = append(q.Offered, id)
		}
	}
	return q
}

const unansweredColumns = `SELECT id, question, normalized, outcome, offered, picked_faq_id, attached_faq_id,
    asked_at, resolved_at FROM unanswered_questions`

// maxUnansweredRunes bounds a stored question (a member may paste a long text).
const maxUnansweredRunes = 200

// clipRunes cuts s to n characters.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// RecordUnanswered stores a question the FAQ did not answer directly and returns its id.
// The question is masked here whatever the caller did (pii.Redact: ID, phone and card
// numbers) and cut to 200 characters; Normalized is cut the same way.
func (db *DB) RecordUnanswered(ctx context.Context, q UnansweredQuestion) (int64, error) {
	text := clipRunes(strings.TrimSpace(pii.Redact(q.Question)), maxUnansweredRunes)
	if text == "" {
		return 0, fmt.Errorf("record unanswered: %w: empty question", ErrInvalid)
	}
	if q.Outcome != OutcomeGuesses && q.Outcome != OutcomeNone {
		return 0, fmt.Errorf("record unanswered: %w: outcome %q", ErrInvalid, q.Outcome)
	}
	offered := make([]string, 0, len(q.Offered))
	for _, id := range q.Offered {
		offered = append(offered, strconv.FormatInt(id, 10))
	}
	at := q.AskedAt
	if at.IsZero() {
		at = db.now()
	}
	res, err := db.w.ExecContext(ctx, `INSERT INTO unanswered_questions (question, normalized, outcome, offered, asked_at)
        VALUES (?, ?, ?, ?, ?)`, text, clipRunes(pii.Redact(q.Normalized), maxUnansweredRunes), q.Outcome,
		clipRunes(strings.Join(offered, ","), 190), utc(at))
	if err != nil {
		return 0, fmt.Errorf("record unanswered: %w", err)
	}
	return res.LastInsertId()
}

// RecordUnansweredPick notes the entry a member picked from the list offered for question
// id. A question already attached keeps its pick as it was.
func (db *DB) RecordUnansweredPick(ctx context.Context, id, faqID int64) error {
	if _, err := db.w.ExecContext(ctx, `UPDATE unanswered_questions SET picked_faq_id = ? WHERE id = ?`, faqID, id); err != nil {
		return fmt.Errorf("record unanswered pick %d: %w", id, err)
	}
	return nil
}

// UnansweredQuestions returns up to limit pending questions (attached to no entry) asked
// at or after since, newest first.
func (db *DB) UnansweredQuestions(ctx context.Context, since time.Time, limit int) ([]UnansweredQuestion, error) {
	if limit <= 0 {
		limit = 5000
	}
	var rows []unansweredRow
	if err := db.r.SelectContext(ctx, &rows, unansweredColumns+` WHERE attached_faq_id IS NULL AND asked_at >= ?
        ORDER BY asked_at DESC, id DESC LIMIT ?`, utc(since), limit); err != nil {
		return nil, fmt.Errorf("unanswered questions: %w", err)
	}
	out := make([]UnansweredQuestion, len(rows))
	for i, r := range rows {
		out[i] = r.toQuestion()
	}
	return out, nil
}

// UnansweredByIDs returns the questions with the given ids (any state), in id order.
func (db *DB) UnansweredByIDs(ctx context.Context, ids []int64) ([]UnansweredQuestion, error) {
	return db.unansweredByIDs(ctx, db.r, ids)
}

func (db *DB) unansweredByIDs(ctx context.Context, q sqlx.QueryerContext, ids []int64) ([]UnansweredQuestion, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	query, args, err := sqlx.In(unansweredColumns+` WHERE id IN (?) ORDER BY id`, ids)
	if err != nil {
		return nil, err
	}
	var rows []unansweredRow
	if err := sqlx.SelectContext(ctx, q, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("unanswered by ids: %w", err)
	}
	out := make([]UnansweredQuestion, len(rows))
	for i, r := range rows {
		out[i] = r.toQuestion()
	}
	return out, nil
}

// PurgeUnanswered deletes the questions asked before cutoff, attached or not, and returns
// how many went (the retention of UNIONBOT_UNANSWERED_RETENTION).
func (db *DB) PurgeUnanswered(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM unanswered_questions WHERE asked_at < ?`, utc(cutoff))
	if err != nil {
		return 0, fmt.Errorf("purge unanswered: %w", err)
	}
	return res.RowsAffected()
}
