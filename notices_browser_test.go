package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"unionbot/admin"
	"unionbot/admin/auth"
	"unionbot/storage"
	"unionbot/storage/kv"
	"unionbot/storage/storagetest"
)

// TestNoticesInBrowser (issue 10, "done means"): a grassroots publisher, on a 390 px phone,
// writes 送清凉 as an activity, previews who it reaches, publishes it and watches the
// progress; a worker opens the public page /n/{id} at 390 px; the officer checks someone in
// on the sign-up list. The console and the public page run on one mux as in serve. Screenshots
// go to $UNIONBOT_SCREENSHOTS (a temporary folder when unset).
func TestNoticesInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	var chrome string
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			chrome = p
			break
		}
	}
	if chrome == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not found (install it: apt-get install -y chromium)")
		}
		t.Skip("chromium not found")
	}
	ctx := t.Context()
	db := storagetest.Embedded(t)
	store := kv.NewMemory()
	t.Cleanup(store.Close)
	if _, err := db.UpsertMembers(ctx, []storage.MemberRecord{
		{MemberNo: "A1", Name: "张三", IDNumber: "11010119900307123X", Phone: "13812345678", UnitName: "甲镇工会", MutualAidYears: []int{2026}},
		{MemberNo: "A2", Name: "李四", IDNumber: "110101199003074033", UnitName: "甲镇工会", MutualAidYears: []int{2026}},
	}); err != nil {
		t.Fatal(err)
	}
	unitA, _ := db.UnitByName(ctx, "甲镇工会")
	for _, no := range []string{"A1", "A2"} {
		m, _ := db.MemberByNo(ctx, no)
		if err := db.BindMember(ctx, m.ID, "o-"+no, storage.AuditEntry{Actor: "member:o-" + no}); err != nil {
			t.Fatal(err)
		}
	}
	const password = "Gh7!xkq2Lm9p"
	hash, _ := auth.HashPassword(password)
	if _, err := db.CreateOfficer(ctx, storage.NewOfficer{Username: "pub", PasswordHash: hash,
		Roles: auth.Strings([]auth.Role{auth.RolePublisher}), UnitID: unitA.ID}, storage.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	admin.New(admin.Deps{DB: db, KV: store, UnionName: "测试县总工会"}).Mount(mux)
	mux.Handle("GET /n/{id}", noticePage(db, "测试县总工会"))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	base := srv.URL

	shots := os.Getenv("UNIONBOT_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	actx, cancelA := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(chrome),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(390, 844))
	defer cancelA()
	bctx, cancelC := chromedp.NewContext(actx)
	defer cancelC()
	bctx, cancelT := context.WithTimeout(bctx, 60*time.Second)
	defer cancelT()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	shot := func(name string) {
		t.Helper()
		if err := chromedp.Do(bctx, chromedp.EmulateViewport(390, 844), chromedp.Sleep(50*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+"-390.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		wide, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil {
			t.Fatal(err)
		}
		if wide {
			t.Errorf("%s at 390 px: the page is wider than the screen", name)
		}
	}

	do("login", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/admin/login"), chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SetValue(chromedp.CSS("#username"), "pub"), chromedp.SetValue(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#login-submit")), chromedp.WaitVisible(chromedp.CSS(".nav")))

	start := time.Now().Add(48 * time.Hour).In(time.FixedZone("CST", 8*3600)).Format("2006-01-02T15:04")
	do("editor", chromedp.Navigate(base+"/admin/notices/new"), chromedp.WaitVisible(chromedp.CSS("#title")),
		chromedp.SetValue(chromedp.CSS("#title"), "夏季送清凉"),
		chromedp.SetValue(chromedp.CSS("#body"), "高温季节，县总工会为一线职工送清凉。\n请到甲镇职工之家领取防暑用品。"),
		chromedp.Click(chromedp.CSS(`input[name=is_activity]`)),
		chromedp.SetValue(chromedp.CSS("#starts_at"), start),
		chromedp.SetValue(chromedp.CSS("#place"), "甲镇职工之家"),
		chromedp.SetValue(chromedp.CSS("#capacity"), "30"),
		chromedp.Click(chromedp.CSS(`button[value=preview]`)),
		chromedp.WaitVisible(chromedp.CSS("#preview")))
	if got := text("#pv-size"); got != "2" {
		t.Errorf("preview size: %s", got)
	}
	if got := text("#pv-reason"); !strings.Contains(got, "逐条发送") {
		t.Errorf("preview reason: %q", got)
	}
	shot("notice-editor")
	do("save", chromedp.Click(chromedp.CSS(`button[value=save]`)), chromedp.WaitVisible(chromedp.CSS("#publish")))
	shot("notice-draft")
	do("publish", chromedp.Click(chromedp.CSS("#publish")), chromedp.WaitVisible(chromedp.CSS("#progress")))
	if got := text(".notice.ok"); !strings.Contains(got, "正在发送给 2 人") {
		t.Errorf("publish flash: %q", got)
	}
	if got := text(`[data-k=total]`); got != "2" {
		t.Errorf("progress total: %s", got)
	}
	shot("notice-sending")

	ns, err := db.Notices(ctx, storage.NoticeQuery{Limit: 1})
	if err != nil || len(ns) != 1 {
		t.Fatal(ns, err)
	}
	n := ns[0]
	m, _ := db.MemberByNo(ctx, "A1")
	if _, err := db.SignUp(ctx, n.Activity.Number, storage.SignupIn{OpenID: "o-A1", MemberID: m.ID}); err != nil {
		t.Fatal(err)
	}

	// The worker's view: the public page at 390 px.
	do("public page", chromedp.Navigate(fmt.Sprintf("%s/n/%d", base, n.ID)), chromedp.WaitVisible(chromedp.CSS("body")))
	if got := text("body"); !strings.Contains(got, "夏季送清凉") || !strings.Contains(got, "甲镇职工之家") ||
		!strings.Contains(got, fmt.Sprintf("报名 %d", n.Activity.Number)) {
		t.Errorf("public page: %q", got)
	}
	shot("notice-public")

	do("sign-ups", chromedp.Navigate(fmt.Sprintf("%s/admin/notices/%d/signups", base, n.ID)), chromedp.WaitVisible(chromedp.CSS("#signups")))
	shot("activity-signups")
	do("check in", chromedp.Click(chromedp.CSS(`#signups button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(".notice.ok")))
	if got := text("#checked-in"); got != "1" {
		t.Errorf("checked in: %s", got)
	}
	shot("activity-checked-in")
}
