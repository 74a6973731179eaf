package storage

// Mutual-aid enrollments (互助保障参保年度) of members.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

const selectEnrollments = `SELECT member_id, year, cover_from, cover_to FROM mutual_aid_enrollments
WHERE member_id = ? ORDER BY year`

type enrollmentRow struct {
	MemberID  int64     `db:"member_id"`
	Year      int       `db:"year"`
	CoverFrom time.Time `db:"cover_from"`
	CoverTo   time.Time `db:"cover_to"`
}

// Enrollments returns a member's mutual-aid cover years, oldest first (empty when none).
func (db *DB) Enrollments(ctx context.Context, memberID int64) ([]Enrollment, error) {
	var rows []enrollmentRow
	if err := db.r.SelectContext(ctx, &rows, selectEnrollments, memberID); err != nil {
		return nil, fmt.Errorf("enrollments of member %d: %w", memberID, err)
	}
	out := make([]Enrollment, len(rows))
	for i, r := range rows {
		out[i] = Enrollment{MemberID: r.MemberID, Year: r.Year, CoverFrom: r.CoverFrom.UTC(), CoverTo: r.CoverTo.UTC()}
	}
	return out, nil
}

const deleteEnrollments = `DELETE FROM mutual_aid_enrollments WHERE member_id IN (?)`

const insertEnrollments = `INSERT INTO mutual_aid_enrollments (member_id, year, cover_from, cover_to) VALUES `

// On MySQL, enrollment rows are written as upserts so that a member another transaction
// inserted meanwhile (only possible where the named lock is unavailable) cannot fail the batch.
const enrollmentUpsertMySQL = ` ON DUPLICATE KEY UPDATE cover_from = VALUES(cover_from), cover_to = VALUES(cover_to)`

// replaceEnrollments makes each written member's enrollment years exactly its record's set:
// it clears the years of updated members (new ones have none) and writes the record's.
func (db *DB) replaceEnrollments(ctx context.Context, tx *sqlx.Tx, ms []*memberIn, ids map[string]int64, updated []int64) error {
	for part := range slices.Chunk(updated, lookupChunk) {
		q, args, err := sqlx.In(deleteEnrollments, part)
		if err != nil {
			return fmt.Errorf("build enrollment delete: %w", err)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("clear enrollments: %w", err)
		}
	}
	var rows [][4]any
	for _, m := range ms {
		if m.keep.MutualAidYears {
			continue // an existing member's years stay; a new one has none
		}
		id, ok := ids[m.no]
		if !ok {
			return fmt.Errorf("member %s vanished while writing enrollments", m.no)
		}
		for _, y := range m.years {
			from, to := coverOf(y)
			rows = append(rows, [4]any{id, y, from, to})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if !db.mysql() {
		// The single writer makes the delete above exact, so a plain INSERT suffices.
		stmt, err := tx.PrepareContext(ctx, insertEnrollments+placeholders(1, 4))
		if err != nil {
			return fmt.Errorf("prepare enrollment write: %w", err)
		}
		defer stmt.Close()
		for _, r := range rows {
			if _, err := stmt.ExecContext(ctx, r[:]...); err != nil {
				return fmt.Errorf("write enrollments: %w", err)
			}
		}
		return nil
	}
	for part := range slices.Chunk(rows, enrollmentWriteRows) {
		args := make([]any, 0, len(part)*4)
		for _, r := range part {
			args = append(args, r[:]...)
		}
		q := insertEnrollments + placeholders(len(part), 4) + enrollmentUpsertMySQL
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("write enrollments: %w", err)
		}
	}
	return nil
}

// coverOf returns the cover period of mutual-aid year y: 1 January to 31 December.
func coverOf(y int) (from, to time.Time) {
	return time.Date(y, time.January, 1, 0, 0, 0, 0, time.UTC), time.Date(y, time.December, 31, 0, 0, 0, 0, time.UTC)
}

// parseYears reads comma-joined enrollment years, sorted ascending.
func parseYears(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, p := range strings.Split(s, ",") {
		y, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("enrollment year %q: %w", p, err)
		}
		out = append(out, y)
	}
	sort.Ints(out)
	return out, nil
}
