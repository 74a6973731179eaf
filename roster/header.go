package roster

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/width"

	"unionbot/pii"
)

// field is one column of the roster format (docs/CONTRACTS.md §3).
type field int

const (
	fMemberNo field = iota
	fName
	fIDNumber
	fPhone
	fUnit
	fJoinedOn
	fMutualAidYears
	fStatus
	numFields
)

// fieldNames holds the canonical Chinese header and the English alias of each field.
var fieldNames = [numFields][2]string{
	fMemberNo:       {"会员编号", "member_no"},
	fName:           {"姓名", "name"},
	fIDNumber:       {"身份证号", "id_number"},
	fPhone:          {"手机号", "phone"},
	fUnit:           {"所属工会", "unit"},
	fJoinedOn:       {"入会日期", "joined_on"},
	fMutualAidYears: {"互助保障年度", "mutual_aid_years"},
	fStatus:         {"状态", "status"},
}

var requiredFields = []field{fMemberNo, fName, fIDNumber, fUnit}

// headerIndex maps a normalised header to its field.
var headerIndex = func() map[string]field {
	m := make(map[string]field, 2*numFields)
	for f, names := range fieldNames {
		for _, n := range names {
			m[normalizeHeader(n)] = field(f)
		}
	}
	return m
}()

// normalizeHeader folds a header cell so that "Member No", "member_no", "MEMBER-NO",
// "会员编号（必填）" and "*会员编号" all compare equal to their canonical form.
func normalizeHeader(s string) string {
	s = width.Fold.String(strings.TrimPrefix(s, "\ufeff"))
	s = strings.TrimSpace(s)
	s = strings.Trim(s, "*＊")
	s = strings.TrimSpace(s)
	// Drop one trailing bracketed decoration such as "(必填)", "【选填】" or "[required]".
	if i := strings.LastIndexAny(s, "(（【["); i > 0 {
		if last, _ := lastRune(s); strings.ContainsRune(")）】]", last) {
			s = s[:i]
		}
	}
	s = strings.Trim(s, "*＊")
	var b strings.Builder
	for _, r := range s {
		if unicode.IsSpace(r) || r == '_' || r == '-' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func lastRune(s string) (rune, bool) {
	if s == "" {
		return 0, false
	}
	rs := []rune(s)
	return rs[len(rs)-1], true
}

// layout says in which column of the file each field sits, and how the file spelled it.
type layout struct {
	col      [numFields]int    // -1 when absent
	header   [numFields]string // header as written in the file (trimmed)
	ignored  []string          // unknown columns, as written but redacted and shortened; at most maxIgnored
	unknown  int               // unknown columns, all of them
	personal int               // header cells that hold an ID or phone number
	known    int               // columns recognised
}

// Unknown header cells are echoed to officers: a few, short, with personal numbers
// masked (a data row taken for the header must not print ID or phone numbers).
const (
	maxIgnored    = 10
	maxIgnoredLen = 20
)

// parseHeader builds the layout from the first row. A missing required column, a
// column given twice, or a header cell holding an ID or phone number (a data row
// glued to the header) is a file-level error. Other unknown columns — HR
// exports carry many — are ignored and listed.
func parseHeader(cells []string) (layout, error) {
	var l layout
	for i := range l.col {
		l.col[i] = -1
	}
	var dups []string
	for i, c := range cells {
		key := normalizeHeader(c)
		if key == "" {
			continue
		}
		f, ok := headerIndex[key]
		if !ok {
			if pii.Redact(c) != c {
				l.personal++
			}
			if l.unknown++; len(l.ignored) < maxIgnored {
				l.ignored = append(l.ignored, truncate(pii.Redact(strings.TrimSpace(c)), maxIgnoredLen))
			}
			continue
		}
		if l.col[f] >= 0 {
			dups = append(dups, fmt.Sprintf("“%s”", fieldNames[f][0]))
			continue
		}
		l.known++
		l.col[f] = i
		l.header[f] = strings.TrimSpace(strings.TrimPrefix(c, "\ufeff"))
	}
	var missing []string
	for _, f := range requiredFields {
		if l.col[f] < 0 {
			missing = append(missing, fmt.Sprintf("“%s”", fieldNames[f][0]))
		}
	}
	switch {
	case len(missing) > 0:
		return l, &FileError{Reason: "表头缺少必填列：" + strings.Join(missing, "、") +
			"（第1行应为表头，例如：会员编号,姓名,身份证号,手机号,所属工会,入会日期,互助保障年度,状态）"}
	case len(dups) > 0:
		return l, &FileError{Reason: "表头中以下列出现了不止一次：" + strings.Join(dups, "、")}
	case l.personal > 0:
		return l, &FileError{Reason: "表头行里有身份证号或手机号，像是数据行和表头粘在了一起：" +
			"请检查文件的换行和分隔符，第1行应为表头（会员编号,姓名,身份证号,手机号,所属工会,入会日期,互助保障年度,状态）"}
	}
	for f := range l.header {
		if l.col[f] < 0 {
			l.header[f] = fieldNames[f][0]
		}
	}
	return l, nil
}

// cell returns the trimmed value of field f in a data row, "" when the column is
// absent or the row is short.
func (l *layout) cell(cells []string, f field) string {
	i := l.col[f]
	if i < 0 || i >= len(cells) {
		return ""
	}
	return strings.TrimSpace(cells[i])
}

// columnName names the 0-based column i of the file: its header if it is a roster
// column, otherwise its position.
func (l *layout) columnName(i int) string {
	for f, c := range l.col {
		if c == i {
			return l.header[f]
		}
	}
	return fmt.Sprintf("第%d列", i+1)
}
