package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
)

// Migrations live in migrations/<dialect>/NNNN_name.sql and are applied in name order. A
// shipped file never changes; a fix goes into a new file with the next number, in both
// dialect folders. MySQL commits each DDL statement on its own, so its files hold exactly
// one statement; SQLite runs all pending files in one transaction.
//
//go:embed migrations
var migrationFS embed.FS

const (
	migrateLockName = "unionbot_migrate"
	// migrateLockWait is how long a replica waits for another one's migrations (ctx's
	// deadline, when sooner, wins): long enough for an ALTER of a big table.
	migrateLockWait = 15 * time.Minute
)

// alreadyInEffect lists the MySQL errors of a DDL statement whose effect is already there:
// 1050 table exists, 1060 duplicate column, 1061 duplicate key name. MySQL commits DDL on its
// own, so a process that died between a migration and its schema_migrations row leaves this
// behind — but so does a database that holds another application's table of the same name.
// Only an operator can tell which, so Migrate stops and says how to record it.
var alreadyInEffect = map[uint16]bool{1050: true, 1060: true, 1061: true}

const createSchemaMigrationsMySQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version VARCHAR(191) COLLATE utf8mb4_bin NOT NULL,
    applied_at DATETIME(6) NOT NULL,
    PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`

const createSchemaMigrationsSQLite = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version TEXT NOT NULL PRIMARY KEY,
    applied_at DATETIME NOT NULL
)`

const (
	selectMigrationVersions = `SELECT version FROM schema_migrations`
	insertMigrationVersion  = `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`
)

type migration struct {
	version string // file name without .sql, e.g. "0002_create_members"
	sql     string
}

// migrations returns the dialect's migration files in the order they apply.
func migrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFS, dir) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		text := strings.TrimRight(strings.TrimSpace(string(b)), ";")
		ms = append(ms, migration{version: strings.TrimSuffix(e.Name(), ".sql"), sql: text})
	}
	return ms, nil
}

// Migrate applies the embedded migrations that schema_migrations does not list yet and
// returns their versions in the order applied (empty when the schema is current). Several
// replicas may call it at once: on MySQL they queue on a GET_LOCK named after the database
// (migrateLock: GET_LOCK names are server-wide, and deployments or tests sharing one server
// must not queue behind each other) for up to
// migrateLockWait (or ctx's deadline), on SQLite on the single writer's immediate transaction.
// On MySQL a migration whose object already exists (error 1050, 1060 or 1061) stops it with
// an error that says how to record the migration if an interrupted run left it behind.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	ms, err := migrations(db.dialect)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var applied []string
	if db.mysql() {
		var name string
		if name, err = db.migrateLock(ctx); err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		err = db.withNamedLock(ctx, name, migrateLockWait, func(conn *sqlx.Conn) error {
			applied, err = db.migrateMySQL(ctx, conn, ms)
			return err
		})
	} else {
		err = db.inTx(ctx, func(tx *sqlx.Tx) error {
			applied, err = db.migrateSQLite(ctx, tx, ms)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return applied, nil
}

func (db *DB) migrateMySQL(ctx context.Context, conn *sqlx.Conn, ms []migration) ([]string, error) {
	if _, err := conn.ExecContext(ctx, createSchemaMigrationsMySQL); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var done []string
	if err := sqlx.SelectContext(ctx, conn, &done, selectMigrationVersions); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	var applied []string
	for _, m := range pending(ms, done) {
		if _, err := conn.ExecContext(ctx, m.sql); err != nil {
			var me *mysql.MySQLError
			if errors.As(err, &me) && alreadyInEffect[me.Number] {
				return applied, fmt.Errorf("apply %s: %w: the object already exists. If an earlier "+
					"run of this migration was interrupted after its DDL, check the object matches "+
					"migrations/mysql/%s.sql and record it with INSERT INTO schema_migrations "+
					"(version, applied_at) VALUES ('%s', UTC_TIMESTAMP()); if it belongs to another "+
					"application, give unionbot a database of its own", m.version, err, m.version, m.version)
			}
			return applied, fmt.Errorf("apply %s: %w", m.version, err)
		}
		if _, err := conn.ExecContext(ctx, insertMigrationVersion, m.version, db.now()); err != nil {
			return applied, fmt.Errorf("record %s: %w", m.version, err)
		}
		applied = append(applied, m.version)
	}
	return applied, nil
}

func (db *DB) migrateSQLite(ctx context.Context, tx *sqlx.Tx, ms []migration) ([]string, error) {
	if _, err := tx.ExecContext(ctx, createSchemaMigrationsSQLite); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var done []string
	if err := tx.SelectContext(ctx, &done, selectMigrationVersions); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	var applied []string
	for _, m := range pending(ms, done) {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return nil, fmt.Errorf("apply %s: %w", m.version, err)
		}
		if _, err := tx.ExecContext(ctx, insertMigrationVersion, m.version, db.now()); err != nil {
			return nil, fmt.Errorf("record %s: %w", m.version, err)
		}
		applied = append(applied, m.version)
	}
	return applied, nil
}

func pending(ms []migration, done []string) []migration {
	seen := make(map[string]bool, len(done))
	for _, v := range done {
		seen[v] = true
	}
	var out []migration
	for _, m := range ms {
		if !seen[m.version] {
			out = append(out, m)
		}
	}
	return out
}

// migrateLock is the MySQL lock name of this database's migrations:
// unionbot_migrate: and a short hash of the database name (GET_LOCK names
// are at most 64 characters, database names up to 64 themselves).
func (db *DB) migrateLock(ctx context.Context) (string, error) {
	var schema sql.NullString
	if err := db.w.GetContext(ctx, &schema, "SELECT DATABASE()"); err != nil {
		return "", fmt.Errorf("current database: %w", err)
	}
	sum := sha256.Sum256([]byte(schema.String))
	return migrateLockName + ":" + hex.EncodeToString(sum[:8]), nil
}
