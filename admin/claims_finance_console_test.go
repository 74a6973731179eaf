package admin_test

import (
	"bytes"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"unionbot/admin/auth"
	"unionbot/claims"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// upload posts a console form with a file (multipart) and the session's form token.
func (b *browser) upload(path string, fields url.Values, name string, data []byte) (int, string, string) {
	b.e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf", b.csrf)
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	if name != "" {
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write(data)
	}
	mw.Close()
	return b.send("POST", path, &buf, http.Header{"Content-Type": {mw.FormDataContentType()}})
}

// raw GETs path with the session and returns the status and the body bytes.
func (b *browser) raw(path string) (int, []byte) {
	b.e.t.Helper()
	resp, out := b.fetch(path)
	return resp.StatusCode, out
}

// login is a logged-in console session of a new officer.
func (c *claimsEnv) login(name string, roles []auth.Role, unit int64) *browser {
	c.t.Helper()
	c.officer(name, roles, unit)
	b := c.browser()
	b.mustLogin(name)
	return b
}

// approved files a claim of member and approves amount (yuan).
func (c *claimsEnv) approved(member, admitted, amount string) string {
	c.t.Helper()
	n := c.file(member, admitted, "inv "+member+admitted)
	c.mustMove(n, c.rev, `{"to":"reviewing","version":1}`)
	c.mustMove(n, c.rev, fmt.Sprintf(`{"to":"approved","version":2,"amount":%q}`, amount))
	return n
}

func (c *claimsEnv) status(number string) storage.Claim {
	c.t.Helper()
	cl, err := c.db.ClaimByNumber(c.t.Context(), number)
	if err != nil {
		c.t.Fatal(err)
	}
	return cl
}

var resultRow = regexp.MustCompile(`(?s)<tr class="outcome-(\w+)">\s*<td>(\d+)</td><td class="mono">([^<]*)</td>.*?</tr>`)

func TestPaymentsConsole(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			db, store := be.open(t)
			c := setupClaims(t, newEnv(t, db, store))
			a1, a2, b1 := c.approved("A1", "2026-11-01", "800.00"), c.approved("A2", "2026-11-02", "1200.50"), c.approved("B1", "2026-11-03", "300.00")
			pending := c.file("A1", "2026-11-05", "pending")

			fin := c.login("fin1", []auth.Role{auth.RoleFinance}, 0)
			code, _, page := fin.get("/admin/payments")
			if code != 200 || !strings.Contains(page, "待发放 3 件，共 2,300.50 元") || strings.Contains(page, pending) ||
				!strings.Contains(page, "**** **** **** 5678") || strings.Contains(page, "6228480012345678") ||
				!strings.Contains(page, `href="/api/v1/payments/list?format=xlsx"`) {
				t.Fatalf("finance page: %d\n%s", code, page)
			}
			// The download link of the page gives the bank's sheet with the full card numbers, audited.
			code, raw := fin.raw("/api/v1/payments/list?format=xlsx")
			f, err := excelize.OpenReader(bytes.NewReader(raw))
			if code != 200 || err != nil {
				t.Fatalf("download: %d %v", code, err)
			}
			rows, _ := f.GetRows("发放清单")
			f.Close()
			if len(rows) != 4 || rows[1][5] != "6228480012345678" {
				t.Errorf("sheet: %v", rows)
			}
			if es, err := c.db.AuditLog(t.Context(), storage.AuditFilter{Action: "claims.payment_list", Limit: 5}); err != nil || len(es) != 1 || es[0].Actor != "officer:fin1" {
				t.Errorf("reveal audit: %+v %v", es, err)
			}

			// An admin oversees without paying: no download, no forms; a reviewer may not.
			adm := c.login("adm1", []auth.Role{auth.RoleAdmin}, 0)
			if code, _, page := adm.get("/admin/payments"); code != 200 || strings.Contains(page, "payments/list?format=xlsx") ||
				strings.Contains(page, `class="mark-paid`) || !strings.Contains(page, a1) {
				t.Errorf("admin page: %d\n%s", code, page)
			}
			if code, _, _ := adm.post("/admin/payments/"+a1, url.Values{"to": {"paid"}, "version": {"3"}}); code != 403 {
				t.Errorf("admin marks paid: %d", code)
			}
			rev := c.login("rev1", []auth.Role{auth.RoleReviewer}, 0)
			if code, _, _ := rev.get("/admin/payments"); code != 403 {
				t.Errorf("reviewer: %d", code)
			}
			// 乙's finance officer sees 乙's claim only and cannot mark 甲's.
			finB := c.login("finB1", []auth.Role{auth.RoleFinance}, c.unitB.ID)
			if code, _, page := finB.get("/admin/payments"); code != 200 || strings.Contains(page, a1) || !strings.Contains(page, b1) {
				t.Errorf("unit B page: %d", code)
			}
			if code, _, _ := finB.post("/admin/payments/"+a1, url.Values{"to": {"paid"}, "version": {"3"}}); code != 404 {
				t.Errorf("unit B marks 甲's: %d", code)
			}

			// Mark one paid from the page; a stale version is told, not applied.
			code, loc, _ := fin.post("/admin/payments/"+a1, url.Values{"to": {"paid"}, "version": {"3"}, "payment_ref": {"BK-1"}})
			if code != 303 || loc != "/admin/payments" {
				t.Fatalf("mark paid: %d %s", code, loc)
			}
			if cl := c.status(a1); cl.Status != claims.Paid || cl.PaymentRef != "BK-1" {
				t.Errorf("a1: %s %q", cl.Status, cl.PaymentRef)
			}
			if row, err := c.db.OutboxByKey(t.Context(), "claim:"+a1+":v4"); err != nil || !strings.Contains(row.Content.Text, "800.00") {
				t.Errorf("member told of payment: %+v %v", row, err)
			}
			if _, _, page := fin.get("/admin/payments"); !strings.Contains(page, "申请 "+a1+" 已标记为已发放") {
				t.Error("no flash after marking paid")
			}
			if code, _, page := fin.post("/admin/payments/"+a2, url.Values{"to": {"paid"}, "version": {"2"}}); code != 409 || !strings.Contains(page, "已被他人处理") {
				t.Errorf("stale: %d", code)
			}

			// The bank's result file: a row per outcome.
			csvText := "申请编号,结果,流水号,原因\n" +
				a1 + ",成功,BK-1,\n" + // already recorded
				a2 + ",失败,,户名不符\n" +
				b1 + ",成功,BK-3,\n" +
				pending + ",成功,BK-4,\n" +
				"HZ19990101-0001,成功,BK-5,\n" +
				b1 + ",处理中,,\n"
			code, _, page = fin.upload("/admin/payments/results", nil, "回盘.csv", []byte(csvText))
			if code != 200 {
				t.Fatalf("results: %d\n%s", code, page)
			}
			got := map[string]string{}
			for _, m := range resultRow.FindAllStringSubmatch(page, -1) {
				got[m[2]] = m[1] + " " + m[3]
			}
			want := map[string]string{"2": "unchanged " + a1, "3": "failed " + a2, "4": "paid " + b1, "5": "rejected " + pending,
				"6": "rejected HZ19990101-0001", "7": "rejected " + b1}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("result rows:\n got %v\nwant %v", got, want)
			}
			for _, s := range []string{"不能改为「已发放」", "未找到该申请", "结果应为「成功」或「失败」", "户名不符", "BK-3"} {
				if !strings.Contains(html.UnescapeString(page), s) {
					t.Errorf("result table lacks %s", s)
				}
			}
			if cl := c.status(a2); cl.Status != claims.PaymentFailed || cl.Reason != "户名不符" {
				t.Errorf("a2: %s %q", cl.Status, cl.Reason)
			}
			if cl := c.status(b1); cl.Status != claims.Paid || cl.PaymentRef != "BK-3" {
				t.Errorf("b1: %s", cl.Status)
			}
			if cl := c.status(pending); cl.Status != claims.Submitted {
				t.Errorf("pending: %s", cl.Status)
			}
			// The failed claim waits for the member's corrected card on the page.
			if _, _, page := fin.get("/admin/payments"); !strings.Contains(page, `id="failed"`) || !strings.Contains(page, "户名不符") {
				t.Error("failed claims not listed")
			}
			if code, _, page := fin.upload("/admin/payments/results", nil, "x.csv", []byte("a,b\n1,2\n")); code != 400 || !strings.Contains(page, "缺少「申请编号」和「结果」列") {
				t.Errorf("bad file: %d", code)
			}
		})
	}
}

var hiddenRow = regexp.MustCompile(`name="row_(unit|year|amount)" value="([^"]*)"`)

func TestPremiumsConsole(t *testing.T) {
	c := setupClaims(t, newEnv(t, storagetest.Embedded(t), memStore(t)))
	adm := c.login("adm1", []auth.Role{auth.RoleAdmin}, 0)
	code, _, page := adm.get("/admin/premiums?year=2026")
	if code != 200 || !strings.Contains(page, "甲镇工会") || !strings.Contains(page, "乙公司工会") || !strings.Contains(page, "未记录") {
		t.Fatalf("page: %d\n%s", code, page)
	}
	premium := func(unit storage.Unit) (claims.Fen, bool) {
		ps, err := c.db.UnitPremiums(t.Context(), 2026, unit.ID)
		if err != nil || len(ps) != 1 {
			t.Fatalf("premiums: %v %v", ps, err)
		}
		return ps[0].Amount, ps[0].Set
	}
	// One unit, as typed.
	if code, loc, _ := adm.post("/admin/premiums", url.Values{"unit": {"甲镇工会"}, "year": {"2026"}, "amount": {"1,200.50元"}}); code != 303 || loc != "/admin/premiums?year=2026" {
		t.Fatalf("set: %d %s", code, loc)
	}
	if a, ok := premium(c.unitA); !ok || a != 120050 {
		t.Errorf("甲: %v %v", a, ok)
	}
	if code, _, page := adm.post("/admin/premiums", url.Values{"unit": {"甲镇工会"}, "year": {"2026"}, "amount": {"很多"}}); code != 422 || !strings.Contains(page, "金额无法识别") {
		t.Errorf("bad amount: %d", code)
	}

	// A sheet: checked first (nothing written), then applied from the page's own form.
	sheet := "单位,年度,金额\n" +
		"甲镇工会,2026,3500元\n" +
		"乙公司工会,2026年,\"80.50\"\n" +
		"丙村工会,2026,100\n" +
		"乙公司工会,二六,x\n" +
		"甲镇工会,2026,3500\n"
	code, _, page = adm.upload("/admin/premiums/import?year=2026", nil, "缴费.csv", []byte(sheet))
	if code != 200 {
		t.Fatalf("dry run: %d\n%s", code, page)
	}
	for _, s := range []string{"可导入 <strong>2</strong> 行，有问题 <strong>3</strong> 行", "没有名为「丙村工会」的基层工会",
		"年度应为四位年份", "金额无法识别", "与第2行重复", "1,200.50"} {
		if !strings.Contains(page, s) {
			t.Errorf("dry run lacks %s", s)
		}
	}
	if a, _ := premium(c.unitA); a != 120050 {
		t.Error("dry run wrote")
	}
	form := url.Values{"apply": {"1"}}
	for _, m := range hiddenRow.FindAllStringSubmatch(page, -1) {
		form.Add("row_"+m[1], html.UnescapeString(m[2]))
	}
	if len(form["row_unit"]) != 2 {
		t.Fatalf("apply form rows: %v", form)
	}
	code, _, _ = adm.post("/admin/premiums/import?year=2026", form)
	if code != 303 {
		t.Fatalf("apply: %d", code)
	}
	if a, _ := premium(c.unitA); a != claims.Yuan(3500) {
		t.Errorf("甲 after import: %v", a)
	}
	if a, _ := premium(c.unitB); a != 8050 {
		t.Errorf("乙 after import: %v", a)
	}
	es, err := c.db.AuditLog(t.Context(), storage.AuditFilter{Action: "premium.set", Limit: 10})
	if err != nil || len(es) != 3 || es[0].Actor != "officer:adm1" {
		t.Errorf("audit: %d %v", len(es), err)
	}

	// The API does the same, and its answer is the documented one.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "p.csv")
	fw.Write([]byte("单位,年度,金额\n甲镇工会,2026,3500\n乙公司工会,2025,10\n无此单位,2026,1\n"))
	mw.WriteField("dry_run", "true")
	mw.Close()
	code, out := c.call("POST", "/api/v1/premiums/imports", "/api/v1/premiums/imports", c.adm, mw.FormDataContentType(), buf.Bytes())
	if code != 200 || !strings.Contains(out, `"dry_run":true,"accepted":2,"rejected":1`) ||
		!strings.Contains(out, `{"row":2,"unit":"甲镇工会","year":2026,"amount":"3500.00","previous":"3500.00","outcome":"unchanged"}`) ||
		!strings.Contains(out, `"outcome":"rejected","reason":"没有名为「无此单位」的基层工会（请与名册中的名称一致）"`) {
		t.Errorf("api dry run: %d %s", code, out)
	}

	// Premiums are the county admins'.
	for _, b := range []*browser{c.login("admA", []auth.Role{auth.RoleAdmin}, c.unitA.ID), c.login("fin9", []auth.Role{auth.RoleFinance}, 0)} {
		if code, _, _ := b.get("/admin/premiums"); code != 403 {
			t.Errorf("premiums page: %d", code)
		}
		if code, _, _ := b.post("/admin/premiums", url.Values{"unit": {"甲镇工会"}, "year": {"2026"}, "amount": {"1"}}); code != 403 {
			t.Errorf("set premium: %d", code)
		}
	}
}

func TestStatsConsole(t *testing.T) {
	c := setupClaims(t, newEnv(t, storagetest.Embedded(t), memStore(t)))
	yearlyClaims(t, c)
	view := c.login("view1", []auth.Role{auth.RoleViewer}, 0)
	code, _, page := view.get("/admin/stats?year=2026")
	if code != 200 || !strings.Contains(page, "2026年度，2家单位的3名职工办理了互助金申领手续，共发放互助金3,000元。") ||
		!strings.Contains(page, `href="/api/v1/stats/yearly?year=2026&amp;format=xlsx"`) {
		t.Fatalf("stats: %d\n%s", code, page)
	}
	for _, s := range []string{"<td>甲镇工会</td><td class=\"num\">2</td><td class=\"num\">500.00</td><td class=\"num\">2</td><td class=\"num\">2</td>",
		"<td class=\"num\">4,200.00</td><td class=\"num\">1</td><td class=\"num\">3,000.00</td>", "<th>合计</th><td class=\"num\">3</td><td class=\"num\">580.50</td>"} {
		if !strings.Contains(page, s) {
			t.Errorf("stats lacks %s", s)
		}
	}
	// The workbook behind the link opens.
	code, raw := view.raw("/api/v1/stats/yearly?year=2026&format=xlsx")
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if code != 200 || err != nil {
		t.Fatalf("xlsx: %d %v", code, err)
	}
	if v, _ := f.GetCellValue("年度统计", "A4"); v != "合计" {
		t.Errorf("xlsx total row: %q", v)
	}
	f.Close()
	// 乙's officer: 乙 only.
	viewB := c.login("viewB", []auth.Role{auth.RoleViewer}, c.unitB.ID)
	if _, _, page := viewB.get("/admin/stats?year=2026"); strings.Contains(page, "甲镇工会") || !strings.Contains(page, "1家单位的1名职工") {
		t.Errorf("unit B stats:\n%s", page)
	}
	// The 公示 list: masked names, unit, amount; never the plan or the diagnosis.
	code, _, page = view.get("/admin/stats/public?year=2026")
	if code != 200 || !strings.Contains(page, "<td>张*</td><td>甲镇工会</td><td class=\"num\">3,000.00</td>") ||
		!strings.Contains(page, "李*") || !strings.Contains(page, "2026年度职工医疗互助金发放公示") {
		t.Errorf("public: %d\n%s", code, page)
	}
	for _, bad := range []string{"张三", "李四", "肺炎", "住院", "旗人民医院"} {
		if strings.Contains(page, bad) {
			t.Errorf("public list shows %s", bad)
		}
	}
	// The dashboard carries this year's sentence (the claims clock's year is 2026, as is the server's test data).
	if _, _, home := view.get("/admin/"); !strings.Contains(home, `id="aid-card"`) || !strings.Contains(home, "办理了互助金申领手续") {
		t.Error("dashboard has no mutual-aid card")
	}
	if code, _, _ := view.get("/admin/stats?year=abc"); code != 400 {
		t.Errorf("bad year: %d", code)
	}
}

// TestClaimsConsoleAccess opens each page of this file as each role (county level).
func TestClaimsConsoleAccess(t *testing.T) {
	c := setupClaims(t, newEnv(t, storagetest.Embedded(t), memStore(t)))
	pages := map[string][]auth.Role{
		"/admin/payments":     {auth.RoleAdmin, auth.RoleFinance},
		"/admin/premiums":     {auth.RoleAdmin},
		"/admin/stats":        auth.AllRoles,
		"/admin/stats/public": auth.AllRoles,
	}
	for _, role := range auth.AllRoles {
		b := c.login("who-"+string(role), []auth.Role{role}, 0)
		_, _, home := b.get("/admin/")
		for path, roles := range pages {
			want := 403
			for _, r := range roles {
				if r == role {
					want = 200
				}
			}
			if code, _, _ := b.get(path); code != want {
				t.Errorf("%s %s: %d, want %d", role, path, code, want)
			}
			if inNav := strings.Contains(home, `href="`+path+`"`); inNav != (want == 200) && path != "/admin/stats/public" {
				t.Errorf("%s: %s in navigation: %v", role, path, inNav)
			}
		}
	}
}
