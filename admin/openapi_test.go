package admin_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"unionbot/admin"
	"unionbot/admin/auth"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// TestOpenAPI keeps docs/openapi.yaml true: it is a valid OpenAPI 3.1 document, every
// registered /api/v1 route is in it and every documented operation is registered, and real
// answers of each route — successes and errors — validate against it (status codes included:
// an undocumented status fails).
func TestOpenAPI(t *testing.T) {
	ctx := t.Context()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatalf("load docs/openapi.yaml: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %s: want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("docs/openapi.yaml is not valid: %v", err)
	}

	registered := map[string]bool{}
	for _, r := range admin.APIRoutes() {
		registered[r] = true
		method, path, _ := strings.Cut(r, " ")
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %s is not documented in docs/openapi.yaml", r)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !registered[method+" "+path] {
				t.Errorf("docs/openapi.yaml documents %s %s, which the server does not serve", method, path)
			}
		}
	}

	e := newEnv(t, storagetest.Embedded(t), memStore(t))
	admTok := e.token("adm", []auth.Role{auth.RoleAdmin}, 0)
	viewTok := e.token("view", []auth.Role{auth.RoleViewer}, e.unitA.ID)
	e.bindA1("o-spec-a1")
	e.api("POST", "/api/v1/members/A1/unlock-binding", admTok, nil) // an audit entry with before/after

	imp, err := e.db.CreateRosterImport(ctx, storage.NewRosterImport{FileName: "r.csv", Format: "csv", Data: []byte(rosterCSV),
		RowsTotal: 2, Accepted: 2, CreatedBy: "officer:adm", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	impPath := fmt.Sprintf("/api/v1/roster/imports/%d", imp.ID)

	calls := []struct {
		method, path, pattern, token, body string
		want                               int
	}{
		{"GET", "/api/v1/members", "/api/v1/members", admTok, "", 200},
		{"GET", "/api/v1/members?q=%E5%BC%A0%E4%B8%89&limit=1", "/api/v1/members", admTok, "", 200},
		{"GET", "/api/v1/members?limit=1", "/api/v1/members", admTok, "", 200},
		{"GET", "/api/v1/members?cursor=!!!", "/api/v1/members", admTok, "", 400},
		{"GET", "/api/v1/members?limit=0", "/api/v1/members", admTok, "", 400},
		{"GET", "/api/v1/members", "/api/v1/members", "", "", 401},
		{"GET", "/api/v1/members/A1", "/api/v1/members/{member_no}", admTok, "", 200},
		{"GET", "/api/v1/members/N1", "/api/v1/members/{member_no}", viewTok, "", 404},
		{"POST", "/api/v1/members/A1/unlock-binding", "/api/v1/members/{member_no}/unlock-binding", admTok, "", 200},
		{"POST", "/api/v1/members/A1/unlock-binding", "/api/v1/members/{member_no}/unlock-binding", viewTok, "", 403},
		{"POST", "/api/v1/members/A2/binding-code", "/api/v1/members/{member_no}/binding-code", admTok, "", 201},
		{"POST", "/api/v1/members/none/binding-code", "/api/v1/members/{member_no}/binding-code", admTok, "", 404},
		{"POST", "/api/v1/members/A1/unbind", "/api/v1/members/{member_no}/unbind", admTok, `{"reason":""}`, 422},
		{"POST", "/api/v1/members/A1/unbind", "/api/v1/members/{member_no}/unbind", admTok, `{"reason":`, 400},
		{"POST", "/api/v1/members/A1/unbind", "/api/v1/members/{member_no}/unbind", admTok, `{"reason":"本人要求"}`, 200},
		{"POST", "/api/v1/members/A1/unbind", "/api/v1/members/{member_no}/unbind", admTok, `{"reason":"再次"}`, 409},
		{"GET", "/api/v1/audit", "/api/v1/audit", admTok, "", 200},
		{"GET", "/api/v1/audit?action=binding.&since=2020-01-01&limit=2", "/api/v1/audit", admTok, "", 200},
		{"GET", "/api/v1/audit?since=yesterday", "/api/v1/audit", admTok, "", 400},
		{"GET", "/api/v1/audit", "/api/v1/audit", viewTok, "", 403},
		{"GET", impPath, "/api/v1/roster/imports/{id}", admTok, "", 200},
		{"GET", "/api/v1/roster/imports/99999", "/api/v1/roster/imports/{id}", admTok, "", 404},
		{"GET", impPath, "/api/v1/roster/imports/{id}", viewTok, "", 403},
	}
	for _, c := range calls {
		var rd io.Reader
		if c.body != "" {
			rd = strings.NewReader(c.body)
		}
		req, _ := http.NewRequest(c.method, e.srv.URL+c.path, rd)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		name := c.method + " " + c.path
		if resp.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d (%s)", name, resp.StatusCode, c.want, body)
			continue
		}
		item := doc.Paths.Value(c.pattern)
		route := &routers.Route{Spec: doc, Path: c.pattern, PathItem: item, Method: c.method, Operation: item.GetOperation(c.method)}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
			Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
			t.Errorf("%s: answer does not match docs/openapi.yaml: %v\n%s", name, err, body)
		}
	}
}

// TestAPIPaging: the largest page size still says where the next page starts.
func TestAPIPaging(t *testing.T) {
	e := newEnv(t, storagetest.Embedded(t), memStore(t))
	tok := e.token("adm", []auth.Role{auth.RoleAdmin}, 0)
	seen := map[string]bool{}
	cursor := ""
	for range 10 {
		code, body := e.api("GET", "/api/v1/members?limit=3&cursor="+cursor, tok, nil)
		if code != 200 {
			t.Fatalf("page: %d %v", code, body)
		}
		for _, it := range body["items"].([]any) {
			seen[it.(map[string]any)["member_no"].(string)] = true
		}
		next, _ := body["next"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 4 {
		t.Errorf("paged through %d members, want 4", len(seen))
	}
	for i := range 505 {
		e.db.AddAudit(t.Context(), storage.AuditEntry{Actor: "test", Action: "test.fill", Subject: strconv.Itoa(i)})
	}
	code, body := e.api("GET", "/api/v1/audit?limit=500", tok, nil)
	if code != 200 || len(body["items"].([]any)) != 500 || body["next"] == nil {
		t.Errorf("a full page of 500 has no next: %d, %d items, next %v", code, len(body["items"].([]any)), body["next"])
	}
}
