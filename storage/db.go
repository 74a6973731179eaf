// Package storage keeps unionbot's records: units and members with their mutual-aid
// enrollments, the FAQ, keyword rules, followers and the audit log. It runs hand-written SQL
// through sqlx on MySQL/MariaDB or on an embedded SQLite file (modernc.org/sqlite, pure Go),
// applies its own embedded migrations, encrypts personal information with pii.Cipher and
// turns driver facts into ErrNotFound, ErrConflict and ErrInvalid.
package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"unionbot/pii"
)

// Dialects reported by (*DB).Dialect.
const (
	DialectMySQL  = "mysql"
	DialectSQLite = "sqlite"
)

// embeddedFile is the database file name inside Options.DataDir.
const embeddedFile = "unionbot.db"

// Options says which database to open.
type Options struct {
	// MySQLDSN selects MySQL/MariaDB when set (go-sql-driver format). Open forces
	// parseTime=true and loc=UTC, and adds charset utf8mb4 with collation utf8mb4_unicode_ci
	// when the DSN names neither a charset nor a collation.
	MySQLDSN string
	// DataDir holds the embedded database (DataDir/unionbot.db) when MySQLDSN is empty.
	// It is created with mode 0700 if missing.
	DataDir string
	// Cipher encrypts personal information at rest and keys the lookup hashes. Required.
	Cipher *pii.Cipher
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// DB is the storage handle. It is safe for concurrent use.
//
// On MySQL, w and r are the same pool. On SQLite, w is a pool of exactly one connection so
// that writers queue in Go instead of failing with SQLITE_BUSY, and r is a small pool of
// read-only connections that WAL lets run beside the writer.
type DB struct {
	w, r    *pool
	dialect string
	cipher  *pii.Cipher
	clock   func() time.Time
}

// Open connects to the database and pings it. It does not migrate; call Migrate.
func Open(ctx context.Context, o Options) (*DB, error) {
	if o.Cipher == nil {
		return nil, fmt.Errorf("open storage: %w: a PII cipher is required", ErrInvalid)
	}
	clock := o.Now
	if clock == nil {
		clock = time.Now
	}
	db := &DB{cipher: o.Cipher, clock: clock}
	var err error
	if o.MySQLDSN != "" {
		db.dialect = DialectMySQL
		err = db.openMySQL(ctx, o.MySQLDSN)
	} else {
		db.dialect = DialectSQLite
		err = db.openSQLite(ctx, o.DataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("open storage (%s): %w", db.dialect, err)
	}
	return db, nil
}

func (db *DB) openMySQL(ctx context.Context, dsn string) error {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		// The DSN may hold a password: keep it out of the message.
		return errors.New("parse MySQL DSN: malformed")
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if cfg.Collation == "" && !strings.Contains(cfg.FormatDSN(), "charset=") {
		if err := cfg.Apply(mysql.Charset("utf8mb4", "utf8mb4_unicode_ci")); err != nil {
			return fmt.Errorf("set charset: %w", err)
		}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	// One round trip per query instead of three (prepare, execute, close):
	// the driver interpolates the arguments itself, which is safe with
	// utf8mb4. A DSN that asks for a binary-unsafe collation (gbk, big5…)
	// keeps server-side prepared statements.
	cfg.InterpolateParams = true
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		cfg.InterpolateParams = false
		connector, err = mysql.NewConnector(cfg)
	}
	if err != nil {
		return fmt.Errorf("mysql connector: %w", err)
	}
	x := sqlx.NewDb(sql.OpenDB(connector), "mysql")
	x.SetMaxOpenConns(64)
	x.SetMaxIdleConns(32)
	x.SetConnMaxLifetime(30 * time.Minute)
	x.SetConnMaxIdleTime(5 * time.Minute)
	if err := x.PingContext(ctx); err != nil {
		x.Close()
		return fmt.Errorf("ping: %w", err)
	}
	p := newPool(x, false)
	db.w, db.r = p, p
	return nil
}

func (db *DB) openSQLite(ctx context.Context, dir string) error {
	if dir == "" {
		return fmt.Errorf("%w: neither a MySQL DSN nor a data directory is set", ErrInvalid)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	abs, err := filepath.Abs(filepath.Join(dir, embeddedFile))
	if err != nil {
		return fmt.Errorf("data dir path: %w", err)
	}
	// The writer opens first: it switches the file to WAL, which readers then share.
	w, err := sqlx.Open("sqlite", sqliteDSN(abs, false))
	if err != nil {
		return fmt.Errorf("open writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return fmt.Errorf("ping writer: %w", err)
	}
	// SQLite gives the -wal and -shm files the main file's mode, so this covers all three.
	if err := os.Chmod(abs, 0o600); err != nil {
		w.Close()
		return fmt.Errorf("restrict database file: %w", err)
	}
	r, err := sqlx.Open("sqlite", sqliteDSN(abs, true))
	if err != nil {
		w.Close()
		return fmt.Errorf("open readers: %w", err)
	}
	const readers = 4
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return fmt.Errorf("ping readers: %w", err)
	}
	db.w, db.r = newPool(w, true), newPool(r, true)
	return nil
}

// Page cache of the SQLite writer, in KiB: small while serving, where the hot pages are few
// and the cache is resident memory that never shrinks back (a 64 MiB cache filled up over
// minutes of traffic and was most of the embedded mode's growth in RSS); large for the span
// of a roster import, whose batches dirty thousands of pages across the hash indexes.
const (
	writerCacheKiB = 8 << 10
	importCacheKiB = 64 << 10
)

// withImportCache runs fn with the writer's page cache at importCacheKiB, then shrinks it
// back (SQLite frees the pages beyond the new size). The writer is a single connection, so
// the pragma applies to the connection fn writes on.
func (db *DB) withImportCache(ctx context.Context, fn func() error) error {
	if db.mysql() {
		return fn()
	}
	if _, err := db.w.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", importCacheKiB)); err != nil {
		return fmt.Errorf("import page cache: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = db.w.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", writerCacheKiB))
	}()
	return fn()
}

// sqliteDSN builds the URI for the writer or for the read-only pool. Times are written in
// SQLite's own format in UTC (so they sort as text) and parsed back from DATE/DATETIME
// columns. synchronous=NORMAL is durable in WAL mode against a crash of the process; a power
// cut may lose the last commits but never corrupts the file. The writer's page cache is
// writerCacheKiB (withImportCache raises it for an import), and it checkpoints every 10,000
// pages (~40 MiB of WAL) instead of every 1,000: a roster batch dirties thousands of pages
// across the hash indexes, and checkpointing after every batch rewrote the same pages again
// and again (roughly halving import time).
func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", writerCacheKiB))
		q.Add("_pragma", "wal_autocheckpoint(10000)")
		q.Set("_txlock", "immediate")
	}
	q.Set("_time_format", "sqlite")
	q.Set("_timezone", "UTC")
	return (&url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}).String()
}

// Close closes every pool.
func (db *DB) Close() error {
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.w.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", db.dialect, err)
	}
	if db.r != db.w {
		if err := db.r.PingContext(ctx); err != nil {
			return fmt.Errorf("ping %s readers: %w", db.dialect, err)
		}
	}
	return nil
}

// Dialect returns DialectMySQL or DialectSQLite.
func (db *DB) Dialect() string { return db.dialect }

func (db *DB) mysql() bool { return db.dialect == DialectMySQL }

// now is the clock in UTC, cut to the microseconds both dialects store.
func (db *DB) now() time.Time { return utc(db.clock()) }

func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// nullTime maps the zero time to NULL.
func nullTime(t time.Time) sql.NullTime {
	if t.IsZero() {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: utc(t), Valid: true}
}

func timeOf(n sql.NullTime) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return n.Time.UTC()
}

// beginner is a *sqlx.DB or a pinned *sqlx.Conn.
type beginner interface {
	BeginTxx(ctx context.Context, opts *sql.TxOptions) (*sqlx.Tx, error)
}

// maxTxAttempts bounds how often a transaction that lost a deadlock or a lock wait is run.
const maxTxAttempts = 4

// inTx runs fn in a transaction on the writer and commits it. fn must be safe to run again:
// when MySQL picks the transaction as a deadlock victim (1213) or a lock wait times out
// (1205), the whole transaction is rolled back and retried, up to maxTxAttempts runs in all.
func (db *DB) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return inTxOn(ctx, db.w, fn)
}

func inTxOn(ctx context.Context, b beginner, fn func(tx *sqlx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := runTx(ctx, b, fn)
		if err == nil || attempt >= maxTxAttempts || !retryable(err) {
			return err
		}
		backoff := time.Duration(attempt)*10*time.Millisecond + rand.N(10*time.Millisecond)
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(backoff):
		}
	}
}

func runTx(ctx context.Context, b beginner, fn func(tx *sqlx.Tx) error) error {
	tx, err := b.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() // harmless after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// lockPoll bounds one GET_LOCK call, so that a long wait is a loop of short ones.
const lockPoll = 5 * time.Second

// withNamedLock runs fn on one pinned MySQL connection while it holds GET_LOCK(name), so
// that the same work from several replicas runs one at a time. It waits for the lock up to
// wait, or until ctx's deadline when that comes first.
func (db *DB) withNamedLock(ctx context.Context, name string, wait time.Duration, fn func(conn *sqlx.Conn) error) error {
	conn, err := db.w.Connx(ctx)
	if err != nil {
		return fmt.Errorf("pin connection: %w", err)
	}
	defer conn.Close()
	deadline := time.Now().Add(wait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	for {
		// GET_LOCK takes whole seconds; 0 tries once without waiting.
		secs := int(math.Ceil(min(time.Until(deadline), lockPoll).Seconds()))
		var got sql.NullInt64
		if err := conn.QueryRowxContext(ctx, "SELECT GET_LOCK(?, ?)", name, max(secs, 0)).Scan(&got); err != nil {
			return fmt.Errorf("get lock %s: %w", name, err)
		}
		if got.Valid && got.Int64 == 1 {
			break
		}
		if !got.Valid {
			return fmt.Errorf("get lock %s: the server refused the lock", name)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("get lock %s: %w", name, err)
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("get lock %s: not granted within %s", name, wait)
		}
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		var released sql.NullInt64
		if err := conn.QueryRowxContext(rctx, "SELECT RELEASE_LOCK(?)", name).Scan(&released); err != nil {
			// The session may still hold the lock: drop the connection instead of
			// returning it to the pool, which ends the session and frees the lock.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return fn(conn)
}

// mapErr turns driver facts into domain errors: no rows → ErrNotFound, a unique key
// violation → ErrConflict. The driver's text is dropped for conflicts because MySQL quotes
// the duplicate value in it.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case isUniqueViolation(err):
		return ErrConflict
	}
	return err
}

func isUniqueViolation(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1062
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// retryable reports a MySQL deadlock (1213) or lock wait timeout (1205).
func retryable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205)
}

// placeholders returns "(?, ?, …), (…)" for rows rows of cols columns.
func placeholders(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

// WithClock returns a handle on the same connections whose clock is now, for tests that
// move time by hand (lock expiry, code validity). Close the original handle, not the copy.
func (db *DB) WithClock(now func() time.Time) *DB {
	c := *db
	c.clock = now
	return &c
}
