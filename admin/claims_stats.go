package admin

// Yearly mutual-aid figures (JSON, or XLSX with ?format=xlsx) and the 公示 list.

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"unionbot/admin/auth"
	"unionbot/claims"
	"unionbot/parse"
	"unionbot/storage"
	"unionbot/web"
)

// unitYearView is one row of the yearly figures.
type unitYearView struct {
	Unit       string     `json:"unit"`
	Enrolled   int        `json:"enrolled"`
	Premiums   claims.Fen `json:"premiums"`
	Claims     int        `json:"claims"`
	Claimants  int        `json:"claimants"`
	Approved   claims.Fen `json:"approved"`
	PaidClaims int        `json:"paid_claims"`
	Paid       claims.Fen `json:"paid"`
	LegalCases int        `json:"legal_cases"`
}

type yearlyView struct {
	Year            int            `json:"year"`
	Units           []unitYearView `json:"units"`
	Total           unitYearView   `json:"total"`
	UnitsWithClaims int            `json:"units_with_claims"`
	// Summary is the sentence of the union's report.
	Summary string `json:"summary"`
	// Legal is the year's legal-aid figures (legal_stats.go).
	Legal *legalYearlyView `json:"legal,omitempty"`
}

type publicEntryView struct {
	Name   string     `json:"name"`
	Unit   string     `json:"unit"`
	Amount claims.Fen `json:"amount"`
}

func viewUnitYear(u storage.UnitYear) unitYearView {
	return unitYearView{Unit: u.Unit, Enrolled: u.Enrolled, Premiums: u.Premiums, Claims: u.Claims, Claimants: u.Claimants,
		Approved: u.Approved, PaidClaims: u.PaidClaims, Paid: u.Paid, LegalCases: u.LegalCases}
}

// yearlySummary is the figures as the source report puts them: "2026年度，40家单位的70名职工
// 办理了互助金申领手续，共发放互助金5.5万余元。"
func yearlySummary(y storage.Yearly) string {
	if y.Total.Claims == 0 {
		return fmt.Sprintf("%d年度还没有职工办理互助金申领手续。", y.Year)
	}
	return fmt.Sprintf("%d年度，%d家单位的%d名职工办理了互助金申领手续，共发放互助金%s。", y.Year, y.UnitsWithClaims, y.Total.Claimants, reportAmount(y.Total.Paid))
}

// reportAmount writes an amount as a report does: from 1万 on in 万 to one decimal, with 余
// when something was cut off (55,321 → 5.5万余元, 50,000 → 5万元); below, to the fen
// without zero decimals (3,000元, 3,000.50元).
func reportAmount(f claims.Fen) string {
	if f < claims.Yuan(10000) {
		s := parse.FormatFen(int64(f))
		return strings.TrimSuffix(s, ".00") + "元"
	}
	tenths := int64(f) / 100000 // tenths of 万 (1,000 元)
	s := strconv.FormatInt(tenths/10, 10)
	if tenths%10 != 0 {
		s += "." + strconv.FormatInt(tenths%10, 10)
	}
	if int64(f)%100000 != 0 {
		return s + "万余元"
	}
	return s + "万元"
}

// statsYear is ?year=, this year in China by default.
func (s *Server) statsYear(r *http.Request) (int, error) {
	v := r.URL.Query().Get("year")
	if v == "" {
		return s.now().In(time.FixedZone("CST", 8*3600)).Year(), nil
	}
	y, err := strconv.Atoi(v)
	if err != nil || y < 2000 || y > 2200 {
		return 0, userErr(http.StatusBadRequest, "bad_year", "year 应为四位年份。")
	}
	return y, nil
}

// statsRequest authorizes a request for figures and reads its year.
func (s *Server) statsRequest(r *http.Request, p auth.Principal) (int, error) {
	return s.yearRequest(r, p, auth.ReadClaimStats)
}

// yearRequest authorizes act for a page or endpoint of one year and reads the year.
func (s *Server) yearRequest(r *http.Request, p auth.Principal, act auth.Action) (int, error) {
	if err := auth.Authorize(p, act, auth.NoRecord); err != nil {
		return 0, err
	}
	return s.statsYear(r)
}

// statsUnit is the unit p's figures are restricted to (0: all).
func statsUnit(p auth.Principal) int64 {
	unit, _ := auth.UnitFilter(p, 0)
	return unit
}

func (s *Server) apiYearlyStats(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	year, err := s.statsRequest(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "xlsx" {
		s.fail(w, r, userErr(http.StatusBadRequest, "bad_format", "format 应为 json 或 xlsx。"))
		return
	}
	y, err := s.db.YearlyFigures(r.Context(), year, statsUnit(p))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if format == "xlsx" {
		pub, err := s.db.PublicList(r.Context(), year, statsUnit(p))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.writeYearlyXLSX(w, r, y, pub)
		return
	}
	legal, err := s.db.LegalYearly(r.Context(), year, statsUnit(p))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := viewYearly(y)
	out.Legal = viewLegalYearly(legal)
	web.JSON(w, http.StatusOK, out)
}

func viewYearly(y storage.Yearly) yearlyView {
	out := yearlyView{Year: y.Year, Units: []unitYearView{}, Total: viewUnitYear(y.Total), UnitsWithClaims: y.UnitsWithClaims, Summary: yearlySummary(y)}
	for _, u := range y.Units {
		out.Units = append(out.Units, viewUnitYear(u))
	}
	return out
}

func (s *Server) apiPublicList(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	year, err := s.statsRequest(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pub, err := s.db.PublicList(r.Context(), year, statsUnit(p))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := list[publicEntryView]{Items: []publicEntryView{}}
	for _, e := range pub {
		out.Items = append(out.Items, publicEntryView{Name: e.Name, Unit: e.Unit, Amount: e.Amount})
	}
	web.JSON(w, http.StatusOK, out)
}

// yuan is an amount as a spreadsheet number (the sheet sums it); only for display.
func yuan(f claims.Fen) float64 { return float64(f) / 100 }

// writeYearlyXLSX answers the figures as a workbook: 年度统计 (a row per unit, the total and
// the report's sentence) and 公示名单 (masked names, unit, amount).
func (s *Server) writeYearlyXLSX(w http.ResponseWriter, r *http.Request, y storage.Yearly, pub []storage.PublicEntry) {
	f := excelize.NewFile()
	defer f.Close()
	const stats, public = "年度统计", "公示名单"
	if err := f.SetSheetName("Sheet1", stats); err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := f.NewSheet(public); err != nil {
		s.fail(w, r, err)
		return
	}
	money, err := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := [][]any{{"基层工会", "参保人数", "缴费金额（元）", "申领件数", "申领人数", "核准金额（元）", "已发放件数", "已发放金额（元）", "法律援助件数"}}
	for _, u := range append(append([]storage.UnitYear(nil), y.Units...), y.Total) {
		rows = append(rows, []any{u.Unit, u.Enrolled, yuan(u.Premiums), u.Claims, u.Claimants, yuan(u.Approved), u.PaidClaims, yuan(u.Paid), u.LegalCases})
	}
	rows = append(rows, []any{}, []any{yearlySummary(y)})
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(stats, cell, &row); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	last := len(y.Units) + 2
	for _, col := range []string{"C", "F", "H"} {
		if err := f.SetCellStyle(stats, col+"2", fmt.Sprintf("%s%d", col, last), money); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	_ = f.SetColWidth(stats, "A", "A", 24)
	_ = f.SetColWidth(stats, "B", "I", 14)
	prow := []any{"姓名", "单位", "金额（元）"}
	_ = f.SetSheetRow(public, "A1", &prow)
	for i, e := range pub {
		row := []any{e.Name, e.Unit, yuan(e.Amount)}
		if err := f.SetSheetRow(public, fmt.Sprintf("A%d", i+2), &row); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if len(pub) > 0 {
		_ = f.SetCellStyle(public, "C2", fmt.Sprintf("C%d", len(pub)+1), money)
	}
	_ = f.SetColWidth(public, "B", "B", 24)
	name := fmt.Sprintf("互助金年度统计-%d.xlsx", y.Year)
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", "attachment; filename=\"claims-"+strconv.Itoa(y.Year)+".xlsx\"; filename*=UTF-8''"+url.PathEscape(name))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := f.Write(w); err != nil {
		web.Logger(r.Context(), s.logger).ErrorContext(r.Context(), "write yearly xlsx", "err", err)
	}
}

// premiumBody is PUT /api/v1/premiums: what a unit paid for its members' cover of a year.
type premiumBody struct {
	Unit   string     `json:"unit"`
	Year   int        `json:"year"`
	Amount claims.Fen `json:"amount"`
}

func (s *Server) apiSetPremium(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageClaimRules, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	var body premiumBody
	if err := decodeBody(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.Year < 2000 || body.Year > 2200 || body.Amount < 0 {
		s.fail(w, r, userErr(http.StatusUnprocessableEntity, "invalid", "请填写有效的年度和不小于零的金额。"))
		return
	}
	u, err := s.db.UnitByName(r.Context(), body.Unit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.db.SetUnitPremium(r.Context(), u.ID, body.Year, body.Amount, s.auditFor(r, p)); err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, body)
}
