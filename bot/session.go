package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"unionbot/storage/kv"
)

// Keys of the conversation core in the kv store. Every key of a member's turn
// carries the openid as a Redis hash tag ("{openid}"), so that on Redis
// Cluster a turn's keys share one slot and each round trip is one script.
// The edge's keys (dedup, nonce, token) live beside their code in package wx.
const (
	sessionPrefix = "sess:"
	seenPrefix    = "seen:"
	// lockPrefix names the member's lock as kv names locks: the store keeps
	// it under "lock:"+key, i.e. "lock:oid:{openid}".
	lockPrefix = "oid:"
)

func tagged(prefix, openID string) string { return prefix + "{" + openID + "}" }

// SessionKey is where the conversation of openID is kept.
func SessionKey(openID string) string { return tagged(sessionPrefix, openID) }

// SeenKey holds the time of openID's last message (Unix seconds): WeChat
// allows customer-service messages for 48 hours after it.
func SeenKey(openID string) string { return tagged(seenPrefix, openID) }

func lockKey(openID string) string { return tagged(lockPrefix, openID) }

// Sessions loads and saves conversation sessions in a kv store. A missing or
// expired session is a fresh idle one, not an error. Every save renews the TTL,
// so a member who pauses mid-form for less than the TTL resumes where they were.
//
// The engine does not call Load and Save on the hot path: it reads the
// session within BeginTurn (decode) and writes it within EndTurn (write).
// Load and Save are for tools and tests.
type Sessions struct {
	store  kv.Store
	ttl    time.Duration
	now    func() time.Time
	sealer Sealer
}

// Sealer encrypts sessions and the replies kept for WeChat's retries at rest:
// a half-filled form holds names, ID digits and, for claims, bank details, and
// Redis is not where personal data may sit in clear. *pii.Cipher implements it.
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
	b, err := s.store.Get(ctx, SessionKey(openID))
	if errors.Is(err, kv.ErrNotFound) {
		return Session{OpenID: openID}, nil
	}
	if err != nil {
		return Session{}, fmt.Errorf("load session: %w", err)
	}
	return s.decode(openID, b), nil
}

// decode turns a stored session (nil: none) into a Session. A session we
// cannot open or read (another key, an incompatible version) is dropped
// rather than wedging the member's conversation forever.
func (s *Sessions) decode(openID string, b []byte) Session {
	if b == nil {
		return Session{OpenID: openID}
	}
	if s.sealer != nil {
		plain, err := s.sealer.Decrypt(string(b))
		if err != nil {
			return Session{OpenID: openID, stored: true}
		}
		b = []byte(plain)
	}
	var sess Session
	if err := json.Unmarshal(b, &sess); err != nil {
		return Session{OpenID: openID, stored: true}
	}
	sess.OpenID, sess.stored = openID, true
	return sess
}

// Save stores the session and renews its TTL (see write).
func (s *Sessions) Save(ctx context.Context, sess Session) error {
	w, ok, err := s.write(sess)
	if err != nil || !ok {
		return err
	}
	if w.Val == nil {
		err = s.store.Delete(ctx, w.Key)
	} else {
		err = s.store.Set(ctx, w.Key, w.Val, w.TTL)
	}
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// write is the kv write that saves sess, renewing its TTL. An idle session
// with no state is deleted instead, which keeps the store small after a
// broadcast burst; one that was never stored needs no write at all (ok false:
// most messages are single questions that leave no state).
func (s *Sessions) write(sess Session) (kv.Write, bool, error) {
	key := SessionKey(sess.OpenID)
	if sess.Form == "" && len(sess.Vars) == 0 {
		return kv.Write{Key: key}, sess.stored, nil
	}
	sess.Updated = s.now().UTC()
	b, err := json.Marshal(sess)
	if err != nil {
		return kv.Write{}, false, fmt.Errorf("save session: %w", err)
	}
	if s.sealer != nil {
		sealed, err := s.sealer.Encrypt(string(b))
		if err != nil {
			return kv.Write{}, false, fmt.Errorf("save session: %w", err)
		}
		b = []byte(sealed)
	}
	return kv.Write{Key: key, Val: b, TTL: s.ttl}, true, nil
}
