package admin_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"unionbot/admin/auth"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// noticeRoutes are covered by TestNoticesAuthorizationMatrix (and counted by
// TestAuthorizationMatrix).
var noticeRoutes = []string{
	"POST /api/v1/notices", "GET /api/v1/notices/{id}", "POST /api/v1/notices/{id}/publish",
	"POST /api/v1/notices/{id}/cancel", "GET /api/v1/activities/{id}/signups",
}

// noticeJSON is the part of a notice answer the tests read.
type noticeJSON struct {
	ID           int64  `json:"id"`
	Status       string `json:"status"`
	Channel      string `json:"channel"`
	Reason       string `json:"channel_reason"`
	AudienceSize int    `json:"audience_size"`
	Activity     *struct {
		Number int64 `json:"number"`
		Taken  int   `json:"taken"`
	} `json:"activity"`
	Delivery *struct {
		Total, Pending, Cancelled int
		FailedByCode              map[string]int `json:"failed_by_code"`
	} `json:"delivery"`
	Error struct{ Code, Message string } `json:"error"`
}

func decodeNotice(t *testing.T, raw string) noticeJSON {
	t.Helper()
	var n noticeJSON
	if err := json.Unmarshal([]byte(raw), &n); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return n
}

func activityBody(title string, units ...string) string {
	aud := `{"kind":"bound"}`
	if len(units) > 0 {
		b, _ := json.Marshal(units)
		aud = `{"kind":"units","units":` + string(b) + `}`
	}
	start := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	return fmt.Sprintf(`{"title":%q,"body":"高温季节，工会为一线职工送清凉。","audience":%s,
 "activity":{"starts_at":%q,"place":"县职工服务中心","capacity":10}}`, title, aud, start)
}

// TestNoticesAPI: a draft, publishing (once), the channel and its reason, progress, cancel,
// the rules' own messages, unit scoping and the sign-up list; every answer checked against
// docs/openapi.yaml.
func TestNoticesAPI(t *testing.T) {
	c := setupClaims(t, newEnv(t, storagetest.Embedded(t), memStore(t)))
	ctx := t.Context()
	c.bindA1("o-notice-a1")
	pub := c.token("pub", []auth.Role{auth.RolePublisher}, 0)
	pubA := c.token("pubA", []auth.Role{auth.RolePublisher}, c.unitA.ID)
	pubB := c.token("pubB", []auth.Role{auth.RolePublisher}, c.unitB.ID)

	code, raw := c.json("POST", "/api/v1/notices", "/api/v1/notices", pub, activityBody("送清凉", "甲镇工会", "乙公司工会"))
	if code != 201 {
		t.Fatalf("create: %d %s", code, raw)
	}
	n := decodeNotice(t, raw)
	if n.Status != "draft" || n.Delivery != nil || n.Activity == nil || n.Activity.Number == 0 {
		t.Fatalf("draft: %s", raw)
	}
	path := fmt.Sprintf("/api/v1/notices/%d", n.ID)

	code, raw = c.json("POST", path+"/publish", "/api/v1/notices/{id}/publish", pub, "")
	n = decodeNotice(t, raw)
	if code != 200 || n.Status != "sending" || n.Channel != "individual" || n.AudienceSize != 1 || n.Reason == "" ||
		n.Delivery == nil || n.Delivery.Total != 1 || n.Delivery.Pending != 1 {
		t.Fatalf("publish: %d %s", code, raw)
	}
	if code, raw = c.json("POST", path+"/publish", "/api/v1/notices/{id}/publish", pub, ""); code != 409 {
		t.Errorf("publish twice: %d %s", code, raw)
	}
	if code, raw = c.json("GET", path, "/api/v1/notices/{id}", pubB, ""); code != 404 {
		t.Errorf("county notice read by unit B: %d %s", code, raw)
	}

	// A member signs up; the list names them.
	m, _ := c.db.MemberByNo(ctx, "A1")
	if _, err := c.db.SignUp(ctx, n.Activity.Number, storage.SignupIn{OpenID: "o-notice-a1", MemberID: m.ID}); err != nil {
		t.Fatal(err)
	}
	code, raw = c.json("GET", fmt.Sprintf("/api/v1/activities/%d/signups", n.ID), "/api/v1/activities/{id}/signups", pub, "")
	if code != 200 || !strings.Contains(raw, "张三") || !strings.Contains(raw, `"status":"confirmed"`) {
		t.Errorf("sign-ups: %d %s", code, raw)
	}

	code, raw = c.json("POST", path+"/cancel", "/api/v1/notices/{id}/cancel", pub, "")
	n = decodeNotice(t, raw)
	if code != 200 || n.Status != "cancelled" || n.Delivery.Cancelled != 1 {
		t.Errorf("cancel: %d %s", code, raw)
	}
	if code, raw = c.json("POST", path+"/cancel", "/api/v1/notices/{id}/cancel", pub, ""); code != 409 {
		t.Errorf("cancel twice: %d %s", code, raw)
	}

	// The rules speak for themselves.
	for _, tc := range []struct{ token, body, want string }{
		{pub, `{"title":"","body":"x","audience":{"kind":"bound"}}`, "请填写标题"},
		{pub, `{"title":"t","body":"x","audience":{"kind":"nobody"}}`, ""},
		{pubA, `{"title":"t","body":"x","audience":{"kind":"all"}}`, "本单位"},
		{pub, `{"title":"t","body":"x","audience":{"kind":"units","units":["没有这个工会"]}}`, "没有这个工会"},
	} {
		code, raw := c.json("POST", "/api/v1/notices", "/api/v1/notices", tc.token, tc.body)
		if code != 422 || !strings.Contains(raw, tc.want) {
			t.Errorf("%s: %d %s", tc.body, code, raw)
		}
	}
	if code, raw := c.json("POST", "/api/v1/notices", "/api/v1/notices", pub, `{"title":`); code != 400 {
		t.Errorf("bad JSON: %d %s", code, raw)
	}

	// A unit's publisher reaches only the unit's members, even naming another unit.
	code, raw = c.json("POST", "/api/v1/notices", "/api/v1/notices", pubB, `{"title":"乙","body":"正文","audience":{"kind":"units","units":["甲镇工会"]}}`)
	if code != 201 {
		t.Fatalf("unit B create: %d %s", code, raw)
	}
	nb := decodeNotice(t, raw)
	code, raw = c.json("POST", fmt.Sprintf("/api/v1/notices/%d/publish", nb.ID), "/api/v1/notices/{id}/publish", pubB, "")
	if nb = decodeNotice(t, raw); code != 200 || nb.AudienceSize != 0 {
		t.Errorf("unit B publish to unit A: %d %s", code, raw)
	}

	// A plain notice has no sign-ups.
	if code, raw = c.json("GET", fmt.Sprintf("/api/v1/activities/%d/signups", nb.ID), "/api/v1/activities/{id}/signups", pubB, ""); code != 404 {
		t.Errorf("sign-ups of a notice: %d %s", code, raw)
	}
	if code, raw = c.json("POST", "/api/v1/notices/abc/publish", "/api/v1/notices/{id}/publish", pub, ""); code != 404 {
		t.Errorf("bad id: %d %s", code, raw)
	}

	// Every write is audited with its actor.
	es, err := c.db.AuditLog(ctx, storage.AuditFilter{Action: "notice.", Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range es {
		acts = append(acts, e.Action+" "+e.Actor)
	}
	for _, want := range []string{"notice.create token:pub", "notice.publish token:pub", "notice.cancel token:pub", "notice.create token:pubB"} {
		if !slices.Contains(acts, want) {
			t.Errorf("audit lacks %q: %v", want, acts)
		}
	}
}

// TestNoticesAuthorizationMatrix: every notice route as every role from the county, the
// notice's unit (A) and another unit. From the contract: everyone reads notices; admins and
// publishers write, publish and cancel; sign-up lists are for admins, publishers and viewers;
// another unit's notice is 404.
func TestNoticesAuthorizationMatrix(t *testing.T) {
	c := setupClaims(t, newEnv(t, storagetest.Embedded(t), memStore(t)))
	pubA := c.token("pubA", []auth.Role{auth.RolePublisher}, c.unitA.ID)
	code, raw := c.json("POST", "/api/v1/notices", "/api/v1/notices", pubA, activityBody("甲镇活动"))
	if code != 201 {
		t.Fatalf("create: %d %s", code, raw)
	}
	id := decodeNotice(t, raw).ID
	if code, raw = c.json("POST", fmt.Sprintf("/api/v1/notices/%d/cancel", id), "/api/v1/notices/{id}/cancel", pubA, ""); code != 200 {
		t.Fatalf("cancel: %d %s", code, raw)
	}
	in := func(r auth.Role, rs ...auth.Role) bool { return slices.Contains(rs, r) }
	writes := func(r auth.Role) bool { return in(r, auth.RoleAdmin, auth.RolePublisher) }
	type route struct {
		method, path, pattern, body string
		record                      bool
		ok                          int
		may                         func(auth.Role) bool
	}
	p := fmt.Sprintf("/api/v1/notices/%d", id)
	routes := []route{
		{"POST", "/api/v1/notices", "/api/v1/notices", `{"title":"t","body":"b","audience":{"kind":"bound"}}`, false, 201, writes},
		{"GET", p, "/api/v1/notices/{id}", "", true, 200, func(auth.Role) bool { return true }},
		// The notice is cancelled: an allowed publish or cancel reaches it and answers 409.
		{"POST", p + "/publish", "/api/v1/notices/{id}/publish", "", true, 409, writes},
		{"POST", p + "/cancel", "/api/v1/notices/{id}/cancel", "", true, 409, writes},
		{"GET", fmt.Sprintf("/api/v1/activities/%d/signups", id), "/api/v1/activities/{id}/signups", "", true, 200,
			func(r auth.Role) bool { return in(r, auth.RoleAdmin, auth.RolePublisher, auth.RoleViewer) }},
	}
	for _, r := range routes {
		if !slices.Contains(noticeRoutes, r.method+" "+r.pattern) {
			t.Errorf("%s %s is not in noticeRoutes", r.method, r.pattern)
		}
	}
	scopes := unitScopes(c.unitA.ID, c.unitB.ID)
	for _, role := range auth.AllRoles {
		for _, sc := range scopes {
			tok := c.token(fmt.Sprintf("n-%s-%d", role, sc.unit), []auth.Role{role}, sc.unit)
			for _, rt := range routes {
				want := 403
				if rt.may(role) {
					want = rt.ok
					if rt.record && sc.unit == c.unitB.ID {
						want = 404
					}
				}
				if code, out := c.json(rt.method, rt.path, rt.pattern, tok, rt.body); code != want {
					t.Errorf("%s/%s %s %s: %d, want %d (%s)", role, sc.name, rt.method, rt.path, code, want, out)
				}
			}
		}
	}
}
