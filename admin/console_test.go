package admin_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"unionbot/admin"
	"unionbot/admin/auth"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func TestConsoleSessions(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			db, store := be.open(t)
			e := newEnv(t, db, store, netip.MustParsePrefix("127.0.0.0/8"))
			e.officer("chief", []auth.Role{auth.RoleAdmin}, 0)
			e.officer("clerk", []auth.Role{auth.RoleReviewer}, e.unitA.ID)

			// Not logged in: pages redirect to the login, keeping where to go.
			b := e.browser()
			if code, loc, _ := b.get("/admin/members/A1"); code != http.StatusSeeOther || loc != "/admin/login?next=%2Fadmin%2Fmembers%2FA1" {
				t.Fatalf("anonymous page: %d %s", code, loc)
			}

			// Wrong password, then right: the session cookie is HttpOnly and SameSite=Lax.
			if code, _, body := b.login("chief", "wrong-password-1"); code != http.StatusUnauthorized || !strings.Contains(body, "用户名或密码不正确") {
				t.Fatalf("wrong password: %d %s", code, body)
			}
			code, _, _ := b.login("chief", testPassword)
			if code != http.StatusSeeOther {
				t.Fatalf("login: %d", code)
			}
			u, _ := url.Parse(e.srv.URL)
			var sess *http.Cookie
			for _, c := range b.c.Jar.Cookies(u) {
				if c.Name == "unionbot_admin" {
					sess = c
				}
			}
			if sess == nil {
				t.Fatal("no session cookie")
			}
			// The jar hides attributes: check them on a fresh login's header.
			b2 := e.browser()
			b2.get("/admin/login")
			req, _ := http.NewRequest("POST", e.srv.URL+"/admin/login", strings.NewReader(url.Values{"username": {"chief"}, "password": {testPassword}, "csrf": {b2.csrf}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, c := range b2.c.Jar.Cookies(u) {
				req.AddCookie(c)
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			setCookie := strings.Join(resp.Header.Values("Set-Cookie"), "\n")
			if !strings.Contains(setCookie, "unionbot_admin=") || !strings.Contains(setCookie, "HttpOnly") || !strings.Contains(setCookie, "SameSite=Lax") {
				t.Errorf("session cookie attributes: %s", setCookie)
			}

			b.get("/admin/")
			old := b.csrf
			// A form without the session's token is refused; so is a cross-site one.
			if code, _, body := b.post("/admin/members/A1/unlock-binding", url.Values{"csrf": {"forged"}}); code != http.StatusForbidden || !strings.Contains(body, "表单令牌") {
				t.Errorf("forged form token: %d", code)
			}
			if code, _, _ := b.do("POST", "/admin/members/A1/unlock-binding", url.Values{"csrf": {old}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}); code != http.StatusForbidden {
				t.Errorf("cross-site POST: %d", code)
			}
			if code, _, _ := b.do("POST", "/admin/members/A1/unlock-binding", url.Values{"csrf": {old}}, http.Header{"Origin": {"https://evil.example"}}); code != http.StatusForbidden {
				t.Errorf("cross-origin POST: %d", code)
			}
			if code, loc, _ := b.post("/admin/members/A1/unlock-binding", nil); code != http.StatusSeeOther || loc != "/admin/members/A1" {
				t.Errorf("unlock with the token: %d %s", code, loc)
			}
			if _, _, body := b.get("/admin/members/A1"); !strings.Contains(body, "已清除失败计数") && !strings.Contains(body, "已解除绑定锁定") {
				t.Errorf("flash missing after unlock")
			}

			// The API takes the console session too, with the form token in a header.
			req, _ = http.NewRequest("POST", e.srv.URL+"/api/v1/members/A1/unlock-binding", nil)
			if resp, err := b.c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("API POST on a session without X-CSRF-Token: %v %v", resp.StatusCode, err)
			}
			req, _ = http.NewRequest("POST", e.srv.URL+"/api/v1/members/A1/unlock-binding", nil)
			req.Header.Set("X-CSRF-Token", b.csrf)
			if resp, err := b.c.Do(req); err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("API POST on a session with X-CSRF-Token: %v %v", resp.StatusCode, err)
			}

			// Password change: a new session id; the old cookie is dead.
			oldCookie := sess.Value
			if code, _, body := b.post("/admin/password", url.Values{"current": {testPassword}, "new": {"password123"}, "again": {"password123"}}); code != 422 || !strings.Contains(body, "常见") {
				t.Errorf("weak new password: %d", code)
			}
			const newPass = "Zr4#mWq8tP2v"
			if code, _, _ := b.post("/admin/password", url.Values{"current": {testPassword}, "new": {newPass}, "again": {newPass}}); code != http.StatusSeeOther {
				t.Fatalf("password change: %d", code)
			}
			var renewed string
			for _, c := range b.c.Jar.Cookies(u) {
				if c.Name == "unionbot_admin" {
					renewed = c.Value
				}
			}
			if renewed == "" || renewed == oldCookie {
				t.Error("session id not renewed at password change")
			}
			stale := e.browser()
			stale.c.Jar.SetCookies(u, []*http.Cookie{{Name: "unionbot_admin", Value: oldCookie}})
			if code, _, _ := stale.get("/admin/"); code != http.StatusSeeOther {
				t.Errorf("old session after password change: %d", code)
			}
			if _, _, body := b.get("/admin/"); !strings.Contains(body, "密码已修改") {
				t.Error("no notice after password change")
			}
			// b2 logged in before the change: its session ended too.
			if code, _, _ := b2.get("/admin/"); code != http.StatusSeeOther {
				t.Errorf("other device after password change: %d", code)
			}

			// Logout ends the session on the server, not only in the browser.
			b.get("/admin/")
			if code, loc, _ := b.post("/admin/logout", nil); code != http.StatusSeeOther || loc != "/admin/login" {
				t.Errorf("logout: %d %s", code, loc)
			}
			stale.c.Jar.SetCookies(u, []*http.Cookie{{Name: "unionbot_admin", Value: renewed}})
			if code, _, _ := stale.get("/admin/"); code != http.StatusSeeOther {
				t.Errorf("session after logout: %d", code)
			}

			// Role and unit: a unit reviewer sees their unit's member, not another unit's
			// (404 as if missing), not the officers or audit pages (403).
			c := e.browser()
			c.mustLogin("clerk")
			if code, _, body := c.get("/admin/members/A1"); code != 200 || !strings.Contains(body, "1101**********123X") || strings.Contains(body, "11010119900307123X") || !strings.Contains(body, "138****5678") {
				t.Errorf("own unit's member: %d", code)
			}
			for path, want := range map[string]int{"/admin/members/B1": 404, "/admin/members/N1": 404, "/admin/members/nobody": 404, "/admin/officers": 403, "/admin/audit": 403, "/admin/no-such-page": 404} {
				if code, _, _ := c.get(path); code != want {
					t.Errorf("clerk %s: %d, want %d", path, code, want)
				}
			}
			if code, _, _ := c.post("/admin/members/B1/binding-code", nil); code != 404 {
				t.Errorf("clerk code for another unit: %d", code)
			}
			if code, _, body := c.post("/admin/members/A1/binding-code", nil); code != 200 || !strings.Contains(body, "绑定码") {
				t.Errorf("clerk code for own unit: %d", code)
			}
			if _, _, body := c.get("/admin/members"); !strings.Contains(body, "A2") || strings.Contains(body, "B1") {
				t.Error("clerk's member list is not limited to the unit")
			}

			// An admin creates an officer, who must choose a password at first login;
			// disabling them ends their session at once.
			chief := e.browser()
			chief.get("/admin/login")
			if code, _, _ := chief.post("/admin/login", url.Values{"username": {"chief"}, "password": {newPass}}); code != http.StatusSeeOther {
				t.Fatalf("chief login with the new password: %d", code)
			}
			chief.get("/admin/officers")
			code, _, body := chief.post("/admin/officers", url.Values{"username": {"new.one"}, "display_name": {"新干部"}, "role": {"viewer"}, "unit": {itoa(e.unitB.ID)}})
			m := regexpTemp.FindStringSubmatch(body)
			if code != 200 || m == nil {
				t.Fatalf("create officer: %d", code)
			}
			n := e.browser()
			n.get("/admin/login")
			if code, _, _ := n.post("/admin/login", url.Values{"username": {"new.one"}, "password": {m[1]}}); code != http.StatusSeeOther {
				t.Fatalf("new officer login: %d", code)
			}
			if code, loc, _ := n.get("/admin/members"); code != http.StatusSeeOther || loc != "/admin/password" {
				t.Errorf("first login is not sent to change the password: %d %s", code, loc)
			}
			o, err := e.db.OfficerByUsername(t.Context(), "new.one")
			if err != nil || o.UnitID != e.unitB.ID || !o.MustChangePassword {
				t.Fatalf("created officer: %+v %v", o, err)
			}
			chief.get("/admin/officers/" + itoa(o.ID))
			if code, _, _ := chief.post("/admin/officers/"+itoa(o.ID), url.Values{"display_name": {"新干部"}, "role": {"viewer"}, "unit": {itoa(e.unitB.ID)}, "disabled": {"1"}}); code != http.StatusSeeOther {
				t.Errorf("disable: %d", code)
			}
			if code, _, _ := n.get("/admin/password"); code != http.StatusSeeOther {
				t.Errorf("disabled officer's session still works: %d", code)
			}
			if code, _, body := n.login("new.one", m[1]); code != 401 || !strings.Contains(body, "已停用") {
				t.Errorf("disabled officer login: %d", code)
			}
			// An admin cannot lock themselves out.
			me, _ := e.db.OfficerByUsername(t.Context(), "chief")
			chief.get("/admin/officers/" + itoa(me.ID))
			if code, _, _ := chief.post("/admin/officers/"+itoa(me.ID), url.Values{"display_name": {"主席"}, "role": {"viewer"}}); code != 422 {
				t.Errorf("self-demotion: %d", code)
			}
			entries, _ := e.db.AuditLog(t.Context(), storage.AuditFilter{Actor: "officer:chief"})
			var acts []string
			for _, en := range entries {
				acts = append(acts, en.Action)
				if en.ClientAddr == "" || en.RequestID == "" {
					t.Errorf("audit entry without client or request id: %+v", en)
				}
			}
			if got := strings.Join(acts, " "); !strings.Contains(got, "officer.update officer.create") || !strings.Contains(got, "officer.password.change") {
				t.Errorf("chief's audit trail: %s", got)
			}
		})
	}
}

func TestLoginThrottle(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			db, store := be.open(t)
			// Behind a trusted proxy (the test client is on loopback) X-Forwarded-For names
			// the client.
			e := newEnv(t, db, store, netip.MustParsePrefix("127.0.0.0/8"))
			e.officer("chief", []auth.Role{auth.RoleAdmin}, 0)
			from := func(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }
			attempt := func(b *browser, user, pass, addr string) (int, string) {
				b.do("GET", "/admin/login", nil, from(addr))
				code, _, body := b.do("POST", "/admin/login", url.Values{"username": {user}, "password": {pass}, "csrf": {b.csrf}}, from(addr))
				return code, body
			}
			b := e.browser()
			for i := 1; i <= 10; i++ {
				code, body := attempt(b, "chief", "wrong-password-1", "198.51.100."+string(rune('0'+i%10)))
				if i < 10 && code != 401 {
					t.Fatalf("attempt %d: %d", i, code)
				}
				if i == 8 && !strings.Contains(body, "再失败 2 次") {
					t.Errorf("attempt 8 does not warn: %s", body)
				}
				if i == 10 && (code != 401 || !strings.Contains(body, "已暂时锁定")) {
					t.Errorf("attempt 10: %d", code)
				}
			}
			// Locked: even the right password is refused, and the officer is told why.
			code, body := attempt(b, "chief", testPassword, "198.51.100.77")
			if code != http.StatusTooManyRequests || !strings.Contains(body, "该账号登录失败次数过多") || !strings.Contains(body, "15 分钟") {
				t.Errorf("locked account: %d %s", code, body)
			}
			// Another account is not locked by it…
			e.officer("deputy", []auth.Role{auth.RoleViewer}, 0)
			if code, _ := attempt(e.browser(), "deputy", testPassword, "198.51.100.78"); code != http.StatusSeeOther {
				t.Errorf("other account: %d", code)
			}
			// …but one address failing on many accounts is.
			for i := range 10 {
				attempt(e.browser(), "user"+string(rune('a'+i)), "wrong-password-1", "203.0.113.9")
			}
			if code, body := attempt(e.browser(), "deputy", testPassword, "203.0.113.9"); code != http.StatusTooManyRequests || !strings.Contains(body, "从您当前网络") {
				t.Errorf("locked address: %d", code)
			}
			if code, _ := attempt(e.browser(), "deputy", testPassword, "203.0.113.10"); code != http.StatusSeeOther {
				t.Errorf("neighbouring address: %d", code)
			}
			// The lock is 15 minutes in the kv store.
			ttl, err := store.TTL(t.Context(), "admin:loginlock:acct:chief")
			if err != nil || ttl < 14*60e9 || ttl > 15*60e9 {
				t.Errorf("lock ttl %v, %v", ttl, err)
			}
			// Audit rows of console writes carry the client address from the proxy.
			e.officer("helper", []auth.Role{auth.RoleReviewer}, 0)
			d := e.browser()
			d.do("GET", "/admin/login", nil, from("192.0.2.44"))
			d.do("POST", "/admin/login", url.Values{"username": {"helper"}, "password": {testPassword}, "csrf": {d.csrf}}, from("192.0.2.44"))
			d.do("GET", "/admin/", nil, from("192.0.2.44"))
			d.do("POST", "/admin/members/A1/unlock-binding", url.Values{"csrf": {d.csrf}}, from("192.0.2.44"))
			es, err := e.db.AuditLog(t.Context(), storage.AuditFilter{Actor: "officer:helper"})
			if err != nil || len(es) != 1 || es[0].ClientAddr != "192.0.2.44" || es[0].Action != "binding.unlock" {
				t.Errorf("audit of a proxied request: %+v %v", es, err)
			}
		})
	}
}

var regexpTemp = regexp.MustCompile(`class="code-value">([^<]+)<`)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestSecureCookieBehindHTTPS: with an https public URL the session cookie is Secure.
func TestSecureCookieBehindHTTPS(t *testing.T) {
	db := storagetest.Embedded(t)
	e := newEnv(t, db, memStore(t))
	e.officer("chief", []auth.Role{auth.RoleAdmin}, 0)
	mux := http.NewServeMux()
	admin.New(admin.Deps{DB: db, KV: e.kv, Logger: quiet, PublicURL: "https://union.example"}).Mount(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/admin/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	token := csrfField.FindSubmatch(body)
	var loginCookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "unionbot_login" {
			loginCookie = c
		}
	}
	if token == nil || loginCookie == nil || !loginCookie.Secure {
		t.Fatalf("login form: token %v, cookie %+v", token != nil, loginCookie)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/admin/login", strings.NewReader(url.Values{
		"username": {"chief"}, "password": {testPassword}, "csrf": {string(token[1])}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: loginCookie.Name, Value: loginCookie.Value})
	resp, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var sess *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "unionbot_admin" {
			sess = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || sess == nil || !sess.Secure || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie behind https: %d %+v", resp.StatusCode, sess)
	}
}
