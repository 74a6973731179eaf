// Package storagetest hands tests a fresh, real database of each dialect: a throw-away
// MySQL/MariaDB database on the server named by UNIONBOT_TEST_MYSQL_DSN (default
// root@tcp(127.0.0.1:3306)/), or an embedded SQLite file in t.TempDir(). When MySQL is
// unreachable the test is skipped, unless CI=true, where it fails.
package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"unionbot/pii"
	"unionbot/storage"
)

// DefaultMySQLDSN is used when UNIONBOT_TEST_MYSQL_DSN is unset.
const DefaultMySQLDSN = "root@tcp(127.0.0.1:3306)/"

// testKey is the fixed PII key of tests; never use it outside tests.
var testKey = []byte("unionbot-test-key-0123456789abcd")

// TestCipher returns a cipher with a fixed test key.
func TestCipher(t testing.TB) *pii.Cipher {
	t.Helper()
	c, err := pii.NewCipher(testKey)
	if err != nil {
		t.Fatalf("test cipher: %v", err)
	}
	return c
}

// Embedded returns a migrated embedded database in a temporary directory.
func Embedded(t testing.TB) *storage.DB {
	t.Helper()
	db := EmbeddedUnmigrated(t)
	migrate(t, db)
	return db
}

// EmbeddedUnmigrated returns an embedded database with no schema yet.
func EmbeddedUnmigrated(t testing.TB) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), storage.Options{DataDir: t.TempDir(), Cipher: TestCipher(t)})
	if err != nil {
		t.Fatalf("open embedded database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// MySQL returns a migrated database unionbot_test_<random> on the test server; the database
// is dropped when the test ends.
func MySQL(t testing.TB) *storage.DB {
	t.Helper()
	db := MySQLUnmigrated(t)
	migrate(t, db)
	return db
}

// MySQLUnmigrated is MySQL without the migrations.
func MySQLUnmigrated(t testing.TB) *storage.DB {
	t.Helper()
	dsn := MySQLDSN(t)
	db, err := storage.Open(context.Background(), storage.Options{MySQLDSN: dsn, Cipher: TestCipher(t)})
	if err != nil {
		t.Fatalf("open MySQL test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// MySQLDSN creates an empty database unionbot_test_<random> on the test server and returns
// a DSN for it; the database is dropped when the test ends. It skips (or, under CI=true,
// fails) the test when the server is unreachable.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("UNIONBOT_TEST_MYSQL_DSN")
	if base == "" {
		base = DefaultMySQLDSN
	}
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("UNIONBOT_TEST_MYSQL_DSN is malformed: %v", err)
	}
	cfg.DBName = ""
	if cfg.Timeout == 0 {
		cfg.Timeout = 3 * time.Second
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatalf("MySQL connector: %v", err)
	}
	admin := sql.OpenDB(connector)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		unavailable(t, err)
	}
	name := "unionbot_test_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("MySQL test server unreachable (CI=true, so this fails): %v", err)
	}
	t.Skipf("MySQL test server unreachable (%v); start MariaDB/MySQL or set UNIONBOT_TEST_MYSQL_DSN (default %s) to run this test", err, DefaultMySQLDSN)
}

func migrate(t testing.TB, db *storage.DB) {
	t.Helper()
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s test database: %v", db.Dialect(), err)
	}
}

// Each runs fn as the subtests "embedded" and "mysql", each on a fresh migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *storage.DB)) {
	t.Helper()
	t.Run("embedded", func(t *testing.T) { fn(t, Embedded(t)) })
	t.Run("mysql", func(t *testing.T) { fn(t, MySQL(t)) })
}

// EachUnmigrated is Each on databases with no schema yet, for migration tests.
func EachUnmigrated(t *testing.T, fn func(t *testing.T, db *storage.DB)) {
	t.Helper()
	t.Run("embedded", func(t *testing.T) { fn(t, EmbeddedUnmigrated(t)) })
	t.Run("mysql", func(t *testing.T) { fn(t, MySQLUnmigrated(t)) })
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}
