package storage_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// A migration whose object already exists (an interrupted run, or another
// application's table of the same name) stops Migrate with instructions rather
// than being recorded blindly.
func TestMigrateMySQLStopsWhenObjectExists(t *testing.T) {
	dsn := storagetest.MySQLDSN(t)
	db, err := storage.Open(t.Context(), storage.Options{MySQLDSN: dsn, Cipher: storagetest.TestCipher(t)})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	versions, err := storage.MigrationVersions(storage.DialectMySQL)
	if err != nil {
		t.Fatal(err)
	}
	if err := storage.Exec(t.Context(), db, "CREATE TABLE units (other_app_column INT)"); err != nil {
		t.Fatal(err)
	}
	_, err = db.Migrate(t.Context())
	if err == nil || !strings.Contains(err.Error(), "INSERT INTO schema_migrations") || !strings.Contains(err.Error(), versions[0]) {
		t.Fatalf("Migrate over a foreign units table = %v; want an error explaining how to record %s", err, versions[0])
	}
}

// A replica waits for another one's long migration instead of giving up after a minute.
func TestMigrateLockWaitCoversLongMigrations(t *testing.T) {
	if storage.MigrateLockWait < 5*time.Minute {
		t.Errorf("migrate lock wait %s, want several minutes", storage.MigrateLockWait)
	}
}

// Migrate waits for the lock while another session holds it, across more than one GET_LOCK
// call, and honours ctx's deadline when that is sooner.
func TestMigrateMySQLWaitsForLock(t *testing.T) {
	dsn := storagetest.MySQLDSN(t)
	db, err := storage.Open(t.Context(), storage.Options{MySQLDSN: dsn, Cipher: storagetest.TestCipher(t)})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	holder, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Close() })
	conn, err := holder.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	lock, err := storage.MigrateLock(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	var got int
	if err := conn.QueryRowContext(t.Context(), "SELECT GET_LOCK(?, 0)", lock).Scan(&got); err != nil || got != 1 {
		t.Fatalf("hold lock: %d %v", got, err)
	}

	short, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	start := time.Now()
	_, err = db.Migrate(short)
	cancel()
	if err == nil {
		t.Fatal("Migrate succeeded while another session held the lock")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Migrate with a 1.5 s deadline returned after %s", d)
	}

	done := make(chan error, 1)
	go func() {
		_, err := db.Migrate(t.Context())
		done <- err
	}()
	time.Sleep(1500 * time.Millisecond)
	if _, err := conn.ExecContext(t.Context(), "DO RELEASE_LOCK(?)", lock); err != nil {
		t.Fatalf("release lock: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Migrate after the lock was released: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Migrate still waiting 30 s after the lock was released")
	}
}

// GET_LOCK names are server-wide: two databases on one server (two
// deployments, or parallel test packages) must not queue behind each other.
func TestMigrateLockIsPerDatabase(t *testing.T) {
	a, b := storagetest.MySQL(t), storagetest.MySQL(t)
	la, err := storage.MigrateLock(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := storage.MigrateLock(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	if la == lb || len(la) > 64 {
		t.Fatalf("lock names %q and %q: want distinct names of at most 64 characters", la, lb)
	}
}
