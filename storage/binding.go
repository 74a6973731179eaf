package storage

// WeChat binding: linking an openid to a member and undoing it. Each change writes its audit
// row in its own transaction (see audit.go).

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"unionbot/pii"
)

const bindMember = `UPDATE members SET open_id = ?, bound_at = ? WHERE id = ? AND open_id IS NULL`

const rebindMember = `UPDATE members SET open_id = ?, bound_at = ? WHERE id = ?`

const selectMemberOpenID = `SELECT open_id FROM members WHERE id = ?`

// BindMember links a WeChat openid to a member and writes the audit row (Action
// "member.bind" unless the caller names another, Subject "member:<id>", Before/After the
// openid) in the same transaction: a binding without its audit row cannot happen.
//
// Binding the same pair again is a no-op that writes nothing and returns nil, so a WeChat
// retry of a delivery whose first run bound and then died ends where the first run would
// have. It returns ErrConflict when the member is bound to another openid or the openid to
// another member, and ErrNotFound when there is no such member.
func (db *DB) BindMember(ctx context.Context, memberID int64, openID string, audit AuditEntry) error {
	if openID == "" {
		return fmt.Errorf("bind member %d: %w: empty openid", memberID, ErrInvalid)
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := db.bindTx(ctx, tx, memberID, openID, false, audit)
		return err
	})
	if err != nil {
		return fmt.Errorf("bind member %d to %s: %w", memberID, openID, err)
	}
	return nil
}

// bindTx binds memberID to openID on tx and audits it. With takeOver, a member bound to
// another openid is moved to this one (an officer's binding code says this person is the
// member); otherwise that is ErrConflict. It returns the member as it is now.
func (db *DB) bindTx(ctx context.Context, tx *sqlx.Tx, memberID int64, openID string, takeOver bool, audit AuditEntry) (Member, error) {
	now := db.now()
	res, err := tx.ExecContext(ctx, bindMember, openID, now, memberID)
	if err != nil {
		if isUniqueViolation(err) {
			return Member{}, fmt.Errorf("%w: openid is bound to another member", ErrConflict)
		}
		return Member{}, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Member{}, err
	}
	previous := ""
	if n == 0 {
		var current sql.NullString
		if err := tx.GetContext(ctx, &current, selectMemberOpenID, memberID); err != nil {
			return Member{}, mapErr(err)
		}
		switch {
		case current.String == openID:
			return db.memberWhere(ctx, tx, selectMemberByID, memberID) // already so: nothing to write
		case !takeOver:
			return Member{}, fmt.Errorf("%w: member is bound to another openid", ErrConflict)
		}
		previous = current.String
		if _, err := tx.ExecContext(ctx, rebindMember, openID, now, memberID); err != nil {
			if isUniqueViolation(err) {
				return Member{}, fmt.Errorf("%w: openid is bound to another member", ErrConflict)
			}
			return Member{}, err
		}
	}
	m, err := db.memberWhere(ctx, tx, selectMemberByID, memberID)
	if err != nil {
		return Member{}, err
	}
	if audit.Action == "" {
		audit.Action = "member.bind"
	}
	audit.Subject = memberSubject(m.ID)
	audit.Before = map[string]string{"open_id": previous}
	audit.After = map[string]string{"open_id": openID}
	audit.Detail = joinDetail(memberDetail(m), audit.Detail)
	if err := db.auditTx(ctx, tx, audit); err != nil {
		return Member{}, fmt.Errorf("audit bind: %w", err)
	}
	return m, nil
}

const unbindMember = `UPDATE members SET open_id = NULL, bound_at = NULL WHERE id = ? AND open_id = ?`

// UnbindMember removes the binding of openID and returns the member it was bound to, as it
// is now (OpenID empty), writing the audit row (Action "member.unbind" unless the caller
// names another) in the same transaction. It returns ErrNotFound when the openid is not
// bound.
func (db *DB) UnbindMember(ctx context.Context, openID string, audit AuditEntry) (Member, error) {
	if openID == "" {
		return Member{}, fmt.Errorf("unbind openid: %w", ErrNotFound)
	}
	var m Member
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if m, err = db.memberWhere(ctx, tx, selectMemberByOpenID, openID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, unbindMember, m.ID, openID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return ErrNotFound // unbound meanwhile
		}
		a := audit
		if a.Action == "" {
			a.Action = "member.unbind"
		}
		a.Subject = memberSubject(m.ID)
		a.Before = map[string]string{"open_id": openID}
		a.After = map[string]string{"open_id": ""}
		a.Detail = joinDetail(memberDetail(m), a.Detail)
		if err := db.auditTx(ctx, tx, a); err != nil {
			return fmt.Errorf("audit unbind: %w", err)
		}
		return nil
	})
	if err != nil {
		return Member{}, fmt.Errorf("unbind openid %s: %w", openID, err)
	}
	m.OpenID, m.BoundAt = "", time.Time{}
	return m, nil
}

// memberSubject is how audit rows name a member.
func memberSubject(id int64) string { return fmt.Sprintf("member:%d", id) }

// memberDetail names a member in an audit row, masked.
func memberDetail(m Member) string {
	return fmt.Sprintf("会员 %s，编号 %s", pii.MaskName(m.Name), pii.MaskMemberNo(m.MemberNo))
}

// joinDetail appends the caller's detail, if any, to storage's own.
func joinDetail(own, caller string) string {
	if caller == "" {
		return own
	}
	return own + "；" + caller
}
