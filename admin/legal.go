package admin

// The legal-aid API (DESIGN §11, issue 12): the queue (urgent first), one case with its
// evidence and history (internal notes included: the API is for officers only), assignment,
// transitions (legalaid.Transition says what is legal, storage who came first) and notes.
// Non-members' cases have no unit, so only county-level officers see them.

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"unionbot/admin/auth"
	"unionbot/claims"
	"unionbot/legalaid"
	"unionbot/storage"
	"unionbot/web"
)

// legalCaseView is a case as officers see it; the JSON names are the API contract.
type legalCaseView struct {
	Number              string              `json:"number"`
	Status              legalaid.Status     `json:"status"`
	StatusLabel         string              `json:"status_label"`
	Version             int                 `json:"version"`
	Type                legalaid.Type       `json:"type"`
	TypeLabel           string              `json:"type_label"`
	Stage               legalaid.Stage      `json:"stage,omitempty"`
	Urgent              bool                `json:"urgent"`
	CrisisCategory      string              `json:"crisis_category,omitempty"`
	Overdue             bool                `json:"overdue"`
	Assignee            *string             `json:"assignee"`
	Outcome             legalaid.Outcome    `json:"outcome,omitempty"`
	Reason              string              `json:"reason,omitempty"`
	Satisfaction        *int                `json:"satisfaction"`
	SatisfactionComment string              `json:"satisfaction_comment,omitempty"`
	MemberNo            string              `json:"member_no,omitempty"`
	Unit                string              `json:"unit,omitempty"`
	Employer            string              `json:"employer,omitempty"`
	Workplace           string              `json:"workplace,omitempty"`
	Workers             int                 `json:"workers,omitempty"`
	Amount              *claims.Fen         `json:"amount"`
	ContactName         string              `json:"contact_name,omitempty"`
	ContactPhoneMasked  string              `json:"contact_phone_masked,omitempty"`
	ContactTime         string              `json:"contact_time,omitempty"`
	SubmittedAt         time.Time           `json:"submitted_at"`
	UpdatedAt           time.Time           `json:"updated_at"`
	ContactedAt         *time.Time          `json:"contacted_at"`
	ClosedAt            *time.Time          `json:"closed_at"`
	Allowed             []legalaid.Status   `json:"allowed_transitions"`
	Detail              *legalCaseDetailOut `json:"detail,omitempty"`
}

// legalCaseDetailOut is what only one case's page carries.
type legalCaseDetailOut struct {
	Description  string              `json:"description"`
	ContactPhone string              `json:"contact_phone"`
	CrisisText   string              `json:"crisis_text,omitempty"`
	Evidence     []legalEvidenceView `json:"evidence"`
	History      []legalEventView    `json:"history"`
}

type legalEvidenceView struct {
	MediaID int64     `json:"media_id"`
	AddedAt time.Time `json:"added_at"`
}

type legalEventView struct {
	At      time.Time        `json:"at"`
	Actor   string           `json:"actor"`
	Kind    string           `json:"kind"`
	From    legalaid.Status  `json:"from,omitempty"`
	To      legalaid.Status  `json:"to,omitempty"`
	Outcome legalaid.Outcome `json:"outcome,omitempty"`
	Reason  string           `json:"reason,omitempty"`
	Text    string           `json:"text,omitempty"`
}

func viewLegalCase(c storage.LegalCase, p auth.Principal, now time.Time, detail bool) legalCaseView {
	v := legalCaseView{
		Number: c.Number, Status: c.Status, StatusLabel: c.Status.Label(), Version: c.Version, Type: c.Type,
		TypeLabel: c.Type.Label(), Stage: c.Stage, Urgent: c.Urgent, CrisisCategory: c.CrisisCategory,
		Overdue: legalaid.Overdue(c.Status, c.Urgent, c.SubmittedAt, now, legalaid.DefaultSLA, legalaid.DefaultUrgentSLA),
		Outcome: c.Outcome, Reason: c.Reason, SatisfactionComment: c.SatisfactionComment, MemberNo: c.MemberNo,
		Unit: c.UnitName, Employer: c.Employer, Workplace: c.Workplace, Workers: c.Workers, ContactName: c.ContactName,
		ContactPhoneMasked: c.ContactPhoneMasked, ContactTime: c.ContactTime, SubmittedAt: c.SubmittedAt.UTC(),
		UpdatedAt: c.UpdatedAt.UTC(), Allowed: []legalaid.Status{},
	}
	if c.Assignee != "" {
		a := c.Assignee
		v.Assignee = &a
	}
	if c.Satisfaction > 0 {
		n := c.Satisfaction
		v.Satisfaction = &n
	}
	if c.HasAmount {
		a := claims.Fen(c.Amount)
		v.Amount = &a
	}
	if !c.ContactedAt.IsZero() {
		t := c.ContactedAt.UTC()
		v.ContactedAt = &t
	}
	if !c.ClosedAt.IsZero() {
		t := c.ClosedAt.UTC()
		v.ClosedAt = &t
	}
	if auth.Can(p, auth.HandleLegalCases) {
		v.Allowed = append(v.Allowed, legalaid.Next(c.Status, legalRole(p))...)
	}
	if !detail {
		return v
	}
	d := &legalCaseDetailOut{Description: c.Description, ContactPhone: c.ContactPhone, CrisisText: c.CrisisText,
		Evidence: []legalEvidenceView{}, History: []legalEventView{}}
	for _, e := range c.Evidence {
		d.Evidence = append(d.Evidence, legalEvidenceView{MediaID: e.MediaID, AddedAt: e.AddedAt.UTC()})
	}
	for _, e := range c.Events {
		d.History = append(d.History, legalEventView{At: e.At.UTC(), Actor: e.Actor, Kind: e.Kind, From: e.From, To: e.To,
			Outcome: e.Outcome, Reason: e.Reason, Text: e.Text})
	}
	v.Detail = d
	return v
}

// legalRole is the legalaid role p acts in.
func legalRole(p auth.Principal) legalaid.Role {
	switch {
	case p.Has(auth.RoleLegal):
		return legalaid.RoleLegal
	case p.Has(auth.RoleAdmin):
		return legalaid.RoleAdmin
	}
	return "officer"
}

// legalErr maps the legal-aid errors to what the client is told.
func legalErr(err error) error {
	var te *legalaid.TransitionError
	var de *legalaid.DetailsError
	switch {
	case errors.As(err, &te) && te.Kind == legalaid.ErrForbidden:
		return userErr(http.StatusForbidden, "transition_forbidden", te.Message()+"。")
	case errors.As(err, &te):
		return userErr(http.StatusUnprocessableEntity, "illegal_transition", te.Message()+"。")
	case errors.As(err, &de):
		return userErr(http.StatusUnprocessableEntity, "invalid", de.Message()+"。")
	case errors.Is(err, storage.ErrStale):
		return userErr(http.StatusConflict, "stale_version", "该案件已被他人处理，请刷新后按最新状态重试。")
	case errors.Is(err, storage.ErrNotLegalOfficer):
		return userErr(http.StatusUnprocessableEntity, "not_legal_officer", "只能分派给能看到这个案件的在职法律援助工作人员。")
	}
	return err
}

// legalCaseFor loads the case of the URL and authorizes act on it: another unit's case (or,
// for a unit's officer, a non-member's) is ErrNotFound, exactly as a missing one.
func (s *Server) legalCaseFor(r *http.Request, p auth.Principal, act auth.Action) (storage.LegalCase, error) {
	return scoped(r, p, act, s.db.LegalCaseByNumber, r.PathValue("number"), func(v storage.LegalCase) int64 { return v.UnitID })
}

// legalNoUnit is the unit filter's value for non-members' cases (no unit).
const legalNoUnit = "none"

// legalFilter parses the queue's filter (console and API) within p's unit. unit is a
// grassroots union's name, or "none" for non-members' cases; empty is true when the filter
// asks for what p may not see or for a unit that does not exist (an empty list, as for
// claims).
func (s *Server) legalFilter(r *http.Request, p auth.Principal, limit int) (f storage.LegalCaseFilter, empty bool, err error) {
	q := r.URL.Query()
	f = storage.LegalCaseFilter{Limit: limit, Cursor: q.Get("cursor")}
	if st := q.Get("status"); st == "open" {
		f.Open = true
	} else if st != "" {
		if f.Status = legalaid.Status(st); !f.Status.Valid() {
			return f, false, userErr(http.StatusBadRequest, "bad_status", "status 不是有效的案件状态。")
		}
	}
	if t := q.Get("type"); t != "" {
		if f.Type = legalaid.Type(t); !f.Type.Valid() {
			return f, false, userErr(http.StatusBadRequest, "bad_type", "type 不是有效的案件类型。")
		}
	}
	switch q.Get("urgent") {
	case "":
	case "true", "1":
		u := true
		f.Urgent = &u
	case "false", "0":
		u := false
		f.Urgent = &u
	default:
		return f, false, userErr(http.StatusBadRequest, "bad_urgent", "urgent 应为 true 或 false。")
	}
	if a := strings.TrimSpace(q.Get("assignee")); a == "me" {
		f.Assignee = p.Name
	} else {
		f.Assignee = a
	}
	var asked int64
	switch name := strings.TrimSpace(q.Get("unit")); name {
	case "":
	case legalNoUnit:
		f.NoUnit = true
		return f, !p.CountyLevel(), nil
	default:
		u, err := s.db.UnitByName(r.Context(), name)
		if errors.Is(err, storage.ErrNotFound) {
			return f, true, nil
		}
		if err != nil {
			return f, false, err
		}
		asked = u.ID
	}
	unit, ok := auth.UnitFilter(p, asked)
	f.UnitID = unit
	return f, !ok, nil
}

// listLegalCases is the queue of the request's filter for p (nothing when the filter asks
// for what p may not see).
func (s *Server) listLegalCases(r *http.Request, p auth.Principal, limit int) ([]storage.LegalCase, string, error) {
	f, empty, err := s.legalFilter(r, p, limit)
	if err != nil || empty {
		return nil, "", err
	}
	cs, next, err := s.db.ListLegalCases(r.Context(), f)
	if errors.Is(err, storage.ErrInvalid) {
		err = userErr(http.StatusBadRequest, "bad_cursor", "cursor 无效。")
	}
	return cs, next, err
}

func (s *Server) apiListLegalCases(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ReadLegalCases, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	limit, err := apiLimit(r, 50, 500)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cs, next, err := s.listLegalCases(r, p, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.now()
	out := list[legalCaseView]{Items: []legalCaseView{}, Next: next}
	for _, c := range cs {
		out.Items = append(out.Items, viewLegalCase(c, p, now, false))
	}
	web.JSON(w, http.StatusOK, out)
}

func (s *Server) apiLegalCase(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	c, err := s.legalCaseFor(r, p, auth.ReadLegalCases)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The case shows the requester's phone in full (officers call them): the read is audited.
	e := s.auditFor(r, p)
	e.Action, e.Subject = "legal.view", "legal:"+c.Number
	if err := s.db.AddAudit(r.Context(), e); err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, viewLegalCase(c, p, s.now(), true))
}

type legalAssignBody struct {
	Officer string `json:"officer"`
	Version int    `json:"version"`
}

func (s *Server) apiAssignLegalCase(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	c, err := s.legalCaseFor(r, p, auth.HandleLegalCases)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body legalAssignBody
	if err := decodeBody(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if strings.TrimSpace(body.Officer) == "" {
		s.fail(w, r, userErr(http.StatusBadRequest, "officer_required", "请提供 officer（工作人员的用户名）。"))
		return
	}
	if _, err := s.db.AssignLegalCase(r.Context(), c.Number, strings.TrimSpace(body.Officer), body.Version, s.auditFor(r, p)); err != nil {
		s.fail(w, r, legalErr(err))
		return
	}
	s.writeLegalCase(w, r, p, c.Number)
}

type legalTransitionBody struct {
	To      legalaid.Status  `json:"to"`
	Version int              `json:"version"`
	Outcome legalaid.Outcome `json:"outcome"`
	Reason  string           `json:"reason"`
}

func (s *Server) apiTransitionLegalCase(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	c, err := s.legalCaseFor(r, p, auth.HandleLegalCases)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body legalTransitionBody
	if err := decodeBody(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if !body.To.Valid() || body.To == legalaid.Submitted {
		s.fail(w, r, userErr(http.StatusBadRequest, "bad_status", "to 不是可以设置的案件状态。"))
		return
	}
	if body.Outcome != "" && !body.Outcome.Valid() {
		s.fail(w, r, userErr(http.StatusBadRequest, "bad_outcome", "outcome 应为 mediated、arbitration、litigation、advised 或 declined。"))
		return
	}
	if body.Version <= 0 {
		s.fail(w, r, userErr(http.StatusBadRequest, "version_required", "请提供案件当前的 version。"))
		return
	}
	if _, err := s.db.TransitionLegalCase(r.Context(), c.Number, storage.LegalTransition{To: body.To, Version: body.Version,
		Role: legalRole(p), Details: legalaid.Details{Outcome: body.Outcome, Reason: body.Reason}}, s.auditFor(r, p)); err != nil {
		s.fail(w, r, legalErr(err))
		return
	}
	s.writeLegalCase(w, r, p, c.Number)
}

type legalNoteBody struct {
	Text string `json:"text"`
}

func (s *Server) apiLegalNote(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	c, err := s.legalCaseFor(r, p, auth.HandleLegalCases)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body legalNoteBody
	if err := decodeBody(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.db.AddLegalNote(r.Context(), c.Number, body.Text, s.auditFor(r, p)); err != nil {
		if errors.Is(err, storage.ErrInvalid) {
			err = userErr(http.StatusBadRequest, "bad_text", "备注不能为空，且不超过2000字。")
		}
		s.fail(w, r, err)
		return
	}
	s.writeLegalCase(w, r, p, c.Number)
}

func (s *Server) writeLegalCase(w http.ResponseWriter, r *http.Request, p auth.Principal, number string) {
	c, err := s.db.LegalCaseByNumber(r.Context(), number)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, viewLegalCase(c, p, s.now(), true))
}
