package storage

// Member search for the officers' console and API: by member number, by exact name and by
// unit. Names are stored encrypted, so an exact-name search goes through a keyed hash of
// the normalised name kept in member_name_index. The index is brought up to date before each
// name search from the rows whose row_hash changed since they were indexed (a roster import
// changes row_hash), so the importer need not know about it; after a large import the first
// name search pays for the new rows once.

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"unionbot/pii"
)

// hashName is the keyed-hash domain of member_name_index.
const hashName = "member_name"

// MemberQuery selects members. Empty fields do not filter; Text matches a member number or
// an exact name (either may match).
type MemberQuery struct {
	Text    string // a member number or a full name
	UnitID  int64  // 0: any unit
	AfterID int64  // cursor: only members with a larger id
	Limit   int    // at most this many (default 50, at most 1000)
}

const nameIndexBatch = 1000

const selectStaleNames = `SELECT m.id, m.name_enc, m.row_hash FROM members m
LEFT JOIN member_name_index i ON i.member_id = m.id
WHERE i.member_id IS NULL OR i.row_hash <> m.row_hash
ORDER BY m.id LIMIT ?`

type staleNameRow struct {
	ID      int64  `db:"id"`
	NameEnc string `db:"name_enc"`
	RowHash string `db:"row_hash"`
}

// syncNameIndex indexes the names of members added or changed since the last sync.
func (db *DB) syncNameIndex(ctx context.Context) error {
	for {
		var rows []staleNameRow
		if err := db.w.SelectContext(ctx, &rows, selectStaleNames, nameIndexBatch); err != nil {
			return fmt.Errorf("stale names: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		args := make([]any, 0, 3*len(rows))
		for _, r := range rows {
			name, err := db.decrypt(r.NameEnc)
			if err != nil {
				return fmt.Errorf("decrypt name of member %d: %w", r.ID, err)
			}
			args = append(args, r.ID, db.cipher.Hash(hashName, pii.NormalizeName(name)), r.RowHash)
		}
		// REPLACE is spelled the same in both dialects.
		q := `REPLACE INTO member_name_index (member_id, name_hash, row_hash) VALUES ` + placeholders(len(rows), 3)
		if err := db.inTx(ctx, func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, q, args...)
			return err
		}); err != nil {
			return fmt.Errorf("index names: %w", err)
		}
		if len(rows) < nameIndexBatch {
			return nil
		}
	}
}

// SearchMembers returns the members q selects, by ascending id.
func (db *DB) SearchMembers(ctx context.Context, q MemberQuery) ([]Member, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	var where []string
	var args []any
	if text := strings.TrimSpace(q.Text); text != "" {
		if err := db.syncNameIndex(ctx); err != nil {
			return nil, fmt.Errorf("search members: %w", err)
		}
		where = append(where, `(m.member_no = ? OR m.id IN (SELECT member_id FROM member_name_index WHERE name_hash = ?))`)
		args = append(args, text, db.cipher.Hash(hashName, pii.NormalizeName(text)))
	}
	if q.UnitID > 0 {
		where, args = append(where, `m.unit_id = ?`), append(args, q.UnitID)
	}
	if q.AfterID > 0 {
		where, args = append(where, `m.id > ?`), append(args, q.AfterID)
	}
	query := memberColumns
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY m.id LIMIT ?`
	args = append(args, limit)
	var rows []memberRow
	if err := db.r.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("search members: %w", err)
	}
	out := make([]Member, 0, len(rows))
	for _, r := range rows {
		m, err := db.toMember(r)
		if err != nil {
			return nil, fmt.Errorf("search members: %w", err)
		}
		out = append(out, m)
	}
	return out, nil
}
