package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"unionbot/admin/auth"
	"unionbot/storage"
	"unionbot/web"
)

type ctxKey int

const keyRequest ctxKey = iota

// reqState is what authentication found, for handlers and templates.
type reqState struct {
	principal auth.Principal
	sessionID string
	session   session
	officer   storage.Officer // console sessions only
}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(keyRequest).(*reqState)
	return st
}

// protect is every route's outer layer: browsers' cross-origin requests that change state
// are refused (Sec-Fetch-Site / Origin, Go's CrossOriginProtection), and pages are never
// framed or sniffed.
func (s *Server) protect(next http.Handler) http.Handler {
	h := s.cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
		h.ServeHTTP(w, r)
	})
}

func unsafeMethod(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// officerSession authenticates r by its console session: the officer must still exist, be
// enabled and have the AuthVersion the session was made with (a password change or
// disabling ends older sessions). ok is false when there is no valid session.
func (s *Server) officerSession(w http.ResponseWriter, r *http.Request) (*reqState, bool, error) {
	id, sess, ok, err := s.loadSession(r)
	if err != nil || !ok {
		return nil, false, err
	}
	o, err := s.db.OfficerByID(r.Context(), sess.OfficerID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (o.Disabled || o.AuthVersion != sess.AuthVersion)) {
		s.endSession(r.Context(), w, id)
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if now := s.now(); now.Sub(sess.Seen) > sessionTouch {
		sess.Seen = now
		if err := s.saveSession(r.Context(), id, sess); err != nil {
			return nil, false, err
		}
	}
	return &reqState{principal: principalOfOfficer(o), sessionID: id, session: sess, officer: o}, true, nil
}

func principalOfOfficer(o storage.Officer) auth.Principal {
	return auth.Principal{
		Kind: auth.KindOfficer, ID: o.ID, Name: o.Username, Display: o.DisplayName,
		Roles: auth.RolesFromStrings(o.Roles), UnitID: o.UnitID, UnitName: o.UnitName,
	}
}

type handlerFunc func(*Server, http.ResponseWriter, *http.Request, auth.Principal)

// console wraps a page: a session is required (else the login page), a state-changing form
// must carry the session's form token, and an officer whose password an admin set must
// choose their own first.
func (s *Server) console(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, ok, err := s.officerSession(w, r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !ok {
			target := "/admin/login"
			if r.Method == http.MethodGet && r.URL.Path != "/admin/" {
				target += "?next=" + urlQueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		if unsafeMethod(r) && !equalTokens(r.PostFormValue("csrf"), st.session.CSRF) {
			s.fail(w, r.WithContext(context.WithValue(r.Context(), keyRequest, st)), errCSRF)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), keyRequest, st))
		if st.officer.MustChangePassword && r.URL.Path != "/admin/password" {
			http.Redirect(w, r, "/admin/password", http.StatusSeeOther)
			return
		}
		h(s, w, r, st.principal)
	})
}

// api wraps a JSON endpoint: a bearer token, or a console session whose state-changing
// requests carry the form token in X-CSRF-Token.
func (s *Server) api(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var st *reqState
		if authz := r.Header.Get("Authorization"); authz != "" {
			token, ok := strings.CutPrefix(authz, "Bearer ")
			if !ok || strings.TrimSpace(token) == "" {
				s.fail(w, r, errUnauthenticated)
				return
			}
			t, err := s.db.APITokenByHash(r.Context(), auth.HashToken(token))
			if errors.Is(err, storage.ErrNotFound) {
				s.fail(w, r, errUnauthenticated)
				return
			}
			if err != nil {
				s.fail(w, r, err)
				return
			}
			if err := s.db.TouchAPIToken(r.Context(), t.ID); err != nil {
				web.Logger(r.Context(), s.logger).WarnContext(r.Context(), "touch api token", "token", t.Name, "err", err)
			}
			st = &reqState{principal: auth.Principal{
				Kind: auth.KindToken, ID: t.ID, Name: t.Name, Display: t.Name,
				Roles: auth.RolesFromStrings(t.Roles), UnitID: t.UnitID, UnitName: t.UnitName,
			}}
		} else {
			var ok bool
			var err error
			if st, ok, err = s.officerSession(w, r); err != nil {
				s.fail(w, r, err)
				return
			} else if !ok {
				s.fail(w, r, errUnauthenticated)
				return
			}
			if unsafeMethod(r) && !equalTokens(r.Header.Get("X-CSRF-Token"), st.session.CSRF) {
				s.fail(w, r, errCSRF)
				return
			}
		}
		h(s, w, r.WithContext(context.WithValue(r.Context(), keyRequest, st)), st.principal)
	})
}

// auditFor starts the audit entry of a change made in request r by p.
func (s *Server) auditFor(r *http.Request, p auth.Principal) storage.AuditEntry {
	return storage.AuditEntry{Actor: p.Actor(), RequestID: web.RequestID(r.Context()), ClientAddr: s.clientAddr(r)}
}

func (s *Server) clientAddr(r *http.Request) string { return web.ClientAddr(r, s.trusted) }
