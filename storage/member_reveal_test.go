package storage_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// A full ID number leaves storage only together with its audit row: a reveal whose row
// cannot be written reveals nothing, and a missing reason is refused.
func TestRevealIDNumber(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		r := rec(7)
		upsert(t, db, r)
		m, err := db.MemberByNo(ctx, r.MemberNo)
		if err != nil {
			t.Fatal(err)
		}
		subject := fmt.Sprintf("member:%d", m.ID)

		if id, err := db.RevealIDNumber(ctx, r.MemberNo, "核对", storage.AuditEntry{}); err == nil || id != "" {
			t.Fatalf("reveal without an auditable actor: %q %v", id, err)
		}
		if id, err := db.RevealIDNumber(ctx, r.MemberNo, "  ", storage.AuditEntry{Actor: "officer:adm"}); !errors.Is(err, storage.ErrInvalid) || id != "" {
			t.Fatalf("reveal without a reason: %q %v", id, err)
		}
		if _, err := db.RevealIDNumber(ctx, "NOPE", "核对", storage.AuditEntry{Actor: "officer:adm"}); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("reveal of a missing member: %v", err)
		}
		if es, _ := db.AuditEntries(ctx, subject, 10); countAction(es, "member.id.reveal") != 0 {
			t.Fatalf("refused reveals audited: %+v", es)
		}

		id, err := db.RevealIDNumber(ctx, r.MemberNo, "会员到窗口核对申请表", storage.AuditEntry{Actor: "officer:adm", RequestID: "req-1", ClientAddr: "10.0.0.9"})
		if err != nil || id != r.IDNumber {
			t.Fatalf("reveal: %q %v, want %s", id, err, r.IDNumber)
		}
		es, err := db.AuditEntries(ctx, subject, 10)
		if err != nil || countAction(es, "member.id.reveal") != 1 {
			t.Fatalf("audit after a reveal: %+v %v", es, err)
		}
		for _, e := range es {
			if e.Action != "member.id.reveal" {
				continue
			}
			if e.Actor != "officer:adm" || e.RequestID != "req-1" || e.ClientAddr != "10.0.0.9" ||
				!strings.Contains(e.Detail, "会员到窗口核对申请表") || strings.Contains(e.Detail, r.IDNumber) || e.At.IsZero() {
				t.Errorf("audit row: %+v", e)
			}
		}
	})
}

func countAction(es []storage.AuditEntry, action string) int {
	n := 0
	for _, e := range es {
		if e.Action == action {
			n++
		}
	}
	return n
}
