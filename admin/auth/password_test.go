package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	// The production parameters (HashPassword itself hashes cheaply in test binaries).
	h, err := hashWith("Gh7!xkq2Lm9p", production)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash format: %s", h)
	}
	if fast, _ := HashPassword("Gh7!xkq2Lm9p"); !VerifyPassword(fast, "Gh7!xkq2Lm9p") {
		t.Error("test-binary hash does not verify")
	}
	if !VerifyPassword(h, "Gh7!xkq2Lm9p") {
		t.Error("right password refused")
	}
	if VerifyPassword(h, "Gh7!xkq2Lm9q") {
		t.Error("wrong password accepted")
	}
	fast, _ := HashPassword("Gh7!xkq2Lm9p")
	if VerifyPassword(fast, "") {
		t.Error("empty password accepted")
	}
	if h2, _ := HashPassword("Gh7!xkq2Lm9p"); h2 == fast {
		t.Error("two hashes of one password are equal: no salt?")
	}
	for _, bad := range []string{"", "plain", "$argon2id$v=19$m=0,t=1,p=1$AAAA$AAAA", "$argon2i$v=19$m=1024,t=1,p=1$AAAA$AAAA", h[:len(h)-3] + "!!!"} {
		if VerifyPassword(bad, "x") {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
	// Hashes with other (stored) parameters verify, up to the accepted maximum of 16 passes;
	// beyond it a hash is refused unverified (a planted hash must not cost minutes).
	for _, tc := range []struct {
		time uint32
		ok   bool
	}{{16, true}, {17, false}} {
		h, err := hashWith("Gh7!xkq2Lm9p", hashParams{memory: 64, time: tc.time, threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		if VerifyPassword(h, "Gh7!xkq2Lm9p") != tc.ok {
			t.Errorf("a hash with t=%d: verified %t, want %t", tc.time, !tc.ok, tc.ok)
		}
	}
	if VerifyDummy("x") {
		t.Error("VerifyDummy must be false")
	}
}

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		user, pw string
		ok       bool
	}{
		{"alice", "Gh7!xkq2Lm9p", true},
		{"alice", "工会干部密码很长很安全啊", true},
		{"alice", "short1", false},
		{"alice", "password123", false},
		{"alice", "QWERTYUIOP", false},
		{"alice", "alice-2025-union", false},
		{"alice", "aaaaaaaaaaaa", false},
		{"alice", "abababababab", false},
		{"alice", "abcdefghijkl", false},
		{"alice", "9876543210", false},
		{"alice", strings.Repeat("xY3!", 40), false},
		// The limits themselves are allowed: 10 characters, 128 characters, 4 distinct ones.
		{"alice", "Gh7!xkq2Lm", true},
		{"alice", "Gh7!xkq2L", false},
		{"alice", strings.Repeat("xY3!", 32), true},
		{"alice", strings.Repeat("xY3!", 32) + "x", false},
		{"alice", "xY3!xY3!xY", true},
		{"alice", "xY3xY3xY3x", false},
	} {
		err := CheckPassword(tc.user, tc.pw)
		if (err == nil) != tc.ok {
			t.Errorf("CheckPassword(%q, %q) = %v, want ok=%t", tc.user, tc.pw, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrWeakPassword) {
			t.Errorf("error %v does not wrap ErrWeakPassword", err)
		}
	}
}

func TestParseRoles(t *testing.T) {
	rs, err := ParseRoles(" viewer,Admin,viewer ")
	if err != nil || len(rs) != 2 || rs[0] != RoleAdmin || rs[1] != RoleViewer {
		t.Errorf("ParseRoles: %v, %v", rs, err)
	}
	for _, bad := range []string{"", ",", "root", "admin,boss"} {
		if _, err := ParseRoles(bad); err == nil {
			t.Errorf("ParseRoles(%q): want an error", bad)
		}
	}
	if got := RolesFromStrings([]string{"admin", "future-role"}); len(got) != 1 || got[0] != RoleAdmin {
		t.Errorf("RolesFromStrings: %v", got)
	}
}

func TestToken(t *testing.T) {
	a, b := NewToken(), NewToken()
	if a == b || !strings.HasPrefix(a, TokenPrefix) || len(a) < 40 {
		t.Errorf("tokens %q %q", a, b)
	}
	if HashToken(a) == HashToken(b) || HashToken(a) != HashToken(" "+a+"\n") || len(HashToken(a)) != 64 {
		t.Error("HashToken")
	}
}
