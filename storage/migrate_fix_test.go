package storage_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// A migration whose DDL took effect but whose schema_migrations row was never written (the
// process died in between: MySQL commits DDL on its own) is recorded, with a warning.
func TestMigrateMySQLRecordsDDLAlreadyInEffect(t *testing.T) {
	dsn := storagetest.MySQLDSN(t)
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	db, err := storage.Open(t.Context(), storage.Options{MySQLDSN: dsn, Cipher: storagetest.TestCipher(t), Logger: logger})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })

	versions, err := storage.MigrationVersions(storage.DialectMySQL)
	if err != nil {
		t.Fatal(err)
	}
	files, err := storage.MigrationSQL(storage.DialectMySQL)
	if err != nil {
		t.Fatal(err)
	}
	first := versions[0]
	if err := storage.Exec(t.Context(), db, files[first]); err != nil {
		t.Fatalf("run %s by hand: %v", first, err)
	}
	applied, err := db.Migrate(t.Context())
	if err != nil {
		t.Fatalf("Migrate after %s took effect unrecorded: %v", first, err)
	}
	if !slices.Equal(applied, versions) {
		t.Errorf("applied %v, want %v", applied, versions)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, first) || !strings.Contains(out, "1050") {
		t.Errorf("log %q: want a warning naming %s and error 1050", out, first)
	}
	again, err := db.Migrate(t.Context())
	if err != nil || len(again) != 0 {
		t.Errorf("second Migrate = %v, %v; want nothing to apply", again, err)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
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
	var got int
	if err := conn.QueryRowContext(t.Context(), "SELECT GET_LOCK('unionbot_migrate', 0)").Scan(&got); err != nil || got != 1 {
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
	if _, err := conn.ExecContext(t.Context(), "DO RELEASE_LOCK('unionbot_migrate')"); err != nil {
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
