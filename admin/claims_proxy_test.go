package admin_test

import (
	"bytes"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"unionbot/admin"
	"unionbot/admin/auth"
	"unionbot/claims"
	"unionbot/storage"
	"unionbot/storage/storagetest"
	"unionbot/web"
)

// onClock serves the console on the claims clock (2026-11-24 in China), so the chat's date
// checks and storage see the same day.
func (c *claimsEnv) onClock() {
	c.t.Helper()
	mux := http.NewServeMux()
	admin.New(admin.Deps{DB: c.filer, KV: c.kv, Logger: quiet, UnionName: "测试县总工会", Now: c.clock.Now}).Mount(mux)
	srv := httptest.NewServer(web.WithRequest(quiet, mux))
	c.t.Cleanup(srv.Close)
	c.srv = srv
}

// jpeg is a small "photo" whose magic bytes say JPEG.
func jpeg(tag string) []byte { return []byte("\xFF\xD8\xFF\xE0 photo " + tag) }

type upfile struct {
	field, name string
	data        []byte
}

// entryForm is a complete 代录 of a hospital stay for memberNo (the figures of c.file).
func entryForm(memberNo string) map[string]string {
	return map[string]string{"member_no": memberNo, "consent": "1", "plan": "hospital", "hospital": "旗人民医院",
		"admitted_on": "2026-11-01", "discharged_on": "2026-11-11", "diagnosis": "肺炎", "total_cost": "10000",
		"insurance_paid": "4000", "out_of_pocket": "6000", "bank_name": "农业银行", "bank_card": "6228480012345671"}
}

func entryFiles(tag string) []upfile {
	var out []upfile
	for _, k := range claims.RequiredDocs(claims.Hospital) {
		out = append(out, upfile{"doc_" + string(k), string(k) + ".jpg", jpeg(tag + string(k))})
	}
	return out
}

func multipartBody(fields map[string]string, files []upfile) (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for _, f := range files {
		fw, _ := mw.CreateFormFile(f.field, f.name)
		fw.Write(f.data)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// postEntry posts the console's 代录 form with the session's form token.
func (b *browser) postEntry(fields map[string]string, files []upfile) (int, string, string) {
	b.e.t.Helper()
	f := map[string]string{"csrf": b.csrf}
	for k, v := range fields {
		f[k] = v
	}
	ct, body := multipartBody(f, files)
	return b.send("POST", "/admin/claims/new", bytes.NewReader(body), http.Header{"Content-Type": {ct}})
}

func (c *claimsEnv) claimsOf(memberNo string) []storage.Claim {
	c.t.Helper()
	m, err := c.db.MemberByNo(c.t.Context(), memberNo)
	if err != nil {
		c.t.Fatal(err)
	}
	cs, _, err := c.db.ListClaims(c.t.Context(), storage.ClaimFilter{MemberID: m.ID})
	if err != nil {
		c.t.Fatal(err)
	}
	return cs
}

var (
	keptField  = regexp.MustCompile(`name="kept_(doc_\w+)" value="([^"]*)"`)
	tokenField = regexp.MustCompile(`name="token" value="([0-9a-f]+)"`)
)

func TestClaimEntryConsole(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			db, store := be.open(t)
			c := setupClaims(t, newEnv(t, db, store))
			c.onClock()
			rev := c.login("revA", []auth.Role{auth.RoleReviewer}, c.unitA.ID)

			// Pick the member by number: the officer's own unit only.
			code, _, page := rev.get("/admin/claims/new?member_no=A1")
			if code != 200 || !strings.Contains(page, `id="member-card"`) || !strings.Contains(page, "张三") || !strings.Contains(page, "2025、2026") {
				t.Fatalf("lookup: %d\n%s", code, page)
			}
			if code, _, page := rev.get("/admin/claims/new?member_no=B1"); code != 404 || !strings.Contains(page, "不在您的基层工会") || strings.Contains(page, "王五") {
				t.Errorf("other unit's member: %d", code)
			}
			token := tokenField.FindStringSubmatch(page)[1]

			// A first try with mistakes: every problem beside its field, the good photos kept.
			bad := entryForm("A1")
			delete(bad, "consent")
			bad["out_of_pocket"], bad["bank_card"], bad["token"] = "20000", "6228480012345670", token
			files := entryFiles("a")
			files[0].data = []byte("%PDF-1.4 not a photo")
			code, _, page = rev.postEntry(bad, files)
			if code != 422 {
				t.Fatalf("bad entry: %d\n%s", code, page)
			}
			for _, want := range []string{"纸质申请表上签字", "不能多于医疗总费用", "不是照片", "与会员的银行卡逐位核对", `name="card_checked"`} {
				if !strings.Contains(html.UnescapeString(page), want) {
					t.Errorf("bad entry page lacks %s", want)
				}
			}
			if n := len(c.claimsOf("A1")); n != 0 {
				t.Fatalf("a refused entry filed %d claims", n)
			}
			kept := keptField.FindAllStringSubmatch(page, -1)
			if len(kept) != len(files)-1 {
				t.Fatalf("kept photos: %v", kept)
			}

			// Corrected, with the photos kept from the first try and only the invoice again.
			good := entryForm("A1")
			good["bank_card"], good["card_checked"], good["token"] = "6228480012345670", "1", token
			for _, k := range kept {
				good["kept_"+k[1]] = k[2]
			}
			code, loc, _ := rev.postEntry(good, []upfile{{"doc_invoice", "发票.jpg", jpeg("invoice")}})
			cs := c.claimsOf("A1")
			if len(cs) != 1 {
				t.Fatalf("claims: %d", len(cs))
			}
			if code != 303 || loc != "/admin/claims/"+cs[0].Number { // the reviewers' page of the claim
				t.Fatalf("entry: %d %s", code, loc)
			}
			cl := c.status(cs[0].Number)
			if cl.SubmittedBy != "officer:revA" || len(cl.Attachments) != len(claims.RequiredDocs(claims.Hospital)) || cl.Status != claims.Submitted ||
				!strings.HasPrefix(cl.Number, "HZ20261124-") || cl.BankCardMasked != "**** **** **** 5670" || cl.History[0].Actor != "officer:revA" {
				t.Errorf("claim: %+v", cl)
			}
			// Same estimate as the same claim filed directly through storage (as the chat does).
			direct := c.status(c.file("A2", "2026-11-01", "direct"))
			a2, _ := c.db.MemberByNo(t.Context(), "A2")
			a1, _ := c.db.MemberByNo(t.Context(), "A1")
			if a1.JoinedOn.Equal(a2.JoinedOn) && cl.Estimate.Amount != direct.Estimate.Amount {
				t.Errorf("estimate %v, direct %v", cl.Estimate, direct.Estimate)
			}
			es, err := c.db.AuditLog(t.Context(), storage.AuditFilter{Action: "claim.submit", Limit: 10})
			found := false
			for _, e := range es {
				found = found || (e.Subject == "claim:"+cl.Number && e.Actor == "officer:revA" && strings.Contains(e.Detail, "代录") && strings.Contains(e.Detail, "签字同意"))
			}
			if err != nil || !found {
				t.Errorf("audit: %+v %v", es, err)
			}
			if row, err := c.db.OutboxByKey(t.Context(), "claim:"+cl.Number+":v1"); err != nil || row.MemberID != a1.ID || !strings.Contains(row.Content.Text, cl.Number) {
				t.Errorf("member notice: %+v %v", row, err)
			}
			if _, _, page := rev.get("/admin/claims/new"); !strings.Contains(page, "已为会员 张三（A1）代录互助金申请 "+cl.Number) {
				t.Errorf("no flash:\n%s", page)
			}
			// A double click files nothing more.
			if code, _, _ := rev.postEntry(good, []upfile{{"doc_invoice", "发票.jpg", jpeg("invoice")}}); code != 303 || len(c.claimsOf("A1")) != 1 {
				t.Errorf("replay: %d %d", code, len(c.claimsOf("A1")))
			}
			if _, _, page := rev.get("/admin/claims/new"); !strings.Contains(page, "已经提交过") {
				t.Error("replay not told")
			}
			// Another unit's member is refused, whatever else is right.
			other := entryForm("B1")
			other["token"] = "b1"
			if code, _, page := rev.postEntry(other, entryFiles("b")); code != 404 || !strings.Contains(page, "不在您的基层工会") || len(c.claimsOf("B1")) != 0 {
				t.Errorf("other unit: %d", code)
			}
			// The same member, plan and admission again: the duplicate is named.
			dup := entryForm("A1")
			dup["token"] = "dup"
			if code, _, page := rev.postEntry(dup, entryFiles("d")); code != 409 || !strings.Contains(page, cl.Number) {
				t.Errorf("duplicate: %d", code)
			}
			// Finance does not enter claims.
			fin := c.login("finA", []auth.Role{auth.RoleFinance}, c.unitA.ID)
			if code, _, _ := fin.get("/admin/claims/new"); code != 403 {
				t.Errorf("finance: %d", code)
			}
		})
	}
}

func TestClaimEntryAPI(t *testing.T) {
	c := setupClaims(t, newEnv(t, storagetest.Embedded(t), memStore(t)))
	c.onClock()
	post := func(token string, fields map[string]string, files []upfile) (int, string) {
		t.Helper()
		ct, body := multipartBody(fields, files)
		return c.call("POST", "/api/v1/claims", "/api/v1/claims", token, ct, body)
	}
	f := entryForm("A2")
	f["token"] = "api-1"
	code, out := post(c.rev, f, entryFiles("x"))
	if code != 201 || !strings.Contains(out, `"member_no":"A2"`) || !strings.Contains(out, `"submitted_by":"token:rev"`) || strings.Count(out, `"kind":`) != 5 {
		t.Fatalf("api entry: %d %s", code, out)
	}
	if code, again := post(c.rev, f, entryFiles("x")); code != 200 || claimNumberOf(again) != claimNumberOf(out) {
		t.Errorf("replay: %d %s", code, again)
	}
	if code, out := post(c.rev, map[string]string{"member_no": "A1", "plan": "hospital"}, nil); code != 422 || !strings.Contains(out, "请填写医院") {
		t.Errorf("incomplete: %d %s", code, out)
	}
	// Who may: admins and reviewers, for members of their unit.
	scopes := unitScopes(c.unitA.ID, c.unitB.ID)
	for _, role := range auth.AllRoles {
		for _, sc := range scopes {
			tok := c.token(fmt.Sprintf("e-%s-%d", role, sc.unit), []auth.Role{role}, sc.unit)
			want := 403
			if role == auth.RoleAdmin || role == auth.RoleReviewer {
				want = 422 // allowed: the empty entry is refused field by field
				if sc.unit == c.unitB.ID {
					want = 404
				}
			}
			if code, out := post(tok, map[string]string{"member_no": "A1"}, nil); code != want {
				t.Errorf("%s/%s: %d %s, want %d", role, sc.name, code, out, want)
			}
		}
	}
}

var numberJSON = regexp.MustCompile(`"number":"(HZ[0-9-]+)"`)

func claimNumberOf(body string) string {
	if m := numberJSON.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}
