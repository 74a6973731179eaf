package storage_test

import (
	"errors"
	"testing"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// Keyword rules and member status changed from the console: each change with its audit row.
func TestKeywordRulesAndMemberStatusAudited(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		a := storage.AuditEntry{Actor: "officer:wang"}
		k, err := db.AddKeywordRule(ctx, storage.KeywordRule{Pattern: "会费", Match: storage.MatchContains, Reply: "每月代扣", Enabled: true}, a)
		if err != nil {
			t.Fatal(err)
		}
		k.Enabled, k.Priority = false, 3
		if _, err := db.UpdateKeywordRule(ctx, k, a); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.KeywordRuleByID(ctx, k.ID); got.Enabled || got.Priority != 3 {
			t.Fatalf("updated %+v", got)
		}
		if _, err := db.AddKeywordRule(ctx, storage.KeywordRule{Pattern: "((", Match: storage.MatchRegex, Reply: "x"}, a); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("bad regex: %v", err)
		}
		if _, err := db.UpdateKeywordRule(ctx, storage.KeywordRule{ID: 9999, Pattern: "x", Match: storage.MatchExact, Reply: "y"}, a); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("update missing: %v", err)
		}
		if err := db.RemoveKeywordRule(ctx, k.ID, a); err != nil {
			t.Fatal(err)
		}
		if err := db.RemoveKeywordRule(ctx, k.ID, a); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("remove twice: %v", err)
		}
		es, _ := db.AuditLog(ctx, storage.AuditFilter{Action: "keyword.", Limit: 10})
		if len(es) != 3 {
			t.Fatalf("keyword audits %d", len(es))
		}

		if _, err := db.UpsertMembers(ctx, []storage.MemberRecord{{MemberNo: "S1", Name: "孙一", IDNumber: "11010119900307123X", UnitName: "甲镇工会"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetMemberStatus(ctx, "S1", "开除", "x", a); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("unknown status: %v", err)
		}
		if _, err := db.SetMemberStatus(ctx, "S1", storage.StatusWithdrawn, " ", a); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("no reason: %v", err)
		}
		m, err := db.SetMemberStatus(ctx, "S1", storage.StatusWithdrawn, "本人申请退会", a)
		if err != nil || m.Status != storage.StatusWithdrawn {
			t.Fatalf("status: %+v %v", m, err)
		}
		if _, err := db.SetMemberStatus(ctx, "S1", storage.StatusWithdrawn, "再次", a); err != nil {
			t.Fatal(err)
		}
		es, _ = db.AuditLog(ctx, storage.AuditFilter{Action: "member.status", Limit: 10})
		if len(es) != 1 || es[0].Before["status"] != storage.StatusActive || es[0].After["status"] != storage.StatusWithdrawn {
			t.Fatalf("status audits %+v", es)
		}
		if _, err := db.SetMemberStatus(ctx, "nobody", storage.StatusActive, "x", a); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("missing member: %v", err)
		}
	})
}
