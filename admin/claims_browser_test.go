package admin_test

import (
	"image/color"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"unionbot/admin/auth"
	"unionbot/claims"
)

// claimsInBrowser is TestConsoleInBrowser's claims part, in its browser: a reviewer logs in,
// opens the queue, opens a claim, looks at its photos in the viewer (zoom, rotate, next),
// starts the review and approves the claim with an amount of their own; the claim is
// approved in storage and the member's notice is in the outbox.
func claimsInBrowser(t *testing.T, e *env, ch *chrome) {
	c := setupClaims(t, e)
	ctx := t.Context()
	// A portrait invoice photo and a landscape settlement sheet, real PNGs.
	n := c.file("A1", "2026-11-01", string(photoPNG(t, 600, 800, color.RGBA{235, 225, 200, 255})))
	c.addPhoto(n, "A1", claims.DocSettlement, photoPNG(t, 800, 500, color.RGBA{200, 220, 235, 255}))
	c.file("B1", "2026-11-05", string(photoPNG(t, 60, 80, color.RGBA{200, 200, 200, 255})))
	e.officer("shen", []auth.Role{auth.RoleReviewer}, 0)

	ch.login("shen", testPassword)
	ch.do("claims in the nav", chromedp.WaitVisible(chromedp.CSS(`.nav a[href="/admin/claims"]`)),
		chromedp.Click(chromedp.CSS(`.nav a[href="/admin/claims"]`)), chromedp.WaitVisible(chromedp.CSS("#claims")))
	if got := ch.text("#claims"); !strings.Contains(got, n) || !strings.Contains(got, "已提交") || !strings.Contains(got, "张*") {
		t.Errorf("queue: %q", got)
	}
	ch.shot("claims")
	ch.do("open the claim", chromedp.Click(chromedp.CSS(`#claims a[href="/admin/claims/`+n+`"]`)), chromedp.WaitVisible(chromedp.CSS("#claim-status")))
	if got := ch.text("#estimate"); !strings.Contains(got, "3,200.00") || !strings.Contains(got, "示例规则") {
		t.Errorf("estimate: %q", got)
	}
	ch.shot("claim")

	// The viewer: the photo is fetched through the authorized endpoint and decoded.
	ch.do("open the first photo", chromedp.Click(chromedp.CSS(`#photos a.thumb`)),
		chromedp.WaitVisible(chromedp.CSS("#pv-img")), chromedp.WaitReady(chromedp.CSS(`#pv[data-loaded="true"]`)))
	w, err := chromedp.Run(ch.ctx, chromedp.Evaluate[int](`document.getElementById('pv-img').naturalWidth`))
	if err != nil || w != 600 {
		t.Errorf("the photo in the viewer: %d px wide (%v)", w, err)
	}
	if got := ch.text("#pv-count"); got != "1 / 2" {
		t.Errorf("count: %q", got)
	}
	ch.do("zoom in twice, rotate", chromedp.Click(chromedp.CSS("#pv-in")), chromedp.Click(chromedp.CSS("#pv-in")),
		chromedp.Click(chromedp.CSS("#pv-rotate")))
	attr := func(name string) string {
		t.Helper()
		v, err := chromedp.Run(ch.ctx, chromedp.Evaluate[string](`document.getElementById('pv').getAttribute('`+name+`')`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if attr("data-zoom") != "1.5625" || attr("data-rotate") != "90" || ch.text("#pv-zoom") != "156%" {
		t.Errorf("zoom %s rotate %s label %s", attr("data-zoom"), attr("data-rotate"), ch.text("#pv-zoom"))
	}
	ch.do("zoom out", chromedp.Click(chromedp.CSS("#pv-out")))
	if attr("data-zoom") != "1.25" {
		t.Errorf("zoom out: %s", attr("data-zoom"))
	}
	ch.do("back to fit", chromedp.Click(chromedp.CSS("#pv-out")))
	ch.view("claim-viewer")
	ch.do("next photo", chromedp.Click(chromedp.CSS("#pv-next")), chromedp.WaitReady(chromedp.CSS(`#pv[data-loaded="true"]`)))
	if got := ch.text("#pv-count"); got != "2 / 2" || !strings.Contains(ch.text("#pv-caption"), "住院费用结算单") || attr("data-rotate") != "0" {
		t.Errorf("next: %q %q", got, ch.text("#pv-caption"))
	}
	ch.do("previous wraps", chromedp.Click(chromedp.CSS("#pv-prev")), chromedp.Click(chromedp.CSS("#pv-prev")))
	if got := ch.text("#pv-count"); got != "2 / 2" {
		t.Errorf("previous from the first: %q", got)
	}
	// The keyboard stays in the viewer: Tab from its last button comes back to its first.
	focused := func() string {
		t.Helper()
		id, err := chromedp.Run(ch.ctx, chromedp.Evaluate[string](`document.activeElement.id`))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	ch.do("tab past the last button", chromedp.Focus(chromedp.CSS("#pv-close")), chromedp.KeyEvent("\t"))
	if got := focused(); got != "pv-prev" {
		t.Errorf("focus after Tab on the last button: %q", got)
	}
	ch.do("Esc closes", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.CSS("#pv")))

	// Start the review, then approve with the reviewer's amount (prefilled with the estimate).
	ch.do("start review", chromedp.Click(chromedp.CSS("#do-reviewing")), chromedp.WaitVisible(chromedp.CSS("#amount")))
	if got := ch.text(".notice.ok"); !strings.Contains(got, "审核中") {
		t.Errorf("after start: %q", got)
	}
	v, err := chromedp.Run(ch.ctx, chromedp.Value(chromedp.CSS("#amount")))
	if err != nil || v != "3200" {
		t.Errorf("amount prefilled: %q %v", v, err)
	}
	ch.shot("claim-reviewing")
	ch.do("approve", chromedp.SetValue(chromedp.CSS("#amount"), "3000"), chromedp.Click(chromedp.CSS("#do-approved")),
		// The page before already shows a notice: wait for the new status itself.
		chromedp.WaitVisible(`//*[@id="claim-status" and normalize-space(.)="审核通过"]`))
	if got := ch.text(".notice.ok"); !strings.Contains(got, "审核通过") {
		t.Errorf("status on the page: %q", got)
	}
	if got := ch.text("#approved"); !strings.Contains(got, "3,000.00") || !strings.Contains(got, "比预估少 200.00 元") {
		t.Errorf("approved amount: %q", got)
	}
	ch.shot("claim-approved")
	cl, err := c.db.ClaimByNumber(ctx, n)
	if err != nil || cl.Status != claims.Approved || cl.ApprovedAmount != claims.Yuan(3000) || cl.History[len(cl.History)-1].Actor != "officer:shen" {
		t.Fatalf("in storage: %s %v %v", cl.Status, cl.ApprovedAmount, err)
	}
	m, err := c.db.OutboxByKey(ctx, "claim:"+n+":v3")
	if err != nil || m.MemberID != cl.MemberID || !strings.Contains(m.Content.Text, "审核通过") || !strings.Contains(m.Content.Text, "3000.00") {
		t.Errorf("the member's notice: %+v %v", m, err)
	}
	ch.do("logout", chromedp.Click(chromedp.CSS(`button.linkbtn`)), chromedp.WaitVisible(chromedp.CSS("#login-submit")))

	// The county admin confirms the union's own rules: the example marker goes.
	ch.login("chief", testPassword)
	ch.do("rules", chromedp.WaitVisible(chromedp.CSS("#stat-members")), chromedp.Navigate(ch.base+"/admin/claims"), chromedp.WaitVisible(chromedp.CSS("#rules-link")),
		chromedp.Click(chromedp.CSS("#rules-link")), chromedp.WaitVisible(chromedp.CSS("#rules-example")))
	ch.shot("claim-rules")
	ch.do("save rules", chromedp.SetValue(chromedp.CSS("#deductible"), "300"), chromedp.Click(chromedp.CSS("#save-rules")),
		chromedp.WaitVisible(chromedp.CSS("#rules-own")))
	if rs, err := c.db.ClaimRules(ctx); err != nil || rs.Version != 1 || rs.Rules.Deductible != claims.Yuan(300) || rs.ConfirmedBy != "chief" {
		t.Errorf("rules saved: %+v %v", rs, err)
	}
	ch.do("logout", chromedp.Click(chromedp.CSS(`button.linkbtn`)), chromedp.WaitVisible(chromedp.CSS("#login-submit")))
}
