// Package auth is who an officer or API token is and what it may do: roles, argon2id
// password hashes, bearer tokens, and the one authorization function (role × unit scoping,
// DESIGN §11) that every console page and API handler calls.
package auth

import (
	"fmt"
	"slices"
	"strings"
)

// Role is one of the officers' roles (DESIGN §11).
type Role string

// The roles. Each grants the actions listed in policy.go; viewer only reads.
const (
	RoleAdmin     Role = "admin"
	RoleReviewer  Role = "reviewer"
	RoleFinance   Role = "finance"
	RoleLegal     Role = "legal"
	RolePublisher Role = "publisher"
	RoleViewer    Role = "viewer"
)

// AllRoles lists every role in the order the console shows them.
var AllRoles = []Role{RoleAdmin, RoleReviewer, RoleFinance, RoleLegal, RolePublisher, RoleViewer}

// Label is the role's name in the console.
func (r Role) Label() string {
	switch r {
	case RoleAdmin:
		return "管理员"
	case RoleReviewer:
		return "审核"
	case RoleFinance:
		return "财务"
	case RoleLegal:
		return "法律援助"
	case RolePublisher:
		return "发布"
	case RoleViewer:
		return "只读"
	}
	return string(r)
}

// ParseRoles reads "admin,reviewer" (the --role flag, a form): known roles only, at least
// one, duplicates dropped, in AllRoles order.
func ParseRoles(s string) ([]Role, error) {
	seen := map[Role]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		if part == "" {
			continue
		}
		r := Role(part)
		if !slices.Contains(AllRoles, r) {
			return nil, fmt.Errorf("unknown role %q (roles: admin, reviewer, finance, legal, publisher, viewer)", part)
		}
		seen[r] = true
	}
	var out []Role
	for _, r := range AllRoles {
		if seen[r] {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("at least one role is required (admin, reviewer, finance, legal, publisher, viewer)")
	}
	return out, nil
}

// RolesFromStrings keeps the known roles of stored strings (an unknown one, say from a newer
// version, grants nothing).
func RolesFromStrings(ss []string) []Role {
	var out []Role
	for _, s := range ss {
		if r := Role(s); slices.Contains(AllRoles, r) {
			out = append(out, r)
		}
	}
	return out
}

// Strings turns roles into their stored form.
func Strings(rs []Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}
