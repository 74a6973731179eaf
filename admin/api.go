package admin

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"unionbot/admin/auth"
	"unionbot/storage"
	"unionbot/web"
)

// list is the shape of every API list (DESIGN §11): pass next back as ?cursor=.
type list[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

func apiLimit(r *http.Request, def, maxN int) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxN {
		return 0, userErr(http.StatusBadRequest, "bad_limit", "limit 应为 1 到 "+strconv.Itoa(maxN)+" 之间的整数。")
	}
	return n, nil
}

// decodeBody reads a small JSON body into v; an empty body leaves v as it is.
func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	if err != nil {
		return userErr(http.StatusBadRequest, "bad_body", "无法读取请求内容。")
	}
	if len(b) > 64<<10 {
		return userErr(http.StatusBadRequest, "body_too_large", "请求内容太大。")
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return userErr(http.StatusBadRequest, "bad_json", "请求内容不是有效的 JSON。")
	}
	return nil
}

func (s *Server) apiListMembers(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ReadMembers, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	limit, err := apiLimit(r, 50, 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	ms, next, err := s.searchMembers(r.Context(), p, memberSearch{Text: strings.TrimSpace(q.Get("q")), Unit: q.Get("unit"), Cursor: q.Get("cursor")}, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := list[memberView]{Items: []memberView{}, Next: next}
	for _, m := range ms {
		v, err := s.viewMember(r.Context(), m)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out.Items = append(out.Items, v)
	}
	web.JSON(w, http.StatusOK, out)
}

func (s *Server) writeMember(w http.ResponseWriter, r *http.Request, status int, m storage.Member) {
	v, err := s.viewMember(r.Context(), m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, status, v)
}

func (s *Server) apiMember(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	m, err := s.memberFor(r, p, auth.ReadMembers)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeMember(w, r, http.StatusOK, m)
}

func (s *Server) apiUnlockBinding(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	m, err := s.memberFor(r, p, auth.HelpBinding)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if m, _, err = s.db.UnlockBinding(r.Context(), m.MemberNo, s.auditFor(r, p)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeMember(w, r, http.StatusOK, m)
}

// bindingCodeBody is the answer of POST …/binding-code: the code is shown this once.
type bindingCodeBody struct {
	MemberNo  string    `json:"member_no"`
	Code      string    `json:"code"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) apiBindingCode(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	m, err := s.memberFor(r, p, auth.HelpBinding)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	code, err := s.issueCode(r, p, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusCreated, bindingCodeBody{MemberNo: m.MemberNo, Code: code.Code, ExpiresAt: code.ExpiresAt.UTC()})
}

func (s *Server) apiUnbind(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	m, err := s.memberFor(r, p, auth.HelpBinding)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if err := decodeBody(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	reason, err := unbindReason(body.Reason)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if m, err = s.unbind(r, p, m, reason); err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeMember(w, r, http.StatusOK, m)
}

// auditItem is one audit entry in the API.
type auditItem struct {
	ID         int64             `json:"id"`
	At         time.Time         `json:"at"`
	Actor      string            `json:"actor"`
	Action     string            `json:"action"`
	Subject    string            `json:"subject"`
	Detail     string            `json:"detail"`
	RequestID  string            `json:"request_id,omitempty"`
	ClientAddr string            `json:"client_addr,omitempty"`
	Before     map[string]string `json:"before,omitempty"`
	After      map[string]string `json:"after,omitempty"`
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	limit, err := apiLimit(r, 50, 500)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	es, next, err := s.auditEntries(r, p, auditQueryOf(r), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := list[auditItem]{Items: make([]auditItem, len(es)), Next: next}
	for i, e := range es {
		out.Items[i] = auditItem{ID: e.ID, At: e.At.UTC(), Actor: e.Actor, Action: e.Action, Subject: e.Subject,
			Detail: e.Detail, RequestID: e.RequestID, ClientAddr: e.ClientAddr, Before: e.Before, After: e.After}
	}
	web.JSON(w, http.StatusOK, out)
}
