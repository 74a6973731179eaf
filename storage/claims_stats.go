package storage

// The yearly mutual-aid figures a union reports ("40家单位的70名职工办理了互助金申领手续，共发
// 放互助金5.5万余元"), per grassroots union and in total, the premiums units pay that they sum,
// and the 公示 list for the notice board.

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"unionbot/claims"
	"unionbot/pii"
)

// SetUnitPremium records what a unit paid for its members' cover of a year (grassroots
// unions pay collectively), replacing an earlier figure.
func (db *DB) SetUnitPremium(ctx context.Context, unitID int64, year int, amount claims.Fen, audit AuditEntry) error {
	if unitID <= 0 || year < 2000 || year > 2200 || amount < 0 {
		return fmt.Errorf("set premium: %w: unit, year or amount out of range", ErrInvalid)
	}
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		var before sql.NullInt64
		if err := tx.GetContext(ctx, &before, `SELECT amount FROM unit_premiums WHERE unit_id = ? AND year = ?`, unitID, year); err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("set premium: %w", err)
		}
		q := `INSERT INTO unit_premiums (unit_id, year, amount, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (unit_id, year) DO UPDATE SET amount = excluded.amount, updated_at = excluded.updated_at`
		if db.mysql() {
			q = `INSERT INTO unit_premiums (unit_id, year, amount, updated_at) VALUES (?, ?, ?, ?)
ON DUPLICATE KEY UPDATE amount = VALUES(amount), updated_at = VALUES(updated_at)`
		}
		if _, err := tx.ExecContext(ctx, q, unitID, year, int64(amount), db.now()); err != nil {
			return fmt.Errorf("set premium: %w", mapErr(err))
		}
		audit.Action, audit.Subject = "premium.set", fmt.Sprintf("unit:%d", unitID)
		audit.Before = map[string]string{"year": fmt.Sprint(year)}
		if before.Valid {
			audit.Before["amount"] = claims.Fen(before.Int64).String()
		}
		audit.After = map[string]string{"year": fmt.Sprint(year), "amount": amount.String()}
		return db.auditTx(ctx, tx, audit)
	})
}

// UnitPremium is what a unit paid for a year's cover; Set is false when nothing is recorded.
type UnitPremium struct {
	UnitID    int64
	Unit      string
	Amount    claims.Fen
	Set       bool
	UpdatedAt time.Time
}

// UnitPremiums lists every unit (by name) with its premium of year, for one unit when
// unitID is not 0.
func (db *DB) UnitPremiums(ctx context.Context, year int, unitID int64) ([]UnitPremium, error) {
	q := `SELECT u.id, u.name, p.amount, p.updated_at FROM units u
LEFT JOIN unit_premiums p ON p.unit_id = u.id AND p.year = ?`
	args := []any{year}
	if unitID != 0 {
		q, args = q+` WHERE u.id = ?`, append(args, unitID)
	}
	var rows []struct {
		ID        int64         `db:"id"`
		Name      string        `db:"name"`
		Amount    sql.NullInt64 `db:"amount"`
		UpdatedAt sql.NullTime  `db:"updated_at"`
	}
	if err := db.r.SelectContext(ctx, &rows, q+` ORDER BY u.name`, args...); err != nil {
		return nil, fmt.Errorf("unit premiums: %w", err)
	}
	out := make([]UnitPremium, len(rows))
	for i, r := range rows {
		out[i] = UnitPremium{UnitID: r.ID, Unit: r.Name, Amount: claims.Fen(r.Amount.Int64), Set: r.Amount.Valid,
			UpdatedAt: r.UpdatedAt.Time.UTC()}
	}
	return out, nil
}

// UnitYear is one unit's (or the total's) mutual-aid figures of a year. Claims count those
// submitted in the year (China time), withdrawn ones left out; Approved sums the approved
// amounts of those approved, paid or awaiting a corrected card; Paid those paid.
type UnitYear struct {
	UnitID     int64
	Unit       string
	Enrolled   int // members enrolled in the year's cover
	Premiums   claims.Fen
	Claims     int
	Claimants  int // distinct members with a claim
	Approved   claims.Fen
	PaidClaims int
	Paid       claims.Fen
	LegalCases int // legal-aid requests of the unit's members submitted in the year
}

// Yearly is a year's figures: the units with any enrolment, premium or claim (by name) and
// the total, which counts each member once however many units they claimed in.
type Yearly struct {
	Year            int
	Units           []UnitYear
	Total           UnitYear
	UnitsWithClaims int
}

const yearlyClaimsSelect = `SELECT %s AS unit_id, COUNT(*) AS n, COUNT(DISTINCT c.member_id) AS claimants,
    COALESCE(SUM(CASE WHEN c.status IN (?, ?, ?) THEN c.approved_amount ELSE 0 END), 0) AS approved,
    COALESCE(SUM(CASE WHEN c.status = ? THEN 1 ELSE 0 END), 0) AS paid_claims,
    COALESCE(SUM(CASE WHEN c.status = ? THEN c.approved_amount ELSE 0 END), 0) AS paid
FROM claims c WHERE c.submitted_at >= ? AND c.submitted_at < ? AND c.status <> ? %s`

type yearlyClaimsRow struct {
	UnitID     sql.NullInt64 `db:"unit_id"`
	N          int           `db:"n"`
	Claimants  int           `db:"claimants"`
	Approved   int64         `db:"approved"`
	PaidClaims int           `db:"paid_claims"`
	Paid       int64         `db:"paid"`
}

// YearlyFigures returns the figures of year, for one unit when unitID is not 0.
func (db *DB) YearlyFigures(ctx context.Context, year int, unitID int64) (Yearly, error) {
	out := Yearly{Year: year}
	units, err := db.Units(ctx)
	if err != nil {
		return Yearly{}, err
	}
	rows := map[int64]*UnitYear{}
	for _, u := range units {
		if unitID == 0 || u.ID == unitID {
			rows[u.ID] = &UnitYear{UnitID: u.ID, Unit: u.Name}
		}
	}
	unitCond, unitArgs := "", []any{}
	if unitID != 0 {
		unitCond, unitArgs = ` AND m.unit_id = ?`, []any{unitID}
	}
	var enrolled []struct {
		UnitID int64 `db:"unit_id"`
		N      int   `db:"n"`
	}
	if err := db.r.SelectContext(ctx, &enrolled, `SELECT m.unit_id, COUNT(*) AS n FROM mutual_aid_enrollments e
JOIN members m ON m.id = e.member_id WHERE e.year = ? AND m.unit_id IS NOT NULL`+unitCond+` GROUP BY m.unit_id`,
		append([]any{year}, unitArgs...)...); err != nil {
		return Yearly{}, fmt.Errorf("yearly enrolment: %w", err)
	}
	for _, e := range enrolled {
		if r := rows[e.UnitID]; r != nil {
			r.Enrolled = e.N
		}
	}
	var premiums []struct {
		UnitID int64 `db:"unit_id"`
		Amount int64 `db:"amount"`
	}
	if err := db.r.SelectContext(ctx, &premiums, `SELECT unit_id, amount FROM unit_premiums WHERE year = ?`, year); err != nil {
		return Yearly{}, fmt.Errorf("yearly premiums: %w", err)
	}
	for _, p := range premiums {
		if r := rows[p.UnitID]; r != nil {
			r.Premiums = claims.Fen(p.Amount)
		}
	}
	from, to := yearBounds(year)
	args := []any{string(claims.Approved), string(claims.Paid), string(claims.PaymentFailed), string(claims.Paid),
		string(claims.Paid), from, to, string(claims.Withdrawn)}
	claimCond := ""
	if unitID != 0 {
		claimCond, args = ` AND c.unit_id = ?`, append(args, unitID)
	}
	var perUnit []yearlyClaimsRow
	if err := db.r.SelectContext(ctx, &perUnit, fmt.Sprintf(yearlyClaimsSelect, "c.unit_id", claimCond)+` GROUP BY c.unit_id`, args...); err != nil {
		return Yearly{}, fmt.Errorf("yearly claims: %w", err)
	}
	for _, c := range perUnit {
		if r := rows[c.UnitID.Int64]; r != nil {
			r.Claims, r.Claimants, r.Approved, r.PaidClaims, r.Paid = c.N, c.Claimants, claims.Fen(c.Approved), c.PaidClaims, claims.Fen(c.Paid)
		}
	}
	var total yearlyClaimsRow
	if err := db.r.GetContext(ctx, &total, fmt.Sprintf(yearlyClaimsSelect, "0", claimCond), args...); err != nil {
		return Yearly{}, fmt.Errorf("yearly claims total: %w", err)
	}
	var legal []struct {
		UnitID int64 `db:"unit_id"`
		N      int   `db:"n"`
	}
	legalArgs := []any{from, to}
	legalCond := ""
	if unitID != 0 {
		legalCond, legalArgs = ` AND unit_id = ?`, append(legalArgs, unitID)
	}
	if err := db.r.SelectContext(ctx, &legal, `SELECT unit_id, COUNT(*) AS n FROM legal_cases
WHERE submitted_at >= ? AND submitted_at < ? AND unit_id IS NOT NULL`+legalCond+` GROUP BY unit_id`, legalArgs...); err != nil {
		return Yearly{}, fmt.Errorf("yearly legal cases: %w", err)
	}
	for _, l := range legal {
		if r := rows[l.UnitID]; r != nil {
			r.LegalCases = l.N
		}
	}
	out.Total = UnitYear{Unit: "合计", Claims: total.N, Claimants: total.Claimants, Approved: claims.Fen(total.Approved),
		PaidClaims: total.PaidClaims, Paid: claims.Fen(total.Paid)}
	for _, r := range rows {
		if r.Enrolled == 0 && r.Premiums == 0 && r.Claims == 0 && r.LegalCases == 0 {
			continue
		}
		out.Units = append(out.Units, *r)
		out.Total.Enrolled += r.Enrolled
		out.Total.Premiums += r.Premiums
		out.Total.LegalCases += r.LegalCases
		if r.Claims > 0 {
			out.UnitsWithClaims++
		}
	}
	slices.SortFunc(out.Units, func(a, b UnitYear) int { return strings.Compare(a.Unit, b.Unit) })
	return out, nil
}

// PublicEntry is one line of the 公示 list: a masked name, the unit and the amount — never
// the plan or the diagnosis.
type PublicEntry struct {
	Name   string // masked: 张*
	Unit   string
	Amount claims.Fen
}

// PublicList is the 公示 list of a year: the claims submitted in it that were approved
// (paid, or waiting for a corrected card too: the aid is granted), with the amount approved, for one unit when unitID is not 0, by unit then filing order.
func (db *DB) PublicList(ctx context.Context, year int, unitID int64) ([]PublicEntry, error) {
	from, to := yearBounds(year)
	q := `SELECT m.name_enc, u.name AS unit_name, c.approved_amount FROM claims c JOIN members m ON m.id = c.member_id
LEFT JOIN units u ON u.id = c.unit_id WHERE c.submitted_at >= ? AND c.submitted_at < ? AND c.status IN (?, ?, ?)`
	args := []any{from, to, string(claims.Approved), string(claims.Paid), string(claims.PaymentFailed)}
	if unitID != 0 {
		q, args = q+` AND c.unit_id = ?`, append(args, unitID)
	}
	var rows []struct {
		NameEnc string         `db:"name_enc"`
		Unit    sql.NullString `db:"unit_name"`
		Amount  sql.NullInt64  `db:"approved_amount"`
	}
	if err := db.r.SelectContext(ctx, &rows, q+` ORDER BY u.name, c.id`, args...); err != nil {
		return nil, fmt.Errorf("public list: %w", err)
	}
	out := make([]PublicEntry, 0, len(rows))
	for _, r := range rows {
		name, err := db.decrypt(r.NameEnc)
		if err != nil {
			return nil, fmt.Errorf("public list: decrypt name: %w", err)
		}
		out = append(out, PublicEntry{Name: pii.MaskName(name), Unit: r.Unit.String, Amount: claims.Fen(r.Amount.Int64)})
	}
	return out, nil
}
