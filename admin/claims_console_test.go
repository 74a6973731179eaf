package admin_test

import (
	"bytes"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"unionbot/admin/auth"
	"unionbot/claims"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// photoPNG is a small real PNG, w×h, filled with c (a photo the viewer can decode).
func photoPNG(t testing.TB, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
			if y < h/4 { // a band on top, so a rotation shows
				img.Set(x, y, color.RGBA{20, 20, 20, 255})
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// addPhoto attaches another photo of kind to claim number (as the member's 补件 would).
func (c *claimsEnv) addPhoto(number, memberNo string, kind claims.DocKind, data []byte) {
	c.t.Helper()
	owner := "oid-" + memberNo
	id, _, err := c.filer.SaveMedia(c.t.Context(), owner, "image/png", data, c.clock.Now().Add(24*3600e9))
	if err != nil {
		c.t.Fatal(err)
	}
	c.clock.Add(3600e9)
	if err := c.filer.AddClaimAttachments(c.t.Context(), number, 0, owner, []storage.AttachmentInput{{Kind: kind, MediaID: id}},
		storage.AuditEntry{Actor: "member:" + owner}); err != nil {
		c.t.Fatal(err)
	}
}

// attachmentIDs are the claim's attachment ids, in order.
func (c *claimsEnv) attachmentIDs(number string) []int64 {
	c.t.Helper()
	cl, err := c.db.ClaimByNumber(c.t.Context(), number)
	if err != nil {
		c.t.Fatal(err)
	}
	var out []int64
	for _, a := range cl.Attachments {
		out = append(out, a.ID)
	}
	return out
}

// TestClaimsConsolePagesMatrix opens the claims pages as every role from the county, the
// claim's unit (甲) and another unit (乙). Expectations come from the contract: the queue, a
// claim and its photos are read by admin, reviewer, finance and viewer, within their unit
// (another unit's claim and photo are 404, as if missing); the rules editor is county
// admins'. A unit's queue lists only its own claims.
func TestClaimsConsolePagesMatrix(t *testing.T) {
	c := setupClaims(t, newEnv(t, storagetest.Embedded(t), memStore(t)))
	a := c.file("A1", "2026-11-01", string(photoPNG(t, 8, 6, color.RGBA{200, 30, 30, 255})))
	b := c.file("B1", "2026-11-02", string(photoPNG(t, 8, 6, color.RGBA{30, 30, 200, 255})))
	photo := fmt.Sprintf("/admin/claims/%s/photos/%d", a, c.attachmentIDs(a)[0])
	reads := map[auth.Role]bool{auth.RoleAdmin: true, auth.RoleReviewer: true, auth.RoleFinance: true, auth.RoleViewer: true}
	scopes := unitScopes(c.unitA.ID, c.unitB.ID)
	for _, role := range auth.AllRoles {
		for _, sc := range scopes {
			name := fmt.Sprintf("p-%s-%d", role, sc.unit)
			c.officer(name, []auth.Role{role}, sc.unit)
			br := c.browser()
			br.mustLogin(name)
			for _, rt := range []struct {
				path   string
				want   int
				record bool
			}{
				{"/admin/claims", 200, false},
				{"/admin/claims/" + a, 200, true},
				{photo, 200, true},
				{"/admin/claim-rules", 200, false},
			} {
				want := 403
				switch {
				case rt.path == "/admin/claim-rules":
					if role == auth.RoleAdmin && sc.unit == 0 {
						want = 200
					}
				case reads[role] && rt.record && sc.unit == c.unitB.ID:
					want = 404
				case reads[role]:
					want = rt.want
				}
				code, _, body := br.get(rt.path)
				if code != want {
					t.Errorf("%s/%s GET %s: %d, want %d", role, sc.name, rt.path, code, want)
				}
				if rt.path == "/admin/claims" && code == 200 {
					wantA, wantB := sc.unit != c.unitB.ID, sc.unit != c.unitA.ID
					if strings.Contains(body, a) != wantA || strings.Contains(body, b) != wantB {
						t.Errorf("%s/%s queue lists %s: %v, %s: %v", role, sc.name, a, strings.Contains(body, a), b, strings.Contains(body, b))
					}
				}
				if rt.path == "/admin/claims" {
					// The nav offers 互助金 to exactly those who may open it.
					_, _, home := br.get("/admin/")
					if strings.Contains(home, `href="/admin/claims"`) != reads[role] {
						t.Errorf("%s/%s: nav entry shown %v", role, sc.name, !reads[role])
					}
				}
			}
		}
	}
}

// TestClaimsConsole: the queue's filters, order and paging; a claim's page (masked member,
// estimate beside the approved amount, rules version, same-invoice warning, history); the
// photo endpoint serves only this claim's photos with the right headers; the transition
// forms make the same storage call as the API, with a clear page for a stale version, an
// illegal move and a missing detail; the rules editor.
func TestClaimsConsole(t *testing.T) {
	c := setupClaims(t, newEnv(t, storagetest.Embedded(t), memStore(t)))
	ctx := t.Context()
	red := photoPNG(t, 8, 6, color.RGBA{200, 30, 30, 255})
	a := c.file("A1", "2026-11-01", string(red))
	c.clock.Add(3600e9)
	a2 := c.file("A2", "2026-11-03", string(red)) // the same invoice photo
	c.clock.Add(3600e9)
	b := c.file("B1", "2026-11-02", "not an image at all")
	c.addPhoto(a, "A1", claims.DocSettlement, photoPNG(t, 6, 8, color.RGBA{30, 160, 30, 255}))
	c.officer("rev", []auth.Role{auth.RoleReviewer}, 0)
	c.officer("revA", []auth.Role{auth.RoleReviewer}, c.unitA.ID)
	c.officer("fin", []auth.Role{auth.RoleFinance}, 0)
	c.officer("boss", []auth.Role{auth.RoleAdmin}, 0)

	rev := c.browser()
	rev.mustLogin("rev")

	// The queue: newest first by default, oldest first on request, filters, paging.
	code, _, body := rev.get("/admin/claims")
	if code != 200 || !(strings.Index(body, b) < strings.Index(body, a2) && strings.Index(body, a2) < strings.Index(body, a)) {
		t.Fatalf("queue newest first: %d %s", code, body)
	}
	for _, want := range []string{"已提交", "住院", "张*", "甲镇工会", "3,200.00"} {
		if !strings.Contains(body, want) {
			t.Errorf("queue lacks %q", want)
		}
	}
	if strings.Contains(body, "张三") {
		t.Error("the queue shows the member's full name")
	}
	_, _, body = rev.get("/admin/claims?order=oldest")
	if !(strings.Index(body, a) < strings.Index(body, a2) && strings.Index(body, a2) < strings.Index(body, b)) {
		t.Error("queue oldest first")
	}
	// The API takes the same order (checked against docs/openapi.yaml).
	code, out := c.json("GET", "/api/v1/claims?order=oldest&limit=2", "/api/v1/claims", c.rev, "")
	if code != 200 || !(strings.Index(out, a) >= 0 && strings.Index(out, a) < strings.Index(out, a2)) || strings.Contains(out, b) {
		t.Errorf("API oldest first: %d %s", code, out)
	}
	if code, out = c.json("GET", "/api/v1/claims?order=sideways", "/api/v1/claims", c.rev, ""); code != 400 || !strings.Contains(out, "order 应为 newest 或 oldest") {
		t.Errorf("API bad order: %d %s", code, out)
	}
	_, _, body = rev.get("/admin/claims?unit=" + url.QueryEscape("乙公司工会"))
	if !strings.Contains(body, b) || strings.Contains(body, a) {
		t.Error("unit filter")
	}
	_, _, body = rev.get("/admin/claims?status=approved")
	if strings.Contains(body, a) || !strings.Contains(body, "没有符合条件的申请") {
		t.Error("status filter")
	}
	_, _, body = rev.get("/admin/claims?plan=accident&year=2026")
	if strings.Contains(body, a) {
		t.Error("plan filter")
	}
	if code, _, body = rev.get("/admin/claims?status=bogus"); code != 400 || !strings.Contains(body, "status 不是有效的申请状态") {
		t.Errorf("bad status: %d", code)
	}
	revA := c.browser()
	revA.mustLogin("revA")
	if _, _, body = revA.get("/admin/claims?unit=" + url.QueryEscape("乙公司工会")); strings.Contains(body, b) {
		t.Error("a unit's reviewer lists another unit's claim by asking for that unit")
	}

	// A claim's page.
	code, _, body = rev.get("/admin/claims/" + a2)
	if code != 200 {
		t.Fatalf("claim page %d", code)
	}
	for _, want := range []string{"李*", "肺炎", "旗人民医院", "2026-11-03 至 2026-11-13", "10,000.00", "6,000.00",
		"示例规则", "发票重复", a, "**** **** **** 5678", "提交申请", "会员本人", "开始审核", "规则预估", "核定金额", "未核定"} {
		if !strings.Contains(body, want) {
			t.Errorf("claim page lacks %q", want)
		}
	}
	if strings.Contains(body, "李四") || strings.Contains(body, "6228480012345678") {
		t.Error("the claim page shows the full name or card")
	}
	// The member's 补件 is in the timeline; photos by document kind.
	_, _, body = rev.get("/admin/claims/" + a)
	if !strings.Contains(body, "补充材料") || strings.Count(body, "data-pv ") != 2 || !strings.Contains(body, `data-caption="住院费用结算单"`) {
		t.Errorf("photos or 补件 step missing: %s", body)
	}

	// Photos: this claim's only, with the headers a sensitive image needs.
	ids := c.attachmentIDs(a)
	resp, got := rev.fetch(fmt.Sprintf("/admin/claims/%s/photos/%d", a, ids[1]))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("Cache-Control") != "private, no-store" ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || !bytes.Equal(got, photoPNG(t, 6, 8, color.RGBA{30, 160, 30, 255})) {
		t.Errorf("photo: %d %v", resp.StatusCode, resp.Header)
	}
	idsB := c.attachmentIDs(b)
	for _, path := range []string{
		fmt.Sprintf("/admin/claims/%s/photos/%d", a, idsB[0]), // another claim's photo through this claim
		fmt.Sprintf("/admin/claims/%s/photos/%d", a2, ids[0]), // a photo with the same content, of another claim
		fmt.Sprintf("/admin/claims/%s/photos/999999", a),      // no such attachment
		fmt.Sprintf("/admin/claims/%s/photos/x", a),           // not an id
		fmt.Sprintf("/admin/claims/HZ00000000-0000/photos/%d", ids[0]),
	} {
		if code, _, _ := rev.get(path); code != 404 {
			t.Errorf("%s: %d, want 404", path, code)
		}
	}
	if code, _, _ := revA.get(fmt.Sprintf("/admin/claims/%s/photos/%d", b, idsB[0])); code != 404 {
		t.Errorf("unit A reviewer on unit B's photo: %d", code)
	}
	// A stored medium that is not an image is never rendered by the browser.
	resp, _ = rev.fetch(fmt.Sprintf("/admin/claims/%s/photos/%d", b, idsB[0]))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/octet-stream" || resp.Header.Get("Content-Disposition") != "attachment" {
		t.Errorf("non-image: %d %v", resp.StatusCode, resp.Header)
	}
	if code, loc, _ := c.browser().get(fmt.Sprintf("/admin/claims/%s/photos/%d", a, ids[0])); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/login") {
		t.Errorf("photo without a session: %d %s", code, loc)
	}

	// Transitions through the forms.
	move := func(br *browser, number string, f url.Values) (int, string, string) {
		t.Helper()
		return br.post("/admin/claims/"+number+"/transitions", f)
	}
	if code, loc, _ := move(rev, a, url.Values{"to": {"reviewing"}, "version": {"1"}}); code != http.StatusSeeOther || loc != "/admin/claims/"+a {
		t.Fatalf("start review: %d %s", code, loc)
	}
	_, _, body = rev.get("/admin/claims/" + a)
	if !strings.Contains(body, "申请已改为「审核中」，会员会收到通知") || !strings.Contains(body, `value="3200"`) {
		t.Errorf("after start: flash or prefilled estimate missing")
	}
	if !strings.Contains(body, `<option value="discharge_summary" selected>`) {
		t.Error("补件 does not offer the first missing document")
	}
	// The same form again: stale.
	code, _, body = move(rev, a, url.Values{"to": {"reviewing"}, "version": {"1"}})
	if code != http.StatusConflict || !strings.Contains(body, "该记录已被他人处理，请刷新后按最新状态重试") {
		t.Errorf("stale: %d", code)
	}
	// A detail missing or unreadable: the page says what, and keeps what was typed.
	code, _, body = move(rev, a, url.Values{"to": {"rejected"}, "version": {"2"}, "reason": {"  "}})
	if code != 422 || !strings.Contains(body, "须填写原因") {
		t.Errorf("reject without reason: %d", code)
	}
	code, _, body = move(rev, a, url.Values{"to": {"approved"}, "version": {"2"}, "amount": {"三千多"}})
	if code != 422 || !strings.Contains(body, "核定金额：") || !strings.Contains(body, `value="三千多"`) {
		t.Errorf("bad amount: %d", code)
	}
	// 补件 names the document kind and the reviewer's words.
	if code, _, body = move(rev, a, url.Values{"to": {"need_more"}, "version": {"2"}, "missing_doc": {"invoice"}, "missing": {"第2页不清楚"}}); code != 303 {
		t.Fatalf("need more: %d %s", code, body)
	}
	cl, _ := c.db.ClaimByNumber(ctx, a)
	if cl.Missing != "医疗费发票：第2页不清楚" {
		t.Errorf("missing: %q", cl.Missing)
	}
	if _, _, body = rev.get("/admin/claims/" + a); !strings.Contains(body, "正在等会员补充：医疗费发票：第2页不清楚") || !strings.Contains(body, "材料已收到，继续审核") {
		t.Error("need_more page")
	}
	// Illegal: the form of a move the table does not have (an old page) is 422.
	code, _, body = move(rev, a, url.Values{"to": {"approved"}, "version": {"3"}, "amount": {"100"}})
	if code != 422 || !strings.Contains(body, "申请当前为「待补充材料」，不能改为「审核通过」") {
		t.Errorf("illegal: %d", code)
	}
	c.mustMove(a, c.rev, `{"to":"reviewing","version":3}`)
	if code, _, body = move(rev, a, url.Values{"to": {"approved"}, "version": {"4"}, "amount": {"3,150.50元"}}); code != 303 {
		t.Fatalf("approve: %d %s", code, body)
	}
	cl, _ = c.db.ClaimByNumber(ctx, a)
	if cl.Status != claims.Approved || cl.ApprovedAmount != 315050 || cl.History[len(cl.History)-1].Actor != "officer:rev" {
		t.Errorf("approved: %s %v %+v", cl.Status, cl.ApprovedAmount, cl.History)
	}
	if m, err := c.db.OutboxByKey(ctx, "claim:"+a+":v5"); err != nil || !strings.Contains(m.Content.Text, "3150.50") {
		t.Errorf("the member's notice: %+v %v", m, err)
	}
	_, _, body = rev.get("/admin/claims/" + a)
	if !strings.Contains(body, "比预估少 49.50 元") || strings.Contains(body, `id="actions"`) {
		t.Error("approved page: the difference, or forms a reviewer cannot use")
	}
	// A reviewer may not mark it paid (403); finance may, and sees its forms.
	if code, _, _ = move(rev, a, url.Values{"to": {"paid"}, "version": {"5"}, "payment_ref": {"X1"}}); code != 403 {
		t.Errorf("reviewer marks paid: %d", code)
	}
	fin := c.browser()
	fin.mustLogin("fin")
	if _, _, body = fin.get("/admin/claims/" + a); !strings.Contains(body, "标记已发放") || !strings.Contains(body, "标记发放失败") || strings.Contains(body, "不予通过") {
		t.Error("finance forms")
	}
	if code, _, _ = move(fin, a, url.Values{"to": {"paid"}, "version": {"5"}, "payment_ref": {"ABC-123"}}); code != 303 {
		t.Errorf("finance pays: %d", code)
	}
	if cl, _ = c.db.ClaimByNumber(ctx, a); cl.Status != claims.Paid || cl.PaymentRef != "ABC-123" {
		t.Errorf("paid: %+v", cl)
	}
	// Another unit's reviewer cannot move it (404); without the form token nothing happens.
	if code, _, _ = move(revA, b, url.Values{"to": {"reviewing"}, "version": {"1"}}); code != 404 {
		t.Errorf("unit A on unit B's claim: %d", code)
	}
	if code, _, _ = rev.do("POST", "/admin/claims/"+b+"/transitions", url.Values{"to": {"reviewing"}, "version": {"1"}}, nil); code != 403 {
		t.Errorf("no csrf: %d", code)
	}

	// The rules editor: the example marker until an admin saves; the API's validation.
	boss := c.browser()
	boss.mustLogin("boss")
	code, _, body = boss.get("/admin/claim-rules")
	if code != 200 || !strings.Contains(body, `id="rules-example"`) || !strings.Contains(body, `value="5000"`) || !strings.Contains(body, `value="200"`) {
		t.Fatalf("rules page %d", code)
	}
	form := url.Values{"version": {"0"}, "waiting_days": {"30"}, "claim_window_days": {"90"}, "deductible": {"500"},
		"min_per_stay": {"200"}, "per_claim_cap": {"0"}, "per_year_cap": {"80,000"}, "allowance_max_days": {"60"},
		"band_up_to": {"10000", "", ""}, "band_ratio": {"60", "70", ""},
		"allowance_years": {"0", "10", ""}, "allowance_per_day": {"15", "30", ""}}
	bad := func(key, value, want string, status int) {
		t.Helper()
		f := url.Values{}
		for k, v := range form {
			f[k] = append([]string(nil), v...)
		}
		f.Set(key, value)
		code, _, body := boss.post("/admin/claim-rules", f)
		if code != status || !strings.Contains(body, want) || (key != "version" && !strings.Contains(body, `value="`+value+`"`)) {
			t.Errorf("%s=%q: %d, want %d and %q", key, value, code, status, want)
		}
	}
	bad("deductible", "五百块钱吧", "「起付线」不是有效的金额", 422)
	bad("waiting_days", "一个月", "「观察期」应为整数天数", 422)
	bad("band_ratio", "150", "第 1 段的报销比例须在 0 到 100 之间", 422) // claims.Rules.Validate, as the API
	bad("version", "7", "已被他人处理", 409)
	if code, loc, body := boss.post("/admin/claim-rules", form); code != 303 || loc != "/admin/claim-rules" {
		t.Fatalf("save rules: %d %s", code, body)
	}
	rs, _ := c.db.ClaimRules(ctx)
	want := claims.Rules{WaitingDays: 30, ClaimWindowDays: 90, Deductible: claims.Yuan(500), MinPerStay: claims.Yuan(200),
		PerYearCap: claims.Yuan(80000), AllowanceMaxDays: 60, Bands: []claims.Band{{UpTo: claims.Yuan(10000), RatioPct: 60}, {RatioPct: 70}},
		Allowance: []claims.AllowanceTier{{MinYears: 0, PerDay: claims.Yuan(15)}, {MinYears: 10, PerDay: claims.Yuan(30)}}}
	if rs.Version != 1 || rs.ConfirmedBy != "boss" || fmt.Sprint(rs.Rules) != fmt.Sprint(want) {
		t.Errorf("saved rules: v%d %s %+v", rs.Version, rs.ConfirmedBy, rs.Rules)
	}
	_, _, body = boss.get("/admin/claim-rules")
	if strings.Contains(body, `id="rules-example"`) || !strings.Contains(body, "第 1 版") || !strings.Contains(body, "规则已保存") {
		t.Error("rules page after saving")
	}
	// A claim filed now records the new version; its page names it.
	n := c.file("B1", "2026-11-20", "another invoice")
	if _, _, body = rev.get("/admin/claims/" + n); !strings.Contains(body, "第 1 版规则") {
		t.Error("rules version on the claim page")
	}
	if es, _ := c.db.AuditLog(ctx, storage.AuditFilter{Action: "claim.view", Limit: 500}); len(es) == 0 || es[0].Actor != "officer:rev" {
		t.Errorf("views are not audited: %+v", es)
	}
}

// TestClaimsQueuePaging: a page holds 30 claims; the next page's link keeps the filters and
// the order and lists the rest, none twice.
func TestClaimsQueuePaging(t *testing.T) {
	c := setupClaims(t, newEnv(t, storagetest.Embedded(t), memStore(t)))
	var filed []string
	for i := range 31 {
		filed = append(filed, c.file("A1", fmt.Sprintf("2026-%02d-%02d", 1+i/28, 1+i%28), fmt.Sprintf("invoice %d", i)))
	}
	c.officer("rev", []auth.Role{auth.RoleReviewer}, 0)
	rev := c.browser()
	rev.mustLogin("rev")
	rows := regexp.MustCompile(`data-number="([^"]+)"`)
	next := regexp.MustCompile(`href="/admin/claims\?([^"]+)" id="next-page"`)
	_, _, body := rev.get("/admin/claims?status=submitted&order=oldest")
	var seen []string
	for _, m := range rows.FindAllStringSubmatch(body, -1) {
		seen = append(seen, m[1])
	}
	m := next.FindStringSubmatch(body)
	if len(seen) != 30 || m == nil {
		t.Fatalf("first page: %d rows, next %v", len(seen), m)
	}
	q, _ := url.ParseQuery(html.UnescapeString(m[1]))
	if q.Get("status") != "submitted" || q.Get("order") != "oldest" || q.Get("cursor") == "" {
		t.Errorf("next link: %v", q)
	}
	_, _, body = rev.get("/admin/claims?" + html.UnescapeString(m[1]))
	for _, m := range rows.FindAllStringSubmatch(body, -1) {
		seen = append(seen, m[1])
	}
	if strings.Join(seen, " ") != strings.Join(filed, " ") || next.MatchString(body) {
		t.Errorf("pages: %v, want %v", seen, filed)
	}
}
