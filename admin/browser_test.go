package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"unionbot/admin/auth"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found (install it: apt-get install -y chromium)")
	}
	t.Skip("chromium not found; install it (apt-get install -y chromium) to run the browser test")
	return ""
}

// seedRoster gives the dashboard something to draw: several units, three enrolment years,
// some members bound.
func seedRoster(t *testing.T, e *env) {
	t.Helper()
	units := []string{"城关镇工会", "银湖食品公司工会", "桃园建设公司工会", "县人民医院工会", "第一中学工会", "红星机械厂工会"}
	family := []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
	given := []string{"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞"}
	var recs []storage.MemberRecord
	n := 0
	for ui, u := range units {
		for i := range 4 + 3*ui {
			n++
			years := []int{2026}
			if i%2 == 0 {
				years = []int{2024, 2025, 2026}
			} else if i%3 == 0 {
				years = []int{2025}
			}
			recs = append(recs, storage.MemberRecord{
				MemberNo: fmt.Sprintf("GH%08d", n), Name: string(family[n%len(family)]) + given[(n*7)%len(given)],
				IDNumber: fmt.Sprintf("3301021985%02d%02d%03d%d", 1+n%12, 1+n%28, n, n%10), Phone: fmt.Sprintf("139%08d", n*7919),
				UnitName: u, MutualAidYears: years,
			})
		}
	}
	out, err := e.db.UpsertMembers(t.Context(), recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
	}
	for i := 1; i <= n; i += 3 {
		m, _ := e.db.MemberByNo(t.Context(), fmt.Sprintf("GH%08d", i))
		if err := e.db.BindMember(t.Context(), m.ID, fmt.Sprintf("o-seed-%d", i), storage.AuditEntry{Actor: "member:o-seed"}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConsoleInBrowser drives the console in a real headless Chromium, one browser for the
// whole test, and saves a screenshot of every page at 390 px and 1366 px wide into
// $UNIONBOT_SCREENSHOTS (a temporary folder when unset).
func TestConsoleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	path := chromium(t)
	e := newEnv(t, storagetest.Embedded(t), memStore(t))
	seedRoster(t, e)
	e.bindA1("o-browser-a1")
	e.officer("chief", []auth.Role{auth.RoleAdmin}, 0)
	e.officer("clerk", []auth.Role{auth.RoleReviewer}, e.unitA.ID)
	e.officer("victim", []auth.Role{auth.RoleViewer}, 0)
	base := e.srv.URL

	ch := newChrome(t, path, base)
	ctx, do, text, shot, login := ch.ctx, ch.do, ch.text, ch.shot, ch.login

	do("start", chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#login-submit")))
	shot("login")

	// Wrong password, then the right one.
	login("chief", "not-the-password")
	do("wrong password", chromedp.WaitVisible(chromedp.CSS("#login-error")))
	if got := text("#login-error"); !strings.Contains(got, "用户名或密码不正确") {
		t.Errorf("wrong password message: %q", got)
	}
	login("chief", testPassword)
	do("dashboard", chromedp.WaitVisible(chromedp.CSS("#stat-members")))
	if got := text("#stat-members"); got != "72" { // 69 seeded, A1 A2 B1 (N1 has no unit)
		t.Errorf("members on the dashboard: %s, want 72", got)
	}
	shot("dashboard")

	// Member search by exact name, then the detail page.
	do("member search",
		chromedp.Navigate(base+"/admin/members"),
		chromedp.WaitVisible(chromedp.CSS("#q")),
	)
	shot("members-empty")
	do("search by name",
		chromedp.SetValue(chromedp.CSS("#q"), "张三"),
		chromedp.Submit(chromedp.CSS("#q")),
		chromedp.WaitVisible(`//table[@id="members"]//a[.="A1"]`),
	)
	do("search by unit",
		chromedp.Navigate(base+"/admin/members?unit="+"%E5%9F%8E%E5%85%B3%E9%95%87%E5%B7%A5%E4%BC%9A"),
		chromedp.WaitVisible(chromedp.CSS(`#members`)),
	)
	shot("members")
	do("member detail",
		chromedp.Navigate(base+"/admin/members/A1"),
		chromedp.WaitVisible(chromedp.CSS("#binding-state")),
	)
	if got := text("main"); !strings.Contains(got, "1101**********123X") || strings.Contains(got, "11010119900307123X") || !strings.Contains(got, "已绑定") {
		t.Errorf("member detail: %q", got)
	}
	do("issue a binding code", chromedp.Click(chromedp.CSS("#issue-code")), chromedp.WaitVisible(chromedp.CSS("#binding-code")))
	shot("member")
	do("unbind with a reason",
		chromedp.SetValue(chromedp.CSS("#reason"), "本人更换微信号，电话核实"),
		chromedp.Click(chromedp.CSS("#unbind")),
		chromedp.WaitVisible(chromedp.CSS(".notice.ok")),
	)
	if got := text("#binding-state"); !strings.Contains(got, "未绑定") {
		t.Errorf("after unbind: %q", got)
	}
	do("reveal the full ID number",
		chromedp.Click(chromedp.CSS("#reveal-id-box summary")),
		chromedp.SetValue(chromedp.CSS("#reveal-reason"), "会员到窗口办理，核对纸质申请表"),
		chromedp.Click(chromedp.CSS("#reveal-id")),
		chromedp.WaitVisible(chromedp.CSS("#full-id")),
	)
	if got := text("#full-id"); got != "11010119900307123X" {
		t.Errorf("revealed ID number: %q", got)
	}
	shot("member-reveal")

	// Admin pages.
	do("audit", chromedp.Navigate(base+"/admin/audit"), chromedp.WaitVisible(chromedp.CSS("#audit")))
	if got := text("#audit"); !strings.Contains(got, "解除绑定") || !strings.Contains(got, "officer:chief") {
		t.Errorf("audit page: %q", got)
	}
	shot("audit")
	do("officers", chromedp.Navigate(base+"/admin/officers"), chromedp.WaitVisible(chromedp.CSS("#officers")))
	shot("officers")
	do("officer", chromedp.Click(`//table[@id="officers"]//a[.="clerk"]`), chromedp.WaitVisible(chromedp.CSS("#reset-password")))
	shot("officer")
	do("password page", chromedp.Navigate(base+"/admin/password"), chromedp.WaitVisible(chromedp.CSS("#current")))
	shot("password")

	// Knowledge base: an officer attaches a group of unanswered questions to an entry and the
	// group leaves the list; the FAQ list with the try box; an edit shows the evaluation.
	seedFAQs(t, e.db)
	night := recordUnanswered(t, e.db, "夜班补贴咋算的", 27)
	recordUnanswered(t, e.db, "夜班补贴咋算的", 0)
	recordUnanswered(t, e.db, "夜班补贴怎么算", 0)
	recordUnanswered(t, e.db, "食堂饭菜太咸了，能不能跟食堂反映一下", 0)
	group := fmt.Sprintf("#group-%d", night)
	do("unanswered", chromedp.Navigate(base+"/admin/unanswered"), chromedp.WaitVisible(chromedp.CSS(group)))
	if got := text(group); !strings.Contains(got, "3 次") || !strings.Contains(got, "夜班补贴怎么算") {
		t.Errorf("unanswered group: %q", got)
	}
	shot("unanswered")
	do("attach the group",
		chromedp.SetValue(chromedp.CSS(fmt.Sprintf("#faq-%d", night)), "27"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf("#attach-%d", night))),
		chromedp.WaitVisible(chromedp.CSS(".notice.ok")),
	)
	gone, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q) === null`, group)))
	if err != nil || !gone {
		t.Errorf("the attached group is still listed (%v)", err)
	}
	if got := text(".notice.ok"); !strings.Contains(got, "已把 3 条提问归入") {
		t.Errorf("attach notice: %q", got)
	}
	shot("unanswered-attached")
	do("try a question",
		chromedp.Navigate(base+"/admin/faqs?try="+url.QueryEscape("夜班补贴咋算的")),
		chromedp.WaitVisible(chromedp.CSS("#try-result")),
	)
	if got := text("#try-result"); !strings.Contains(got, "直接回答") {
		t.Errorf("the attached phrasing is not answered directly: %q", got)
	}
	shot("faqs")
	do("edit an entry",
		chromedp.Navigate(base+"/admin/faqs/27"),
		chromedp.WaitVisible(chromedp.CSS("#save-faq")),
		chromedp.Click(chromedp.CSS("#save-faq")),
		chromedp.WaitVisible(chromedp.CSS("#faq-eval")),
	)
	shot("faq")
	// 人工: a conversation appears in the open inbox without a reload; claim and reply.
	do("inbox", chromedp.Navigate(base+"/admin/handoffs"), chromedp.WaitVisible(chromedp.CSS("#handoffs")))
	shot("handoffs-empty")
	h := e.openHandoff("o-browser-b1", "B1")
	row := fmt.Sprintf(`#handoffs tr[data-id="%d"] a`, h.ID)
	do("new conversation shows up", chromedp.WaitVisible(chromedp.CSS(row)), chromedp.WaitVisible(chromedp.CSS("#handoff-new")))
	shot("handoffs")
	do("open it", chromedp.Click(chromedp.CSS(row)), chromedp.WaitVisible(chromedp.CSS("#claim")))
	if got := text("#window"); !strings.Contains(got, "还剩 47小时") {
		t.Errorf("window: %q", got)
	}
	do("claim", chromedp.Click(chromedp.CSS("#claim")), chromedp.WaitVisible(`//*[contains(@class,"notice") and contains(., "已认领")]`))
	do("reply",
		chromedp.SetValue(chromedp.CSS("#text"), "您好，我是县总工会的工作人员，请说说具体情况。"),
		chromedp.Click(chromedp.CSS("#reply")),
		chromedp.WaitVisible(chromedp.CSS(".msg.officer")),
	)
	if got := text(".notice.ok"); !strings.Contains(got, "回复已发出") {
		t.Errorf("reply: %q", got)
	}
	shot("handoff")
	do("keywords", chromedp.Navigate(base+"/admin/keywords"), chromedp.WaitVisible(chromedp.CSS("#pattern")),
		chromedp.SetValue(chromedp.CSS("#pattern"), "会费"),
		chromedp.SetValue(chromedp.CSS("#reply"), "会费每月从工资中代扣，标准为工资的0.5%。"),
		chromedp.Click(chromedp.CSS("#add-keyword")),
		chromedp.WaitVisible(chromedp.CSS("#keywords")),
	)
	shot("keywords")
	roster := filepath.Join(t.TempDir(), "名册.csv")
	os.WriteFile(roster, []byte(rosterCSV+"R3,周九,110101199003071231,甲镇工会\n"), 0o600)
	do("roster", chromedp.Navigate(base+"/admin/roster"), chromedp.WaitVisible(chromedp.CSS("#file")),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{roster}),
		chromedp.Click(chromedp.CSS("#check")),
		chromedp.WaitVisible(chromedp.CSS("#roster-errors")),
	)
	shot("roster-check")
	do("roster apply", chromedp.Click(chromedp.CSS("#apply")), chromedp.WaitVisible(`//h2[contains(., "导入已完成")]`))
	shot("roster-done")
	// An import another replica is running, 400 of 1,000 rows done: its page polls the figures.
	running := runningImport(t, e.db)
	do("roster running", chromedp.Navigate(fmt.Sprintf("%s/admin/roster/imports/%d", base, running)),
		chromedp.WaitVisible(chromedp.CSS("#rows-done")))
	if got := text("#roster-job h2"); !strings.HasPrefix(got, "导入进行中") {
		t.Errorf("running import's heading: %q", got)
	}
	if got := text("#rows-done"); got != "400" {
		t.Errorf("rows done on the running import's page: %q", got)
	}
	shot("roster-running")
	do("my wechat", chromedp.Navigate(base+"/admin/wechat"), chromedp.WaitVisible(chromedp.CSS("#link-code-btn")),
		chromedp.Click(chromedp.CSS("#link-code-btn")), chromedp.WaitVisible(chromedp.CSS("#link-code")))
	shot("wechat")
	do("member status", chromedp.Navigate(base+"/admin/members/A2/status"), chromedp.WaitVisible(chromedp.CSS("#reason")))
	shot("member-status")

	// A cross-origin form posting into the console is refused, even with a valid-looking token.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<form id="f" method="post" action="%s/admin/members/A2/unlock-binding"><input name="csrf" value="x"></form>
<script>document.getElementById('f').submit()</script>`, base)
	}))
	defer evil.Close()
	before, _ := e.db.AuditLog(t.Context(), storage.AuditFilter{Action: "binding.unlock"})
	do("cross-origin post", chromedp.Navigate(evil.URL), chromedp.WaitVisible(`//*[contains(., "跨站请求已被拒绝")]`))
	if after, _ := e.db.AuditLog(t.Context(), storage.AuditFilter{Action: "binding.unlock"}); len(after) != len(before) {
		t.Error("a cross-origin POST changed something")
	}

	// Logout.
	do("logout", chromedp.Navigate(base+"/admin/"), chromedp.Click(chromedp.CSS(`button.linkbtn`)), chromedp.WaitVisible(chromedp.CSS("#login-submit")))
	do("after logout", chromedp.Navigate(base+"/admin/members"), chromedp.WaitVisible(chromedp.CSS("#login-submit")))

	// A unit's reviewer: no officers page, no other unit's member by URL.
	login("clerk", testPassword)
	do("clerk dashboard", chromedp.WaitVisible(chromedp.CSS("#stat-members")))
	do("clerk officers", chromedp.Navigate(base+"/admin/officers"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if got := text("main"); !strings.Contains(got, "没有权限") {
		t.Errorf("reviewer on the officers page: %q", got)
	}
	shot("forbidden")
	do("clerk other unit", chromedp.Navigate(base+"/admin/members/B1"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if got := text("main"); !strings.Contains(got, "未找到") || strings.Contains(got, "王五") {
		t.Errorf("unit A reviewer on unit B's member: %q", got)
	}
	shot("not-found")
	do("clerk own member", chromedp.Navigate(base+"/admin/members/A2"), chromedp.WaitVisible(chromedp.CSS("#binding-state")))
	do("clerk logout", chromedp.Click(chromedp.CSS(`button.linkbtn`)), chromedp.WaitVisible(chromedp.CSS("#login-submit")))

	// A reviewer handles a mutual-aid claim (claims_browser_test.go).
	claimsInBrowser(t, e, ch)
	// A legal officer handles a legal-aid case (legal_browser_test.go).
	legalInBrowser(t, e, ch)

	// Throttling: the tenth failure locks logins and says why (here the address reaches its
	// limit first: the wrong password above came from the same browser).
	for i := range 10 {
		login("victim", fmt.Sprintf("wrong-%d-password", i))
		do("failed login", chromedp.WaitVisible(chromedp.CSS("#login-error")))
	}
	login("victim", testPassword)
	do("throttled", chromedp.WaitVisible(chromedp.CSS("#login-error")))
	if got := text("#login-error"); !strings.Contains(got, "次数过多") || !strings.Contains(got, "15 分钟后再试") {
		t.Errorf("throttle message: %q", got)
	}
	shot("login-throttled")
	t.Logf("screenshots in %s", ch.shots)
}

// chrome is one headless Chromium for a browser test, on a console at base, with helpers
// that fail the test: do runs steps, text reads an element, shot saves the page at 390 px
// and 1366 px into $UNIONBOT_SCREENSHOTS (a temporary folder when unset), login signs in.
type chrome struct {
	t           *testing.T
	ctx         context.Context
	base, shots string
}

func newChrome(t *testing.T, path, base string) *chrome {
	t.Helper()
	shots := os.Getenv("UNIONBOT_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	actx, cancelA := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 768),
	)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 150*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return &chrome{t: t, ctx: ctx, base: base, shots: shots}
}

func (c *chrome) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, steps...); err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
}

func (c *chrome) text(sel string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		c.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// shot saves the current page at both widths, the whole page long, and fails the test when
// the page is wider than the screen (horizontal scrolling of the page itself).
func (c *chrome) shot(name string) {
	c.t.Helper()
	c.capture(name, chromedp.FullScreenshot(100))
}

// view saves what the screen shows at both widths (an overlay over a long page).
func (c *chrome) view(name string) {
	c.t.Helper()
	c.capture(name, chromedp.CaptureScreenshot())
}

func (c *chrome) capture(name string, grab chromedp.Action[[]byte]) {
	c.t.Helper()
	for _, size := range [][2]int64{{390, 844}, {1366, 768}} {
		if err := chromedp.Do(c.ctx, chromedp.EmulateViewport(size[0], size[1]), chromedp.Sleep(50*time.Millisecond)); err != nil {
			c.t.Fatalf("viewport %v: %v", size, err)
		}
		png, err := chromedp.Run(c.ctx, grab)
		if err != nil {
			c.t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(c.shots, fmt.Sprintf("%s-%d.png", name, size[0])), png, 0o644); err != nil {
			c.t.Fatal(err)
		}
		wide, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil {
			c.t.Fatal(err)
		}
		if wide {
			c.t.Errorf("%s at %d px: the page is wider than the screen", name, size[0])
		}
	}
}

func (c *chrome) login(user, pass string) {
	c.t.Helper()
	c.do("login as "+user,
		chromedp.Navigate(c.base+"/admin/login"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SetValue(chromedp.CSS("#username"), user),
		chromedp.SetValue(chromedp.CSS("#password"), pass),
		chromedp.Click(chromedp.CSS("#login-submit")),
	)
}
