package admin

// Console pages of mutual-aid claims for reviewers: the queue, a claim with its estimate,
// warnings, history and photo viewer, the transition forms, the photos themselves (through
// an authorized endpoint), and the payout rules editor. They translate forms into the same
// storage calls and authorization as the API (claims.go): claimFor, listClaims,
// transitionClaim, SaveClaimRules.

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"unionbot/admin/auth"
	"unionbot/claims"
	"unionbot/parse"
	"unionbot/pii"
	"unionbot/storage"
)

// claimItem is a claim in the console's queue.
type claimItem struct {
	claimView
	Member  string // masked name
	Waiting string // how long officers have let it wait, for statuses they act on
}

type claimsQueuePage struct {
	Claims   []claimItem
	Query    claimQuery
	Statuses []claims.Status
	Plans    []claims.Plan
	Years    []int
	Units    []storage.Unit // county officers only
	Scoped   string         // the officer's own unit
	Next     template.URL
	CanRules bool
}

// waitingOn are the statuses in which an officer, not the member, has the next move.
var waitingOn = []claims.Status{claims.Submitted, claims.Reviewing, claims.Approved}

func (s *Server) handleClaims(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ReadClaims, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	q := claimQueryOf(r)
	cs, next, err := s.listClaims(r.Context(), p, q, 30)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.now()
	d := claimsQueuePage{Query: q, Statuses: claims.Statuses, Plans: claims.Plans, Scoped: p.UnitName,
		CanRules: auth.Can(p, auth.ManageClaimRules)}
	for y := now.In(shanghai).Year(); y >= now.In(shanghai).Year()-4; y-- {
		d.Years = append(d.Years, y)
	}
	if p.CountyLevel() {
		if d.Units, err = s.db.Units(r.Context()); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if next != "" {
		d.Next = nextPage(r, next, "status", "unit", "plan", "year", "order")
	}
	for _, c := range cs {
		it := claimItem{claimView: viewClaim(c, p, false), Member: pii.MaskName(c.MemberName)}
		if slices.Contains(waitingOn, c.Status) {
			it.Waiting = waited(now.Sub(c.UpdatedAt))
		}
		d.Claims = append(d.Claims, it)
	}
	s.render(w, r, "claims", &pageData{Title: "互助金申请", Data: d})
}

// nextPage is the URL of a list's next page: r's path with cursor and the filters keys
// kept. It is a template.URL so that the template does not escape its query as one value.
func nextPage(r *http.Request, cursor string, keys ...string) template.URL {
	q := r.URL.Query()
	v := url.Values{"cursor": {cursor}}
	for _, k := range keys {
		if q.Get(k) != "" {
			v.Set(k, q.Get(k))
		}
	}
	return template.URL(r.URL.Path + "?" + v.Encode())
}

// waited says how long something has waited, as a reviewer reads it at a glance.
func waited(d time.Duration) string {
	switch {
	case d < time.Hour:
		return "不到1小时"
	case d < 24*time.Hour:
		return strconv.Itoa(int(d.Hours())) + "小时"
	}
	return strconv.Itoa(int(d.Hours()/24)) + "天"
}

// photoView is one attachment in the viewer.
type photoView struct {
	URL, Caption string
}

// photoGroup is the photos of one document kind.
type photoGroup struct {
	Kind   string
	Photos []photoView
}

// timelineStep is one line of a claim's history.
type timelineStep struct {
	At     time.Time
	Actor  string
	Text   string
	Detail string
}

// transitionForm is one form of the 办理 card: its target and its wording.
type transitionForm struct {
	To     claims.Status
	Button string
	Help   string
	// The fields as the officer typed them in a refused form; the approval's amount starts
	// as the estimate.
	Amount, Reason, MissingDoc, Missing, PaymentRef string
}

type claimPage struct {
	Claim        claimView
	Member       string // masked name
	Estimate     claimEstimate
	Photos       []photoGroup
	PhotoCount   int
	Timeline     []timelineStep
	Forms        []transitionForm
	Missing      []claims.DocKind // required documents without a photo
	Docs         []claims.DocKind // every document kind of the plan, for 补件
	SameInvoice  []string
	Duplicates   []claimItem // the member's other claims of the same plan and admission date
	OtherClaims  []claimItem // the member's other claims this officer may see
	ApprovedDiff string      // approved amount minus the estimate, when both are known
}

// claimEstimate is the rule-based estimate as the page explains it.
type claimEstimate struct {
	claims.Estimate
	Rules   string // 示例规则 / 第 N 版
	Example bool
	Refusal string
}

func (s *Server) handleClaim(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.renderClaim(w, r, p, http.StatusOK, "", nil)
}

// renderClaim shows the claim of the URL with status and msg (a refused form), keeping the
// form's answers in form.
func (s *Server) renderClaim(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, msg string, form map[string]string) {
	c, err := s.claimFor(r, p, auth.ReadClaims)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.claimPageData(r, p, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for i, f := range d.Forms {
		if f.To == claims.Approved {
			d.Forms[i].Amount = yuanField(c.Estimate.Amount, true)
		}
		if f.To == claims.NeedMore && len(d.Missing) > 0 {
			d.Forms[i].MissingDoc = string(d.Missing[0]) // the first required document without a photo
		}
		if form != nil && string(f.To) == form["to"] {
			d.Forms[i].Amount, d.Forms[i].Reason, d.Forms[i].PaymentRef = form["amount"], form["reason"], form["payment_ref"]
			d.Forms[i].MissingDoc, d.Forms[i].Missing = form["missing_doc"], form["missing"]
		}
	}
	e := s.auditFor(r, p)
	e.Action, e.Subject = "claim.view", "claim:"+c.Number
	if err := s.db.AddAudit(r.Context(), e); err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderStatus(w, r, status, "claim", &pageData{Title: "互助金申请 " + c.Number, Error: msg, Data: d})
}

func (s *Server) claimPageData(r *http.Request, p auth.Principal, c storage.Claim) (*claimPage, error) {
	v := viewClaim(c, p, true)
	d := &claimPage{Claim: v, Member: pii.MaskName(c.MemberName), SameInvoice: c.SameInvoice, Docs: claims.RequiredDocs(c.Plan),
		Estimate: claimEstimate{Estimate: c.Estimate, Example: c.RulesVersion == 0, Refusal: c.Estimate.Refusal.Text()}}
	d.Estimate.Rules = "第 " + strconv.Itoa(c.RulesVersion) + " 版规则"
	if d.Estimate.Example {
		d.Estimate.Rules = "示例规则（管理员尚未确认本会规则）"
	}
	if c.ApprovedAmount > 0 && c.ApprovedAmount != c.Estimate.Amount {
		diff := c.ApprovedAmount - c.Estimate.Amount
		sign := "多"
		if diff < 0 {
			sign, diff = "少", -diff
		}
		d.ApprovedDiff = "比预估" + sign + " " + parse.FormatMoney(int64(diff))
	}

	// Photos by document kind, the plan's own kinds first, in the order the chat asks them.
	kinds := claims.RequiredDocs(c.Plan)
	var have []claims.DocKind
	for _, a := range c.Attachments {
		have = append(have, a.Kind)
		if !slices.Contains(kinds, a.Kind) {
			kinds = append(kinds, a.Kind)
		}
	}
	d.Missing = claims.MissingDocs(c.Plan, have)
	for _, k := range kinds {
		g := photoGroup{Kind: k.Name()}
		for _, a := range c.Attachments {
			if a.Kind == k {
				g.Photos = append(g.Photos, photoView{
					URL:     "/admin/claims/" + url.PathEscape(c.Number) + "/photos/" + strconv.FormatInt(a.ID, 10),
					Caption: k.Name()})
			}
		}
		if len(g.Photos) > 0 {
			d.Photos = append(d.Photos, g)
			d.PhotoCount += len(g.Photos)
		}
	}
	d.Timeline = claimTimeline(c)

	for _, to := range v.Allowed {
		d.Forms = append(d.Forms, transitionFormFor(c.Status, to))
	}

	// The member's other claims: those this officer may see, the duplicates flagged.
	others, _, err := s.db.ListClaims(r.Context(), storage.ClaimFilter{MemberID: c.MemberID, Limit: 20})
	if err != nil {
		return nil, err
	}
	for _, o := range others {
		if o.ID == c.ID || !auth.Sees(p, o.UnitID) {
			continue
		}
		it := claimItem{claimView: viewClaim(o, p, false), Member: d.Member}
		if o.Plan == c.Plan && o.AdmittedOn.Equal(c.AdmittedOn) && o.Status != claims.Withdrawn {
			d.Duplicates = append(d.Duplicates, it)
		}
		d.OtherClaims = append(d.OtherClaims, it)
	}
	return d, nil
}

// transitionFormFor is the wording of the form that moves a claim from from to to.
func transitionFormFor(from, to claims.Status) transitionForm {
	f := transitionForm{To: to, Button: "改为「" + to.Label() + "」"}
	switch {
	case to == claims.Reviewing && from == claims.NeedMore:
		f.Button, f.Help = "材料已收到，继续审核", "会员已在窗口或线下交来所需材料时使用；会员在微信里补充后会自动回到审核中。"
	case to == claims.Reviewing:
		f.Button, f.Help = "开始审核", "会员会收到“正在审核”的通知。"
	case to == claims.NeedMore:
		f.Button, f.Help = "要求补充材料", "会员会收到通知，在微信里发照片补充；写清楚缺什么、有什么要求。"
	case to == claims.Approved && from == claims.PaymentFailed:
		f.Button, f.Help = "银行卡已更正，重新发放", "会员已提供正确的银行卡信息时使用，金额不变。"
	case to == claims.Approved:
		f.Button, f.Help = "审核通过", "核定金额已按规则预估填好，可按实际审核结果修改。"
	case to == claims.Rejected:
		f.Button, f.Help = "不予通过", "原因会告知会员，请写清楚依据。"
	case to == claims.Paid:
		f.Button, f.Help = "标记已发放", "填写银行流水号；会员会收到到账通知。"
	case to == claims.PaymentFailed:
		f.Button, f.Help = "标记发放失败", "如户名不符、卡号错误；会员会收到通知并可在微信里更正银行卡。"
	}
	return f
}

// actorName is an audit actor as officers read it.
func actorName(actor string) string {
	kind, name, _ := strings.Cut(actor, ":")
	switch kind {
	case "member":
		return "会员本人"
	case "officer":
		return name
	case "token":
		return "接口 " + name
	}
	return actor
}

// claimTimeline is the claim's history with the photos added after submission (补件), oldest
// first.
func claimTimeline(c storage.Claim) []timelineStep {
	var out []timelineStep
	for _, h := range c.History {
		st := timelineStep{At: h.At, Actor: actorName(h.Actor)}
		if h.From == "" {
			st.Text = "提交申请"
			if !strings.HasPrefix(h.Actor, "member:") {
				st.Text = "代会员录入申请"
			}
		} else {
			st.Text = h.From.Label() + " → " + h.To.Label()
		}
		var detail []string
		if h.Amount > 0 {
			detail = append(detail, "核定金额 "+parse.FormatMoney(int64(h.Amount)))
		}
		if h.Missing != "" {
			detail = append(detail, "需补充："+h.Missing)
		}
		if h.Reason != "" {
			detail = append(detail, "原因："+h.Reason)
		}
		if h.PaymentRef != "" {
			detail = append(detail, "流水号 "+h.PaymentRef)
		}
		st.Detail = strings.Join(detail, "；")
		out = append(out, st)
	}
	// Photos added later than the submission, one step per batch.
	var batch *timelineStep
	for _, a := range c.Attachments {
		if !a.AddedAt.After(c.SubmittedAt) {
			continue
		}
		if batch == nil || !batch.At.Equal(a.AddedAt) {
			out = append(out, timelineStep{At: a.AddedAt, Text: "补充材料"})
			batch = &out[len(out)-1]
		}
		if batch.Detail != "" {
			batch.Detail += "、"
		}
		batch.Detail += a.Kind.Name()
	}
	slices.SortStableFunc(out, func(a, b timelineStep) int { return a.At.Compare(b.At) })
	return out
}

// handleClaimTransition is the 办理 forms: the same call as POST /api/v1/claims/{number}/transitions.
// A refusal the officer can act on (stale version, illegal move, missing detail) is shown on
// the claim's page with what they typed.
func (s *Server) handleClaimTransition(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	c, err := s.claimFor(r, p, auth.TransitionClaims)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	to := claims.Status(r.PostFormValue("to"))
	form := map[string]string{"to": string(to)}
	for _, k := range []string{"amount", "reason", "missing_doc", "missing", "payment_ref"} {
		form[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	d := claims.Details{Reason: form["reason"], PaymentRef: form["payment_ref"], Missing: missingText(form["missing_doc"], form["missing"])}
	if form["amount"] != "" && to == claims.Approved {
		fen, perr := parse.Money(form["amount"])
		if perr != nil {
			s.renderClaim(w, r, p, http.StatusUnprocessableEntity, "核定金额："+perr.Error(), form)
			return
		}
		d.Amount = claims.Fen(fen)
	}
	version := formVersion(r)
	if version == 0 {
		version = -1 // a form always carries the version it showed
	}
	_, err = s.transitionClaim(r, p, c, to, version, d)
	if he := classify(err); he != nil && he.status < 500 && he.status != http.StatusNotFound && he.status != http.StatusForbidden {
		s.renderClaim(w, r, p, he.status, he.msg, form)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, "申请已改为「"+to.Label()+"」，会员会收到通知。", "/admin/claims/"+url.PathEscape(c.Number))
}

// missingText is what the member is told to send: the document kind chosen and the
// reviewer's words about it.
func missingText(doc, text string) string {
	k := claims.DocKind(doc)
	switch {
	case !k.Valid():
		return text
	case text == "":
		return k.Name()
	}
	return k.Name() + "：" + text
}

// handleClaimPhoto serves one photo of a claim the officer may read: the id is the
// attachment's, and only an attachment of this very claim is served.
func (s *Server) handleClaimPhoto(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.servePhotoOf(w, r, func(id int64) (int64, error) {
		c, err := s.claimFor(r, p, auth.ReadClaims)
		if err != nil {
			return 0, err
		}
		i := slices.IndexFunc(c.Attachments, func(a storage.ClaimAttachment) bool { return a.ID == id })
		if i < 0 {
			return 0, errNotFound
		}
		return c.Attachments[i].MediaID, nil
	})
}

// rulesPage is the payout rules editor.
type rulesPage struct {
	Set       storage.RuleSet
	Example   bool
	Bands     []bandRow
	Allowance []allowanceRow
	Fields    map[string]string // the scalar fields as typed or as stored
}

type bandRow struct {
	N           int // 1-based, for the label
	UpTo, Ratio string
}
type allowanceRow struct{ Years, PerDay string }

// spareRows are the empty rows offered below the bands and allowance tiers in force.
const spareRows = 2

// yuanField shows an amount in a form field: "5000", "5000.50", "" for none.
func yuanField(f claims.Fen, zeroEmpty bool) string {
	if f == 0 && zeroEmpty {
		return ""
	}
	return strings.TrimSuffix(f.String(), ".00")
}

func rulesForm(rs storage.RuleSet) rulesPage {
	r := rs.Rules
	d := rulesPage{Set: rs, Example: rs.Example(), Fields: map[string]string{
		"waiting_days": strconv.Itoa(r.WaitingDays), "claim_window_days": strconv.Itoa(r.ClaimWindowDays),
		"deductible": yuanField(r.Deductible, false), "per_claim_cap": yuanField(r.PerClaimCap, false),
		"per_year_cap": yuanField(r.PerYearCap, false), "allowance_max_days": strconv.Itoa(r.AllowanceMaxDays),
		"min_per_stay": yuanField(r.MinPerStay, false),
	}}
	for _, b := range r.Bands {
		d.Bands = append(d.Bands, bandRow{N: len(d.Bands) + 1, UpTo: yuanField(b.UpTo, true), Ratio: strconv.Itoa(b.RatioPct)})
	}
	for _, t := range r.Allowance {
		d.Allowance = append(d.Allowance, allowanceRow{Years: strconv.Itoa(t.MinYears), PerDay: yuanField(t.PerDay, false)})
	}
	for range spareRows {
		d.Bands = append(d.Bands, bandRow{N: len(d.Bands) + 1})
		d.Allowance = append(d.Allowance, allowanceRow{})
	}
	return d
}

func (s *Server) handleClaimRules(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageClaimRules, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	rs, err := s.db.ClaimRules(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "claim_rules", &pageData{Title: "互助金规则", Data: rulesForm(rs)})
}

// handleSaveClaimRules saves the form as the next version of the rules, through the same
// validation and storage call as PUT /api/v1/claim-rules.
func (s *Server) handleSaveClaimRules(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageClaimRules, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	rules, err := rulesOfForm(r)
	if err == nil {
		_, err = s.db.SaveClaimRules(r.Context(), rules, formVersion(r), p.Name, s.auditFor(r, p))
		err = claimErr(err)
	}
	if he := classify(err); he != nil && he.status < 500 {
		cur, lerr := s.db.ClaimRules(r.Context())
		if lerr != nil {
			s.fail(w, r, lerr)
			return
		}
		d := rulesForm(cur)
		d.Fields, d.Bands, d.Allowance = map[string]string{}, nil, nil // show what was typed
		for k := range rulesForm(cur).Fields {
			d.Fields[k] = r.PostFormValue(k)
		}
		for i, up := range r.PostForm["band_up_to"] {
			d.Bands = append(d.Bands, bandRow{N: i + 1, UpTo: up, Ratio: formAt(r, "band_ratio", i)})
		}
		for i, y := range r.PostForm["allowance_years"] {
			d.Allowance = append(d.Allowance, allowanceRow{Years: y, PerDay: formAt(r, "allowance_per_day", i)})
		}
		s.renderStatus(w, r, he.status, "claim_rules", &pageData{Title: "互助金规则", Error: he.msg, Data: d})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, "规则已保存。此后提交的申请按新规则预估，会员在提交前能看到预估金额。", "/admin/claim-rules")
}

func formAt(r *http.Request, key string, i int) string {
	if vs := r.PostForm[key]; i < len(vs) {
		return strings.TrimSpace(vs[i])
	}
	return ""
}

// rulesOfForm reads the editor's fields; a value that is not a number names its field.
func rulesOfForm(r *http.Request) (claims.Rules, error) {
	var rules claims.Rules
	var bad error
	days := func(key, label string) int {
		v := strings.TrimSpace(r.PostFormValue(key))
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil && bad == nil {
			bad = userErr(http.StatusUnprocessableEntity, "invalid_rules", "「"+label+"」应为整数天数。")
		}
		return n
	}
	money := func(v, label string) claims.Fen {
		v = strings.TrimSpace(v)
		if v == "" {
			return 0
		}
		fen, err := parse.Money(v)
		if err != nil && bad == nil {
			bad = userErr(http.StatusUnprocessableEntity, "invalid_rules", "「"+label+"」不是有效的金额（如 5000 或 5000.50）。")
		}
		return claims.Fen(fen)
	}
	rules.WaitingDays = days("waiting_days", "观察期")
	rules.ClaimWindowDays = days("claim_window_days", "申领期限")
	rules.AllowanceMaxDays = days("allowance_max_days", "住院补贴最多天数")
	rules.Deductible = money(r.PostFormValue("deductible"), "起付线")
	rules.PerClaimCap = money(r.PostFormValue("per_claim_cap"), "单次封顶")
	rules.PerYearCap = money(r.PostFormValue("per_year_cap"), "年度封顶")
	rules.MinPerStay = money(r.PostFormValue("min_per_stay"), "每次住院最低金额")
	for i, up := range r.PostForm["band_up_to"] {
		ratio := formAt(r, "band_ratio", i)
		if strings.TrimSpace(up) == "" && ratio == "" {
			continue
		}
		label := "第 " + strconv.Itoa(len(rules.Bands)+1) + " 段"
		pct, err := strconv.Atoi(strings.TrimSuffix(ratio, "%"))
		if err != nil && bad == nil {
			bad = userErr(http.StatusUnprocessableEntity, "invalid_rules", "「"+label+"报销比例」应为 0 到 100 的整数。")
		}
		rules.Bands = append(rules.Bands, claims.Band{UpTo: money(up, label+"上限"), RatioPct: pct})
	}
	for i, y := range r.PostForm["allowance_years"] {
		perDay := formAt(r, "allowance_per_day", i)
		if strings.TrimSpace(y) == "" && perDay == "" {
			continue
		}
		label := "住院补贴第 " + strconv.Itoa(len(rules.Allowance)+1) + " 档"
		years, err := strconv.Atoi(strings.TrimSpace(y))
		if err != nil && bad == nil {
			bad = userErr(http.StatusUnprocessableEntity, "invalid_rules", "「"+label+"会龄」应为整数年数。")
		}
		rules.Allowance = append(rules.Allowance, claims.AllowanceTier{MinYears: years, PerDay: money(perDay, label+"每日金额")})
	}
	return rules, bad
}
