package admin_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"unionbot/admin/auth"
	"unionbot/bot"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func init() {
	for _, r := range []string{
		"GET /api/v1/handoffs", "GET /api/v1/handoffs/{id}", "POST /api/v1/handoffs/{id}/claim",
		"POST /api/v1/handoffs/{id}/replies", "POST /api/v1/handoffs/{id}/close",
		"GET /api/v1/keywords", "POST /api/v1/keywords", "PUT /api/v1/keywords/{id}", "DELETE /api/v1/keywords/{id}",
		"POST /api/v1/roster/imports", "GET /api/v1/roster/imports/{id}", "POST /api/v1/members/{member_no}/status",
	} {
		matrixElsewhere[r] = true
	}
}

// openHandoff opens a conversation for openID (bound to member no when no is not "").
func (e *env) openHandoff(openID, no string) storage.Handoff {
	e.t.Helper()
	ctx := e.t.Context()
	if no != "" {
		if m, err := e.db.MemberByNo(ctx, no); err != nil {
			e.t.Fatal(err)
		} else if m.OpenID != openID {
			if m.OpenID != "" {
				if _, err := e.db.UnbindMember(ctx, m.OpenID, storage.AuditEntry{Actor: "test"}); err != nil {
					e.t.Fatal(err)
				}
			}
			if err := e.db.BindMember(ctx, m.ID, openID, storage.AuditEntry{Actor: "test"}); err != nil {
				e.t.Fatal(err)
			}
		}
	}
	h, _, err := e.db.OpenHandoff(ctx, openID, storage.AuditEntry{Actor: "member:" + openID})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.AddMemberMessage(ctx, h.ID, openID, "我想问一下互助金", false); err != nil {
		e.t.Fatal(err)
	}
	return h
}

// rosterUpload posts a roster file to the API.
func (e *env) rosterUpload(token, name, body string, dry bool) (int, string) {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	io.WriteString(fw, body)
	mw.WriteField("dry_run", strconv.FormatBool(dry))
	mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/roster/imports", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

const rosterCSV = "会员编号,姓名,身份证号,所属工会\nR1,钱七,110101199003078013,甲镇工会\nR2,孙八,110101199003071241,甲镇工会\n"

// TestHandoffAuthorizationMatrix is the authorization matrix of the 人工 inbox, keywords,
// roster import and member status: every route × role × county / unit A / unit B, on a
// conversation of a unit A member and of a non-member. Expectations are written from the
// contract, not computed with auth's policy.
func TestHandoffAuthorizationMatrix(t *testing.T) {
	e := newEnv(t, storagetest.Embedded(t), memStore(t))
	ctx := t.Context()
	mayAnswer := func(r auth.Role) bool { return r == auth.RoleAdmin || r == auth.RoleReviewer || r == auth.RoleLegal }
	mayKeywords := func(r auth.Role, unit int64) bool {
		return (r == auth.RoleAdmin || r == auth.RolePublisher) && unit == 0
	}
	scopes := unitScopes(e.unitA.ID, e.unitB.ID)

	imp, err := e.db.CreateRosterImport(ctx, storage.NewRosterImport{FileName: "r.csv", Format: "csv", Data: []byte(rosterCSV),
		RowsTotal: 2, Accepted: 2, CreatedBy: "officer:adm", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}

	n := 0
	for _, role := range auth.AllRoles {
		for _, sc := range scopes {
			n++
			tok := e.token(fmt.Sprintf("%s-%d", role, sc.unit), []auth.Role{role}, sc.unit)
			records := []struct {
				name string
				h    storage.Handoff
				unit int64
			}{
				{"member of A", e.openHandoff(fmt.Sprintf("o-a-%d", n), "A1"), e.unitA.ID},
				{"non-member", e.openHandoff(fmt.Sprintf("o-guest-%d", n), ""), 0},
			}
			// The list.
			code, body := e.api("GET", "/api/v1/handoffs", tok, nil)
			switch {
			case !mayAnswer(role):
				if code != 403 {
					t.Errorf("%s/%s list: %d", role, sc.name, code)
				}
			case code != 200:
				t.Errorf("%s/%s list: %d %v", role, sc.name, code, body)
			default:
				seen := map[float64]bool{}
				for _, it := range body["items"].([]any) {
					seen[it.(map[string]any)["id"].(float64)] = true
				}
				for _, rec := range records {
					want := sc.unit == 0 || sc.unit == rec.unit
					if seen[float64(rec.h.ID)] != want {
						t.Errorf("%s/%s list shows %s: %v, want %v", role, sc.name, rec.name, !want, want)
					}
				}
			}
			for _, rec := range records {
				id := strconv.FormatInt(rec.h.ID, 10)
				for _, rt := range []struct {
					method, path string
					body         any
					ok           int
				}{
					{"GET", "/api/v1/handoffs/" + id, nil, 200},
					{"POST", "/api/v1/handoffs/" + id + "/claim", nil, 200},
					{"POST", "/api/v1/handoffs/" + id + "/replies", map[string]string{"text": "您好"}, 201},
					{"POST", "/api/v1/handoffs/" + id + "/close", nil, 200},
				} {
					want := rt.ok
					switch {
					case !mayAnswer(role):
						want = 403
					case sc.unit != 0 && sc.unit != rec.unit:
						want = 404
					}
					if got, b := e.api(rt.method, rt.path, tok, rt.body); got != want {
						t.Errorf("%s/%s %s %s: %d %v, want %d", role, sc.name, rt.method, rec.name, got, b, want)
					}
				}
				if h, _ := e.db.Handoff(ctx, rec.h.ID); h.Status != storage.HandoffClosed {
					e.db.CloseHandoff(ctx, rec.h.ID, storage.CloseByOfficer, "", storage.AuditEntry{Actor: "test"})
				}
			}

			// Keywords.
			kw := 403
			if mayKeywords(role, sc.unit) {
				kw = 0
			}
			code, body = e.api("POST", "/api/v1/keywords", tok, map[string]any{"pattern": "会费" + strconv.Itoa(n), "reply": "每月交"})
			if want := map[bool]int{true: 201, false: 403}[kw == 0]; code != want {
				t.Errorf("%s/%s create keyword: %d %v", role, sc.name, code, body)
			}
			kid := "999999"
			if code == 201 {
				kid = strconv.Itoa(int(body["id"].(float64)))
			}
			for _, rt := range []struct {
				method, path string
				body         any
				ok           int
			}{
				{"GET", "/api/v1/keywords", nil, 200},
				{"PUT", "/api/v1/keywords/" + kid, map[string]any{"pattern": "会费", "match": "exact", "reply": "每月交", "enabled": false}, 200},
				{"DELETE", "/api/v1/keywords/" + kid, nil, 204},
			} {
				want := rt.ok
				if kw == 403 {
					want = 403
				}
				req, _ := http.NewRequest(rt.method, e.srv.URL+rt.path, nil)
				if rt.body != nil {
					code, b := e.api(rt.method, rt.path, tok, rt.body)
					if code != want {
						t.Errorf("%s/%s %s %s: %d %v, want %d", role, sc.name, rt.method, rt.path, code, b, want)
					}
					continue
				}
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("%s/%s %s %s: %d, want %d", role, sc.name, rt.method, rt.path, resp.StatusCode, want)
				}
			}

			// Roster import (a dry run): county-level admins.
			wantRoster := 403
			if role == auth.RoleAdmin && sc.unit == 0 {
				wantRoster = 200
			}
			if code, b := e.rosterUpload(tok, "r.csv", rosterCSV, true); code != wantRoster {
				t.Errorf("%s/%s roster: %d %s", role, sc.name, code, b)
			}
			if code, b := e.api("GET", fmt.Sprintf("/api/v1/roster/imports/%d", imp.ID), tok, nil); code != wantRoster {
				t.Errorf("%s/%s roster import: %d %v", role, sc.name, code, b)
			}

			// Member status: admins, within their unit.
			for _, rec := range []struct {
				no   string
				unit int64
			}{{"A1", e.unitA.ID}, {"N1", 0}} {
				want := 403
				if role == auth.RoleAdmin {
					want = 200
					if sc.unit != 0 && sc.unit != rec.unit {
						want = 404
					}
				}
				if code, b := e.api("POST", "/api/v1/members/"+rec.no+"/status", tok, map[string]string{"status": "在册", "reason": "核对"}); code != want {
					t.Errorf("%s/%s status %s: %d %v, want %d", role, sc.name, rec.no, code, b, want)
				}
			}
		}
	}
}

// The inbox over HTTP: two officers claim one conversation (one wins, the other is told who
// has it); the reply goes on the outbox as an officer_reply; outside the 48-hour window the
// console says so; closing tells the member.
func TestHandoffInbox(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			db, store := be.open(t)
			e := newEnv(t, db, store)
			ctx := t.Context()
			e.officer("zhao", []auth.Role{auth.RoleReviewer}, e.unitA.ID)
			e.officer("qian", []auth.Role{auth.RoleLegal}, 0)
			h := e.openHandoff("o-inbox", "A1")
			// The member wrote just now.
			store.Set(ctx, bot.SeenKey("o-inbox"), []byte(strconv.FormatInt(time.Now().Unix(), 10)), time.Hour)

			zhao, qian := e.browser(), e.browser()
			zhao.mustLogin("zhao")
			qian.mustLogin("qian")
			code, _, body := zhao.get("/admin/handoffs")
			if code != 200 || !strings.Contains(body, "#"+strconv.FormatInt(h.ID, 10)) || !strings.Contains(body, "张*") || !strings.Contains(body, "还剩 47小时") {
				t.Fatalf("inbox: %d %s", code, body)
			}
			path := "/admin/handoffs/" + strconv.FormatInt(h.ID, 10)
			zhao.get(path)
			qian.get(path)
			code, loc, _ := zhao.post(path+"/claim", nil)
			if code != http.StatusSeeOther || loc != path {
				t.Fatalf("claim: %d %s", code, loc)
			}
			code, _, body = qian.post(path+"/claim", nil)
			if code != http.StatusConflict || !strings.Contains(body, "已由 zhao 认领") {
				t.Fatalf("second claim: %d %s", code, body)
			}
			code, _, body = qian.post(path+"/reply", url.Values{"text": {"我来回答"}})
			if code != http.StatusConflict {
				t.Fatalf("reply by the other officer: %d %s", code, body)
			}
			code, loc, _ = zhao.post(path+"/reply", url.Values{"text": {"您好，请问是住院还是门诊？"}})
			if code != http.StatusSeeOther {
				t.Fatalf("reply: %d", code)
			}
			_, _, body = zhao.get(loc)
			if !strings.Contains(body, "回复已发出") || !strings.Contains(body, "请问是住院还是门诊") {
				t.Fatalf("after reply: %s", body)
			}
			full, _ := e.db.Handoff(ctx, h.ID)
			if row, err := e.db.OutboxByKey(ctx, full.Messages[len(full.Messages)-1].OutboxKey); err != nil || row.Kind != "officer_reply" || row.OpenID != "o-inbox" {
				t.Fatalf("outbox: %+v %v", row, err)
			}

			// Outside the window: the page and the API say so.
			store.Delete(ctx, bot.SeenKey("o-inbox"))
			old := e.openHandoff("o-old", "B1")
			e.db.WithClock(func() time.Time { return time.Now().Add(-50 * time.Hour) }).AddMemberMessage(ctx, old.ID, "o-old", "还在吗", false)
			oldPath := "/admin/handoffs/" + strconv.FormatInt(old.ID, 10)
			if code, _, _ := zhao.get(oldPath); code != 404 {
				t.Fatalf("unit A officer opens unit B's conversation: %d", code)
			}
			admTok := e.token("adm", []auth.Role{auth.RoleAdmin}, 0)
			store.Set(ctx, bot.SeenKey("o-old"), []byte(strconv.FormatInt(time.Now().Add(-49*time.Hour).Unix(), 10)), time.Hour)
			code, resp := e.api("POST", "/api/v1/handoffs/"+strconv.FormatInt(old.ID, 10)+"/replies", admTok, map[string]string{"text": "您好"})
			if code != 201 || resp["window_open"] != false || !strings.Contains(fmt.Sprint(resp["warning"]), "48小时") {
				t.Fatalf("reply outside the window: %d %v", code, resp)
			}
			_, _, body = qian.get(oldPath)
			if !strings.Contains(body, "已超出48小时") || !strings.Contains(body, "不允许向其发送客服消息") {
				t.Fatalf("page outside the window: %s", body)
			}

			// Close.
			code, _, _ = zhao.post(path+"/close", nil)
			if code != http.StatusSeeOther {
				t.Fatalf("close: %d", code)
			}
			if row, err := e.db.OutboxByKey(ctx, "handoff:"+strconv.FormatInt(h.ID, 10)+":closed"); err != nil || !strings.Contains(row.Content.Text, "回复“人工”") {
				t.Fatalf("close notice: %+v %v", row, err)
			}
			code, _, body = zhao.post(path+"/close", nil)
			if code != http.StatusConflict || !strings.Contains(body, "该对话已结束") {
				t.Fatalf("close again: %d", code)
			}
			// API: claim conflict answers 409 with a code.
			h2 := e.openHandoff("o-inbox-2", "")
			a, b := e.token("a", []auth.Role{auth.RoleAdmin}, 0), e.token("b", []auth.Role{auth.RoleAdmin}, 0)
			if code, _ := e.api("POST", "/api/v1/handoffs/"+strconv.FormatInt(h2.ID, 10)+"/claim", a, nil); code != 200 {
				t.Fatalf("api claim: %d", code)
			}
			code, resp = e.api("POST", "/api/v1/handoffs/"+strconv.FormatInt(h2.ID, 10)+"/claim", b, nil)
			if code != 409 || resp["error"].(map[string]any)["code"] != "handoff_taken" {
				t.Fatalf("api second claim: %d %v", code, resp)
			}
		})
	}
}

// Keywords, the roster upload and member status through the console.
func TestConsoleRosterKeywordsStatus(t *testing.T) {
	e := newEnv(t, storagetest.Embedded(t), memStore(t))
	e.officer("wang", []auth.Role{auth.RoleAdmin}, 0)
	b := e.browser()
	b.mustLogin("wang")

	// Keywords.
	code, loc, _ := b.post("/admin/keywords", url.Values{"new": {"1"}, "pattern": {"会费"}, "match": {"contains"}, "reply": {"会费每月从工资中代扣。"}, "priority": {"5"}})
	if code != http.StatusSeeOther || loc != "/admin/keywords" {
		t.Fatalf("add keyword: %d %s", code, loc)
	}
	code, _, body := b.post("/admin/keywords", url.Values{"new": {"1"}, "pattern": {"(("}, "match": {"regex"}, "reply": {"x"}})
	if code != 422 || !strings.Contains(body, "正则表达式写法有误") {
		t.Fatalf("bad regex: %d", code)
	}
	rules, _ := e.db.KeywordRules(t.Context())
	if len(rules) != 1 || !rules[0].Enabled || rules[0].Priority != 5 {
		t.Fatalf("rules %+v", rules)
	}
	id := strconv.FormatInt(rules[0].ID, 10)
	b.post("/admin/keywords/"+id, url.Values{"pattern": {"会费"}, "match": {"contains"}, "reply": {"会费每月从工资中代扣。"}, "priority": {"5"}})
	if r, _ := e.db.KeywordRuleByID(t.Context(), rules[0].ID); r.Enabled {
		t.Fatal("not disabled")
	}
	b.post("/admin/keywords/"+id+"/delete", nil)
	if rules, _ := e.db.KeywordRules(t.Context()); len(rules) != 0 {
		t.Fatalf("not deleted: %+v", rules)
	}
	if es, _ := e.db.AuditLog(t.Context(), storage.AuditFilter{Action: "keyword.", Limit: 10}); len(es) != 3 {
		t.Fatalf("keyword audits: %d", len(es))
	}

	// Roster: check, then import the same file.
	code, _, body = b.upload("/admin/roster", nil, "名册.csv", []byte(rosterCSV+"R3,周九,110101199003071231,甲镇工会\n"))
	if code != 200 || !strings.Contains(body, "校验结果") || !strings.Contains(body, "身份证号") || !strings.Contains(body, "确认导入 2 行") || !strings.Contains(body, "<td>4</td><td>身份证号</td>") {
		t.Fatalf("dry run: %d %s", code, body)
	}
	if _, err := e.db.MemberByNo(t.Context(), "R1"); err == nil {
		t.Fatal("the dry run imported")
	}
	imp := strings.Split(strings.Split(body, `name="import" value="`)[1], `"`)[0]
	code, loc, _ = b.post("/admin/roster/apply", url.Values{"import": {imp}})
	if code != http.StatusSeeOther || loc != "/admin/roster/imports/"+imp {
		t.Fatalf("apply: %d %s", code, loc)
	}
	impID, _ := strconv.ParseInt(imp, 10, 64)
	if j := waitImport(t, e.db, impID); j.Status != storage.ImportDone || j.Inserted != 2 || j.Rejected != 1 {
		t.Fatalf("import job: %+v", j)
	}
	code, _, body = b.get(loc)
	if code != 200 || !strings.Contains(body, "导入已完成") || !strings.Contains(body, `<td>4</td><td>身份证号</td>`) || strings.Contains(body, "progress.js") {
		t.Fatalf("job page: %d %s", code, body)
	}
	if m, err := e.db.MemberByNo(t.Context(), "R2"); err != nil || m.Name != "孙八" {
		t.Fatalf("imported: %+v %v", m, err)
	}
	// A second click shows the same import; it is not queued again.
	if code, loc2, _ := b.post("/admin/roster/apply", url.Values{"import": {imp}}); code != http.StatusSeeOther || loc2 != loc {
		t.Fatalf("applied twice: %d %s", code, loc2)
	}
	if j, _ := e.db.RosterImport(t.Context(), impID); j.Status != storage.ImportDone || j.Attempts != 1 {
		t.Fatalf("after a second click: %+v", j)
	}
	if code, _, _ := b.post("/admin/roster/apply", url.Values{"import": {"99999"}}); code != http.StatusGone {
		t.Fatalf("unknown import: %d", code)
	}

	// Member status.
	code, _, body = b.post("/admin/members/A2/status", url.Values{"status": {"转出"}, "reason": {""}})
	if code != 422 {
		t.Fatalf("no reason: %d", code)
	}
	code, loc, _ = b.post("/admin/members/A2/status", url.Values{"status": {"转出"}, "reason": {"调往县外"}})
	if code != http.StatusSeeOther || loc != "/admin/members/A2" {
		t.Fatalf("status: %d %s", code, loc)
	}
	if m, _ := e.db.MemberByNo(t.Context(), "A2"); m.Status != "转出" {
		t.Fatalf("status %s", m.Status)
	}
	if es, _ := e.db.AuditLog(t.Context(), storage.AuditFilter{Action: "member.status", Limit: 10}); len(es) != 1 || es[0].Before["status"] != "在册" {
		t.Fatalf("status audit %+v", es)
	}

	// Officer WeChat linking: a code, shown once.
	code, _, body = b.post("/admin/wechat/code", nil)
	if code != 200 || !strings.Contains(body, "干部绑定 ") {
		t.Fatalf("link code: %d", code)
	}
}
