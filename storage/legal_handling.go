package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"unionbot/legalaid"
)

const legalColumns = `SELECT c.id, c.number, c.open_id, c.member_id, m.member_no, c.unit_id, u.name AS unit_name, c.type,
    c.stage, c.status, c.version, c.urgent, c.crisis_category, c.crisis_at, c.crisis_text_enc, c.employer, c.workplace,
    c.workers, c.amount, c.description_enc, c.contact_name_enc, c.contact_phone_enc, c.contact_phone_masked,
    c.contact_time, c.assignee, c.outcome, c.reason, c.satisfaction, c.satisfaction_comment, c.rated_at,
    c.contacted_at, c.closed_at, c.submitted_by, c.submitted_at, c.updated_at
FROM legal_cases c LEFT JOIN members m ON m.id = c.member_id LEFT JOIN units u ON u.id = c.unit_id`

type legalRow struct {
	ID                  int64          `db:"id"`
	Number              string         `db:"number"`
	OpenID              string         `db:"open_id"`
	MemberID            sql.NullInt64  `db:"member_id"`
	MemberNo            sql.NullString `db:"member_no"`
	UnitID              sql.NullInt64  `db:"unit_id"`
	UnitName            sql.NullString `db:"unit_name"`
	Type                string         `db:"type"`
	Stage               string         `db:"stage"`
	Status              string         `db:"status"`
	Version             int            `db:"version"`
	Urgent              bool           `db:"urgent"`
	CrisisCategory      string         `db:"crisis_category"`
	CrisisAt            sql.NullTime   `db:"crisis_at"`
	CrisisTextEnc       string         `db:"crisis_text_enc"`
	Employer            string         `db:"employer"`
	Workplace           string         `db:"workplace"`
	Workers             int            `db:"workers"`
	Amount              sql.NullInt64  `db:"amount"`
	DescriptionEnc      string         `db:"description_enc"`
	ContactNameEnc      string         `db:"contact_name_enc"`
	ContactPhoneEnc     string         `db:"contact_phone_enc"`
	ContactPhoneMasked  string         `db:"contact_phone_masked"`
	ContactTime         string         `db:"contact_time"`
	Assignee            sql.NullString `db:"assignee"`
	Outcome             string         `db:"outcome"`
	Reason              string         `db:"reason"`
	Satisfaction        sql.NullInt64  `db:"satisfaction"`
	SatisfactionComment string         `db:"satisfaction_comment"`
	RatedAt             sql.NullTime   `db:"rated_at"`
	ContactedAt         sql.NullTime   `db:"contacted_at"`
	ClosedAt            sql.NullTime   `db:"closed_at"`
	SubmittedBy         string         `db:"submitted_by"`
	SubmittedAt         time.Time      `db:"submitted_at"`
	UpdatedAt           time.Time      `db:"updated_at"`
}

func (db *DB) toLegalCase(r legalRow) (LegalCase, error) {
	c := LegalCase{ID: r.ID, Number: r.Number, OpenID: r.OpenID, MemberID: r.MemberID.Int64, MemberNo: r.MemberNo.String,
		UnitID: r.UnitID.Int64, UnitName: r.UnitName.String, Type: legalaid.Type(r.Type), Stage: legalaid.Stage(r.Stage),
		Status: legalaid.Status(r.Status), Version: r.Version, Urgent: r.Urgent, CrisisCategory: r.CrisisCategory,
		CrisisAt: timeOf(r.CrisisAt), Employer: r.Employer, Workplace: r.Workplace, Workers: r.Workers,
		Amount: r.Amount.Int64, HasAmount: r.Amount.Valid, ContactPhoneMasked: r.ContactPhoneMasked,
		ContactTime: r.ContactTime, Assignee: r.Assignee.String, Outcome: legalaid.Outcome(r.Outcome), Reason: r.Reason,
		Satisfaction: int(r.Satisfaction.Int64), SatisfactionComment: r.SatisfactionComment, RatedAt: timeOf(r.RatedAt),
		ContactedAt: timeOf(r.ContactedAt), ClosedAt: timeOf(r.ClosedAt), SubmittedBy: r.SubmittedBy,
		SubmittedAt: r.SubmittedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	for _, f := range []struct {
		dst *string
		enc string
	}{{&c.CrisisText, r.CrisisTextEnc}, {&c.Description, r.DescriptionEnc}, {&c.ContactName, r.ContactNameEnc},
		{&c.ContactPhone, r.ContactPhoneEnc}} {
		v, err := db.decrypt(f.enc)
		if err != nil {
			return LegalCase{}, fmt.Errorf("legal case %s: decrypt: %w", r.Number, err)
		}
		*f.dst = v
	}
	return c, nil
}

// legalCaseOn reads one case on q (where may end in ORDER BY … LIMIT 1); on MySQL inside a
// transaction the row is locked for update.
func (db *DB) legalCaseOn(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (LegalCase, error) {
	_, lock := q.(*sqlx.Tx)
	return db.legalCaseRead(ctx, q, lock && db.mysql(), where, args...)
}

// legalCaseRead reads one case, locking its row when lock is set. Searches that may find
// no row (a requester's open case) read without locking: on MySQL a locking read of a
// missing row locks the gap, and two submissions inserting into it deadlock.
func (db *DB) legalCaseRead(ctx context.Context, q sqlx.QueryerContext, lock bool, where string, args ...any) (LegalCase, error) {
	query := legalColumns + ` WHERE ` + where
	if lock {
		query += ` FOR UPDATE`
	}
	var r legalRow
	if err := sqlx.GetContext(ctx, q, &r, query, args...); err != nil {
		return LegalCase{}, mapErr(err)
	}
	return db.toLegalCase(r)
}

// LegalCaseByNumber returns a case with its evidence and history; ErrNotFound when there is
// none.
func (db *DB) LegalCaseByNumber(ctx context.Context, number string) (LegalCase, error) {
	c, err := db.legalCaseOn(ctx, db.r, `c.number = ?`, strings.TrimSpace(number))
	if err != nil {
		return LegalCase{}, fmt.Errorf("legal case %s: %w", number, err)
	}
	var ev []struct {
		ID      int64     `db:"id"`
		MediaID int64     `db:"media_id"`
		AddedAt time.Time `db:"added_at"`
	}
	if err := db.r.SelectContext(ctx, &ev, `SELECT id, media_id, added_at FROM legal_case_evidence WHERE case_id = ?
ORDER BY id`, c.ID); err != nil {
		return LegalCase{}, fmt.Errorf("legal case %s evidence: %w", number, err)
	}
	for _, e := range ev {
		c.Evidence = append(c.Evidence, LegalEvidence{ID: e.ID, MediaID: e.MediaID, AddedAt: e.AddedAt.UTC()})
	}
	var hist []struct {
		At      time.Time `db:"at"`
		Actor   string    `db:"actor"`
		Kind    string    `db:"kind"`
		From    string    `db:"from_status"`
		To      string    `db:"to_status"`
		Outcome string    `db:"outcome"`
		Reason  string    `db:"reason"`
		TextEnc string    `db:"text_enc"`
	}
	if err := db.r.SelectContext(ctx, &hist, `SELECT at, actor, kind, from_status, to_status, outcome, reason, text_enc
FROM legal_case_events WHERE case_id = ? ORDER BY id`, c.ID); err != nil {
		return LegalCase{}, fmt.Errorf("legal case %s history: %w", number, err)
	}
	for _, h := range hist {
		text := h.TextEnc
		if h.Kind == LegalEventNote || h.Kind == LegalEventUrgent || h.Kind == LegalEventRating {
			if text, err = db.decrypt(h.TextEnc); err != nil {
				return LegalCase{}, fmt.Errorf("legal case %s history: %w", number, err)
			}
		}
		c.Events = append(c.Events, LegalEvent{At: h.At.UTC(), Actor: h.Actor, Kind: h.Kind, From: legalaid.Status(h.From),
			To: legalaid.Status(h.To), Outcome: legalaid.Outcome(h.Outcome), Reason: h.Reason, Text: text})
	}
	return c, nil
}

// LegalCasesOf returns the cases openID filed (or that were kept for them), newest first:
// what 进度 shows the requester.
func (db *DB) LegalCasesOf(ctx context.Context, openID string, limit int) ([]LegalCase, error) {
	if limit <= 0 {
		limit = 10
	}
	var rows []legalRow
	if err := db.r.SelectContext(ctx, &rows, legalColumns+` WHERE c.open_id = ? ORDER BY c.id DESC LIMIT ?`, openID, limit); err != nil {
		return nil, fmt.Errorf("legal cases of requester: %w", err)
	}
	return db.toLegalCases(rows)
}

func (db *DB) toLegalCases(rows []legalRow) ([]LegalCase, error) {
	out := make([]LegalCase, 0, len(rows))
	for _, r := range rows {
		c, err := db.toLegalCase(r)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// LegalCaseFilter selects cases for the queue. Zero fields do not filter.
type LegalCaseFilter struct {
	Status   legalaid.Status
	Type     legalaid.Type
	Urgent   *bool
	UnitID   int64 // only this unit's cases (a unit's officer: never a non-member's)
	NoUnit   bool  // only the cases without a unit (non-members'; county-level officers)
	Assignee string
	Open     bool   // only cases not closed
	Cursor   string // from the previous page's next
	Limit    int    // 50 when <= 0, at most 500
}

// ListLegalCases returns the queue, urgent cases first, then newest first, and the cursor
// of the next page ("" when none).
func (db *DB) ListLegalCases(ctx context.Context, f LegalCaseFilter) ([]LegalCase, string, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if f.Status != "" {
		add(`c.status = ?`, string(f.Status))
	}
	if f.Open {
		add(`c.status <> ?`, string(legalaid.Closed))
	}
	if f.Type != "" {
		add(`c.type = ?`, string(f.Type))
	}
	if f.Urgent != nil {
		add(`c.urgent = ?`, *f.Urgent)
	}
	if f.UnitID != 0 {
		add(`c.unit_id = ?`, f.UnitID)
	}
	if f.NoUnit {
		add(`c.unit_id IS NULL`)
	}
	if f.Assignee != "" {
		add(`c.assignee = ?`, f.Assignee)
	}
	if f.Cursor != "" {
		u, id, ok := parseLegalCursor(f.Cursor)
		if !ok {
			return nil, "", fmt.Errorf("list legal cases: %w: cursor", ErrInvalid)
		}
		add(`(c.urgent < ? OR (c.urgent = ? AND c.id < ?))`, u, u, id)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	q := legalColumns
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY c.urgent DESC, c.id DESC LIMIT ?`
	args = append(args, limit+1)
	var rows []legalRow
	if err := db.r.SelectContext(ctx, &rows, q, args...); err != nil {
		return nil, "", fmt.Errorf("list legal cases: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		u := 0
		if last.Urgent {
			u = 1
		}
		next = fmt.Sprintf("%d.%d", u, last.ID)
	}
	out, err := db.toLegalCases(rows)
	if err != nil {
		return nil, "", fmt.Errorf("list legal cases: %w", err)
	}
	return out, next, nil
}

func parseLegalCursor(s string) (bool, int64, bool) {
	u, id, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(id, 10, 64)
	if !ok || err != nil || (u != "0" && u != "1") {
		return false, 0, false
	}
	return u == "1", n, true
}

// LegalTransition asks to move a case to another status.
type LegalTransition struct {
	To legalaid.Status
	// Version is the version the officer saw; another current version is ErrStale. 0
	// means the current one.
	Version int
	Role    legalaid.Role
	Details legalaid.Details
}

// TransitionLegalCase moves case number to req.To if legalaid.Transition allows it for
// req.Role and legalaid.Check accepts the details, in one transaction with the event, the
// audit row and the requester's notification in the outbox (on acceptance, first contact,
// closing and reopening). Errors: ErrNotFound, ErrStale, legalaid.ErrIllegal,
// legalaid.ErrForbidden, legalaid.ErrDetails.
func (db *DB) TransitionLegalCase(ctx context.Context, number string, req LegalTransition, audit AuditEntry) (LegalCase, error) {
	var out LegalCase
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := db.legalCaseOn(ctx, tx, `c.number = ?`, number)
		if err != nil {
			return err
		}
		if req.Version != 0 && req.Version != c.Version {
			return ErrStale
		}
		if err := legalaid.Transition(c.Status, req.To, req.Role); err != nil {
			return err
		}
		d := req.Details
		d.Reason = strings.TrimSpace(d.Reason)
		if err := legalaid.Check(c.Status, req.To, d); err != nil {
			return err
		}
		now := db.now()
		before := map[string]string{"status": string(c.Status), "version": fmt.Sprint(c.Version)}
		from := c.Status
		contacted, closed := nullTime(c.ContactedAt), nullTime(c.ClosedAt)
		switch req.To {
		case legalaid.Contacted:
			if !contacted.Valid {
				contacted = nullTime(now)
			}
		case legalaid.Closed:
			c.Outcome, c.Reason, closed = d.Outcome, d.Reason, nullTime(now)
		case legalaid.InProgress:
			if from == legalaid.Closed { // reopened
				c.Outcome, c.Reason, closed = "", d.Reason, sql.NullTime{}
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE legal_cases SET status = ?, version = version + 1, outcome = ?, reason = ?,
    contacted_at = ?, closed_at = ?, updated_at = ? WHERE id = ? AND version = ?`,
			string(req.To), string(c.Outcome), c.Reason, contacted, closed, now, c.ID, c.Version)
		if err != nil {
			return fmt.Errorf("update legal case: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return ErrStale
		}
		if err := db.legalEventTx(ctx, tx, c.ID, LegalEvent{At: now, Actor: audit.Actor, Kind: LegalEventStatus,
			From: from, To: req.To, Outcome: d.Outcome, Reason: d.Reason}); err != nil {
			return err
		}
		c.Status, c.Version, c.UpdatedAt, c.ContactedAt, c.ClosedAt = req.To, c.Version+1, now, timeOf(contacted), timeOf(closed)
		audit.Action, audit.Subject, audit.Before = "legal.transition", "legal:"+c.Number, before
		audit.After = map[string]string{"status": string(c.Status), "version": fmt.Sprint(c.Version)}
		if req.To == legalaid.Closed {
			audit.After["outcome"] = string(c.Outcome)
		}
		if err := db.auditTx(ctx, tx, audit); err != nil {
			return err
		}
		if text, ok := legalaid.Notice(c.Number, from, c.Status, d); ok {
			if _, err := db.Enqueue(ctx, tx, OutboxMessage{
				Key:     fmt.Sprintf("legal:%s:v%d", c.Number, c.Version),
				Kind:    LegalNoticeKind,
				OpenID:  c.OpenID,
				Service: true,
				Content: OutboxContent{Text: text, Fields: map[string]string{
					"title": "法律援助", "number": c.Number, "status": c.Status.Label(),
				}},
			}); err != nil {
				return fmt.Errorf("notify requester of %s: %w", c.Number, err)
			}
		}
		out = c
		return nil
	})
	if err != nil {
		return LegalCase{}, fmt.Errorf("legal case %s to %s: %w", number, req.To, err)
	}
	return out, nil
}

// ErrNotLegalOfficer refuses to assign a case to someone who is not an active legal
// officer (or admin) who can see it.
var ErrNotLegalOfficer = fmt.Errorf("%w: not an active legal officer who sees this case", ErrInvalid)

// AssignLegalCase assigns case number to the officer with username officer (a legal
// officer or admin, active, of the case's unit or county-level), with its event and audit
// row. version 0 means the current one.
func (db *DB) AssignLegalCase(ctx context.Context, number, officer string, version int, audit AuditEntry) (LegalCase, error) {
	var out LegalCase
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := db.legalCaseOn(ctx, tx, `c.number = ?`, number)
		if err != nil {
			return err
		}
		if version != 0 && version != c.Version {
			return ErrStale
		}
		var o struct {
			Roles    string        `db:"roles"`
			UnitID   sql.NullInt64 `db:"unit_id"`
			Disabled bool          `db:"disabled"`
		}
		err = tx.GetContext(ctx, &o, `SELECT roles, unit_id, disabled FROM officers WHERE username = ?`, officer)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotLegalOfficer
		}
		if err != nil {
			return fmt.Errorf("officer: %w", err)
		}
		roles := splitRoles(o.Roles)
		legal := slices.Contains(roles, string(legalaid.RoleLegal)) || slices.Contains(roles, string(legalaid.RoleAdmin))
		if o.Disabled || !legal || (o.UnitID.Valid && o.UnitID.Int64 != c.UnitID) {
			return ErrNotLegalOfficer
		}
		now := db.now()
		if _, err := tx.ExecContext(ctx, `UPDATE legal_cases SET assignee = ?, version = version + 1, updated_at = ?
WHERE id = ?`, officer, now, c.ID); err != nil {
			return fmt.Errorf("assign legal case: %w", err)
		}
		if err := db.legalEventTx(ctx, tx, c.ID, LegalEvent{At: now, Actor: audit.Actor, Kind: LegalEventAssign, Text: officer}); err != nil {
			return err
		}
		audit.Action, audit.Subject = "legal.assign", "legal:"+c.Number
		audit.Before = map[string]string{"assignee": c.Assignee}
		audit.After = map[string]string{"assignee": officer}
		c.Assignee, c.Version, c.UpdatedAt = officer, c.Version+1, now
		out = c
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return LegalCase{}, fmt.Errorf("assign legal case %s: %w", number, err)
	}
	return out, nil
}

// AddLegalNote adds an officer's internal note to case number (encrypted; never shown to
// the requester), with its audit row (which does not hold the text).
func (db *DB) AddLegalNote(ctx context.Context, number, text string, audit AuditEntry) error {
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > maxLegalNote {
		return fmt.Errorf("legal note: %w: 1 to %d characters", ErrInvalid, maxLegalNote)
	}
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := db.legalCaseOn(ctx, tx, `c.number = ?`, number)
		if err != nil {
			return fmt.Errorf("legal note on %s: %w", number, err)
		}
		if err := db.legalEventSecretTx(ctx, tx, c.ID, LegalEvent{At: db.now(), Actor: audit.Actor, Kind: LegalEventNote,
			Text: text}); err != nil {
			return err
		}
		audit.Action, audit.Subject = "legal.note", "legal:"+c.Number
		return db.auditTx(ctx, tx, audit)
	})
}

// LegalRatingDue returns the case of openID waiting for a satisfaction rating: closed with
// an outcome other than declined within legalaid.RatingWindow, not rated yet; ErrNotFound
// when there is none.
func (db *DB) LegalRatingDue(ctx context.Context, openID string) (LegalCase, error) {
	since := db.now().Add(-legalaid.RatingWindow)
	c, err := db.legalCaseOn(ctx, db.r, `c.open_id = ? AND c.status = ? AND c.outcome <> ? AND c.closed_at >= ?
AND c.satisfaction IS NULL ORDER BY c.closed_at DESC LIMIT 1`, openID, string(legalaid.Closed), string(legalaid.Declined), since)
	if err != nil {
		return LegalCase{}, fmt.Errorf("legal rating due: %w", err)
	}
	return c, nil
}

// RateLegalCase records openID's rating (1–5) of their case number, which must be due
// (LegalRatingDue's rules); ErrNotFound otherwise.
func (db *DB) RateLegalCase(ctx context.Context, openID, number string, rating int, audit AuditEntry) error {
	if !legalaid.ValidRating(rating) {
		return fmt.Errorf("rate legal case: %w: rating %d", ErrInvalid, rating)
	}
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := db.now()
		res, err := tx.ExecContext(ctx, `UPDATE legal_cases SET satisfaction = ?, rated_at = ? WHERE number = ? AND open_id = ?
AND status = ? AND outcome <> ? AND closed_at >= ? AND satisfaction IS NULL`, rating, now, number, openID,
			string(legalaid.Closed), string(legalaid.Declined), now.Add(-legalaid.RatingWindow))
		if err != nil {
			return fmt.Errorf("rate legal case: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("rate legal case %s: %w", number, ErrNotFound)
		}
		var id int64
		if err := tx.GetContext(ctx, &id, `SELECT id FROM legal_cases WHERE number = ?`, number); err != nil {
			return fmt.Errorf("rate legal case: %w", err)
		}
		if err := db.legalEventTx(ctx, tx, id, LegalEvent{At: now, Actor: audit.Actor, Kind: LegalEventRating,
			Reason: strconv.Itoa(rating)}); err != nil {
			return err
		}
		audit.Action, audit.Subject = "legal.rate", "legal:"+number
		audit.After = map[string]string{"satisfaction": strconv.Itoa(rating)}
		return db.auditTx(ctx, tx, audit)
	})
}

// CommentLegalCase keeps the requester's comment on the rating of case number (within the
// rating window after it was rated).
func (db *DB) CommentLegalCase(ctx context.Context, openID, number, comment string) error {
	comment = legalClip(strings.TrimSpace(comment), 1000)
	res, err := db.w.ExecContext(ctx, `UPDATE legal_cases SET satisfaction_comment = ? WHERE number = ? AND open_id = ?
AND satisfaction IS NOT NULL AND closed_at >= ?`, comment, number, openID, db.now().Add(-legalaid.RatingWindow))
	if err != nil {
		return fmt.Errorf("comment legal case: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("comment legal case %s: %w", number, ErrNotFound)
	}
	return nil
}

// LegalQueueCounts are the console badge's figures.
type LegalQueueCounts struct {
	Open, Urgent, Unassigned int
}

// LegalCounts counts the open cases (unitID 0: all; otherwise that unit's).
func (db *DB) LegalCounts(ctx context.Context, unitID int64) (LegalQueueCounts, error) {
	q := `SELECT COUNT(*) AS open, COALESCE(SUM(CASE WHEN urgent THEN 1 ELSE 0 END), 0) AS urgent,
    COALESCE(SUM(CASE WHEN assignee IS NULL THEN 1 ELSE 0 END), 0) AS unassigned
FROM legal_cases WHERE status <> ?`
	args := []any{string(legalaid.Closed)}
	if unitID != 0 {
		q += ` AND unit_id = ?`
		args = append(args, unitID)
	}
	var r struct {
		Open       int `db:"open"`
		Urgent     int `db:"urgent"`
		Unassigned int `db:"unassigned"`
	}
	if err := db.r.GetContext(ctx, &r, q, args...); err != nil {
		return LegalQueueCounts{}, fmt.Errorf("legal counts: %w", err)
	}
	return LegalQueueCounts{Open: r.Open, Urgent: r.Urgent, Unassigned: r.Unassigned}, nil
}

// PurgeCrisisTexts erases the words of crisis messages (the case's crisis text and its
// urgent events' texts) of cases closed more than keep ago: they were kept without consent
// only to protect the person (PIPL Art. 13(4)), and that purpose ends with the case. The
// category, time and urgent flag stay for the figures. At most limit cases a call (100 when
// <= 0), each in its own transaction with its audit row ("legal.crisis.purge"); a case
// another replica purged first is skipped. It returns the numbers of the cases purged.
func (db *DB) PurgeCrisisTexts(ctx context.Context, keep time.Duration, limit int) ([]string, error) {
	if keep <= 0 {
		return nil, fmt.Errorf("purge crisis texts: %w: retention must be positive", ErrInvalid)
	}
	if limit <= 0 {
		limit = 100
	}
	var due []struct {
		ID     int64  `db:"id"`
		Number string `db:"number"`
	}
	if err := db.r.SelectContext(ctx, &due, `SELECT id, number FROM legal_cases WHERE status = ? AND closed_at < ?
AND crisis_text_enc <> '' ORDER BY closed_at LIMIT ?`, string(legalaid.Closed), db.now().Add(-keep), limit); err != nil {
		return nil, fmt.Errorf("purge crisis texts: %w", err)
	}
	var out []string
	for _, c := range due {
		purged := false
		err := db.inTx(ctx, func(tx *sqlx.Tx) error {
			// The conditions again: the case may have been reopened since it was listed.
			res, err := tx.ExecContext(ctx, `UPDATE legal_cases SET crisis_text_enc = '' WHERE id = ? AND status = ?
AND closed_at < ? AND crisis_text_enc <> ''`, c.ID, string(legalaid.Closed), db.now().Add(-keep))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return err
			}
			events, err := tx.ExecContext(ctx, `UPDATE legal_case_events SET text_enc = '' WHERE case_id = ? AND kind = ?`,
				c.ID, LegalEventUrgent)
			if err != nil {
				return err
			}
			n, _ := events.RowsAffected()
			purged = true
			return db.auditTx(ctx, tx, AuditEntry{Actor: "system", Action: "legal.crisis.purge", Subject: "legal:" + c.Number,
				Detail: fmt.Sprintf("结案满 %d 天，删除紧急求助原文（%d 条记录）", int(keep.Hours()/24), n+1)})
		})
		if err != nil {
			return out, fmt.Errorf("purge crisis text of %s: %w", c.Number, err)
		}
		if purged {
			out = append(out, c.Number)
		}
	}
	return out, nil
}
