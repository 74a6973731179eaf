package storage_test

import (
	"context"
	"errors"
	"os"
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
		creates := strings.HasPrefix(strings.ToUpper(strings.TrimSpace(text)), "CREATE TABLE")
		if creates && (!strings.Contains(text, "ENGINE=InnoDB") || !strings.Contains(text, "utf8mb4")) {
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

func TestMySQLConnectionSettings(t *testing.T) {
	db := storagetest.MySQL(t)
	rows, err := storage.RawRows(t.Context(), db, "SELECT @@character_set_connection, @@collation_connection, @@session.time_zone")
	if err != nil {
		t.Fatal(err)
	}
	if got := rows[0][:2]; got[0] != "utf8mb4" || got[1] != "utf8mb4_unicode_ci" {
		t.Errorf("connection charset/collation: got %v, want utf8mb4 utf8mb4_unicode_ci", got)
	}
}

func TestEmbeddedFileIsPrivate(t *testing.T) {
	dir := t.TempDir() + "/data"
	db, err := storage.Open(t.Context(), storage.Options{DataDir: dir, Cipher: storagetest.TestCipher(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700, dir + "/unionbot.db": 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", path, got, want)
		}
	}
}

// Two handles on one embedded file behave like two processes: their writes queue on
// SQLite's lock (busy_timeout) rather than failing with SQLITE_BUSY.
func TestEmbeddedTwoHandlesOnOneFile(t *testing.T) {
	dir := t.TempDir()
	var dbs [2]*storage.DB
	for i := range dbs {
		db, err := storage.Open(t.Context(), storage.Options{DataDir: dir, Cipher: storagetest.TestCipher(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	var wg sync.WaitGroup
	applied := make([][]string, 2)
	errs := make([]error, 2)
	for i, db := range dbs {
		wg.Go(func() { applied[i], errs[i] = db.Migrate(t.Context()) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	want, _ := storage.MigrationVersions(storage.DialectSQLite)
	if got := len(applied[0]) + len(applied[1]); got != len(want) {
		t.Errorf("applied %v and %v, want %d versions in all", applied[0], applied[1], len(want))
	}

	recs := make([]storage.MemberRecord, 200)
	for i := range recs {
		recs[i] = rec(i)
	}
	outs := make([][]storage.UpsertOutcome, 2)
	for i, db := range dbs {
		wg.Go(func() { outs[i], errs[i] = db.UpsertMembers(t.Context(), recs) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("upsert: %v", err)
	}
	for i := range recs {
		if a, b := outs[0][i].Result, outs[1][i].Result; a == b {
			t.Fatalf("record %d: both handles report %v, want one inserted and one unchanged", i, a)
		}
	}
	if n, err := dbs[1].CountMembers(t.Context()); err != nil || n != len(recs) {
		t.Errorf("CountMembers: got %d, %v; want %d", n, err, len(recs))
	}
}
