package roster

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encodings reported in Report.Encoding.
const (
	EncUTF8    = "UTF-8"
	EncUTF8BOM = "UTF-8 (BOM)"
	EncGB18030 = "GB18030/GBK"
	EncUTF16   = "UTF-16"
)

// sniffSize is how much of a CSV file is looked at to guess its encoding.
const sniffSize = 64 << 10

// csvSource reads records from a CSV file in any of the supported encodings,
// streaming: only the first sniffSize bytes are buffered for detection.
//
// Every physical line is parsed on its own, so a record never spans lines: a
// quoted cell that is not closed on its line (a stray quote, or a line break typed
// into a cell) rejects that line alone instead of silently gluing the following
// rows into one cell.
type csvSource struct {
	r        *bufio.Reader
	comma    byte
	eol      byte // '\n', or '\r' for old Mac files with CR-only line endings
	encoding string
	line     int // line of the last record returned
	cells    []string
}

func newCSVSource(r io.Reader) (*csvSource, error) {
	br := bufio.NewReaderSize(r, sniffSize)
	head, err := br.Peek(sniffSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read csv: %w", err)
	}
	var text io.Reader
	var enc string
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
		text, enc = br, EncUTF8BOM
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		// Excel's "Unicode text" export: UTF-16 with a BOM, usually tab-separated.
		dec := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder()
		text, enc = transform.NewReader(br, unicode.BOMOverride(dec)), EncUTF16
	case validUTF8Prefix(head, len(head) < sniffSize):
		text, enc = br, EncUTF8
	default:
		// Excel on Chinese Windows saves "CSV" in the ANSI code page, GBK; GB18030 is
		// its superset and decodes every GBK file.
		text, enc = transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder()), EncGB18030
	}

	tb := bufio.NewReaderSize(text, sniffSize)
	s := &csvSource{r: tb, comma: ',', eol: '\n', encoding: enc}
	first, _ := tb.Peek(sniffSize)
	// Excel's "CSV (Macintosh)" ends lines with a bare CR.
	if bytes.IndexByte(first, '\r') >= 0 && bytes.IndexByte(first, '\n') < 0 {
		s.eol = '\r'
	}
	// Comma is the format; a file with tabs and no comma on its first line is read
	// as tab-separated (what Excel's "text" exports produce).
	if i := bytes.IndexByte(first, s.eol); i >= 0 {
		first = first[:i]
	}
	if !bytes.ContainsRune(first, ',') && bytes.ContainsRune(first, '\t') {
		s.comma = '\t'
	}
	return s, nil
}

// lineError is a line that cannot be split into cells. It rejects that line
// only; Col is the 0-based column where the problem is.
type lineError struct {
	Col    int
	Reason string
}

func (e *lineError) Error() string { return fmt.Sprintf("column %d: %s", e.Col+1, e.Reason) }

// Reasons of a lineError, for officers.
const (
	reasonUnclosedQuote  = "单元格中有引号或换行，导致与后面的行粘连，请检查该行的引号（单元格内不能换行；引号可改用中文引号“”）"
	reasonMisplacedQuote = "单元格中的引号位置不对（以引号开头的单元格必须以引号结束），请检查该行的引号，或改用中文引号“”"
	reasonLineBreak      = "单元格中有换行符，请删除单元格内的换行后再导入"
)

// splitLine splits one physical line (without its line ending) into cells.
// encoding/csv is not used because a record there may run across lines: one
// stray quote in a cell would silently swallow the rows after it (and glue
// other members' ID numbers into a unit name). Splitting line by line keeps a
// bad line's damage to that line and tells the officer which cell it is. An
// unquoted cell is taken as is, quotes included; a cell starting with a quote
// follows RFC 4180 ("" is a quote) and must end with a quote on the same line.
func splitLine(line string, comma byte, cells []string) ([]string, error) {
	cells = cells[:0]
	for col := 0; ; col++ {
		var cell string
		if !strings.HasPrefix(line, `"`) {
			i := strings.IndexByte(line, comma)
			if i < 0 {
				cell, line = line, ""
			} else {
				cell, line = line[:i], line[i:]
			}
		} else {
			var b strings.Builder
			rest := line[1:]
			for {
				i := strings.IndexByte(rest, '"')
				if i < 0 {
					return cells, &lineError{Col: col, Reason: reasonUnclosedQuote}
				}
				b.WriteString(rest[:i])
				rest = rest[i+1:]
				if strings.HasPrefix(rest, `"`) {
					b.WriteByte('"')
					rest = rest[1:]
					continue
				}
				if rest != "" && rest[0] != comma {
					return cells, &lineError{Col: col, Reason: reasonMisplacedQuote}
				}
				break
			}
			cell, line = b.String(), rest
		}
		if strings.ContainsAny(cell, "\r\n") {
			return cells, &lineError{Col: col, Reason: reasonLineBreak}
		}
		cells = append(cells, cell)
		if line == "" {
			return cells, nil
		}
		line = line[1:] // the separator
	}
}

// validUTF8Prefix reports whether b is valid UTF-8, tolerating a rune cut off at the
// end of the sniffed window unless the window holds the whole file.
func validUTF8Prefix(b []byte, complete bool) bool {
	if utf8.Valid(b) {
		return true
	}
	if complete {
		return false
	}
	for cut := 1; cut < utf8.UTFMax && cut <= len(b); cut++ {
		if utf8.Valid(b[:len(b)-cut]) {
			return true
		}
	}
	return false
}

// Next returns the next record and its 1-based line number, or io.EOF. A line
// that cannot be split comes with a *lineError and no cells; reading goes on
// with the next line.
func (s *csvSource) Next() (int, []string, error) {
	line, err := s.r.ReadString(s.eol)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, nil, fmt.Errorf("read csv: %w", err)
	}
	if line == "" && err != nil {
		return 0, nil, io.EOF
	}
	s.line++
	line = strings.TrimSuffix(line, string(s.eol))
	if s.eol == '\n' {
		line = strings.TrimSuffix(line, "\r")
	}
	cells, err := splitLine(line, s.comma, s.cells)
	if err != nil {
		return s.line, nil, err
	}
	s.cells = cells
	return s.line, cells, nil
}

func (s *csvSource) Close() error { return nil }
