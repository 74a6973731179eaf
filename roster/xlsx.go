package roster

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// xlsxSource streams the rows of the first worksheet. excelize keeps the zip's
// central directory in memory and spills a large worksheet's XML to a temporary
// file, decoding it row by row.
type xlsxSource struct {
	f        *excelize.File
	rows     *excelize.Rows
	row      int
	date1904 bool
}

func newXLSXSource(path string) (*xlsxSource, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, &FileError{Reason: "无法打开 XLSX 文件（文件损坏、加密或不是 XLSX 格式）：" + err.Error()}
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		_ = f.Close()
		return nil, &FileError{Reason: "XLSX 文件中没有工作表"}
	}
	s := &xlsxSource{f: f}
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		s.date1904 = *props.Date1904
	}
	if s.rows, err = f.Rows(sheets[0]); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("read xlsx sheet: %w", err)
	}
	return s, nil
}

// Next returns the next row and its 1-based row number, or io.EOF. Cell values are
// raw (unformatted): a date cell arrives as its serial number and is converted by
// the date parser, which is more reliable than excelize's rendering of the
// locale-dependent built-in date formats.
func (s *xlsxSource) Next() (int, []string, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return 0, nil, fmt.Errorf("read xlsx row: %w", err)
		}
		return 0, nil, io.EOF
	}
	s.row++
	cells, err := s.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return 0, nil, fmt.Errorf("read xlsx row %d: %w", s.row, err)
	}
	return s.row, cells, nil
}

// serial converts an Excel date serial honouring the workbook's 1904 setting.
func (s *xlsxSource) serial(v float64) (time.Time, error) {
	return excelize.ExcelDateToTime(v, s.date1904)
}

func (s *xlsxSource) Close() error {
	return errors.Join(s.rows.Close(), s.f.Close())
}

// plainNumber rewrites a raw numeric cell (applied by the row parser to the
// columns that hold numbers) stored in exponent form ("1.3800138E10",
// as some writers store a phone number typed as a number) as plain digits.
func plainNumber(c string) string {
	if !strings.ContainsAny(c, "eE") || len(c) > 32 {
		return c
	}
	f, err := strconv.ParseFloat(c, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) >= 1e18 {
		return c
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
