package storage

import (
	"context"
	"fmt"
)

// MigrationVersions lists the embedded migration versions of a dialect, in order.
func MigrationVersions(dialect string) ([]string, error) {
	ms, err := migrations(dialect)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.version
	}
	return out, nil
}

// MigrationSQL returns the statement text of each migration of a dialect, by version.
func MigrationSQL(dialect string) (map[string]string, error) {
	ms, err := migrations(dialect)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(ms))
	for _, m := range ms {
		out[m.version] = m.sql
	}
	return out, nil
}

// RawRows returns every value of every row of query as text, the way it is stored, so
// tests can check what reaches the disk.
func RawRows(ctx context.Context, db *DB, query string, args ...any) ([][]string, error) {
	rows, err := db.w.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			switch v := v.(type) {
			case []byte:
				row[i] = string(v)
			case nil:
				row[i] = ""
			default:
				row[i] = fmt.Sprint(v)
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// ScrubPII exposes the audit guard.
var ScrubPII = scrubPII

// MigrateLockWait is how long Migrate waits for another replica's migrations on MySQL.
const MigrateLockWait = migrateLockWait

// Exec runs a statement on the writer, for tests that set up a state by hand.
func Exec(ctx context.Context, db *DB, query string, args ...any) error {
	_, err := db.w.ExecContext(ctx, query, args...)
	return err
}

// MigrateLock is the MySQL lock name Migrate takes for db's database.
func MigrateLock(ctx context.Context, db *DB) (string, error) { return db.migrateLock(ctx) }

// WriterCacheKiB is the SQLite writer's page cache size in KiB.
func WriterCacheKiB(ctx context.Context, db *DB) (int, error) {
	var n int
	if err := db.w.DB.GetContext(ctx, &n, `PRAGMA cache_size`); err != nil {
		return 0, err
	}
	return -n, nil
}

// CachedStatements is how many statements the writer and the readers keep prepared.
func CachedStatements(db *DB) (writer, readers int) {
	db.w.mu.RLock()
	writer = len(db.w.stmts)
	db.w.mu.RUnlock()
	db.r.mu.RLock()
	readers = len(db.r.stmts)
	db.r.mu.RUnlock()
	return writer, readers
}

// ExecRaw runs query on the writer.
func ExecRaw(ctx context.Context, db *DB, query string) error {
	_, err := db.w.ExecContext(ctx, query)
	return err
}
