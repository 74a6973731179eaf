package admin

// 我的微信: an officer links their WeChat to their console account. The page shows a
// one-time code (15 minutes); the officer sends "干部绑定 CODE" to the official account, and
// urgent alerts (legal aid) reach them there (storage.LinkedOfficers).

import (
	"errors"
	"net/http"
	"time"

	"unionbot/admin/auth"
	"unionbot/storage"
)

type officerLinkPage struct {
	Linked     bool
	LinkedAt   time.Time
	OpenID     string // masked
	Code       string
	CodeExpiry string
}

func maskedOpenID(s string) string {
	if len(s) <= 8 {
		return "****"
	}
	return s[:4] + "****" + s[len(s)-4:]
}

// officerOnly refuses API tokens: a token has no WeChat to link.
func officerOnly(p auth.Principal) error {
	if err := auth.Authorize(p, auth.LinkOwnWeChat, auth.NoRecord); err != nil {
		return err
	}
	if p.Kind != auth.KindOfficer {
		return auth.ErrForbidden
	}
	return nil
}

func (s *Server) officerLinkPage(r *http.Request, p auth.Principal) (*officerLinkPage, error) {
	d := &officerLinkPage{}
	openID, at, err := s.db.OfficerWeChat(r.Context(), p.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		d.Linked, d.LinkedAt, d.OpenID = true, at, maskedOpenID(openID)
	}
	return d, nil
}

func (s *Server) handleOfficerLink(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := officerOnly(p); err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.officerLinkPage(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "officer_link", &pageData{Title: "我的微信", Data: d})
}

// handleOfficerLinkCode shows a new code on the page answering the POST, once.
func (s *Server) handleOfficerLinkCode(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := officerOnly(p); err != nil {
		s.fail(w, r, err)
		return
	}
	code, err := s.db.IssueOfficerLinkCode(r.Context(), p.ID, 0, s.auditFor(r, p))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.officerLinkPage(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Code, d.CodeExpiry = code.Code, code.ExpiresAt.In(shanghai).Format("15:04")
	s.render(w, r, "officer_link", &pageData{Title: "我的微信", Data: d})
}

func (s *Server) handleOfficerUnlink(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := officerOnly(p); err != nil {
		s.fail(w, r, err)
		return
	}
	err := s.db.UnlinkOfficerWeChat(r.Context(), p.ID, s.auditFor(r, p))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, "已解除微信关联，紧急提醒不再发到该微信。", "/admin/wechat")
}
