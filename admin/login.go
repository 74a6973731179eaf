package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"unionbot/admin/auth"
	"unionbot/storage"
	"unionbot/storage/kv"
	"unionbot/web"
)

// Login throttling: after LoginMaxFailures failed logins for one account, or from one client
// address, logins there are refused for LoginLockout, and the officer is told so.
const (
	LoginMaxFailures = 10
	LoginLockout     = 15 * time.Minute
)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// safeNext keeps a post-login redirect inside the console.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/admin/") && !strings.HasPrefix(next, "//") && !strings.Contains(next, "\\") {
		return next
	}
	return "/admin/"
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok, _ := s.officerSession(w, r); ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, "", "")
}

// renderLogin shows the login form with a fresh pre-login form token (a cookie and the same
// value in the form), so a login cannot be posted from another site either.
func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, username, msg string) {
	token := randomToken()
	s.setCookie(w, loginCookie, token, int((30 * time.Minute).Seconds()))
	s.renderStatus(w, r, status, "login", &pageData{
		Title: "登录", CSRF: token, Error: msg,
		Form: map[string]string{"username": username, "next": safeNext(r.FormValue("next"))},
	})
}

type throttleKeys struct{ failAcct, lockAcct, failAddr, lockAddr string }

func loginKeys(username, addr string) throttleKeys {
	u := strings.ToLower(username)
	return throttleKeys{
		failAcct: "admin:loginfail:acct:" + u, lockAcct: "admin:loginlock:acct:" + u,
		failAddr: "admin:loginfail:addr:" + addr, lockAddr: "admin:loginlock:addr:" + addr,
	}
}

// lockedFor returns how long logins stay refused for the account or the address (0: not).
func (s *Server) lockedFor(ctx context.Context, k throttleKeys) (time.Duration, string, error) {
	for _, c := range []struct{ key, who string }{{k.lockAcct, "account"}, {k.lockAddr, "addr"}} {
		ttl, err := s.kv.TTL(ctx, c.key)
		if errors.Is(err, kv.ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, "", err
		}
		return max(ttl, time.Second), c.who, nil
	}
	return 0, "", nil
}

// countFailure records a failed login and locks the account or address at the limit.
// It returns how many attempts the account has left.
func (s *Server) countFailure(ctx context.Context, k throttleKeys) (int, error) {
	left := LoginMaxFailures
	for _, c := range []struct{ fail, lock string }{{k.failAcct, k.lockAcct}, {k.failAddr, k.lockAddr}} {
		n, err := s.kv.Incr(ctx, c.fail, LoginLockout)
		if err != nil {
			return 0, err
		}
		if n >= LoginMaxFailures {
			if err := s.kv.Set(ctx, c.lock, []byte("1"), LoginLockout); err != nil {
				return 0, err
			}
			_ = s.kv.Delete(ctx, c.fail)
		}
		left = min(left, LoginMaxFailures-int(n))
	}
	return max(left, 0), nil
}

func lockedMessage(d time.Duration, who string) string {
	mins := int((d + time.Minute - 1) / time.Minute)
	if who == "account" {
		return fmt.Sprintf("该账号登录失败次数过多（%d 次），已暂时锁定，请 %d 分钟后再试。如忘记密码，请联系管理员重置。", LoginMaxFailures, mins)
	}
	return fmt.Sprintf("从您当前网络登录失败的次数过多（%d 次），已暂时禁止登录，请 %d 分钟后再试。", LoginMaxFailures, mins)
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := r.Cookie(loginCookie)
	if err != nil || !equalTokens(r.PostFormValue("csrf"), c.Value) {
		s.renderLogin(w, r, http.StatusForbidden, "", "登录页面已过期，请重新输入。")
		return
	}
	username := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	addr := s.clientAddr(r)
	keys := loginKeys(username, addr)
	log := web.Logger(ctx, s.logger)
	if d, who, err := s.lockedFor(ctx, keys); err != nil {
		s.fail(w, r, err)
		return
	} else if d > 0 {
		log.WarnContext(ctx, "console login refused: throttled", "username", username, "client", addr, "by", who)
		s.renderLogin(w, r, http.StatusTooManyRequests, username, lockedMessage(d, who))
		return
	}
	o, err := s.db.OfficerByUsername(ctx, username)
	switch {
	case errors.Is(err, storage.ErrNotFound) || username == "":
		auth.VerifyDummy(password)
	case err != nil:
		s.fail(w, r, err)
		return
	}
	if err != nil || !auth.VerifyPassword(o.PasswordHash, password) || o.Disabled {
		left, cerr := s.countFailure(ctx, keys)
		if cerr != nil {
			s.fail(w, r, cerr)
			return
		}
		log.InfoContext(ctx, "console login failed", "username", username, "client", addr, "left", left)
		msg := "用户名或密码不正确。"
		if err == nil && o.Disabled && auth.VerifyPassword(o.PasswordHash, password) {
			msg = "该账号已停用，请联系管理员。"
		}
		switch {
		case left == 0:
			d, who, _ := s.lockedFor(ctx, keys)
			msg = lockedMessage(max(d, LoginLockout), who)
		case left <= 3:
			msg += fmt.Sprintf("再失败 %d 次将暂时锁定 %d 分钟。", left, int(LoginLockout/time.Minute))
		}
		s.renderLogin(w, r, http.StatusUnauthorized, username, msg)
		return
	}
	// Success: a new session id (any old session of this browser ends), the account's
	// failure count cleared (the address's stays, so one good login does not reset a
	// guesser's budget for other accounts).
	if oldID, _, ok, _ := s.loadSession(r); ok {
		_ = s.kv.Delete(ctx, sessionKey(oldID))
	}
	_ = s.kv.Delete(ctx, keys.failAcct)
	if _, _, err := s.startSession(ctx, w, o.ID, o.AuthVersion); err != nil {
		s.fail(w, r, err)
		return
	}
	s.setCookie(w, loginCookie, "", -1)
	if err := s.db.RecordOfficerLogin(ctx, o.ID); err != nil {
		log.WarnContext(ctx, "record login", "err", err)
	}
	log.InfoContext(ctx, "console login", "officer", o.Username, "client", addr)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	id, sess, ok, err := s.loadSession(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ok && !equalTokens(r.PostFormValue("csrf"), sess.CSRF) {
		s.fail(w, r, errCSRF)
		return
	}
	s.endSession(r.Context(), w, id)
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

func (s *Server) handlePasswordPage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	d := &pageData{Title: "修改密码"}
	if st := stateFrom(r.Context()); st != nil && st.officer.MustChangePassword {
		d.Flash = "您的密码由管理员设置，请先设置只有您自己知道的新密码，再继续使用后台。"
	}
	s.render(w, r, "password", d)
}

func (s *Server) handlePasswordChange(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	st := stateFrom(r.Context())
	current, next, again := r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("again")
	fail := func(msg string) {
		s.renderStatus(w, r, http.StatusUnprocessableEntity, "password", &pageData{Title: "修改密码", Error: msg})
	}
	switch {
	case !auth.VerifyPassword(st.officer.PasswordHash, current):
		fail("当前密码不正确。")
		return
	case next != again:
		fail("两次输入的新密码不一致。")
		return
	case next == current:
		fail("新密码不能与当前密码相同。")
		return
	}
	if err := auth.CheckPassword(st.officer.Username, next); err != nil {
		fail(err.Error())
		return
	}
	hash, err := auth.HashPassword(next)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, err := s.db.SetOfficerPassword(r.Context(), p.ID, hash, false, s.auditFor(r, p))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The password change ended every session of the officer (AuthVersion); this browser
	// continues in a fresh one.
	_ = s.kv.Delete(r.Context(), sessionKey(st.sessionID))
	id, sess, err := s.startSession(r.Context(), w, o.ID, o.AuthVersion)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sess.Flash = "密码已修改，其他设备上的登录已失效。"
	_ = s.saveSession(r.Context(), id, sess)
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}
