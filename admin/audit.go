package admin

import (
	"net/http"
	"slices"

	"strings"
	"time"

	"unionbot/admin/auth"
	"unionbot/storage"
)

// auditQuery is the audit log's filter, from the console's form or the API's query.
type auditQuery struct {
	Actor, Action, Subject, Since, Cursor string
}

func auditQueryOf(r *http.Request) auditQuery {
	q := r.URL.Query()
	return auditQuery{
		Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		Subject: strings.TrimSpace(q.Get("subject")), Since: strings.TrimSpace(q.Get("since")), Cursor: q.Get("cursor"),
	}
}

// parseSince reads an RFC 3339 time or a date (midnight in Asia/Shanghai).
func parseSince(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, shanghai)
	if err != nil {
		return time.Time{}, userErr(http.StatusBadRequest, "bad_since", "起始时间格式应为 2025-01-31 或 RFC 3339。")
	}
	return t, nil
}

func (s *Server) auditEntries(r *http.Request, p auth.Principal, q auditQuery, limit int) ([]storage.AuditEntry, string, error) {
	if err := auth.Authorize(p, auth.ReadAudit, auth.NoRecord); err != nil {
		return nil, "", err
	}
	since, err := parseSince(q.Since)
	if err != nil {
		return nil, "", err
	}
	var before int64
	if q.Cursor != "" {
		if before, err = decodeCursor(q.Cursor); err != nil {
			return nil, "", userErr(http.StatusBadRequest, "bad_cursor", "翻页参数无效。")
		}
	}
	es, err := s.db.AuditLog(r.Context(), storage.AuditFilter{
		Actor: q.Actor, Action: q.Action, Subject: q.Subject, Since: since, BeforeID: before, Limit: limit + 1,
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(es) > limit {
		es = es[:limit]
		next = encodeCursor(es[len(es)-1].ID)
	}
	return es, next, nil
}

type auditPage struct {
	Query   auditQuery
	Entries []auditView
	Next    string
	Actions []string
}

func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	q := auditQueryOf(r)
	es, next, err := s.auditEntries(r, p, q, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	actions := make([]string, 0, len(actionLabels))
	for a := range actionLabels {
		actions = append(actions, a)
	}
	slices.Sort(actions)
	s.render(w, r, "audit", &pageData{Title: "审计日志", Data: auditPage{Query: q, Entries: auditViews(es), Next: next, Actions: actions}})
}
