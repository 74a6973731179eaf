package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"unionbot/storage/kv"
)

// Key prefixes of the conversation core in the kv store. The edge's keys
// (dedup, token) live beside their code in dedup.go and tokencache.go.
const (
	sessionPrefix = "sess:"
	openIDLock    = "lock:oid:"
)

// Sessions loads and saves conversation sessions in a kv store. A missing or
// expired session is a fresh idle one, not an error. Every save renews the TTL,
// so a member who pauses mid-form for less than the TTL resumes where they were.
type Sessions struct {
	store  kv.Store
	ttl    time.Duration
	now    func() time.Time
	sealer Sealer
}

// Sealer encrypts sessions at rest: a half-filled form holds names, ID
// digits and, for claims, bank details, and Redis is not where personal data
// may sit in clear (DESIGN.md §9). *pii.Cipher implements it.
type Sealer interface {
	Encrypt(plain string) (string, error)
	Decrypt(sealed string) (string, error)
}

// NewSessions returns a session store with the given idle TTL. With a nil
// sealer sessions are stored as plain JSON.
func NewSessions(store kv.Store, ttl time.Duration, sealer Sealer) *Sessions {
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	return &Sessions{store: store, ttl: ttl, now: time.Now, sealer: sealer}
}

// Load returns the session of openID, or a fresh one.
func (s *Sessions) Load(ctx context.Context, openID string) (Session, error) {
	b, err := s.store.Get(ctx, sessionPrefix+openID)
	if errors.Is(err, kv.ErrNotFound) {
		return Session{OpenID: openID}, nil
	}
	if err != nil {
		return Session{}, fmt.Errorf("load session: %w", err)
	}
	if s.sealer != nil {
		plain, err := s.sealer.Decrypt(string(b))
		if err != nil { // another key, or written before sealing: start afresh
			return Session{OpenID: openID, stored: true}, nil
		}
		b = []byte(plain)
	}
	var sess Session
	if err := json.Unmarshal(b, &sess); err != nil {
		// A session we cannot read (e.g. written by an incompatible version) is
		// dropped rather than wedging the member's conversation forever.
		return Session{OpenID: openID, stored: true}, nil
	}
	sess.OpenID, sess.stored = openID, true
	return sess, nil
}

// Save stores the session and renews its TTL. An idle session with no state
// is deleted instead, which keeps the store small after a broadcast burst;
// one that was never stored costs no round trip at all (most messages are
// single questions that leave no state).
func (s *Sessions) Save(ctx context.Context, sess Session) error {
	key := sessionPrefix + sess.OpenID
	if sess.Form == "" && len(sess.Vars) == 0 {
		if !sess.stored {
			return nil
		}
		if err := s.store.Delete(ctx, key); err != nil {
			return fmt.Errorf("save session: %w", err)
		}
		return nil
	}
	sess.Updated = s.now().UTC()
	b, err := json.Marshal(sess)
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	if s.sealer != nil {
		sealed, err := s.sealer.Encrypt(string(b))
		if err != nil {
			return fmt.Errorf("save session: %w", err)
		}
		b = []byte(sealed)
	}
	if err := s.store.Set(ctx, key, b, s.ttl); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}
