package admin

// Yearly legal-aid figures (issue 12): cases by type, outcome and unit, and the
// satisfaction follow-up (满意度回访) per officer and per month — the page
// /admin/legal/stats, its workbook (?format=xlsx), and the legal part of
// GET /api/v1/stats/yearly.

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/xuri/excelize/v2"

	"unionbot/admin/auth"
	"unionbot/storage"
	"unionbot/web"
)

// legalTallyView is a count of cases by a code (type, outcome) in the API.
type legalTallyView struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Count int    `json:"count"`
}

// ratingsView is a satisfaction figure: how many ratings and their mean (null without any).
type ratingsView struct {
	Count   int      `json:"count"`
	Average *float64 `json:"average"`
}

// legalYearlyView is the legal part of the yearly figures (no officer's name: every role
// reads them).
type legalYearlyView struct {
	Cases        int              `json:"cases"`
	Urgent       int              `json:"urgent"`
	NonMember    int              `json:"non_member"`
	Closed       int              `json:"closed"`
	ByType       []legalTallyView `json:"by_type"`
	ByOutcome    []legalTallyView `json:"by_outcome"`
	Satisfaction ratingsView      `json:"satisfaction"`
}

func viewRatings(r storage.LegalRatings) ratingsView {
	v := ratingsView{Count: r.Count}
	if r.Count > 0 {
		a := math.Round(r.Average()*100) / 100
		v.Average = &a
	}
	return v
}

func viewLegalYearly(y storage.LegalYear) *legalYearlyView {
	tallies := func(ts []storage.LegalTally) []legalTallyView {
		out := make([]legalTallyView, 0, len(ts))
		for _, t := range ts {
			out = append(out, legalTallyView{Key: t.Key, Label: t.Label, Count: t.Count})
		}
		return out
	}
	return &legalYearlyView{Cases: y.Cases, Urgent: y.Urgent, NonMember: y.NonMember, Closed: y.Closed,
		ByType: tallies(y.ByType), ByOutcome: tallies(y.ByOutcome), Satisfaction: viewRatings(y.Ratings)}
}

// averageText is a mean rating as the page shows it: 4.3, or — without ratings.
func averageText(r storage.LegalRatings) string {
	if r.Count == 0 {
		return "—"
	}
	return strconv.FormatFloat(r.Average(), 'f', 1, 64)
}

// ratingBar is one row of the satisfaction tables, with the width of its bar (a mean of 5
// fills it).
type ratingBar struct {
	storage.LegalRatings
	Average string
	Percent int
}

func ratingBars(rs []storage.LegalRatings) []ratingBar {
	out := make([]ratingBar, 0, len(rs))
	for _, r := range rs {
		out = append(out, ratingBar{LegalRatings: r, Average: averageText(r), Percent: int(math.Round(r.Average() * 20))})
	}
	return out
}

// tallyBar is one row of the case tables, with its share of the year's cases.
type tallyBar struct {
	storage.LegalTally
	Percent int
}

func tallyBars(ts []storage.LegalTally, total int) []tallyBar {
	out := make([]tallyBar, 0, len(ts))
	for _, t := range ts {
		p := 0
		if total > 0 {
			p = int(math.Round(100 * float64(t.Count) / float64(total)))
		}
		out = append(out, tallyBar{LegalTally: t, Percent: p})
	}
	return out
}

// tallyTable and ratingTable are the page's tables: an id for tests, the first column's
// heading, the rows.
type tallyTable struct {
	ID, Head string
	Rows     []tallyBar
}

type ratingTable struct {
	ID, Head string
	Rows     []ratingBar
}

type legalStatsPage struct {
	Year                    int
	Years                   []int
	Figures                 storage.LegalYear
	Average                 string
	ByType, ByOutcome, Unit tallyTable
	ByOfficer, ByMonth      ratingTable
}

// handleLegalStats is the yearly legal-aid page, or its workbook with ?format=xlsx. Officers'
// names are in it (their satisfaction), so legal officers and admins read it; a unit's
// officer gets that unit's figures.
func (s *Server) handleLegalStats(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ReadLegalCases, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	year, err := s.statsYear(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "xlsx" {
		s.fail(w, r, userErr(http.StatusBadRequest, "bad_format", "format 只能是 xlsx。"))
		return
	}
	y, err := s.db.LegalYearly(r.Context(), year, statsUnit(p))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if format == "xlsx" {
		s.writeLegalStatsXLSX(w, r, y)
		return
	}
	d := legalStatsPage{Year: year, Years: s.yearChoices(), Figures: y, Average: averageText(y.Ratings),
		ByType:    tallyTable{"by-type", "类型", tallyBars(y.ByType, y.Cases)},
		ByOutcome: tallyTable{"by-outcome", "结果", tallyBars(y.ByOutcome, y.Cases)},
		Unit:      tallyTable{"by-unit", "基层工会", tallyBars(y.ByUnit, y.Cases)},
		ByOfficer: ratingTable{"by-officer", "经办人", ratingBars(y.ByOfficer)},
		ByMonth:   ratingTable{"by-month", "月份", ratingBars(y.ByMonth)}}
	s.render(w, r, "legal_stats", &pageData{Title: fmt.Sprintf("%d年度法律援助统计", year), Data: d})
}

// writeLegalStatsXLSX answers the figures as a workbook: 案件统计 (by type, by outcome, by
// unit) and 满意度回访 (per officer, per month, the year).
func (s *Server) writeLegalStatsXLSX(w http.ResponseWriter, r *http.Request, y storage.LegalYear) {
	f := excelize.NewFile()
	defer f.Close()
	const cases, ratings = "案件统计", "满意度回访"
	if err := f.SetSheetName("Sheet1", cases); err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := f.NewSheet(ratings); err != nil {
		s.fail(w, r, err)
		return
	}
	var rows [][]any
	section := func(title string, ts []storage.LegalTally) {
		rows = append(rows, []any{title, "件数"})
		for _, t := range ts {
			rows = append(rows, []any{t.Label, t.Count})
		}
		rows = append(rows, []any{})
	}
	rows = append(rows, []any{fmt.Sprintf("%d年度法律援助案件（按登记时间）", y.Year)},
		[]any{"案件总数", y.Cases}, []any{"其中紧急求助", y.Urgent}, []any{"其中非会员", y.NonMember}, []any{"已结案", y.Closed}, []any{})
	section("案件类型", y.ByType)
	section("办理结果", y.ByOutcome)
	section("基层工会", y.ByUnit)
	if err := setSheetRows(f, cases, rows); err != nil {
		s.fail(w, r, err)
		return
	}
	rows = nil
	avg := func(r storage.LegalRatings) any {
		if r.Count == 0 {
			return ""
		}
		return math.Round(r.Average()*100) / 100
	}
	ratingSection := func(title string, rs []storage.LegalRatings) {
		rows = append(rows, []any{title, "回访次数", "平均满意度（1–5）"})
		for _, x := range rs {
			rows = append(rows, []any{x.Label, x.Count, avg(x)})
		}
		rows = append(rows, []any{})
	}
	rows = append(rows, []any{fmt.Sprintf("%d年度满意度回访（按评价时间）", y.Year)},
		[]any{"全年", y.Ratings.Count, avg(y.Ratings)}, []any{})
	ratingSection("经办人", y.ByOfficer)
	ratingSection("月份", y.ByMonth)
	if err := setSheetRows(f, ratings, rows); err != nil {
		s.fail(w, r, err)
		return
	}
	_ = f.SetColWidth(cases, "A", "A", 28)
	_ = f.SetColWidth(ratings, "A", "A", 28)
	_ = f.SetColWidth(ratings, "B", "C", 18)
	s.writeWorkbook(w, r, f, fmt.Sprintf("legal-%d.xlsx", y.Year), fmt.Sprintf("法律援助年度统计-%d.xlsx", y.Year))
}

// setSheetRows writes rows from A1 down.
func setSheetRows(f *excelize.File, sheet string, rows [][]any) error {
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			return err
		}
	}
	return nil
}

// writeWorkbook answers f as a download named name (ascii for old browsers).
func (s *Server) writeWorkbook(w http.ResponseWriter, r *http.Request, f *excelize.File, ascii, name string) {
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", "attachment; filename=\""+ascii+"\"; filename*=UTF-8''"+url.PathEscape(name))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := f.Write(w); err != nil {
		web.Logger(r.Context(), s.logger).ErrorContext(r.Context(), "write workbook", "name", ascii, "err", err)
	}
}
