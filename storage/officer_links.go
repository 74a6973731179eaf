package storage

// Officers link their WeChat to their console account (干部绑定): the console issues a
// one-time code (only its keyed hash is stored), the officer sends "干部绑定 CODE" to the
// official account, and the openid is recorded. Linked officers receive urgent alerts
// (legal aid) through the outbox; LinkedOfficers lists them by role.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
)

const hashOfficerLinkCode = "officer_link_code"

// DefaultOfficerLinkTTL is how long a link code is valid.
const DefaultOfficerLinkTTL = 15 * time.Minute

// LinkedOfficer is an enabled officer with a linked WeChat.
type LinkedOfficer struct {
	OfficerID   int64
	Username    string
	DisplayName string
	Roles       []string
	UnitID      int64 // 0: county level
	OpenID      string
	LinkedAt    time.Time
}

// OfficerLinkCode is an issued code, returned once.
type OfficerLinkCode struct {
	Code      string
	ExpiresAt time.Time
}

// IssueOfficerLinkCode makes a one-time code for officer id, valid for ttl
// (DefaultOfficerLinkTTL when ttl <= 0), replacing an earlier one, with the audit row
// ("officer.wechat.code") in the same transaction.
func (db *DB) IssueOfficerLinkCode(ctx context.Context, id int64, ttl time.Duration, audit AuditEntry) (OfficerLinkCode, error) {
	if ttl <= 0 {
		ttl = DefaultOfficerLinkTTL
	}
	var out OfficerLinkCode
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := db.officerWhere(ctx, tx, "o.id = ?", id); err != nil {
			return err
		}
		code, err := newBindingCode()
		if err != nil {
			return err
		}
		now := db.now()
		if _, err := tx.ExecContext(ctx, `DELETE FROM officer_link_codes WHERE officer_id = ? OR expires_at <= ?`, id, now); err != nil {
			return err
		}
		hash := db.cipher.Hash(hashOfficerLinkCode, normCode(code))
		if _, err := tx.ExecContext(ctx, `INSERT INTO officer_link_codes (officer_id, code_hash, expires_at, created_at)
VALUES (?, ?, ?, ?)`, id, hash, now.Add(ttl), now); err != nil {
			return mapErr(err)
		}
		out = OfficerLinkCode{Code: code, ExpiresAt: now.Add(ttl)}
		audit.Action, audit.Subject = "officer.wechat.code", officerSubject(id)
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return OfficerLinkCode{}, fmt.Errorf("issue officer link code: %w", err)
	}
	return out, nil
}

// RedeemOfficerLinkCode links openID to the officer a valid code was issued for and uses
// the code up (audit "officer.wechat.link", actor the officer). An openid links one officer:
// linking it again moves it. ErrNotFound when there is no such code or it expired, or the
// officer is disabled.
func (db *DB) RedeemOfficerLinkCode(ctx context.Context, openID, code string) (Officer, error) {
	if openID == "" {
		return Officer{}, fmt.Errorf("redeem officer link code: %w: empty openid", ErrInvalid)
	}
	var o Officer
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := db.now()
		var id int64
		err := sqlx.GetContext(ctx, tx, &id, `SELECT officer_id FROM officer_link_codes WHERE code_hash = ? AND expires_at > ?`,
			db.cipher.Hash(hashOfficerLinkCode, normCode(code)), now)
		if err != nil {
			return mapErr(err)
		}
		if o, err = db.officerWhere(ctx, tx, "o.id = ?", id); err != nil {
			return err
		}
		if o.Disabled {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM officer_link_codes WHERE officer_id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM officer_wechat WHERE officer_id = ? OR open_id = ?`, id, openID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO officer_wechat (officer_id, open_id, linked_at) VALUES (?, ?, ?)`, id, openID, now); err != nil {
			return mapErr(err)
		}
		return db.auditTx(ctx, tx, AuditEntry{Actor: "officer:" + o.Username, Action: "officer.wechat.link",
			Subject: officerSubject(id), Detail: "微信 " + maskOpenID(openID)})
	})
	if err != nil {
		return Officer{}, fmt.Errorf("redeem officer link code: %w", err)
	}
	return o, nil
}

// UnlinkOfficerWeChat removes officer id's linked WeChat (audit "officer.wechat.unlink").
// ErrNotFound when none is linked.
func (db *DB) UnlinkOfficerWeChat(ctx context.Context, id int64, audit AuditEntry) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM officer_wechat WHERE officer_id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrNotFound
		}
		audit.Action, audit.Subject = "officer.wechat.unlink", officerSubject(id)
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("unlink officer wechat: %w", err)
	}
	return nil
}

// OfficerWeChat returns the openid linked to officer id and when, or ErrNotFound.
func (db *DB) OfficerWeChat(ctx context.Context, id int64) (openID string, at time.Time, err error) {
	var r struct {
		OpenID string    `db:"open_id"`
		At     time.Time `db:"linked_at"`
	}
	if err := db.r.GetContext(ctx, &r, `SELECT open_id, linked_at FROM officer_wechat WHERE officer_id = ?`, id); err != nil {
		return "", time.Time{}, fmt.Errorf("officer wechat: %w", mapErr(err))
	}
	return r.OpenID, r.At.UTC(), nil
}

// OfficerByOpenID returns the enabled officer whose WeChat is openID, or ErrNotFound.
func (db *DB) OfficerByOpenID(ctx context.Context, openID string) (Officer, error) {
	o, err := db.officerWhere(ctx, db.r, "o.id = (SELECT officer_id FROM officer_wechat WHERE open_id = ?)", openID)
	if err == nil && o.Disabled {
		err = ErrNotFound
	}
	if err != nil {
		return Officer{}, fmt.Errorf("officer by openid: %w", err)
	}
	return o, nil
}

// LinkedOfficers lists the enabled officers with a linked WeChat who hold role (every
// linked officer when role is ""), by id: who gets urgent alerts. An alert about a record of
// a unit goes to that unit's officers and the county-level ones (filter on UnitID).
func (db *DB) LinkedOfficers(ctx context.Context, role string) ([]LinkedOfficer, error) {
	return db.linkedOfficers(ctx, db.r, role)
}

// linkedOfficers is LinkedOfficers on q (a transaction that alerts them).
func (db *DB) linkedOfficers(ctx context.Context, q sqlx.QueryerContext, role string) ([]LinkedOfficer, error) {
	var rows []struct {
		officerRow
		OpenID   string    `db:"open_id"`
		LinkedAt time.Time `db:"linked_at"`
	}
	query := `SELECT o.id, o.username, o.display_name, o.password_hash, o.roles, o.unit_id, u.name AS unit_name,
    o.disabled, o.must_change_password, o.auth_version, o.last_login_at, o.created_at, o.updated_at,
    w.open_id, w.linked_at
FROM officer_wechat w JOIN officers o ON o.id = w.officer_id LEFT JOIN units u ON u.id = o.unit_id
WHERE o.disabled = 0 ORDER BY o.id`
	if err := sqlx.SelectContext(ctx, q, &rows, query); err != nil {
		return nil, fmt.Errorf("linked officers: %w", err)
	}
	var out []LinkedOfficer
	for _, r := range rows {
		o := r.officerRow.toOfficer()
		if role != "" && !slices.Contains(o.Roles, role) {
			continue
		}
		out = append(out, LinkedOfficer{OfficerID: o.ID, Username: o.Username, DisplayName: o.DisplayName,
			Roles: o.Roles, UnitID: o.UnitID, OpenID: r.OpenID, LinkedAt: r.LinkedAt.UTC()})
	}
	return out, nil
}

func (db *DB) officerWhere(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (Officer, error) {
	var r officerRow
	if err := sqlx.GetContext(ctx, q, &r, officerColumns+" WHERE "+where, args...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Officer{}, ErrNotFound
		}
		return Officer{}, err
	}
	return r.toOfficer(), nil
}

// maskOpenID keeps the ends of an openid for the audit log.
func maskOpenID(s string) string {
	if len(s) <= 8 {
		return "****"
	}
	return s[:4] + "****" + s[len(s)-4:]
}
