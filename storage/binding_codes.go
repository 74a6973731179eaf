package storage

// One-time binding codes (绑定码): an officer who has checked a member's identity gives them
// a code, and the member sends "绑定码 CODE" to bind. A code binds even while self-service
// binding is locked, so a lock — even one an attacker provokes against every member of a
// common name — never shuts a real member out. Only the keyed hash of a code is stored.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/jmoiron/sqlx"

	"unionbot/pii"
)

const (
	hashBindingCode = "binding_code"
	// codeAlphabet leaves out 0/O, 1/I/L so a code read aloud or copied by hand survives.
	codeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	codeLength   = 10 // 31^10 ≈ 2^49.5: guessing is hopeless even without the per-openid limit
	// DefaultBindingCodeTTL is how long a binding code is valid.
	DefaultBindingCodeTTL = 24 * time.Hour
)

// BindingCode is an issued code, returned once: only its hash is stored.
type BindingCode struct {
	Code      string // "ABCDE-FGHJK"
	Member    Member
	ExpiresAt time.Time
}

const deleteExpiredCodes = `DELETE FROM binding_codes WHERE expires_at <= ?`

const deleteMemberCode = `DELETE FROM binding_codes WHERE member_id = ?`

const insertCode = `INSERT INTO binding_codes (member_id, code_hash, expires_at, created_by, created_at)
VALUES (?, ?, ?, ?, ?)`

// IssueBindingCode makes a one-time binding code for the member with that member number,
// valid for ttl (DefaultBindingCodeTTL when ttl <= 0). A new code replaces the member's
// earlier one. The audit row (Action "binding.code.issue", Subject "member:<id>"; never the
// code) is written in the same transaction. ErrNotFound when there is no such member;
// ErrInvalid when the member is not 在册 (a transferred or withdrawn member does not bind).
func (db *DB) IssueBindingCode(ctx context.Context, memberNo string, ttl time.Duration, audit AuditEntry) (BindingCode, error) {
	if ttl <= 0 {
		ttl = DefaultBindingCodeTTL
	}
	var out BindingCode
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		m, err := db.memberWhere(ctx, tx, selectMemberByNo, strings.TrimSpace(memberNo))
		if err != nil {
			return err
		}
		if m.Status != StatusActive {
			return fmt.Errorf("%w: member status is %s, not %s", ErrInvalid, m.Status, StatusActive)
		}
		now := db.now()
		code, err := newBindingCode()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, deleteExpiredCodes, now); err != nil {
			return fmt.Errorf("drop expired codes: %w", err)
		}
		if _, err := tx.ExecContext(ctx, deleteMemberCode, m.ID); err != nil {
			return fmt.Errorf("drop earlier code: %w", err)
		}
		expires := now.Add(ttl)
		if _, err := tx.ExecContext(ctx, insertCode, m.ID, db.codeHash(code), expires, clip(audit.Actor, 100), now); err != nil {
			return fmt.Errorf("store code: %w", mapErr(err))
		}
		audit.Action, audit.Subject = "binding.code.issue", memberSubject(m.ID)
		audit.Detail = joinDetail(memberDetail(m)+"，有效期至 "+expires.Format(time.RFC3339), audit.Detail)
		if err := db.auditTx(ctx, tx, audit); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		out = BindingCode{Code: code, Member: m, ExpiresAt: expires}
		return nil
	})
	if err != nil {
		return BindingCode{}, fmt.Errorf("issue binding code for member %s: %w", memberNo, err)
	}
	return out, nil
}

// newBindingCode returns a random code written as two groups of five.
func newBindingCode() (string, error) {
	b := make([]byte, codeLength)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random code: %w", err)
	}
	var sb strings.Builder
	for i, c := range b {
		if i == codeLength/2 {
			sb.WriteByte('-')
		}
		// 256 % 31 leaves a bias of under 1 %: irrelevant at 2^49 codes.
		sb.WriteByte(codeAlphabet[int(c)%len(codeAlphabet)])
	}
	return sb.String(), nil
}

// normCode is the form a typed code is compared in: half-width, upper case, without spaces
// or dashes.
func normCode(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' || r == '_' {
			return -1
		}
		return unicode.ToUpper(r)
	}, pii.HalfWidth(s))
}

func (db *DB) codeHash(code string) string { return db.cipher.Hash(hashBindingCode, normCode(code)) }

const selectCodeByHash = `SELECT member_id, expires_at FROM binding_codes WHERE code_hash = ?`

type codeRow struct {
	MemberID  int64     `db:"member_id"`
	ExpiresAt time.Time `db:"expires_at"`
}

// RedeemBindingCode binds openID to the member a valid code was issued for and uses the
// code up, with the audit row (Action "member.bind.code") in the same transaction. A code is
// an officer's word that this person is the member, so it binds whatever the self-service
// locks say, and moves a binding another openid holds (the audit row keeps the old openid).
// Errors:
//   - ErrNotFound: no such code, or it expired. It counts against openID's code limit.
//   - ErrLocked: too many wrong codes from openID lately (lim.PerOpenIDCode).
//   - ErrConflict: openID is bound to another member (the code stays valid).
//   - ErrInvalid: the member is no longer 在册 (the code stays valid).
func (db *DB) RedeemBindingCode(ctx context.Context, openID, code string, lim BindingLimits, audit AuditEntry) (Member, error) {
	lim = lim.WithDefaults()
	if openID == "" {
		return Member{}, fmt.Errorf("redeem binding code: %w: empty openid", ErrInvalid)
	}
	until, err := db.lockedUntil(ctx, db.r, codeSubject(openID))
	if err != nil {
		return Member{}, fmt.Errorf("redeem binding code: %w", err)
	}
	if !until.IsZero() {
		return Member{}, fmt.Errorf("redeem binding code: %w until %s", ErrLocked, until.Format(time.RFC3339))
	}
	var m Member
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		q := selectCodeByHash
		if db.mysql() {
			q += " FOR UPDATE"
		}
		var c codeRow
		if err := tx.GetContext(ctx, &c, q, db.codeHash(code)); err != nil {
			return mapErr(err)
		}
		if !c.ExpiresAt.After(db.now()) {
			return ErrNotFound
		}
		if cur, err := db.memberWhere(ctx, tx, selectMemberByOpenID, openID); err == nil && cur.ID != c.MemberID {
			return fmt.Errorf("%w: openid is bound to member %d", ErrConflict, cur.ID)
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		target, err := db.memberWhere(ctx, tx, selectMemberByID, c.MemberID)
		if err != nil {
			return err
		}
		if target.Status != StatusActive {
			return fmt.Errorf("%w: member status is %s", ErrInvalid, target.Status)
		}
		if audit.Action == "" {
			audit.Action = "member.bind.code"
		}
		if m, err = db.bindTx(ctx, tx, c.MemberID, openID, true, audit); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, deleteMemberCode, c.MemberID); err != nil {
			return fmt.Errorf("use up code: %w", err)
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		if _, _, _, cerr := db.countCodeFailure(ctx, openID, lim.PerOpenIDCode, audit); cerr != nil {
			return Member{}, fmt.Errorf("redeem binding code: %w", errors.Join(err, cerr))
		}
	}
	if err != nil {
		return Member{}, fmt.Errorf("redeem binding code: %w", err)
	}
	return m, nil
}

// countCodeFailure counts a wrong code against openID, in its own transaction (the attempt
// failed, but its count must stay).
func (db *DB) countCodeFailure(ctx context.Context, openID string, lim BindingLimit, audit AuditEntry) (int, time.Time, bool, error) {
	var left int
	var until time.Time
	var locked bool
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		subject := codeSubject(openID)
		if left, until, locked, err = db.countFailure(ctx, tx, subject, lim); err != nil {
			return err
		}
		if locked {
			return db.auditLock(ctx, tx, audit, subject, lim)
		}
		return nil
	})
	return left, until, locked, err
}
