package roster

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// A stray ASCII quote must not glue the following rows into one cell (where other
// members' ID numbers would end up stored as a unit name): the line is rejected and
// every other line is read on its own.
func TestStrayQuoteRejectsOnlyItsLine(t *testing.T) {
	idE := validID("110101", "19850505", 55)
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		data := csvHeader +
			"Q001,张三," + idA + ",,城关电力公司工会,,,\n" + // line 2
			"Q002,李四," + idB + ",,\"红星\"机械厂工会,,,\n" + // line 3: quote, then more text
			"Q003,王五," + idC + ",,\"东城\"\"物流\"\"公司工会\",,,\n" + // line 4: a properly quoted cell
			"Q004,赵六," + idD + ",,\"河西食品公司工会,,,\n" + // line 5: quote never closed
			"Q005,孙七," + idE + ",13800138000,河西食品公司工会,,,\n" // line 6
		rep := importCSV(t, db, Options{}, data)
		checkErrors(t, rep.Errors, []RowError{{3, "所属工会", "引号"}, {5, "所属工会", "粘连"}})
		wantCounts(t, rep, 5, 3, 0, 0, 2)
		checkMember(t, db, "Q001", "张三", idA, "", "城关电力公司工会", time.Time{}, "在册", nil)
		checkMember(t, db, "Q003", "王五", idC, "", "东城\"物流\"公司工会", time.Time{}, "在册", nil)
		checkMember(t, db, "Q005", "孙七", idE, "13800138000", "河西食品公司工会", time.Time{}, "在册", nil)
		wantAbsent(t, db, "Q002")
		wantAbsent(t, db, "Q004")
	})
}

func TestSplitLine(t *testing.T) {
	tests := []struct {
		line string
		want []string
		err  string // substring of the lineError reason
		col  int
	}{
		{line: "", want: []string{""}},
		{line: "a,b,", want: []string{"a", "b", ""}},
		{line: `"a,b","c""d",""`, want: []string{"a,b", `c"d`, ""}},
		{line: `红星"机械厂"工会,x`, want: []string{`红星"机械厂"工会`, "x"}},
		{line: `a,"红星"机械厂,b`, err: "引号位置", col: 1},
		{line: `a,b,"unclosed,c`, err: "粘连", col: 2},
		{line: "a,b\rc,d", err: "换行", col: 1},
	}
	for _, tc := range tests {
		got, err := splitLine(tc.line, ',', nil)
		var le *lineError
		switch {
		case tc.err == "" && (err != nil || strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want)):
			t.Errorf("splitLine(%q) = %q, %v; want %q", tc.line, got, err, tc.want)
		case tc.err != "" && (!errors.As(err, &le) || le.Col != tc.col || !strings.Contains(le.Reason, tc.err)):
			t.Errorf("splitLine(%q): error %v; want column %d %q", tc.line, err, tc.col, tc.err)
		}
	}
}

// A header row holding personal numbers (a data row glued to the header, say)
// is refused, and nothing of it is echoed; a header with many extra named
// columns, as HR exports have, is fine.
func TestUnrecognisedHeaderRow(t *testing.T) {
	data := "会员编号,姓名,身份证号,所属工会,A001,张三," + idA + ",13800138000,城关电力公司工会\n"
	_, err := dryRun(t, []byte(data))
	var fe *FileError
	if !errors.As(err, &fe) || !strings.Contains(fe.Reason, "表头粘在了一起") {
		t.Fatalf("got %v, want a FileError saying the header was not recognised", err)
	}
	if strings.Contains(fe.Reason, idA) || strings.Contains(fe.Reason, "13800138000") {
		t.Fatalf("file error echoes personal numbers: %s", fe.Reason)
	}
	wide := "工号,部门,岗位,性别,民族,学历,会员编号,姓名,身份证号,所属工会\n" +
		"E1,车间,焊工,男,汉,高中,A001,张三," + idA + ",城关电力公司工会\n"
	rep, err := dryRun(t, []byte(wide))
	if err != nil || rep.Rows != 1 || rep.Rejected != 0 {
		t.Fatalf("wide HR export: %+v, %v", rep, err)
	}
}

func TestIgnoredColumnsAreShortAndMasked(t *testing.T) {
	// Personal numbers in the header row: refused, nothing echoed.
	_, err := parseHeader(append(CanonicalHeader(), "联系人13812345678", idA))
	var fe *FileError
	if !errors.As(err, &fe) || strings.Contains(fe.Reason, "13812345678") || strings.Contains(fe.Reason, idA) {
		t.Fatalf("header with personal numbers: %v", err)
	}
	cells := append(CanonicalHeader(), "联系人", "备注"+strings.Repeat("很长", 20), "岗位")
	l, err := parseHeader(cells)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.ignored) != 3 {
		t.Fatalf("ignored %q, want 3 columns", l.ignored)
	}
	for _, c := range l.ignored {
		if utf8.RuneCountInString(c) > maxIgnoredLen+1 {
			t.Errorf("ignored column echoed as %q: want at most %d characters", c, maxIgnoredLen)
		}
	}

	// However many unknown columns, only a few are kept.
	for i := range 20 {
		cells = append(cells, "列"+string(rune('A'+i)))
	}
	l, _ = parseHeader(cells)
	if len(l.ignored) != maxIgnored || l.unknown != 23 {
		t.Fatalf("%d ignored kept of %d, want %d of 23", len(l.ignored), l.unknown, maxIgnored)
	}
	s := Report{Ignored: l.ignored, IgnoredOmitted: l.unknown - len(l.ignored), Format: FormatCSV}.Summary()
	if !strings.Contains(s, "等23列") || strings.Contains(s, "列T") {
		t.Errorf("summary of ignored columns:\n%s", s)
	}
}

// Cell values quoted in error reasons are masked: a shifted column must not print a
// whole ID or phone number.
func TestErrorReasonsMaskPersonalNumbers(t *testing.T) {
	data := csvHeader + "M001,张三," + idA + ",," + "城关电力公司工会," + idB + "," + idC + ",13812345678\n"
	rep, err := dryRun(t, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 3 {
		t.Fatalf("errors %+v, want 入会日期, 互助保障年度 and 状态", rep.Errors)
	}
	for _, e := range rep.Errors {
		for _, secret := range []string{idB, idC, "13812345678"} {
			if strings.Contains(e.Reason, secret) {
				t.Errorf("row %d [%s] reason %q echoes %s", e.Row, e.Column, e.Reason, secret)
			}
		}
		if !strings.Contains(e.Reason, "****") {
			t.Errorf("row %d [%s] reason %q: want the value shown masked", e.Row, e.Column, e.Reason)
		}
	}
}

func TestParseSetsKeepForAbsentColumns(t *testing.T) {
	l, err := parseHeader([]string{"会员编号", "姓名", "身份证号", "所属工会", "手机号", "状态"})
	if err != nil {
		t.Fatal(err)
	}
	rec, errs := newRowParser(&l, testNow, nil).parse(2, []string{"K1", "张三", idA, "工会", "", ""})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := storage.KeepFields{JoinedOn: true, MutualAidYears: true}
	if rec.Keep != want || rec.Status != storage.StatusActive || rec.Phone != "" {
		t.Fatalf("record %+v, want Keep %+v, status 在册, no phone", rec, want)
	}
}

// A file without the optional columns leaves those fields of existing members as
// they are; an empty cell in a column that is there still clears or defaults.
func TestAbsentOptionalColumnsKeepStoredValues(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		importCSV(t, db, Options{}, csvHeader+"K001,张三,"+idA+",13800138000,城关电力公司工会,2020-01-02,2025;2026,退会\n")

		rep := importCSV(t, db, Options{}, "会员编号,姓名,身份证号,所属工会\n"+
			"K001,张三丰,"+idA+",城关电力公司工会\n"+
			"K002,李四,"+idB+",东城物流公司工会\n")
		wantCounts(t, rep, 2, 1, 1, 0, 0)
		checkMember(t, db, "K001", "张三丰", idA, "13800138000", "城关电力公司工会", day(2020, 1, 2), "退会", []int{2025, 2026})
		checkMember(t, db, "K002", "李四", idB, "", "东城物流公司工会", time.Time{}, "在册", nil)

		rep = importCSV(t, db, Options{}, "会员编号,姓名,身份证号,所属工会,手机号,状态\n"+
			"K001,张三丰,"+idA+",城关电力公司工会,,\n")
		wantCounts(t, rep, 1, 0, 1, 0, 0)
		checkMember(t, db, "K001", "张三丰", idA, "", "城关电力公司工会", day(2020, 1, 2), "在册", []int{2025, 2026})
	})
}

// Only numeric columns get exponent notation written out: a member number "1E5"
// is text, a phone "1.3800138E10" is a number.
func TestXLSXTextMemberNumberKept(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		path := writeXLSX(t, [][]any{
			{"会员编号", "姓名", "身份证号", "手机号", "所属工会"},
			{"1E5", "张三", idA, "1.3800138E10", "城关电力公司工会"},
		}, nil)
		im := &Importer{Store: db, Opts: Options{Now: fixedNow}}
		rep, err := im.ImportFile(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, rep, 1, 1, 0, 0, 0)
		checkMember(t, db, "1E5", "张三", idA, "13800138000", "城关电力公司工会", time.Time{}, "在册", nil)
		wantAbsent(t, db, "100000")
	})
}
