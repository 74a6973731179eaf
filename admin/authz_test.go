package admin_test

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"unionbot/admin"
	"unionbot/admin/auth"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// TestAuthorizationMatrix sends every /api/v1 route as every role, from the county level,
// from the record's own unit and from another unit, to a member of a unit and to a member
// with no unit, and checks the answer against the contract (DESIGN §11): a role that may
// not → 403; another unit's record, or a record with no unit for a unit's principal → 404;
// otherwise the route works. The expectations are written out here, not computed with
// auth's own policy, so the test checks the policy too.
// matrixElsewhere lists routes whose rows of the matrix live in another test file
// (a capability's own matrix over its records); each file adds its routes in init.
var matrixElsewhere = map[string]bool{}

func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t, storagetest.Embedded(t), memStore(t))
	ctx := t.Context()

	// What each role may do, from the contract.
	mayRead := func(auth.Role) bool { return true }
	mayHelp := func(r auth.Role) bool { return r == auth.RoleAdmin || r == auth.RoleReviewer }
	mayAudit := func(r auth.Role, unit int64) bool { return r == auth.RoleAdmin && unit == 0 }

	type route struct {
		method, path string
		record       string // "A1", "N1" or "" (a list)
		ok           int    // status when allowed
		body         any
	}
	routesFor := func(no string) []route {
		return []route{
			{"GET", "/api/v1/members/" + no, no, 200, nil},
			{"POST", "/api/v1/members/" + no + "/unlock-binding", no, 200, nil},
			{"POST", "/api/v1/members/" + no + "/binding-code", no, 201, nil},
			// Nobody is bound: an allowed unbind reaches the member and answers 409.
			{"POST", "/api/v1/members/" + no + "/unbind", no, 409, map[string]string{"reason": "测试"}},
		}
	}
	routes := append(routesFor("A1"), routesFor("N1")...)
	routes = append(routes, route{"GET", "/api/v1/members", "", 200, nil}, route{"GET", "/api/v1/audit", "", 200, nil})

	// Every registered API route is exercised.
	covered := map[string]bool{}
	for _, r := range routes {
		p := strings.NewReplacer("/A1", "/{member_no}", "/N1", "/{member_no}").Replace(r.path)
		covered[r.method+" "+p] = true
	}
	for _, r := range claimRoutes { // TestClaimsAuthorizationMatrix
		covered[r] = true
	}
	for _, r := range legalRoutes { // TestLegalAuthorizationMatrix
		covered[r] = true
	}
	for _, r := range faqRoutes { // TestFAQAPI
		covered[r] = true
	}
	for _, r := range noticeRoutes { // TestNoticesAuthorizationMatrix
		covered[r] = true
	}
	for _, r := range admin.APIRoutes() {
		if !covered[r] && !matrixElsewhere[r] {
			t.Errorf("route %s is not in the matrix", r)
		}
	}

	recordUnit := map[string]int64{"A1": e.unitA.ID, "N1": 0}
	scopes := unitScopes(e.unitA.ID, e.unitB.ID)

	codesIssued := 0
	for _, role := range auth.AllRoles {
		for _, sc := range scopes {
			tok := e.token(fmt.Sprintf("%s-%d", role, sc.unit), []auth.Role{role}, sc.unit)
			for _, rt := range routes {
				name := fmt.Sprintf("%s/%s/%s %s", role, sc.name, rt.method, rt.path)
				var want int
				switch {
				case rt.path == "/api/v1/audit":
					want = 403
					if mayAudit(role, sc.unit) {
						want = 200
					}
				case rt.method == "GET":
					want = 403
					if mayRead(role) {
						want = rt.ok
					}
				default:
					want = 403
					if mayHelp(role) {
						want = rt.ok
					}
				}
				if want != 403 && rt.record != "" && sc.unit != 0 && sc.unit != recordUnit[rt.record] {
					want = 404
				}
				got, body := e.api(rt.method, rt.path, tok, rt.body)
				if got != want {
					t.Errorf("%s: got %d %v, want %d", name, got, body, want)
					continue
				}
				if got >= 400 {
					errObj, _ := body["error"].(map[string]any)
					if errObj["code"] == "" || errObj["message"] == "" {
						t.Errorf("%s: error body %v", name, body)
					}
				}
				if got == 201 {
					codesIssued++
				}
				if rt.path == "/api/v1/members" && got == 200 {
					var nos []string
					for _, it := range body["items"].([]any) {
						nos = append(nos, it.(map[string]any)["member_no"].(string))
					}
					sort.Strings(nos)
					wantNos := map[int64]string{0: "A1 A2 B1 N1", e.unitA.ID: "A1 A2", e.unitB.ID: "B1"}[sc.unit]
					if strings.Join(nos, " ") != wantNos {
						t.Errorf("%s: listed %v, want %s", name, nos, wantNos)
					}
				}
			}
			// A unit's principal asking for another unit's list gets nothing.
			if sc.unit == e.unitB.ID {
				if code, body := e.api("GET", "/api/v1/members?unit=甲镇工会", tok, nil); code != 200 || len(body["items"].([]any)) != 0 {
					t.Errorf("%s/%s: other unit's list: %d %v", role, sc.name, code, body)
				}
			}
		}
	}

	// Only the allowed requests changed anything.
	es, err := e.db.AuditLog(ctx, storage.AuditFilter{Action: "binding.code.issue", Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != codesIssued || codesIssued == 0 {
		t.Errorf("binding codes audited: %d, issued: %d", len(es), codesIssued)
	}
	for _, e := range es {
		if !strings.HasPrefix(e.Actor, "token:admin-") && !strings.HasPrefix(e.Actor, "token:reviewer-") {
			t.Errorf("code issued by %s", e.Actor)
		}
		if e.RequestID == "" || e.ClientAddr == "" {
			t.Errorf("audit entry without request id or client address: %+v", e)
		}
	}

	// No credentials, a wrong token, a malformed header: 401.
	for _, tok := range []string{"", "ubt_nope"} {
		if code, body := e.api("GET", "/api/v1/members", tok, nil); code != 401 || body["error"] == nil {
			t.Errorf("token %q: %d %v", tok, code, body)
		}
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/members", nil)
	req.Header.Set("Authorization", "Basic eDp5")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("basic auth: %v %v", resp.StatusCode, err)
	}
	// Unknown API paths answer JSON 404 once authenticated, 401 before.
	admTok := e.token("adm", []auth.Role{auth.RoleAdmin}, 0)
	if code, body := e.api("GET", "/api/v1/nothing-here", admTok, nil); code != 404 || body["error"] == nil {
		t.Errorf("unknown path: %d %v", code, body)
	}
	if !slices.Contains(admin.APIRoutes(), "GET /api/v1/audit") {
		t.Error("APIRoutes lost the audit route")
	}
}
