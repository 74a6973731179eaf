package admin

// Changing a member's status (在册 / 转出 / 退会) from the console and the API, with a reason
// that goes into the audit log.

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"unionbot/admin/auth"
	"unionbot/storage"
)

func memberStatusInput(status, reason string) (string, string, error) {
	status, reason = strings.TrimSpace(status), strings.TrimSpace(reason)
	switch status {
	case storage.StatusActive, storage.StatusTransferred, storage.StatusWithdrawn:
	default:
		return "", "", userErr(http.StatusUnprocessableEntity, "invalid_status", "状态应为 在册、转出 或 退会。")
	}
	if reason == "" || utf8.RuneCountInString(reason) > 200 {
		return "", "", userErr(http.StatusUnprocessableEntity, "invalid_reason", "请填写变更原因（不超过200字），它会记入审计日志。")
	}
	return status, reason, nil
}

func (s *Server) setMemberStatus(r *http.Request, p auth.Principal, status, reason string) (storage.Member, error) {
	m, err := s.memberFor(r, p, auth.ChangeMemberStatus)
	if err != nil {
		return m, err
	}
	status, reason, err = memberStatusInput(status, reason)
	if err != nil {
		return m, err
	}
	return s.db.SetMemberStatus(r.Context(), m.MemberNo, status, reason, s.auditFor(r, p))
}

func (s *Server) apiMemberStatus(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	var body struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	if err := decodeBody(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.setMemberStatus(r, p, body.Status, body.Reason)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeMember(w, r, http.StatusOK, m)
}

type memberStatusPage struct {
	Member   memberView
	Statuses []string
}

func (s *Server) renderMemberStatus(w http.ResponseWriter, r *http.Request, status int, m storage.Member, errMsg string) {
	v, err := s.viewMember(r.Context(), m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderStatus(w, r, status, "member_status", &pageData{Title: "变更会员状态", Error: errMsg,
		Data: &memberStatusPage{Member: v, Statuses: []string{storage.StatusActive, storage.StatusTransferred, storage.StatusWithdrawn}}})
}

func (s *Server) handleMemberStatusPage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	m, err := s.memberFor(r, p, auth.ChangeMemberStatus)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderMemberStatus(w, r, http.StatusOK, m, "")
}

func (s *Server) handleMemberStatus(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	m, err := s.setMemberStatus(r, p, r.PostFormValue("status"), r.PostFormValue("reason"))
	var he *httpError
	if errors.As(err, &he) && he.status == http.StatusUnprocessableEntity {
		s.renderMemberStatus(w, r, he.status, m, he.msg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, "会员状态已变更为“"+m.Status+"”（原因已记入审计日志）。", memberURL(m.MemberNo))
}
