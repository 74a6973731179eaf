package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Photos members send (invoices, discharge summaries, bank cards) are fetched
// from WeChat as they arrive — WeChat keeps user media only 3 days — and kept
// here, in the database, so that every replica can read them. The bytes are
// encrypted with the PII cipher; the SHA-256 of the plain bytes is kept beside
// them so that the same invoice sent for two claims can be found.
//
// A medium saved during a form is provisional: it carries expires_at and is
// removed by PurgeMedia once that passes. The capability that submits the form
// keeps the media it uses (KeepMedia, or keepMedia inside its own
// transaction), which clears expires_at.

// MaxMediaBytes bounds one stored medium (WeChat's own limit for an image is
// 10 MB; encrypted and base64-encoded it stays under MariaDB's default 16 MB
// max_allowed_packet).
const MaxMediaBytes = 10 << 20

// Media is one stored medium.
type Media struct {
	ID          int64
	OpenID      string
	SHA256      string // hex of the plain bytes
	ContentType string
	Size        int
	Data        []byte // plain, after decryption
	CreatedAt   time.Time
	ExpiresAt   time.Time // zero: kept
}

// SaveMedia encrypts and stores data sent by openID, provisional until
// expires (zero: kept for good), and returns its id and SHA-256.
func (db *DB) SaveMedia(ctx context.Context, openID, contentType string, data []byte, expires time.Time) (int64, string, error) {
	if openID == "" || contentType == "" || len(data) == 0 {
		return 0, "", fmt.Errorf("save media: %w: empty openid, type or data", ErrInvalid)
	}
	if len(data) > MaxMediaBytes {
		return 0, "", fmt.Errorf("save media: %w: %d bytes, more than %d", ErrInvalid, len(data), MaxMediaBytes)
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	sealed, err := db.cipher.Encrypt(string(data))
	if err != nil {
		return 0, "", fmt.Errorf("save media: %w", err)
	}
	res, err := db.w.ExecContext(ctx, `INSERT INTO media (open_id, sha256, content_type, size, data, created_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?, ?)`, openID, hash, contentType, len(data), []byte(sealed), db.now(), nullTime(expires))
	if err != nil {
		return 0, "", fmt.Errorf("save media: %w", mapErr(err))
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, "", fmt.Errorf("save media: %w", err)
	}
	return id, hash, nil
}

// MediaByID returns a stored medium with its bytes decrypted; ErrNotFound
// when there is none (or it was purged).
func (db *DB) MediaByID(ctx context.Context, id int64) (Media, error) {
	var r struct {
		ID          int64        `db:"id"`
		OpenID      string       `db:"open_id"`
		SHA256      string       `db:"sha256"`
		ContentType string       `db:"content_type"`
		Size        int          `db:"size"`
		Data        []byte       `db:"data"`
		CreatedAt   time.Time    `db:"created_at"`
		ExpiresAt   sql.NullTime `db:"expires_at"`
	}
	err := db.r.GetContext(ctx, &r, `SELECT id, open_id, sha256, content_type, size, data, created_at, expires_at FROM media WHERE id = ?`, id)
	if err != nil {
		return Media{}, fmt.Errorf("media %d: %w", id, mapErr(err))
	}
	plain, err := db.cipher.Decrypt(string(r.Data))
	if err != nil {
		return Media{}, fmt.Errorf("media %d: %w", id, err)
	}
	return Media{ID: r.ID, OpenID: r.OpenID, SHA256: r.SHA256, ContentType: r.ContentType, Size: r.Size,
		Data: []byte(plain), CreatedAt: r.CreatedAt.UTC(), ExpiresAt: timeOf(r.ExpiresAt)}, nil
}

// MediaIDsBySHA256 lists the kept and provisional media with this content
// hash, oldest first (the same invoice sent twice).
func (db *DB) MediaIDsBySHA256(ctx context.Context, hash string) ([]int64, error) {
	var ids []int64
	if err := db.r.SelectContext(ctx, &ids, `SELECT id FROM media WHERE sha256 = ? ORDER BY id`, hash); err != nil {
		return nil, fmt.Errorf("media by hash: %w", err)
	}
	return ids, nil
}

// KeepMedia makes openID's media ids permanent (a form using them was
// submitted). Ids of another member are left alone.
func (db *DB) KeepMedia(ctx context.Context, openID string, ids []int64) error {
	return keepMedia(ctx, db.w, openID, ids)
}

// keepMedia is KeepMedia on any executor, so that a submission can keep its
// photos in its own transaction.
func keepMedia(ctx context.Context, ex sqlx.ExecerContext, openID string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	q := `UPDATE media SET expires_at = NULL WHERE open_id = ? AND id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
	args := make([]any, 0, len(ids)+1)
	args = append(args, openID)
	for _, id := range ids {
		args = append(args, id)
	}
	if _, err := ex.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("keep media: %w", err)
	}
	return nil
}

// PurgeMedia deletes provisional media whose time has passed (photos of forms
// never submitted) and returns how many went.
func (db *DB) PurgeMedia(ctx context.Context) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM media WHERE expires_at IS NOT NULL AND expires_at < ?`, db.now())
	if err != nil {
		return 0, fmt.Errorf("purge media: %w", err)
	}
	return res.RowsAffected()
}

// MediaRef is how a form keeps a stored medium among its answers ("m" and the
// id); ParseMediaRefs reads a list of them back.
func MediaRef(id int64) string { return "m" + strconv.FormatInt(id, 10) }

// ParseMediaRefs reads the comma-separated refs a photo step keeps
// ("m12,m13"); anything else in the list is skipped.
func ParseMediaRefs(value string) []int64 {
	var ids []int64
	for _, p := range strings.Split(value, ",") {
		if n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(p), "m"), 10, 64); err == nil && strings.HasPrefix(strings.TrimSpace(p), "m") {
			ids = append(ids, n)
		}
	}
	return ids
}
