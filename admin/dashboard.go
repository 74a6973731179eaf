package admin

import (
	"fmt"
	"net/http"
	"slices"

	"unionbot/admin/auth"
	"unionbot/storage"
)

// svgBar is one bar of a server-drawn chart, in SVG user units.
type svgBar struct {
	X, Y, W, H     float64
	Class          string
	Label, Value   string
	LabelX, LabelY float64
	ValueX, ValueY float64
	Title          string
}

type svgChart struct {
	Width, Height float64
	Bars          []svgBar
	Empty         bool
}

// yearChart draws enrolment per year as vertical bars.
func yearChart(years []int, totals map[int]int) svgChart {
	c := svgChart{Width: 420, Height: 200}
	if len(years) == 0 {
		c.Empty = true
		return c
	}
	maxV := 1
	for _, y := range years {
		maxV = max(maxV, totals[y])
	}
	const top, bottom, left = 24.0, 28.0, 10.0
	slot := (c.Width - 2*left) / float64(len(years))
	w := min(slot*0.6, 80)
	for i, y := range years {
		v := totals[y]
		h := (c.Height - top - bottom) * float64(v) / float64(maxV)
		x := left + slot*float64(i) + (slot-w)/2
		c.Bars = append(c.Bars, svgBar{
			X: x, Y: c.Height - bottom - h, W: w, H: h, Class: "bar",
			Label: fmt.Sprint(y), LabelX: x + w/2, LabelY: c.Height - 8,
			Value: fmt.Sprint(v), ValueX: x + w/2, ValueY: c.Height - bottom - h - 6,
			Title: fmt.Sprintf("%d 年度参保 %d 人", y, v),
		})
	}
	return c
}

// unitChart draws members and bound members of the largest units as horizontal bars.
func unitChart(units []storage.UnitFigures, limit int) svgChart {
	us := slices.Clone(units)
	slices.SortStableFunc(us, func(a, b storage.UnitFigures) int { return b.Members - a.Members })
	if len(us) > limit {
		us = us[:limit]
	}
	const rowH, labelW, valueW = 24.0, 124.0, 64.0
	c := svgChart{Width: 420, Height: rowH*float64(len(us)) + 8}
	if len(us) == 0 || us[0].Members == 0 {
		c.Empty = true
		return c
	}
	scale := (c.Width - labelW - valueW) / float64(us[0].Members)
	for i, u := range us {
		y := 4 + rowH*float64(i)
		label := []rune(u.Unit)
		if len(label) > 9 {
			label = append(label[:8], '…')
		}
		c.Bars = append(c.Bars,
			svgBar{X: labelW, Y: y + 3, W: scale * float64(u.Members), H: rowH - 8, Class: "bar2",
				Label: string(label), LabelX: labelW - 6, LabelY: y + rowH/2 + 4,
				Value: fmt.Sprintf("%d / %d", u.Bound, u.Members), ValueX: labelW + scale*float64(u.Members) + 6, ValueY: y + rowH/2 + 4,
				Title: fmt.Sprintf("%s：会员 %d 人，已绑定 %d 人", u.Unit, u.Members, u.Bound)},
			svgBar{X: labelW, Y: y + 3, W: scale * float64(u.Bound), H: rowH - 8, Class: "bar"},
		)
	}
	return c
}

type dashboardPage struct {
	Members, Bound, Unbound int
	Followers               int
	ShowFollowers           bool
	Years                   []int
	YearTotals              map[int]int
	LatestYear              int
	Units                   []storage.UnitFigures
	YearChart, UnitChart    svgChart
	UnitCount               int
	BoundPercent            string
	Legal                   *legalDashboard // for those who handle legal-aid cases
	Aid                     *yearlyView     // this year's mutual-aid figures (claims_stats.go)
}

// legalDashboard is the dashboard's legal-aid card: this year's cases and satisfaction, the
// open urgent ones, and the link to the yearly page.
type legalDashboard struct {
	Year, Cases, Ratings int
	Average              string
	Counts               storage.LegalQueueCounts
}

func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ViewDashboard, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	unit, _ := auth.UnitFilter(p, 0)
	d, err := s.db.DashboardFigures(r.Context(), unit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := dashboardPage{Followers: d.Followers, ShowFollowers: p.CountyLevel(), Years: d.Years, YearTotals: map[int]int{},
		Units: d.Units, UnitCount: len(d.Units)}
	for _, u := range d.Units {
		pg.Members += u.Members
		pg.Bound += u.Bound
		for y, n := range u.Enrolled {
			pg.YearTotals[y] += n
		}
	}
	pg.Unbound = pg.Members - pg.Bound
	if pg.Members > 0 {
		pg.BoundPercent = fmt.Sprintf("%.1f%%", 100*float64(pg.Bound)/float64(pg.Members))
	}
	if n := len(d.Years); n > 0 {
		pg.LatestYear = d.Years[n-1]
	}
	pg.YearChart = yearChart(d.Years, pg.YearTotals)
	pg.UnitChart = unitChart(d.Units, 15)
	if auth.Can(p, auth.ReadLegalCases) {
		year := s.now().In(shanghai).Year()
		y, err := s.db.LegalYearly(r.Context(), year, unit)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		counts, err := s.db.LegalCounts(r.Context(), unit)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		pg.Legal = &legalDashboard{Year: year, Cases: y.Cases, Ratings: y.Ratings.Count, Average: averageText(y.Ratings), Counts: counts}
	}
	if auth.Can(p, auth.ReadClaimStats) {
		y, err := s.db.YearlyFigures(r.Context(), s.now().In(shanghai).Year(), unit)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v := viewYearly(y)
		pg.Aid = &v
	}
	s.render(w, r, "dashboard", &pageData{Title: "概览", Data: pg})
}
