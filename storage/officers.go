package storage

// Officers (工会干部) who log in to the console, and the units they belong to. Passwords
// arrive already hashed (admin/auth hashes them with argon2id); storage never sees one in
// clear. Roles are stored comma-joined; their meaning belongs to admin/auth.

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// Officer is a console account. UnitID 0 means a county-level officer, who sees every
// unit; otherwise the officer sees only that unit's records.
type Officer struct {
	ID                 int64
	Username           string
	DisplayName        string
	PasswordHash       string
	Roles              []string
	UnitID             int64
	UnitName           string
	Disabled           bool
	MustChangePassword bool
	// AuthVersion changes whenever a password is set or the account is disabled, so
	// console sessions made before it stop working.
	AuthVersion int
	LastLoginAt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NewOfficer is what CreateOfficer stores.
type NewOfficer struct {
	Username           string
	DisplayName        string // the username when empty
	PasswordHash       string
	Roles              []string
	UnitID             int64 // 0: county level
	MustChangePassword bool
}

// OfficerUpdate changes an officer's roles, unit and state; nil fields stay as they are.
type OfficerUpdate struct {
	DisplayName *string
	Roles       []string // nil: unchanged
	UnitID      *int64   // pointer to 0: county level
	Disabled    *bool
}

const officerColumns = `SELECT o.id, o.username, o.display_name, o.password_hash, o.roles, o.unit_id,
    u.name AS unit_name, o.disabled, o.must_change_password, o.auth_version, o.last_login_at,
    o.created_at, o.updated_at
FROM officers o LEFT JOIN units u ON u.id = o.unit_id`

type officerRow struct {
	ID                 int64          `db:"id"`
	Username           string         `db:"username"`
	DisplayName        string         `db:"display_name"`
	PasswordHash       string         `db:"password_hash"`
	Roles              string         `db:"roles"`
	UnitID             sql.NullInt64  `db:"unit_id"`
	UnitName           sql.NullString `db:"unit_name"`
	Disabled           bool           `db:"disabled"`
	MustChangePassword bool           `db:"must_change_password"`
	AuthVersion        int            `db:"auth_version"`
	LastLoginAt        sql.NullTime   `db:"last_login_at"`
	CreatedAt          time.Time      `db:"created_at"`
	UpdatedAt          time.Time      `db:"updated_at"`
}

func (r officerRow) toOfficer() Officer {
	return Officer{
		ID: r.ID, Username: r.Username, DisplayName: r.DisplayName, PasswordHash: r.PasswordHash,
		Roles: splitRoles(r.Roles), UnitID: r.UnitID.Int64, UnitName: r.UnitName.String,
		Disabled: r.Disabled, MustChangePassword: r.MustChangePassword, AuthVersion: r.AuthVersion,
		LastLoginAt: timeOf(r.LastLoginAt), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

func splitRoles(s string) []string {
	var out []string
	for r := range strings.SplitSeq(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// joinRoles checks and joins roles for storage. Their names are admin/auth's business;
// storage only refuses what it could not store back faithfully.
func joinRoles(roles []string) (string, error) {
	if len(roles) == 0 {
		return "", fmt.Errorf("%w: at least one role is required", ErrInvalid)
	}
	for _, r := range roles {
		if r == "" || strings.ContainsAny(r, ", ") || len(r) > 32 {
			return "", fmt.Errorf("%w: malformed role %q", ErrInvalid, r)
		}
	}
	s := strings.Join(roles, ",")
	if len(s) > 191 {
		return "", fmt.Errorf("%w: too many roles", ErrInvalid)
	}
	return s, nil
}

func nullUnit(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

const insertOfficer = `INSERT INTO officers (username, display_name, password_hash, roles, unit_id,
    disabled, must_change_password, auth_version, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, 0, ?, 1, ?, ?)`

// CreateOfficer stores a new officer and returns it; the audit entry is written in the same
// transaction. A taken username is ErrConflict, a malformed one ErrInvalid.
func (db *DB) CreateOfficer(ctx context.Context, o NewOfficer, audit AuditEntry) (Officer, error) {
	o.Username = strings.TrimSpace(o.Username)
	o.DisplayName = strings.TrimSpace(o.DisplayName)
	if o.DisplayName == "" {
		o.DisplayName = o.Username
	}
	if err := checkUsername(o.Username); err != nil {
		return Officer{}, fmt.Errorf("create officer: %w", err)
	}
	if utf8.RuneCountInString(o.DisplayName) > 64 {
		return Officer{}, fmt.Errorf("create officer: %w: display name longer than 64 characters", ErrInvalid)
	}
	if o.PasswordHash == "" {
		return Officer{}, fmt.Errorf("create officer: %w: no password hash", ErrInvalid)
	}
	roles, err := joinRoles(o.Roles)
	if err != nil {
		return Officer{}, fmt.Errorf("create officer: %w", err)
	}
	var id int64
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := db.now()
		res, err := tx.ExecContext(ctx, insertOfficer, o.Username, o.DisplayName, o.PasswordHash, roles,
			nullUnit(o.UnitID), o.MustChangePassword, now, now)
		if err != nil {
			return mapErr(err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		audit.Action, audit.Subject = "officer.create", officerSubject(id)
		audit.After = map[string]string{"username": o.Username, "roles": roles, "unit_id": fmt.Sprint(o.UnitID)}
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return Officer{}, fmt.Errorf("create officer %s: %w", o.Username, err)
	}
	return db.OfficerByID(ctx, id)
}

func officerSubject(id int64) string { return fmt.Sprintf("officer:%d", id) }

// checkUsername allows letters, digits and . _ - (1–64 characters), so a username is
// safe in URLs, logs and audit lines.
func checkUsername(s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("%w: username must be 1 to 64 characters", ErrInvalid)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("%w: username may hold only letters, digits, '.', '_' and '-'", ErrInvalid)
		}
	}
	return nil
}

// OfficerByID returns the officer, or ErrNotFound.
func (db *DB) OfficerByID(ctx context.Context, id int64) (Officer, error) {
	var r officerRow
	if err := db.r.GetContext(ctx, &r, officerColumns+` WHERE o.id = ?`, id); err != nil {
		return Officer{}, fmt.Errorf("officer %d: %w", id, mapErr(err))
	}
	return r.toOfficer(), nil
}

// OfficerByUsername returns the officer, or ErrNotFound.
func (db *DB) OfficerByUsername(ctx context.Context, username string) (Officer, error) {
	var r officerRow
	if err := db.r.GetContext(ctx, &r, officerColumns+` WHERE o.username = ?`, strings.TrimSpace(username)); err != nil {
		return Officer{}, fmt.Errorf("officer %q: %w", username, mapErr(err))
	}
	return r.toOfficer(), nil
}

// Officers lists officers by username; unitID > 0 keeps only that unit's.
func (db *DB) Officers(ctx context.Context, unitID int64) ([]Officer, error) {
	var rows []officerRow
	var err error
	if unitID > 0 {
		err = db.r.SelectContext(ctx, &rows, officerColumns+` WHERE o.unit_id = ? ORDER BY o.username`, unitID)
	} else {
		err = db.r.SelectContext(ctx, &rows, officerColumns+` ORDER BY o.username`)
	}
	if err != nil {
		return nil, fmt.Errorf("officers: %w", err)
	}
	out := make([]Officer, len(rows))
	for i, r := range rows {
		out[i] = r.toOfficer()
	}
	return out, nil
}

// UpdateOfficer changes what u names and returns the officer as it is now. Disabling an
// account bumps its AuthVersion, which ends its sessions.
func (db *DB) UpdateOfficer(ctx context.Context, id int64, u OfficerUpdate, audit AuditEntry) (Officer, error) {
	var sets []string
	var args []any
	after := map[string]string{}
	if u.DisplayName != nil {
		name := strings.TrimSpace(*u.DisplayName)
		if name == "" || utf8.RuneCountInString(name) > 64 {
			return Officer{}, fmt.Errorf("update officer %d: %w: display name must be 1 to 64 characters", id, ErrInvalid)
		}
		sets, args = append(sets, "display_name = ?"), append(args, name)
		after["display_name"] = name
	}
	if u.Roles != nil {
		roles, err := joinRoles(u.Roles)
		if err != nil {
			return Officer{}, fmt.Errorf("update officer %d: %w", id, err)
		}
		sets, args = append(sets, "roles = ?"), append(args, roles)
		after["roles"] = roles
	}
	if u.UnitID != nil {
		sets, args = append(sets, "unit_id = ?"), append(args, nullUnit(*u.UnitID))
		after["unit_id"] = fmt.Sprint(*u.UnitID)
	}
	if u.Disabled != nil {
		sets, args = append(sets, "disabled = ?"), append(args, *u.Disabled)
		if *u.Disabled {
			sets = append(sets, "auth_version = auth_version + 1")
		}
		after["disabled"] = fmt.Sprint(*u.Disabled)
	}
	if len(sets) == 0 {
		return db.OfficerByID(ctx, id)
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var before officerRow
		if err := sqlx.GetContext(ctx, tx, &before, officerColumns+` WHERE o.id = ?`, id); err != nil {
			return mapErr(err)
		}
		q := `UPDATE officers SET ` + strings.Join(sets, ", ") + `, updated_at = ? WHERE id = ?`
		if _, err := tx.ExecContext(ctx, q, append(args, db.now(), id)...); err != nil {
			return mapErr(err)
		}
		prev := map[string]string{"display_name": before.DisplayName, "roles": before.Roles,
			"unit_id": fmt.Sprint(before.UnitID.Int64), "disabled": fmt.Sprint(before.Disabled)}
		audit.Action, audit.Subject = "officer.update", officerSubject(id)
		audit.Before, audit.After = map[string]string{}, after
		for k := range after {
			audit.Before[k] = prev[k]
		}
		audit.Detail = joinDetail("username="+before.Username, audit.Detail)
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return Officer{}, fmt.Errorf("update officer %d: %w", id, err)
	}
	return db.OfficerByID(ctx, id)
}

const setOfficerPassword = `UPDATE officers SET password_hash = ?, must_change_password = ?,
    auth_version = auth_version + 1, updated_at = ? WHERE id = ?`

// SetOfficerPassword stores a new password hash and bumps AuthVersion, which ends every
// session of the officer made before. mustChange marks a password an admin set, which the
// officer is asked to replace at the next login.
func (db *DB) SetOfficerPassword(ctx context.Context, id int64, hash string, mustChange bool, audit AuditEntry) (Officer, error) {
	if hash == "" {
		return Officer{}, fmt.Errorf("set officer password: %w: no hash", ErrInvalid)
	}
	action := "officer.password.change"
	if mustChange {
		action = "officer.password.reset"
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, setOfficerPassword, hash, mustChange, db.now(), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrNotFound
		}
		audit.Action, audit.Subject = action, officerSubject(id)
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return Officer{}, fmt.Errorf("set password of officer %d: %w", id, err)
	}
	return db.OfficerByID(ctx, id)
}

// RecordOfficerLogin notes a successful login (shown on the officers page).
func (db *DB) RecordOfficerLogin(ctx context.Context, id int64) error {
	if _, err := db.w.ExecContext(ctx, `UPDATE officers SET last_login_at = ? WHERE id = ?`, db.now(), id); err != nil {
		return fmt.Errorf("record login of officer %d: %w", id, err)
	}
	return nil
}

// UnitByName returns the unit with exactly that name (as in the roster), or ErrNotFound.
func (db *DB) UnitByName(ctx context.Context, name string) (Unit, error) {
	var r unitRow
	if err := db.r.GetContext(ctx, &r, `SELECT id, name FROM units WHERE name = ?`, strings.TrimSpace(name)); err != nil {
		return Unit{}, fmt.Errorf("unit %q: %w", name, mapErr(err))
	}
	return Unit{ID: r.ID, Name: r.Name}, nil
}
