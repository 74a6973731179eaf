package storage_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func TestMigrationFilesMatchAcrossDialects(t *testing.T) {
	my, err := storage.MigrationVersions(storage.DialectMySQL)
	if err != nil {
		t.Fatal(err)
	}
	lite, err := storage.MigrationVersions(storage.DialectSQLite)
	if err != nil {
		t.Fatal(err)
	}
	if len(my) == 0 {
		t.Fatal("no MySQL migrations embedded")
	}
	if !slices.Equal(my, lite) {
		t.Errorf("migration versions differ between dialects:\nmysql  %v\nsqlite %v", my, lite)
	}
}

// MySQL commits DDL implicitly and the driver runs one statement per Exec, so each MySQL
// migration must be exactly one statement.
func TestMySQLMigrationsHoldOneStatement(t *testing.T) {
	files, err := storage.MigrationSQL(storage.DialectMySQL)
	if err != nil {
		t.Fatal(err)
	}
	for version, text := range files {
		if strings.Contains(text, ";") {
			t.Errorf("%s: holds more than one statement (found ';')", version)
		}
		if !strings.Contains(text, "ENGINE=InnoDB") || !strings.Contains(text, "utf8mb4") {
			t.Errorf("%s: want ENGINE=InnoDB and utf8mb4", version)
		}
	}
}

func TestMigrateConcurrentAndIdempotent(t *testing.T) {
	want, err := storage.MigrationVersions(storage.DialectSQLite)
	if err != nil {
		t.Fatal(err)
	}
	storagetest.EachUnmigrated(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		const replicas = 4
		var wg sync.WaitGroup
		results := make([][]string, replicas)
		errs := make([]error, replicas)
		for i := range replicas {
			wg.Go(func() { results[i], errs[i] = db.Migrate(ctx) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
		var all []string
		for _, r := range results {
			all = append(all, r...)
		}
		slices.Sort(all)
		if !slices.Equal(all, want) {
			t.Errorf("versions applied across %d concurrent calls: got %v, want each of %v exactly once", replicas, all, want)
		}

		again, err := db.Migrate(ctx)
		if err != nil {
			t.Fatalf("migrate again: %v", err)
		}
		if len(again) != 0 {
			t.Errorf("second migrate applied %v, want nothing", again)
		}
		rows, err := storage.RawRows(ctx, db, "SELECT version FROM schema_migrations ORDER BY version")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(want) {
			t.Errorf("schema_migrations has %d rows, want %d", len(rows), len(want))
		}
		if n, err := db.CountMembers(ctx); err != nil || n != 0 {
			t.Errorf("CountMembers on fresh schema: got %d, %v; want 0, nil", n, err)
		}
	})
}

func TestOpenRequiresCipher(t *testing.T) {
	_, err := storage.Open(context.Background(), storage.Options{DataDir: t.TempDir()})
	if !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("Open without cipher: got %v, want ErrInvalid", err)
	}
}

func TestDialect(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		want := storage.DialectSQLite
		if strings.HasSuffix(t.Name(), "mysql") {
			want = storage.DialectMySQL
		}
		if got := db.Dialect(); got != want {
			t.Errorf("Dialect: got %q, want %q", got, want)
		}
		if err := db.Ping(t.Context()); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})
}
