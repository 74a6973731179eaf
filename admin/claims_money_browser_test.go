package admin_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"unionbot/admin/auth"
	"unionbot/claims"
	"unionbot/storage/storagetest"
)

// TestClaimMoneyInBrowser drives 代录 in a real headless Chromium — fill the paper form, a
// mistake told beside its field, the photos kept, submit — and opens the payment, premium,
// yearly-figure and 公示 pages, with screenshots at 390 px and 1366 px in
// $UNIONBOT_SCREENSHOTS.
func TestClaimMoneyInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	path := chromium(t)
	c := setupClaims(t, newEnv(t, storagetest.Embedded(t), memStore(t)))
	c.onClock()
	yearlyClaims(t, c)
	c.approved("B1", "2026-11-10", "1500.00")
	c.officer("clerk", []auth.Role{auth.RoleAdmin, auth.RoleFinance}, 0)
	base := c.srv.URL

	shots := os.Getenv("UNIONBOT_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	// A real photo to upload.
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		for y := range 30 {
			img.Set(x, y, color.RGBA{uint8(x * 6), uint8(y * 8), 120, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	photo := filepath.Join(t.TempDir(), "发票.png")
	if err := os.WriteFile(photo, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	actx, cancelA := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1366, 768),
	)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx)
	defer cancelC()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	shot := func(name string) {
		t.Helper()
		for _, size := range [][2]int64{{390, 844}, {1366, 768}} {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size[0], size[1]), chromedp.Sleep(50*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("screenshot %s: %v", name, err)
			}
			if err := os.WriteFile(filepath.Join(shots, fmt.Sprintf("%s-%d.png", name, size[0])), img, 0o644); err != nil {
				t.Fatal(err)
			}
			wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
			if err != nil {
				t.Fatal(err)
			}
			if wide {
				t.Errorf("%s at %d px: the page is wider than the screen", name, size[0])
			}
		}
	}

	do("login", chromedp.Navigate(base+"/admin/login"), chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SetValue(chromedp.CSS("#username"), "clerk"), chromedp.SetValue(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("#login-submit")), chromedp.WaitVisible(chromedp.CSS(".nav")))

	// 代录: look the member up, fill the paper form with one mistake, upload the photos.
	do("lookup", chromedp.Navigate(base+"/admin/claims/new"), chromedp.WaitVisible(chromedp.CSS("#lookup-no")),
		chromedp.SetValue(chromedp.CSS("#lookup-no"), "A1"), chromedp.Submit(chromedp.CSS("#lookup-no")),
		chromedp.WaitVisible(chromedp.CSS("#member-card")))
	if got := text("#member-card"); !strings.Contains(got, "张三") || !strings.Contains(got, "甲镇工会") {
		t.Errorf("member card: %q", got)
	}
	fill := []chromedp.Action[chromedp.Void]{
		chromedp.Click(chromedp.CSS("#consent")),
		chromedp.SetValue(chromedp.CSS("#plan"), "hospital"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("plan").dispatchEvent(new Event("change"))`),
		chromedp.SetValue(chromedp.CSS("#hospital"), "旗人民医院"),
		chromedp.SetValue(chromedp.CSS("#admitted_on"), "2026-11-15"),
		chromedp.SetValue(chromedp.CSS("#discharged_on"), "2026-11-20"),
		chromedp.SetValue(chromedp.CSS("#diagnosis"), "腰椎间盘突出"),
		chromedp.SetValue(chromedp.CSS("#total_cost"), "8,600"),
		chromedp.SetValue(chromedp.CSS("#insurance_paid"), "5000"),
		chromedp.SetValue(chromedp.CSS("#out_of_pocket"), "9000"), // more than the total: told
		chromedp.SetValue(chromedp.CSS("#bank_name"), "中国农业银行"),
		chromedp.SetValue(chromedp.CSS("#bank_card"), "6228 4800 1234 5671"),
	}
	for _, k := range claims.RequiredDocs(claims.Hospital) {
		fill = append(fill, chromedp.SetUploadFiles(chromedp.CSS("#doc_"+string(k)), []string{photo}))
	}
	do("fill", fill...)
	// The plan's documents only: no accident proof for a hospital stay.
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("doc_accident_proof").closest(".field").classList.contains("hidden")`))
	if err != nil || !hidden {
		t.Errorf("accident proof shown for a hospital stay: %v", err)
	}
	shot("claim-new")
	do("submit with a mistake", chromedp.Click(chromedp.CSS("#submit-claim")), chromedp.WaitVisible(chromedp.CSS(".field-error")))
	if got := text(".field.has-error"); !strings.Contains(got, "不能多于医疗总费用") {
		t.Errorf("field error: %q", got)
	}
	if got := text("main"); !strings.Contains(got, "已上传 1 张") {
		t.Errorf("photos not kept: %q", got)
	}
	shot("claim-new-error")
	do("correct and submit", chromedp.SetValue(chromedp.CSS("#out_of_pocket"), "3600"), chromedp.Click(chromedp.CSS("#submit-claim")),
		chromedp.WaitVisible(chromedp.CSS(".notice.ok")))
	if got := text(".notice.ok"); !strings.Contains(got, "已为会员 张三（A1）代录互助金申请 HZ20261124-") {
		t.Errorf("done: %q", got)
	}
	shot("claim-new-done")
	cs := c.claimsOf("A1")
	if len(cs) != 2 || cs[0].Hospital != "旗人民医院" || cs[0].OutOfPocket != claims.Yuan(3600) || cs[0].SubmittedBy != "officer:clerk" {
		t.Errorf("claims of A1: %+v", cs)
	} else if full := c.status(cs[0].Number); len(full.Attachments) != len(claims.RequiredDocs(claims.Hospital)) {
		t.Errorf("attachments: %d", len(full.Attachments))
	}

	// The money pages.
	do("payments", chromedp.Navigate(base+"/admin/payments"), chromedp.WaitVisible(chromedp.CSS("#awaiting")),
		chromedp.Click(chromedp.CSS("#awaiting details.pay-mark summary")))
	shot("payments")
	do("premiums", chromedp.Navigate(base+"/admin/premiums?year=2026"), chromedp.WaitVisible(chromedp.CSS("#premiums")))
	shot("premiums")
	do("stats", chromedp.Navigate(base+"/admin/stats?year=2026"), chromedp.WaitVisible(chromedp.CSS("#yearly")))
	if got := text("#summary"); !strings.Contains(got, "2家单位的3名职工办理了互助金申领手续") {
		t.Errorf("summary: %q", got)
	}
	shot("stats")
	do("public list", chromedp.Navigate(base+"/admin/stats/public?year=2026"), chromedp.WaitVisible(chromedp.CSS("#public-list")))
	shot("stats-public")
	// Printed, the list stands alone: no navigation, no buttons.
	do("print media", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	}))
	if vis, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector(".topbar")).display !== "none"`)); err != nil || vis {
		t.Errorf("navigation printed: %v", err)
	}
	shot("stats-public-print")
}
