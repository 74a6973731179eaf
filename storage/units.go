package storage

// Units (基层工会): read, and created on import when the roster names a new one.

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

type unitRow struct {
	ID   int64  `db:"id"`
	Name string `db:"name"`
}

// Units returns every unit, ordered by name.
func (db *DB) Units(ctx context.Context) ([]Unit, error) {
	var rows []unitRow
	if err := db.r.SelectContext(ctx, &rows, `SELECT id, name FROM units ORDER BY name`); err != nil {
		return nil, fmt.Errorf("units: %w", err)
	}
	out := make([]Unit, len(rows))
	for i, r := range rows {
		out[i] = Unit{ID: r.ID, Name: r.Name}
	}
	return out, nil
}

const selectUnitsByName = `SELECT id, name FROM units WHERE name IN (?)`

const insertUnitMySQL = `INSERT INTO units (name, created_at) VALUES (?, ?) ON DUPLICATE KEY UPDATE name = name`

const insertUnitSQLite = `INSERT INTO units (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`

// resolveUnits fills cache with the id of every named unit, creating the missing ones.
func (db *DB) resolveUnits(ctx context.Context, tx *sqlx.Tx, names []string, cache map[string]int64) error {
	var missing []string
	seen := make(map[string]bool)
	for _, n := range names {
		if _, ok := cache[n]; !ok && !seen[n] {
			seen[n] = true
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	load := func(query string) error {
		var us []unitRow
		if err := selectIn(ctx, tx, &us, query, missing); err != nil {
			return fmt.Errorf("read units: %w", err)
		}
		for _, u := range us {
			cache[u.Name] = u.ID
		}
		return nil
	}
	if err := load(selectUnitsByName); err != nil {
		return err
	}
	insert, reload := insertUnitSQLite, selectUnitsByName
	if db.mysql() {
		// A unit another transaction committed after our snapshot is invisible to a plain
		// SELECT under REPEATABLE READ; a locking read sees the latest committed row.
		insert, reload = insertUnitMySQL, selectUnitsByName+` LOCK IN SHARE MODE`
	}
	created := false
	for _, n := range missing {
		if _, ok := cache[n]; ok {
			continue
		}
		if _, err := tx.ExecContext(ctx, insert, n, db.now()); err != nil {
			return fmt.Errorf("create unit: %w", err)
		}
		created = true
	}
	if created {
		if err := load(reload); err != nil {
			return err
		}
	}
	for _, n := range missing {
		if _, ok := cache[n]; !ok {
			return fmt.Errorf("unit %q missing after insert", n)
		}
	}
	return nil
}
