package storage

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

const selectKeywordRules = `SELECT id, pattern, match_kind, reply, priority, enabled FROM keyword_rules
ORDER BY priority DESC, id ASC`

type keywordRuleRow struct {
	ID       int64  `db:"id"`
	Pattern  string `db:"pattern"`
	Match    string `db:"match_kind"`
	Reply    string `db:"reply"`
	Priority int    `db:"priority"`
	Enabled  bool   `db:"enabled"`
}

// KeywordRules returns every rule, enabled or not, highest priority first, then by id.
func (db *DB) KeywordRules(ctx context.Context) ([]KeywordRule, error) {
	var rows []keywordRuleRow
	if err := db.r.SelectContext(ctx, &rows, selectKeywordRules); err != nil {
		return nil, fmt.Errorf("keyword rules: %w", err)
	}
	out := make([]KeywordRule, len(rows))
	for i, r := range rows {
		out[i] = KeywordRule(r)
	}
	return out, nil
}

const insertKeywordRule = `INSERT INTO keyword_rules (pattern, match_kind, reply, priority, enabled, created_at)
VALUES (?, ?, ?, ?, ?, ?)`

// CreateKeywordRule stores a rule and returns its id. The match kind must be MatchExact,
// MatchContains or MatchRegex, and a regex must compile (ErrInvalid otherwise).
func (db *DB) CreateKeywordRule(ctx context.Context, r KeywordRule) (int64, error) {
	if strings.TrimSpace(r.Pattern) == "" {
		return 0, fmt.Errorf("create keyword rule: %w: pattern is empty", ErrInvalid)
	}
	if utf8.RuneCountInString(r.Pattern) > 500 {
		return 0, fmt.Errorf("create keyword rule: %w: pattern longer than 500 characters", ErrInvalid)
	}
	if strings.TrimSpace(r.Reply) == "" {
		return 0, fmt.Errorf("create keyword rule: %w: reply is empty", ErrInvalid)
	}
	switch r.Match {
	case MatchExact, MatchContains:
	case MatchRegex:
		if _, err := regexp.Compile(r.Pattern); err != nil {
			return 0, fmt.Errorf("create keyword rule: %w: pattern: %v", ErrInvalid, err)
		}
	default:
		return 0, fmt.Errorf("create keyword rule: %w: unknown match kind %q", ErrInvalid, r.Match)
	}
	res, err := db.w.ExecContext(ctx, insertKeywordRule, r.Pattern, r.Match, r.Reply, r.Priority, r.Enabled, db.now())
	if err != nil {
		return 0, fmt.Errorf("create keyword rule: %w", mapErr(err))
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("create keyword rule: %w", err)
	}
	return id, nil
}

// DeleteKeywordRule removes a rule, or returns ErrNotFound.
func (db *DB) DeleteKeywordRule(ctx context.Context, id int64) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM keyword_rules WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete keyword rule %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete keyword rule %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("delete keyword rule %d: %w", id, ErrNotFound)
	}
	return nil
}
