package claims

import (
	"fmt"
	"time"
)

// Rules are a union's payout rules for mutual-aid claims. Storage keeps them versioned and
// each claim records the version its estimate used; the estimate reaches members only once
// an admin has saved the union's own (until then the example below is in force and marked
// as such).
type Rules struct {
	// WaitingDays is the waiting period (观察期): an admission less than this many days after
	// the member's enrolment is not covered. 0: none.
	WaitingDays int `json:"waiting_days"`
	// ClaimWindowDays is how long after the end of the cover period a claim may still be
	// filed (Inner Mongolia: 90 days after the unit's cover period).
	ClaimWindowDays int `json:"claim_window_days"`
	// Deductible (起付线) is taken off the out-of-pocket cost of each claim before the bands.
	Deductible Fen `json:"deductible"`
	// Bands reimburse the out-of-pocket cost above the deductible progressively: each band
	// pays its ratio on the part of the cost that falls inside it.
	Bands []Band `json:"bands"`
	// PerClaimCap and PerYearCap bound one claim and all of a member's claims of one cover
	// year. 0: no cap.
	PerClaimCap Fen `json:"per_claim_cap"`
	PerYearCap  Fen `json:"per_year_cap"`
	// Allowance is the hospital plan's per-day allowance (住院补贴) by full years of
	// membership at admission: the tier with the highest MinYears not above them applies.
	Allowance []AllowanceTier `json:"hospital_allowance"`
	// AllowanceMaxDays caps the days the allowance is paid for, per stay. 0: no cap.
	AllowanceMaxDays int `json:"allowance_max_days"`
	// MinPerStay is the least a covered hospital stay pays (Inner Mongolia: 200 元).
	MinPerStay Fen `json:"min_per_stay"`
}

// Band is one reimbursement band: the part of the cost base up to UpTo (0: without bound,
// only for the last band) above the previous band's UpTo is paid at RatioPct percent.
type Band struct {
	UpTo     Fen `json:"up_to"`
	RatioPct int `json:"ratio_pct"`
}

// AllowanceTier is the per-day hospital allowance from MinYears full years of membership.
type AllowanceTier struct {
	MinYears int `json:"min_years"`
	PerDay   Fen `json:"per_day"`
}

// ExampleRules are the documented example the rules start from (DOMAIN §3.2, Inner
// Mongolia's programme): claim window 90 days after the cover period, no waiting period
// (none is stated), minimum 200 元 per hospital stay, 10–30 元 a day of hospital allowance
// by years of membership, a 50万 yearly cap. The reimbursement bands and the allowance's
// year thresholds were NOT found in the sources: the figures here only illustrate the shape,
// and a union must replace them with its own plan's before estimates reach members.
func ExampleRules() Rules {
	return Rules{
		WaitingDays:     0,
		ClaimWindowDays: 90,
		Deductible:      0,
		Bands: []Band{
			{UpTo: Yuan(5000), RatioPct: 50},
			{UpTo: Yuan(20000), RatioPct: 60},
			{UpTo: 0, RatioPct: 70},
		},
		PerClaimCap: 0,
		PerYearCap:  Yuan(500000),
		Allowance: []AllowanceTier{
			{MinYears: 0, PerDay: Yuan(10)},
			{MinYears: 5, PerDay: Yuan(20)},
			{MinYears: 10, PerDay: Yuan(30)},
		},
		AllowanceMaxDays: 0,
		MinPerStay:       Yuan(200),
	}
}

// RulesError names what is wrong with a set of rules, in Chinese for the admin who
// entered them.
type RulesError struct{ Msg string }

func (e *RulesError) Error() string { return "claim rules: " + e.Msg }

// Message is the problem in Chinese.
func (e *RulesError) Message() string { return e.Msg }

// maxDays bounds the day counts of the rules: ten years is beyond any real plan.
const maxDays = 3650

// Validate reports the first problem of r, nil when the rules can be applied.
func (r Rules) Validate() error {
	// if-chains rather than a tagless switch, here and in Check and Days: the mutation
	// tester sees case expressions as uncovered, and these are the lines that must be right.
	bad := func(format string, a ...any) error { return &RulesError{fmt.Sprintf(format, a...)} }
	if r.WaitingDays < 0 || r.WaitingDays > maxDays {
		return bad("观察期天数须在 0 到 %d 之间", maxDays)
	}
	if r.ClaimWindowDays < 0 || r.ClaimWindowDays > maxDays {
		return bad("申领期限天数须在 0 到 %d 之间", maxDays)
	}
	if r.AllowanceMaxDays < 0 || r.AllowanceMaxDays > maxDays {
		return bad("住院补贴最多天数须在 0 到 %d 之间", maxDays)
	}
	if r.Deductible < 0 || r.PerClaimCap < 0 || r.PerYearCap < 0 || r.MinPerStay < 0 {
		return bad("起付线、封顶金额和最低金额不能为负数")
	}
	if len(r.Bands) == 0 {
		return bad("至少需要一个报销段")
	}
	var prev Fen
	for i, b := range r.Bands {
		last := i == len(r.Bands)-1
		if b.RatioPct < 0 || b.RatioPct > 100 {
			return bad("第 %d 段的报销比例须在 0 到 100 之间", i+1)
		}
		if b.UpTo == 0 && !last {
			return bad("只有最后一段可以不设上限")
		}
		if b.UpTo != 0 && b.UpTo <= prev {
			return bad("第 %d 段的上限须高于前一段", i+1)
		}
		prev = b.UpTo
	}
	for i, t := range r.Allowance {
		if t.PerDay < 0 {
			return bad("住院补贴第 %d 档的每日金额不能为负数", i+1)
		}
		if t.MinYears < 0 || (i > 0 && t.MinYears <= r.Allowance[i-1].MinYears) {
			return bad("住院补贴各档的会龄须从小到大、互不相同")
		}
	}
	return nil
}

// Case is what a claim says about the event.
type Case struct {
	Plan         Plan
	AdmittedOn   time.Time // admission, or the date of treatment or of the accident
	DischargedOn time.Time // discharge; the admission date when there was no stay
	OutOfPocket  Fen       // 个人自付: the cost base of the bands
	FiledOn      time.Time // when the claim was (or will be) submitted
}

// Cover is what the estimate needs to know of the member.
type Cover struct {
	JoinedOn   time.Time // union membership since; zero when unknown (counted as 0 years)
	EnrolledOn time.Time // start of the member's continuous mutual-aid cover (the waiting period runs from it); CoverFrom when zero
	CoverFrom  time.Time // the cover period the admission falls in
	CoverTo    time.Time
	// PaidThisYear is what the member's other claims of the same cover year were approved
	// or paid, for the yearly cap.
	PaidThisYear Fen
}

// Refusal is why a claim pays nothing under the rules ("" when it is covered).
type Refusal string

// The refusals.
const (
	RefusedDates        Refusal = "dates"          // discharge before admission
	RefusedNotCovered   Refusal = "not_covered"    // admission outside the cover period
	RefusedWaiting      Refusal = "waiting_period" // admission inside the waiting period
	RefusedWindowClosed Refusal = "window_closed"  // filed after the claim window
)

var refusalText = map[Refusal]string{
	RefusedDates:        "出院日期早于入院日期",
	RefusedNotCovered:   "入院日期不在您的互助保障期内",
	RefusedWaiting:      "入院日期在观察期内",
	RefusedWindowClosed: "已超过申领期限",
}

// Text is the refusal in Chinese.
func (r Refusal) Text() string { return refusalText[r] }

// Cap names the cap that cut an estimate.
type Cap string

// The caps.
const (
	CapPerClaim Cap = "per_claim"
	CapPerYear  Cap = "per_year"
)

// Estimate is the payout the rules give a claim, with the figures that make it up so that
// a reviewer (and the member's summary) can follow it.
type Estimate struct {
	Amount    Fen     `json:"amount"`
	Refusal   Refusal `json:"refusal,omitempty"`
	Base      Fen     `json:"base"`       // out-of-pocket above the deductible
	FromBands Fen     `json:"from_bands"` // what the bands pay on Base
	Days      int     `json:"days"`       // hospital days the allowance is paid for
	PerDay    Fen     `json:"per_day"`
	Allowance Fen     `json:"allowance"`
	Minimum   bool    `json:"minimum,omitempty"` // raised to the minimum per stay
	Capped    Cap     `json:"capped,omitempty"`
}

// Check reports why the rules refuse c under cover, "" when they do not. Dates are compared
// as calendar dates.
func (r Rules) Check(c Case, cover Cover) Refusal {
	adm, dis := day(c.AdmittedOn), day(c.DischargedOn)
	enrolled := cover.EnrolledOn
	if enrolled.IsZero() {
		enrolled = cover.CoverFrom
	}
	if dis < adm {
		return RefusedDates
	}
	if adm < day(cover.CoverFrom) || adm > day(cover.CoverTo) {
		return RefusedNotCovered
	}
	if adm < day(enrolled)+int64(r.WaitingDays) {
		return RefusedWaiting
	}
	if day(c.FiledOn) > day(cover.CoverTo)+int64(r.ClaimWindowDays) {
		return RefusedWindowClosed
	}
	return ""
}

// Estimate computes the payout of c under r. Fractions of a fen are dropped (the union
// never pays more than the rules say). The order is: bands on the out-of-pocket cost above
// the deductible; for the hospital plan, plus the per-day allowance, then at least the
// minimum per stay; then the per-claim cap; then what is left of the yearly cap.
func (r Rules) Estimate(c Case, cover Cover) Estimate {
	if ref := r.Check(c, cover); ref != "" {
		return Estimate{Refusal: ref}
	}
	var e Estimate
	e.Base = max(c.OutOfPocket-r.Deductible, 0)
	e.FromBands = r.bands(e.Base)
	e.Amount = e.FromBands
	if c.Plan == Hospital {
		e.Days = Days(c.AdmittedOn, c.DischargedOn)
		if r.AllowanceMaxDays > 0 {
			e.Days = min(e.Days, r.AllowanceMaxDays)
		}
		e.PerDay = r.perDay(YearsBetween(cover.JoinedOn, c.AdmittedOn))
		e.Allowance = e.PerDay * Fen(e.Days)
		e.Amount += e.Allowance
		if e.Amount < r.MinPerStay {
			e.Amount, e.Minimum = r.MinPerStay, true
		}
	}
	if r.PerClaimCap > 0 && e.Amount > r.PerClaimCap {
		e.Amount, e.Capped = r.PerClaimCap, CapPerClaim
	}
	if r.PerYearCap > 0 {
		left := max(r.PerYearCap-cover.PaidThisYear, 0)
		if e.Amount > left {
			e.Amount, e.Capped = left, CapPerYear
		}
	}
	return e
}

// bands pays base through the bands: the sum of each band's part times its ratio, in
// hundredths of a fen, cut to whole fen once at the end.
func (r Rules) bands(base Fen) Fen {
	var lower, sum Fen
	for _, b := range r.Bands {
		upper := b.UpTo
		if b.UpTo == 0 {
			upper = base
		}
		part := max(min(upper, base)-lower, 0)
		sum += part * Fen(b.RatioPct)
		lower += part
	}
	return sum / 100
}

// perDay is the allowance of the highest tier reached with years of membership.
func (r Rules) perDay(years int) Fen {
	var v Fen
	for _, t := range r.Allowance {
		if years >= t.MinYears {
			v = t.PerDay
		}
	}
	return v
}

// Days is the length of a hospital stay in days: discharge minus admission, the admission
// and discharge days counting as one, and a stay that ends the day it began as one day. 0
// when discharge is before admission.
func Days(admitted, discharged time.Time) int {
	d := day(discharged) - day(admitted)
	if d < 0 {
		return 0
	}
	return int(max(d, 1))
}

// YearsBetween is the number of full years from since to at (0 when since is zero or
// after at): a member who joined on 2020-03-10 has 5 years on 2025-03-10 and 4 the day
// before.
func YearsBetween(since, at time.Time) int {
	if since.IsZero() {
		return 0
	}
	y := at.Year() - since.Year()
	if at.Month() < since.Month() || (at.Month() == since.Month() && at.Day() < since.Day()) {
		y--
	}
	return max(y, 0)
}

// day is t's calendar date (in t's own location) as a day number.
func day(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}
