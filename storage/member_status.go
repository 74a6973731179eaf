package storage

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// SetMemberStatus changes the status (在册, 转出, 退会) of the member with that member number,
// with the audit row ("member.status", before and after, the reason in Detail) in the same
// transaction. ErrInvalid for an unknown status or an empty reason; ErrNotFound when there is
// no such member. Setting the status a member already has changes nothing and writes no row.
// A binding stays as it is: the member's chat then shows the new status.
func (db *DB) SetMemberStatus(ctx context.Context, memberNo, status, reason string, audit AuditEntry) (Member, error) {
	switch status {
	case StatusActive, StatusTransferred, StatusWithdrawn:
	default:
		return Member{}, fmt.Errorf("set member status: %w: unknown status %q", ErrInvalid, status)
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Member{}, fmt.Errorf("set member status: %w: a reason is required", ErrInvalid)
	}
	var out Member
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		m, err := db.memberWhere(ctx, tx, selectMemberByNo, strings.TrimSpace(memberNo))
		if err != nil {
			return err
		}
		if m.Status == status {
			out = m
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE members SET status = ?, updated_at = ? WHERE id = ?`, status, db.now(), m.ID); err != nil {
			return err
		}
		audit.Action, audit.Subject = "member.status", memberSubject(m.ID)
		audit.Before, audit.After = map[string]string{"status": m.Status}, map[string]string{"status": status}
		audit.Detail = joinDetail(memberDetail(m)+"，原因："+clip(reason, 200), audit.Detail)
		if err := db.auditTx(ctx, tx, audit); err != nil {
			return err
		}
		out, err = db.memberWhere(ctx, tx, selectMemberByID, m.ID)
		return err
	})
	if err != nil {
		return Member{}, fmt.Errorf("set status of member %s: %w", memberNo, err)
	}
	return out, nil
}
