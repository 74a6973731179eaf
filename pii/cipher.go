// Package pii protects personal information (PIPL): ID numbers, phones, bank
// cards and names. It encrypts values at rest, derives keyed hashes for
// equality lookups, masks values for display, validates and normalizes what
// members type, and redacts free text before it reaches logs or officer views.
// It imports nothing from this module.
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length in bytes of the master key (UNIONBOT_SECRET_KEY).
const KeySize = 32

// Hash domains: one per kind of value, so equal strings of different kinds
// (a phone and a member number) never share a lookup hash.
const (
	DomainIDNumber = "id_number"
	DomainPhone    = "phone"
	DomainBankCard = "bank_card"
)

// version prefixes every ciphertext, so a future key or algorithm can be
// introduced without guessing what old rows hold.
const version = "v1:"

// ErrDecrypt is returned for a ciphertext that is malformed, was tampered
// with, or was made with another key.
var ErrDecrypt = errors.New("pii: cannot decrypt")

// Cipher encrypts personal information and hashes it for lookups. It is safe
// for concurrent use.
type Cipher struct {
	aead    cipher.AEAD
	hashKey []byte
}

// NewCipher derives independent encryption and hashing keys from the 32-byte
// master key, so that neither use weakens the other.
func NewCipher(key []byte) (*Cipher, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("pii: key must be %d bytes (got %d)", KeySize, len(key))
	}
	block, err := aes.NewCipher(subKey(key, "unionbot/enc/v1"))
	if err != nil {
		return nil, fmt.Errorf("pii: %w", err)
	}
	aead, err := cipher.NewGCM(block) // 12-byte nonce, 16-byte tag
	if err != nil {
		return nil, fmt.Errorf("pii: %w", err)
	}
	return &Cipher{aead: aead, hashKey: subKey(key, "unionbot/hash/v1")}, nil
}

func subKey(master []byte, label string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// Encrypt seals plain with AES-256-GCM under a random nonce and returns
// "v1:" + base64(nonce|ciphertext). The empty string stays empty, so an
// optional field that was never given needs no special case.
func (c *Cipher) Encrypt(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	ns := c.aead.NonceSize()
	buf := make([]byte, ns, ns+len(plain)+c.aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("pii: nonce: %w", err)
	}
	buf = c.aead.Seal(buf, buf[:ns], []byte(plain), nil)
	return version + base64.StdEncoding.EncodeToString(buf), nil
}

// Decrypt reverses Encrypt; "" decrypts to "". Anything else that does not
// authenticate under this key returns ErrDecrypt. Errors never quote s.
func (c *Cipher) Decrypt(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	rest, ok := strings.CutPrefix(s, version)
	if !ok {
		return "", fmt.Errorf("%w: unknown format", ErrDecrypt)
	}
	raw, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return "", fmt.Errorf("%w: bad base64", ErrDecrypt)
	}
	ns := c.aead.NonceSize()
	if len(raw) < ns+c.aead.Overhead() {
		return "", fmt.Errorf("%w: too short", ErrDecrypt)
	}
	plain, err := c.aead.Open(nil, raw[:ns], raw[ns:], nil)
	if err != nil {
		return "", fmt.Errorf("%w: tampered or wrong key", ErrDecrypt)
	}
	return string(plain), nil
}

// Hash returns the hex HMAC-SHA256 of domain+"\x00"+value under the hashing
// key: a stable lookup key for equality search that reveals nothing without
// the key. Normalize value first (NormalizeIDNumber, NormalizePhone) so that
// equal values hash equally. An empty value hashes to "", so rows without
// the value never match each other.
func (c *Cipher) Hash(domain, value string) string {
	if value == "" {
		return ""
	}
	m := hmac.New(sha256.New, c.hashKey)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}
