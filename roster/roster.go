// Package roster imports the union's member roster (docs/CONTRACTS.md §3) from CSV or XLSX:
// it reads the file as a stream, validates every row, reports each invalid row by row
// number, column and reason, and upserts the valid rows by member number in batches.
// It also generates realistic roster files for tests and benchmarks.
package roster

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"unionbot/storage"
)

// Upserter stores validated roster records. Implemented by *storage.DB.
// It returns one outcome per record, in order; a record the database refuses (an
// ID number already held by another member number: storage.ErrConflict) carries its
// own error, while a returned error means the whole batch was not stored.
type Upserter interface {
	UpsertMembers(ctx context.Context, recs []storage.MemberRecord) ([]storage.UpsertOutcome, error)
}

// Formats accepted by Import.
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
)

const (
	defaultBatchSize = 1000
	defaultMaxErrors = 10000
	maxTitleRows     = 5 // non-blank rows looked at for the header
)

// Options tune an import.
type Options struct {
	DryRun    bool             // validate only, write nothing
	BatchSize int              // records per UpsertMembers call (one transaction); default 1000
	MaxErrors int              // row errors kept in Report.Errors; more are only counted; default 10000
	Now       func() time.Time // clock for "not in the future" checks; default time.Now
	// Journal, when set, stores the batches instead of Store, each in one transaction with
	// the progress it completes (see Journal). Report.Errors then holds only the errors not
	// yet handed to the journal (none after a successful import).
	Journal Journal
	// Resume continues a journaled import that stopped: the file rows up to Resume.LastRow
	// were applied and are counted in Resume; they are read again only for the in-file
	// duplicate checks. ErrorsKept is how many row errors the journal holds already.
	Resume     storage.ImportProgress
	ErrorsKept int
}

// Journal stores an import's batches with its progress, so that an import stopped anywhere
// resumes after its last stored batch without applying or counting a row twice.
// Implemented by a roster import job (Jobs) over storage.DB.ApplyRosterBatch.
type Journal interface {
	// ApplyBatch stores recs (possibly none) as Upserter does and, in the same transaction,
	// the progress that progress computes from the outcomes; progress may be called more
	// than once.
	ApplyBatch(ctx context.Context, recs []storage.MemberRecord, progress func([]storage.UpsertOutcome) storage.ImportProgress) ([]storage.UpsertOutcome, error)
}

// RowError is one problem with one cell of the file.
type RowError struct {
	Row    int    // 1-based line (CSV) or row (XLSX) number; the header is row 1
	Column string // the header as written in the file, e.g. 身份证号
	Reason string // for officers, in Chinese
}

// Report summarises an import.
type Report struct {
	Rows           int // non-blank data rows read
	Inserted       int
	Updated        int
	Unchanged      int
	Rejected       int        // rows not imported
	Errors         []RowError // ordered by row; a rejected row has at least one
	ErrorsOmitted  int        // errors beyond Options.MaxErrors, counted only
	Ignored        []string   // unknown header columns, ignored: the first few, shortened, personal numbers masked
	IgnoredOmitted int        // unknown columns beyond those listed in Ignored
	DryRun         bool
	Format         string // FormatCSV or FormatXLSX
	Encoding       string // CSV only: EncUTF8, EncUTF8BOM, EncGB18030 or EncUTF16
}

// FileError is a problem with the file as a whole (unreadable, no header, a required
// column missing); nothing was imported. Reason is Chinese and safe to show.
type FileError struct{ Reason string }

func (e *FileError) Error() string { return e.Reason }

// maxPrintedErrors caps the row errors Summary lists.
const maxPrintedErrors = 200

// Summary renders the report for the command line, in Chinese.
func (r Report) Summary() string {
	var b strings.Builder
	title := "会员名册导入完成"
	if r.DryRun {
		title = "会员名册校验完成（试运行，未写入数据库）"
	}
	b.WriteString(title + "\n")
	format := strings.ToUpper(r.Format)
	if r.Encoding != "" {
		format += "，编码 " + r.Encoding
	}
	fmt.Fprintf(&b, "文件格式：%s\n", format)
	fmt.Fprintf(&b, "数据行数：%d\n", r.Rows)
	if r.DryRun {
		fmt.Fprintf(&b, "可导入：%d\n", r.Rows-r.Rejected)
	} else {
		fmt.Fprintf(&b, "新增：%d\n更新：%d\n未变化：%d\n", r.Inserted, r.Updated, r.Unchanged)
	}
	fmt.Fprintf(&b, "拒绝：%d\n", r.Rejected)
	if len(r.Ignored) > 0 {
		more := ""
		if r.IgnoredOmitted > 0 {
			more = fmt.Sprintf(" 等%d列", len(r.Ignored)+r.IgnoredOmitted)
		}
		fmt.Fprintf(&b, "已忽略无法识别的列：%s%s\n", strings.Join(r.Ignored, "、"), more)
	}
	if len(r.Errors) > 0 {
		b.WriteString("错误明细：\n")
		shown := min(len(r.Errors), maxPrintedErrors)
		for _, e := range r.Errors[:shown] {
			fmt.Fprintf(&b, "  第%d行 [%s] %s\n", e.Row, e.Column, e.Reason)
		}
		if more := len(r.Errors) - shown + r.ErrorsOmitted; more > 0 {
			fmt.Fprintf(&b, "  …还有 %d 条\n", more)
		}
	}
	return b.String()
}

// Importer imports roster files into Store.
type Importer struct {
	Store Upserter
	Opts  Options
}

// ImportFile imports the file at path. The format comes from the extension (.csv,
// .xlsx); anything else is sniffed (a zip header means XLSX, otherwise CSV).
func (im *Importer) ImportFile(ctx context.Context, path string) (Report, error) {
	format, err := formatOf(path)
	if err != nil {
		return Report{DryRun: im.Opts.DryRun}, err
	}
	if format == FormatXLSX {
		src, err := newXLSXSource(path)
		if err != nil {
			return Report{DryRun: im.Opts.DryRun, Format: FormatXLSX}, err
		}
		defer src.Close()
		return im.run(ctx, src, FormatXLSX, "", src.serial)
	}
	f, err := os.Open(path)
	if err != nil {
		return Report{DryRun: im.Opts.DryRun, Format: format}, fmt.Errorf("open roster: %w", err)
	}
	defer f.Close()
	return im.Import(ctx, f, FormatCSV)
}

func formatOf(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".txt", ".tsv":
		return FormatCSV, nil
	case ".xlsx", ".xlsm":
		return FormatXLSX, nil
	case ".xls":
		return "", &FileError{Reason: "不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入"}
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open roster: %w", err)
	}
	defer f.Close()
	magic := make([]byte, 4)
	n, _ := io.ReadFull(f, magic)
	if bytes.Equal(magic[:n], []byte("PK\x03\x04")) {
		return FormatXLSX, nil
	}
	return FormatCSV, nil
}

// Import imports a roster read from r in the given format (FormatCSV or FormatXLSX).
// An XLSX stream is first copied to a temporary file, since a zip needs random access.
// A *FileError means the file itself is unusable and nothing was imported; another
// error means the import stopped (the report then counts what was done before).
func (im *Importer) Import(ctx context.Context, r io.Reader, format string) (Report, error) {
	switch strings.ToLower(format) {
	case FormatCSV:
		src, err := newCSVSource(r)
		if err != nil {
			return Report{DryRun: im.Opts.DryRun, Format: FormatCSV}, err
		}
		return im.run(ctx, src, FormatCSV, src.encoding, nil)
	case FormatXLSX:
		tmp, err := os.CreateTemp("", "roster-*.xlsx")
		if err != nil {
			return Report{DryRun: im.Opts.DryRun, Format: FormatXLSX}, fmt.Errorf("spool xlsx: %w", err)
		}
		defer os.Remove(tmp.Name())
		_, err = io.Copy(tmp, r)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return Report{DryRun: im.Opts.DryRun, Format: FormatXLSX}, fmt.Errorf("spool xlsx: %w", err)
		}
		return im.ImportFile(ctx, tmp.Name())
	default:
		return Report{DryRun: im.Opts.DryRun}, fmt.Errorf("roster format %q: want %q or %q", format, FormatCSV, FormatXLSX)
	}
}

// source yields the rows of a file with their 1-based row numbers, then io.EOF.
type source interface {
	Next() (row int, cells []string, err error)
}

// pending is a valid record waiting in the current batch, with the row it came from.
type pending struct {
	row int
	rec storage.MemberRecord
}

// run is the import proper: header, rows, batches.
func (im *Importer) run(ctx context.Context, src source, format, encoding string, serial func(float64) (time.Time, error)) (Report, error) {
	rep := Report{DryRun: im.Opts.DryRun, Format: format, Encoding: encoding}
	opts := im.Opts
	if opts.BatchSize <= 0 {
		opts.BatchSize = defaultBatchSize
	}
	if opts.MaxErrors <= 0 {
		opts.MaxErrors = defaultMaxErrors
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	if !opts.DryRun && im.Store == nil && opts.Journal == nil {
		return rep, errors.New("roster import: no store")
	}
	resumeRow := 0
	if opts.Journal != nil {
		r := opts.Resume
		resumeRow = r.LastRow
		rep.Rows, rep.Inserted, rep.Updated, rep.Unchanged, rep.Rejected, rep.ErrorsOmitted =
			r.Rows, r.Inserted, r.Updated, r.Unchanged, r.Rejected, r.ErrorsOmitted
	}

	// Header: the first non-blank row, or, when that row names no column at all (a
	// title such as "某某工会会员名册" above the table), one of the next few rows.
	var l layout
	var firstErr error
	for tries := 0; ; {
		row, cells, err := src.Next()
		if errors.Is(err, io.EOF) {
			if firstErr != nil {
				return rep, firstErr
			}
			return rep, &FileError{Reason: "文件为空：第1行应为表头（会员编号,姓名,身份证号,所属工会…）"}
		}
		var le *lineError
		if errors.As(err, &le) {
			// Unsplittable: not a usable header; maybe a title row.
			if firstErr == nil {
				firstErr = &FileError{Reason: fmt.Sprintf("第%d行（表头）无法读取：%s", row, le.Reason)}
			}
			if tries++; tries >= maxTitleRows {
				return rep, firstErr
			}
			continue
		}
		if err != nil {
			return rep, err
		}
		if blank(cells) {
			continue
		}
		l, err = parseHeader(cells)
		if err == nil {
			break
		}
		if firstErr == nil {
			firstErr = err
		}
		if tries++; l.known > 0 {
			return rep, err // the header, but incomplete
		}
		if tries >= maxTitleRows {
			return rep, firstErr
		}
	}
	rep.Ignored, rep.IgnoredOmitted = l.ignored, l.unknown-len(l.ignored)

	p := newRowParser(&l, now(), serial)
	kept := opts.ErrorsKept // errors the journal holds already
	addErrs := func(rep *Report, errs ...RowError) {
		for _, e := range errs {
			if kept+len(rep.Errors) < opts.MaxErrors {
				rep.Errors = append(rep.Errors, e)
			} else {
				rep.ErrorsOmitted++
			}
		}
	}
	// Rows seen so far, by member number and by a digest of the ID number (the
	// plaintext need not stay in memory for the whole file).
	seenNo := make(map[string]int)
	seenID := make(map[[16]byte]int)
	batch := make([]pending, 0, opts.BatchSize)
	recs := make([]storage.MemberRecord, 0, opts.BatchSize)
	// tally counts a stored batch's outcomes into r.
	tally := func(r *Report, outs []storage.UpsertOutcome) {
		for i, o := range outs {
			if o.Err != nil {
				r.Rejected++
				addErrs(r, dbRowError(batch[i].row, &l, o.Err))
				continue
			}
			switch o.Result {
			case storage.Inserted:
				r.Inserted++
			case storage.Updated:
				r.Updated++
			case storage.Unchanged:
				r.Unchanged++
			}
		}
	}
	lastRow, sinceCommit := resumeRow, 0 // the last file row read; rows read since the journal's last commit
	// flush stores the batch; with a journal, final commits the progress even with no batch.
	flush := func(final bool) error {
		if opts.DryRun || (len(batch) == 0 && (opts.Journal == nil || (!final && sinceCommit == 0))) {
			batch = batch[:0]
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		recs = recs[:0]
		for _, b := range batch {
			recs = append(recs, b.rec)
		}
		var outs []storage.UpsertOutcome
		var err error
		if opts.Journal != nil {
			outs, err = opts.Journal.ApplyBatch(ctx, recs, func(outs []storage.UpsertOutcome) storage.ImportProgress {
				next := rep
				next.Errors = slices.Clone(rep.Errors)
				if len(outs) == len(recs) {
					tally(&next, outs)
				}
				return progressOf(next, lastRow)
			})
		} else {
			outs, err = im.Store.UpsertMembers(ctx, recs)
		}
		if err != nil {
			if len(batch) == 0 {
				return fmt.Errorf("import up to row %d: %w", lastRow, err)
			}
			return fmt.Errorf("import rows %d-%d: %w", batch[0].row, batch[len(batch)-1].row, err)
		}
		if len(outs) != len(recs) {
			return fmt.Errorf("import rows %d-%d: store returned %d outcomes for %d records",
				batch[0].row, batch[len(batch)-1].row, len(outs), len(recs))
		}
		tally(&rep, outs)
		if opts.Journal != nil { // the journal holds these errors now
			kept += len(rep.Errors)
			rep.Errors = rep.Errors[:0]
			sinceCommit = 0
		}
		batch = batch[:0]
		return nil
	}

	for {
		row, cells, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		// A row a stopped import accounted for already is read again only to know the
		// member and ID numbers it holds (duplicates later in the file).
		replay := row <= resumeRow
		if !replay && row > 0 {
			lastRow = row
			sinceCommit++
		}
		if le := (*lineError)(nil); errors.As(err, &le) {
			if !replay {
				rep.Rows++
				rep.Rejected++
				addErrs(&rep, RowError{Row: row, Column: l.columnName(le.Col), Reason: le.Reason})
			}
			continue
		}
		if err != nil {
			return rep, err
		}
		if blank(cells) {
			continue
		}
		if !replay {
			rep.Rows++
		}
		if row%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
		}
		rec, errs := p.parse(row, cells)
		if rec.MemberNo != "" {
			if first, dup := seenNo[rec.MemberNo]; dup {
				errs = append(errs, RowError{Row: row, Column: l.header[fMemberNo],
					Reason: fmt.Sprintf("与第%d行的会员编号重复", first)})
			} else {
				seenNo[rec.MemberNo] = row
			}
		}
		if rec.IDNumber != "" {
			key := idDigest(rec.IDNumber)
			if first, dup := seenID[key]; dup {
				errs = append(errs, RowError{Row: row, Column: l.header[fIDNumber],
					Reason: fmt.Sprintf("与第%d行的身份证号重复", first)})
			} else {
				seenID[key] = row
			}
		}
		if replay {
			continue
		}
		if len(errs) > 0 {
			rep.Rejected++
			addErrs(&rep, errs...)
		} else {
			batch = append(batch, pending{row: row, rec: rec})
		}
		// With a journal, progress is also committed through long stretches of refused rows.
		if len(batch) >= opts.BatchSize || (opts.Journal != nil && sinceCommit >= opts.BatchSize) {
			if err := flush(false); err != nil {
				return rep, err
			}
		}
	}
	err := flush(true)
	// Database refusals arrive a batch late; keep the list in row order.
	slices.SortStableFunc(rep.Errors, func(a, b RowError) int { return cmp.Compare(a.Row, b.Row) })
	return rep, err
}

// progressOf is r as a journal's progress, every row up to lastRow accounted for.
func progressOf(r Report, lastRow int) storage.ImportProgress {
	p := storage.ImportProgress{LastRow: lastRow, Rows: r.Rows, Inserted: r.Inserted, Updated: r.Updated,
		Unchanged: r.Unchanged, Rejected: r.Rejected, ErrorsOmitted: r.ErrorsOmitted}
	for _, e := range r.Errors {
		p.Errors = append(p.Errors, storage.ImportRowError{Row: e.Row, Column: e.Column, Reason: e.Reason})
	}
	return p
}

// dbRowError explains a record the database refused.
func dbRowError(row int, l *layout, err error) RowError {
	if errors.Is(err, storage.ErrConflict) {
		return RowError{Row: row, Column: l.header[fIDNumber],
			Reason: "该身份证号已登记在其他会员编号下，请核对后再导入"}
	}
	return RowError{Row: row, Column: l.header[fMemberNo], Reason: "数据库未能保存该行，请稍后重试或联系管理员"}
}

func idDigest(id string) [16]byte {
	sum := sha256.Sum256([]byte(id))
	var k [16]byte
	copy(k[:], sum[:16])
	return k
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
