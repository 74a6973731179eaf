package admin_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/xuri/excelize/v2"

	"unionbot/admin/auth"
	"unionbot/legalaid"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// TestLegalStats: the yearly legal-aid page (by type, outcome, unit; satisfaction per
// officer and month), its workbook, the dashboard card, and the legal part of the yearly
// API, for the county and for a unit's officer.
func TestLegalStats(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, storagetest.Embedded(t), memStore(t))
	ctx := t.Context()
	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
	a1, _ := e.db.MemberByNo(ctx, "A1")
	file := func(openID string, memberID int64, typ legalaid.Type) string {
		t.Helper()
		c, _, err := e.db.SubmitLegalCase(ctx, storage.LegalCaseInput{OpenID: openID, MemberID: memberID, Type: typ,
			Employer: "银湖建筑", Workers: 1, Description: "欠工资", ContactName: "李春生", ContactPhone: "13912345678"},
			storage.AuditEntry{Actor: "member:" + openID})
		if err != nil {
			t.Fatal(err)
		}
		return c.Number
	}
	file("o-migrant", 0, legalaid.WageArrears)
	member := file("o-a1", a1.ID, legalaid.LaborContract)
	sig, _ := legalaid.Detect("我不想活了")
	if _, _, err := e.db.ReportCrisis(ctx, storage.CrisisReport{OpenID: "o-crisis", Signal: sig, Text: "我不想活了"}, storage.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	e.officer("lawyer", []auth.Role{auth.RoleLegal}, 0)
	e.officer("unitlawyer", []auth.Role{auth.RoleLegal}, e.unitB.ID)
	e.officer("rev", []auth.Role{auth.RoleReviewer}, 0)
	if _, err := e.db.AssignLegalCase(ctx, member, "lawyer", 0, storage.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []storage.LegalTransition{{To: legalaid.Accepted}, {To: legalaid.Contacted}, {To: legalaid.InProgress},
		{To: legalaid.Closed, Details: legalaid.Details{Outcome: legalaid.Mediated}}} {
		s.Role = legalaid.RoleLegal
		if _, err := e.db.TransitionLegalCase(ctx, member, s, storage.AuditEntry{Actor: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.db.RateLegalCase(ctx, "o-a1", member, 4, storage.AuditEntry{Actor: "member:o-a1"}); err != nil {
		t.Fatal(err)
	}

	b := e.browser()
	b.mustLogin("lawyer")
	code, _, page := b.get("/admin/legal/stats")
	if code != 200 {
		t.Fatalf("stats page %d %s", code, page)
	}
	for _, want := range []string{fmt.Sprintf("%d年度法律援助统计", year), `<div class="n" id="year-cases">3</div>`,
		`<div class="n" id="legal-satisfaction">4.0</div>`, "<td>拖欠工资</td><td class=\"num\">1</td>", "<td>紧急求助</td><td class=\"num\">1</td>",
		"<td>调解成功</td><td class=\"num\">1</td>", "<td>未结案</td><td class=\"num\">2</td>", "<td>lawyer</td><td class=\"num\">1</td><td class=\"num\">4.0</td>",
		"<td>非会员</td><td class=\"num\">2</td>", "<td>甲镇工会</td><td class=\"num\">1</td>", "format=xlsx"} {
		if !strings.Contains(page, want) {
			t.Errorf("stats page lacks %q", want)
		}
	}
	month := fmt.Sprintf("<td>%d月</td><td class=\"num\">1</td><td class=\"num\">4.0</td>", time.Now().In(time.FixedZone("CST", 8*3600)).Month())
	if !strings.Contains(page, month) {
		t.Errorf("stats page lacks this month's rating %q", month)
	}
	if _, _, body := b.get("/admin/"); !strings.Contains(body, `id="legal-card"`) || !strings.Contains(body, "/admin/legal/stats?year=") {
		t.Error("the dashboard has no legal-aid card for a legal officer")
	}
	if code, _, _ := b.get("/admin/legal/stats?year=19"); code != http.StatusBadRequest {
		t.Errorf("bad year: %d", code)
	}

	// The workbook.
	req, _ := http.NewRequest("GET", e.srv.URL+fmt.Sprintf("/admin/legal/stats?year=%d&format=xlsx", year), nil)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), fmt.Sprintf("legal-%d.xlsx", year)) {
		t.Fatalf("workbook %d %v", resp.StatusCode, resp.Header)
	}
	wb, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	cases, _ := wb.GetRows("案件统计")
	ratings, _ := wb.GetRows("满意度回访")
	if got := fmt.Sprint(cases); !strings.Contains(got, "[案件总数 3]") || !strings.Contains(got, "[拖欠工资 1]") ||
		!strings.Contains(got, "[调解成功 1]") || !strings.Contains(got, "[非会员 2]") {
		t.Errorf("sheet 案件统计 %v", cases)
	}
	if got := fmt.Sprint(ratings); !strings.Contains(got, "[全年 1 4]") || !strings.Contains(got, "[lawyer 1 4]") {
		t.Errorf("sheet 满意度回访 %v", ratings)
	}

	// A unit's legal officer: that unit's figures only (乙 has none).
	u := e.browser()
	u.mustLogin("unitlawyer")
	if _, _, page := u.get("/admin/legal/stats"); !strings.Contains(page, `<div class="n" id="year-cases">0</div>`) || strings.Contains(page, "lawyer</td>") {
		t.Errorf("unit officer's stats: %s", page)
	}
	r := e.browser()
	r.mustLogin("rev")
	if code, _, _ := r.get("/admin/legal/stats"); code != http.StatusForbidden {
		t.Errorf("reviewer: %d", code)
	}
	if _, _, body := r.get("/admin/"); strings.Contains(body, `id="legal-card"`) {
		t.Error("a reviewer's dashboard shows legal aid")
	}

	// The yearly API carries the legal figures (every role: no officer's name in them).
	a := legalAPI{e: e, doc: doc}
	view := e.token("viewer", []auth.Role{auth.RoleViewer}, 0)
	got := a.call("GET", fmt.Sprintf("/api/v1/stats/yearly?year=%d", year), "/api/v1/stats/yearly", view, nil, 200)
	legal, _ := got["legal"].(map[string]any)
	sat, _ := legal["satisfaction"].(map[string]any)
	if legal["cases"] != 3.0 || legal["urgent"] != 1.0 || legal["non_member"] != 2.0 || sat["count"] != 1.0 || sat["average"] != 4.0 {
		t.Fatalf("yearly legal %v", legal)
	}
	types := legal["by_type"].([]any)
	if first := types[0].(map[string]any); len(types) != 7 || first["key"] != "wage_arrears" || first["label"] != "拖欠工资" || first["count"] != 1.0 {
		t.Fatalf("by_type %v", types)
	}
	unitB := e.token("b-viewer", []auth.Role{auth.RoleViewer}, e.unitB.ID)
	got = a.call("GET", fmt.Sprintf("/api/v1/stats/yearly?year=%d", year), "/api/v1/stats/yearly", unitB, nil, 200)
	if l := got["legal"].(map[string]any); l["cases"] != 0.0 || l["satisfaction"].(map[string]any)["average"] != nil {
		t.Fatalf("unit's yearly legal %v", l)
	}
}
