package storage

// Figures for the console's dashboard (概览): members bound and not, followers, mutual-aid
// enrolment by year, per grassroots union.

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
)

// UnitFigures are one unit's counts. Members counts those on the roll (在册).
type UnitFigures struct {
	UnitID   int64
	Unit     string
	Members  int
	Bound    int
	Enrolled map[int]int // year → members enrolled in mutual aid that year
}

// Dashboard is what the overview page shows.
type Dashboard struct {
	Units     []UnitFigures // by unit name
	Years     []int         // every enrolment year present, ascending
	Followers int           // followers subscribed now (county level only: not per unit)
}

const selectUnitFigures = `SELECT u.id, u.name,
    COUNT(m.id) AS members,
    COALESCE(SUM(CASE WHEN m.open_id IS NOT NULL THEN 1 ELSE 0 END), 0) AS bound
FROM units u LEFT JOIN members m ON m.unit_id = u.id AND m.status = ?
%s GROUP BY u.id, u.name ORDER BY u.name`

const selectEnrolmentFigures = `SELECT m.unit_id, e.year, COUNT(*) AS n
FROM mutual_aid_enrollments e JOIN members m ON m.id = e.member_id
WHERE m.unit_id IS NOT NULL %s GROUP BY m.unit_id, e.year`

type unitFigureRow struct {
	ID      int64  `db:"id"`
	Name    string `db:"name"`
	Members int    `db:"members"`
	Bound   int    `db:"bound"`
}

type enrolmentRow struct {
	UnitID sql.NullInt64 `db:"unit_id"`
	Year   int           `db:"year"`
	N      int           `db:"n"`
}

// DashboardFigures counts per unit; unitID > 0 restricts to that unit.
func (db *DB) DashboardFigures(ctx context.Context, unitID int64) (Dashboard, error) {
	unitWhere, enrolWhere := "", ""
	args, enrolArgs := []any{StatusActive}, []any{}
	if unitID > 0 {
		unitWhere, enrolWhere = "WHERE u.id = ?", "AND m.unit_id = ?"
		args, enrolArgs = append(args, unitID), append(enrolArgs, unitID)
	}
	var units []unitFigureRow
	if err := db.r.SelectContext(ctx, &units, fmt.Sprintf(selectUnitFigures, unitWhere), args...); err != nil {
		return Dashboard{}, fmt.Errorf("dashboard units: %w", err)
	}
	var enrol []enrolmentRow
	if err := db.r.SelectContext(ctx, &enrol, fmt.Sprintf(selectEnrolmentFigures, enrolWhere), enrolArgs...); err != nil {
		return Dashboard{}, fmt.Errorf("dashboard enrolment: %w", err)
	}
	var d Dashboard
	idx := make(map[int64]int, len(units))
	for i, u := range units {
		idx[u.ID] = i
		d.Units = append(d.Units, UnitFigures{UnitID: u.ID, Unit: u.Name, Members: u.Members, Bound: u.Bound, Enrolled: map[int]int{}})
	}
	for _, e := range enrol {
		if i, ok := idx[e.UnitID.Int64]; ok {
			d.Units[i].Enrolled[e.Year] += e.N
			if !slices.Contains(d.Years, e.Year) {
				d.Years = append(d.Years, e.Year)
			}
		}
	}
	slices.Sort(d.Years)
	if err := db.r.GetContext(ctx, &d.Followers, `SELECT COUNT(*) FROM followers WHERE subscribed = 1`); err != nil {
		return Dashboard{}, fmt.Errorf("dashboard followers: %w", err)
	}
	return d, nil
}
