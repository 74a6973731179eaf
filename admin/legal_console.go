package admin

// Console pages of legal aid: the queue (urgent first, overdue highlighted, filters) and a
// case with its evidence, history and internal notes, and the forms to assign, move and
// annotate it. They call the same storage methods and authorization as the API.

import (
	"html/template"
	"net/http"
	"slices"
	"strings"

	"unionbot/admin/auth"
	"unionbot/legalaid"
	"unionbot/storage"
)

type legalQueuePage struct {
	Cases                []legalCaseView
	Counts               storage.LegalQueueCounts
	Status, Type, Urgent string
	Unit                 string         // the unit filter: a union's name, "none" (non-members) or ""
	Units                []storage.Unit // the choices of a county-level officer
	Mine                 bool
	Next                 template.URL
	Types                []legalaid.Type
	Statuses             []legalaid.Status
}

func (s *Server) handleLegalCases(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ReadLegalCases, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	cs, next, err := s.listLegalCases(r, p, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	unit, _ := auth.UnitFilter(p, 0)
	counts, err := s.db.LegalCounts(r.Context(), unit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	d := legalQueuePage{Counts: counts, Status: q.Get("status"), Type: q.Get("type"), Urgent: q.Get("urgent"),
		Unit: q.Get("unit"), Mine: q.Get("assignee") == "me",
		Types: append(append([]legalaid.Type{}, legalaid.Types...), legalaid.Crisis), Statuses: legalaid.Statuses}
	if p.CountyLevel() { // a unit's officer sees their own unit's cases only: no choice to make
		if d.Units, err = s.db.Units(r.Context()); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if next != "" {
		d.Next = nextPage(r, next, "status", "type", "urgent", "assignee", "unit")
	}
	now := s.now()
	for _, c := range cs {
		d.Cases = append(d.Cases, viewLegalCase(c, p, now, false))
	}
	s.render(w, r, "legal_cases", &pageData{Title: "法律援助", Data: d})
}

type legalCasePage struct {
	Case     legalCaseView
	Outcomes []legalaid.Outcome
	CanAct   bool
}

func (s *Server) handleLegalCase(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.renderLegalCase(w, r, p, http.StatusOK, "")
}

func (s *Server) renderLegalCase(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, msg string) {
	c, err := s.legalCaseFor(r, p, auth.ReadLegalCases)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e := s.auditFor(r, p)
	e.Action, e.Subject = "legal.view", "legal:"+c.Number
	if err := s.db.AddAudit(r.Context(), e); err != nil {
		s.fail(w, r, err)
		return
	}
	d := legalCasePage{Case: viewLegalCase(c, p, s.now(), true), Outcomes: legalaid.Outcomes,
		CanAct: auth.Can(p, auth.HandleLegalCases)}
	s.renderStatus(w, r, status, "legal_case", &pageData{Title: "法律援助 " + c.Number, Error: msg, Data: d})
}

// handleLegalPhoto serves one evidence photo of a case the officer may read: the id is the
// medium's, and only evidence of this very case is served.
func (s *Server) handleLegalPhoto(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.servePhotoOf(w, r, func(id int64) (int64, error) {
		c, err := s.legalCaseFor(r, p, auth.ReadLegalCases)
		if err != nil {
			return 0, err
		}
		if !slices.ContainsFunc(c.Evidence, func(e storage.LegalEvidence) bool { return e.MediaID == id }) {
			return 0, errNotFound
		}
		return id, nil
	})
}

// legalAction runs a console form on the case and comes back to its page: with a flash when
// it worked, with the reason when the officer can fix it.
func (s *Server) legalAction(w http.ResponseWriter, r *http.Request, p auth.Principal, done string, do func(c storage.LegalCase) error) {
	c, err := s.legalCaseFor(r, p, auth.HandleLegalCases)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = legalErr(do(c))
	if he := classify(err); he != nil && he.status < 500 && he.status != http.StatusNotFound && he.status != http.StatusForbidden {
		s.renderLegalCase(w, r, p, he.status, he.msg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, done, "/admin/legal/"+c.Number)
}

func formVersion(r *http.Request) int {
	n := 0
	for _, ch := range strings.TrimSpace(r.PostFormValue("version")) {
		if ch < '0' || ch > '9' {
			return 0
		}
		n = n*10 + int(ch-'0')
	}
	return n
}

func (s *Server) handleLegalAssign(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.legalAction(w, r, p, "已分派。", func(c storage.LegalCase) error {
		officer := strings.TrimSpace(r.PostFormValue("officer"))
		if officer == "me" || officer == "" {
			officer = p.Name
		}
		_, err := s.db.AssignLegalCase(r.Context(), c.Number, officer, formVersion(r), s.auditFor(r, p))
		return err
	})
}

func (s *Server) handleLegalTransition(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	to := legalaid.Status(r.PostFormValue("to"))
	s.legalAction(w, r, p, "案件已改为「"+to.Label()+"」，申请人会收到通知。", func(c storage.LegalCase) error {
		if !to.Valid() || to == legalaid.Submitted {
			return userErr(http.StatusBadRequest, "bad_status", "请选择要改成的状态。")
		}
		v := formVersion(r)
		if v == 0 {
			v = -1 // a form always carries the version it showed
		}
		_, err := s.db.TransitionLegalCase(r.Context(), c.Number, storage.LegalTransition{To: to, Version: v,
			Role: legalRole(p), Details: legalaid.Details{Outcome: legalaid.Outcome(r.PostFormValue("outcome")),
				Reason: r.PostFormValue("reason")}}, s.auditFor(r, p))
		return err
	})
}

func (s *Server) handleLegalNote(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.legalAction(w, r, p, "备注已保存（申请人看不到）。", func(c storage.LegalCase) error {
		err := s.db.AddLegalNote(r.Context(), c.Number, r.PostFormValue("text"), s.auditFor(r, p))
		if err != nil && strings.Contains(err.Error(), storage.ErrInvalid.Error()) {
			return userErr(http.StatusBadRequest, "bad_text", "备注不能为空，且不超过2000字。")
		}
		return err
	})
}
