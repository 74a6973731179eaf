package storage

// Legal-aid cases (法律援助, issue 12): a request filed in chat, or an urgent crisis message
// kept to protect someone (PIPL Art. 13(4)); handled by legal officers through the pure
// table of package legalaid. Every change commits with its event row, its audit row and the
// requester's notification in one transaction.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"unionbot/legalaid"
	"unionbot/pii"
)

// LegalCase is a legal-aid case.
type LegalCase struct {
	ID       int64
	Number   string
	OpenID   string // the requester's WeChat user
	MemberID int64  // 0 for a non-member
	MemberNo string
	UnitID   int64 // the member's unit; 0 for a non-member (county-level officers only)
	UnitName string
	Type     legalaid.Type
	Stage    legalaid.Stage
	Status   legalaid.Status
	Version  int
	Urgent   bool
	// The crisis signal that made the case urgent, and the messages that carried it.
	CrisisCategory string
	CrisisAt       time.Time
	CrisisText     string

	Employer    string
	Workplace   string
	Workers     int
	Amount      int64 // fen; meaningful when HasAmount
	HasAmount   bool
	Description string

	ContactName        string
	ContactPhone       string
	ContactPhoneMasked string
	ContactTime        string

	Assignee            string // officer username, "" when unassigned
	Outcome             legalaid.Outcome
	Reason              string
	Satisfaction        int // 1–5, 0 when not rated
	SatisfactionComment string
	RatedAt             time.Time
	ContactedAt         time.Time
	ClosedAt            time.Time
	SubmittedBy         string
	SubmittedAt         time.Time
	UpdatedAt           time.Time

	Evidence []LegalEvidence // by LegalCaseByNumber only
	Events   []LegalEvent    // by LegalCaseByNumber only
}

// LegalEvidence is a photo of evidence the requester sent.
type LegalEvidence struct {
	ID      int64
	MediaID int64
	AddedAt time.Time
}

// Kinds of LegalEvent.
const (
	LegalEventStatus  = "status"  // a transition (From → To)
	LegalEventNote    = "note"    // an officer's internal note (Text), never shown to the requester
	LegalEventAssign  = "assign"  // assigned to Text
	LegalEventUrgent  = "urgent"  // a crisis signal (Text: the message)
	LegalEventRequest = "request" // an urgent case completed by the requester's form
	LegalEventRating  = "rating"  // the requester's rating (Text: the comment)
)

// LegalEvent is one entry of a case's history.
type LegalEvent struct {
	At      time.Time
	Actor   string
	Kind    string
	From    legalaid.Status
	To      legalaid.Status
	Outcome legalaid.Outcome
	Reason  string
	Text    string
}

// LegalCaseInput is a request filed in chat.
type LegalCaseInput struct {
	OpenID       string
	MemberID     int64 // the bound member, 0 for anyone else
	Type         legalaid.Type
	Stage        legalaid.Stage
	Employer     string
	Workplace    string
	Workers      int
	Amount       int64 // fen
	HasAmount    bool
	Description  string
	ContactName  string
	ContactPhone string
	ContactTime  string
	Evidence     []int64 // media ids of the requester, kept by the submission
	// Crisis, when set, is a signal found in the request itself: the case is urgent.
	Crisis *legalaid.Signal
	// CrisisText is the message that carried Crisis.
	CrisisText string
	// SubmitToken makes the submission idempotent: a second submission with it returns
	// the first case.
	SubmitToken string
}

// LegalNoticeKind is the outbox kind of messages about a requester's case.
const LegalNoticeKind = "case_status"

const (
	maxLegalText  = 191
	maxLegalDesc  = 5000
	maxLegalNote  = 2000
	maxCrisisText = 4000
)

func (in LegalCaseInput) validate() error {
	bad := func(msg string) error { return fmt.Errorf("%w: legal case: %s", ErrInvalid, msg) }
	switch {
	case in.OpenID == "":
		return bad("no openid")
	case !in.Type.Valid() || in.Type == legalaid.Crisis:
		return bad("type")
	case in.Stage != "" && !in.Stage.Valid():
		return bad("stage")
	case strings.TrimSpace(in.Employer) == "" || utf8.RuneCountInString(in.Employer) > maxLegalText:
		return bad("employer")
	case utf8.RuneCountInString(in.Workplace) > maxLegalText || utf8.RuneCountInString(in.ContactTime) > 100:
		return bad("workplace or contact time")
	case in.Workers < 1:
		return bad("workers")
	case in.HasAmount && in.Amount < 0:
		return bad("amount")
	case strings.TrimSpace(in.Description) == "" || utf8.RuneCountInString(in.Description) > maxLegalDesc:
		return bad("description")
	case strings.TrimSpace(in.ContactName) == "":
		return bad("contact name")
	}
	if err := pii.ValidatePhone(in.ContactPhone); err != nil {
		return bad("contact phone")
	}
	return nil
}

// SubmitLegalCase files a request in one transaction: its number (FY + the day in China + a
// per-day sequence), the evidence photos (kept), the first event and the audit row. When
// the requester already has an open urgent case from a crisis message (type crisis), the
// request completes that case, which keeps its number. A second submission with the same
// SubmitToken returns the first case with created false.
func (db *DB) SubmitLegalCase(ctx context.Context, in LegalCaseInput, audit AuditEntry) (c LegalCase, created bool, err error) {
	if err := in.validate(); err != nil {
		return LegalCase{}, false, err
	}
	if in.SubmitToken != "" {
		if c, err := db.legalCaseOn(ctx, db.r, `c.submit_token = ?`, in.SubmitToken); err == nil {
			return c, false, nil
		} else if !errors.Is(err, ErrNotFound) {
			return LegalCase{}, false, fmt.Errorf("submit legal case: %w", err)
		}
	}
	var number string
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		number, err = db.submitLegalTx(ctx, tx, in, audit)
		return err
	})
	if err != nil {
		if in.SubmitToken != "" && errors.Is(err, ErrConflict) {
			if c, err2 := db.legalCaseOn(ctx, db.w, `c.submit_token = ?`, in.SubmitToken); err2 == nil {
				return c, false, nil
			}
		}
		return LegalCase{}, false, fmt.Errorf("submit legal case: %w", err)
	}
	c, err = db.LegalCaseByNumber(ctx, number)
	return c, err == nil, err
}

func (db *DB) submitLegalTx(ctx context.Context, tx *sqlx.Tx, in LegalCaseInput, audit AuditEntry) (string, error) {
	now := db.now()
	var unit sql.NullInt64
	var member sql.NullInt64
	if in.MemberID != 0 {
		if err := tx.GetContext(ctx, &unit, `SELECT unit_id FROM members WHERE id = ?`, in.MemberID); err != nil {
			return "", fmt.Errorf("member %d: %w", in.MemberID, mapErr(err))
		}
		member = sql.NullInt64{Int64: in.MemberID, Valid: true}
	}
	enc := func(s string) (string, error) {
		if s == "" {
			return "", nil
		}
		return db.cipher.Encrypt(s)
	}
	desc, err := enc(strings.TrimSpace(in.Description))
	if err != nil {
		return "", fmt.Errorf("encrypt description: %w", err)
	}
	name, err := enc(strings.TrimSpace(in.ContactName))
	if err != nil {
		return "", fmt.Errorf("encrypt contact name: %w", err)
	}
	phone := pii.NormalizePhone(in.ContactPhone)
	phoneEnc, err := enc(phone)
	if err != nil {
		return "", fmt.Errorf("encrypt contact phone: %w", err)
	}
	var amount sql.NullInt64
	if in.HasAmount {
		amount = sql.NullInt64{Int64: in.Amount, Valid: true}
	}
	var token sql.NullString
	if in.SubmitToken != "" {
		token = sql.NullString{String: in.SubmitToken, Valid: true}
	}
	// An urgent case opened from a crisis message of this requester is completed by the request.
	crisis, err := db.legalCaseRead(ctx, tx, false, `c.open_id = ? AND c.type = ? AND c.status <> ? ORDER BY c.id DESC LIMIT 1`,
		in.OpenID, string(legalaid.Crisis), string(legalaid.Closed))
	switch {
	case err == nil:
		return crisis.Number, db.completeCrisisTx(ctx, tx, crisis, in, member, unit, desc, name, phoneEnc, phone, amount, token, audit, now)
	case !errors.Is(err, ErrNotFound):
		return "", err
	}
	number, err := db.nextDayNumber(ctx, tx, now, "legal_case_numbers", "FY")
	if err != nil {
		return "", err
	}
	urgent, category, crisisText, crisisAt := false, "", "", sql.NullTime{}
	if in.Crisis != nil {
		urgent, category, crisisAt = true, in.Crisis.Category, nullTime(now)
		if crisisText, err = enc(legalClip(in.CrisisText, maxCrisisText)); err != nil {
			return "", fmt.Errorf("encrypt crisis text: %w", err)
		}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO legal_cases (number, open_id, member_id, unit_id, type, stage, status,
    version, urgent, crisis_category, crisis_at, crisis_text_enc, employer, workplace, workers, amount, description_enc,
    contact_name_enc, contact_phone_enc, contact_phone_masked, contact_time, submit_token, submitted_by, submitted_at,
    updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		number, in.OpenID, member, unit, string(in.Type), string(in.Stage), string(legalaid.Submitted), urgent, category,
		crisisAt, crisisText, strings.TrimSpace(in.Employer), strings.TrimSpace(in.Workplace), in.Workers, amount, desc,
		name, phoneEnc, pii.MaskPhone(phone), strings.TrimSpace(in.ContactTime), token, audit.Actor, now, now)
	if err != nil {
		return "", fmt.Errorf("insert legal case: %w", mapErr(err))
	}
	id, err := res.LastInsertId()
	if err != nil {
		return "", fmt.Errorf("legal case id: %w", err)
	}
	if err := db.legalEvidenceTx(ctx, tx, id, in.OpenID, in.Evidence, now); err != nil {
		return "", err
	}
	if err := db.legalEventTx(ctx, tx, id, LegalEvent{At: now, Actor: audit.Actor, Kind: LegalEventStatus,
		To: legalaid.Submitted}); err != nil {
		return "", err
	}
	audit.Action, audit.Subject = "legal.submit", "legal:"+number
	audit.After = map[string]string{"status": string(legalaid.Submitted), "type": string(in.Type),
		"urgent": fmt.Sprint(urgent), "member": fmt.Sprint(in.MemberID != 0)}
	return number, db.auditTx(ctx, tx, audit)
}

// completeCrisisTx fills the urgent case c, opened from a crisis message, with the
// request's answers.
func (db *DB) completeCrisisTx(ctx context.Context, tx *sqlx.Tx, c LegalCase, in LegalCaseInput, member, unit sql.NullInt64,
	desc, name, phoneEnc, phone string, amount sql.NullInt64, token sql.NullString, audit AuditEntry, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE legal_cases SET member_id = ?, unit_id = ?, type = ?, stage = ?, employer = ?,
    workplace = ?, workers = ?, amount = ?, description_enc = ?, contact_name_enc = ?, contact_phone_enc = ?,
    contact_phone_masked = ?, contact_time = ?, submit_token = ?, version = version + 1, updated_at = ?
WHERE id = ? AND version = ?`,
		member, unit, string(in.Type), string(in.Stage), strings.TrimSpace(in.Employer), strings.TrimSpace(in.Workplace),
		in.Workers, amount, desc, name, phoneEnc, pii.MaskPhone(phone), strings.TrimSpace(in.ContactTime), token, now,
		c.ID, c.Version)
	if err != nil {
		return fmt.Errorf("complete urgent case: %w", mapErr(err))
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return ErrStale
	}
	if in.Crisis != nil {
		if err := db.appendCrisisTx(ctx, tx, c, *in.Crisis, in.CrisisText, now); err != nil {
			return err
		}
	}
	if err := db.legalEvidenceTx(ctx, tx, c.ID, in.OpenID, in.Evidence, now); err != nil {
		return err
	}
	if err := db.legalEventTx(ctx, tx, c.ID, LegalEvent{At: now, Actor: audit.Actor, Kind: LegalEventRequest,
		Reason: in.Type.Label()}); err != nil {
		return err
	}
	audit.Action, audit.Subject = "legal.submit", "legal:"+c.Number
	audit.Before = map[string]string{"type": string(legalaid.Crisis)}
	audit.After = map[string]string{"type": string(in.Type), "urgent": "true", "member": fmt.Sprint(in.MemberID != 0)}
	return db.auditTx(ctx, tx, audit)
}

// appendCrisisTx adds a crisis message to urgent case c (the last maxCrisisText
// characters of all of them are kept).
func (db *DB) appendCrisisTx(ctx context.Context, tx *sqlx.Tx, c LegalCase, sig legalaid.Signal, text string, now time.Time) error {
	all := strings.TrimSpace(c.CrisisText + "\n" + text)
	if r := []rune(all); len(r) > maxCrisisText {
		all = string(r[len(r)-maxCrisisText:])
	}
	enc, err := db.cipher.Encrypt(all)
	if err != nil {
		return fmt.Errorf("encrypt crisis text: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE legal_cases SET urgent = ?, crisis_category = ?, crisis_at = ?,
    crisis_text_enc = ?, updated_at = ? WHERE id = ?`, true, sig.Category, now, enc, now, c.ID); err != nil {
		return fmt.Errorf("flag legal case urgent: %w", err)
	}
	return nil
}

// CrisisReport is a message with a crisis signal, sent by OpenID (MemberID when bound).
type CrisisReport struct {
	OpenID   string
	MemberID int64
	Signal   legalaid.Signal
	Text     string
	// PublicURL is UNIONBOT_PUBLIC_URL, for the console link in the officers' alert ("":
	// the alert names the case without a link).
	PublicURL string
}

// LegalAlertKind is the outbox kind of the alert legal officers get on their linked WeChat
// when a crisis signal arrives.
const LegalAlertKind = "legal_alert"

// alertLegalOfficersTx enqueues, in the transaction of the crisis report, the alert to the
// officers who handle case number and linked their WeChat: the legal officers of the case's
// unit and the county-level ones (a case without a unit: county-level only). When none of
// them is linked, the admins who see the case get it instead, so an alert always has
// somewhere to go if anyone linked. The key makes one alert per case, officer and hour
// (China time): a burst of messages does not flood the officer's chat. It returns how many
// officers were alerted.
func (db *DB) alertLegalOfficersTx(ctx context.Context, tx *sqlx.Tx, number string, unitID int64, category, publicURL string, now time.Time) (int, error) {
	sees := func(o LinkedOfficer) bool { return o.UnitID == 0 || o.UnitID == unitID }
	var to []LinkedOfficer
	for _, role := range []legalaid.Role{legalaid.RoleLegal, legalaid.RoleAdmin} {
		all, err := db.linkedOfficers(ctx, tx, string(role))
		if err != nil {
			return 0, err
		}
		for _, o := range all {
			if sees(o) {
				to = append(to, o)
			}
		}
		if len(to) > 0 {
			break
		}
	}
	path := "/admin/legal/" + number
	link := ""
	if publicURL != "" {
		link = strings.TrimRight(publicURL, "/") + path
	}
	hour := now.In(chinaTime).Format("2006010215")
	for _, o := range to {
		if _, err := db.Enqueue(ctx, tx, OutboxMessage{
			Key:     fmt.Sprintf("legal:alert:%s:%d:%s", number, o.OfficerID, hour),
			Kind:    LegalAlertKind,
			OpenID:  o.OpenID,
			Service: true,
			Content: OutboxContent{Text: legalaid.Alert(number, category, link), Link: path,
				Fields: map[string]string{"title": "法律援助紧急求助", "number": number, "status": legalaid.CrisisLabel(category)}},
		}); err != nil {
			return 0, fmt.Errorf("alert officer %s of %s: %w", o.Username, number, err)
		}
	}
	return len(to), nil
}

// ReportCrisis keeps a crisis message, only to protect the person (PIPL Art. 13(4)): it
// flags the requester's open case urgent, or, without one, opens an urgent case of type
// crisis; with its event and audit row in one transaction. created reports a new case.
func (db *DB) ReportCrisis(ctx context.Context, r CrisisReport, audit AuditEntry) (c LegalCase, created bool, err error) {
	if r.OpenID == "" || strings.TrimSpace(r.Text) == "" {
		return LegalCase{}, false, fmt.Errorf("report crisis: %w: openid and text required", ErrInvalid)
	}
	var number string
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := db.now()
		open, err := db.legalCaseRead(ctx, tx, false, `c.open_id = ? AND c.status <> ? ORDER BY c.id DESC LIMIT 1`,
			r.OpenID, string(legalaid.Closed))
		switch {
		case err == nil:
			number = open.Number
			if err := db.appendCrisisTx(ctx, tx, open, r.Signal, r.Text, now); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE legal_cases SET version = version + 1 WHERE id = ?`, open.ID); err != nil {
				return fmt.Errorf("flag legal case urgent: %w", err)
			}
			if err := db.legalEventSecretTx(ctx, tx, open.ID, LegalEvent{At: now, Actor: audit.Actor, Kind: LegalEventUrgent,
				Reason: r.Signal.Category, Text: legalClip(r.Text, maxLegalNote)}); err != nil {
				return err
			}
			alerted, err := db.alertLegalOfficersTx(ctx, tx, open.Number, open.UnitID, r.Signal.Category, r.PublicURL, now)
			if err != nil {
				return err
			}
			audit.Action, audit.Subject = "legal.urgent", "legal:"+open.Number
			audit.Before = map[string]string{"urgent": fmt.Sprint(open.Urgent)}
			audit.After = map[string]string{"urgent": "true", "signal": r.Signal.Category, "alerted": fmt.Sprint(alerted)}
			return db.auditTx(ctx, tx, audit)
		case !errors.Is(err, ErrNotFound):
			return err
		}
		var unit, member sql.NullInt64
		if r.MemberID != 0 {
			if err := tx.GetContext(ctx, &unit, `SELECT unit_id FROM members WHERE id = ?`, r.MemberID); err != nil {
				return fmt.Errorf("member %d: %w", r.MemberID, mapErr(err))
			}
			member = sql.NullInt64{Int64: r.MemberID, Valid: true}
		}
		if number, err = db.nextDayNumber(ctx, tx, now, "legal_case_numbers", "FY"); err != nil {
			return err
		}
		enc, err := db.cipher.Encrypt(legalClip(r.Text, maxCrisisText))
		if err != nil {
			return fmt.Errorf("encrypt crisis text: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO legal_cases (number, open_id, member_id, unit_id, type, status, version,
    urgent, crisis_category, crisis_at, crisis_text_enc, description_enc, submitted_by, submitted_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, '', ?, ?, ?)`, number, r.OpenID, member, unit, string(legalaid.Crisis),
			string(legalaid.Submitted), true, r.Signal.Category, now, enc, audit.Actor, now, now)
		if err != nil {
			return fmt.Errorf("insert urgent case: %w", mapErr(err))
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("urgent case id: %w", err)
		}
		if err := db.legalEventTx(ctx, tx, id, LegalEvent{At: now, Actor: audit.Actor, Kind: LegalEventStatus,
			To: legalaid.Submitted, Reason: r.Signal.Category}); err != nil {
			return err
		}
		alerted, err := db.alertLegalOfficersTx(ctx, tx, number, unit.Int64, r.Signal.Category, r.PublicURL, now)
		if err != nil {
			return err
		}
		audit.Action, audit.Subject = "legal.crisis", "legal:"+number
		audit.After = map[string]string{"status": string(legalaid.Submitted), "type": string(legalaid.Crisis),
			"urgent": "true", "signal": r.Signal.Category, "alerted": fmt.Sprint(alerted)}
		created = true
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return LegalCase{}, false, fmt.Errorf("report crisis: %w", err)
	}
	c, err = db.LegalCaseByNumber(ctx, number)
	return c, created, err
}

func legalClip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

func (db *DB) legalEvidenceTx(ctx context.Context, tx *sqlx.Tx, id int64, openID string, media []int64, now time.Time) error {
	for _, m := range media {
		res, err := tx.ExecContext(ctx, `INSERT INTO legal_case_evidence (case_id, media_id, added_at)
SELECT ?, id, ? FROM media WHERE id = ? AND open_id = ?`, id, now, m, openID)
		if err != nil {
			return fmt.Errorf("evidence %d: %w", m, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("evidence %d: %w", m, ErrNotFound)
		}
	}
	return keepMedia(ctx, tx, openID, media)
}

func (db *DB) legalEventTx(ctx context.Context, tx *sqlx.Tx, id int64, e LegalEvent) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO legal_case_events (case_id, at, actor, kind, from_status, to_status,
    outcome, reason, text_enc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, e.At, e.Actor, e.Kind, string(e.From),
		string(e.To), string(e.Outcome), e.Reason, e.Text)
	if err != nil {
		return fmt.Errorf("legal case event: %w", err)
	}
	return nil
}

// legalEventSecretTx is legalEventTx with the text encrypted (notes, crisis messages,
// comments).
func (db *DB) legalEventSecretTx(ctx context.Context, tx *sqlx.Tx, id int64, e LegalEvent) error {
	enc, err := db.cipher.Encrypt(e.Text)
	if err != nil {
		return fmt.Errorf("encrypt event text: %w", err)
	}
	e.Text = enc
	return db.legalEventTx(ctx, tx, id, e)
}
