package storage

import (
	"strings"
	"testing"
	"time"
)

// SetClockForTest replaces the database's clock.
func (db *DB) SetClockForTest(now func() time.Time) { db.clock = now }

// RawForTest returns every value query reads, as stored, joined in one string.
func (db *DB) RawForTest(t testing.TB, query string) string {
	t.Helper()
	rows, err := RawRows(t.Context(), db, query)
	if err != nil {
		t.Fatalf("raw %q: %v", query, err)
	}
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, "|"))
		b.WriteByte('\n')
	}
	return b.String()
}
