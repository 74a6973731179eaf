package pii

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// withCheck appends the GB 11643 check character to 17 digits. It computes
// the weights as 2^(17-i) mod 11 and the character as (12 - sum mod 11) mod 11
// rather than reusing the package's tables, so a wrong table fails the tests.
func withCheck(d17 string) string {
	if len(d17) != 17 {
		panic(fmt.Sprintf("withCheck: %d digits", len(d17)))
	}
	sum := 0
	for i := range 17 {
		w := 1
		for range 17 - i {
			w = w * 2 % 11
		}
		sum += int(d17[i]-'0') * w
	}
	c := (12 - sum%11) % 11
	if c == 10 {
		return d17 + "X"
	}
	return d17 + string(rune('0'+c))
}

// wrongCheck returns d17 with a check character that is not the right one.
func wrongCheck(d17 string) string {
	right := withCheck(d17)[17]
	for _, c := range "0123456789X" {
		if byte(c) != right {
			return d17 + string(c)
		}
	}
	panic("unreachable")
}
