package admin_test

import (
	"context"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

	// A real photo to upload.
	photo := filepath.Join(t.TempDir(), "发票.png")
	if err := os.WriteFile(photo, photoPNG(t, 40, 30, color.RGBA{120, 160, 200, 255}), 0o644); err != nil {
		t.Fatal(err)
	}

	br := newChrome(t, path, c.srv.URL)
	ctx, do, text, shot := br.ctx, br.do, br.text, br.shot
	br.login("clerk", testPassword)
	do("logged in", chromedp.WaitVisible(chromedp.CSS(".nav")))

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
