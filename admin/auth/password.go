package auth

import (
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's recommendation (19 MiB, 2 passes, 1 lane), about 20–40 ms
// per hash on a small server.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// hashParams are the argon2id cost parameters of new hashes.
type hashParams struct {
	memory, time uint32
	threads      uint8
}

var production = hashParams{argonMemory, argonTime, argonThreads}

// newHashParams are what HashPassword uses. Test binaries hash cheaply: under the race
// detector one production hash takes about a second, and the console's tests log in
// hundreds of times. Verification always reads the parameters from the hash itself, so
// this never weakens a stored password.
var newHashParams = func() hashParams {
	if testing.Testing() {
		return hashParams{memory: 64, time: 1, threads: 1}
	}
	return production
}()

// HashPassword returns a PHC-format argon2id hash ($argon2id$v=19$m=…,t=…,p=…$salt$key).
func HashPassword(password string) (string, error) {
	return hashWith(password, newHashParams)
}

func hashWith(password string, p hashParams) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches a hash made by HashPassword (with
// whatever parameters it records). A malformed hash never matches.
func VerifyPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<20 || t > 16 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is verified against when a username does not exist, so that a wrong username
// takes as long as a wrong password.
var dummyHash, _ = HashPassword("unionbot-no-such-officer")

// VerifyDummy spends the time of one VerifyPassword and returns false.
func VerifyDummy(password string) bool {
	VerifyPassword(dummyHash, password)
	return false
}

// common.txt holds frequently used passwords (lower case, one a line), refused whatever
// their length.
//
//go:embed common.txt
var commonText string

var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for l := range strings.SplitSeq(commonText, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[strings.ToLower(l)] = true
		}
	}
	return m
}()

// ErrWeakPassword is wrapped by CheckPassword's errors; the message is for the officer.
var ErrWeakPassword = errors.New("weak password")

// weakPassword is a refusal whose text may be shown to the officer as is.
type weakPassword struct{ msg string }

func (e weakPassword) Error() string { return e.msg }
func (e weakPassword) Unwrap() error { return ErrWeakPassword }

// CheckPassword refuses passwords that are short, common, built from the username, or a
// single repeated or sequential pattern. Its message is in Chinese, for the officer.
func CheckPassword(username, password string) error {
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength {
		return weakPassword{fmt.Sprintf("密码至少需要 %d 个字符", MinPasswordLength)}
	}
	if n > 128 {
		return weakPassword{"密码不能超过 128 个字符"}
	}
	lower := strings.ToLower(password)
	if commonPasswords[lower] {
		return weakPassword{"这个密码太常见，容易被猜到，请换一个"}
	}
	if u := strings.ToLower(username); u != "" && strings.Contains(lower, u) {
		return weakPassword{"密码不能包含用户名"}
	}
	if distinctRunes(password) < 4 || sequential(lower) {
		return weakPassword{"密码太简单（重复或连续的字符），请换一个"}
	}
	for _, r := range password {
		if unicode.IsControl(r) {
			return weakPassword{"密码不能包含控制字符"}
		}
	}
	return nil
}

func distinctRunes(s string) int {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
	}
	return len(seen)
}

// sequential reports a run such as "1234567890" or "abcdefghij" (each character one
// above or below the previous).
func sequential(s string) bool {
	r := []rune(s)
	up, down := true, true
	for i := 1; i < len(r); i++ {
		up = up && r[i] == r[i-1]+1
		down = down && r[i] == r[i-1]-1
	}
	return up || down
}
