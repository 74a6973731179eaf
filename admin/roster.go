package admin

// 名册导入: the roster upload, with the importer the command line uses (package roster).
// The console first checks the file (a dry run, the report as a table: row, column, reason)
// and keeps it in a temporary file for an hour; 确认导入 then imports that same file. The API
// takes the file and dry_run in one request.

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"unionbot/admin/auth"
	"unionbot/roster"
	"unionbot/web"
)

// maxRosterBytes bounds an uploaded roster (a 100,000-member XLSX is about 8 MB).
const maxRosterBytes = 32 << 20

// rosterKeep is how long an uploaded roster waits for 确认导入.
const rosterKeep = time.Hour

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

func (s *Server) rosterPath(token, ext string) string {
	dir := s.rosterDir
	if dir == "" {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "unionbot-roster-"+token+ext)
}

var rosterToken = regexp.MustCompile(`^[0-9a-f]{32}$`)

// saveRoster copies an upload to a temporary file and returns its token and extension.
// Rosters left by earlier uploads for longer than rosterKeep are removed.
func (s *Server) saveRoster(f multipart.File, name string) (token, ext string, err error) {
	ext = strings.ToLower(filepath.Ext(name))
	switch ext {
	case ".csv", ".xlsx":
	case ".xls":
		return "", "", userErr(http.StatusUnprocessableEntity, "bad_file", "不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV 后再上传。")
	default:
		return "", "", userErr(http.StatusUnprocessableEntity, "bad_file", "请上传 CSV 或 XLSX 文件。")
	}
	if old, _ := filepath.Glob(s.rosterPath("*", "")); len(old) > 0 {
		for _, p := range old {
			if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > rosterKeep {
				os.Remove(p)
			}
		}
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	token = hex.EncodeToString(b[:])
	out, err := os.OpenFile(s.rosterPath(token, ext), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", "", fmt.Errorf("keep roster: %w", err)
	}
	n, err := io.Copy(out, io.LimitReader(f, maxRosterBytes+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > maxRosterBytes {
		err = userErr(http.StatusRequestEntityTooLarge, "file_too_large", "文件太大（最大 32 MB）。")
	}
	if err != nil {
		os.Remove(s.rosterPath(token, ext))
		return "", "", err
	}
	return token, ext, nil
}

// importRoster runs the importer on a kept file; a real import is audited.
func (s *Server) importRoster(r *http.Request, p auth.Principal, path string, dry bool) (roster.Report, error) {
	im := &roster.Importer{Store: s.db, Opts: roster.Options{DryRun: dry, Now: s.now}}
	rep, err := im.ImportFile(r.Context(), path)
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
	dry := false
	switch v := r.FormValue("dry_run"); v {
	case "", "false", "0":
	case "true", "1":
		dry = true
	default:
		s.fail(w, r, userErr(http.StatusBadRequest, "bad_dry_run", "dry_run 应为 true 或 false。"))
		return
	}
	token, ext, err := s.saveRoster(f, hdr.Filename)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer os.Remove(s.rosterPath(token, ext))
	rep, err := s.importRoster(r, p, s.rosterPath(token, ext), dry)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, rosterResultOf(rep))
}

// Console.

type rosterPage struct {
	Report   *rosterResult
	FileName string
	Token    string
	Ext      string
	Applied  bool
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
	token, ext, err := s.saveRoster(f, hdr.Filename)
	if err != nil {
		s.rosterFail(w, r, err)
		return
	}
	rep, err := s.importRoster(r, p, s.rosterPath(token, ext), true)
	if err != nil {
		os.Remove(s.rosterPath(token, ext))
		s.rosterFail(w, r, err)
		return
	}
	res := rosterResultOf(rep)
	d := &rosterPage{Report: &res, FileName: filepath.Base(hdr.Filename), Token: token, Ext: ext}
	if res.Accepted == 0 {
		os.Remove(s.rosterPath(token, ext))
		d.Token = ""
	}
	s.render(w, r, "roster", &pageData{Title: "名册导入", Data: d})
}

// handleRosterApply imports the file the dry run checked.
func (s *Server) handleRosterApply(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ImportRoster, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	token, ext := r.PostFormValue("token"), r.PostFormValue("ext")
	if !rosterToken.MatchString(token) || (ext != ".csv" && ext != ".xlsx") {
		s.rosterFail(w, r, userErr(http.StatusBadRequest, "bad_token", "上传记录无效，请重新上传名册。"))
		return
	}
	path := s.rosterPath(token, ext)
	if _, err := os.Stat(path); err != nil {
		s.rosterFail(w, r, userErr(http.StatusGone, "expired", "上传的文件已过期（保留1小时）或已导入，请重新上传。"))
		return
	}
	defer os.Remove(path)
	rep, err := s.importRoster(r, p, path, false)
	if err != nil {
		s.rosterFail(w, r, err)
		return
	}
	res := rosterResultOf(rep)
	s.render(w, r, "roster", &pageData{Title: "名册导入", Flash: fmt.Sprintf("导入完成：新增 %d，更新 %d，未变化 %d，拒绝 %d。", res.Inserted, res.Updated, res.Unchanged, len(res.Rejected)),
		Data: &rosterPage{Report: &res, Applied: true}})
}
