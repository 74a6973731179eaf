package roster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// jobFile is a generated roster with problems on both sides of where the test's first worker
// dies: an invalid ID number early (its error is committed before the crash), then, after the
// crash, an exact copy of an early row (member and ID number repeated: the resumed worker must
// remember rows it only re-read) and a row whose ID number a stored member holds (refused by
// the database).
func jobFile(t *testing.T) []byte {
	var gen bytes.Buffer
	if err := Generate(&gen, 1200, 11); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(gen.String(), "\n"), "\n")
	bad := strings.Split(lines[10], ",")
	bad[0], bad[2] = "BAD1", "12345"
	early := lines[6]
	conflict := strings.Split(lines[20], ",")
	conflict[0], conflict[2] = "CONF1", idA
	out := slices.Concat(lines[:50], []string{strings.Join(bad, ",")}, lines[50:700], []string{early},
		lines[700:900], []string{strings.Join(conflict, ",")}, lines[900:])
	return []byte(strings.Join(out, "\n") + "\n")
}

// preStore stores the member whose ID number the file's CONF1 row repeats.
func preStore(t *testing.T, db *storage.DB) {
	t.Helper()
	out, err := db.UpsertMembers(t.Context(), []storage.MemberRecord{{MemberNo: "PRE1", Name: "钱多多", IDNumber: idA, UnitName: "城关电力公司工会"}})
	if err != nil || out[0].Err != nil {
		t.Fatal(err, out)
	}
}

// crashAfter is a journal whose worker dies (its context ends) once n batches are committed.
type crashAfter struct {
	journal
	n      int
	cancel context.CancelFunc
}

func (c *crashAfter) ApplyBatch(ctx context.Context, recs []storage.MemberRecord, p func([]storage.UpsertOutcome) storage.ImportProgress) ([]storage.UpsertOutcome, error) {
	out, err := c.journal.ApplyBatch(ctx, recs, p)
	if c.n--; c.n == 0 {
		c.cancel()
	}
	return out, err
}

// A job whose worker dies after some batches, resumed by another worker, ends exactly as the
// same file imported in one go: the same counts, the same row errors (none twice, none
// lost), every member once.
func TestJobResumesExactly(t *testing.T) {
	data := jobFile(t)
	ref := storagetest.Embedded(t)
	preStore(t, ref)
	want, err := (&Importer{Store: ref, Opts: Options{BatchSize: 100}}).Import(t.Context(), bytes.NewReader(data), FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	if want.Rows != 1203 || want.Rejected != 3 || want.Inserted != 1200 || len(want.Errors) != 4 {
		t.Fatalf("reference import: %+v", want)
	}

	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		preStore(t, db)
		imp, err := db.CreateRosterImport(ctx, storage.NewRosterImport{FileName: "名册.csv", Format: "csv", Data: data,
			RowsTotal: want.Rows, Accepted: want.Rows - 3, CreatedBy: "officer:chief", Expires: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.QueueRosterImport(ctx, imp.ID, storage.AuditEntry{Actor: "officer:chief", RequestID: "r1"}); err != nil {
			t.Fatal(err)
		}

		// The first worker commits three batches (a commit every 100 rows read, the header is
		// row 1) and dies.
		const lease = 300 * time.Millisecond
		dead, err := db.ClaimRosterImport(ctx, imp.ID, "dead", lease)
		if err != nil {
			t.Fatal(err)
		}
		wctx, die := context.WithCancel(ctx)
		jn := &crashAfter{journal: journal{db: db, id: imp.ID, owner: "dead", lease: lease}, n: 3, cancel: die}
		_, err = (&Importer{Opts: Options{BatchSize: 100, Journal: jn, ErrorsKept: dead.ErrorsKept}}).Import(wctx, bytes.NewReader(data), FormatCSV)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the dying worker: %v", err)
		}
		mid, _ := db.RosterImport(ctx, imp.ID)
		if mid.Status != storage.ImportRunning || mid.RowsDone != 300 || mid.Inserted != 299 || mid.Rejected != 1 || mid.LastRow != 301 {
			t.Fatalf("after the crash: %+v", mid)
		}

		// Another worker may not take it while the lease runs; afterwards it resumes.
		live := &Jobs{DB: db, Owner: "live", Lease: lease, BatchSize: 100}
		if err := live.Run(ctx, imp.ID); err != nil {
			t.Fatal(err)
		}
		if j, _ := db.RosterImport(ctx, imp.ID); j.Status != storage.ImportRunning || j.LeaseOwner != "dead" {
			t.Fatalf("taken over within the lease: %+v", j)
		}
		time.Sleep(lease + 50*time.Millisecond)
		if err := live.Run(ctx, imp.ID); err != nil {
			t.Fatal(err)
		}
		got, _ := db.RosterImport(ctx, imp.ID)
		if got.Status != storage.ImportDone || got.Attempts != 2 || got.RowsDone != want.Rows || got.Inserted != want.Inserted ||
			got.Updated != want.Updated || got.Unchanged != want.Unchanged || got.Rejected != want.Rejected {
			t.Fatalf("resumed import %+v, want the counts of %+v", got, want)
		}
		errs, total, err := db.RosterImportErrors(ctx, imp.ID, 100)
		if err != nil || total != len(want.Errors) {
			t.Fatalf("errors: %d %v, want %d", total, err, len(want.Errors))
		}
		for i, e := range errs {
			if w := want.Errors[i]; e.Row != w.Row || e.Column != w.Column || e.Reason != w.Reason {
				t.Errorf("error %d: %+v, want %+v", i, e, w)
			}
		}
		if n, _ := db.CountMembers(ctx); n != 1201 {
			t.Fatalf("%d members, want 1201", n)
		}
		es, _ := db.AuditLog(ctx, storage.AuditFilter{Action: "roster.import", Limit: 10})
		if len(es) != 2 || es[0].Action != "roster.import" || es[0].Actor != "officer:chief" || es[0].RequestID != "r1" ||
			!strings.Contains(es[0].Detail, "新增 1200") {
			t.Fatalf("audit: %+v", es)
		}
	})
}

// An import whose workers keep dying is marked failed with a reason after
// storage.MaxImportAttempts claims, its file dropped; a file the importer cannot read fails
// at once with the importer's reason.
func TestJobFailsLoudly(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		queue := func(data string) int64 {
			imp, err := db.CreateRosterImport(ctx, storage.NewRosterImport{FileName: "r.csv", Format: "csv", Data: []byte(data),
				RowsTotal: 1, Accepted: 1, CreatedBy: "officer:chief", Expires: time.Now().Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.QueueRosterImport(ctx, imp.ID, storage.AuditEntry{Actor: "officer:chief"}); err != nil {
				t.Fatal(err)
			}
			return imp.ID
		}
		id := queue(csvHeader + "A1,张三," + idB + ",13800138000,城关工会,2020-01-01,2026,在册\n")
		for range storage.MaxImportAttempts {
			if _, err := db.ClaimRosterImport(ctx, id, "doomed", time.Millisecond); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		jobs := &Jobs{DB: db, Owner: "w", Lease: time.Second}
		if err := jobs.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		j, _ := db.RosterImport(ctx, id)
		if j.Status != storage.ImportFailed || !strings.Contains(j.Message, fmt.Sprintf("已中断 %d 次", storage.MaxImportAttempts)) || j.FinishedAt.IsZero() {
			t.Fatalf("after %d dead workers: %+v", storage.MaxImportAttempts, j)
		}
		if _, err := db.RosterImportData(ctx, id); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("file kept after failing: %v", err)
		}
		if _, err := db.MemberByNo(ctx, "A1"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("a failed import stored its row: %v", err)
		}

		id = queue("这不是名册\n只是一段文字\n")
		if err := jobs.Run(ctx, id); err != nil {
			t.Fatal(err)
		}
		if j, _ := db.RosterImport(ctx, id); j.Status != storage.ImportFailed || !strings.Contains(j.Message, "未导入任何数据") {
			t.Fatalf("unreadable file: %+v", j)
		}
		es, _ := db.AuditLog(ctx, storage.AuditFilter{Action: "roster.import.failed", Limit: 10})
		if len(es) != 2 {
			t.Fatalf("failure audits: %+v", es)
		}
	})
}

// BenchmarkJob20k is a 20,000-row roster confirmed in the console, applied as a job (batches
// committed with the job's progress), on each backend: go test ./roster -run '^$' -bench Job20k -benchtime 3x
func BenchmarkJob20k(b *testing.B) {
	const n = 20_000
	var buf bytes.Buffer
	if err := Generate(&buf, n, 1); err != nil {
		b.Fatal(err)
	}
	for _, be := range []struct {
		name string
		open func(testing.TB) *storage.DB
	}{{"embedded", storagetest.Embedded}, {"mysql", storagetest.MySQL}} {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				b.StopTimer()
				db := be.open(b) // a fresh database each time: every row is an insert
				imp, err := db.CreateRosterImport(ctx, storage.NewRosterImport{FileName: "r.csv", Format: "csv", Data: buf.Bytes(),
					RowsTotal: n, Accepted: n, CreatedBy: "officer:bench", Expires: time.Now().Add(time.Hour)})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := db.QueueRosterImport(ctx, imp.ID, storage.AuditEntry{Actor: "officer:bench"}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := (&Jobs{DB: db, Owner: "bench"}).Run(ctx, imp.ID); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if j, _ := db.RosterImport(ctx, imp.ID); j.Status != storage.ImportDone || j.Inserted != n {
					b.Fatalf("import: %+v", j)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/import")
		})
	}
}
