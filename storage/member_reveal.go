package storage

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// RevealIDNumber returns the full ID number of member memberNo for an officer who gave a
// reason, and writes the audit row "member.id.reveal" (who: audit's actor, the member, the
// reason) in the same transaction: when the row cannot be written nothing is revealed. The
// caller has authorized the officer; the number goes to that officer's page only, once.
func (db *DB) RevealIDNumber(ctx context.Context, memberNo, reason string, audit AuditEntry) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 200 {
		return "", fmt.Errorf("reveal ID number of %s: %w: a reason of 1-200 characters is required", memberNo, ErrInvalid)
	}
	var id string
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var row struct {
			ID  int64  `db:"id"`
			Enc string `db:"id_number_enc"`
		}
		if err := tx.GetContext(ctx, &row, `SELECT id, id_number_enc FROM members WHERE member_no = ?`, strings.TrimSpace(memberNo)); err != nil {
			return mapErr(err)
		}
		plain, err := db.cipher.Decrypt(row.Enc)
		if err != nil {
			return err
		}
		id = plain
		audit.Action, audit.Subject = "member.id.reveal", fmt.Sprintf("member:%d", row.ID)
		audit.Detail = "查看完整身份证号，原因：" + reason
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return "", fmt.Errorf("reveal ID number of %s: %w", memberNo, err)
	}
	return id, nil
}
