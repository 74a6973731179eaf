package admin_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"unionbot/admin/auth"
	"unionbot/claims"
	"unionbot/internal/testclock"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// claimsEnv is the console on real storage with claims filed through storage on a clock
// standing at 2026-11-24 10:00 in China, and a token per role.
type claimsEnv struct {
	*env
	filer                     *storage.DB // e.db on the test clock
	clock                     *testclock.Clock
	doc                       *openapi3.T
	rev, fin, adm, view, revB string
	finB, unitAdm, revFinAd   string
}

func setupClaims(t *testing.T, e *env) *claimsEnv {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := &claimsEnv{env: e, clock: testclock.New(time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)), doc: doc}
	c.filer = e.db.WithClock(c.clock.Now)
	c.rev = e.token("rev", []auth.Role{auth.RoleReviewer}, 0)
	c.fin = e.token("fin", []auth.Role{auth.RoleFinance}, 0)
	c.adm = e.token("adm", []auth.Role{auth.RoleAdmin}, 0)
	c.view = e.token("view", []auth.Role{auth.RoleViewer}, 0)
	c.revB = e.token("revB", []auth.Role{auth.RoleReviewer}, e.unitB.ID)
	c.finB = e.token("finB", []auth.Role{auth.RoleFinance}, e.unitB.ID)
	c.unitAdm = e.token("admA", []auth.Role{auth.RoleAdmin}, e.unitA.ID)
	c.revFinAd = e.token("all", []auth.Role{auth.RoleAdmin, auth.RoleReviewer, auth.RoleFinance}, 0)
	return c
}

// file submits a hospital claim of memberNo admitted on admitted (10 days, 6000 out of
// pocket) with an invoice photo of content invoice.
func (c *claimsEnv) file(memberNo, admitted, invoice string) string {
	c.t.Helper()
	ctx := c.t.Context()
	m, err := c.db.MemberByNo(ctx, memberNo)
	if err != nil {
		c.t.Fatal(err)
	}
	owner := "oid-" + memberNo
	inv, _, err := c.filer.SaveMedia(ctx, owner, "image/jpeg", []byte(invoice), time.Time{})
	if err != nil {
		c.t.Fatal(err)
	}
	adm, _ := time.Parse(time.DateOnly, admitted)
	res, err := c.filer.SubmitClaim(ctx, storage.ClaimInput{
		MemberID: m.ID, Plan: claims.Hospital, Hospital: "旗人民医院", AdmittedOn: adm, DischargedOn: adm.AddDate(0, 0, 10),
		Diagnosis: "肺炎", TotalCost: claims.Yuan(10000), InsurancePaid: claims.Yuan(4000), OutOfPocket: claims.Yuan(6000),
		BankName: "农业银行", BankCard: "6228480012345678", MediaOwner: owner,
		Attachments: []storage.AttachmentInput{{Kind: claims.DocInvoice, MediaID: inv}},
	}, storage.AuditEntry{Actor: "member:" + owner})
	if err != nil {
		c.t.Fatal(err)
	}
	return res.Claim.Number
}

// call sends a request and checks the answer against docs/openapi.yaml (operation
// pattern), then returns the status and the raw body.
func (c *claimsEnv) call(method, path, pattern, token, contentType string, body []byte) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.srv.URL+path, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	item := c.doc.Paths.Value(pattern)
	if item == nil || item.GetOperation(method) == nil {
		c.t.Fatalf("%s %s is not documented", method, pattern)
	}
	route := &routers.Route{Spec: c.doc, Path: pattern, PathItem: item, Method: method, Operation: item.GetOperation(method)}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(raw)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json")},
	}
	if err := openapi3filter.ValidateResponse(c.t.Context(), in); err != nil {
		c.t.Errorf("%s %s: answer does not match docs/openapi.yaml: %v\n%s", method, path, err, raw)
	}
	return resp.StatusCode, string(raw)
}

func (c *claimsEnv) json(method, path, pattern, token, body string) (int, string) {
	c.t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	return c.call(method, path, pattern, token, ct, []byte(body))
}

// move posts a transition and returns the status and body.
func (c *claimsEnv) move(number, token, body string) (int, string) {
	c.t.Helper()
	return c.json("POST", "/api/v1/claims/"+number+"/transitions", "/api/v1/claims/{number}/transitions", token, body)
}

func (c *claimsEnv) mustMove(number, token, body string) {
	c.t.Helper()
	if code, out := c.move(number, token, body); code != 200 {
		c.t.Fatalf("%s %s: %d %s", number, body, code, out)
	}
}

func TestClaimsAPITransitions(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			db, store := be.open(t)
			c := setupClaims(t, newEnv(t, db, store))
			n := c.file("A1", "2026-11-01", "invoice 1")

			// From each status the claim passes through, every target not in the table is
			// 422 even for a principal holding every role.
			legal := map[claims.Status][]claims.Status{
				claims.Submitted:     {claims.Reviewing},
				claims.Reviewing:     {claims.NeedMore, claims.Approved, claims.Rejected},
				claims.NeedMore:      {claims.Reviewing},
				claims.Approved:      {claims.Paid, claims.PaymentFailed},
				claims.PaymentFailed: {claims.Approved},
				claims.Paid:          nil,
				claims.Rejected:      nil,
			}
			targets := []claims.Status{claims.Reviewing, claims.NeedMore, claims.Approved, claims.Rejected, claims.Paid, claims.PaymentFailed, claims.Withdrawn}
			version := 1
			illegalFrom := func(number string, from claims.Status, v int) {
				t.Helper()
				for _, to := range targets {
					isLegal := false
					for _, l := range legal[from] {
						isLegal = isLegal || l == to
					}
					if isLegal {
						continue
					}
					body := fmt.Sprintf(`{"to":%q,"version":%d,"amount":"1.00","reason":"r","missing":"m","payment_ref":"p"}`, to, v)
					code, out := c.move(number, c.revFinAd, body)
					want := 422
					if to == claims.Withdrawn && from == claims.Submitted {
						want = 403 // only the member withdraws
					}
					if code != want {
						t.Errorf("%s → %s: %d %s, want %d", from, to, code, out, want)
					}
				}
			}
			step := func(from claims.Status, token, body string) {
				t.Helper()
				illegalFrom(n, from, version)
				c.mustMove(n, token, fmt.Sprintf(body, version))
				version++
			}
			// Wrong roles on legal transitions: 403.
			for _, tc := range []struct{ token, body string }{
				{c.fin, `{"to":"reviewing","version":1}`},
				{c.view, `{"to":"reviewing","version":1}`},
			} {
				if code, out := c.move(n, tc.token, tc.body); code != 403 {
					t.Errorf("%s: %d %s", tc.body, code, out)
				}
			}
			// Another unit's reviewer does not see the claim; bad bodies are 400.
			if code, _ := c.move(n, c.revB, `{"to":"reviewing","version":1}`); code != 404 {
				t.Errorf("another unit: %d", code)
			}
			for _, body := range []string{`{"to":"reviewing"}`, `{"to":"bogus","version":1}`, `{"to":"approved","version":1,"amount":100}`, `{"to":`} {
				if code, out := c.move(n, c.rev, body); code != 400 {
					t.Errorf("%s: %d %s", body, code, out)
				}
			}
			step(claims.Submitted, c.rev, `{"to":"reviewing","version":%d}`)
			if code, _ := c.move(n, c.rev, `{"to":"need_more","version":1}`); code != 409 {
				t.Errorf("stale version: %d", code)
			}
			if code, _ := c.move(n, c.rev, fmt.Sprintf(`{"to":"need_more","version":%d}`, version)); code != 422 {
				t.Errorf("need_more without what: %d", code)
			}
			step(claims.Reviewing, c.rev, `{"to":"need_more","version":%d,"missing":"出院小结"}`)
			step(claims.NeedMore, c.rev, `{"to":"reviewing","version":%d}`)
			if code, _ := c.move(n, c.rev, fmt.Sprintf(`{"to":"approved","version":%d}`, version)); code != 422 {
				t.Errorf("approved without amount: %d", code)
			}
			if code, _ := c.move(n, c.fin, fmt.Sprintf(`{"to":"approved","version":%d,"amount":"3000.00"}`, version)); code != 403 {
				t.Errorf("finance approves: %d", code)
			}
			step(claims.Reviewing, c.adm, `{"to":"approved","version":%d,"amount":"3300.00"}`)
			if code, _ := c.move(n, c.rev, fmt.Sprintf(`{"to":"paid","version":%d,"payment_ref":"B1"}`, version)); code != 403 {
				t.Errorf("reviewer pays: %d", code)
			}
			if code, _ := c.move(n, c.adm, fmt.Sprintf(`{"to":"paid","version":%d,"payment_ref":"B1"}`, version)); code != 403 {
				t.Errorf("admin pays: %d", code)
			}
			step(claims.Approved, c.fin, `{"to":"payment_failed","version":%d,"reason":"户名不符"}`)
			step(claims.PaymentFailed, c.fin, `{"to":"approved","version":%d}`)
			step(claims.Approved, c.fin, `{"to":"paid","version":%d,"payment_ref":"B20261201"}`)
			illegalFrom(n, claims.Paid, version)

			code, out := c.json("GET", "/api/v1/claims/"+n, "/api/v1/claims/{number}", c.view, "")
			for _, want := range []string{`"status":"paid"`, `"approved_amount":"3300.00"`, `"payment_ref":"B20261201"`, `"estimate":"3200.00"`, // no join date: 0 years, 10 元 a day

				`"bank_card_masked":"**** **** **** 5678"`, `"allowed_transitions":[]`, `"missing":"出院小结"`, `"kind":"invoice"`} {
				if code != 200 || !strings.Contains(out, want) {
					t.Errorf("detail lacks %s: %d %s", want, code, out)
				}
			}
			if strings.Contains(out, "6228480012345678") {
				t.Error("detail reveals the card")
			}

			// The rejection path.
			r := c.file("A2", "2026-11-02", "invoice 2")
			c.mustMove(r, c.rev, `{"to":"reviewing","version":1}`)
			if code, _ := c.move(r, c.rev, `{"to":"rejected","version":2}`); code != 422 {
				t.Errorf("rejected without reason: %d", code)
			}
			c.mustMove(r, c.rev, `{"to":"rejected","version":2,"reason":"不在保障范围"}`)
			illegalFrom(r, claims.Rejected, 3)

			// Lists: filters and unit scoping.
			b := c.file("B1", "2026-11-03", "invoice 3")
			for _, tc := range []struct {
				path, token string
				want        []string
			}{
				{"/api/v1/claims", c.view, []string{b, r, n}},
				{"/api/v1/claims?status=paid", c.rev, []string{n}},
				{"/api/v1/claims?unit=%E7%94%B2%E9%95%87%E5%B7%A5%E4%BC%9A", c.rev, []string{r, n}},
				{"/api/v1/claims", c.revB, []string{b}},
				{"/api/v1/claims?unit=%E7%94%B2%E9%95%87%E5%B7%A5%E4%BC%9A", c.revB, nil},
				{"/api/v1/claims?plan=accident", c.rev, nil},
				{"/api/v1/claims?year=2025", c.rev, nil},
				{"/api/v1/claims?year=2026&limit=2", c.rev, []string{b, r}},
			} {
				code, out := c.json("GET", tc.path, "/api/v1/claims", tc.token, "")
				got := strings.Count(out, `"number":`)
				if code != 200 || got != len(tc.want) {
					t.Errorf("%s: %d, %d items: %s", tc.path, code, got, out)
				}
				for _, w := range tc.want {
					if !strings.Contains(out, w) {
						t.Errorf("%s lacks %s", tc.path, w)
					}
				}
			}
			for _, bad := range []string{"?status=x", "?plan=x", "?year=26", "?cursor=x"} {
				if code, _ := c.json("GET", "/api/v1/claims"+bad, "/api/v1/claims", c.rev, ""); code != 400 {
					t.Errorf("%s: %d", bad, code)
				}
			}
			if code, _ := c.json("GET", "/api/v1/claims", "/api/v1/claims", e2tok(c, auth.RoleLegal), ""); code != 403 {
				t.Errorf("legal reads claims: %d", code)
			}
			if code, _ := c.json("GET", "/api/v1/claims/"+n, "/api/v1/claims/{number}", c.revB, ""); code != 404 {
				t.Errorf("another unit's claim: %d", code)
			}
		})
	}
}

// e2tok makes a county-level token with one role.
func e2tok(c *claimsEnv, role auth.Role) string {
	return c.token("t-"+string(role), []auth.Role{role}, 0)
}

func TestClaimsAPIConcurrentApprovals(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			db, store := be.open(t)
			c := setupClaims(t, newEnv(t, db, store))
			for round := range 3 {
				n := c.file("A1", fmt.Sprintf("2026-10-%02d", round+1), fmt.Sprint("inv", round))
				c.mustMove(n, c.rev, `{"to":"reviewing","version":1}`)
				var wg sync.WaitGroup
				codes := make([]int, 2)
				for i := range codes {
					wg.Go(func() {
						codes[i], _ = c.move(n, c.rev, fmt.Sprintf(`{"to":"approved","version":2,"amount":"%d.00"}`, 100+i))
					})
				}
				wg.Wait()
				if !(codes[0] == 200 && codes[1] == 409 || codes[0] == 409 && codes[1] == 200) {
					t.Errorf("round %d: %v, want one 200 and one 409", round, codes)
				}
			}
		})
	}
}

func TestClaimRulesAPI(t *testing.T) {
	c := setupClaims(t, newEnv(t, storagetest.Embedded(t), memStore(t)))
	code, out := c.json("GET", "/api/v1/claim-rules", "/api/v1/claim-rules", c.rev, "")
	if code != 200 || !strings.Contains(out, `"example":true`) || !strings.Contains(out, `"min_per_stay":"200.00"`) || !strings.Contains(out, `"version":0`) {
		t.Fatalf("example rules: %d %s", code, out)
	}
	rules := `{"waiting_days":30,"claim_window_days":90,"deductible":"500.00","bands":[{"up_to":"0.00","ratio_pct":60}],
"per_claim_cap":"0.00","per_year_cap":"50000.00","hospital_allowance":[{"min_years":0,"per_day":"15.00"}],"allowance_max_days":0,"min_per_stay":"200.00"}`
	for _, tc := range []struct {
		token, body string
		want        int
	}{
		{c.rev, `{"version":0,"rules":` + rules + `}`, 403},
		{c.unitAdm, `{"version":0,"rules":` + rules + `}`, 403},
		{c.adm, `{"rules":` + rules + `}`, 400},
		{c.adm, `{"version":0,"rules":{"bands":[]}}`, 422},
		{c.adm, `{"version":0,"rules":` + strings.Replace(rules, `"ratio_pct":60`, `"ratio_pct":160`, 1) + `}`, 422},
		{c.adm, `{"version":0,"rules":` + rules + `}`, 200},
		{c.adm, `{"version":0,"rules":` + rules + `}`, 409},
	} {
		if code, out := c.json("PUT", "/api/v1/claim-rules", "/api/v1/claim-rules", tc.token, tc.body); code != tc.want {
			t.Errorf("PUT %s as %s: %d %s, want %d", tc.body[:20], tc.token[:8], code, out, tc.want)
		}
	}
	code, out = c.json("GET", "/api/v1/claim-rules", "/api/v1/claim-rules", c.view, "")
	if code != 200 || !strings.Contains(out, `"example":false`) || !strings.Contains(out, `"confirmed_by":"adm"`) || !strings.Contains(out, `"version":1`) {
		t.Errorf("saved rules: %d %s", code, out)
	}
	// A claim filed now carries version 1 and its estimate: 6000-500 = 5500 × 60% = 3300 + 10 × 15 = 3450.
	n := c.file("A1", "2026-11-01", "inv")
	if code, out := c.json("GET", "/api/v1/claims/"+n, "/api/v1/claims/{number}", c.rev, ""); code != 200 || !strings.Contains(out, `"rules_version":1`) || !strings.Contains(out, `"estimate":"3450.00"`) {
		t.Errorf("claim under saved rules: %s", out)
	}
}

// yearlyClaims files the fixture of TestYearlyStatsAPI: 甲 A1 paid 3000, A2 approved then
// payment failed 1200, 乙 B1 filed; premiums 甲 500.00, 乙 80.50.
func yearlyClaims(t *testing.T, c *claimsEnv) {
	t.Helper()
	for _, p := range []string{`{"unit":"甲镇工会","year":2026,"amount":"500.00"}`, `{"unit":"乙公司工会","year":2026,"amount":"80.50"}`} {
		if code, out := c.json("PUT", "/api/v1/premiums", "/api/v1/premiums", c.adm, p); code != 200 {
			t.Fatalf("premium: %d %s", code, out)
		}
	}
	a1 := c.file("A1", "2026-11-01", "i1")
	c.mustMove(a1, c.rev, `{"to":"reviewing","version":1}`)
	c.mustMove(a1, c.rev, `{"to":"approved","version":2,"amount":"3000.00"}`)
	c.mustMove(a1, c.fin, `{"to":"paid","version":3,"payment_ref":"B1"}`)
	a2 := c.file("A2", "2026-11-02", "i2")
	c.mustMove(a2, c.rev, `{"to":"reviewing","version":1}`)
	c.mustMove(a2, c.rev, `{"to":"approved","version":2,"amount":"1200.00"}`)
	c.mustMove(a2, c.fin, `{"to":"payment_failed","version":3,"reason":"卡号错误"}`)
	c.file("B1", "2026-11-03", "i3")
}

func TestYearlyStatsAPI(t *testing.T) {
	c := setupClaims(t, newEnv(t, storagetest.Embedded(t), memStore(t)))
	yearlyClaims(t, c)
	if code, _ := c.json("PUT", "/api/v1/premiums", "/api/v1/premiums", c.rev, `{"unit":"甲镇工会","year":2026,"amount":"1.00"}`); code != 403 {
		t.Errorf("reviewer sets premium: %d", code)
	}
	if code, _ := c.json("PUT", "/api/v1/premiums", "/api/v1/premiums", c.adm, `{"unit":"无此工会","year":2026,"amount":"1.00"}`); code != 404 {
		t.Errorf("unknown unit: %d", code)
	}
	// By hand: 甲 enrolled A1, A2 (2 in 2026); 乙 B1 (1). 甲: 2 claims, 2 claimants, approved
	// 3000 + 1200 = 4200, paid 1 claim 3000. 乙: 1 claim, nothing approved. Total: 3 enrolled,
	// premiums 580.50, 3 claims, 3 claimants, approved 4200, paid 3000, 2 units with claims.
	code, out := c.json("GET", "/api/v1/stats/yearly?year=2026", "/api/v1/stats/yearly", c.view, "")
	for _, want := range []string{
		`{"unit":"乙公司工会","enrolled":1,"premiums":"80.50","claims":1,"claimants":1,"approved":"0.00","paid_claims":0,"paid":"0.00","legal_cases":0}`,
		`{"unit":"甲镇工会","enrolled":2,"premiums":"500.00","claims":2,"claimants":2,"approved":"4200.00","paid_claims":1,"paid":"3000.00","legal_cases":0}`,
		`"total":{"unit":"合计","enrolled":3,"premiums":"580.50","claims":3,"claimants":3,"approved":"4200.00","paid_claims":1,"paid":"3000.00","legal_cases":0}`,
		`"units_with_claims":2`, `2026年度，2家单位的3名职工办理了互助金申领手续，共发放互助金3,000元。`,
	} {
		if code != 200 || !strings.Contains(out, want) {
			t.Errorf("yearly lacks %s:\n%s", want, out)
		}
	}
	// A unit's officer sees the unit's figures only.
	code, out = c.json("GET", "/api/v1/stats/yearly?year=2026", "/api/v1/stats/yearly", c.revB, "")
	if code != 200 || strings.Contains(out, "甲镇工会") || !strings.Contains(out, `"claims":1,"claimants":1`) {
		t.Errorf("unit figures: %s", out)
	}
	if code, _ := c.json("GET", "/api/v1/stats/yearly?year=x", "/api/v1/stats/yearly", c.view, ""); code != 400 {
		t.Errorf("bad year: %d", code)
	}
	code, out = c.json("GET", "/api/v1/stats/public-list?year=2026", "/api/v1/stats/public-list", c.view, "")
	if code != 200 || out != `{"items":[{"name":"张*","unit":"甲镇工会","amount":"3000.00"},{"name":"李*","unit":"甲镇工会","amount":"1200.00"}]}`+"\n" {
		t.Errorf("public list: %d %s", code, out)
	}
	if strings.Contains(out, "肺炎") || strings.Contains(out, "hospital") {
		t.Error("public list shows medical details")
	}

	// The workbook.
	code, raw := c.call("GET", "/api/v1/stats/yearly?year=2026&format=xlsx", "/api/v1/stats/yearly", c.view, "", nil)
	if code != 200 {
		t.Fatalf("xlsx: %d", code)
	}
	f, err := excelize.OpenReader(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("open xlsx: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows("年度统计", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"基层工会", "参保人数", "缴费金额（元）", "申领件数", "申领人数", "核准金额（元）", "已发放件数", "已发放金额（元）", "法律援助件数"},
		{"乙公司工会", "1", "80.5", "1", "1", "0", "0", "0", "0"},
		{"甲镇工会", "2", "500", "2", "2", "4200", "1", "3000", "0"},
		{"合计", "3", "580.5", "3", "3", "4200", "1", "3000", "0"},
	}
	for i, w := range want {
		if i >= len(rows) || strings.Join(rows[i], "|") != strings.Join(w, "|") {
			t.Errorf("sheet row %d: got %v, want %v", i+1, rows[min(i, len(rows)-1)], w)
		}
	}
	if last := rows[len(rows)-1]; len(last) != 1 || !strings.Contains(last[0], "2家单位的3名职工") {
		t.Errorf("summary row: %v", last)
	}
	if v, _ := f.GetCellValue("年度统计", "H3"); v != "3,000.00" {
		t.Errorf("formatted money cell: %q", v)
	}
	pub, err := f.GetRows("公示名单")
	if err != nil || len(pub) != 3 || strings.Join(pub[1], "|") != "张*|甲镇工会|3,000.00" {
		t.Errorf("public sheet: %v %v", pub, err)
	}
}

// upload posts a payment result file.
func (c *claimsEnv) upload(token, name string, data []byte) (int, string) {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	return c.call("POST", "/api/v1/payments/results", "/api/v1/payments/results", token, mw.FormDataContentType(), buf.Bytes())
}

func TestPaymentResultsAPI(t *testing.T) {
	c := setupClaims(t, newEnv(t, storagetest.Embedded(t), memStore(t)))
	approve := func(member, admitted string) string {
		n := c.file(member, admitted, "inv "+member+admitted)
		c.mustMove(n, c.rev, `{"to":"reviewing","version":1}`)
		c.mustMove(n, c.rev, `{"to":"approved","version":2,"amount":"800.00"}`)
		return n
	}
	a, b, x := approve("A1", "2026-11-01"), approve("A2", "2026-11-02"), approve("B1", "2026-11-03")
	pending := c.file("A1", "2026-11-05", "pending")
	csvText := "申请编号,结果,流水号,原因\n" +
		a + ",成功,BK0001,\n" +
		b + ",失败,,户名不符\n" +
		pending + ",成功,BK0003,\n" +
		"HZ19990101-0001,成功,BK0004,\n" +
		x + ",未知,,\n" +
		",,,\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(csvText)
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := c.upload(c.rev, "r.csv", []byte(gbk)); code != 403 {
		t.Errorf("reviewer uploads: %d", code)
	}
	code, out := c.upload(c.fin, "result.csv", []byte(gbk))
	if code != 200 || !strings.Contains(out, `"paid":1,"failed":1,"unchanged":0`) ||
		!strings.Contains(out, `{"row":4,"number":"`+pending+`","reason":"申请当前为「已提交」，不能改为「已发放」"}`) ||
		!strings.Contains(out, `{"row":5,"number":"HZ19990101-0001"`) || !strings.Contains(out, `{"row":6,"number":"`+x+`","reason":"结果应为「成功」或「失败」"}`) {
		t.Errorf("csv: %d %s", code, out)
	}
	// The same file again changes nothing.
	if code, out := c.upload(c.fin, "result.csv", []byte(gbk)); code != 200 || !strings.Contains(out, `"paid":0,"failed":0,"unchanged":2`) {
		t.Errorf("again: %d %s", code, out)
	}
	_, detail := c.json("GET", "/api/v1/claims/"+a, "/api/v1/claims/{number}", c.fin, "")
	if !strings.Contains(detail, `"status":"paid"`) || !strings.Contains(detail, `"payment_ref":"BK0001"`) {
		t.Errorf("paid claim: %s", detail)
	}
	// XLSX, by a finance officer of 乙: its own claim only.
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"银行回盘"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"申请编号", "结果", "流水号", "原因"})
	f.SetSheetRow("Sheet1", "A3", &[]any{x, "成功", "BK0009", ""})
	f.SetSheetRow("Sheet1", "A4", &[]any{b, "成功", "BK0010", ""})
	var buf bytes.Buffer
	f.Write(&buf)
	code, out = c.upload(c.finB, "result.xlsx", buf.Bytes())
	if code != 200 || !strings.Contains(out, `"paid":1`) || !strings.Contains(out, `{"row":4,"number":"`+b+`","reason":"未找到该申请，或它不在您的管辖范围内"}`) {
		t.Errorf("xlsx: %d %s", code, out)
	}
	if code, _ := c.upload(c.fin, "x.csv", []byte("a,b\n1,2\n")); code != 400 {
		t.Errorf("no header: %d", code)
	}
}

func TestPaymentListAPI(t *testing.T) {
	c := setupClaims(t, newEnv(t, storagetest.Embedded(t), memStore(t)))
	for _, m := range []string{"A1", "B1"} {
		n := c.file(m, "2026-11-01", "inv "+m)
		c.mustMove(n, c.rev, `{"to":"reviewing","version":1}`)
		c.mustMove(n, c.rev, `{"to":"approved","version":2,"amount":"800.00"}`)
	}
	c.file("A2", "2026-11-02", "not approved")
	code, out := c.json("GET", "/api/v1/payments/list", "/api/v1/payments/list", c.fin, "")
	if code != 200 || strings.Count(out, `"number":`) != 2 || strings.Contains(out, "6228480012345678") || !strings.Contains(out, `"amount":"800.00"`) {
		t.Errorf("json: %d %s", code, out)
	}
	if code, out := c.json("GET", "/api/v1/payments/list", "/api/v1/payments/list", c.finB, ""); code != 200 || strings.Count(out, `"number":`) != 1 {
		t.Errorf("unit B: %d %s", code, out)
	}
	code, raw := c.call("GET", "/api/v1/payments/list?format=xlsx", "/api/v1/payments/list", c.fin, "", nil)
	if code != 200 {
		t.Fatalf("xlsx: %d", code)
	}
	f, err := excelize.OpenReader(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := f.GetRows("发放清单")
	if len(rows) != 3 || rows[0][5] != "银行卡号" || rows[1][5] != "6228480012345678" || rows[1][6] != "800" {
		t.Errorf("sheet: %v", rows)
	}
	es, err := c.db.AuditLog(t.Context(), storage.AuditFilter{Action: "claims.payment_list", Limit: 10})
	if err != nil || len(es) != 1 || es[0].Actor != "token:fin" || !strings.Contains(es[0].Detail, "2 条") {
		t.Errorf("audit: %+v %v", es, err)
	}
}

// claimRoutes are the claims routes TestClaimsAuthorizationMatrix exercises; the general
// matrix counts them as covered.
var claimRoutes = []string{
	"GET /api/v1/claims", "POST /api/v1/claims", "GET /api/v1/claims/{number}", "POST /api/v1/claims/{number}/transitions",
	"GET /api/v1/claim-rules", "PUT /api/v1/claim-rules", "POST /api/v1/payments/results",
	"GET /api/v1/stats/yearly", "GET /api/v1/stats/public-list", "PUT /api/v1/premiums", "GET /api/v1/payments/list",
	"POST /api/v1/premiums/imports",
}

// TestClaimsAuthorizationMatrix sends every claims route as every role from the county, the
// claim's unit and another unit. Expectations are written from the contract: claims are read
// by admin, reviewer, finance and viewer; transitions are asked by admin, reviewer and
// finance (which transition is claims.Transition's call, tested above: here a stale version
// answers 409 once authorization passed); payments are finance's; rules and premiums are
// county admins'; figures are everyone's, scoped to the unit.
func TestClaimsAuthorizationMatrix(t *testing.T) {
	c := setupClaims(t, newEnv(t, storagetest.Embedded(t), memStore(t)))
	a := c.file("A1", "2026-11-01", "ia")
	c.file("B1", "2026-11-02", "ib")
	csvHeader := func(header string) (string, []byte) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "r.csv")
		fw.Write([]byte(header + "\n"))
		mw.Close()
		return mw.FormDataContentType(), buf.Bytes()
	}
	in := func(r auth.Role, rs ...auth.Role) bool { return slices.Contains(rs, r) }
	type route struct {
		method, path, pattern, body string
		record                      bool // a claim of unit A
		ok                          int
		may                         func(r auth.Role, county bool) bool
	}
	reads := func(r auth.Role, _ bool) bool {
		return in(r, auth.RoleAdmin, auth.RoleReviewer, auth.RoleFinance, auth.RoleViewer)
	}
	routes := []route{
		{"GET", "/api/v1/claims", "/api/v1/claims", "", false, 200, reads},
		{"GET", "/api/v1/claims/" + a, "/api/v1/claims/{number}", "", true, 200, reads},
		{"POST", "/api/v1/claims/" + a + "/transitions", "/api/v1/claims/{number}/transitions", `{"to":"reviewing","version":99}`, true, 409,
			func(r auth.Role, _ bool) bool { return in(r, auth.RoleAdmin, auth.RoleReviewer, auth.RoleFinance) }},
		{"GET", "/api/v1/claim-rules", "/api/v1/claim-rules", "", false, 200, reads},
		{"PUT", "/api/v1/claim-rules", "/api/v1/claim-rules", `{"version":99,"rules":{"waiting_days":0,"claim_window_days":90,"deductible":"0.00","bands":[{"up_to":"0.00","ratio_pct":50}],"per_claim_cap":"0.00","per_year_cap":"0.00","hospital_allowance":[],"allowance_max_days":0,"min_per_stay":"0.00"}}`, false, 409,
			func(r auth.Role, county bool) bool { return r == auth.RoleAdmin && county }},
		{"POST", "/api/v1/payments/results", "/api/v1/payments/results", "", false, 200,
			func(r auth.Role, _ bool) bool { return r == auth.RoleFinance }},
		{"GET", "/api/v1/payments/list", "/api/v1/payments/list", "", false, 200,
			func(r auth.Role, _ bool) bool { return r == auth.RoleFinance }},
		{"GET", "/api/v1/stats/yearly?year=2026", "/api/v1/stats/yearly", "", false, 200, func(auth.Role, bool) bool { return true }},
		{"GET", "/api/v1/stats/public-list?year=2026", "/api/v1/stats/public-list", "", false, 200, func(auth.Role, bool) bool { return true }},
		{"PUT", "/api/v1/premiums", "/api/v1/premiums", `{"unit":"甲镇工会","year":2026,"amount":"1.00"}`, false, 200,
			func(r auth.Role, county bool) bool { return r == auth.RoleAdmin && county }},
		{"POST", "/api/v1/premiums/imports", "/api/v1/premiums/imports", "单位,年度,金额", false, 200,
			func(r auth.Role, county bool) bool { return r == auth.RoleAdmin && county }},
	}
	for _, r := range routes {
		if !slices.Contains(claimRoutes, r.method+" "+r.pattern) {
			t.Errorf("%s %s is not in claimRoutes", r.method, r.pattern)
		}
	}
	scopes := unitScopes(c.unitA.ID, c.unitB.ID)
	for _, role := range auth.AllRoles {
		for _, sc := range scopes {
			tok := c.token(fmt.Sprintf("m-%s-%d", role, sc.unit), []auth.Role{role}, sc.unit)
			for _, rt := range routes {
				want := 403
				if rt.may(role, sc.unit == 0) {
					want = rt.ok
					if rt.record && sc.unit == c.unitB.ID {
						want = 404
					}
				}
				var code int
				var out string
				switch rt.pattern {
				case "/api/v1/payments/results":
					ct, body := csvHeader("申请编号,结果,流水号,原因")
					code, out = c.call(rt.method, rt.path, rt.pattern, tok, ct, body)
				case "/api/v1/premiums/imports":
					ct, body := csvHeader(rt.body)
					code, out = c.call(rt.method, rt.path, rt.pattern, tok, ct, body)
				default:
					code, out = c.json(rt.method, rt.path, rt.pattern, tok, rt.body)
				}
				if code != want {
					t.Errorf("%s/%s %s %s: %d %s, want %d", role, sc.name, rt.method, rt.path, code, out, want)
				}
				if rt.pattern == "/api/v1/claims" && code == 200 {
					wantN := map[string]int{"county": 2, "unit A": 1, "unit B": 1}[sc.name]
					if n := strings.Count(out, `"number":`); n != wantN {
						t.Errorf("%s/%s list: %d claims, want %d", role, sc.name, n, wantN)
					}
				}
			}
		}
	}
}
