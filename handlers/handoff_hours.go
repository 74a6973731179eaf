package handlers

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultStaffHours is when staff answer hand-offs unless UNIONBOT_STAFF_HOURS says
// otherwise: Monday to Friday, 9:00 to 17:00 China time.
const DefaultStaffHours = "1-5 09:00-17:00"

// StaffHours are the hours staff answer 人工 conversations, in China time. The written form
// (UNIONBOT_STAFF_HOURS) is one or more groups separated by ";": days as ISO weekday numbers
// (1 Monday … 7 Sunday; ranges and commas: "1-5", "1,3,5"), then one or more time ranges
// separated by ",": "1-5 08:30-12:00,14:00-17:30; 6 09:00-12:00".
type StaffHours struct {
	groups []hoursGroup
}

type hoursGroup struct {
	days   [8]bool // 1..7
	ranges [][2]int
}

// ParseStaffHours reads the written form ("" is DefaultStaffHours).
func ParseStaffHours(s string) (StaffHours, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = DefaultStaffHours
	}
	var h StaffHours
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		daysText, timesText, ok := strings.Cut(part, " ")
		if !ok {
			return StaffHours{}, fmt.Errorf("%q: want days and times, e.g. \"1-5 09:00-17:00\"", part)
		}
		var g hoursGroup
		for _, d := range strings.Split(daysText, ",") {
			lo, hi, isRange := strings.Cut(d, "-")
			a, err1 := strconv.Atoi(lo)
			b := a
			var err2 error
			if isRange {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil || a < 1 || b > 7 || a > b {
				return StaffHours{}, fmt.Errorf("%q: days are 1 (Monday) to 7 (Sunday), e.g. 1-5", d)
			}
			for i := a; i <= b; i++ {
				g.days[i] = true
			}
		}
		for _, r := range strings.Split(strings.TrimSpace(timesText), ",") {
			from, to, ok := strings.Cut(strings.TrimSpace(r), "-")
			a, err1 := clockMinutes(from)
			b, err2 := clockMinutes(to)
			if !ok || err1 != nil || err2 != nil || a >= b {
				return StaffHours{}, fmt.Errorf("%q: want a time range such as 09:00-17:00", r)
			}
			g.ranges = append(g.ranges, [2]int{a, b})
		}
		h.groups = append(h.groups, g)
	}
	if len(h.groups) == 0 {
		return StaffHours{}, fmt.Errorf("no hours given")
	}
	return h, nil
}

func clockMinutes(s string) (int, error) {
	hh, mm, ok := strings.Cut(strings.TrimSpace(s), ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || err1 != nil || err2 != nil || h < 0 || h > 24 || m < 0 || m > 59 || h*60+m > 24*60 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return h*60 + m, nil
}

func isoDay(t time.Time) int {
	if d := int(t.Weekday()); d != 0 {
		return d
	}
	return 7
}

// Open reports whether staff work at t.
func (h StaffHours) Open(t time.Time) bool {
	t = t.In(shanghai)
	m := t.Hour()*60 + t.Minute()
	for _, g := range h.groups {
		if !g.days[isoDay(t)] {
			continue
		}
		for _, r := range g.ranges {
			if m >= r[0] && m < r[1] {
				return true
			}
		}
	}
	return false
}

// Next is the next time staff start work after t (t itself when they work at t), within
// a week.
func (h StaffHours) Next(t time.Time) time.Time {
	t = t.In(shanghai)
	if h.Open(t) {
		return t
	}
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, shanghai)
	best := time.Time{}
	for i := 0; i <= 7; i++ {
		d := day.AddDate(0, 0, i)
		for _, g := range h.groups {
			if !g.days[isoDay(d)] {
				continue
			}
			for _, r := range g.ranges {
				start := d.Add(time.Duration(r[0]) * time.Minute)
				if start.After(t) && (best.IsZero() || start.Before(best)) {
					best = start
				}
			}
		}
		if !best.IsZero() {
			return best
		}
	}
	return t
}

var weekdayNames = [8]string{"", "周一", "周二", "周三", "周四", "周五", "周六", "周日"}

// String renders the hours for members: "周一至周五 9:00-17:00".
func (h StaffHours) String() string {
	var parts []string
	for _, g := range h.groups {
		var days []string
		for i := 1; i <= 7; i++ {
			if !g.days[i] {
				continue
			}
			j := i
			for j < 7 && g.days[j+1] {
				j++
			}
			switch {
			case j == i:
				days = append(days, weekdayNames[i])
			case j == i+1:
				days = append(days, weekdayNames[i], weekdayNames[j])
			default:
				days = append(days, weekdayNames[i]+"至"+weekdayNames[j])
			}
			i = j
		}
		var times []string
		for _, r := range g.ranges {
			times = append(times, fmt.Sprintf("%d:%02d-%d:%02d", r[0]/60, r[0]%60, r[1]/60, r[1]%60))
		}
		parts = append(parts, strings.Join(days, "、")+" "+strings.Join(times, "、"))
	}
	return strings.Join(parts, "；")
}

// describeNext says when staff next work, relative to now: "今天14:00", "明天9:00",
// "3月9日（周一）9:00".
func describeNext(next, now time.Time) string {
	next, now = next.In(shanghai), now.In(shanghai)
	clock := fmt.Sprintf("%d:%02d", next.Hour(), next.Minute())
	y1, m1, d1 := now.Date()
	y2, m2, d2 := next.Date()
	today := time.Date(y1, m1, d1, 0, 0, 0, 0, shanghai)
	day := time.Date(y2, m2, d2, 0, 0, 0, 0, shanghai)
	switch int(day.Sub(today).Hours() / 24) {
	case 0:
		return "今天" + clock
	case 1:
		return "明天" + clock
	}
	return fmt.Sprintf("%d月%d日（%s）%s", int(m2), d2, weekdayNames[isoDay(next)], clock)
}
