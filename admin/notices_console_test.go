package admin_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"unionbot/admin/auth"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// TestNoticesConsole: a unit's publisher writes an activity in the editor, previews who it
// reaches, saves it, publishes it and sees the progress; a member signs up; the sign-up
// list, check-in on the day and the XLSX export; a viewer reads but may not publish.
func TestNoticesConsole(t *testing.T) {
	e := newEnv(t, storagetest.Embedded(t), memStore(t))
	ctx := t.Context()
	e.bindA1("o-console-a1")
	e.officer("pubA", []auth.Role{auth.RolePublisher}, e.unitA.ID)
	e.officer("look", []auth.Role{auth.RoleViewer}, 0)
	b := e.browser()
	b.mustLogin("pubA")

	if code, _, body := b.get("/admin/notices/new"); code != 200 || !strings.Contains(body, "甲镇工会") || strings.Contains(body, "全部关注者") {
		t.Fatalf("editor: %d %s", code, body)
	}
	start := time.Now().Add(48 * time.Hour).In(time.FixedZone("CST", 8*3600)).Format("2006-01-02T15:04")
	form := url.Values{"title": {"送清凉"}, "body": {"高温季节，工会为一线职工送清凉。"}, "kind": {"bound"},
		"is_activity": {"1"}, "starts_at": {start}, "place": {"甲镇职工之家"}, "capacity": {"2"}, "waitlist": {"1"}}
	form.Set("op", "preview")
	code, _, body := b.post("/admin/notices", form)
	if code != 200 || !strings.Contains(body, `id="pv-size">1<`) || !strings.Contains(body, "逐条发送") {
		t.Fatalf("preview: %d %s", code, body)
	}
	bad := url.Values{"title": {""}, "body": {"x"}, "kind": {"bound"}, "op": {"save"}}
	if code, _, body := b.post("/admin/notices", bad); code != 422 || !strings.Contains(body, "请填写标题") {
		t.Errorf("empty title: %d", code)
	}
	form.Set("op", "save")
	code, loc, _ := b.post("/admin/notices", form)
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/notices/") {
		t.Fatalf("save: %d %s", code, loc)
	}
	if code, _, body = b.get(loc); code != 200 || !strings.Contains(body, "草稿") || !strings.Contains(body, "发送预览") {
		t.Fatalf("draft page: %d %s", code, body)
	}
	if code, _, _ := b.post(loc+"/test-send", url.Values{"openid": {"o-officer"}}); code != http.StatusSeeOther {
		t.Errorf("test send: %d", code)
	}
	if code, _, _ := b.post(loc+"/publish", nil); code != http.StatusSeeOther {
		t.Fatalf("publish: %d", code)
	}
	if code, _, body = b.get(loc); code != 200 || !strings.Contains(body, "已发布，正在发送给 1 人") ||
		!strings.Contains(body, `data-poll="/api/v1/notices/`) || !strings.Contains(body, "progress.js") {
		t.Fatalf("sending page: %d %s", code, body)
	}
	if code, _, body := b.post(loc+"/publish", nil); code != 409 || !strings.Contains(body, "状态不允许") {
		t.Errorf("publish twice: %d", code)
	}
	if code, _, body := b.get("/admin/notices?kind=activity"); code != 200 || !strings.Contains(body, "送清凉") {
		t.Errorf("list: %d %s", code, body)
	}

	var id int64
	fmt.Sscanf(strings.TrimPrefix(loc, "/admin/notices/"), "%d", &id)
	n, err := e.db.NoticeByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := e.db.MemberByNo(ctx, "A1")
	if _, err := e.db.SignUp(ctx, n.Activity.Number, storage.SignupIn{OpenID: "o-console-a1", MemberID: m.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.SignUp(ctx, n.Activity.Number, storage.SignupIn{OpenID: "o-guest", GuestName: "钱七", GuestPhone: "13900001111"}); err != nil {
		t.Fatal(err)
	}
	code, _, body = b.get(loc + "/signups")
	if code != 200 || !strings.Contains(body, "张三") || !strings.Contains(body, "钱七") || !strings.Contains(body, "非会员") {
		t.Fatalf("sign-ups: %d %s", code, body)
	}
	sid := regexp.MustCompile(`/signups/(\d+)/checkin`).FindStringSubmatch(body)
	if sid == nil {
		t.Fatal("no check-in button")
	}
	if code, _, _ := b.post(loc+"/signups/"+sid[1]+"/checkin", url.Values{"present": {"1"}}); code != http.StatusSeeOther {
		t.Errorf("check in: %d", code)
	}
	if _, _, body = b.get(loc + "/signups"); !strings.Contains(body, `id="checked-in">1<`) {
		t.Errorf("checked in count: %s", body)
	}
	code, _, raw := b.get(loc + "/signups.xlsx")
	if code != 200 {
		t.Fatalf("export: %d", code)
	}
	f, err := excelize.OpenReader(bytes.NewReader([]byte(raw)))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("报名名单")
	if err != nil || len(rows) != 3 || rows[1][1] != "张三" || rows[2][1] != "钱七" || rows[2][3] != "（非会员）" || rows[1][8] == "" {
		t.Errorf("export rows: %v %v", rows, err)
	}

	// A viewer reads the notice and the list, but sees no publish form and may not post.
	v := e.browser()
	v.mustLogin("look")
	if code, _, body := v.get(loc); code != 200 || strings.Contains(body, `id="cancel"`) {
		t.Errorf("viewer page: %d", code)
	}
	if code, _, _ := v.post(loc+"/cancel", nil); code != 403 {
		t.Errorf("viewer cancel: %d", code)
	}
	if code, _, _ := v.post(loc+"/signups/"+sid[1]+"/checkin", nil); code != 403 {
		t.Errorf("viewer check-in: %d", code)
	}

	// Cancelling mid-send stops what is still waiting.
	if code, _, _ := b.post(loc+"/cancel", nil); code != http.StatusSeeOther {
		t.Errorf("cancel: %d", code)
	}
	if _, _, body = b.get(loc); !strings.Contains(body, "已取消") {
		t.Errorf("after cancel: %s", body)
	}
}
