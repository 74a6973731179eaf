package storage

// Mutual-aid claims (互助金申领): submission in one transaction (the claim, its photos, the
// audit row and the member's confirmation), duplicate detection, status transitions with
// optimistic concurrency (claims.Transition decides what is legal; the version column
// decides who came first), reading for the console and the chat. The rules are
// claims_rules.go, the yearly figures claims_stats.go.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"unionbot/claims"
	"unionbot/pii"
)

// ErrStale is a transition asked against a version of the claim that is no longer the
// current one: someone else changed it first (the API's 409).
var ErrStale = fmt.Errorf("%w: the record was changed meanwhile", ErrConflict)

// ErrDuplicateClaim is a second claim of the same member, plan and admission date; the
// error is a *DuplicateClaimError naming the first.
var ErrDuplicateClaim = fmt.Errorf("%w: duplicate claim", ErrConflict)

// DuplicateClaimError names the claim a refused submission duplicates.
type DuplicateClaimError struct{ Number string }

func (e *DuplicateClaimError) Error() string { return "duplicate of claim " + e.Number }
func (e *DuplicateClaimError) Is(target error) bool {
	return target == ErrDuplicateClaim || target == ErrConflict
}

// chinaTime is the union's clock for claim numbers and calendar years (no DST in China).
var chinaTime = time.FixedZone("CST", 8*3600)

// Claim is a mutual-aid claim as the console and the chat read it. Personal details are
// decrypted (MemberName, Diagnosis) and must be masked or withheld by whoever shows them;
// the bank card is only ever here masked (ClaimBankCard reveals it, for finance).
type Claim struct {
	ID             int64
	Number         string // HZ20261124-0007
	MemberID       int64
	MemberNo       string
	MemberName     string
	OpenID         string // the member's bound openid now, "" when unbound
	UnitID         int64  // the member's unit when the claim was filed
	UnitName       string
	Plan           claims.Plan
	Status         claims.Status
	Version        int
	Hospital       string
	AdmittedOn     time.Time // dates, UTC midnight
	DischargedOn   time.Time
	Diagnosis      string
	TotalCost      claims.Fen
	InsurancePaid  claims.Fen
	OutOfPocket    claims.Fen
	Estimate       claims.Estimate
	RulesVersion   int // 0: the example rules
	ApprovedAmount claims.Fen
	BankName       string
	BankCardMasked string
	PaymentRef     string
	Reason         string // the last rejection or payment failure
	Missing        string // what the member was asked for, while need_more
	SubmittedBy    string // the audit actor: the member, or the officer who entered it (代录)
	SubmittedAt    time.Time
	UpdatedAt      time.Time

	// Filled by ClaimByNumber only.
	Attachments []ClaimAttachment
	History     []ClaimHistory
	SameInvoice []string // other claims holding an identical invoice photo
}

// ClaimAttachment is one photo of a claim.
type ClaimAttachment struct {
	ID      int64
	Kind    claims.DocKind
	MediaID int64
	SHA256  string
	AddedAt time.Time
}

// ClaimHistory is one step of a claim's life.
type ClaimHistory struct {
	At         time.Time
	Actor      string
	From, To   claims.Status // From is "" for the submission
	Amount     claims.Fen
	Reason     string
	Missing    string
	PaymentRef string
}

// AttachmentInput is a stored medium (storage/media.go) to attach as a document kind.
type AttachmentInput struct {
	Kind    claims.DocKind
	MediaID int64
}

// ClaimInput is a claim to submit.
type ClaimInput struct {
	MemberID      int64
	Plan          claims.Plan
	Hospital      string
	AdmittedOn    time.Time
	DischargedOn  time.Time
	Diagnosis     string
	TotalCost     claims.Fen
	InsurancePaid claims.Fen
	OutOfPocket   claims.Fen
	BankName      string
	BankCard      string
	Attachments   []AttachmentInput
	// MediaOwner is the open_id the attached media were saved under (the member's openid,
	// or the officer's upload key for a claim entered in the console); they are kept.
	MediaOwner string
	// SubmitToken makes the submission idempotent: a second SubmitClaim with the same token
	// returns the first claim (WeChat retries of 确认, a double click). Empty: none.
	SubmitToken string
}

// SubmitResult is what SubmitClaim did.
type SubmitResult struct {
	Claim   Claim
	Created bool // false: the submit token had already made this claim
}

// bounds of free text in a claim.
const (
	maxHospital = 191
	maxBankName = 100
	maxNoteLen  = 500
	maxRefLen   = 100
	maxDiagLen  = 500
)

func (in ClaimInput) validate() error {
	bad := func(what string) error { return fmt.Errorf("%w: claim %s", ErrInvalid, what) }
	switch {
	case in.MemberID <= 0:
		return bad("without a member")
	case !in.Plan.Valid():
		return bad("plan unknown")
	case strings.TrimSpace(in.Hospital) == "" || utf8.RuneCountInString(in.Hospital) > maxHospital:
		return bad("hospital empty or too long")
	case in.AdmittedOn.IsZero() || in.DischargedOn.IsZero() || dateOf(in.DischargedOn).Before(dateOf(in.AdmittedOn)):
		return bad("dates missing or discharge before admission")
	case utf8.RuneCountInString(in.Diagnosis) > maxDiagLen:
		return bad("diagnosis too long")
	case in.TotalCost < 0 || in.InsurancePaid < 0 || in.OutOfPocket < 0 || in.OutOfPocket > in.TotalCost:
		return bad("amounts negative or out-of-pocket above the total")
	case strings.TrimSpace(in.BankCard) == "" || utf8.RuneCountInString(in.BankName) > maxBankName:
		return bad("bank card missing or bank name too long")
	case len(in.SubmitToken) > 191:
		return bad("submit token too long")
	}
	for _, a := range in.Attachments {
		if !a.Kind.Valid() || a.MediaID <= 0 {
			return bad("attachment invalid")
		}
	}
	return nil
}

// dateOf is t's calendar date at UTC midnight (the DATE columns' form).
func dateOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// SubmitClaim files a claim in one transaction: its number (HZ + the day in China + a
// per-day sequence), the estimate under the rules in force, its attachments (their media
// kept), the history's first step, the audit row and the member's confirmation in the
// outbox. A claim of the same member, plan and admission date that is not
// withdrawn refuses it with a *DuplicateClaimError naming that claim. An identical invoice
// photo in another claim does not refuse it: ClaimByNumber reports it as SameInvoice.
func (db *DB) SubmitClaim(ctx context.Context, in ClaimInput, audit AuditEntry) (SubmitResult, error) {
	if err := in.validate(); err != nil {
		return SubmitResult{}, err
	}
	if in.SubmitToken != "" {
		if c, err := db.claimByToken(ctx, db.r, in.SubmitToken); err == nil {
			return SubmitResult{Claim: c}, nil
		} else if !errors.Is(err, ErrNotFound) {
			return SubmitResult{}, err
		}
	}
	var number string
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		number, err = db.submitClaimTx(ctx, tx, in, audit)
		return err
	})
	if errors.Is(err, errReplay) {
		c, err := db.ClaimByNumber(ctx, number)
		return SubmitResult{Claim: c}, err
	}
	if err != nil {
		// A concurrent submission with the same token won the unique key: answer with its claim.
		if in.SubmitToken != "" && errors.Is(err, ErrConflict) && !errors.Is(err, ErrDuplicateClaim) {
			if c, err2 := db.claimByToken(ctx, db.w, in.SubmitToken); err2 == nil {
				return SubmitResult{Claim: c}, nil
			}
		}
		return SubmitResult{}, fmt.Errorf("submit claim: %w", err)
	}
	c, err := db.ClaimByNumber(ctx, number)
	if err != nil {
		return SubmitResult{}, fmt.Errorf("submit claim: %w", err)
	}
	return SubmitResult{Claim: c, Created: true}, nil
}

// errReplay rolls back a submission whose token already made a claim.
var errReplay = errors.New("submit token already used")

type claimMemberRow struct {
	UnitID   sql.NullInt64 `db:"unit_id"`
	JoinedOn sql.NullTime  `db:"joined_on"`
}

func (db *DB) submitClaimTx(ctx context.Context, tx *sqlx.Tx, in ClaimInput, audit AuditEntry) (string, error) {
	now := db.now()
	// The member's row is the lock that serialises two submissions of one member on MySQL
	// (SQLite has a single writer), so the duplicate check below cannot race.
	q := `SELECT unit_id, joined_on FROM members WHERE id = ?`
	if db.mysql() {
		q += ` FOR UPDATE`
	}
	var m claimMemberRow
	if err := tx.GetContext(ctx, &m, q, in.MemberID); err != nil {
		return "", fmt.Errorf("member %d: %w", in.MemberID, mapErr(err))
	}
	if in.SubmitToken != "" {
		// A retry that waited for the first submission's lock on the member finds its claim.
		var n string
		err := tx.GetContext(ctx, &n, `SELECT number FROM claims WHERE submit_token = ?`, in.SubmitToken)
		if err == nil {
			return n, errReplay
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("submit token: %w", err)
		}
	}
	var first string
	err := tx.GetContext(ctx, &first, `SELECT number FROM claims WHERE member_id = ? AND plan = ? AND admitted_on = ?
AND status <> ? ORDER BY id LIMIT 1`, in.MemberID, string(in.Plan), dateOf(in.AdmittedOn), string(claims.Withdrawn))
	switch {
	case err == nil:
		return "", &DuplicateClaimError{Number: first}
	case !errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("duplicate check: %w", err)
	}
	rules, err := db.claimRulesOn(ctx, tx)
	if err != nil {
		return "", err
	}
	cover, err := db.claimCover(ctx, tx, in.MemberID, in.AdmittedOn, 0)
	if err != nil {
		return "", err
	}
	cover.JoinedOn = timeOf(m.JoinedOn)
	est := rules.Rules.Estimate(claims.Case{Plan: in.Plan, AdmittedOn: in.AdmittedOn, DischargedOn: in.DischargedOn,
		OutOfPocket: in.OutOfPocket, FiledOn: now.In(chinaTime)}, cover)
	detail, err := json.Marshal(est)
	if err != nil {
		return "", fmt.Errorf("encode estimate: %w", err)
	}
	number, err := db.nextDayNumber(ctx, tx, now, "claim_numbers", "HZ")
	if err != nil {
		return "", err
	}
	diag, err := db.cipher.Encrypt(in.Diagnosis)
	if err != nil {
		return "", fmt.Errorf("encrypt diagnosis: %w", err)
	}
	card := pii.HalfWidth(strings.Join(strings.Fields(in.BankCard), ""))
	cardEnc, err := db.cipher.Encrypt(card)
	if err != nil {
		return "", fmt.Errorf("encrypt bank card: %w", err)
	}
	var token sql.NullString
	if in.SubmitToken != "" {
		token = sql.NullString{String: in.SubmitToken, Valid: true}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO claims (number, member_id, unit_id, plan, status, version, hospital,
    admitted_on, discharged_on, diagnosis_enc, total_cost, insurance_paid, out_of_pocket, estimate, estimate_detail,
    rules_version, bank_name, bank_card_enc, bank_card_masked, submit_token, submitted_by, submitted_at, updated_at)
VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		number, in.MemberID, m.UnitID, string(in.Plan), string(claims.Submitted), strings.TrimSpace(in.Hospital),
		dateOf(in.AdmittedOn), dateOf(in.DischargedOn), diag, int64(in.TotalCost), int64(in.InsurancePaid),
		int64(in.OutOfPocket), int64(est.Amount), string(detail), rules.Version, strings.TrimSpace(in.BankName),
		cardEnc, pii.MaskBankCard(card), token, audit.Actor, now, now)
	if err != nil {
		return "", fmt.Errorf("insert claim: %w", mapErr(err))
	}
	id, err := res.LastInsertId()
	if err != nil {
		return "", fmt.Errorf("claim id: %w", err)
	}
	if err := db.attachTx(ctx, tx, id, in.MediaOwner, in.Attachments, now); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO claim_history (claim_id, at, actor, from_status, to_status)
VALUES (?, ?, ?, '', ?)`, id, now, audit.Actor, string(claims.Submitted)); err != nil {
		return "", fmt.Errorf("claim history: %w", err)
	}
	audit.Action, audit.Subject = "claim.submit", "claim:"+number
	audit.After = map[string]string{"status": string(claims.Submitted), "plan": string(in.Plan),
		"estimate": est.Amount.String(), "rules_version": fmt.Sprint(rules.Version)}
	if err := db.auditTx(ctx, tx, audit); err != nil {
		return "", err
	}
	c := Claim{ID: id, Number: number, MemberID: in.MemberID, Status: claims.Submitted, Version: 1, BankCardMasked: pii.MaskBankCard(card)}
	if err := db.notifyClaim(ctx, tx, c, "", claims.Details{}); err != nil {
		return "", err
	}
	return number, nil
}

// attachTx adds media to claim id as documents and keeps the media. A medium must exist
// (the foreign key); its content hash is copied for the same-invoice check.
func (db *DB) attachTx(ctx context.Context, tx *sqlx.Tx, id int64, owner string, as []AttachmentInput, now time.Time) error {
	ids := make([]int64, 0, len(as))
	for _, a := range as {
		res, err := tx.ExecContext(ctx, `INSERT INTO claim_attachments (claim_id, kind, media_id, sha256, added_at)
SELECT ?, ?, id, sha256, ? FROM media WHERE id = ?`, id, string(a.Kind), now, a.MediaID)
		if err != nil {
			return fmt.Errorf("attach medium %d: %w", a.MediaID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("attach medium %d: %w", a.MediaID, ErrNotFound)
		}
		ids = append(ids, a.MediaID)
	}
	if owner != "" {
		return keepMedia(ctx, tx, owner, ids)
	}
	return nil
}

// nextDayNumber takes the next number of the day (in China) of now from counter table
// (claim_numbers, legal_case_numbers) and formats it as prefix + day + "-" + four digits.
// The upsert locks the day's row until the transaction ends, so numbers are unique and,
// but for rolled-back submissions, without gaps.
func (db *DB) nextDayNumber(ctx context.Context, tx *sqlx.Tx, now time.Time, table, prefix string) (string, error) {
	day := now.In(chinaTime).Format("20060102")
	q := `INSERT INTO ` + table + ` (day, last) VALUES (?, 1) ON CONFLICT (day) DO UPDATE SET last = last + 1`
	if db.mysql() {
		q = `INSERT INTO ` + table + ` (day, last) VALUES (?, 1) ON DUPLICATE KEY UPDATE last = last + 1`
	}
	if _, err := tx.ExecContext(ctx, q, day); err != nil {
		return "", fmt.Errorf("%s: %w", table, err)
	}
	var n int
	if err := tx.GetContext(ctx, &n, `SELECT last FROM `+table+` WHERE day = ?`, day); err != nil {
		return "", fmt.Errorf("%s: %w", table, err)
	}
	return fmt.Sprintf("%s%s-%04d", prefix, day, n), nil
}

// claimCover finds the member's enrolment covering the admission date: the cover period,
// the start of the continuous cover it belongs to (for the waiting period) and what the
// member's other claims (not except) of that period were approved. An admission no
// enrolment covers gives an empty Cover, which the rules refuse as not covered.
func (db *DB) claimCover(ctx context.Context, q sqlx.QueryerContext, memberID int64, admitted time.Time, except int64) (claims.Cover, error) {
	var rows []enrollmentRow
	if err := sqlx.SelectContext(ctx, q, &rows, selectEnrollments, memberID); err != nil {
		return claims.Cover{}, fmt.Errorf("enrolments of member %d: %w", memberID, err)
	}
	adm := dateOf(admitted)
	at := -1
	for i, r := range rows {
		if !adm.Before(dateOf(r.CoverFrom)) && !adm.After(dateOf(r.CoverTo)) {
			at = i
		}
	}
	if at < 0 {
		return claims.Cover{}, nil
	}
	cover := claims.Cover{CoverFrom: dateOf(rows[at].CoverFrom), CoverTo: dateOf(rows[at].CoverTo)}
	start := at
	for start > 0 && rows[start-1].Year == rows[start].Year-1 {
		start--
	}
	cover.EnrolledOn = dateOf(rows[start].CoverFrom)
	var paid sql.NullInt64
	err := sqlx.GetContext(ctx, q, &paid, `SELECT SUM(approved_amount) FROM claims WHERE member_id = ? AND id <> ?
AND status IN (?, ?, ?) AND admitted_on >= ? AND admitted_on <= ?`, memberID, except,
		string(claims.Approved), string(claims.Paid), string(claims.PaymentFailed), cover.CoverFrom, cover.CoverTo)
	if err != nil {
		return claims.Cover{}, fmt.Errorf("paid this year: %w", err)
	}
	cover.PaidThisYear = claims.Fen(paid.Int64)
	return cover, nil
}

// TransitionRequest asks to move a claim to another status.
type TransitionRequest struct {
	To claims.Status
	// Version is the version the asker saw; another current version is ErrStale. 0 means
	// the current one (the member in chat, who sees no versions).
	Version int
	Role    claims.Role
	Details claims.Details
	// MemberID, when the member asks, must be the claim's (another member's claim is
	// ErrNotFound).
	MemberID int64
}

// TransitionClaim moves claim number to req.To if claims.Transition allows it for req.Role
// and claims.Check accepts the details, in one transaction with the history step, the audit
// row and the member's notification in the outbox. Errors: ErrNotFound, ErrStale (a concurrent change won),
// claims.ErrIllegal, claims.ErrForbidden, claims.ErrDetails.
func (db *DB) TransitionClaim(ctx context.Context, number string, req TransitionRequest, audit AuditEntry) (Claim, error) {
	for _, s := range []string{req.Details.Reason, req.Details.Missing} {
		if utf8.RuneCountInString(s) > maxNoteLen {
			return Claim{}, &claims.DetailsError{Msg: fmt.Sprintf("原因或补充说明不能超过 %d 字", maxNoteLen)}
		}
	}
	if utf8.RuneCountInString(req.Details.PaymentRef) > maxRefLen {
		return Claim{}, &claims.DetailsError{Msg: fmt.Sprintf("流水号不能超过 %d 字", maxRefLen)}
	}
	var out Claim
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := db.claimOn(ctx, tx, `c.number = ?`, number)
		if err != nil {
			return err
		}
		if req.MemberID != 0 && c.MemberID != req.MemberID {
			return ErrNotFound
		}
		if req.Version != 0 && req.Version != c.Version {
			return ErrStale
		}
		if err := claims.Transition(c.Status, req.To, req.Role); err != nil {
			return err
		}
		if err := claims.Check(c.Status, req.To, req.Details); err != nil {
			return err
		}
		now := db.now()
		before := map[string]string{"status": string(c.Status), "version": fmt.Sprint(c.Version)}
		d := req.Details
		switch req.To {
		case claims.Approved:
			if c.Status == claims.Reviewing {
				c.ApprovedAmount = d.Amount
			}
			c.Reason = ""
		case claims.Rejected, claims.PaymentFailed:
			c.Reason = strings.TrimSpace(d.Reason)
		case claims.NeedMore:
			c.Missing = strings.TrimSpace(d.Missing)
		case claims.Paid:
			c.PaymentRef = strings.TrimSpace(d.PaymentRef)
		}
		if c.Status == claims.NeedMore {
			c.Missing = ""
		}
		var amount sql.NullInt64
		if c.ApprovedAmount > 0 {
			amount = sql.NullInt64{Int64: int64(c.ApprovedAmount), Valid: true}
		}
		res, err := tx.ExecContext(ctx, `UPDATE claims SET status = ?, version = version + 1, approved_amount = ?,
    reason = ?, missing = ?, payment_ref = ?, updated_at = ? WHERE id = ? AND version = ?`,
			string(req.To), amount, c.Reason, c.Missing, c.PaymentRef, now, c.ID, c.Version)
		if err != nil {
			return fmt.Errorf("update claim: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return ErrStale
		}
		var hAmount sql.NullInt64
		if req.To == claims.Approved && c.Status == claims.Reviewing {
			hAmount = amount
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO claim_history (claim_id, at, actor, from_status, to_status, amount,
    reason, missing, payment_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, now, audit.Actor, string(c.Status),
			string(req.To), hAmount, strings.TrimSpace(d.Reason), strings.TrimSpace(d.Missing), strings.TrimSpace(d.PaymentRef)); err != nil {
			return fmt.Errorf("claim history: %w", err)
		}
		from := c.Status
		c.Status, c.Version, c.UpdatedAt = req.To, c.Version+1, now
		audit.Action, audit.Subject, audit.Before = "claim.transition", "claim:"+c.Number, before
		audit.After = map[string]string{"status": string(c.Status), "version": fmt.Sprint(c.Version)}
		if req.To == claims.Approved {
			audit.After["amount"] = c.ApprovedAmount.String()
		}
		if err := db.auditTx(ctx, tx, audit); err != nil {
			return err
		}
		if err := db.notifyClaim(ctx, tx, c, from, d); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return Claim{}, fmt.Errorf("claim %s to %s: %w", number, req.To, err)
	}
	return out, nil
}

// ClaimNoticeKind is the outbox kind of the messages about a member's claim (the delivery
// configuration maps it to a template: a claim's status is a service notification).
const ClaimNoticeKind = "claim_status"

// notifyClaim enqueues, in tx, the member's message about c having reached its status from
// from. The key names the claim and its version, so a transition is told exactly once.
func (db *DB) notifyClaim(ctx context.Context, tx *sqlx.Tx, c Claim, from claims.Status, d claims.Details) error {
	text := claims.Notice(c.Number, from, c.Status, c.ApprovedAmount, c.BankCardMasked, d)
	_, err := db.Enqueue(ctx, tx, OutboxMessage{
		Key:      fmt.Sprintf("claim:%s:v%d", c.Number, c.Version),
		Kind:     ClaimNoticeKind,
		MemberID: c.MemberID,
		Service:  true,
		Content: OutboxContent{Text: text, Fields: map[string]string{
			"title": "互助金申请", "number": c.Number, "status": c.Status.Label(),
		}},
	})
	if err != nil {
		return fmt.Errorf("notify member of claim %s: %w", c.Number, err)
	}
	return nil
}

// AddClaimAttachments adds photos the member sent for a claim in need_more (补件) or an
// officer uploaded; memberID, when not 0, must be the claim's. It does not change the
// status: the member's 好了 is a TransitionClaim to reviewing.
func (db *DB) AddClaimAttachments(ctx context.Context, number string, memberID int64, owner string, as []AttachmentInput, audit AuditEntry) error {
	for _, a := range as {
		if !a.Kind.Valid() || a.MediaID <= 0 {
			return fmt.Errorf("add attachments: %w: attachment invalid", ErrInvalid)
		}
	}
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := db.claimOn(ctx, tx, `c.number = ?`, number)
		if err != nil {
			return fmt.Errorf("add attachments to %s: %w", number, err)
		}
		if memberID != 0 && c.MemberID != memberID {
			return fmt.Errorf("add attachments to %s: %w", number, ErrNotFound)
		}
		if c.Status.Final() {
			return fmt.Errorf("add attachments to %s: %w: the claim is %s", number, ErrInvalid, c.Status)
		}
		if err := db.attachTx(ctx, tx, c.ID, owner, as, db.now()); err != nil {
			return err
		}
		audit.Action, audit.Subject = "claim.attach", "claim:"+number
		audit.After = map[string]string{"attachments": fmt.Sprint(len(as))}
		return db.auditTx(ctx, tx, audit)
	})
}

// ClaimBankCard returns the claim's bank card number in clear, for finance's payment list;
// the caller audits the reveal.
func (db *DB) ClaimBankCard(ctx context.Context, number string) (string, error) {
	var enc string
	if err := db.r.GetContext(ctx, &enc, `SELECT bank_card_enc FROM claims WHERE number = ?`, number); err != nil {
		return "", fmt.Errorf("bank card of %s: %w", number, mapErr(err))
	}
	card, err := db.cipher.Decrypt(enc)
	if err != nil {
		return "", fmt.Errorf("bank card of %s: %w", number, err)
	}
	return card, nil
}

const claimColumns = `SELECT c.id, c.number, c.member_id, m.member_no, m.name_enc, m.open_id, c.unit_id, u.name AS unit_name,
    c.plan, c.status, c.version, c.hospital, c.admitted_on, c.discharged_on, c.diagnosis_enc, c.total_cost,
    c.insurance_paid, c.out_of_pocket, c.estimate_detail, c.rules_version, c.approved_amount, c.bank_name,
    c.bank_card_masked, c.payment_ref, c.reason, c.missing, c.submitted_by, c.submitted_at, c.updated_at
FROM claims c JOIN members m ON m.id = c.member_id LEFT JOIN units u ON u.id = c.unit_id`

type claimRow struct {
	ID             int64          `db:"id"`
	Number         string         `db:"number"`
	MemberID       int64          `db:"member_id"`
	MemberNo       string         `db:"member_no"`
	NameEnc        string         `db:"name_enc"`
	OpenID         sql.NullString `db:"open_id"`
	UnitID         sql.NullInt64  `db:"unit_id"`
	UnitName       sql.NullString `db:"unit_name"`
	Plan           string         `db:"plan"`
	Status         string         `db:"status"`
	Version        int            `db:"version"`
	Hospital       string         `db:"hospital"`
	AdmittedOn     time.Time      `db:"admitted_on"`
	DischargedOn   time.Time      `db:"discharged_on"`
	DiagnosisEnc   string         `db:"diagnosis_enc"`
	TotalCost      int64          `db:"total_cost"`
	InsurancePaid  int64          `db:"insurance_paid"`
	OutOfPocket    int64          `db:"out_of_pocket"`
	EstimateDetail string         `db:"estimate_detail"`
	RulesVersion   int            `db:"rules_version"`
	ApprovedAmount sql.NullInt64  `db:"approved_amount"`
	BankName       string         `db:"bank_name"`
	BankCardMasked string         `db:"bank_card_masked"`
	PaymentRef     string         `db:"payment_ref"`
	Reason         string         `db:"reason"`
	Missing        string         `db:"missing"`
	SubmittedBy    string         `db:"submitted_by"`
	SubmittedAt    time.Time      `db:"submitted_at"`
	UpdatedAt      time.Time      `db:"updated_at"`
}

func (db *DB) toClaim(r claimRow) (Claim, error) {
	c := Claim{ID: r.ID, Number: r.Number, MemberID: r.MemberID, MemberNo: r.MemberNo, OpenID: r.OpenID.String,
		UnitID: r.UnitID.Int64, UnitName: r.UnitName.String, Plan: claims.Plan(r.Plan), Status: claims.Status(r.Status),
		Version: r.Version, Hospital: r.Hospital, AdmittedOn: dateOf(r.AdmittedOn.UTC()), DischargedOn: dateOf(r.DischargedOn.UTC()),
		TotalCost: claims.Fen(r.TotalCost), InsurancePaid: claims.Fen(r.InsurancePaid), OutOfPocket: claims.Fen(r.OutOfPocket),
		RulesVersion: r.RulesVersion, ApprovedAmount: claims.Fen(r.ApprovedAmount.Int64), BankName: r.BankName,
		BankCardMasked: r.BankCardMasked, PaymentRef: r.PaymentRef, Reason: r.Reason, Missing: r.Missing,
		SubmittedBy: r.SubmittedBy, SubmittedAt: r.SubmittedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	var err error
	if c.MemberName, err = db.decrypt(r.NameEnc); err != nil {
		return Claim{}, fmt.Errorf("claim %s: decrypt name: %w", r.Number, err)
	}
	if c.Diagnosis, err = db.decrypt(r.DiagnosisEnc); err != nil {
		return Claim{}, fmt.Errorf("claim %s: decrypt diagnosis: %w", r.Number, err)
	}
	if err := json.Unmarshal([]byte(r.EstimateDetail), &c.Estimate); err != nil {
		return Claim{}, fmt.Errorf("claim %s: decode estimate: %w", r.Number, err)
	}
	return c, nil
}

// claimOn reads one claim (without attachments and history) on q; on MySQL inside a
// transaction the row is locked for update.
func (db *DB) claimOn(ctx context.Context, q sqlx.QueryerContext, where string, arg any) (Claim, error) {
	query := claimColumns + ` WHERE ` + where
	if _, ok := q.(*sqlx.Tx); ok && db.mysql() {
		query += ` FOR UPDATE`
	}
	var r claimRow
	if err := sqlx.GetContext(ctx, q, &r, query, arg); err != nil {
		return Claim{}, mapErr(err)
	}
	return db.toClaim(r)
}

func (db *DB) claimByToken(ctx context.Context, q sqlx.QueryerContext, token string) (Claim, error) {
	c, err := db.claimOn(ctx, q, `c.submit_token = ?`, token)
	if err != nil {
		return Claim{}, fmt.Errorf("claim by submit token: %w", err)
	}
	return c, nil
}

// ClaimByNumber returns a claim with its attachments, history and the other claims holding
// an identical invoice photo; ErrNotFound when there is none.
func (db *DB) ClaimByNumber(ctx context.Context, number string) (Claim, error) {
	c, err := db.claimOn(ctx, db.r, `c.number = ?`, strings.TrimSpace(number))
	if err != nil {
		return Claim{}, fmt.Errorf("claim %s: %w", number, err)
	}
	var atts []struct {
		ID      int64     `db:"id"`
		Kind    string    `db:"kind"`
		MediaID int64     `db:"media_id"`
		SHA256  string    `db:"sha256"`
		AddedAt time.Time `db:"added_at"`
	}
	if err := db.r.SelectContext(ctx, &atts, `SELECT id, kind, media_id, sha256, added_at FROM claim_attachments
WHERE claim_id = ? ORDER BY id`, c.ID); err != nil {
		return Claim{}, fmt.Errorf("claim %s attachments: %w", number, err)
	}
	for _, a := range atts {
		c.Attachments = append(c.Attachments, ClaimAttachment{ID: a.ID, Kind: claims.DocKind(a.Kind), MediaID: a.MediaID,
			SHA256: a.SHA256, AddedAt: a.AddedAt.UTC()})
	}
	var hist []struct {
		At         time.Time     `db:"at"`
		Actor      string        `db:"actor"`
		From       string        `db:"from_status"`
		To         string        `db:"to_status"`
		Amount     sql.NullInt64 `db:"amount"`
		Reason     string        `db:"reason"`
		Missing    string        `db:"missing"`
		PaymentRef string        `db:"payment_ref"`
	}
	if err := db.r.SelectContext(ctx, &hist, `SELECT at, actor, from_status, to_status, amount, reason, missing, payment_ref
FROM claim_history WHERE claim_id = ? ORDER BY id`, c.ID); err != nil {
		return Claim{}, fmt.Errorf("claim %s history: %w", number, err)
	}
	for _, h := range hist {
		c.History = append(c.History, ClaimHistory{At: h.At.UTC(), Actor: h.Actor, From: claims.Status(h.From),
			To: claims.Status(h.To), Amount: claims.Fen(h.Amount.Int64), Reason: h.Reason, Missing: h.Missing, PaymentRef: h.PaymentRef})
	}
	// Identity documents legitimately repeat across one member's claims; invoices must not.
	if err := db.r.SelectContext(ctx, &c.SameInvoice, `SELECT DISTINCT o.number FROM claim_attachments a
JOIN claim_attachments b ON b.sha256 = a.sha256 AND b.claim_id <> a.claim_id
JOIN claims o ON o.id = b.claim_id
WHERE a.claim_id = ? AND a.kind = ? AND b.kind NOT IN (?, ?) ORDER BY o.number`,
		c.ID, string(claims.DocInvoice), string(claims.DocIDCard), string(claims.DocBankCard)); err != nil {
		return Claim{}, fmt.Errorf("claim %s same invoice: %w", number, err)
	}
	return c, nil
}

// ClaimFilter selects claims for a list. Zero fields do not filter.
type ClaimFilter struct {
	Status   claims.Status
	UnitID   int64
	Plan     claims.Plan
	Year     int // submitted in this calendar year (China time)
	MemberID int64
	// Oldest lists the claims waiting longest first (oldest submitted first) instead of
	// newest first.
	Oldest bool
	Before int64 // cursor: only claims after this id in the list's order
	Limit  int   // 50 when <= 0, at most 500
}

// ListClaims returns claims newest first (oldest first with f.Oldest) and the cursor of the
// next page (0 when none).
func (db *DB) ListClaims(ctx context.Context, f ClaimFilter) ([]Claim, int64, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if f.Status != "" {
		add(`c.status = ?`, string(f.Status))
	}
	if f.UnitID != 0 {
		add(`c.unit_id = ?`, f.UnitID)
	}
	if f.Plan != "" {
		add(`c.plan = ?`, string(f.Plan))
	}
	if f.Year != 0 {
		from, to := yearBounds(f.Year)
		add(`c.submitted_at >= ? AND c.submitted_at < ?`, from, to)
	}
	if f.MemberID != 0 {
		add(`c.member_id = ?`, f.MemberID)
	}
	if f.Before > 0 && f.Oldest {
		add(`c.id > ?`, f.Before)
	} else if f.Before > 0 {
		add(`c.id < ?`, f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	q := claimColumns
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	if f.Oldest {
		q += ` ORDER BY c.id LIMIT ?`
	} else {
		q += ` ORDER BY c.id DESC LIMIT ?`
	}
	args = append(args, limit+1)
	var rows []claimRow
	if err := db.r.SelectContext(ctx, &rows, q, args...); err != nil {
		return nil, 0, fmt.Errorf("list claims: %w", err)
	}
	var next int64
	if len(rows) > limit {
		rows = rows[:limit]
		next = rows[limit-1].ID
	}
	out := make([]Claim, 0, len(rows))
	for _, r := range rows {
		c, err := db.toClaim(r)
		if err != nil {
			return nil, 0, fmt.Errorf("list claims: %w", err)
		}
		out = append(out, c)
	}
	return out, next, nil
}

// yearBounds is the calendar year in China as a UTC half-open range.
func yearBounds(year int) (time.Time, time.Time) {
	return time.Date(year, 1, 1, 0, 0, 0, 0, chinaTime).UTC(), time.Date(year+1, 1, 1, 0, 0, 0, 0, chinaTime).UTC()
}

// CorrectClaimCard replaces the bank card of a claim whose payment failed and puts it back
// to approved for payment again, as the member (memberID must be the claim's), in one
// transaction with the history step, the audit row and the member's notice.
func (db *DB) CorrectClaimCard(ctx context.Context, number string, memberID int64, bankName, card string, audit AuditEntry) (Claim, error) {
	card = pii.HalfWidth(strings.Join(strings.Fields(card), ""))
	if card == "" || utf8.RuneCountInString(bankName) > maxBankName {
		return Claim{}, fmt.Errorf("correct card of %s: %w: card missing or bank name too long", number, ErrInvalid)
	}
	enc, err := db.cipher.Encrypt(card)
	if err != nil {
		return Claim{}, fmt.Errorf("correct card of %s: %w", number, err)
	}
	var out Claim
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := db.claimOn(ctx, tx, `c.number = ?`, number)
		if err != nil {
			return err
		}
		if c.MemberID != memberID {
			return ErrNotFound
		}
		if err := claims.Transition(c.Status, claims.Approved, claims.RoleMember); err != nil {
			return err
		}
		now := db.now()
		masked := pii.MaskBankCard(card)
		res, err := tx.ExecContext(ctx, `UPDATE claims SET status = ?, version = version + 1, bank_name = ?, bank_card_enc = ?,
    bank_card_masked = ?, reason = '', updated_at = ? WHERE id = ? AND version = ?`,
			string(claims.Approved), strings.TrimSpace(bankName), enc, masked, now, c.ID, c.Version)
		if err != nil {
			return fmt.Errorf("update claim: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return ErrStale
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO claim_history (claim_id, at, actor, from_status, to_status, reason)
VALUES (?, ?, ?, ?, ?, ?)`, c.ID, now, audit.Actor, string(c.Status), string(claims.Approved), "银行卡已更正"); err != nil {
			return fmt.Errorf("claim history: %w", err)
		}
		audit.Action, audit.Subject = "claim.correct_card", "claim:"+c.Number
		audit.Before = map[string]string{"status": string(c.Status), "bank_card": c.BankCardMasked}
		audit.After = map[string]string{"status": string(claims.Approved), "bank_card": masked}
		if err := db.auditTx(ctx, tx, audit); err != nil {
			return err
		}
		from := c.Status
		c.Status, c.Version, c.UpdatedAt, c.BankName, c.BankCardMasked, c.Reason = claims.Approved, c.Version+1, now, strings.TrimSpace(bankName), masked, ""
		if err := db.notifyClaim(ctx, tx, c, from, claims.Details{}); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return Claim{}, fmt.Errorf("correct card of %s: %w", number, err)
	}
	return out, nil
}
