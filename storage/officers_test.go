package storage_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func TestOfficers(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		if _, err := db.UpsertMembers(ctx, []storage.MemberRecord{
			{MemberNo: "A1", Name: "张三", IDNumber: "11010119900307123X", UnitName: "城关镇工会"},
		}); err != nil {
			t.Fatal(err)
		}
		unit, err := db.UnitByName(ctx, "城关镇工会")
		if err != nil {
			t.Fatalf("UnitByName: %v", err)
		}
		if _, err := db.UnitByName(ctx, "不存在"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("UnitByName(unknown): got %v, want ErrNotFound", err)
		}
		by := storage.AuditEntry{Actor: "cli", RequestID: "req-1", ClientAddr: "10.0.0.1"}
		o, err := db.CreateOfficer(ctx, storage.NewOfficer{
			Username: "li.si", PasswordHash: "$argon2id$x", Roles: []string{"reviewer", "viewer"}, UnitID: unit.ID,
		}, by)
		if err != nil {
			t.Fatalf("CreateOfficer: %v", err)
		}
		if o.ID == 0 || o.DisplayName != "li.si" || !slices.Equal(o.Roles, []string{"reviewer", "viewer"}) ||
			o.UnitID != unit.ID || o.UnitName != "城关镇工会" || o.Disabled || o.AuthVersion != 1 || o.CreatedAt.IsZero() {
			t.Errorf("created officer: got %+v", o)
		}
		if _, err := db.CreateOfficer(ctx, storage.NewOfficer{Username: "li.si", PasswordHash: "h", Roles: []string{"admin"}}, by); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("duplicate username: got %v, want ErrConflict", err)
		}
		for name, bad := range map[string]storage.NewOfficer{
			"no roles":        {Username: "x", PasswordHash: "h"},
			"bad username":    {Username: "a b", PasswordHash: "h", Roles: []string{"admin"}},
			"no hash":         {Username: "y", Roles: []string{"admin"}},
			"malformed roles": {Username: "z", PasswordHash: "h", Roles: []string{"a,b"}},
		} {
			if _, err := db.CreateOfficer(ctx, bad, by); !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("%s: got %v, want ErrInvalid", name, err)
			}
		}
		county, err := db.CreateOfficer(ctx, storage.NewOfficer{Username: "admin", DisplayName: "王主席", PasswordHash: "h", Roles: []string{"admin"}}, by)
		if err != nil || county.UnitID != 0 || county.UnitName != "" {
			t.Fatalf("county officer: %+v, %v", county, err)
		}

		got, err := db.OfficerByUsername(ctx, "li.si")
		if err != nil || got.ID != o.ID || got.PasswordHash != "$argon2id$x" {
			t.Errorf("OfficerByUsername: %+v, %v", got, err)
		}
		if _, err := db.OfficerByUsername(ctx, "nobody"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("unknown username: got %v", err)
		}
		if all, err := db.Officers(ctx, 0); err != nil || len(all) != 2 || all[0].Username != "admin" {
			t.Errorf("Officers(all): %+v, %v", all, err)
		}
		if mine, err := db.Officers(ctx, unit.ID); err != nil || len(mine) != 1 || mine[0].ID != o.ID {
			t.Errorf("Officers(unit): %+v, %v", mine, err)
		}

		disabled, zero := true, int64(0)
		up, err := db.UpdateOfficer(ctx, o.ID, storage.OfficerUpdate{Roles: []string{"admin"}, UnitID: &zero, Disabled: &disabled}, by)
		if err != nil {
			t.Fatalf("UpdateOfficer: %v", err)
		}
		if !up.Disabled || up.UnitID != 0 || !slices.Equal(up.Roles, []string{"admin"}) || up.AuthVersion != 2 {
			t.Errorf("after update: %+v", up)
		}
		if _, err := db.UpdateOfficer(ctx, 9999, storage.OfficerUpdate{Disabled: &disabled}, by); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("update unknown: got %v", err)
		}
		pw, err := db.SetOfficerPassword(ctx, o.ID, "$argon2id$new", true, by)
		if err != nil || pw.PasswordHash != "$argon2id$new" || !pw.MustChangePassword || pw.AuthVersion != 3 {
			t.Errorf("SetOfficerPassword: %+v, %v", pw, err)
		}
		if _, err := db.SetOfficerPassword(ctx, 9999, "h", false, by); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("password of unknown officer: got %v", err)
		}
		if err := db.RecordOfficerLogin(ctx, o.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.OfficerByID(ctx, o.ID); got.LastLoginAt.IsZero() {
			t.Error("last login not recorded")
		}

		entries, err := db.AuditEntries(ctx, fmt.Sprintf("officer:%d", o.ID), 10)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action)
			if e.Actor != "cli" {
				t.Errorf("audit actor: got %q, want cli", e.Actor)
			}
		}
		if want := []string{"officer.password.reset", "officer.update", "officer.create"}; !slices.Equal(actions, want) {
			t.Errorf("audit actions: got %v, want %v", actions, want)
		}
	})
}

func TestAPITokens(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		by := storage.AuditEntry{Actor: "cli"}
		tok, err := db.CreateAPIToken(ctx, "ci-export", "hash-1", []string{"viewer"}, 0, by)
		if err != nil {
			t.Fatalf("CreateAPIToken: %v", err)
		}
		if tok.ID == 0 || tok.Name != "ci-export" || !slices.Equal(tok.Roles, []string{"viewer"}) || tok.UnitID != 0 {
			t.Errorf("token: %+v", tok)
		}
		if _, err := db.CreateAPIToken(ctx, "ci-export", "hash-2", []string{"viewer"}, 0, by); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("duplicate name: got %v", err)
		}
		got, err := db.APITokenByHash(ctx, "hash-1")
		if err != nil || got.ID != tok.ID {
			t.Errorf("APITokenByHash: %+v, %v", got, err)
		}
		if _, err := db.APITokenByHash(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("unknown hash: got %v", err)
		}
		if err := db.TouchAPIToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.APITokenByHash(ctx, "hash-1"); got.LastUsedAt.IsZero() {
			t.Error("last use not recorded")
		}
		if rows, err := storage.RawRows(ctx, db, "SELECT token_hash FROM api_tokens"); err != nil || len(rows) != 1 || rows[0][0] != "hash-1" {
			t.Errorf("stored: %v, %v", rows, err)
		}
	})
}
