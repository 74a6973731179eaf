package storage

// The yearly legal-aid figures (issue 12): cases by type, by outcome and by unit, and the
// satisfaction follow-up (满意度回访) per officer and per month, as the 12351 platforms
// report them. A year's cases are those submitted in it (China time), like claims; a
// year's ratings are those given in it.

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"unionbot/legalaid"
)

// LegalTally is how many cases have one value (a type, an outcome, a unit).
type LegalTally struct {
	Key   string // the code: wage_arrears, mediated, "open" (not closed yet), a unit's name
	Label string // in Chinese
	Count int
}

// LegalRatings sums satisfaction ratings (1–5).
type LegalRatings struct {
	Key, Label string // the officer's username and name, or the month (01–12) and 1月…
	Count, Sum int
}

// Average is the mean rating, 0 without ratings.
func (r LegalRatings) Average() float64 {
	if r.Count == 0 {
		return 0
	}
	return float64(r.Sum) / float64(r.Count)
}

// LegalYear is a year's legal-aid figures.
type LegalYear struct {
	Year      int
	Cases     int // submitted in the year, crisis cases included
	Urgent    int
	NonMember int
	Closed    int
	ByType    []LegalTally // every type in the order of the request form, then crisis
	ByOutcome []LegalTally // every outcome, then "open"
	ByUnit    []LegalTally // units with cases by name, then the non-members' (Key "")
	Ratings   LegalRatings // all ratings given in the year
	ByOfficer []LegalRatings
	ByMonth   []LegalRatings // 12 months, January first
}

// LegalYearly returns the legal-aid figures of year, for one unit when unitID is not 0
// (whose officers never see non-members' cases).
func (db *DB) LegalYearly(ctx context.Context, year int, unitID int64) (LegalYear, error) {
	from, to := yearBounds(year)
	out := LegalYear{Year: year}
	cond, args := ``, []any{}
	if unitID != 0 {
		cond, args = ` AND c.unit_id = ?`, []any{unitID}
	}
	var cases []struct {
		Type    string         `db:"type"`
		Status  string         `db:"status"`
		Outcome string         `db:"outcome"`
		Urgent  bool           `db:"urgent"`
		Unit    sql.NullString `db:"unit_name"`
	}
	if err := db.r.SelectContext(ctx, &cases, `SELECT c.type, c.status, c.outcome, c.urgent, u.name AS unit_name
FROM legal_cases c LEFT JOIN units u ON u.id = c.unit_id WHERE c.submitted_at >= ? AND c.submitted_at < ?`+cond,
		append([]any{from, to}, args...)...); err != nil {
		return LegalYear{}, fmt.Errorf("legal yearly cases: %w", err)
	}
	types := map[string]int{}
	outcomes := map[string]int{}
	units := map[string]int{}
	for _, c := range cases {
		out.Cases++
		types[c.Type]++
		if c.Urgent {
			out.Urgent++
		}
		if c.Status == string(legalaid.Closed) {
			out.Closed++
			outcomes[c.Outcome]++
		} else {
			outcomes["open"]++
		}
		if !c.Unit.Valid {
			out.NonMember++
		}
		units[c.Unit.String]++
	}
	for _, t := range append(slices.Clone(legalaid.Types), legalaid.Crisis) {
		out.ByType = append(out.ByType, LegalTally{Key: string(t), Label: t.Label(), Count: types[string(t)]})
	}
	for _, o := range legalaid.Outcomes {
		out.ByOutcome = append(out.ByOutcome, LegalTally{Key: string(o), Label: o.Label(), Count: outcomes[string(o)]})
	}
	out.ByOutcome = append(out.ByOutcome, LegalTally{Key: "open", Label: "未结案", Count: outcomes["open"]})
	for name, n := range units {
		if name != "" {
			out.ByUnit = append(out.ByUnit, LegalTally{Key: name, Label: name, Count: n})
		}
	}
	slices.SortFunc(out.ByUnit, func(a, b LegalTally) int { return strings.Compare(a.Key, b.Key) })
	if n := units[""]; n > 0 {
		out.ByUnit = append(out.ByUnit, LegalTally{Label: "非会员", Count: n})
	}

	var ratings []struct {
		Rating   int            `db:"satisfaction"`
		RatedAt  time.Time      `db:"rated_at"`
		Assignee sql.NullString `db:"assignee"`
		Name     sql.NullString `db:"display_name"`
	}
	if err := db.r.SelectContext(ctx, &ratings, `SELECT c.satisfaction, c.rated_at, c.assignee, o.display_name
FROM legal_cases c LEFT JOIN officers o ON o.username = c.assignee
WHERE c.satisfaction IS NOT NULL AND c.rated_at >= ? AND c.rated_at < ?`+cond, append([]any{from, to}, args...)...); err != nil {
		return LegalYear{}, fmt.Errorf("legal yearly ratings: %w", err)
	}
	out.ByMonth = make([]LegalRatings, 12)
	for i := range out.ByMonth {
		out.ByMonth[i] = LegalRatings{Key: fmt.Sprintf("%02d", i+1), Label: fmt.Sprintf("%d月", i+1)}
	}
	officers := map[string]*LegalRatings{}
	for _, r := range ratings {
		out.Ratings.Count++
		out.Ratings.Sum += r.Rating
		m := &out.ByMonth[r.RatedAt.In(chinaTime).Month()-1]
		m.Count++
		m.Sum += r.Rating
		o := officers[r.Assignee.String]
		if o == nil {
			label := r.Name.String
			switch {
			case !r.Assignee.Valid:
				label = "未分派"
			case label == "":
				label = r.Assignee.String
			}
			o = &LegalRatings{Key: r.Assignee.String, Label: label}
			officers[r.Assignee.String] = o
		}
		o.Count++
		o.Sum += r.Rating
	}
	for _, o := range officers {
		out.ByOfficer = append(out.ByOfficer, *o)
	}
	slices.SortFunc(out.ByOfficer, func(a, b LegalRatings) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}
