package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"unionbot/admin"
	"unionbot/admin/auth"
	"unionbot/roster"
	"unionbot/storage"
)

// waitImport waits for an import job to finish and returns it.
func waitImport(t *testing.T, db *storage.DB, id int64) storage.RosterImport {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		j, err := db.RosterImport(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Finished() {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("import %d not finished: %+v", id, j)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runningImport is a 1,000-row import a worker elsewhere holds, 400 rows done (380 inserted,
// 20 refused), as its page shows mid-way.
func runningImport(t *testing.T, db *storage.DB) int64 {
	t.Helper()
	ctx := t.Context()
	imp, err := db.CreateRosterImport(ctx, storage.NewRosterImport{FileName: "全县名册.xlsx", Format: "xlsx", Data: []byte("PK"),
		RowsTotal: 1000, Accepted: 980, CreatedBy: "officer:chief", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.QueueRosterImport(ctx, imp.ID, storage.AuditEntry{Actor: "officer:chief"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimRosterImport(ctx, imp.ID, "replica-elsewhere", time.Hour); err != nil {
		t.Fatal(err)
	}
	_, err = db.ApplyRosterBatch(ctx, imp.ID, "replica-elsewhere", time.Hour, nil, func([]storage.UpsertOutcome) storage.ImportProgress {
		return storage.ImportProgress{LastRow: 401, Rows: 400, Inserted: 380, Rejected: 20,
			Errors: []storage.ImportRowError{{Row: 17, Column: "身份证号", Reason: "身份证号校验位不正确，请核对后重新输入"}}}
	})
	if err != nil {
		t.Fatal(err)
	}
	return imp.ID
}

// jobJSON is what the import's page polls.
type jobJSON struct {
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
	Progress struct {
		RowsTotal int `json:"rows_total"`
		RowsDone  int `json:"rows_done"`
		Percent   int `json:"percent"`
		Inserted  int `json:"inserted"`
		Rejected  int `json:"rejected"`
	} `json:"progress"`
}

func (b *browser) job(path string) jobJSON {
	b.e.t.Helper()
	code, _, body := b.get(path)
	var j jobJSON
	if err := json.Unmarshal([]byte(body), &j); code != http.StatusOK || err != nil {
		b.e.t.Fatalf("GET %s: %d %v %s", path, code, err, body)
	}
	return j
}

// A 20,000-row roster imported through the console: the confirmed import runs as a job on
// the replica that took the request, its page shows the progress mid-way (the polled JSON
// moves), that replica dies mid-import, and a restarted instance resumes the job after its
// last committed batch: every member is there, each counted once, one audit row.
func TestRosterImportJobSurvivesRestart(t *testing.T) {
	const rows = 20000
	var file bytes.Buffer
	if err := roster.Generate(&file, rows, 7); err != nil {
		t.Fatal(err)
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			db, store := be.open(t)
			e := newEnv(t, db, store)
			e.officer("chief", []auth.Role{auth.RoleAdmin}, 0)

			// Replica A takes the upload and the confirmation.
			ctxA, crashA := context.WithCancel(context.Background())
			defer crashA()
			jobsA := &roster.Jobs{DB: db, Owner: "replica-a", Lease: time.Second, BatchSize: 500, Logger: quiet}
			go jobsA.Loop(ctxA, time.Hour)
			e.srv = serveConsole(t, admin.Deps{DB: db, KV: store, RosterJobs: jobsA})
			b := e.browser()
			b.mustLogin("chief")
			code, _, body := b.upload("/admin/roster", nil, "全县名册.csv", file.Bytes())
			if code != http.StatusOK || !strings.Contains(body, fmt.Sprintf("确认导入 %d 行", rows)) {
				t.Fatalf("dry run: %d %.2000s", code, body)
			}
			imp := strings.Split(strings.Split(body, `name="import" value="`)[1], `"`)[0]
			id, _ := strconv.ParseInt(imp, 10, 64)
			start := time.Now()
			code, page, _ := b.post("/admin/roster/apply", url.Values{"import": {imp}})
			if code != http.StatusSeeOther {
				t.Fatalf("apply: %d", code)
			}
			api := "/api/v1/roster/imports/" + imp

			// Progress mid-way, as the page's script sees it; then replica A dies.
			var mid jobJSON
			for deadline := time.Now().Add(60 * time.Second); ; {
				mid = b.job(api)
				if mid.Status == "running" && mid.Progress.RowsDone > 0 && mid.Progress.RowsDone < rows {
					break
				}
				if mid.Status == "done" || time.Now().After(deadline) {
					t.Fatalf("no progress seen mid-way: %+v", mid)
				}
				time.Sleep(5 * time.Millisecond)
			}
			if _, _, body := b.get(page); !strings.Contains(body, "导入进行中") || !strings.Contains(body, "progress.js") ||
				!strings.Contains(body, `data-poll="`+api+`"`) {
				t.Fatalf("job page while running: %.3000s", body)
			}
			crashA()
			e.srv.Close()
			if mid.Progress.RowsTotal != rows || mid.Progress.Percent != mid.Progress.RowsDone*100/rows {
				t.Errorf("progress mid-way: %+v", mid)
			}

			// A new instance on the same database resumes the job once A's lease runs out.
			ctxB, stopB := context.WithCancel(context.Background())
			defer stopB()
			jobsB := &roster.Jobs{DB: db, Owner: "replica-b", Lease: time.Second, BatchSize: 500, Logger: quiet}
			go jobsB.Loop(ctxB, 100*time.Millisecond)
			e.srv = serveConsole(t, admin.Deps{DB: db, KV: store, RosterJobs: jobsB})
			j := waitImport(t, db, id)
			t.Logf("%s: %d rows in %s (including the crash and a %s lease)", be.name, rows, time.Since(start).Round(time.Millisecond), jobsA.Lease)
			if j.Status != storage.ImportDone || j.Attempts != 2 || j.RowsDone != rows || j.Inserted != rows ||
				j.Updated != 0 || j.Unchanged != 0 || j.Rejected != 0 || j.LeaseOwner != "" {
				t.Fatalf("after the restart: %+v (mid-way %+v)", j, mid)
			}
			if _, err := db.RosterImportData(t.Context(), id); err == nil {
				t.Error("the roster file is kept after the import")
			}
			final := b.job(api) // the same session, through the new instance
			if final.Status != "done" || final.Progress.Percent != 100 || final.Progress.Inserted != rows {
				t.Fatalf("final JSON: %+v", final)
			}
			total, err := db.CountMembers(t.Context())
			if err != nil || total != rows+4 {
				t.Fatalf("members: %d %v, want %d", total, err, rows+4)
			}
			es, err := db.AuditLog(t.Context(), storage.AuditFilter{Action: "roster.import", Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var done int
			for _, a := range es {
				if a.Action == "roster.import" {
					done++
					if a.Actor != "officer:chief" || !strings.Contains(a.Detail, fmt.Sprintf("新增 %d", rows)) {
						t.Errorf("audit: %+v", a)
					}
				}
			}
			if done != 1 {
				t.Fatalf("%d roster.import audit rows: %+v", done, es)
			}
		})
	}
}
