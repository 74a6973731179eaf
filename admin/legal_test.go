package admin_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"unionbot/admin/auth"
	"unionbot/legalaid"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// legalAPI calls the API and checks the answer against docs/openapi.yaml.
type legalAPI struct {
	e   *env
	doc *openapi3.T
}

func (a legalAPI) call(method, path, pattern, token string, body any, want int) map[string]any {
	t := a.e.t
	t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, a.e.srv.URL+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, got)
	}
	item := a.doc.Paths.Value(pattern)
	route := &routers.Route{Spec: a.doc, Path: pattern, PathItem: item, Method: method, Operation: item.GetOperation(method)}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(got)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(t.Context(), in); err != nil {
		t.Errorf("%s %s: answer does not match docs/openapi.yaml: %v\n%s", method, path, err, got)
	}
	var out map[string]any
	_ = json.Unmarshal(got, &out)
	return out
}

func TestLegalCasesAPI(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, storagetest.Embedded(t), memStore(t))
	a := legalAPI{e: e, doc: doc}
	ctx := t.Context()
	member := func(no string) int64 {
		m, err := e.db.MemberByNo(ctx, no)
		if err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	file := func(openID string, memberID int64) string {
		c, _, err := e.db.SubmitLegalCase(ctx, storage.LegalCaseInput{OpenID: openID, MemberID: memberID,
			Type: legalaid.WageArrears, Stage: legalaid.NotStarted, Employer: "银湖建筑", Workers: 3, Amount: 1234500,
			HasAmount: true, Description: "欠三个月工资", ContactName: "李春生", ContactPhone: "13912345678"},
			storage.AuditEntry{Actor: "member:" + openID})
		if err != nil {
			t.Fatal(err)
		}
		return c.Number
	}
	nonMember := file("o-migrant", 0)
	caseA := file("o-a1", member("A1"))
	caseB := file("o-b1", member("B1"))
	sig, _ := legalaid.Detect("我不想活了")
	crisis, _, err := e.db.ReportCrisis(ctx, storage.CrisisReport{OpenID: "o-crisis", Signal: sig, Text: "我不想活了"}, storage.AuditEntry{Actor: "member:o-crisis"})
	if err != nil {
		t.Fatal(err)
	}
	county := e.token("county-legal", []auth.Role{auth.RoleLegal}, 0)
	unitA := e.token("a-legal", []auth.Role{auth.RoleLegal}, e.unitA.ID)
	reviewer := e.token("rev", []auth.Role{auth.RoleReviewer}, 0)
	e.officer("lawyer", []auth.Role{auth.RoleLegal}, 0)
	e.officer("checker", []auth.Role{auth.RoleReviewer}, 0)
	const list, one = "/api/v1/legal-cases", "/api/v1/legal-cases/{number}"

	// The queue: urgent first; a unit's officer sees its members' cases only.
	got := a.call("GET", list, list, county, nil, 200)
	items := got["items"].([]any)
	if len(items) != 4 || items[0].(map[string]any)["number"] != crisis.Number || items[0].(map[string]any)["urgent"] != true {
		t.Fatalf("county queue %v", items)
	}
	got = a.call("GET", list+"?urgent=true", list, county, nil, 200)
	if n := len(got["items"].([]any)); n != 1 {
		t.Fatalf("urgent=true: %d", n)
	}
	got = a.call("GET", list, list, unitA, nil, 200)
	if items := got["items"].([]any); len(items) != 1 || items[0].(map[string]any)["number"] != caseA {
		t.Fatalf("unit queue %v", items)
	}
	got = a.call("GET", list+"?limit=2", list, county, nil, 200)
	next, _ := got["next"].(string)
	got = a.call("GET", list+"?limit=2&cursor="+next, list, county, nil, 200)
	if len(got["items"].([]any)) != 2 {
		t.Fatalf("second page %v", got)
	}
	// The unit filter: a union by name, non-members' cases (county level only), nothing
	// for an unknown union or another unit than the principal's.
	numbers := func(token, query string) string {
		t.Helper()
		var out []string
		for _, it := range a.call("GET", list+"?"+query, list, token, nil, 200)["items"].([]any) {
			out = append(out, it.(map[string]any)["number"].(string))
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct{ token, query, want string }{
		{county, "unit=" + url.QueryEscape("甲镇工会"), caseA},
		{county, "unit=none", crisis.Number + " " + nonMember},
		{county, "unit=none&urgent=false", nonMember},
		{county, "unit=" + url.QueryEscape("没有这个工会"), ""},
		{unitA, "unit=" + url.QueryEscape("甲镇工会"), caseA},
		{unitA, "unit=" + url.QueryEscape("乙公司工会"), ""},
		{unitA, "unit=none", ""},
	} {
		if got := numbers(tc.token, tc.query); got != tc.want {
			t.Errorf("?%s: %q, want %q", tc.query, got, tc.want)
		}
	}
	a.call("GET", list+"?status=nope", list, county, nil, 400)
	a.call("GET", list+"?urgent=maybe", list, county, nil, 400)
	a.call("GET", list+"?cursor=zz", list, county, nil, 400)
	a.call("GET", list, list, reviewer, nil, 403)

	// One case: a non-member's and another unit's are not found for a unit's officer.
	got = a.call("GET", "/api/v1/legal-cases/"+nonMember, one, county, nil, 200)
	if d := got["detail"].(map[string]any); d["contact_phone"] != "13912345678" || d["description"] != "欠三个月工资" || got["amount"] != "12345.00" {
		t.Fatalf("detail %v", got)
	}
	a.call("GET", "/api/v1/legal-cases/"+nonMember, one, unitA, nil, 404)
	a.call("GET", "/api/v1/legal-cases/"+caseB, one, unitA, nil, 404)
	a.call("GET", "/api/v1/legal-cases/"+caseA, one, unitA, nil, 200)
	a.call("GET", "/api/v1/legal-cases/FY20990101-0001", one, county, nil, 404)
	a.call("GET", "/api/v1/legal-cases/"+caseA, one, reviewer, nil, 403)
	if v, _ := e.db.AuditLog(ctx, storage.AuditFilter{Action: "legal.view"}); len(v) != 2 {
		t.Fatalf("views audited: %d", len(v))
	}

	// Assignment and notes.
	const assign, notes, moves = "/api/v1/legal-cases/{number}/assign", "/api/v1/legal-cases/{number}/notes", "/api/v1/legal-cases/{number}/transitions"
	a.call("POST", "/api/v1/legal-cases/"+nonMember+"/assign", assign, county, map[string]any{"officer": "checker"}, 422)
	a.call("POST", "/api/v1/legal-cases/"+nonMember+"/assign", assign, county, map[string]any{}, 400)
	got = a.call("POST", "/api/v1/legal-cases/"+nonMember+"/assign", assign, county, map[string]any{"officer": "lawyer", "version": 1}, 200)
	if got["assignee"] != "lawyer" || got["version"] != float64(2) {
		t.Fatalf("assigned %v", got)
	}
	got = a.call("GET", list+"?assignee=lawyer", list, county, nil, 200)
	if len(got["items"].([]any)) != 1 {
		t.Fatalf("assignee filter %v", got)
	}
	a.call("POST", "/api/v1/legal-cases/"+nonMember+"/notes", notes, county, map[string]any{"text": " "}, 400)
	got = a.call("POST", "/api/v1/legal-cases/"+nonMember+"/notes", notes, county, map[string]any{"text": "已电话联系，周五面谈"}, 200)
	if h := got["detail"].(map[string]any)["history"].([]any); h[len(h)-1].(map[string]any)["text"] != "已电话联系，周五面谈" {
		t.Fatalf("note %v", h)
	}
	a.call("POST", "/api/v1/legal-cases/"+caseB+"/notes", notes, unitA, map[string]any{"text": "x"}, 404)

	// Every transition, the refusals, and what the requester hears.
	move := func(number, token string, body map[string]any, want int) map[string]any {
		t.Helper()
		return a.call("POST", "/api/v1/legal-cases/"+number+"/transitions", moves, token, body, want)
	}
	move(nonMember, reviewer, map[string]any{"to": "accepted", "version": 2}, 403)
	move(nonMember, county, map[string]any{"to": "accepted"}, 400)
	move(nonMember, county, map[string]any{"to": "submitted", "version": 2}, 400)
	move(nonMember, county, map[string]any{"to": "accepted", "version": 1}, 409)
	move(nonMember, county, map[string]any{"to": "contacted", "version": 2}, 422)
	move(nonMember, county, map[string]any{"to": "closed", "version": 2, "outcome": "mediated"}, 422)
	move(nonMember, county, map[string]any{"to": "closed", "version": 2, "outcome": "won"}, 400)
	v := 2
	for _, step := range []map[string]any{
		{"to": "accepted"}, {"to": "contacted"}, {"to": "in_progress"},
		{"to": "closed", "outcome": "mediated"},
		{"to": "in_progress", "reason": "对方未按调解协议付款"},
		{"to": "closed", "outcome": "arbitration"},
	} {
		step["version"] = v
		got = move(nonMember, county, step, 200)
		v++
		if got["status"] != step["to"] || got["version"] != float64(v) {
			t.Fatalf("%v: %v", step, got)
		}
	}
	move(nonMember, county, map[string]any{"to": "in_progress", "version": v}, 422) // reopening needs a reason
	// Decline straight from submitted, with the reason the requester is told.
	move(caseA, unitA, map[string]any{"to": "closed", "version": 1, "outcome": "declined"}, 422)
	got = move(caseA, unitA, map[string]any{"to": "closed", "version": 1, "outcome": "declined", "reason": "不属于劳动争议"}, 200)
	if got["outcome"] != "declined" || got["reason"] != "不属于劳动争议" {
		t.Fatalf("declined %v", got)
	}
	move(caseB, unitA, map[string]any{"to": "accepted", "version": 1}, 404)
	for key, want := range map[string]string{
		"legal:" + nonMember + ":v3": "已受理", "legal:" + nonMember + ":v4": "已和您联系",
		"legal:" + nonMember + ":v6": "已结案（调解成功）", "legal:" + nonMember + ":v7": "已重新办理",
		"legal:" + caseA + ":v2": "原因：不属于劳动争议",
	} {
		row, err := e.db.OutboxByKey(ctx, key)
		if err != nil || !strings.Contains(row.Content.Text, want) {
			t.Errorf("notice %s: %q %v", key, row.Content.Text, err)
		}
	}
	if row, _ := e.db.OutboxByKey(ctx, "legal:"+nonMember+":v3"); row.OpenID != "o-migrant" {
		t.Fatalf("notice to %q", row.OpenID)
	}
}

// legalRoutes are the legal-aid API routes, all exercised by TestLegalAuthorizationMatrix.
var legalRoutes = []string{
	"GET /api/v1/legal-cases",
	"GET /api/v1/legal-cases/{number}",
	"POST /api/v1/legal-cases/{number}/assign",
	"POST /api/v1/legal-cases/{number}/transitions",
	"POST /api/v1/legal-cases/{number}/notes",
}

// TestLegalAuthorizationMatrix: every role in every scope on a member's case of unit A and a
// non-member's case. Legal officers and admins may read and handle cases; others 403; a
// unit's officer gets 404 for another unit's case and for any non-member's case. The
// expectations are written out here, not computed with auth's policy.
func TestLegalAuthorizationMatrix(t *testing.T) {
	e := newEnv(t, storagetest.Embedded(t), memStore(t))
	ctx := t.Context()
	a1, _ := e.db.MemberByNo(ctx, "A1")
	file := func(openID string, memberID int64) string {
		c, _, err := e.db.SubmitLegalCase(ctx, storage.LegalCaseInput{OpenID: openID, MemberID: memberID, Type: legalaid.OtherType,
			Employer: "甲", Workers: 1, Description: "情况", ContactName: "王", ContactPhone: "13912345678"}, storage.AuditEntry{Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return c.Number
	}
	e.officer("lawyer", []auth.Role{auth.RoleLegal}, 0)
	for _, role := range auth.AllRoles {
		for _, sc := range []struct {
			name string
			unit int64
		}{{"county", 0}, {"unitA", e.unitA.ID}, {"unitB", e.unitB.ID}} {
			tok := e.token(string(role)+"-"+sc.name, []auth.Role{role}, sc.unit)
			handles := role == auth.RoleLegal || role == auth.RoleAdmin
			for _, rec := range []struct {
				number string
				unit   int64
			}{{file("o-a1-"+string(role)+sc.name, a1.ID), e.unitA.ID}, {file("o-n-"+string(role)+sc.name, 0), 0}} {
				want := func(ok int) int {
					switch {
					case !handles:
						return 403
					case sc.unit != 0 && sc.unit != rec.unit:
						return 404
					}
					return ok
				}
				for _, c := range []struct {
					method, path string
					body         any
					ok           int
				}{
					{"GET", "/api/v1/legal-cases/" + rec.number, nil, 200},
					{"POST", "/api/v1/legal-cases/" + rec.number + "/notes", map[string]string{"text": "备注"}, 200},
					// Assigned to a county-level officer: only cases a county officer sees, i.e. all.
					{"POST", "/api/v1/legal-cases/" + rec.number + "/assign", map[string]string{"officer": "lawyer"}, 200},
					{"POST", "/api/v1/legal-cases/" + rec.number + "/transitions", map[string]any{"to": "accepted", "version": 2}, 200},
				} {
					if got, body := e.api(c.method, c.path, tok, c.body); got != want(c.ok) {
						t.Errorf("%s/%s %s %s: got %d %v, want %d", role, sc.name, c.method, c.path, got, body, want(c.ok))
					}
				}
			}
			wantList := 403
			if handles {
				wantList = 200
			}
			got, body := e.api("GET", "/api/v1/legal-cases?limit=500", tok, nil)
			if got != wantList {
				t.Errorf("%s/%s list: got %d, want %d", role, sc.name, got, wantList)
				continue
			}
			if got == 200 {
				for _, it := range body["items"].([]any) {
					m := it.(map[string]any)
					if sc.unit != 0 && m["unit"] != "甲镇工会" && sc.unit == e.unitA.ID {
						t.Errorf("%s/%s lists %v", role, sc.name, m["number"])
					}
					if sc.unit == e.unitB.ID {
						t.Errorf("%s/%s lists %v", role, sc.name, m["number"])
					}
				}
			}
		}
	}
}

// TestLegalConsole: the queue with the urgent case first, a case's page, and the forms to
// move, assign and annotate it; a unit's legal officer does not see a non-member's case.
func TestLegalConsole(t *testing.T) {
	e := newEnv(t, storagetest.Embedded(t), memStore(t))
	ctx := t.Context()
	payslip := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 64)...)
	photo, _, err := e.db.SaveMedia(ctx, "o-w", "image/png", payslip, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := e.db.SubmitLegalCase(ctx, storage.LegalCaseInput{OpenID: "o-w", Type: legalaid.WageArrears, Employer: "银湖建筑",
		Workers: 23, Description: "欠三个月工资", ContactName: "李春生", ContactPhone: "13912345678", Evidence: []int64{photo}},
		storage.AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	stranger, _, err := e.db.SaveMedia(ctx, "o-other", "image/png", payslip, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	photoURL := fmt.Sprintf("/admin/legal/%s/photos/%d", c.Number, photo)
	sig, _ := legalaid.Detect("我不想活了")
	crisis, _, _ := e.db.ReportCrisis(ctx, storage.CrisisReport{OpenID: "o-c", Signal: sig, Text: "我不想活了"}, storage.AuditEntry{Actor: "test"})
	e.officer("lawyer", []auth.Role{auth.RoleLegal}, 0)
	e.officer("unitlawyer", []auth.Role{auth.RoleLegal}, e.unitA.ID)
	e.officer("rev", []auth.Role{auth.RoleReviewer}, 0)

	b := e.browser()
	b.mustLogin("lawyer")
	code, _, body := b.get("/admin/legal")
	if code != 200 || !strings.Contains(body, "法律援助") || strings.Index(body, crisis.Number) > strings.Index(body, c.Number) ||
		!strings.Contains(body, "紧急") || !strings.Contains(body, "非会员") {
		t.Fatalf("queue %d %s", code, body)
	}
	// Every page's navigation shows the open urgent case to those who handle cases.
	if _, _, body := b.get("/admin/"); !strings.Contains(body, `<span class="navbadge" title="紧急未结案件 1 件">1</span>`) {
		t.Fatalf("no urgent badge in the navigation: %s", body)
	}
	code, _, body = b.get("/admin/legal/" + crisis.Number)
	if code != 200 || !strings.Contains(body, "我不想活了") {
		t.Fatalf("crisis page %d", code)
	}
	code, _, body = b.get("/admin/legal/" + c.Number)
	if code != 200 || !strings.Contains(body, "13912345678") || !strings.Contains(body, "欠三个月工资") || !strings.Contains(body, "改为「已受理」") {
		t.Fatalf("case page %d %s", code, body)
	}
	// The evidence: thumbnails that open the viewer, each served only through its case.
	if !strings.Contains(body, `<a class="thumb" href="`+photoURL+`" data-pv`) || !strings.Contains(body, `id="pv"`) ||
		!strings.Contains(body, "/admin/assets/photoviewer.js") {
		t.Fatalf("no evidence viewer on the case page: %s", body)
	}
	resp, served := b.fetch(photoURL)
	if resp.StatusCode != 200 || !bytes.Equal(served, payslip) || resp.Header.Get("Content-Type") != "image/png" ||
		resp.Header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("photo %d %v", resp.StatusCode, resp.Header)
	}
	for _, path := range []string{
		fmt.Sprintf("/admin/legal/%s/photos/%d", c.Number, stranger),   // someone else's photo through this case
		fmt.Sprintf("/admin/legal/%s/photos/%d", crisis.Number, photo), // this photo through another case
		fmt.Sprintf("/admin/legal/%s/photos/x", c.Number),
	} {
		if resp, _ := b.fetch(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	code, loc, _ := b.post("/admin/legal/"+c.Number+"/transitions", url.Values{"to": {"accepted"}, "version": {"1"}})
	if code != http.StatusSeeOther || loc != "/admin/legal/"+c.Number {
		t.Fatalf("transition %d %s", code, loc)
	}
	// The same form again carries a stale version: the page says why.
	code, _, body = b.post("/admin/legal/"+c.Number+"/transitions", url.Values{"to": {"accepted"}, "version": {"1"}})
	if code != http.StatusConflict || !strings.Contains(body, "已被他人处理") {
		t.Fatalf("stale %d", code)
	}
	if code, _, _ = b.post("/admin/legal/"+c.Number+"/assign", url.Values{"version": {"2"}}); code != http.StatusSeeOther {
		t.Fatalf("assign to me %d", code)
	}
	if code, _, _ = b.post("/admin/legal/"+c.Number+"/notes", url.Values{"text": {"周五面谈"}}); code != http.StatusSeeOther {
		t.Fatalf("note %d", code)
	}
	code, _, body = b.post("/admin/legal/"+c.Number+"/notes", url.Values{"text": {" "}})
	if code != http.StatusBadRequest || !strings.Contains(body, "备注不能为空") {
		t.Fatalf("empty note %d", code)
	}
	got, _ := e.db.LegalCaseByNumber(ctx, c.Number)
	if got.Status != legalaid.Accepted || got.Assignee != "lawyer" || got.Events[len(got.Events)-1].Text != "周五面谈" {
		t.Fatalf("after the forms %+v", got)
	}
	_, _, body = b.get("/admin/legal?unit=none")
	if !strings.Contains(body, `<option value="none" selected>非会员</option>`) || !strings.Contains(body, c.Number) ||
		!strings.Contains(body, `<option value="甲镇工会">甲镇工会</option>`) {
		t.Fatal("unit filter of a county-level officer")
	}
	_, _, body = b.get("/admin/legal?assignee=me")
	if !strings.Contains(body, c.Number) || strings.Contains(body, crisis.Number) {
		t.Fatal("assigned to me")
	}

	u := e.browser()
	u.mustLogin("unitlawyer")
	if code, _, _ := u.get("/admin/legal/" + c.Number); code != http.StatusNotFound {
		t.Fatalf("unit officer on a non-member's case: %d", code)
	}
	if resp, _ := u.fetch(photoURL); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unit officer on a non-member's photo: %d", resp.StatusCode)
	}
	if _, _, body := u.get("/admin/legal"); strings.Contains(body, c.Number) || strings.Contains(body, "navbadge") || strings.Contains(body, `id="unit"`) {
		t.Fatal("unit officer lists a non-member's case, or counts its urgency")
	}
	r := e.browser()
	r.mustLogin("rev")
	if code, _, _ := r.get("/admin/legal"); code != http.StatusForbidden {
		t.Fatalf("reviewer queue %d", code)
	}
	if resp, _ := r.fetch(photoURL); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("reviewer on a case's photo: %d", resp.StatusCode)
	}
}

// TestLegalOverdue: a case that waited longer than its contact SLA (72 hours, an urgent one
// 2 hours) without contact is marked in the queue, on its page and in the API; a contacted
// one is not, however old.
func TestLegalOverdue(t *testing.T) {
	e := newEnv(t, storagetest.Embedded(t), memStore(t))
	ctx := t.Context()
	at := func(ago time.Duration) *storage.DB {
		return e.db.WithClock(func() time.Time { return time.Now().Add(-ago) })
	}
	file := func(db *storage.DB, openID string) string {
		t.Helper()
		c, _, err := db.SubmitLegalCase(ctx, storage.LegalCaseInput{OpenID: openID, Type: legalaid.WageArrears, Employer: "银湖建筑",
			Workers: 1, Description: "欠工资", ContactName: "李春生", ContactPhone: "13912345678"}, storage.AuditEntry{Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return c.Number
	}
	late := file(at(73*time.Hour), "o-late")
	fresh := file(at(71*time.Hour), "o-fresh")
	contacted := file(at(100*time.Hour), "o-contacted")
	for _, to := range []legalaid.Status{legalaid.Accepted, legalaid.Contacted} {
		if _, err := at(99*time.Hour).TransitionLegalCase(ctx, contacted, storage.LegalTransition{To: to, Role: legalaid.RoleLegal},
			storage.AuditEntry{Actor: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	sig, _ := legalaid.Detect("我不想活了")
	urgent, _, err := at(3*time.Hour).ReportCrisis(ctx, storage.CrisisReport{OpenID: "o-urgent", Signal: sig, Text: "我不想活了"}, storage.AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	tok := e.token("county-legal", []auth.Role{auth.RoleLegal}, 0)
	for number, want := range map[string]bool{late: true, fresh: false, contacted: false, urgent.Number: true} {
		if code, got := e.api("GET", "/api/v1/legal-cases/"+number, tok, nil); code != 200 || got["overdue"] != want {
			t.Errorf("%s: overdue %v, want %v (%d)", number, got["overdue"], want, code)
		}
	}
	e.officer("lawyer", []auth.Role{auth.RoleLegal}, 0)
	b := e.browser()
	b.mustLogin("lawyer")
	_, _, queue := b.get("/admin/legal")
	for number, want := range map[string]bool{late: true, fresh: false, contacted: false} {
		row := queue[strings.Index(queue, `<a href="/admin/legal/`+number+`">`):]
		row = row[:strings.Index(row, "</td>")]
		if strings.Contains(row, "超时未联系") != want {
			t.Errorf("queue row of %s: %q", number, row)
		}
	}
	if _, _, page := b.get("/admin/legal/" + late); !strings.Contains(page, `<span class="tag warn">超时未联系</span>`) {
		t.Error("the late case's page does not say it is overdue")
	}
}
