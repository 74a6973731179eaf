package roster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// testNow is the fixed clock of these tests: 2026-06-15 10:00 in China.
var testNow = time.Date(2026, 6, 15, 2, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

// validID builds a checksummed 18-digit ID number from region, birth date and sequence.
func validID(region, birth string, seq int) string {
	first17 := fmt.Sprintf("%s%s%03d", region, birth, seq)
	return first17 + string(idCheckDigit(first17))
}

func TestIDCheckDigitKnownVector(t *testing.T) {
	// The example printed in GB 11643-1999.
	if got := idCheckDigit("11010519491231002"); got != 'X' {
		t.Fatalf("check digit of 11010519491231002 = %c, want X", got)
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name    string
		cells   []string
		wantErr string // substring of the FileError, "" for success
		col     map[field]int
		header  map[field]string
		ignored []string
	}{
		{
			name:  "canonical Chinese",
			cells: CanonicalHeader(),
			col:   map[field]int{fMemberNo: 0, fName: 1, fIDNumber: 2, fPhone: 3, fUnit: 4, fJoinedOn: 5, fMutualAidYears: 6, fStatus: 7},
		},
		{
			name:   "English aliases any case, spaces and order",
			cells:  []string{" Unit ", "ID Number", "NAME", "member-no", "Mutual Aid Years"},
			col:    map[field]int{fUnit: 0, fIDNumber: 1, fName: 2, fMemberNo: 3, fMutualAidYears: 4, fPhone: -1, fStatus: -1},
			header: map[field]string{fIDNumber: "ID Number", fPhone: "手机号"},
		},
		{
			name:    "decorations and extra columns",
			cells:   []string{"\ufeff*会员编号（必填）", "姓名(必填)", "身份证号【必填】", "所属工会*", "备注", "", "籍贯"},
			col:     map[field]int{fMemberNo: 0, fName: 1, fIDNumber: 2, fUnit: 3},
			header:  map[field]string{fMemberNo: "*会员编号（必填）"},
			ignored: []string{"备注", "籍贯"},
		},
		{
			name:    "missing required columns",
			cells:   []string{"会员编号", "姓名", "手机号"},
			wantErr: "表头缺少必填列：“身份证号”、“所属工会”",
		},
		{
			name:    "column twice",
			cells:   []string{"会员编号", "姓名", "身份证号", "所属工会", "member_no"},
			wantErr: "“会员编号”",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := parseHeader(tc.cells)
			if tc.wantErr != "" {
				var fe *FileError
				if !errors.As(err, &fe) || !strings.Contains(fe.Reason, tc.wantErr) {
					t.Fatalf("got error %v, want a FileError containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			for f, want := range tc.col {
				if l.col[f] != want {
					t.Errorf("column of %s = %d, want %d", fieldNames[f][0], l.col[f], want)
				}
			}
			for f, want := range tc.header {
				if l.header[f] != want {
					t.Errorf("header of %s = %q, want %q", fieldNames[f][0], l.header[f], want)
				}
			}
			if !slices.Equal(l.ignored, tc.ignored) {
				t.Errorf("ignored = %q, want %q", l.ignored, tc.ignored)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	serial := func(v float64) (time.Time, error) { return (&xlsxSource{}).serial(v) }
	day := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		in     string
		xlsx   bool
		want   time.Time
		errHas string
	}{
		{in: "2024-01-05", want: day(2024, 1, 5)},
		{in: "2024-1-5", want: day(2024, 1, 5)},
		{in: "2024/1/5", want: day(2024, 1, 5)},
		{in: "2024.1.5", want: day(2024, 1, 5)},
		{in: "20240105", want: day(2024, 1, 5)},
		{in: "2024年1月5日", want: day(2024, 1, 5)},
		{in: "2024 年 01 月 05 日", want: day(2024, 1, 5)},
		{in: "２０２４－０１－０５", want: day(2024, 1, 5)},
		{in: "2024-01-05 00:00:00", want: day(2024, 1, 5)},
		{in: "45296", xlsx: true, want: day(2024, 1, 5)},
		{in: "45296.75", xlsx: true, want: day(2024, 1, 5)},
		{in: "45296", errHas: "无法识别的日期格式"},
		{in: "2024/01-05", errHas: "无法识别的日期格式"},
		{in: "05/01/2024", errHas: "无法识别的日期格式"},
		{in: "Jan 5 2024", errHas: "无法识别的日期格式"},
		{in: "2024-02-30", errHas: "不存在"},
		{in: "2023-13-01", errHas: "不存在"},
	}
	for _, tc := range tests {
		p := &rowParser{}
		if tc.xlsx {
			p.serial = serial
		}
		got, err := p.parseDate(tc.in)
		if tc.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("parseDate(%q, xlsx=%v) error = %v, want one containing %q", tc.in, tc.xlsx, err, tc.errHas)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseDate(%q, xlsx=%v) = %v, %v; want %v", tc.in, tc.xlsx, got, err, tc.want)
		}
	}
}

func TestParseYears(t *testing.T) {
	tests := []struct {
		in   string
		want []int
		bad  bool
	}{
		{in: "2025;2026", want: []int{2025, 2026}},
		{in: "2026；2025", want: []int{2025, 2026}},
		{in: "2025,2026，2027", want: []int{2025, 2026, 2027}},
		{in: "2025、2026 2026", want: []int{2025, 2026}},
		{in: "2025.0", want: []int{2025}},
		{in: "2028", bad: true},
		{in: "1999", bad: true},
		{in: "25", bad: true},
		{in: "2025-2026", bad: true},
	}
	for _, tc := range tests {
		got, err := parseYears(tc.in, 2027)
		if tc.bad {
			if err == nil {
				t.Errorf("parseYears(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseYears(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

const sampleCSV = "会员编号,姓名,身份证号,手机号,所属工会,入会日期,互助保障年度,状态\n" +
	"A001,张三,11010519491231002X,13800138000,城关电力公司工会,2020-03-01,2025;2026,在册\n" +
	"A002,李四娘,110105194912310038,,东城物流公司工会,2021年5月6日,,转出\n"

// dryRun imports data as CSV without a store.
func dryRun(t *testing.T, data []byte) (Report, error) {
	t.Helper()
	im := &Importer{Opts: Options{DryRun: true, Now: fixedNow}}
	return im.Import(context.Background(), bytes.NewReader(data), FormatCSV)
}

func TestCSVEncodings(t *testing.T) {
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(sampleCSV))
	if err != nil {
		t.Fatal(err)
	}
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(
		[]byte(strings.ReplaceAll(sampleCSV, ",", "\t")))
	if err != nil {
		t.Fatal(err)
	}
	// GBK with the Chinese far beyond the sniffing window: the window is all ASCII.
	long := []byte("member_no,name,id_number,unit\n")
	for len(long) < sniffSize+100 {
		long = append(long, "\n"...)
	}
	tail, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("A001,张三,11010519491231002X,城关电力公司工会\n"))
	long = append(long, tail...)

	tests := []struct {
		name     string
		data     []byte
		encoding string
		rows     int
		rejected int
	}{
		{"utf-8", []byte(sampleCSV), EncUTF8, 2, 0},
		{"utf-8 with BOM", append([]byte("\xEF\xBB\xBF"), sampleCSV...), EncUTF8BOM, 2, 0},
		{"gbk", gbk, EncGB18030, 2, 0},
		{"utf-16 tab separated", utf16, EncUTF16, 2, 0},
		{"crlf", []byte(strings.ReplaceAll(sampleCSV, "\n", "\r\n")), EncUTF8, 2, 0},
		// Excel's "CSV (Macintosh)": CR-only line endings.
		{"cr only", []byte(strings.ReplaceAll(sampleCSV, "\n", "\r")), EncUTF8, 2, 0},
		{"gbk cr only", bytes.ReplaceAll(gbk, []byte("\n"), []byte("\r")), EncGB18030, 2, 0},
		// Read as UTF-8, the late GBK bytes are invalid: the row is rejected, not garbled.
		{"gbk after an ascii window", long, EncUTF8, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := dryRun(t, tc.data)
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			if rep.Encoding != tc.encoding || rep.Rows != tc.rows || rep.Rejected != tc.rejected {
				t.Fatalf("got encoding %q rows %d rejected %d (%v), want %q %d %d",
					rep.Encoding, rep.Rows, rep.Rejected, rep.Errors, tc.encoding, tc.rows, tc.rejected)
			}
		})
	}
}

func TestFileErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"empty", "", "文件为空"},
		{"only blank lines", "\n\n,,\n", "文件为空"},
		{"missing id number", "会员编号,姓名,所属工会\nA1,张三,工会\n", "“身份证号”"},
		{"semicolon separated", "会员编号;姓名;身份证号;所属工会\n", "表头缺少必填列"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := dryRun(t, []byte(tc.data))
			var fe *FileError
			if !errors.As(err, &fe) || !strings.Contains(fe.Reason, tc.want) {
				t.Fatalf("got %v, want a FileError containing %q", err, tc.want)
			}
			if rep.Rows != 0 {
				t.Fatalf("rows = %d, want 0", rep.Rows)
			}
		})
	}
}

func TestImportFileFormatDetection(t *testing.T) {
	dir := t.TempDir()
	xlsx := filepath.Join(dir, "roster.xlsx")
	if err := GenerateXLSX(xlsx, 3, 1); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	noExt := filepath.Join(dir, "upload-1234")
	if err := os.WriteFile(noExt, data, 0o600); err != nil {
		t.Fatal(err)
	}
	csvNoExt := filepath.Join(dir, "upload-5678")
	if err := os.WriteFile(csvNoExt, []byte(sampleCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	xls := filepath.Join(dir, "old.xls")
	if err := os.WriteFile(xls, []byte{0xD0, 0xCF, 0x11, 0xE0}, 0o600); err != nil {
		t.Fatal(err)
	}
	im := &Importer{Opts: Options{DryRun: true, Now: fixedNow}}
	for path, want := range map[string]string{xlsx: FormatXLSX, noExt: FormatXLSX, csvNoExt: FormatCSV} {
		rep, err := im.ImportFile(context.Background(), path)
		if err != nil || rep.Format != want || rep.Rejected != 0 || rep.Rows == 0 {
			t.Errorf("%s: format %q rows %d rejected %d err %v; want %q, no rejections",
				filepath.Base(path), rep.Format, rep.Rows, rep.Rejected, err, want)
		}
	}
	rep, err := im.Import(context.Background(), bytes.NewReader(data), "XLSX")
	if err != nil || rep.Format != FormatXLSX || rep.Rows != 3 || rep.Rejected != 0 {
		t.Errorf("xlsx from a reader: format %q rows %d rejected %d err %v; want xlsx, 3 rows", rep.Format, rep.Rows, rep.Rejected, err)
	}
	if _, err := im.Import(context.Background(), bytes.NewReader(data), "ods"); err == nil {
		t.Error("format ods: got no error")
	}
	var fe *FileError
	if _, err := im.ImportFile(context.Background(), xls); !errors.As(err, &fe) || !strings.Contains(fe.Reason, ".xls") {
		t.Errorf(".xls: got %v, want a FileError about .xls", err)
	}
}

func TestGenerateIsValidAndDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := Generate(&a, 2000, 7); err != nil {
		t.Fatal(err)
	}
	if err := Generate(&b, 2000, 7); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed gave different files")
	}
	if !bytes.HasPrefix(a.Bytes(), []byte("\xEF\xBB\xBF会员编号,")) {
		t.Fatalf("file starts %q, want a BOM and the canonical header", a.Bytes()[:20])
	}
	rep, err := dryRun(t, a.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 2000 || rep.Rejected != 0 {
		t.Fatalf("rows %d rejected %d, first errors %v; want 2000 valid rows", rep.Rows, rep.Rejected, first(rep.Errors, 5))
	}
	units := map[string]bool{}
	for _, line := range strings.Split(a.String(), "\n")[1:] {
		if f := strings.Split(line, ","); len(f) > 4 {
			units[f[4]] = true
		}
	}
	if len(units) < GenUnits-5 || len(units) > GenUnits {
		t.Fatalf("%d distinct units, want about %d", len(units), GenUnits)
	}

	path := filepath.Join(t.TempDir(), "g.xlsx")
	if err := GenerateXLSX(path, 300, 7); err != nil {
		t.Fatal(err)
	}
	im := &Importer{Opts: Options{DryRun: true, Now: fixedNow}}
	rep, err = im.ImportFile(context.Background(), path)
	if err != nil || rep.Rows != 300 || rep.Rejected != 0 {
		t.Fatalf("xlsx: rows %d rejected %d err %v, first errors %v", rep.Rows, rep.Rejected, err, first(rep.Errors, 5))
	}
}

func first(errs []RowError, n int) []RowError { return errs[:min(n, len(errs))] }

func TestSummary(t *testing.T) {
	rep := Report{Rows: 305, Inserted: 100, Updated: 2, Unchanged: 3, Rejected: 200, Format: FormatCSV, Encoding: EncGB18030}
	for i := range 250 {
		rep.Errors = append(rep.Errors, RowError{Row: i + 2, Column: "身份证号", Reason: "身份证号校验位不正确"})
	}
	rep.ErrorsOmitted = 7
	s := rep.Summary()
	for _, want := range []string{"新增：100", "更新：2", "未变化：3", "拒绝：200", "GB18030", "第2行 [身份证号] 身份证号校验位不正确", "…还有 57 条"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "第202行") {
		t.Errorf("summary prints more than %d errors", maxPrintedErrors)
	}
	dry := Report{Rows: 10, Rejected: 1, DryRun: true, Format: FormatXLSX}.Summary()
	if !strings.Contains(dry, "试运行") || !strings.Contains(dry, "可导入：9") || strings.Contains(dry, "新增") {
		t.Errorf("dry-run summary:\n%s", dry)
	}
}

func TestTitleRowsAboveHeader(t *testing.T) {
	data := "城关镇总工会会员名册,,,\n\n制表日期：2026年6月,,,\n" + // lines 1-3
		"会员编号,姓名,身份证号,手机号,所属工会,入会日期\n" + // line 4
		"A001,张三,11010519491231002X,无,城关电力公司工会,-\n" + // line 5: placeholders are empty
		"A002,李四,110105194912310038,123,城关电力公司工会,\n" // line 6: bad phone
	rep, err := dryRun(t, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 2 || rep.Rejected != 1 || len(rep.Errors) != 1 || rep.Errors[0].Row != 6 || rep.Errors[0].Column != "手机号" {
		t.Fatalf("got rows %d rejected %d errors %+v; want row 6 手机号 rejected", rep.Rows, rep.Rejected, rep.Errors)
	}

	// A header that names some columns is the header, even if incomplete.
	_, err = dryRun(t, []byte("标题\n会员编号,姓名\n会员编号,姓名,身份证号,所属工会\n"))
	var fe *FileError
	if !errors.As(err, &fe) || !strings.Contains(fe.Reason, "“身份证号”") {
		t.Fatalf("incomplete header: got %v, want a FileError naming 身份证号", err)
	}
	// Only a few title rows are skipped.
	_, err = dryRun(t, []byte(strings.Repeat("标题\n", maxTitleRows)+"会员编号,姓名,身份证号,所属工会\n"))
	if !errors.As(err, &fe) || !strings.Contains(fe.Reason, "表头缺少必填列") {
		t.Fatalf("many title rows: got %v, want a missing-column FileError", err)
	}
}
