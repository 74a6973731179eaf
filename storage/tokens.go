package storage

// API tokens for /api/v1 (Authorization: Bearer). Only a hash of each token is stored; the
// token itself is shown once by `unionbot create-token`.

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// APIToken is a named bearer token with roles and, optionally, a unit.
type APIToken struct {
	ID         int64
	Name       string
	Roles      []string
	UnitID     int64 // 0: county level
	UnitName   string
	CreatedAt  time.Time
	LastUsedAt time.Time
	RevokedAt  time.Time
}

const tokenColumns = `SELECT t.id, t.name, t.roles, t.unit_id, u.name AS unit_name, t.created_at,
    t.last_used_at, t.revoked_at
FROM api_tokens t LEFT JOIN units u ON u.id = t.unit_id`

type tokenRow struct {
	ID         int64          `db:"id"`
	Name       string         `db:"name"`
	Roles      string         `db:"roles"`
	UnitID     sql.NullInt64  `db:"unit_id"`
	UnitName   sql.NullString `db:"unit_name"`
	CreatedAt  time.Time      `db:"created_at"`
	LastUsedAt sql.NullTime   `db:"last_used_at"`
	RevokedAt  sql.NullTime   `db:"revoked_at"`
}

func (r tokenRow) toToken() APIToken {
	return APIToken{
		ID: r.ID, Name: r.Name, Roles: splitRoles(r.Roles), UnitID: r.UnitID.Int64, UnitName: r.UnitName.String,
		CreatedAt: r.CreatedAt.UTC(), LastUsedAt: timeOf(r.LastUsedAt), RevokedAt: timeOf(r.RevokedAt),
	}
}

const insertToken = `INSERT INTO api_tokens (name, token_hash, roles, unit_id, created_at) VALUES (?, ?, ?, ?, ?)`

// CreateAPIToken stores a token by its hash. A taken name is ErrConflict.
func (db *DB) CreateAPIToken(ctx context.Context, name, tokenHash string, roles []string, unitID int64, audit AuditEntry) (APIToken, error) {
	name = strings.TrimSpace(name)
	if err := checkUsername(name); err != nil {
		return APIToken{}, fmt.Errorf("create token: %w (token name)", err)
	}
	if tokenHash == "" {
		return APIToken{}, fmt.Errorf("create token: %w: no hash", ErrInvalid)
	}
	joined, err := joinRoles(roles)
	if err != nil {
		return APIToken{}, fmt.Errorf("create token: %w", err)
	}
	var id int64
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, insertToken, name, tokenHash, joined, nullUnit(unitID), db.now())
		if err != nil {
			return mapErr(err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		audit.Action, audit.Subject = "token.create", fmt.Sprintf("token:%d", id)
		audit.After = map[string]string{"name": name, "roles": joined, "unit_id": fmt.Sprint(unitID)}
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return APIToken{}, fmt.Errorf("create token %s: %w", name, err)
	}
	var r tokenRow
	if err := db.w.GetContext(ctx, &r, tokenColumns+` WHERE t.id = ?`, id); err != nil {
		return APIToken{}, fmt.Errorf("read token %d: %w", id, mapErr(err))
	}
	return r.toToken(), nil
}

// APITokenByHash returns the live (not revoked) token with that hash, or ErrNotFound.
func (db *DB) APITokenByHash(ctx context.Context, tokenHash string) (APIToken, error) {
	var r tokenRow
	err := db.r.GetContext(ctx, &r, tokenColumns+` WHERE t.token_hash = ? AND t.revoked_at IS NULL`, tokenHash)
	if err != nil {
		return APIToken{}, fmt.Errorf("token by hash: %w", mapErr(err))
	}
	return r.toToken(), nil
}

// TouchAPIToken records when a token was last used, at most once a minute per token so a
// busy integration does not write on every request.
func (db *DB) TouchAPIToken(ctx context.Context, id int64) error {
	now := db.now()
	_, err := db.w.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
		now, id, now.Add(-time.Minute))
	if err != nil {
		return fmt.Errorf("touch token %d: %w", id, err)
	}
	return nil
}
