package storage

// Keyword rules changed from the console and the API: the same rules as CreateKeywordRule
// and DeleteKeywordRule (used by the command line), with the audit row in the change's
// transaction.

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// MaxKeywordReply is the longest reply a rule may have (a WeChat text reply holds 2,048 bytes).
const MaxKeywordReply = 600

// CheckKeywordRule reports, as ErrInvalid with a reason, what is wrong with r.
func CheckKeywordRule(r KeywordRule) error {
	switch {
	case strings.TrimSpace(r.Pattern) == "":
		return fmt.Errorf("%w: pattern is empty", ErrInvalid)
	case utf8.RuneCountInString(r.Pattern) > 500:
		return fmt.Errorf("%w: pattern longer than 500 characters", ErrInvalid)
	case strings.TrimSpace(r.Reply) == "":
		return fmt.Errorf("%w: reply is empty", ErrInvalid)
	case utf8.RuneCountInString(r.Reply) > MaxKeywordReply:
		return fmt.Errorf("%w: reply longer than %d characters", ErrInvalid, MaxKeywordReply)
	}
	switch r.Match {
	case MatchExact, MatchContains:
	case MatchRegex:
		if _, err := regexp.Compile(r.Pattern); err != nil {
			return fmt.Errorf("%w: pattern: %v", ErrInvalid, err)
		}
	default:
		return fmt.Errorf("%w: unknown match kind %q", ErrInvalid, r.Match)
	}
	return nil
}

func keywordSubject(id int64) string { return "keyword:" + strconv.FormatInt(id, 10) }

func keywordState(r KeywordRule) map[string]string {
	return map[string]string{"pattern": clip(r.Pattern, 100), "match": r.Match, "reply": clip(r.Reply, 100),
		"priority": strconv.Itoa(r.Priority), "enabled": strconv.FormatBool(r.Enabled)}
}

// KeywordRuleByID returns one rule, or ErrNotFound.
func (db *DB) KeywordRuleByID(ctx context.Context, id int64) (KeywordRule, error) {
	var r keywordRuleRow
	if err := db.r.GetContext(ctx, &r, `SELECT id, pattern, match_kind, reply, priority, enabled FROM keyword_rules WHERE id = ?`, id); err != nil {
		return KeywordRule{}, fmt.Errorf("keyword rule %d: %w", id, mapErr(err))
	}
	return KeywordRule(r), nil
}

// AddKeywordRule stores a rule with its audit row ("keyword.create") and returns it.
func (db *DB) AddKeywordRule(ctx context.Context, r KeywordRule, audit AuditEntry) (KeywordRule, error) {
	if err := CheckKeywordRule(r); err != nil {
		return KeywordRule{}, fmt.Errorf("add keyword rule: %w", err)
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, insertKeywordRule, r.Pattern, r.Match, r.Reply, r.Priority, r.Enabled, db.now())
		if err != nil {
			return mapErr(err)
		}
		if r.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		audit.Action, audit.Subject, audit.After = "keyword.create", keywordSubject(r.ID), keywordState(r)
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return KeywordRule{}, fmt.Errorf("add keyword rule: %w", err)
	}
	return r, nil
}

// UpdateKeywordRule replaces rule r.ID with r, with its audit row ("keyword.update").
func (db *DB) UpdateKeywordRule(ctx context.Context, r KeywordRule, audit AuditEntry) (KeywordRule, error) {
	if err := CheckKeywordRule(r); err != nil {
		return KeywordRule{}, fmt.Errorf("update keyword rule: %w", err)
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var before keywordRuleRow
		if err := sqlx.GetContext(ctx, tx, &before, `SELECT id, pattern, match_kind, reply, priority, enabled FROM keyword_rules WHERE id = ?`, r.ID); err != nil {
			return mapErr(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE keyword_rules SET pattern = ?, match_kind = ?, reply = ?, priority = ?, enabled = ? WHERE id = ?`,
			r.Pattern, r.Match, r.Reply, r.Priority, r.Enabled, r.ID); err != nil {
			return err
		}
		audit.Action, audit.Subject = "keyword.update", keywordSubject(r.ID)
		audit.Before, audit.After = keywordState(KeywordRule(before)), keywordState(r)
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return KeywordRule{}, fmt.Errorf("update keyword rule %d: %w", r.ID, err)
	}
	return r, nil
}

// RemoveKeywordRule deletes rule id with its audit row ("keyword.delete"), or ErrNotFound.
func (db *DB) RemoveKeywordRule(ctx context.Context, id int64, audit AuditEntry) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var before keywordRuleRow
		if err := sqlx.GetContext(ctx, tx, &before, `SELECT id, pattern, match_kind, reply, priority, enabled FROM keyword_rules WHERE id = ?`, id); err != nil {
			return mapErr(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM keyword_rules WHERE id = ?`, id); err != nil {
			return err
		}
		audit.Action, audit.Subject, audit.Before = "keyword.delete", keywordSubject(id), keywordState(KeywordRule(before))
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("remove keyword rule %d: %w", id, err)
	}
	return nil
}
