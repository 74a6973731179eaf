package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"unionbot/claims"
)

// RuleSet is the payout rules in force with their version. Version 0 is the documented
// example (claims.ExampleRules): no admin has saved the union's own yet, so estimates are
// for reviewers only and do not reach members.
type RuleSet struct {
	Version     int
	Rules       claims.Rules
	ConfirmedBy string // the admin who saved this version ("" for the example)
	SavedAt     time.Time
}

// Example reports whether the rules are the example rather than the union's own.
func (r RuleSet) Example() bool { return r.Version == 0 }

// ClaimRules returns the rules in force: the newest saved version, or the example.
func (db *DB) ClaimRules(ctx context.Context) (RuleSet, error) {
	return db.claimRulesOn(ctx, db.r)
}

func (db *DB) claimRulesOn(ctx context.Context, q sqlx.QueryerContext) (RuleSet, error) {
	var r struct {
		Version     int       `db:"version"`
		Rules       string    `db:"rules"`
		ConfirmedBy string    `db:"confirmed_by"`
		CreatedAt   time.Time `db:"created_at"`
	}
	err := sqlx.GetContext(ctx, q, &r, `SELECT version, rules, confirmed_by, created_at FROM claim_rules
ORDER BY version DESC LIMIT 1`)
	if err != nil {
		if err = mapErr(err); errors.Is(err, ErrNotFound) {
			return RuleSet{Rules: claims.ExampleRules()}, nil
		}
		return RuleSet{}, fmt.Errorf("claim rules: %w", err)
	}
	rs := RuleSet{Version: r.Version, ConfirmedBy: r.ConfirmedBy, SavedAt: r.CreatedAt.UTC()}
	if err := json.Unmarshal([]byte(r.Rules), &rs.Rules); err != nil {
		return RuleSet{}, fmt.Errorf("claim rules version %d: %w", r.Version, err)
	}
	return rs, nil
}

// SaveClaimRules stores rules as the next version, confirmed by confirmedBy (the admin's
// name), if the version in force is still expect (else ErrStale: another admin saved
// meanwhile). Invalid rules are a *claims.RulesError. Claims already filed keep the
// estimate of the version they were filed under.
func (db *DB) SaveClaimRules(ctx context.Context, rules claims.Rules, expect int, confirmedBy string, audit AuditEntry) (RuleSet, error) {
	if err := rules.Validate(); err != nil {
		return RuleSet{}, err
	}
	if strings.TrimSpace(confirmedBy) == "" {
		return RuleSet{}, fmt.Errorf("save claim rules: %w: no confirming admin", ErrInvalid)
	}
	b, err := json.Marshal(rules)
	if err != nil {
		return RuleSet{}, fmt.Errorf("encode claim rules: %w", err)
	}
	var out RuleSet
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		cur, err := db.claimRulesOn(ctx, tx)
		if err != nil {
			return err
		}
		if cur.Version != expect {
			return ErrStale
		}
		now := db.now()
		out = RuleSet{Version: cur.Version + 1, Rules: rules, ConfirmedBy: confirmedBy, SavedAt: now}
		// Two admins saving at once both try the same version: the primary key lets one in.
		if _, err := tx.ExecContext(ctx, `INSERT INTO claim_rules (version, rules, confirmed_by, created_at) VALUES (?, ?, ?, ?)`,
			out.Version, string(b), confirmedBy, now); err != nil {
			if err = mapErr(err); errors.Is(err, ErrConflict) {
				return ErrStale
			}
			return fmt.Errorf("insert claim rules: %w", err)
		}
		audit.Action, audit.Subject = "claim_rules.save", fmt.Sprintf("claim_rules:%d", out.Version)
		audit.Before = map[string]string{"version": fmt.Sprint(cur.Version)}
		audit.After = map[string]string{"version": fmt.Sprint(out.Version), "rules": string(b)}
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return RuleSet{}, fmt.Errorf("save claim rules: %w", err)
	}
	return out, nil
}

// EstimateClaim is the estimate the rules in force give a claim that is not filed yet (the
// chat's summary): the same figures SubmitClaim will store. cover comes from the member's
// enrolments and earlier claims.
func (db *DB) EstimateClaim(ctx context.Context, memberID int64, c claims.Case) (claims.Estimate, RuleSet, error) {
	rs, err := db.ClaimRules(ctx)
	if err != nil {
		return claims.Estimate{}, RuleSet{}, err
	}
	m, err := db.MemberByID(ctx, memberID)
	if err != nil {
		return claims.Estimate{}, RuleSet{}, err
	}
	cover, err := db.claimCover(ctx, db.r, memberID, c.AdmittedOn, 0)
	if err != nil {
		return claims.Estimate{}, RuleSet{}, err
	}
	cover.JoinedOn = m.JoinedOn
	if c.FiledOn.IsZero() {
		c.FiledOn = db.now().In(chinaTime)
	}
	return rs.Rules.Estimate(c, cover), rs, nil
}
