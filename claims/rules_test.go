package claims

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func d(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// testRules exercise every parameter. The expected figures in the cases below are worked
// out by hand in the comments, not by running the code.
var testRules = Rules{
	WaitingDays:     30,
	ClaimWindowDays: 90,
	Deductible:      Yuan(500),
	Bands: []Band{
		{UpTo: Yuan(5000), RatioPct: 50},
		{UpTo: Yuan(20000), RatioPct: 60},
		{UpTo: 0, RatioPct: 70},
	},
	PerClaimCap:      Yuan(30000),
	PerYearCap:       Yuan(50000),
	Allowance:        []AllowanceTier{{0, Yuan(10)}, {5, Yuan(20)}, {10, Yuan(30)}},
	AllowanceMaxDays: 60,
	MinPerStay:       Yuan(200),
}

// cover2026 is a member since 2019-06-15, covered since 2025, cover year 2026.
var cover2026 = Cover{JoinedOn: d("2019-06-15"), EnrolledOn: d("2025-01-01"), CoverFrom: d("2026-01-01"), CoverTo: d("2026-12-31")}

func hospital(adm, dis string, oop Fen) Case {
	return Case{Plan: Hospital, AdmittedOn: d(adm), DischargedOn: d(dis), OutOfPocket: oop, FiledOn: d("2026-12-01")}
}

func TestEstimate(t *testing.T) {
	withPaid := func(c Cover, paid Fen) Cover { c.PaidThisYear = paid; return c }
	newcomer := cover2026
	newcomer.EnrolledOn = time.Time{} // waiting period from CoverFrom 2026-01-01: covered from 2026-01-31
	cases := []struct {
		name  string
		rules Rules
		c     Case
		cover Cover
		want  Estimate
	}{
		{
			// base 12500-500 = 12000; bands 5000×50% + 7000×60% = 2500 + 4200 = 6700;
			// 6 full years on 2026-03-01 (joined 2019-06-15) → 20 元 × 10 days = 200; 6900.
			name: "hospital stay, middle tier", rules: testRules, c: hospital("2026-03-01", "2026-03-11", Yuan(12500)), cover: cover2026,
			want: Estimate{Amount: Yuan(6900), Base: Yuan(12000), FromBands: Yuan(6700), Days: 10, PerDay: Yuan(20), Allowance: Yuan(200)},
		},
		{
			// base 300-500 < 0 → 0; allowance 3 × 20 = 60 < 200 → raised to 200.
			name: "small stay raised to the minimum", rules: testRules, c: hospital("2026-03-01", "2026-03-04", Yuan(300)), cover: cover2026,
			want: Estimate{Amount: Yuan(200), Base: 0, FromBands: 0, Days: 3, PerDay: Yuan(20), Allowance: Yuan(60), Minimum: true},
		},
		{
			// base 700-500 = 200 → 100; allowance 5 × 20 = 100; 200 is exactly the minimum, not raised.
			name: "exactly the minimum", rules: testRules, c: hospital("2026-03-01", "2026-03-06", Yuan(700)), cover: cover2026,
			want: Estimate{Amount: Yuan(200), Base: Yuan(200), FromBands: Yuan(100), Days: 5, PerDay: Yuan(20), Allowance: Yuan(100)},
		},
		{
			// base 99500: 2500 + 15000×60% (9000) + 79500×70% (55650) = 67150; + 10 × 20 = 67350 → cap 30000.
			name: "per-claim cap", rules: testRules, c: hospital("2026-03-01", "2026-03-11", Yuan(100000)), cover: cover2026,
			want: Estimate{Amount: Yuan(30000), Base: Yuan(99500), FromBands: Yuan(67150), Days: 10, PerDay: Yuan(20), Allowance: Yuan(200), Capped: CapPerClaim},
		},
		{
			// 6900 as in the first case, but 45000 of 50000 already paid this year → 5000.
			name: "yearly cap partly used", rules: testRules, c: hospital("2026-03-01", "2026-03-11", Yuan(12500)), cover: withPaid(cover2026, Yuan(45000)),
			want: Estimate{Amount: Yuan(5000), Base: Yuan(12000), FromBands: Yuan(6700), Days: 10, PerDay: Yuan(20), Allowance: Yuan(200), Capped: CapPerYear},
		},
		{
			// 6900 with 43100 paid: exactly 6900 left, not capped.
			name: "yearly cap exactly reached", rules: testRules, c: hospital("2026-03-01", "2026-03-11", Yuan(12500)), cover: withPaid(cover2026, Yuan(43100)),
			want: Estimate{Amount: Yuan(6900), Base: Yuan(12000), FromBands: Yuan(6700), Days: 10, PerDay: Yuan(20), Allowance: Yuan(200)},
		},
		{
			// more than the cap already paid: nothing left (never negative), the minimum does not beat the cap.
			name: "yearly cap exhausted", rules: testRules, c: hospital("2026-03-01", "2026-03-04", Yuan(300)), cover: withPaid(cover2026, Yuan(60000)),
			want: Estimate{Amount: 0, Days: 3, PerDay: Yuan(20), Allowance: Yuan(60), Minimum: true, Capped: CapPerYear},
		},
		{
			// outpatient: no allowance, no minimum. base 3000.01-500 = 2500.01 → ×50% = 1250.005 → 1250.00 (fractions dropped).
			name: "outpatient drops the fraction of a fen", rules: testRules,
			c:     Case{Plan: OutpatientSpecial, AdmittedOn: d("2026-05-01"), DischargedOn: d("2026-05-01"), OutOfPocket: 300001, FiledOn: d("2026-05-02")},
			cover: cover2026,
			want:  Estimate{Amount: 125000, Base: 250001, FromBands: 125000},
		},
		{
			// base 20000 exactly fills two bands: 2500 + 15000×60% = 11500.
			name: "base on a band boundary", rules: testRules,
			c:     Case{Plan: Accident, AdmittedOn: d("2026-05-01"), DischargedOn: d("2026-05-01"), OutOfPocket: Yuan(20500), FiledOn: d("2026-05-02")},
			cover: cover2026,
			want:  Estimate{Amount: Yuan(11500), Base: Yuan(20000), FromBands: Yuan(11500)},
		},
		{
			// base 5000.01: 2500 + 0.01×60% = 2500.006 → 2500.00.
			name: "one fen into the second band", rules: testRules,
			c:     Case{Plan: CriticalIllness, AdmittedOn: d("2026-05-01"), DischargedOn: d("2026-05-09"), OutOfPocket: Yuan(5500) + 1, FiledOn: d("2026-05-20")},
			cover: cover2026,
			want:  Estimate{Amount: Yuan(2500), Base: Yuan(5000) + 1, FromBands: Yuan(2500)},
		},
		{
			// 70 days capped to 60; joined 2016-03-01, admitted 2026-03-01: exactly 10 years → 30 元;
			// base 1000-500 = 500 → 250; 250 + 60×30 (1800) = 2050.
			name: "allowance days capped, top tier on the anniversary", rules: testRules,
			c:     hospital("2026-03-01", "2026-05-10", Yuan(1000)),
			cover: Cover{JoinedOn: d("2016-03-01"), EnrolledOn: d("2020-01-01"), CoverFrom: d("2026-01-01"), CoverTo: d("2026-12-31")},
			want:  Estimate{Amount: Yuan(2050), Base: Yuan(500), FromBands: Yuan(250), Days: 60, PerDay: Yuan(30), Allowance: Yuan(1800)},
		},
		{
			// joined 2016-03-02: 9 years on 2026-03-01 → 20 元; same-day stay counts one day;
			// base 2500 → 1250 + 20 = 1270.
			name: "day before the anniversary, same-day stay", rules: testRules,
			c:     hospital("2026-03-01", "2026-03-01", Yuan(3000)),
			cover: Cover{JoinedOn: d("2016-03-02"), CoverFrom: d("2026-01-01"), CoverTo: d("2026-12-31")},
			want:  Estimate{Amount: Yuan(1270), Base: Yuan(2500), FromBands: Yuan(1250), Days: 1, PerDay: Yuan(20), Allowance: Yuan(20)},
		},
		{
			// unknown join date → 0 years → 10 元 × 4 = 40; base 4500 → 2250; 2290.
			name: "unknown join date gets the first tier", rules: testRules,
			c:     hospital("2026-08-01", "2026-08-05", Yuan(5000)),
			cover: Cover{CoverFrom: d("2026-01-01"), CoverTo: d("2026-12-31")},
			want:  Estimate{Amount: Yuan(2290), Base: Yuan(4500), FromBands: Yuan(2250), Days: 4, PerDay: Yuan(10), Allowance: Yuan(40)},
		},
		{
			// the example: no deductible, 6000 → 2500 + 1000×60% = 3100; 6 years → 20 × 10 = 200; 3300.
			name: "the example rules", rules: ExampleRules(), c: hospital("2026-03-01", "2026-03-11", Yuan(6000)), cover: cover2026,
			want: Estimate{Amount: Yuan(3300), Base: Yuan(6000), FromBands: Yuan(3100), Days: 10, PerDay: Yuan(20), Allowance: Yuan(200)},
		},
		{
			// no caps at all: 6900 as in the first case, whatever was paid before.
			name: "no caps", rules: func() Rules { r := testRules; r.PerClaimCap, r.PerYearCap = 0, 0; return r }(),
			c: hospital("2026-03-01", "2026-03-11", Yuan(12500)), cover: withPaid(cover2026, Yuan(1000000)),
			want: Estimate{Amount: Yuan(6900), Base: Yuan(12000), FromBands: Yuan(6700), Days: 10, PerDay: Yuan(20), Allowance: Yuan(200)},
		},
		{
			// a per-claim cap of exactly the amount does not mark the estimate capped.
			name: "exactly the per-claim cap", rules: func() Rules { r := testRules; r.PerClaimCap = Yuan(6900); return r }(),
			c: hospital("2026-03-01", "2026-03-11", Yuan(12500)), cover: cover2026,
			want: Estimate{Amount: Yuan(6900), Base: Yuan(12000), FromBands: Yuan(6700), Days: 10, PerDay: Yuan(20), Allowance: Yuan(200)},
		},
		{
			// one fen under: capped.
			name: "a fen over the per-claim cap", rules: func() Rules { r := testRules; r.PerClaimCap = Yuan(6900) - 1; return r }(),
			c: hospital("2026-03-01", "2026-03-11", Yuan(12500)), cover: cover2026,
			want: Estimate{Amount: Yuan(6900) - 1, Base: Yuan(12000), FromBands: Yuan(6700), Days: 10, PerDay: Yuan(20), Allowance: Yuan(200), Capped: CapPerClaim},
		},
		{name: "discharge before admission", rules: testRules, c: hospital("2026-03-02", "2026-03-01", Yuan(100)), cover: cover2026, want: Estimate{Refusal: RefusedDates}},
		{name: "admitted before the cover", rules: testRules, c: hospital("2025-12-31", "2026-01-05", Yuan(100)), cover: cover2026, want: Estimate{Refusal: RefusedNotCovered}},
		{name: "admitted after the cover", rules: testRules, c: hospital("2027-01-01", "2027-01-05", Yuan(100)), cover: cover2026, want: Estimate{Refusal: RefusedNotCovered}},
		{
			name: "last day of cover is covered", rules: testRules, c: hospital("2026-12-31", "2027-01-02", Yuan(500)), cover: cover2026,
			want: Estimate{Amount: Yuan(200), Days: 2, PerDay: Yuan(20), Allowance: Yuan(40), Minimum: true},
		},
		{
			name: "first day of cover is covered", rules: testRules, c: hospital("2026-01-01", "2026-01-02", Yuan(500)), cover: cover2026,
			want: Estimate{Amount: Yuan(200), Days: 1, PerDay: Yuan(20), Allowance: Yuan(20), Minimum: true},
		},
		{name: "inside the waiting period", rules: testRules, c: hospital("2026-01-30", "2026-02-02", Yuan(100)), cover: newcomer, want: Estimate{Refusal: RefusedWaiting}},
		{
			name: "first day after the waiting period", rules: testRules, c: hospital("2026-01-31", "2026-02-02", Yuan(500)), cover: newcomer,
			want: Estimate{Amount: Yuan(200), Days: 2, PerDay: Yuan(20), Allowance: Yuan(40), Minimum: true},
		},
		{
			name: "filed on the last day of the window", rules: testRules,
			c:     Case{Plan: Accident, AdmittedOn: d("2026-12-01"), DischargedOn: d("2026-12-01"), OutOfPocket: Yuan(700), FiledOn: d("2027-03-31")},
			cover: cover2026, want: Estimate{Amount: Yuan(100), Base: Yuan(200), FromBands: Yuan(100)},
		},
		{
			name: "filed a day too late", rules: testRules,
			c:     Case{Plan: Accident, AdmittedOn: d("2026-12-01"), DischargedOn: d("2026-12-01"), OutOfPocket: Yuan(700), FiledOn: d("2027-04-01")},
			cover: cover2026, want: Estimate{Refusal: RefusedWindowClosed},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.rules.Estimate(c.c, c.cover)
			if got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestBands(t *testing.T) {
	cases := []struct {
		name  string
		bands []Band
		base  Fen
		want  Fen
	}{
		// a bounded last band pays nothing above it: 1000 × 100%.
		{"bounded last band", []Band{{Yuan(1000), 100}}, Yuan(3000), Yuan(1000)},
		{"under the first bound", []Band{{Yuan(1000), 100}}, Yuan(400), Yuan(400)},
		// 0% then 80%: 1000 free-standing, 2000 × 80% = 1600.
		{"zero-ratio band", []Band{{Yuan(1000), 0}, {0, 80}}, Yuan(3000), Yuan(1600)},
		{"nothing to pay", []Band{{0, 90}}, 0, 0},
		// 3 fen at 33% = 0.99 fen → 0.
		{"a fraction of a fen", []Band{{0, 33}}, 3, 0},
		// 4 fen at 33% = 1.32 → 1.
		{"just over a fen", []Band{{0, 33}}, 4, 1},
	}
	for _, c := range cases {
		if got := (Rules{Bands: c.bands}).bands(c.base); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestDaysAndYears(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	days := []struct {
		a, b time.Time
		want int
	}{
		{d("2026-03-01"), d("2026-03-11"), 10},
		{d("2026-03-01"), d("2026-03-01"), 1},
		{d("2026-03-01"), d("2026-03-02"), 1},
		{d("2026-03-01"), d("2026-03-03"), 2},
		{d("2026-03-02"), d("2026-03-01"), 0},
		{d("2024-02-28"), d("2024-03-01"), 2}, // leap year
		// dates are the calendar dates of each time's own zone: 23:30 and 00:30 next day.
		{time.Date(2026, 3, 1, 23, 30, 0, 0, shanghai), time.Date(2026, 3, 3, 0, 30, 0, 0, shanghai), 2},
	}
	for _, c := range days {
		if got := Days(c.a, c.b); got != c.want {
			t.Errorf("Days(%s, %s): got %d, want %d", c.a, c.b, got, c.want)
		}
	}
	years := []struct {
		since, at string
		want      int
	}{
		{"2020-03-10", "2025-03-10", 5},
		{"2020-03-10", "2025-03-09", 4},
		{"2020-03-10", "2025-02-28", 4},
		{"2020-03-10", "2025-04-01", 5},
		{"2020-03-10", "2020-03-10", 0},
		{"2020-03-10", "2019-01-01", 0},
	}
	for _, c := range years {
		if got := YearsBetween(d(c.since), d(c.at)); got != c.want {
			t.Errorf("YearsBetween(%s, %s): got %d, want %d", c.since, c.at, got, c.want)
		}
	}
	if got := YearsBetween(time.Time{}, d("2025-01-01")); got != 0 {
		t.Errorf("YearsBetween(zero): got %d", got)
	}
}

func TestPerDay(t *testing.T) {
	for years, want := range map[int]Fen{0: Yuan(10), 4: Yuan(10), 5: Yuan(20), 9: Yuan(20), 10: Yuan(30), 40: Yuan(30)} {
		if got := testRules.perDay(years); got != want {
			t.Errorf("perDay(%d): got %v, want %v", years, got, want)
		}
	}
	late := Rules{Allowance: []AllowanceTier{{2, Yuan(15)}}}
	if got := late.perDay(1); got != 0 {
		t.Errorf("below the first tier: got %v", got)
	}
}

func TestRefusalText(t *testing.T) {
	for _, r := range []Refusal{RefusedDates, RefusedNotCovered, RefusedWaiting, RefusedWindowClosed} {
		if r.Text() == "" {
			t.Errorf("%s: no text", r)
		}
	}
	if RefusedWindowClosed.Text() != "已超过申领期限" {
		t.Errorf("window text: %q", RefusedWindowClosed.Text())
	}
}

func TestValidate(t *testing.T) {
	if err := testRules.Validate(); err != nil {
		t.Fatalf("test rules: %v", err)
	}
	if err := ExampleRules().Validate(); err != nil {
		t.Fatalf("example rules: %v", err)
	}
	edit := func(f func(r *Rules)) Rules {
		r := testRules
		r.Bands = append([]Band(nil), testRules.Bands...)
		r.Allowance = append([]AllowanceTier(nil), testRules.Allowance...)
		f(&r)
		return r
	}
	ok := []struct {
		name string
		r    Rules
	}{
		{"limits of days", edit(func(r *Rules) { r.WaitingDays, r.ClaimWindowDays, r.AllowanceMaxDays = 3650, 3650, 3650 })},
		{"zero everything", edit(func(r *Rules) {
			r.WaitingDays, r.ClaimWindowDays, r.AllowanceMaxDays, r.Deductible, r.PerClaimCap, r.PerYearCap, r.MinPerStay = 0, 0, 0, 0, 0, 0, 0
		})},
		{"ratios 0 and 100", edit(func(r *Rules) { r.Bands = []Band{{1, 0}, {0, 100}} })},
		{"bounded last band", edit(func(r *Rules) { r.Bands = []Band{{Yuan(100), 50}} })},
		{"no allowance", edit(func(r *Rules) { r.Allowance = nil })},
		{"free allowance tier", edit(func(r *Rules) { r.Allowance = []AllowanceTier{{0, 0}} })},
	}
	for _, c := range ok {
		if err := c.r.Validate(); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	bad := []struct {
		name, want string
		r          Rules
	}{
		{"negative waiting", "观察期", edit(func(r *Rules) { r.WaitingDays = -1 })},
		{"long waiting", "观察期", edit(func(r *Rules) { r.WaitingDays = 3651 })},
		{"negative window", "申领期限", edit(func(r *Rules) { r.ClaimWindowDays = -1 })},
		{"long window", "申领期限", edit(func(r *Rules) { r.ClaimWindowDays = 3651 })},
		{"negative allowance days", "最多天数", edit(func(r *Rules) { r.AllowanceMaxDays = -1 })},
		{"long allowance days", "最多天数", edit(func(r *Rules) { r.AllowanceMaxDays = 3651 })},
		{"negative deductible", "负数", edit(func(r *Rules) { r.Deductible = -1 })},
		{"negative claim cap", "负数", edit(func(r *Rules) { r.PerClaimCap = -1 })},
		{"negative year cap", "负数", edit(func(r *Rules) { r.PerYearCap = -1 })},
		{"negative minimum", "负数", edit(func(r *Rules) { r.MinPerStay = -1 })},
		{"no bands", "至少", edit(func(r *Rules) { r.Bands = nil })},
		{"ratio over 100", "第 2 段的报销比例", edit(func(r *Rules) { r.Bands[1].RatioPct = 101 })},
		{"negative ratio", "第 1 段的报销比例", edit(func(r *Rules) { r.Bands[0].RatioPct = -1 })},
		{"unbounded middle band", "只有最后一段", edit(func(r *Rules) { r.Bands[1].UpTo = 0 })},
		{"bounds not rising", "第 2 段的上限", edit(func(r *Rules) { r.Bands[1].UpTo = r.Bands[0].UpTo })},
		{"negative first bound", "第 1 段的上限", edit(func(r *Rules) { r.Bands[0].UpTo = -1 })},
		{"negative per day", "第 2 档", edit(func(r *Rules) { r.Allowance[1].PerDay = -1 })},
		{"tiers not rising", "会龄", edit(func(r *Rules) { r.Allowance[2].MinYears = 5 })},
		{"negative years", "会龄", edit(func(r *Rules) { r.Allowance[0].MinYears = -1 })},
	}
	for _, c := range bad {
		err := c.r.Validate()
		var re *RulesError
		if !errors.As(err, &re) || !strings.Contains(re.Message(), c.want) || !strings.HasPrefix(err.Error(), "claim rules: ") {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

func TestRulesJSON(t *testing.T) {
	b, err := json.Marshal(ExampleRules())
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{`"min_per_stay":"200.00"`, `"per_year_cap":"500000.00"`, `{"up_to":"5000.00","ratio_pct":50}`, `{"min_years":10,"per_day":"30.00"}`, `"claim_window_days":90`} {
		if !strings.Contains(string(b), part) {
			t.Errorf("%s lacks %s", b, part)
		}
	}
	var back Rules
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Estimate(hospital("2026-03-01", "2026-03-11", Yuan(6000)), cover2026).Amount != Yuan(3300) {
		t.Error("rules changed through JSON")
	}
}
