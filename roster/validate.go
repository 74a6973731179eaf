package roster

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"unionbot/pii"
	"unionbot/storage"
)

const (
	maxMemberNoLen = 32
	maxUnitLen     = 100
	minAidYear     = 2000
)

// china is the fixed UTC+8 zone the union works in; a fixed zone avoids a tzdata
// dependency and China has no daylight saving time.
var china = time.FixedZone("CST", 8*3600)

var memberNoRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// rowParser turns the cells of one data row into a record, or into the list of
// everything wrong with it.
type rowParser struct {
	l     *layout
	today time.Time // date only, UTC midnight, the union's (UTC+8) calendar day
	// serial converts an Excel date serial; nil for CSV, where a bare number is not a date.
	serial func(float64) (time.Time, error)
}

func newRowParser(l *layout, now time.Time, serial func(float64) (time.Time, error)) *rowParser {
	y, m, d := now.In(china).Date()
	return &rowParser{l: l, today: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), serial: serial}
}

// parse validates one row. It always returns the member number and normalised ID
// number it found (possibly ""), so duplicates can be detected even in invalid rows.
func (p *rowParser) parse(row int, cells []string) (storage.MemberRecord, []RowError) {
	// An optional column missing from the file leaves the stored value alone.
	rec := storage.MemberRecord{Keep: storage.KeepFields{
		Phone:          p.l.col[fPhone] < 0,
		JoinedOn:       p.l.col[fJoinedOn] < 0,
		Status:         p.l.col[fStatus] < 0,
		MutualAidYears: p.l.col[fMutualAidYears] < 0,
	}}
	var errs []RowError
	bad := func(f field, format string, args ...any) {
		errs = append(errs, RowError{Row: row, Column: p.l.header[f], Reason: fmt.Sprintf(format, args...)})
	}
	get := func(f field) (string, bool) {
		v := p.l.cell(cells, f)
		if !utf8.ValidString(v) {
			bad(f, "含有无法识别的字符（文件编码可能不一致，请另存为 UTF-8 CSV 或 XLSX）")
			return "", false
		}
		return v, true
	}
	// XLSX: a number stored in exponent form ("1.3800138E10") is written out, but
	// only where a number is expected: a member number "1E5" is text.
	num := func(v string) string {
		if p.serial != nil {
			return plainNumber(v)
		}
		return v
	}

	if v, ok := get(fMemberNo); ok {
		v = stripQuotePrefix(width.Fold.String(v))
		switch {
		case v == "":
			bad(fMemberNo, "会员编号不能为空")
		case utf8.RuneCountInString(v) > maxMemberNoLen:
			bad(fMemberNo, "会员编号不能超过%d个字符", maxMemberNoLen)
		case !memberNoRe.MatchString(v):
			bad(fMemberNo, "会员编号只能包含英文字母、数字、“-”和“_”")
		default:
			rec.MemberNo = v
		}
	}

	if v, ok := get(fName); ok {
		v = collapseSpaces(v)
		// The rule binding applies to what a member types: a name it refuses could
		// never be bound, so it is refused here, where an officer can fix it.
		_, why := storage.BindableName(v)
		switch {
		case v == "":
			bad(fName, "姓名不能为空")
		case why == storage.NameLength:
			bad(fName, "姓名应为%d到%d个字（不计空格），实际为%d个",
				storage.MinNameLen, storage.MaxNameLen, utf8.RuneCountInString(pii.NormalizeName(v)))
		case why == storage.NameCharacters:
			bad(fName, "姓名只能包含汉字、英文字母和间隔号“·”，不能有数字、表情或其他符号，否则会员无法在微信中绑定")
		case why != storage.NameOK:
			bad(fName, "姓名读起来像一句话或提问，会员在微信中输入它时会被当作提问，无法绑定；请核对姓名")
		default:
			rec.Name = v
		}
	}

	if v, ok := get(fIDNumber); ok {
		v = pii.NormalizeIDNumber(stripQuotePrefix(num(v)))
		if v == "" {
			bad(fIDNumber, "身份证号不能为空")
		} else if err := pii.ValidateIDNumber(v); err != nil {
			bad(fIDNumber, "%s", err.Error())
		} else {
			rec.IDNumber = v
		}
	}

	if v, ok := get(fPhone); ok && !isPlaceholder(v) {
		v = pii.NormalizePhone(stripQuotePrefix(num(v)))
		if err := pii.ValidatePhone(v); err != nil {
			bad(fPhone, "%s", err.Error())
		} else {
			rec.Phone = v
		}
	}

	if v, ok := get(fUnit); ok {
		v = collapseSpaces(v)
		switch {
		case v == "":
			bad(fUnit, "所属工会不能为空")
		case utf8.RuneCountInString(v) > maxUnitLen:
			bad(fUnit, "所属工会名称不能超过%d个字", maxUnitLen)
		default:
			rec.UnitName = v
		}
	}

	if v, ok := get(fJoinedOn); ok && !isPlaceholder(v) {
		d, err := p.parseDate(num(v))
		switch {
		case err != nil:
			bad(fJoinedOn, "%s", err.Error())
		case d.After(p.today):
			bad(fJoinedOn, "入会日期 %s 晚于今天", d.Format("2006-01-02"))
		default:
			rec.JoinedOn = d
		}
	}

	if v, ok := get(fMutualAidYears); ok && !isPlaceholder(v) {
		years, err := parseYears(v, p.today.Year()+1)
		if err != nil {
			bad(fMutualAidYears, "%s", err.Error())
		} else {
			rec.MutualAidYears = years
		}
	}

	if v, ok := get(fStatus); ok {
		switch v = strings.ReplaceAll(v, " ", ""); v {
		case "":
			rec.Status = storage.StatusActive
		case storage.StatusActive, storage.StatusTransferred, storage.StatusWithdrawn:
			rec.Status = v
		default:
			bad(fStatus, "状态“%s”无效，只能是“在册”“转出”或“退会”", echo(v))
		}
	}
	return rec, errs
}

// isPlaceholder reports an empty optional cell, or one holding what people type for
// "none" (无, -, /).
func isPlaceholder(v string) bool {
	switch v {
	case "", "-", "--", "—", "——", "/", "无", "暂无", "N/A", "n/a":
		return true
	}
	return false
}

// stripQuotePrefix removes the apostrophe people type to keep Excel from turning an
// ID number into a float.
func stripQuotePrefix(s string) string {
	return strings.TrimSpace(strings.TrimLeft(s, "'‘’`"))
}

// collapseSpaces trims and replaces runs of white space (including full-width
// spaces) with one ASCII space.
func collapseSpaces(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// echo prepares a cell value for an error message: personal numbers masked (a
// shifted column may hold an ID or phone number), at most 20 characters.
func echo(v string) string {
	return truncate(pii.Redact(v), 20)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

var (
	dateSepRe  = regexp.MustCompile(`^(\d{4})([-/.])(\d{1,2})([-/.])(\d{1,2})$`)
	dateCJKRe  = regexp.MustCompile(`^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$`)
	dateCompRe = regexp.MustCompile(`^(\d{4})(\d{2})(\d{2})$`)
	serialRe   = regexp.MustCompile(`^\d{1,7}(\.\d+)?$`)
	timeTailRe = regexp.MustCompile(`\s+\d{1,2}:\d{2}(:\d{2})?$`)
)

// parseDate accepts 2024-01-05, 2024-1-5, 2024/1/5, 2024.1.5, 20240105,
// 2024年1月5日 (each optionally followed by a 00:00:00 time part) and, in XLSX
// files, Excel date serials. The result is a date at UTC midnight.
func (p *rowParser) parseDate(raw string) (time.Time, error) {
	s := strings.TrimSpace(width.Fold.String(raw))
	s = timeTailRe.ReplaceAllString(s, "")
	var ys, ms, ds string
	if m := dateSepRe.FindStringSubmatch(s); m != nil && m[2] == m[4] {
		ys, ms, ds = m[1], m[3], m[5]
	} else if m := dateCJKRe.FindStringSubmatch(s); m != nil {
		ys, ms, ds = m[1], m[2], m[3]
	} else if m := dateCompRe.FindStringSubmatch(s); m != nil {
		ys, ms, ds = m[1], m[2], m[3]
	} else if p.serial != nil && serialRe.MatchString(s) {
		f, _ := strconv.ParseFloat(s, 64)
		if f >= 1 && f < 2958466 { // 1900-01-01 .. 9999-12-31
			if t, err := p.serial(f); err == nil {
				y, mo, d := t.Date()
				return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC), nil
			}
		}
		return time.Time{}, fmt.Errorf("无法识别的日期格式“%s”，请填写如 2024-01-05 的日期", echo(raw))
	} else {
		return time.Time{}, fmt.Errorf("无法识别的日期格式“%s”，请填写如 2024-01-05、2024/1/5 或 2024年1月5日 的日期", echo(raw))
	}
	y, _ := strconv.Atoi(ys)
	mo, _ := strconv.Atoi(ms)
	d, _ := strconv.Atoi(ds)
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	if y < 1900 || mo < 1 || mo > 12 || t.Day() != d || int(t.Month()) != mo {
		return time.Time{}, fmt.Errorf("日期“%s”不存在", echo(raw))
	}
	return t, nil
}

// parseYears reads a list such as "2025;2026", "2025、2026" or "2025 2026" into a
// sorted, de-duplicated slice of years in [2000, maxYear].
func parseYears(raw string, maxYear int) ([]int, error) {
	s := width.Fold.String(raw)
	parts := strings.FieldsFunc(s, func(r rune) bool {
		return r == ';' || r == ',' || r == '、' || unicode.IsSpace(r)
	})
	years := make([]int, 0, len(parts))
	for _, part := range parts {
		y, err := strconv.Atoi(part)
		if err != nil || len(part) != 4 || y < minAidYear || y > maxYear {
			// XLSX may hand over a lone year as a float ("2025.0" is still a year).
			if f, ferr := strconv.ParseFloat(part, 64); ferr == nil && f == math.Trunc(f) &&
				f >= minAidYear && f <= float64(maxYear) {
				years = append(years, int(f))
				continue
			}
			return nil, fmt.Errorf("互助保障年度“%s”不是有效年份，应为%d到%d之间的四位数年份，多个年份用分号分隔，如 2025;2026",
				echo(part), minAidYear, maxYear)
		}
		years = append(years, y)
	}
	slices.Sort(years)
	return slices.Compact(years), nil
}
