package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"unionbot/admin"
	"unionbot/admin/auth"
	"unionbot/storage"
	"unionbot/storage/kv"
	"unionbot/storage/kv/kvtest"
	"unionbot/storage/storagetest"
	"unionbot/web"
)

// testPassword is every test officer's password.
const testPassword = "Gh7!xkq2Lm9p"

// env is a running console and API on real storage.
type env struct {
	t            *testing.T
	srv          *httptest.Server
	db           *storage.DB
	kv           kv.Store
	unitA, unitB storage.Unit
}

// backend names a storage + kv pair the console runs on.
type backend struct {
	name string
	open func(t *testing.T) (*storage.DB, kv.Store)
}

var backends = []backend{
	{"embedded", func(t *testing.T) (*storage.DB, kv.Store) {
		m := kv.NewMemory()
		t.Cleanup(m.Close)
		return storagetest.Embedded(t), m
	}},
	{"mysql+redis", func(t *testing.T) (*storage.DB, kv.Store) {
		return storagetest.MySQL(t), kv.NewRedis(kvtest.Redis(t), kvtest.Prefix(t))
	}},
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newEnv starts the console on db and store with two units (甲 with members A1 A2, 乙 with
// B1) and a member with no unit (N1).
func newEnv(t *testing.T, db *storage.DB, store kv.Store, trusted ...netip.Prefix) *env {
	t.Helper()
	ctx := t.Context()
	out, err := db.UpsertMembers(ctx, []storage.MemberRecord{
		{MemberNo: "A1", Name: "张三", IDNumber: "11010119900307123X", Phone: "13812345678", UnitName: "甲镇工会", MutualAidYears: []int{2025, 2026}},
		{MemberNo: "A2", Name: "李四", IDNumber: "110101199003074033", UnitName: "甲镇工会", MutualAidYears: []int{2026}},
		{MemberNo: "B1", Name: "王五", IDNumber: "110101199003075016", UnitName: "乙公司工会", MutualAidYears: []int{2026}},
		{MemberNo: "N1", Name: "赵六", IDNumber: "110101199003077014"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
	}
	e := &env{t: t, db: db, kv: store}
	e.unitA, _ = db.UnitByName(ctx, "甲镇工会")
	e.unitB, _ = db.UnitByName(ctx, "乙公司工会")
	e.srv = serveConsole(t, admin.Deps{DB: db, KV: store, TrustedProxies: trusted})
	return e
}

// serveConsole starts a console and API server (one replica) on d.
func serveConsole(t *testing.T, d admin.Deps) *httptest.Server {
	d.Logger, d.UnionName, d.HandoffPoll = quiet, "测试县总工会", 300*time.Millisecond
	mux := http.NewServeMux()
	admin.New(d).Mount(mux)
	srv := httptest.NewServer(web.WithRequest(quiet, mux))
	t.Cleanup(srv.Close)
	return srv
}

func (e *env) bindA1(openID string) {
	e.t.Helper()
	m, err := e.db.MemberByNo(e.t.Context(), "A1")
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.BindMember(e.t.Context(), m.ID, openID, storage.AuditEntry{Actor: "member:" + openID}); err != nil {
		e.t.Fatal(err)
	}
}

// officer creates an officer with testPassword.
func (e *env) officer(username string, roles []auth.Role, unit int64) storage.Officer {
	e.t.Helper()
	hash, err := auth.HashPassword(testPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	o, err := e.db.CreateOfficer(e.t.Context(), storage.NewOfficer{Username: username, PasswordHash: hash,
		Roles: auth.Strings(roles), UnitID: unit}, storage.AuditEntry{Actor: "test"})
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

// token creates an API token and returns it.
func (e *env) token(name string, roles []auth.Role, unit int64) string {
	e.t.Helper()
	tok := auth.NewToken()
	if _, err := e.db.CreateAPIToken(e.t.Context(), name, auth.HashToken(tok), auth.Strings(roles), unit, storage.AuditEntry{Actor: "test"}); err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// browser is a cookie-keeping HTTP client that does not follow redirects.
type browser struct {
	e    *env
	c    *http.Client
	csrf string // the session's form token, once logged in
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches a console page; it returns the status, the Location and the body.
func (b *browser) get(path string) (int, string, string) {
	b.e.t.Helper()
	return b.do("GET", path, nil, nil)
}

func (b *browser) do(method, path string, form url.Values, hdr http.Header) (int, string, string) {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
		hdr = hdr.Clone()
		if hdr == nil {
			hdr = http.Header{}
		}
		hdr.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return b.send(method, path, body, hdr)
}

// send is do with a body of any kind (a multipart upload).
func (b *browser) send(method, path string, body io.Reader, hdr http.Header) (int, string, string) {
	b.e.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, b.e.srv.URL+path, body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(out); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(out)
}

// fetch GETs path with the session: the response (its body read and closed) and the body.
func (b *browser) fetch(path string) (*http.Response, []byte) {
	b.e.t.Helper()
	resp, err := b.c.Get(b.e.srv.URL + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return resp, out
}

// post sends a console form with the current form token.
func (b *browser) post(path string, form url.Values) (int, string, string) {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", b.csrf)
	}
	return b.do("POST", path, form, nil)
}

// login logs in and reports the status and body of the answer.
func (b *browser) login(username, password string) (int, string, string) {
	b.e.t.Helper()
	b.get("/admin/login")
	return b.post("/admin/login", url.Values{"username": {username}, "password": {password}})
}

func (b *browser) mustLogin(username string) {
	b.e.t.Helper()
	code, loc, body := b.login(username, testPassword)
	if code != http.StatusSeeOther || loc != "/admin/" {
		b.e.t.Fatalf("login %s: %d %s %s", username, code, loc, body)
	}
	b.get("/admin/") // picks up the session's form token
}

// api calls the JSON API with a bearer token (empty: none) and decodes the answer.
func (e *env) api(method, path, token string, body any) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.t.Fatalf("%s %s: not JSON (%d): %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, out
}

func memStore(t *testing.T) kv.Store {
	m := kv.NewMemory()
	t.Cleanup(m.Close)
	return m
}

// testScope is where an officer or token sits for an authorization table: county level
// (no unit) or one of the two units of the fixture.
type testScope struct {
	name string
	unit int64
}

// unitScopes are the three scopes every authorization table walks.
func unitScopes(unitA, unitB int64) []testScope {
	return []testScope{{"county", 0}, {"unit A", unitA}, {"unit B", unitB}}
}
