package storage_test

import (
	"strings"
	"testing"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func TestAudit(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		writes := [][4]string{
			{"admin", "member.bind", "member:1", "绑定 openid oAbc"},
			{"import", "member.import", "roster", "100 rows"},
			{"admin", "member.unbind", "member:1", "手机 13812345678，身份证 11010119900307123X"},
		}
		for _, w := range writes {
			if err := db.Audit(ctx, w[0], w[1], w[2], w[3]); err != nil {
				t.Fatalf("Audit: %v", err)
			}
		}
		got, err := db.AuditEntries(ctx, "member:1", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Action != "member.unbind" || got[1].Action != "member.bind" || got[0].ID <= got[1].ID {
			t.Fatalf("AuditEntries(member:1): got %+v, want unbind then bind", got)
		}
		if got[0].Actor != "admin" || got[0].Subject != "member:1" || got[0].At.IsZero() {
			t.Errorf("entry fields: got %+v", got[0])
		}
		if d := got[0].Detail; strings.Contains(d, "13812345678") || strings.Contains(d, "11010119900307123X") ||
			!strings.Contains(d, "138****5678") || !strings.Contains(d, "1101**********123X") {
			t.Errorf("stored detail %q: want the phone and ID number masked", d)
		}
		if all, err := db.AuditEntries(ctx, "", 2); err != nil || len(all) != 2 || all[0].Subject != "member:1" || all[1].Subject != "roster" {
			t.Errorf("AuditEntries(any, 2): got %+v, %v", all, err)
		}
		if all, err := db.AuditEntries(ctx, "", 0); err != nil || len(all) != 3 {
			t.Errorf("AuditEntries default limit: got %d, %v; want 3", len(all), err)
		}
		if err := db.Audit(ctx, "", "x", "y", "z"); err == nil {
			t.Error("Audit without actor: got nil error")
		}
	})
}

func TestScrubPII(t *testing.T) {
	cases := []struct{ in, want string }{
		{"nothing here", "nothing here"},
		{"13812345678", "138****5678"},
		{"a13812345678,13987654321b", "a138****5678,139****4321b"},
		{"id 11010119900307123x.", "id 1101**********123x."},
		{"order 1234567890123456789012", "order 1234567890123456789012"}, // longer number: not a phone or an ID
		{"12345678901", "12345678901"},                                   // not a mobile prefix
	}
	for _, tc := range cases {
		if got := storage.ScrubPII(tc.in); got != tc.want {
			t.Errorf("scrubPII(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}
