package admin

// The claims API (DESIGN §11): the queue and one claim, transitions (claims.Transition says
// what is legal and for whom, storage who came first), the payout rules, and the mapping of
// claim errors to statuses. Payments are claims_payments.go, yearly figures claims_stats.go.

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"unionbot/admin/auth"
	"unionbot/claims"
	"unionbot/storage"
	"unionbot/web"
)

// claimView is a claim as officers see it; the JSON names are the API contract. The bank
// card is only ever masked here.
type claimView struct {
	Number         string          `json:"number"`
	Status         claims.Status   `json:"status"`
	StatusLabel    string          `json:"status_label"`
	Version        int             `json:"version"`
	MemberNo       string          `json:"member_no"`
	MemberName     string          `json:"member_name"`
	Unit           string          `json:"unit"`
	Plan           claims.Plan     `json:"plan"`
	PlanName       string          `json:"plan_name"`
	Hospital       string          `json:"hospital"`
	Diagnosis      string          `json:"diagnosis"`
	AdmittedOn     string          `json:"admitted_on"`
	DischargedOn   string          `json:"discharged_on"`
	TotalCost      claims.Fen      `json:"total_cost"`
	InsurancePaid  claims.Fen      `json:"insurance_paid"`
	OutOfPocket    claims.Fen      `json:"out_of_pocket"`
	Estimate       claims.Fen      `json:"estimate"`
	EstimateDetail claims.Estimate `json:"estimate_detail"`
	RulesVersion   int             `json:"rules_version"`
	ApprovedAmount *claims.Fen     `json:"approved_amount"`
	BankName       string          `json:"bank_name"`
	BankCardMasked string          `json:"bank_card_masked"`
	PaymentRef     string          `json:"payment_ref,omitempty"`
	Reason         string          `json:"reason,omitempty"`
	Missing        string          `json:"missing,omitempty"`
	SubmittedBy    string          `json:"submitted_by"`
	SubmittedAt    time.Time       `json:"submitted_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	// Detail only.
	Attachments []attachmentView `json:"attachments,omitempty"`
	History     []historyView    `json:"history,omitempty"`
	DuplicateOf string           `json:"duplicate_of,omitempty"`
	SameInvoice []string         `json:"same_invoice,omitempty"`
	// Allowed are the transitions the asking principal may make now.
	Allowed []claims.Status `json:"allowed_transitions"`
}

type attachmentView struct {
	ID       int64          `json:"id"`
	Kind     claims.DocKind `json:"kind"`
	KindName string         `json:"kind_name"`
	MediaID  int64          `json:"media_id"`
	SHA256   string         `json:"sha256"`
	AddedAt  time.Time      `json:"added_at"`
}

type historyView struct {
	At         time.Time     `json:"at"`
	Actor      string        `json:"actor"`
	From       claims.Status `json:"from,omitempty"`
	To         claims.Status `json:"to"`
	Amount     *claims.Fen   `json:"amount,omitempty"`
	Reason     string        `json:"reason,omitempty"`
	Missing    string        `json:"missing,omitempty"`
	PaymentRef string        `json:"payment_ref,omitempty"`
}

func viewClaim(c storage.Claim, p auth.Principal, detail bool) claimView {
	v := claimView{
		Number: c.Number, Status: c.Status, StatusLabel: c.Status.Label(), Version: c.Version, MemberNo: c.MemberNo,
		MemberName: c.MemberName, Unit: c.UnitName, Plan: c.Plan, PlanName: c.Plan.Name(), Hospital: c.Hospital,
		Diagnosis: c.Diagnosis, AdmittedOn: c.AdmittedOn.Format(time.DateOnly), DischargedOn: c.DischargedOn.Format(time.DateOnly),
		TotalCost: c.TotalCost, InsurancePaid: c.InsurancePaid, OutOfPocket: c.OutOfPocket, Estimate: c.Estimate.Amount,
		EstimateDetail: c.Estimate, RulesVersion: c.RulesVersion, BankName: c.BankName, BankCardMasked: c.BankCardMasked,
		PaymentRef: c.PaymentRef, Reason: c.Reason, Missing: c.Missing, SubmittedBy: c.SubmittedBy,
		SubmittedAt: c.SubmittedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(), Allowed: allowedTransitions(p, c.Status),
	}
	if c.ApprovedAmount > 0 {
		a := c.ApprovedAmount
		v.ApprovedAmount = &a
	}
	if !detail {
		return v
	}
	v.Attachments, v.History, v.SameInvoice = []attachmentView{}, []historyView{}, c.SameInvoice
	for _, a := range c.Attachments {
		v.Attachments = append(v.Attachments, attachmentView{ID: a.ID, Kind: a.Kind, KindName: a.Kind.Name(), MediaID: a.MediaID,
			SHA256: a.SHA256, AddedAt: a.AddedAt.UTC()})
	}
	for _, h := range c.History {
		hv := historyView{At: h.At.UTC(), Actor: h.Actor, From: h.From, To: h.To, Reason: h.Reason, Missing: h.Missing, PaymentRef: h.PaymentRef}
		if h.Amount > 0 {
			a := h.Amount
			hv.Amount = &a
		}
		v.History = append(v.History, hv)
	}
	if len(c.SameInvoice) > 0 {
		v.DuplicateOf = c.SameInvoice[0]
	}
	return v
}

// claimRoles are the claims roles a principal acts in.
func claimRoles(p auth.Principal) []claims.Role {
	var out []claims.Role
	for _, r := range []struct {
		have auth.Role
		as   claims.Role
	}{{auth.RoleReviewer, claims.RoleReviewer}, {auth.RoleAdmin, claims.RoleAdmin}, {auth.RoleFinance, claims.RoleFinance}} {
		if p.Has(r.have) {
			out = append(out, r.as)
		}
	}
	return out
}

// roleFor picks the role in which p makes from → to: the first of p's claims roles that may,
// else the first one (which storage refuses with the precise error).
func roleFor(p auth.Principal, from, to claims.Status) claims.Role {
	roles := claimRoles(p)
	for _, r := range roles {
		if claims.Transition(from, to, r) == nil {
			return r
		}
	}
	if len(roles) == 0 {
		return "officer"
	}
	return roles[0]
}

func allowedTransitions(p auth.Principal, from claims.Status) []claims.Status {
	out := []claims.Status{}
	if !auth.Can(p, auth.TransitionClaims) {
		return out
	}
	for _, to := range claims.Statuses {
		if claims.Transition(from, to, roleFor(p, from, to)) == nil {
			out = append(out, to)
		}
	}
	return out
}

// claimErr maps the claims errors to what the client is told: an illegal transition 422,
// a role that may not make it 403, a missing detail or invalid rules 422, a stale version
// 409; anything else is left to fail.
func claimErr(err error) error {
	var te *claims.TransitionError
	var de *claims.DetailsError
	var re *claims.RulesError
	var dup *storage.DuplicateClaimError
	switch {
	case errors.As(err, &te) && te.Kind == claims.ErrForbidden:
		return userErr(http.StatusForbidden, "transition_forbidden", te.Message()+"。")
	case errors.As(err, &te):
		return userErr(http.StatusUnprocessableEntity, "illegal_transition", te.Message()+"。")
	case errors.As(err, &de):
		return userErr(http.StatusUnprocessableEntity, "invalid", de.Message()+"。")
	case errors.As(err, &re):
		return userErr(http.StatusUnprocessableEntity, "invalid_rules", re.Message()+"。")
	case errors.As(err, &dup):
		return userErr(http.StatusConflict, "duplicate_claim", "该会员已有同一保障项目、同一入院日期的申请 "+dup.Number+"。")
	case errors.Is(err, storage.ErrStale):
		return userErr(http.StatusConflict, "stale_version", "该记录已被他人处理，请刷新后按最新状态重试。")
	}
	return err
}

// claimFor loads the claim of the URL and authorizes act on it: another unit's claim is
// ErrNotFound, exactly as a missing one.
func (s *Server) claimFor(r *http.Request, p auth.Principal, act auth.Action) (storage.Claim, error) {
	return scoped(r, p, act, s.db.ClaimByNumber, r.PathValue("number"), func(v storage.Claim) int64 { return v.UnitID })
}

// claimQuery is the parsed filter of the queue (console and API).
type claimQuery struct {
	Status, Unit, Plan, Year, Cursor string
	Order                            string // "" or "newest": newest first; "oldest": waiting longest first
}

func claimQueryOf(r *http.Request) claimQuery {
	q := r.URL.Query()
	return claimQuery{Status: q.Get("status"), Unit: strings.TrimSpace(q.Get("unit")), Plan: q.Get("plan"), Year: q.Get("year"), Cursor: q.Get("cursor"),
		Order: q.Get("order")}
}

// listClaims runs the queue within p's unit; next is the cursor of the following page.
func (s *Server) listClaims(ctx context.Context, p auth.Principal, q claimQuery, limit int) ([]storage.Claim, string, error) {
	f := storage.ClaimFilter{Limit: limit, Oldest: q.Order == "oldest"}
	if q.Order != "" && q.Order != "oldest" && q.Order != "newest" {
		return nil, "", userErr(http.StatusBadRequest, "bad_order", "order 应为 newest 或 oldest。")
	}
	if q.Status != "" {
		if f.Status = claims.Status(q.Status); !f.Status.Valid() {
			return nil, "", userErr(http.StatusBadRequest, "bad_status", "status 不是有效的申请状态。")
		}
	}
	if q.Plan != "" {
		if f.Plan = claims.Plan(q.Plan); !f.Plan.Valid() {
			return nil, "", userErr(http.StatusBadRequest, "bad_plan", "plan 应为 hospital、outpatient_special、critical_illness 或 accident。")
		}
	}
	if q.Year != "" {
		y, err := strconv.Atoi(q.Year)
		if err != nil || y < 2000 || y > 2200 {
			return nil, "", userErr(http.StatusBadRequest, "bad_year", "year 应为四位年份。")
		}
		f.Year = y
	}
	if q.Cursor != "" {
		n, err := strconv.ParseInt(q.Cursor, 10, 64)
		if err != nil || n <= 0 {
			return nil, "", userErr(http.StatusBadRequest, "bad_cursor", "cursor 无效。")
		}
		f.Before = n
	}
	var asked int64
	if q.Unit != "" {
		u, err := s.db.UnitByName(ctx, q.Unit)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, "", nil // no such unit: nothing to list
		}
		if err != nil {
			return nil, "", err
		}
		asked = u.ID
	}
	unit, ok := auth.UnitFilter(p, asked)
	if !ok {
		return nil, "", nil
	}
	f.UnitID = unit
	cs, next, err := s.db.ListClaims(ctx, f)
	if err != nil {
		return nil, "", err
	}
	cursor := ""
	if next != 0 {
		cursor = strconv.FormatInt(next, 10)
	}
	return cs, cursor, nil
}

func (s *Server) apiListClaims(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ReadClaims, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	limit, err := apiLimit(r, 50, 500)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cs, next, err := s.listClaims(r.Context(), p, claimQueryOf(r), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := list[claimView]{Items: []claimView{}, Next: next}
	for _, c := range cs {
		out.Items = append(out.Items, viewClaim(c, p, false))
	}
	web.JSON(w, http.StatusOK, out)
}

func (s *Server) apiClaim(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	c, err := s.claimFor(r, p, auth.ReadClaims)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, viewClaim(c, p, true))
}

// transitionBody is POST …/transitions; amount is a decimal string in yuan.
type transitionBody struct {
	To         claims.Status `json:"to"`
	Version    int           `json:"version"`
	Amount     claims.Fen    `json:"amount"`
	Reason     string        `json:"reason"`
	Missing    string        `json:"missing"`
	PaymentRef string        `json:"payment_ref"`
}

func (s *Server) apiClaimTransition(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	c, err := s.claimFor(r, p, auth.TransitionClaims)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body transitionBody
	if err := decodeBody(r, &body); err != nil { // amounts are decimal strings: a number is bad JSON here
		s.fail(w, r, err)
		return
	}
	c, err = s.transitionClaim(r, p, c, body.To, body.Version,
		claims.Details{Amount: body.Amount, Reason: body.Reason, Missing: body.Missing, PaymentRef: body.PaymentRef})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, viewClaim(c, p, true))
}

// transitionClaim moves c (already authorized for TransitionClaims) to to as p, the same
// call for the API and the console: the role comes from claimRoles, the version is the one
// the asker saw, and the answer is the claim as it now is. Errors are claimErr's.
func (s *Server) transitionClaim(r *http.Request, p auth.Principal, c storage.Claim, to claims.Status, version int, d claims.Details) (storage.Claim, error) {
	if !to.Valid() || to == claims.Submitted {
		return storage.Claim{}, userErr(http.StatusBadRequest, "bad_status", "to 不是可以设置的申请状态。")
	}
	if version <= 0 {
		return storage.Claim{}, userErr(http.StatusBadRequest, "version_required", "请提供申请当前的 version。")
	}
	c, err := s.db.TransitionClaim(r.Context(), c.Number, storage.TransitionRequest{
		To: to, Version: version, Role: roleFor(p, c.Status, to), Details: d,
	}, s.auditFor(r, p))
	if err != nil {
		return storage.Claim{}, claimErr(err)
	}
	return s.db.ClaimByNumber(r.Context(), c.Number)
}

// rulesView is GET/PUT /api/v1/claim-rules. Example is true until an admin saves the
// union's own rules; until then estimates are for reviewers only.
type rulesView struct {
	Version     int          `json:"version"`
	Example     bool         `json:"example"`
	ConfirmedBy string       `json:"confirmed_by"`
	SavedAt     *time.Time   `json:"saved_at,omitempty"`
	Rules       claims.Rules `json:"rules"`
}

func viewRules(rs storage.RuleSet) rulesView {
	v := rulesView{Version: rs.Version, Example: rs.Example(), ConfirmedBy: rs.ConfirmedBy, Rules: rs.Rules}
	if v.Rules.Bands == nil {
		v.Rules.Bands = []claims.Band{}
	}
	if v.Rules.Allowance == nil {
		v.Rules.Allowance = []claims.AllowanceTier{}
	}
	if !rs.SavedAt.IsZero() {
		t := rs.SavedAt.UTC()
		v.SavedAt = &t
	}
	return v
}

func (s *Server) apiClaimRules(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ReadClaims, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	rs, err := s.db.ClaimRules(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, viewRules(rs))
}

func (s *Server) apiSaveClaimRules(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageClaimRules, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	var body struct {
		Version *int          `json:"version"`
		Rules   *claims.Rules `json:"rules"`
	}
	if err := decodeBody(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.Version == nil || body.Rules == nil {
		s.fail(w, r, userErr(http.StatusBadRequest, "bad_body", "请提供 version（当前生效的版本号）和 rules。"))
		return
	}
	rs, err := s.db.SaveClaimRules(r.Context(), *body.Rules, *body.Version, p.Name, s.auditFor(r, p))
	if err != nil {
		s.fail(w, r, claimErr(err))
		return
	}
	web.JSON(w, http.StatusOK, viewRules(rs))
}
