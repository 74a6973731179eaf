package admin

// Console pages of mutual-aid money: 互助金发放 (the approved claims awaiting payment, the
// bank's payment list, marking one claim paid or failed, the bank's result file with what
// each row did), 缴费 (premiums per unit and year, entered singly or imported from a
// sheet) and 互助金统计 (the yearly figures, the report's sentence and the 公示 list). They
// are translators of the calls the API makes: awaitingPayment, applyPayments,
// TransitionClaim, SetUnitPremium, YearlyFigures, PublicList.

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"unionbot/admin/auth"
	"unionbot/claims"
	"unionbot/parse"
	"unionbot/storage"
	"unionbot/web"
)

// paymentsPage is /admin/payments.
type paymentsPage struct {
	Awaiting  []storage.Claim
	Failed    []storage.Claim
	Total     claims.Fen
	CanRecord bool // finance: the full list, marking, the result file
	Report    *paymentReport
}

func (s *Server) handlePayments(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.renderPayments(w, r, p, http.StatusOK, "", nil)
}

func (s *Server) renderPayments(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, msg string, rep *paymentReport) {
	if err := auth.Authorize(p, auth.ViewPayments, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	cs, err := s.awaitingPayment(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	unit, _ := auth.UnitFilter(p, 0)
	failed, _, err := s.db.ListClaims(r.Context(), storage.ClaimFilter{Status: claims.PaymentFailed, UnitID: unit, Limit: 100})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := paymentsPage{Awaiting: cs, Failed: failed, CanRecord: auth.Can(p, auth.RecordPayments), Report: rep}
	for _, c := range cs {
		d.Total += c.ApprovedAmount
	}
	s.renderStatus(w, r, status, "payments", &pageData{Title: "互助金发放", Error: msg, Data: d})
}

// paymentsFail shows an error the officer can act on above the page; others are failures.
func (s *Server) paymentsFail(w http.ResponseWriter, r *http.Request, p auth.Principal, err error) {
	if he := classify(err); he != nil && he.status < 500 && he.status != http.StatusForbidden && he.status != http.StatusNotFound {
		s.renderPayments(w, r, p, he.status, he.msg, nil)
		return
	}
	s.fail(w, r, err)
}

// handleMarkPayment marks one approved claim paid (with the bank's reference) or failed
// (with the reason), as finance.
func (s *Server) handleMarkPayment(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	c, err := s.claimFor(r, p, auth.RecordPayments)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	to := claims.Status(r.PostFormValue("to"))
	if to != claims.Paid && to != claims.PaymentFailed {
		s.paymentsFail(w, r, p, userErr(http.StatusBadRequest, "bad_status", "请选择「已发放」或「发放失败」。"))
		return
	}
	d := claims.Details{PaymentRef: strings.TrimSpace(r.PostFormValue("payment_ref")), Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	_, err = s.db.TransitionClaim(r.Context(), c.Number, storage.TransitionRequest{To: to, Version: formVersion(r),
		Role: roleFor(p, c.Status, to), Details: d}, s.auditFor(r, p))
	if err != nil {
		s.paymentsFail(w, r, p, claimErr(err))
		return
	}
	done := fmt.Sprintf("申请 %s 已标记为已发放（%s 元）。", c.Number, c.ApprovedAmount)
	if to == claims.PaymentFailed {
		done = fmt.Sprintf("申请 %s 已标记为发放失败，会员将收到更正银行卡的通知。", c.Number)
	}
	s.flashRedirect(w, r, done, "/admin/payments")
}

// handlePaymentResults applies the bank's result file and shows what each row did.
func (s *Server) handlePaymentResults(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.RecordPayments, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := uploadedTable(w, r, "银行回盘文件")
	if err != nil {
		s.paymentsFail(w, r, p, err)
		return
	}
	rep, err := s.applyPayments(r, p, rows)
	if err != nil {
		s.paymentsFail(w, r, p, err)
		return
	}
	s.renderPayments(w, r, p, http.StatusOK, "", &rep)
}

// paymentOutcomeLabel is how the result table names what a row did.
func paymentOutcomeLabel(o string) string {
	return map[string]string{"paid": "已发放", "failed": "发放失败", "unchanged": "已登记过", "rejected": "未处理"}[o]
}

// Premiums.

// premiumRow is one row of an imported premium sheet as checked: the unit, year and
// amount it sets, the amount recorded before, and the reason when it is refused.
type premiumRow struct {
	Row      int        `json:"row"`
	Unit     string     `json:"unit"`
	Year     int        `json:"year"`
	Amount   claims.Fen `json:"amount"`
	Previous claims.Fen `json:"previous"`
	Had      bool       `json:"-"`
	Outcome  string     `json:"outcome"` // set, unchanged, rejected
	Reason   string     `json:"reason,omitempty"`
	unitID   int64
}

// premiumImport is the answer of POST /api/v1/premiums/imports and the console's table.
type premiumImport struct {
	DryRun   bool         `json:"dry_run"`
	Accepted int          `json:"accepted"`
	Rejected int          `json:"rejected"`
	Rows     []premiumRow `json:"rows"`
}

// premiumColumns are the headers of a premium sheet, Chinese first, with English aliases.
var premiumColumns = map[string][]string{
	"unit":   {"单位", "基层工会", "工会", "unit"},
	"year":   {"年度", "年份", "year"},
	"amount": {"金额", "缴费金额", "金额（元）", "金额(元)", "amount"},
}

// headerOf finds, among the first five rows, the header naming every column in need, and
// returns its index and the column of each key (-1 when there is none).
func headerOf(rows [][]string, columns map[string][]string, need ...string) (int, map[string]int) {
	for i := 0; i < len(rows) && i < 5; i++ {
		found := map[string]int{}
		for j, cell := range rows[i] {
			for key, names := range columns {
				for _, n := range names {
					if strings.EqualFold(strings.TrimSpace(cell), n) {
						found[key] = j
					}
				}
			}
		}
		ok := true
		for _, k := range need {
			_, has := found[k]
			ok = ok && has
		}
		if ok {
			return i, found
		}
	}
	return -1, nil
}

// cellOf is row's trimmed cell of key ("" when the column or the cell is missing).
func cellOf(row []string, col map[string]int, key string) string {
	j, ok := col[key]
	if !ok || j >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[j])
}

// checkPremiums reads a premium sheet: every row names a unit that exists, a year and an
// amount (3500, 3,500.50, 3500元, 三千五百元). Nothing is written.
func (s *Server) checkPremiums(r *http.Request, rows [][]string) (premiumImport, error) {
	out := premiumImport{DryRun: true, Rows: []premiumRow{}}
	header, col := headerOf(rows, premiumColumns, "unit", "year", "amount")
	if header < 0 {
		return out, userErr(http.StatusUnprocessableEntity, "bad_file", "表格缺少「单位」「年度」「金额」列（第一行为表头）。")
	}
	units, err := s.db.Units(r.Context())
	if err != nil {
		return out, err
	}
	byName := map[string]int64{}
	for _, u := range units {
		byName[u.Name] = u.ID
	}
	current := map[int]map[int64]storage.UnitPremium{}
	seen := map[string]int{}
	for i := header + 1; i < len(rows); i++ {
		row := rows[i]
		pr := premiumRow{Row: i + 1, Unit: cellOf(row, col, "unit"), Outcome: "set"}
		yearText, amountText := cellOf(row, col, "year"), cellOf(row, col, "amount")
		if pr.Unit == "" && yearText == "" && amountText == "" {
			continue
		}
		var reasons []string
		if pr.unitID = byName[pr.Unit]; pr.unitID == 0 {
			if pr.Unit == "" {
				reasons = append(reasons, "缺少单位名称")
			} else {
				reasons = append(reasons, "没有名为「"+pr.Unit+"」的基层工会（请与名册中的名称一致）")
			}
		}
		y, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSuffix(yearText, "年度"), "年"))
		if err != nil || y < 2000 || y > 2200 {
			reasons = append(reasons, "年度应为四位年份，如 2026")
		}
		pr.Year = y
		fen, err := parse.Money(amountText)
		switch {
		case amountText == "":
			reasons = append(reasons, "缺少金额")
		case err != nil:
			reasons = append(reasons, "金额无法识别（如 3500 或 3,500.50）")
		default:
			pr.Amount = claims.Fen(fen)
		}
		if len(reasons) == 0 {
			key := fmt.Sprintf("%d/%d", pr.unitID, pr.Year)
			if first, dup := seen[key]; dup {
				reasons = append(reasons, fmt.Sprintf("与第%d行重复（同一单位、同一年度）", first))
			}
			seen[key] = pr.Row
		}
		if len(reasons) > 0 {
			pr.Outcome, pr.Reason = "rejected", strings.Join(reasons, "；")
			out.Rejected++
			out.Rows = append(out.Rows, pr)
			continue
		}
		if current[pr.Year] == nil {
			ps, err := s.db.UnitPremiums(r.Context(), pr.Year, 0)
			if err != nil {
				return out, err
			}
			current[pr.Year] = map[int64]storage.UnitPremium{}
			for _, p := range ps {
				current[pr.Year][p.UnitID] = p
			}
		}
		if prev := current[pr.Year][pr.unitID]; prev.Set {
			pr.Previous, pr.Had = prev.Amount, true
			if prev.Amount == pr.Amount {
				pr.Outcome = "unchanged"
			}
		}
		out.Accepted++
		out.Rows = append(out.Rows, pr)
	}
	return out, nil
}

// importPremiums checks a premium sheet and, unless dry, records every accepted row with
// SetUnitPremium (the call of PUT /api/v1/premiums, audited row by row).
func (s *Server) importPremiums(r *http.Request, p auth.Principal, rows [][]string, dry bool) (premiumImport, error) {
	rep, err := s.checkPremiums(r, rows)
	if err != nil || dry {
		return rep, err
	}
	rep.DryRun = false
	for _, pr := range rep.Rows {
		if pr.Outcome != "set" {
			continue
		}
		if err := s.db.SetUnitPremium(r.Context(), pr.unitID, pr.Year, pr.Amount, s.auditFor(r, p)); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (s *Server) apiImportPremiums(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageClaimRules, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := uploadedTable(w, r, "缴费表")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	dry, err := dryRunParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rep, err := s.importPremiums(r, p, rows, dry)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, rep)
}

// premiumsPage is /admin/premiums.
type premiumsPage struct {
	Year     int
	Years    []int
	Units    []storage.UnitPremium
	Total    claims.Fen
	Import   *premiumImport
	FileName string
}

func (s *Server) handlePremiums(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.renderPremiums(w, r, p, http.StatusOK, "", nil, "")
}

// renderPremiums shows the year's premiums, with msg as an error and imp (of the file
// name) as the table of an import.
func (s *Server) renderPremiums(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, msg string, imp *premiumImport, name string) {
	year, err := s.yearRequest(r, p, auth.ManageClaimRules)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ps, err := s.db.UnitPremiums(r.Context(), year, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := premiumsPage{Year: year, Years: s.yearChoices(), Units: ps, Import: imp, FileName: name}
	for _, u := range ps {
		d.Total += u.Amount
	}
	s.renderStatus(w, r, status, "premiums", &pageData{Title: "互助保障缴费", Error: msg, Data: d})
}

func (s *Server) premiumsFail(w http.ResponseWriter, r *http.Request, p auth.Principal, err error) {
	if he := classify(err); he != nil && he.status < 500 && he.status != http.StatusForbidden {
		s.renderPremiums(w, r, p, he.status, he.msg, nil, "")
		return
	}
	s.fail(w, r, err)
}

// handleSetPremium records one unit's amount of a year (the form on each row).
func (s *Server) handleSetPremium(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageClaimRules, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	unit, yearText, amountText := r.PostFormValue("unit"), r.PostFormValue("year"), strings.TrimSpace(r.PostFormValue("amount"))
	rep, err := s.checkPremiums(r, [][]string{{"单位", "年度", "金额"}, {unit, yearText, amountText}})
	if err == nil && rep.Rejected > 0 {
		err = userErr(http.StatusUnprocessableEntity, "invalid", rep.Rows[0].Reason+"。")
	}
	if err == nil && rep.Accepted == 0 {
		err = userErr(http.StatusUnprocessableEntity, "invalid", "请填写金额。")
	}
	if err != nil {
		s.premiumsFail(w, r, p, err)
		return
	}
	pr := rep.Rows[0]
	if err := s.db.SetUnitPremium(r.Context(), pr.unitID, pr.Year, pr.Amount, s.auditFor(r, p)); err != nil {
		s.premiumsFail(w, r, p, err)
		return
	}
	s.flashRedirect(w, r, fmt.Sprintf("已记录 %s %d 年度缴费 %s 元。", pr.Unit, pr.Year, parse.FormatFen(int64(pr.Amount))),
		fmt.Sprintf("/admin/premiums?year=%d", pr.Year))
}

// handleImportPremiums checks an uploaded sheet (a dry run: the table of rows) or, with
// apply, records the rows the dry run showed (carried back in the form and checked again).
func (s *Server) handleImportPremiums(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageClaimRules, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	var rows [][]string
	var name string
	apply := r.PostFormValue("apply") != ""
	if apply {
		rows = [][]string{{"单位", "年度", "金额"}}
		units, years, amounts := r.PostForm["row_unit"], r.PostForm["row_year"], r.PostForm["row_amount"]
		if len(units) == 0 || len(units) != len(years) || len(units) != len(amounts) {
			s.premiumsFail(w, r, p, userErr(http.StatusBadRequest, "bad_form", "没有可导入的行，请重新上传表格。"))
			return
		}
		for i := range units {
			rows = append(rows, []string{units[i], years[i], amounts[i]})
		}
	} else {
		var err error
		if rows, err = uploadedTable(w, r, "缴费表"); err != nil {
			s.premiumsFail(w, r, p, err)
			return
		}
		if _, hdr, err := r.FormFile("file"); err == nil {
			name = hdr.Filename
		}
	}
	rep, err := s.importPremiums(r, p, rows, !apply)
	if err != nil {
		s.premiumsFail(w, r, p, err)
		return
	}
	if apply {
		changed := 0
		for _, pr := range rep.Rows {
			if pr.Outcome == "set" {
				changed++
			}
		}
		s.flashRedirect(w, r, fmt.Sprintf("导入完成：记录 %d 行，未变化 %d 行，有问题 %d 行。", changed, rep.Accepted-changed, rep.Rejected),
			"/admin/premiums"+yearQuery(r))
		return
	}
	s.renderPremiums(w, r, p, http.StatusOK, "", &rep, name)
}

func yearQuery(r *http.Request) string {
	if y := r.URL.Query().Get("year"); y != "" {
		return "?year=" + y
	}
	return ""
}

// yearChoices are the years a page offers: from this year back five.
func (s *Server) yearChoices() []int {
	this := s.now().In(shanghai).Year()
	out := make([]int, 0, 6)
	for y := this; y > this-6; y-- {
		out = append(out, y)
	}
	return out
}

// Yearly figures.

type statsPage struct {
	Year    int
	Years   []int
	Figures yearlyView
	Summary string
	Public  []publicEntryView
	Printed time.Time
}

func (s *Server) statsData(r *http.Request, p auth.Principal, withPublic bool) (statsPage, error) {
	year, err := s.statsRequest(r, p)
	if err != nil {
		return statsPage{}, err
	}
	d := statsPage{Year: year, Years: s.yearChoices(), Printed: s.now()}
	if !withPublic {
		y, err := s.db.YearlyFigures(r.Context(), year, statsUnit(p))
		if err != nil {
			return d, err
		}
		d.Figures = viewYearly(y)
		return d, nil
	}
	pub, err := s.db.PublicList(r.Context(), year, statsUnit(p))
	if err != nil {
		return d, err
	}
	for _, e := range pub {
		d.Public = append(d.Public, publicEntryView{Name: e.Name, Unit: e.Unit, Amount: e.Amount})
	}
	return d, nil
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	d, err := s.statsData(r, p, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "stats", &pageData{Title: fmt.Sprintf("%d年度互助金统计", d.Year), Data: d})
}

func (s *Server) handlePublicList(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	d, err := s.statsData(r, p, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "stats_public", &pageData{Title: fmt.Sprintf("%d年度职工医疗互助金发放公示", d.Year), Data: d})
}
