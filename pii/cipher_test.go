package pii

import (
	"bytes"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
)

func testCipher(t *testing.T, fill byte) *Cipher {
	t.Helper()
	c, err := NewCipher(bytes.Repeat([]byte{fill}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewCipherKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewCipher(make([]byte, n)); err == nil {
			t.Errorf("NewCipher with a %d-byte key succeeded", n)
		}
	}
}

func TestEncryptRoundTrip(t *testing.T) {
	c := testCipher(t, 1)
	for _, plain := range []string{
		"110101199003071234", "13812345678", "张三", "6222 0212 3456 7890 123",
		"x", strings.Repeat("长", 1000), "\x00\xff binary",
	} {
		enc, err := c.Encrypt(plain)
		if err != nil {
			t.Fatalf("Encrypt(%q): %v", plain, err)
		}
		if !strings.HasPrefix(enc, "v1:") {
			t.Errorf("Encrypt(%q) = %q, want a v1: prefix", plain, enc)
		}
		// A one-character plaintext may occur in random base64 by chance.
		if len(plain) > 4 && strings.Contains(enc, plain) {
			t.Errorf("ciphertext contains the plaintext %q", plain)
		}
		raw, err := base64.StdEncoding.DecodeString(enc[3:])
		if err != nil {
			t.Fatalf("payload not base64: %v", err)
		}
		if want := 12 + len(plain) + 16; len(raw) != want {
			t.Errorf("payload %d bytes, want nonce+ciphertext+tag = %d", len(raw), want)
		}
		got, err := c.Decrypt(enc)
		if err != nil {
			t.Fatalf("Decrypt: %v", err)
		}
		if got != plain {
			t.Errorf("round trip = %q, want %q", got, plain)
		}
	}
}

func TestEncryptEmptyStaysEmpty(t *testing.T) {
	c := testCipher(t, 1)
	if enc, err := c.Encrypt(""); err != nil || enc != "" {
		t.Fatalf("Encrypt(\"\") = %q, %v; want \"\", nil", enc, err)
	}
	if dec, err := c.Decrypt(""); err != nil || dec != "" {
		t.Fatalf("Decrypt(\"\") = %q, %v; want \"\", nil", dec, err)
	}
}

func TestEncryptRandomNonce(t *testing.T) {
	c := testCipher(t, 1)
	a, _ := c.Encrypt("13812345678")
	b, _ := c.Encrypt("13812345678")
	if a == b {
		t.Fatal("two encryptions of one value are equal: the nonce is not random")
	}
}

func TestDecryptRejects(t *testing.T) {
	c := testCipher(t, 1)
	enc, err := c.Encrypt("110101199003071234")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(enc[3:])
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		return "v1:" + base64.StdEncoding.EncodeToString(b)
	}
	other, _ := testCipher(t, 2).Encrypt("110101199003071234")
	tests := map[string]string{
		"flipped nonce bit":      flip(0),
		"flipped ciphertext bit": flip(14),
		"flipped tag bit":        flip(len(raw) - 1),
		"truncated":              "v1:" + base64.StdEncoding.EncodeToString(raw[:len(raw)-1]),
		"too short":              "v1:" + base64.StdEncoding.EncodeToString(raw[:20]),
		"no version":             enc[3:],
		"unknown version":        "v2:" + enc[3:],
		"not base64":             "v1:!!!!",
		"plaintext":              "110101199003071234",
		"other key":              other,
	}
	for name, s := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := c.Decrypt(s)
			if !errors.Is(err, ErrDecrypt) {
				t.Fatalf("Decrypt = %q, %v; want ErrDecrypt", got, err)
			}
			if strings.Contains(err.Error(), "1101") {
				t.Errorf("error quotes the input: %v", err)
			}
		})
	}
}

func TestHash(t *testing.T) {
	c1 := testCipher(t, 1)
	c1b := testCipher(t, 1)
	c2 := testCipher(t, 2)
	h := c1.Hash(DomainIDNumber, "110101199003071234")
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(h) {
		t.Fatalf("Hash = %q, want 64 hex characters", h)
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"stable for the same key", h == c1b.Hash(DomainIDNumber, "110101199003071234")},
		{"differs by value", h != c1.Hash(DomainIDNumber, "110101199003071235")},
		{"differs by domain", h != c1.Hash(DomainPhone, "110101199003071234")},
		{"differs by key", h != c2.Hash(DomainIDNumber, "110101199003071234")},
		// The separator keeps ("ab","c") and ("a","bc") apart.
		{"domain boundary", c1.Hash("ab", "c") != c1.Hash("a", "bc")},
		{"empty value hashes to empty", c1.Hash(DomainPhone, "") == ""},
	}
	for _, ck := range checks {
		if !ck.ok {
			t.Errorf("%s: failed", ck.name)
		}
	}
	// The hash must not be a plain SHA-256 of the value: without the key it
	// reveals nothing.
	if h == sha256Hex("id_number\x00110101199003071234") {
		t.Error("Hash is unkeyed")
	}
}

func TestSubKeysIndependent(t *testing.T) {
	key := bytes.Repeat([]byte{9}, KeySize)
	enc, hash := subKey(key, "unionbot/enc/v1"), subKey(key, "unionbot/hash/v1")
	if bytes.Equal(enc, hash) || bytes.Equal(enc, key) || bytes.Equal(hash, key) {
		t.Fatal("sub-keys must differ from each other and from the master key")
	}
	if len(enc) != 32 || len(hash) != 32 {
		t.Fatalf("sub-key lengths %d/%d, want 32", len(enc), len(hash))
	}
}

func BenchmarkEncrypt(b *testing.B) {
	c, _ := NewCipher(make([]byte, KeySize))
	for b.Loop() {
		if _, err := c.Encrypt("110101199003071234"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	c, _ := NewCipher(make([]byte, KeySize))
	for b.Loop() {
		c.Hash(DomainIDNumber, "110101199003071234")
	}
}
