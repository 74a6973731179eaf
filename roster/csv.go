package roster

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
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
type csvSource struct {
	r        *csv.Reader
	encoding string
	line     int // line of the last record returned
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

	// Comma is the format; a file with tabs and no comma on its first line is read
	// as tab-separated (what Excel's "text" exports produce).
	tb := bufio.NewReaderSize(text, sniffSize)
	comma := ','
	if first, _ := tb.Peek(sniffSize); len(first) > 0 {
		if i := bytes.IndexByte(first, '\n'); i >= 0 {
			first = first[:i]
		}
		if !bytes.ContainsRune(first, ',') && bytes.ContainsRune(first, '\t') {
			comma = '\t'
		}
	}
	cr := csv.NewReader(tb)
	cr.Comma = comma
	cr.FieldsPerRecord = -1 // short and long rows are the importer's business
	cr.LazyQuotes = true    // a stray quote in a name should not abort a 100k-row file
	cr.ReuseRecord = true
	return &csvSource{r: cr, encoding: enc}, nil
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

// Next returns the next record and its 1-based line number, or io.EOF.
func (s *csvSource) Next() (int, []string, error) {
	rec, err := s.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return 0, nil, &FileError{Reason: fmt.Sprintf("CSV 格式错误（第%d行）：%v", pe.StartLine, pe.Err)}
		}
		return 0, nil, fmt.Errorf("read csv: %w", err)
	}
	line, _ := s.r.FieldPos(0)
	return line, rec, nil
}

func (s *csvSource) Close() error { return nil }
