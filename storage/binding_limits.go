package storage

// Self-service binding limits (docs/CONTRACTS.md §5: binding locks after repeated failures). Failed
// attempts are counted in the database, not in the kv store, so a lock outlives a Redis
// restart and a restart of the embedded mode. Two counters see every attempt: one per
// openid, and one per name (keyed hash of the normalised name), so that guessing one
// member's ID digits from many openids still meets a limit. Times come from the storage
// clock (Options.Now), never from the database's NOW().

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"unionbot/pii"
)

// hashBindName keys the per-name counter: the name alone, as binding compares it.
const hashBindName = "bind_name"

// ErrLocked means the action is refused because too many attempts failed; it unlocks on
// its own (or by an officer).
var ErrLocked = errors.New("locked")

// BindingLimit is how many counted attempts a subject gets within Window before binding is
// locked for it for Lockout.
type BindingLimit struct {
	Max     int
	Window  time.Duration
	Lockout time.Duration
}

// BindingLimits are the rules of self-service binding. A zero field takes its default.
type BindingLimits struct {
	// PerOpenID counts the attempts of one WeChat user (5 in 1 h, then locked 1 h).
	PerOpenID BindingLimit
	// PerName counts the attempts at one name from any openid (10 in 24 h, then locked
	// 24 h): at most that many guesses at a member's ID digits, whatever the number of openids.
	PerName BindingLimit
	// PerOpenIDCode counts wrong binding codes of one WeChat user (5 in 24 h, then locked 24 h).
	PerOpenIDCode BindingLimit
}

// WithDefaults returns l with every zero field set to its default.
func (l BindingLimits) WithDefaults() BindingLimits {
	fill := func(b *BindingLimit, def BindingLimit) {
		if b.Max <= 0 {
			b.Max = def.Max
		}
		if b.Window <= 0 {
			b.Window = def.Window
		}
		if b.Lockout <= 0 {
			b.Lockout = def.Lockout
		}
	}
	fill(&l.PerOpenID, BindingLimit{Max: 5, Window: time.Hour, Lockout: time.Hour})
	fill(&l.PerName, BindingLimit{Max: 10, Window: 24 * time.Hour, Lockout: 24 * time.Hour})
	fill(&l.PerOpenIDCode, BindingLimit{Max: 5, Window: 24 * time.Hour, Lockout: 24 * time.Hour})
	return l
}

// BindingLock says until when self-service binding is locked; a zero time means not locked.
type BindingLock struct {
	OpenIDUntil time.Time // for this WeChat user
	NameUntil   time.Time // for this name, whoever tries it
}

// Locked reports whether either lock is in force.
func (l BindingLock) Locked() bool { return !l.OpenIDUntil.IsZero() || !l.NameUntil.IsZero() }

// BindingFailure is what RecordBindingFailure did.
type BindingFailure struct {
	// OpenIDLeft and NameLeft are the attempts left before each lock (0 once locked).
	OpenIDLeft, NameLeft int
	// Lock holds the locks in force after this attempt.
	Lock BindingLock
}

// Subjects of the binding_throttles table.
func openIDSubject(openID string) string { return "openid:" + openID }
func codeSubject(openID string) string   { return "code:" + openID }
func (db *DB) nameSubject(name string) string {
	return "name:" + db.cipher.Hash(hashBindName, pii.NormalizeName(name))
}

const selectThrottle = `SELECT failures, window_start, locked_until FROM binding_throttles WHERE subject = ?`

type throttleRow struct {
	Failures    int          `db:"failures"`
	WindowStart time.Time    `db:"window_start"`
	LockedUntil sql.NullTime `db:"locked_until"`
}

// BindingLockOf returns the locks in force for openID and for name ("" checks the openid
// only).
func (db *DB) BindingLockOf(ctx context.Context, openID, name string) (BindingLock, error) {
	var l BindingLock
	var err error
	if l.OpenIDUntil, err = db.lockedUntil(ctx, db.r, openIDSubject(openID)); err != nil {
		return BindingLock{}, fmt.Errorf("binding lock of %s: %w", openID, err)
	}
	if name != "" {
		if l.NameUntil, err = db.lockedUntil(ctx, db.r, db.nameSubject(name)); err != nil {
			return BindingLock{}, fmt.Errorf("binding lock of a name: %w", err)
		}
	}
	return l, nil
}

// lockedUntil returns when subject unlocks, or the zero time when it is not locked.
func (db *DB) lockedUntil(ctx context.Context, q sqlx.QueryerContext, subject string) (time.Time, error) {
	var r throttleRow
	err := sqlx.GetContext(ctx, q, &r, selectThrottle, subject)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	if until := timeOf(r.LockedUntil); until.After(db.now()) {
		return until, nil
	}
	return time.Time{}, nil
}

// RecordBindingFailure counts one self-service attempt that did not bind — no match, or a
// reply that tells a right pair without binding it (bound elsewhere, transferred) — against
// openID and against name. When a count reaches its limit, binding locks for that subject
// and the audit row (Action "binding.lock") is written in the same transaction; audit says
// who tried. Limits' zero fields take their defaults.
func (db *DB) RecordBindingFailure(ctx context.Context, openID, name string, lim BindingLimits, audit AuditEntry) (BindingFailure, error) {
	lim = lim.WithDefaults()
	var out BindingFailure
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		out = BindingFailure{}
		var err error
		var locked bool
		oid := openIDSubject(openID)
		if out.OpenIDLeft, out.Lock.OpenIDUntil, locked, err = db.countFailure(ctx, tx, oid, lim.PerOpenID); err != nil {
			return err
		}
		if locked {
			if err := db.auditLock(ctx, tx, audit, oid, lim.PerOpenID); err != nil {
				return err
			}
		}
		ns := db.nameSubject(name)
		if out.NameLeft, out.Lock.NameUntil, locked, err = db.countFailure(ctx, tx, ns, lim.PerName); err != nil {
			return err
		}
		if locked {
			if err := db.auditLock(ctx, tx, audit, ns, lim.PerName); err != nil {
				return err
			}
		}
		return db.pruneThrottles(ctx, tx)
	})
	if err != nil {
		return BindingFailure{}, fmt.Errorf("record binding failure of %s: %w", openID, err)
	}
	return out, nil
}

func (db *DB) auditLock(ctx context.Context, tx *sqlx.Tx, audit AuditEntry, subject string, lim BindingLimit) error {
	audit.Action, audit.Subject = "binding.lock", subject
	audit.Detail = joinDetail(fmt.Sprintf("%s内%d次未能核对，自助绑定锁定%s", spell(lim.Window), lim.Max, spell(lim.Lockout)), audit.Detail)
	if err := db.auditTx(ctx, tx, audit); err != nil {
		return fmt.Errorf("audit binding lock: %w", err)
	}
	return nil
}

const insertThrottleMySQL = `INSERT INTO binding_throttles (subject, failures, window_start, locked_until, updated_at)
VALUES (?, 0, ?, NULL, ?) ON DUPLICATE KEY UPDATE subject = subject`

const insertThrottleSQLite = `INSERT INTO binding_throttles (subject, failures, window_start, locked_until, updated_at)
VALUES (?, 0, ?, NULL, ?) ON CONFLICT (subject) DO NOTHING`

const updateThrottle = `UPDATE binding_throttles SET failures = ?, window_start = ?, locked_until = ?, updated_at = ?
WHERE subject = ?`

// countFailure adds one failure to subject on tx. It returns the attempts left, when the
// subject unlocks (zero when it is not locked) and whether this failure locked it. A subject
// that is locked already counts nothing more: the lock runs from when it was set.
func (db *DB) countFailure(ctx context.Context, tx *sqlx.Tx, subject string, lim BindingLimit) (left int, until time.Time, locked bool, err error) {
	now := db.now()
	ins := insertThrottleSQLite
	sel := selectThrottle
	if db.mysql() {
		ins, sel = insertThrottleMySQL, selectThrottle+" FOR UPDATE"
	}
	if _, err := tx.ExecContext(ctx, ins, subject, now, now); err != nil {
		return 0, time.Time{}, false, fmt.Errorf("create throttle: %w", err)
	}
	var r throttleRow
	if err := tx.GetContext(ctx, &r, sel, subject); err != nil {
		return 0, time.Time{}, false, fmt.Errorf("read throttle: %w", err)
	}
	if u := timeOf(r.LockedUntil); u.After(now) {
		return 0, u, false, nil
	}
	failures, start := r.Failures, r.WindowStart.UTC()
	if !now.Before(start.Add(lim.Window)) {
		failures, start = 0, now
	}
	failures++
	var lockedUntil sql.NullTime
	if failures >= lim.Max {
		// The count starts afresh after the lock, so the next lock needs as many failures.
		until, locked = now.Add(lim.Lockout), true
		lockedUntil = nullTime(until)
		failures, start = 0, now
	}
	if _, err := tx.ExecContext(ctx, updateThrottle, failures, start, lockedUntil, now, subject); err != nil {
		return 0, time.Time{}, false, fmt.Errorf("update throttle: %w", err)
	}
	if locked {
		return 0, until, true, nil
	}
	return lim.Max - failures, time.Time{}, false, nil
}

// throttleRetention is how long an idle, unlocked counter row is kept: longer than every window.
const throttleRetention = 48 * time.Hour

const pruneThrottles = `DELETE FROM binding_throttles WHERE updated_at < ? AND (locked_until IS NULL OR locked_until < ?)`

// pruneThrottles drops counter rows nobody has touched for a while. Failures are rare, so
// doing it with each one costs little and keeps the table small.
func (db *DB) pruneThrottles(ctx context.Context, tx *sqlx.Tx) error {
	now := db.now()
	if _, err := tx.ExecContext(ctx, pruneThrottles, now.Add(-throttleRetention), now); err != nil {
		return fmt.Errorf("prune throttles: %w", err)
	}
	return nil
}

const deleteThrottle = `DELETE FROM binding_throttles WHERE subject = ?`

// UnlockBinding clears the per-name binding lock and failure count of the member with that
// member number, so that they can bind by themselves again at once, and writes the audit row
// (Action "binding.unlock", Subject "member:<id>") in the same transaction. It returns the
// member and when the lock would have ended (zero when there was none). ErrNotFound when
// there is no such member.
func (db *DB) UnlockBinding(ctx context.Context, memberNo string, audit AuditEntry) (Member, time.Time, error) {
	var m Member
	var was time.Time
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if m, err = db.memberWhere(ctx, tx, selectMemberByNo, strings.TrimSpace(memberNo)); err != nil {
			return err
		}
		subject := db.nameSubject(m.Name)
		if was, err = db.lockedUntil(ctx, tx, subject); err != nil {
			return fmt.Errorf("read lock: %w", err)
		}
		if _, err := tx.ExecContext(ctx, deleteThrottle, subject); err != nil {
			return fmt.Errorf("clear lock: %w", err)
		}
		audit.Action, audit.Subject = "binding.unlock", memberSubject(m.ID)
		lockedUntil := ""
		if !was.IsZero() {
			lockedUntil = was.Format(time.RFC3339)
		}
		audit.Before = map[string]string{"locked_until": lockedUntil}
		audit.After = map[string]string{"locked_until": ""}
		audit.Detail = joinDetail(memberDetail(m), audit.Detail)
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return Member{}, time.Time{}, fmt.Errorf("unlock binding of member %s: %w", memberNo, err)
	}
	return m, was, nil
}

// spell writes a duration the way officers read it in the audit log: 24小时, 90分钟.
func spell(d time.Duration) string {
	if d >= time.Hour && d%time.Hour == 0 {
		return fmt.Sprintf("%d小时", d/time.Hour)
	}
	return fmt.Sprintf("%d分钟", (d+time.Minute-1)/time.Minute)
}
