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
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

var _ Upserter = (*storage.DB)(nil)

const csvHeader = "会员编号,姓名,身份证号,手机号,所属工会,入会日期,互助保障年度,状态\n"

var (
	idA = validID("110101", "19800101", 11)
	idB = validID("310104", "19900215", 22)
	idC = validID("440305", "19750630", 33)
	idD = validID("320102", "20000101", 44)
)

func importCSV(t *testing.T, db *storage.DB, opts Options, data string) Report {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	im := &Importer{Store: db, Opts: opts}
	rep, err := im.Import(t.Context(), strings.NewReader(data), FormatCSV)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return rep
}

func mustMember(t *testing.T, db *storage.DB, no string) storage.Member {
	t.Helper()
	m, err := db.MemberByNo(t.Context(), no)
	if err != nil {
		t.Fatalf("member %s: %v", no, err)
	}
	return m
}

func wantAbsent(t *testing.T, db *storage.DB, no string) {
	t.Helper()
	if _, err := db.MemberByNo(t.Context(), no); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("member %s: got %v, want ErrNotFound", no, err)
	}
}

func countMembers(t *testing.T, db *storage.DB) int {
	t.Helper()
	n, err := db.CountMembers(t.Context())
	if err != nil {
		t.Fatalf("count members: %v", err)
	}
	return n
}

func wantCounts(t *testing.T, rep Report, rows, inserted, updated, unchanged, rejected int) {
	t.Helper()
	if rep.Rows != rows || rep.Inserted != inserted || rep.Updated != updated || rep.Unchanged != unchanged || rep.Rejected != rejected {
		t.Fatalf("got rows/inserted/updated/unchanged/rejected %d/%d/%d/%d/%d, want %d/%d/%d/%d/%d; errors %v",
			rep.Rows, rep.Inserted, rep.Updated, rep.Unchanged, rep.Rejected, rows, inserted, updated, unchanged, rejected, first(rep.Errors, 10))
	}
}

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

// checkMember compares the stored member with what the roster said.
func checkMember(t *testing.T, db *storage.DB, no, name, id, phone, unit string, joined time.Time, status string, years []int) {
	t.Helper()
	m := mustMember(t, db, no)
	if m.Name != name || m.IDNumber != id || m.Phone != phone || m.UnitName != unit || !m.JoinedOn.Equal(joined) ||
		m.Status != status || !slices.Equal(m.MutualAidYears, years) {
		t.Fatalf("member %s = %+v,\nwant name %s id %s phone %s unit %s joined %v status %s years %v",
			no, m, name, id, phone, unit, joined, status, years)
	}
}

func TestImportCSV(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		data := "\ufeff" + csvHeader +
			"A001,张三,'" + idA + ",138 0013 8000,城关电力公司工会,2020/3/1,2025；2026,在册\n" +
			"\n" + // blank lines are skipped
			"A002, 李四娘 ," + strings.ToLower(idB) + ",,东城物流公司工会,,,转出\n" +
			",,,,,,,\n" +
			"A003,欧阳·娜娜," + idC + ",+8613900139000,城关电力公司工会,2019年12月31日,2026,\n"
		rep := importCSV(t, db, Options{}, data)
		wantCounts(t, rep, 3, 3, 0, 0, 0)
		if rep.Format != FormatCSV || rep.Encoding != EncUTF8BOM {
			t.Errorf("format %q encoding %q, want csv, UTF-8 (BOM)", rep.Format, rep.Encoding)
		}
		checkMember(t, db, "A001", "张三", idA, "13800138000", "城关电力公司工会", day(2020, 3, 1), "在册", []int{2025, 2026})
		checkMember(t, db, "A002", "李四娘", idB, "", "东城物流公司工会", time.Time{}, "转出", nil)
		checkMember(t, db, "A003", "欧阳·娜娜", idC, "13900139000", "城关电力公司工会", day(2019, 12, 31), "在册", []int{2026})
		if n := countMembers(t, db); n != 3 {
			t.Fatalf("%d members stored, want 3", n)
		}
	})
}

func TestImportGBKCSV(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		text := csvHeader + "G001,王小明," + idA + ",13800138000,河西食品公司工会,2024-01-05,2025,退会\n"
		gbk, err := simplifiedchinese.GBK.NewEncoder().String(text)
		if err != nil {
			t.Fatal(err)
		}
		rep := importCSV(t, db, Options{}, gbk)
		wantCounts(t, rep, 1, 1, 0, 0, 0)
		if rep.Encoding != EncGB18030 {
			t.Errorf("encoding %q, want %q", rep.Encoding, EncGB18030)
		}
		checkMember(t, db, "G001", "王小明", idA, "13800138000", "河西食品公司工会", day(2024, 1, 5), "退会", []int{2025})
	})
}

func TestImportXLSX(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		rows := [][]any{
			// English aliases with a decoration, an unknown column, a different order.
			{"Member No", "Name", "ID Number", "Phone", "Unit（必填）", "Joined On", "Mutual Aid Years", "Status", "备注"},
			{"X001", "赵六", idA, 13800138000, "城关电力公司工会", time.Date(2021, 7, 1, 0, 0, 0, 0, time.UTC), "2025;2026", "在册", "x"},
			{"X002", "钱七", idB, "", "东城物流公司工会", "2022/2/3", 2026, "", ""},
			{},
			{"X003", "孙八", "110101198001010000", "", "东城物流公司工会", "", "", "", ""},
			{"X004", "周九", idC, "13900139000", "东城物流公司工会", "tomorrow", "", "", ""},
		}
		path := writeXLSX(t, rows, func(f *excelize.File, sheet string) error {
			dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
			if err != nil {
				return err
			}
			return f.SetCellStyle(sheet, "F2", "F2", dateStyle)
		})

		im := &Importer{Store: db, Opts: Options{Now: fixedNow}}
		rep, err := im.ImportFile(t.Context(), path)
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		wantCounts(t, rep, 4, 2, 0, 0, 2)
		if rep.Format != FormatXLSX || !slices.Equal(rep.Ignored, []string{"备注"}) {
			t.Errorf("format %q ignored %q, want xlsx, [备注]", rep.Format, rep.Ignored)
		}
		wantErrs := []RowError{
			{Row: 5, Column: "ID Number", Reason: "校验位"},
			{Row: 6, Column: "Joined On", Reason: "无法识别的日期格式“tomorrow”"},
		}
		checkErrors(t, rep.Errors, wantErrs)
		checkMember(t, db, "X001", "赵六", idA, "13800138000", "城关电力公司工会", day(2021, 7, 1), "在册", []int{2025, 2026})
		checkMember(t, db, "X002", "钱七", idB, "", "东城物流公司工会", day(2022, 2, 3), "在册", []int{2026})
		wantAbsent(t, db, "X003")
		wantAbsent(t, db, "X004")
	})
}

// checkErrors wants exactly the given errors, in order; Reason is a substring.
func checkErrors(t *testing.T, got, want []RowError) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = got[i].Row == want[i].Row && got[i].Column == want[i].Column && strings.Contains(got[i].Reason, want[i].Reason)
	}
	if !ok {
		t.Fatalf("errors:\n got %+v\nwant %+v", got, want)
	}
}

func TestImportRejections(t *testing.T) {
	// Every case runs on the same database (one per backend, to keep the suite fast) with
	// its own member numbers ($1, $2, $3 become T<case>-1, …) and ID numbers ($A, $B, $C).
	good := "$1,张三,$A,13800138000,城关电力公司工会,2020-01-01,2025,在册\n" // row 2
	row := func(no, name, id, phone, unit, joined, years, status string) string {
		return strings.Join([]string{no, name, id, phone, unit, joined, years, status}, ",") + "\n"
	}
	tests := []struct {
		name   string
		header string
		rows   string // after the good row 2
		want   []RowError
	}{
		{"bad ID checksum", csvHeader, row("$2", "李四", "$bad", "", "工会", "", "", ""),
			[]RowError{{3, "身份证号", "校验位不正确"}}},
		{"ID too short", csvHeader, row("$2", "李四", "11010119800101", "", "工会", "", "", ""),
			[]RowError{{3, "身份证号", "应为18位"}}},
		{"ID missing", csvHeader, row("$2", "李四", "", "", "工会", "", "", ""),
			[]RowError{{3, "身份证号", "身份证号不能为空"}}},
		{"bad phone", csvHeader, row("$2", "李四", "$B", "1380013800", "工会", "", "", ""),
			[]RowError{{3, "手机号", "手机号格式不正确"}}},
		{"landline phone", csvHeader, row("$2", "李四", "$B", "010-12345678", "工会", "", "", ""),
			[]RowError{{3, "手机号", "手机号格式不正确"}}},
		{"unknown date format", csvHeader, row("$2", "李四", "$B", "", "工会", "01/05/2024", "", ""),
			[]RowError{{3, "入会日期", "无法识别的日期格式“01/05/2024”"}}},
		{"date that does not exist", csvHeader, row("$2", "李四", "$B", "", "工会", "2023-02-29", "", ""),
			[]RowError{{3, "入会日期", "不存在"}}},
		{"date in the future", csvHeader, row("$2", "李四", "$B", "", "工会", "2026-06-16", "", ""),
			[]RowError{{3, "入会日期", "晚于今天"}}},
		{"bare number as a date in CSV", csvHeader, row("$2", "李四", "$B", "", "工会", "45296", "", ""),
			[]RowError{{3, "入会日期", "无法识别的日期格式"}}},
		{"bad mutual-aid year", csvHeader, row("$2", "李四", "$B", "", "工会", "", "2025;2030", ""),
			[]RowError{{3, "互助保障年度", "“2030”"}}},
		{"bad status", csvHeader, row("$2", "李四", "$B", "", "工会", "", "", "离职"),
			[]RowError{{3, "状态", "“离职”无效"}}},
		{"member number missing", csvHeader, row("", "李四", "$B", "", "工会", "", "", ""),
			[]RowError{{3, "会员编号", "会员编号不能为空"}}},
		{"member number with bad characters", csvHeader, row("$2 /甲", "李四", "$B", "", "工会", "", "", ""),
			[]RowError{{3, "会员编号", "只能包含"}}},
		{"member number too long", csvHeader, row("$2"+strings.Repeat("9", 30), "李四", "$B", "", "工会", "", "", ""),
			[]RowError{{3, "会员编号", "不能超过32个字符"}}},
		{"name too short", csvHeader, row("$2", "李", "$B", "", "工会", "", "", ""),
			[]RowError{{3, "姓名", "2到20个字"}}},
		{"name missing", csvHeader, row("$2", "", "$B", "", "工会", "", "", ""),
			[]RowError{{3, "姓名", "姓名不能为空"}}},
		{"unit missing", csvHeader, row("$2", "李四", "$B", "", "", "", "", ""),
			[]RowError{{3, "所属工会", "所属工会不能为空"}}},
		{"duplicate member number", csvHeader, row("$2", "李四", "$B", "", "工会", "", "", "") + row("$1", "王五", "$C", "", "工会", "", "", ""),
			[]RowError{{4, "会员编号", "与第2行的会员编号重复"}}},
		{"duplicate ID number", csvHeader, row("$2", "李四", "$B", "", "工会", "", "", "") + row("$3", "王五", "$a", "", "工会", "", "", ""),
			[]RowError{{4, "身份证号", "与第2行的身份证号重复"}}},
		{"several problems in one row, English header", "member_no,name,id_number,phone,unit,joined_on,mutual_aid_years,status\n",
			row("$2", "李", "$bad", "12345", "", "昨天", "", ""),
			[]RowError{{3, "name", "2到20个字"}, {3, "id_number", "校验位"}, {3, "phone", "手机号"}, {3, "unit", "不能为空"}, {3, "joined_on", "日期格式"}}},
		// A line break inside a quoted cell is refused; each physical line is a row of its own.
		{"quoted field spanning lines is rejected line by line", csvHeader,
			"$2,\"李\n\",\"$B\",,工会,,,\n" + row("$3", "王五", "$C", "", "工会", "", "", "x"),
			[]RowError{{3, "姓名", "粘连"}, {4, "会员编号", "引号"}, {5, "状态", "“x”无效"}}},
	}
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		stored := 0
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				no := func(k int) string { return fmt.Sprintf("T%02d-%d", i, k) }
				id := func(k int) string { return validID("110101", "19800101", i*10+k) }
				bad := id(2)[:17] + string("0123456789"[(strings.IndexByte("0123456789X", id(2)[17])+1)%10])
				data := strings.NewReplacer("$1", no(1), "$2", no(2), "$3", no(3), "$A", id(1), "$a", strings.ToLower(id(1)),
					"$B", id(2), "$C", id(3), "$bad", bad).Replace(tc.header + good + tc.rows)
				rep := importCSV(t, db, Options{}, data)
				checkErrors(t, rep.Errors, tc.want)
				rejectedRows := map[int]bool{}
				for _, e := range tc.want {
					rejectedRows[e.Row] = true
				}
				if rep.Rejected != len(rejectedRows) || rep.Inserted != rep.Rows-len(rejectedRows) {
					t.Fatalf("rows %d inserted %d rejected %d, want %d rejected and the rest inserted",
						rep.Rows, rep.Inserted, rep.Rejected, len(rejectedRows))
				}
				stored += rep.Inserted
				checkMember(t, db, no(1), "张三", id(1), "13800138000", "城关电力公司工会", day(2020, 1, 1), "在册", []int{2025})
				if rep.Inserted == 1 {
					wantAbsent(t, db, no(2))
					wantAbsent(t, db, no(3))
				}
				if n := countMembers(t, db); n != stored {
					t.Fatalf("%d members stored, want %d", n, stored)
				}
			})
		}
	})
}

func TestImportConflictWithStoredMember(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		importCSV(t, db, Options{}, csvHeader+"C001,张三,"+idA+",,城关电力公司工会,,,\n"+"C005,孙七,"+idD+",,城关电力公司工会,,,\n")
		// Batches of 2 so the conflicting row sits in the second batch.
		rep := importCSV(t, db, Options{BatchSize: 2}, csvHeader+
			"C002,李四,"+idB+",,城关电力公司工会,,,\n"+
			"C003,王五,"+idC+",,城关电力公司工会,,,\n"+
			"C004,孙七,"+idD+",,城关电力公司工会,,,\n"+ // row 4: the ID number of C005
			"bad!,赵六,"+validID("110101", "19991231", 1)+",,城关电力公司工会,,,\n"+ // row 5: rejected by validation
			"C001,张三丰,"+idA+",,城关电力公司工会,,,\n") // row 6: same member, new name
		wantCounts(t, rep, 5, 2, 1, 0, 2)
		checkErrors(t, rep.Errors, []RowError{{4, "身份证号", "已登记在其他会员编号下"}, {5, "会员编号", "只能包含"}})
		wantAbsent(t, db, "C004")
		if m := mustMember(t, db, "C001"); m.Name != "张三丰" {
			t.Fatalf("C001 name %q, want 张三丰", m.Name)
		}
		if m := mustMember(t, db, "C005"); m.IDNumber != idD {
			t.Fatalf("C005 lost its ID number")
		}
	})
}

func TestImportMissingHeaderChangesNothing(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		im := &Importer{Store: db, Opts: Options{Now: fixedNow}}
		_, err := im.Import(t.Context(), strings.NewReader("会员编号,姓名,手机号\nM001,张三,13800138000\n"), FormatCSV)
		var fe *FileError
		if !errors.As(err, &fe) || !strings.Contains(fe.Reason, "“身份证号”、“所属工会”") {
			t.Fatalf("got %v, want a FileError naming 身份证号 and 所属工会", err)
		}
		if n := countMembers(t, db); n != 0 {
			t.Fatalf("%d members stored, want 0", n)
		}
	})
}

func TestReimport(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		var buf bytes.Buffer
		if err := Generate(&buf, 500, 3); err != nil {
			t.Fatal(err)
		}
		data := buf.String()
		rep := importCSV(t, db, Options{BatchSize: 128}, data)
		wantCounts(t, rep, 500, 500, 0, 0, 0)

		rep = importCSV(t, db, Options{BatchSize: 128}, data)
		wantCounts(t, rep, 500, 0, 0, 500, 0)

		// Change three rows: a phone, a status, the mutual-aid years.
		lines := strings.Split(data, "\n")
		edit := func(i, col int, v string) string {
			f := strings.Split(lines[i], ",")
			f[col] = v
			lines[i] = strings.Join(f, ",")
			return f[0]
		}
		noPhone := edit(10, 3, "13312345678")
		noStatus := edit(200, 7, "退会")
		noYears := edit(499, 6, "2024;2025;2026")
		rep = importCSV(t, db, Options{BatchSize: 128}, strings.Join(lines, "\n"))
		wantCounts(t, rep, 500, 0, 3, 497, 0)
		if m := mustMember(t, db, noPhone); m.Phone != "13312345678" {
			t.Errorf("%s phone %q, want the new one", noPhone, m.Phone)
		}
		if m := mustMember(t, db, noStatus); m.Status != "退会" {
			t.Errorf("%s status %q, want 退会", noStatus, m.Status)
		}
		if m := mustMember(t, db, noYears); !slices.Equal(m.MutualAidYears, []int{2024, 2025, 2026}) {
			t.Errorf("%s years %v, want 2024-2026", noYears, m.MutualAidYears)
		}
		if n := countMembers(t, db); n != 500 {
			t.Fatalf("%d members stored, want 500", n)
		}
	})
}

func TestDryRunWritesNothing(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		var buf bytes.Buffer
		if err := Generate(&buf, 50, 5); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(buf.String(), "\n")
		lines[4] = strings.Replace(lines[4], "GH00000004", "GH00000001", 1) // row 5 repeats row 2
		rep := importCSV(t, db, Options{DryRun: true}, strings.Join(lines, "\n"))
		if !rep.DryRun || rep.Rows != 50 || rep.Rejected != 1 || rep.Inserted+rep.Updated+rep.Unchanged != 0 {
			t.Fatalf("dry run report %+v, want 50 rows, 1 rejected, nothing written", rep)
		}
		checkErrors(t, rep.Errors, []RowError{{5, "会员编号", "与第2行的会员编号重复"}})
		if n := countMembers(t, db); n != 0 {
			t.Fatalf("%d members stored after a dry run, want 0", n)
		}
	})
}

func TestConcurrentImports(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		const n = 1500
		var buf bytes.Buffer
		if err := Generate(&buf, n, 11); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()
		var wg sync.WaitGroup
		reps := make([]Report, 2)
		errs := make([]error, 2)
		for i := range 2 {
			wg.Go(func() {
				im := &Importer{Store: db, Opts: Options{BatchSize: 200, Now: fixedNow}}
				reps[i], errs[i] = im.Import(context.Background(), bytes.NewReader(data), FormatCSV)
			})
		}
		wg.Wait()
		inserted := 0
		for i, rep := range reps {
			if errs[i] != nil {
				t.Fatalf("import %d: %v", i, errs[i])
			}
			if rep.Rejected != 0 || rep.Updated != 0 || rep.Inserted+rep.Unchanged != n {
				t.Fatalf("import %d: %+v, want every row inserted or unchanged", i, rep)
			}
			inserted += rep.Inserted
		}
		if inserted != n {
			t.Fatalf("the two imports inserted %d members in all, want %d", inserted, n)
		}
		if c := countMembers(t, db); c != n {
			t.Fatalf("%d members stored, want %d", c, n)
		}
		// Spot-check that what is stored is what the file says.
		lines := strings.Split(string(bytes.TrimPrefix(data, []byte("\ufeff"))), "\n")
		for _, i := range []int{1, n / 2, n} {
			f := strings.Split(lines[i], ",")
			if m := mustMember(t, db, f[0]); m.Name != f[1] || m.IDNumber != f[2] || m.UnitName != f[4] {
				t.Fatalf("member %s = %s/%s/%s, want %s/%s/%s", f[0], m.Name, m.IDNumber, m.UnitName, f[1], f[2], f[4])
			}
		}
	})
}

func BenchmarkImport100k(b *testing.B) {
	const n = 100_000
	path := filepath.Join(b.TempDir(), "roster.csv")
	var buf bytes.Buffer
	if err := Generate(&buf, n, 1); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	backends := []struct {
		name string
		open func(testing.TB) *storage.DB
	}{
		{"embedded", storagetest.Embedded},
		{"mysql", storagetest.MySQL},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				db := be.open(b) // a fresh database each time: every row is an insert
				b.StartTimer()
				im := &Importer{Store: db}
				rep, err := im.ImportFile(context.Background(), path)
				if err != nil {
					b.Fatal(err)
				}
				if rep.Inserted != n {
					b.Fatalf("inserted %d, want %d: %v", rep.Inserted, n, first(rep.Errors, 5))
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/import")
		})
	}
}

// writeXLSX writes rows to the first sheet of a new workbook (style, when
// set, may format cells) and returns its path.
func writeXLSX(t *testing.T, rows [][]any, style func(f *excelize.File, sheet string) error) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	if style != nil {
		if err := style(f, sheet); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "roster.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}
