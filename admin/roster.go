package admin

// 名册导入: the roster upload, with the importer the command line uses (package roster).
// The console first checks the file (a dry run, in the request; the report as a table: row,
// column, reason) and keeps it in the database, encrypted, for an hour; 确认导入 queues it as
// an import job that whichever replica claims applies in batches (roster.Jobs), resuming after
// a crash. The job's page shows its progress, polled from GET /api/v1/roster/imports/{id}.
// The API's POST takes the file and dry_run in one request and answers with the report.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"unionbot/admin/auth"
	"unionbot/roster"
	"unionbot/storage"
	"unionbot/web"
)

// maxRosterBytes bounds an uploaded roster (a 100,000-member XLSX is about 8 MB).
const maxRosterBytes = 32 << 20

// rosterKeep is how long an uploaded roster waits for 确认导入.
const rosterKeep = time.Hour

// rosterErrorsShown bounds the row errors a job's page and JSON list.
const rosterErrorsShown = 500

// rosterRejection is one refused cell in the API (DESIGN §11).
type rosterRejection struct {
	Row    int    `json:"row"`
	Column string `json:"column"`
	Reason string `json:"reason"`
}

// rosterResult is the answer of POST /api/v1/roster/imports.
type rosterResult struct {
	DryRun    bool              `json:"dry_run"`
	Rows      int               `json:"rows"`
	Accepted  int               `json:"accepted"`
	Inserted  int               `json:"inserted"`
	Updated   int               `json:"updated"`
	Unchanged int               `json:"unchanged"`
	Rejected  []rosterRejection `json:"rejected"`
	Omitted   int               `json:"rejected_omitted,omitempty"`
	Ignored   []string          `json:"ignored_columns,omitempty"`
}

func rosterResultOf(rep roster.Report) rosterResult {
	out := rosterResult{DryRun: rep.DryRun, Rows: rep.Rows, Accepted: rep.Rows - rep.Rejected, Inserted: rep.Inserted,
		Updated: rep.Updated, Unchanged: rep.Unchanged, Rejected: []rosterRejection{}, Omitted: rep.ErrorsOmitted, Ignored: rep.Ignored}
	for _, e := range rep.Errors {
		out.Rejected = append(out.Rejected, rosterRejection{Row: e.Row, Column: e.Column, Reason: e.Reason})
	}
	return out
}

// readRoster reads an upload into memory and returns it with its format.
func readRoster(f multipart.File, name string) ([]byte, string, error) {
	var format string
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		format = roster.FormatCSV
	case ".xlsx":
		format = roster.FormatXLSX
	case ".xls":
		return nil, "", userErr(http.StatusUnprocessableEntity, "bad_file", "不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV 后再上传。")
	default:
		return nil, "", userErr(http.StatusUnprocessableEntity, "bad_file", "请上传 CSV 或 XLSX 文件。")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxRosterBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("read roster upload: %w", err)
	}
	if len(data) > maxRosterBytes {
		return nil, "", userErr(http.StatusRequestEntityTooLarge, "file_too_large", "文件太大（最大 32 MB）。")
	}
	if len(data) == 0 {
		return nil, "", userErr(http.StatusUnprocessableEntity, "bad_file", "文件是空的，请检查后重新上传。")
	}
	return data, format, nil
}

// importRoster runs the importer on an upload in the request; a real import is audited.
func (s *Server) importRoster(r *http.Request, p auth.Principal, data []byte, format string, dry bool) (roster.Report, error) {
	im := &roster.Importer{Store: s.db, Opts: roster.Options{DryRun: dry, Now: s.now}}
	rep, err := im.Import(r.Context(), bytes.NewReader(data), format)
	var fe *roster.FileError
	if errors.As(err, &fe) {
		return rep, userErr(http.StatusUnprocessableEntity, "bad_file", fe.Reason+"（未导入任何数据）")
	}
	if err != nil {
		return rep, err
	}
	if !dry {
		a := s.auditFor(r, p)
		a.Action, a.Subject = "roster.import", "roster"
		a.Detail = fmt.Sprintf("%d 行：新增 %d，更新 %d，未变化 %d，拒绝 %d", rep.Rows, rep.Inserted, rep.Updated, rep.Unchanged, rep.Rejected)
		if err := s.db.AddAudit(r.Context(), a); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (s *Server) apiRosterImport(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ImportRoster, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRosterBytes+1<<20)
	f, hdr, err := r.FormFile("file")
	if err != nil {
		s.fail(w, r, userErr(http.StatusBadRequest, "no_file", "请用 multipart/form-data 的 file 字段上传名册（不超过 32 MB）。"))
		return
	}
	defer f.Close()
	dry, err := dryRunParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data, format, err := readRoster(f, hdr.Filename)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rep, err := s.importRoster(r, p, data, format, dry)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, rosterResultOf(rep))
}

// dryRunParam reads an upload's dry_run field (absent: false).
func dryRunParam(r *http.Request) (bool, error) {
	switch r.FormValue("dry_run") {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, userErr(http.StatusBadRequest, "bad_dry_run", "dry_run 应为 true 或 false。")
}

// rosterJob is an import job in the API (GET /api/v1/roster/imports/{id}) and on its page.
type rosterJob struct {
	ID         int64             `json:"id"`
	Status     string            `json:"status"` // checked, queued, running, done, failed
	StatusText string            `json:"status_text"`
	FileName   string            `json:"file_name"`
	Progress   rosterProgress    `json:"progress"`
	Rejected   []rosterRejection `json:"rejected"`
	Omitted    int               `json:"rejected_omitted,omitempty"`
	Message    string            `json:"message,omitempty"`
	Attempts   int               `json:"attempts"`
	CreatedAt  time.Time         `json:"created_at"`
	StartedAt  *time.Time        `json:"started_at,omitempty"`
	FinishedAt *time.Time        `json:"finished_at,omitempty"`
}

// rosterProgress is how far a job got (as of its last committed batch).
type rosterProgress struct {
	RowsTotal int `json:"rows_total"`
	RowsDone  int `json:"rows_done"`
	Percent   int `json:"percent"`
	Inserted  int `json:"inserted"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Rejected  int `json:"rejected"`
}

var rosterStatusText = map[string]string{
	storage.ImportChecked: "待确认", storage.ImportQueued: "排队中", storage.ImportRunning: "进行中",
	storage.ImportDone: "已完成", storage.ImportFailed: "失败",
}

func (s *Server) rosterJobOf(ctx context.Context, id int64) (rosterJob, error) {
	imp, err := s.db.RosterImport(ctx, id)
	if err != nil {
		return rosterJob{}, err
	}
	errs, stored, err := s.db.RosterImportErrors(ctx, id, rosterErrorsShown)
	if err != nil {
		return rosterJob{}, err
	}
	j := rosterJob{ID: imp.ID, Status: imp.Status, StatusText: rosterStatusText[imp.Status], FileName: imp.FileName,
		Progress: rosterProgress{RowsTotal: imp.RowsTotal, RowsDone: imp.RowsDone, Inserted: imp.Inserted,
			Updated: imp.Updated, Unchanged: imp.Unchanged, Rejected: imp.Rejected},
		Rejected: []rosterRejection{}, Omitted: imp.ErrorsOmitted, Message: imp.Message, Attempts: imp.Attempts,
		CreatedAt: imp.CreatedAt, StartedAt: optTime(imp.StartedAt), FinishedAt: optTime(imp.FinishedAt)}
	if imp.RowsTotal > 0 {
		j.Progress.Percent = min(100, imp.RowsDone*100/imp.RowsTotal)
	}
	if imp.Status == storage.ImportDone {
		j.Progress.Percent = 100
	}
	j.Omitted += stored - len(errs)
	for _, e := range errs {
		j.Rejected = append(j.Rejected, rosterRejection{Row: e.Row, Column: e.Column, Reason: e.Reason})
	}
	return j, nil
}

// rosterJobFor authorizes and loads the job of the URL.
func (s *Server) rosterJobFor(r *http.Request, p auth.Principal) (rosterJob, error) {
	if err := auth.Authorize(p, auth.ImportRoster, auth.NoRecord); err != nil {
		return rosterJob{}, err
	}
	id, err := pathID(r)
	if err != nil {
		return rosterJob{}, err
	}
	return s.rosterJobOf(r.Context(), id)
}

func (s *Server) apiRosterJob(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	j, err := s.rosterJobFor(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, j)
}

// Console.

type rosterPage struct {
	Report   *rosterResult
	FileName string
	ImportID int64 // the checked upload 确认导入 queues
	Job      *rosterJob
}

// Live reports whether the job's page keeps polling.
func (d *rosterPage) Live() bool {
	return d.Job != nil && (d.Job.Status == storage.ImportQueued || d.Job.Status == storage.ImportRunning)
}

func (s *Server) handleRosterPage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ImportRoster, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "roster", &pageData{Title: "名册导入", Data: &rosterPage{}})
}

func (s *Server) rosterFail(w http.ResponseWriter, r *http.Request, err error) {
	if he := classify(err); he != nil && he.status < 500 && he.status != http.StatusForbidden {
		s.renderStatus(w, r, he.status, "roster", &pageData{Title: "名册导入", Error: he.msg, Data: &rosterPage{}})
		return
	}
	s.fail(w, r, err)
}

// handleRosterUpload checks an uploaded roster (a dry run) and keeps it for 确认导入.
func (s *Server) handleRosterUpload(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ImportRoster, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		s.rosterFail(w, r, userErr(http.StatusBadRequest, "no_file", "请选择要上传的名册文件（CSV 或 XLSX，不超过 32 MB）。"))
		return
	}
	defer f.Close()
	data, format, err := readRoster(f, hdr.Filename)
	if err != nil {
		s.rosterFail(w, r, err)
		return
	}
	rep, err := s.importRoster(r, p, data, format, true)
	if err != nil {
		s.rosterFail(w, r, err)
		return
	}
	res := rosterResultOf(rep)
	d := &rosterPage{Report: &res, FileName: filepath.Base(hdr.Filename)}
	if res.Accepted > 0 {
		imp, err := s.db.CreateRosterImport(r.Context(), storage.NewRosterImport{FileName: d.FileName, Format: format, Data: data,
			RowsTotal: res.Rows, Accepted: res.Accepted, CreatedBy: p.Actor(), Expires: s.now().Add(rosterKeep)})
		if err != nil {
			s.rosterFail(w, r, err)
			return
		}
		d.ImportID = imp.ID
	}
	s.render(w, r, "roster", &pageData{Title: "名册导入", Data: d})
}

// handleRosterApply queues the import the dry run checked, starts it on this replica and
// shows its progress page.
func (s *Server) handleRosterApply(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ImportRoster, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := strconv.ParseInt(r.PostFormValue("import"), 10, 64)
	if err != nil || id <= 0 {
		s.rosterFail(w, r, userErr(http.StatusBadRequest, "bad_import", "上传记录无效，请重新上传名册。"))
		return
	}
	_, err = s.db.QueueRosterImport(r.Context(), id, s.auditFor(r, p))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		s.rosterFail(w, r, userErr(http.StatusGone, "expired", "上传的文件已过期（保留1小时），请重新上传。"))
		return
	case errors.Is(err, storage.ErrConflict): // confirmed already (a second click): show its progress
	case err != nil:
		s.rosterFail(w, r, err)
		return
	default:
		s.rosterJobs.Start(id)
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/roster/imports/%d", id), http.StatusSeeOther)
}

// handleRosterJob is an import's page: progress while it runs (polled), the result after.
func (s *Server) handleRosterJob(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	j, err := s.rosterJobFor(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "roster", &pageData{Title: "名册导入", Data: &rosterPage{Job: &j}})
}
