package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"unionbot/storage/kv"
)

// Console sessions live in the kv store (Redis with several replicas), keyed by a hash of
// the cookie's value, so a leaked kv dump does not hand out live cookies.
const (
	sessionCookie = "unionbot_admin"
	// loginCookie carries the login form's token before there is a session.
	loginCookie = "unionbot_login"
	// SessionIdle ends a session nobody used for this long.
	SessionIdle = 2 * time.Hour
	// SessionMax ends any session this long after login.
	SessionMax = 12 * time.Hour
	// sessionTouch is how stale LastSeen may get before a request writes it back.
	sessionTouch     = time.Minute
	sessionKeyPrefix = "admin:sess:"
)

// session is what the kv store holds for one login.
type session struct {
	OfficerID   int64     `json:"o"`
	AuthVersion int       `json:"v"` // the officer's AuthVersion at login
	CSRF        string    `json:"c"` // the per-session form token
	Created     time.Time `json:"t"`
	Seen        time.Time `json:"s"`
	Flash       string    `json:"f,omitempty"` // one notice for the next page
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return sessionKeyPrefix + hex.EncodeToString(sum[:])
}

// ttlOf is how long the kv store keeps sess from now: the idle limit, cut by the absolute one.
func (s *Server) ttlOf(sess session) time.Duration {
	now := s.now()
	return min(SessionIdle, sess.Created.Add(SessionMax).Sub(now))
}

func (s *Server) saveSession(ctx context.Context, id string, sess session) error {
	ttl := s.ttlOf(sess)
	if ttl <= 0 {
		return s.kv.Delete(ctx, sessionKey(id))
	}
	b, err := json.Marshal(sess)
	if err != nil {
		return err
	}
	if err := s.kv.Set(ctx, sessionKey(id), b, ttl); err != nil {
		return fmt.Errorf("save console session: %w", err)
	}
	return nil
}

// loadSession returns the session of r's cookie; ok is false when there is none or it has
// expired (idle or absolute).
func (s *Server) loadSession(r *http.Request) (id string, sess session, ok bool, err error) {
	c, cerr := r.Cookie(sessionCookie)
	if cerr != nil || c.Value == "" || len(c.Value) > 100 {
		return "", session{}, false, nil
	}
	b, err := s.kv.Get(r.Context(), sessionKey(c.Value))
	if errors.Is(err, kv.ErrNotFound) {
		return "", session{}, false, nil
	}
	if err != nil {
		return "", session{}, false, fmt.Errorf("load console session: %w", err)
	}
	if err := json.Unmarshal(b, &sess); err != nil {
		return "", session{}, false, nil
	}
	now := s.now()
	if now.Sub(sess.Seen) > SessionIdle || now.Sub(sess.Created) > SessionMax {
		_ = s.kv.Delete(r.Context(), sessionKey(c.Value))
		return "", session{}, false, nil
	}
	return c.Value, sess, true, nil
}

// startSession makes a fresh session (a new id: never the one the browser had before, which
// defeats session fixation) and sets its cookie.
func (s *Server) startSession(ctx context.Context, w http.ResponseWriter, officerID int64, authVersion int) (string, session, error) {
	now := s.now()
	id := randomToken()
	sess := session{OfficerID: officerID, AuthVersion: authVersion, CSRF: randomToken(), Created: now, Seen: now}
	if err := s.saveSession(ctx, id, sess); err != nil {
		return "", session{}, err
	}
	s.setCookie(w, sessionCookie, id, 0)
	return id, sess, nil
}

func (s *Server) endSession(ctx context.Context, w http.ResponseWriter, id string) {
	if id != "" {
		_ = s.kv.Delete(ctx, sessionKey(id))
	}
	s.setCookie(w, sessionCookie, "", -1)
}

// setCookie sets an HttpOnly, SameSite=Lax cookie for /admin and /api (Secure behind https).
// maxAge 0 is a browser-session cookie, < 0 deletes it.
func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

func equalTokens(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
