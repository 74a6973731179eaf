package storage_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// An upload is kept encrypted in chunks and read back whole; confirming is once and within
// the hour; expired uploads are purged; a worker whose lease another has taken writes
// nothing, neither members nor progress.
func TestRosterImportStorage(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		now := time.Now()
		big := bytes.Repeat([]byte("会员编号,姓名,身份证号\n"), 300000) // ~9 MB: three chunks
		imp, err := db.CreateRosterImport(ctx, storage.NewRosterImport{FileName: "大名册.csv", Format: "csv", Data: big,
			RowsTotal: 300000, Accepted: 1, CreatedBy: "officer:a", Expires: now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if back, err := db.RosterImportData(ctx, imp.ID); err != nil || !bytes.Equal(back, big) {
			t.Fatalf("file read back: %d bytes, %v", len(back), err)
		}
		if imp.Status != storage.ImportChecked || imp.Size != int64(len(big)) || imp.FileName != "大名册.csv" {
			t.Fatalf("created: %+v", imp)
		}
		if _, err := db.ClaimRosterImport(ctx, imp.ID, "w", time.Minute); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("claimed an unconfirmed upload: %v", err)
		}
		q, err := db.QueueRosterImport(ctx, imp.ID, storage.AuditEntry{Actor: "officer:b", RequestID: "q1", ClientAddr: "10.1.1.1"})
		if err != nil || q.Status != storage.ImportQueued || q.QueuedBy != "officer:b" || !q.ExpiresAt.IsZero() {
			t.Fatalf("queue: %+v %v", q, err)
		}
		if _, err := db.QueueRosterImport(ctx, imp.ID, storage.AuditEntry{Actor: "officer:b"}); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("queued twice: %v", err)
		}

		stale, err := db.CreateRosterImport(ctx, storage.NewRosterImport{FileName: "旧.csv", Format: "csv", Data: []byte("x"),
			CreatedBy: "officer:a", Expires: now.Add(-time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.QueueRosterImport(ctx, stale.ID, storage.AuditEntry{Actor: "officer:b"}); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("queued an expired upload: %v", err)
		}
		if n, err := db.PurgeRosterImports(ctx); err != nil || n != 1 {
			t.Fatalf("purge: %d %v", n, err)
		}
		if _, err := db.RosterImport(ctx, stale.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("expired upload kept: %v", err)
		}
		if ids, _ := db.RosterImportsToRun(ctx, 10); len(ids) != 1 || ids[0] != imp.ID {
			t.Fatalf("to run: %v", ids)
		}

		// Worker a's lease runs out and b takes over: a writes nothing more.
		if _, err := db.ClaimRosterImport(ctx, imp.ID, "a", 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ClaimRosterImport(ctx, imp.ID, "b", time.Minute); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("claimed within a's lease: %v", err)
		}
		time.Sleep(80 * time.Millisecond)
		if ids, _ := db.RosterImportsToRun(ctx, 10); len(ids) != 1 {
			t.Fatalf("a lapsed lease is not offered: %v", ids)
		}
		b, err := db.ClaimRosterImport(ctx, imp.ID, "b", time.Minute)
		if err != nil || b.Attempts != 2 || b.LeaseOwner != "b" {
			t.Fatalf("take over: %+v %v", b, err)
		}
		progress := func([]storage.UpsertOutcome) storage.ImportProgress {
			return storage.ImportProgress{LastRow: 2, Rows: 1, Inserted: 1, Errors: []storage.ImportRowError{{Row: 2, Column: "姓名", Reason: "x"}}}
		}
		_, err = db.ApplyRosterBatch(ctx, imp.ID, "a", time.Minute, []storage.MemberRecord{rec(1)}, progress)
		if !errors.Is(err, storage.ErrLeaseLost) {
			t.Fatalf("a's batch after losing the lease: %v", err)
		}
		if err := db.RenewRosterImportLease(ctx, imp.ID, "a", time.Minute); !errors.Is(err, storage.ErrLeaseLost) {
			t.Fatalf("a renewed b's lease: %v", err)
		}
		if err := db.FinishRosterImport(ctx, imp.ID, "a"); !errors.Is(err, storage.ErrLeaseLost) {
			t.Fatalf("a finished b's import: %v", err)
		}
		if _, err := db.MemberByNo(ctx, rec(1).MemberNo); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("a's batch stored a member: %v", err)
		}
		if j, _ := db.RosterImport(ctx, imp.ID); j.RowsDone != 0 || j.LastRow != 0 {
			t.Fatalf("a's progress stored: %+v", j)
		}
		if _, n, _ := db.RosterImportErrors(ctx, imp.ID, 10); n != 0 {
			t.Fatalf("a's errors stored: %d", n)
		}
		// b's batch commits members, progress and errors together.
		out, err := db.ApplyRosterBatch(ctx, imp.ID, "b", time.Minute, []storage.MemberRecord{rec(1)}, progress)
		if err != nil || len(out) != 1 || out[0].Result != storage.Inserted {
			t.Fatalf("b's batch: %+v %v", out, err)
		}
		if j, _ := db.RosterImport(ctx, imp.ID); j.RowsDone != 1 || j.LastRow != 2 || j.Inserted != 1 {
			t.Fatalf("b's progress: %+v", j)
		}
		if errs, n, _ := db.RosterImportErrors(ctx, imp.ID, 10); n != 1 || errs[0].Column != "姓名" {
			t.Fatalf("b's errors: %+v", errs)
		}
	})
}
