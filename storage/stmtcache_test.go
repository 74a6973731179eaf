package storage_test

import (
	"fmt"
	"testing"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// The embedded writer serves with a small page cache and holds the large one only
// for the span of an import.
func TestWriterPageCacheGrowsOnlyForImports(t *testing.T) {
	ctx := t.Context()
	db := storagetest.Embedded(t)
	kib := func() int {
		t.Helper()
		n, err := storage.WriterCacheKiB(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := kib(); got != 8<<10 {
		t.Fatalf("serving page cache = %d KiB, want 8192", got)
	}
	recs := make([]storage.MemberRecord, 50)
	for i := range recs {
		recs[i] = storage.MemberRecord{MemberNo: fmt.Sprintf("C%03d", i), Name: "张三",
			IDNumber: fmt.Sprintf("110101199003%06d", i)}
	}
	if _, err := db.UpsertMembers(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if got := kib(); got != 8<<10 {
		t.Fatalf("page cache after an import = %d KiB, want it back at 8192", got)
	}
}

// Statements are kept prepared on SQLite and give the same answers as unprepared
// ones; an exec of several statements runs them all (a prepared statement would
// stop after the first).
func TestEmbeddedStatementCache(t *testing.T) {
	ctx := t.Context()
	db := storagetest.Embedded(t)
	_, before := storage.CachedStatements(db)
	for i := range 3 {
		if _, err := db.MemberByNo(ctx, "nobody"); err == nil {
			t.Fatalf("lookup %d of a missing member succeeded", i)
		}
	}
	recs := []storage.MemberRecord{{MemberNo: "S1", Name: "李四", IDNumber: "110101199003000001"}}
	if _, err := db.UpsertMembers(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		m, err := db.MemberByNo(ctx, "S1")
		if err != nil || m.Name != "李四" {
			t.Fatalf("member S1 = %+v, %v", m, err)
		}
	}
	if _, after := storage.CachedStatements(db); after != before+1 {
		t.Fatalf("readers keep %d statements after one repeated query (was %d), want one more", after, before)
	}
	w, _ := storage.CachedStatements(db)
	if err := storage.ExecRaw(ctx, db, `CREATE TABLE t1 (a INTEGER); CREATE TABLE t2 (b INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if w2, _ := storage.CachedStatements(db); w2 != w {
		t.Fatalf("a multi-statement exec was cached (%d → %d)", w, w2)
	}
	if _, err := storage.RawRows(ctx, db, `SELECT count(*) FROM t2`); err != nil {
		t.Fatalf("second statement of a multi-statement exec did not run: %v", err)
	}
}
