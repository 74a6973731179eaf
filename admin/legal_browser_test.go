package admin_test

import (
	"image/color"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"unionbot/admin/auth"
	"unionbot/legalaid"
	"unionbot/storage"
)

// legalInBrowser is TestConsoleInBrowser's legal-aid part, in its browser: a legal officer
// sees the urgent badge, opens a case, looks at its evidence in the viewer, accepts it, and
// reads the yearly figures.
func legalInBrowser(t *testing.T, e *env, ch *chrome) {
	ctx := t.Context()
	a1, err := e.db.MemberByNo(ctx, "A1")
	if err != nil {
		t.Fatal(err)
	}
	var evidence []int64
	for _, p := range [][]byte{photoPNG(t, 600, 800, color.RGBA{235, 225, 200, 255}), photoPNG(t, 900, 600, color.RGBA{210, 230, 210, 255})} {
		id, _, err := e.db.SaveMedia(ctx, "o-legal-a1", "image/png", p, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		evidence = append(evidence, id)
	}
	audit := storage.AuditEntry{Actor: "test"}
	c, _, err := e.db.SubmitLegalCase(ctx, storage.LegalCaseInput{OpenID: "o-legal-a1", MemberID: a1.ID, Type: legalaid.WageArrears,
		Stage: legalaid.NoResponse, Employer: "城关镇银湖建筑工程有限公司", Workplace: "银湖小区三期工地", Workers: 23, Amount: 4200000,
		HasAmount: true, Description: "干了八个月，老板一直拖着不结工资。\n包工头电话也打不通了。", ContactName: "张三",
		ContactPhone: "13912345678", ContactTime: "工作日晚上7点后", Evidence: evidence}, audit)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := legalaid.Detect("他们要打人了")
	if _, _, err := e.db.ReportCrisis(ctx, storage.CrisisReport{OpenID: "o-legal-crisis", Signal: sig, Text: "工地上他们要打人了"}, audit); err != nil {
		t.Fatal(err)
	}
	e.officer("liuls", []auth.Role{auth.RoleLegal}, 0)
	// A closed, rated case for the yearly figures.
	done, _, err := e.db.SubmitLegalCase(ctx, storage.LegalCaseInput{OpenID: "o-legal-done", Type: legalaid.WorkInjury,
		Employer: "县供电公司", Workers: 1, Description: "工伤认定", ContactName: "王五", ContactPhone: "13812345678"}, audit)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.AssignLegalCase(ctx, done.Number, "liuls", 0, audit); err != nil {
		t.Fatal(err)
	}
	for _, s := range []storage.LegalTransition{{To: legalaid.Accepted}, {To: legalaid.Contacted}, {To: legalaid.InProgress},
		{To: legalaid.Closed, Details: legalaid.Details{Outcome: legalaid.Mediated}}} {
		s.Role = legalaid.RoleLegal
		if _, err := e.db.TransitionLegalCase(ctx, done.Number, s, audit); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.db.RateLegalCase(ctx, "o-legal-done", done.Number, 5, audit); err != nil {
		t.Fatal(err)
	}

	ch.login("liuls", testPassword)
	ch.do("the urgent badge", chromedp.WaitVisible(chromedp.CSS(`.nav a[href="/admin/legal"] .navbadge`)))
	if got := ch.text(`.nav a[href="/admin/legal"] .navbadge`); got != "1" {
		t.Errorf("urgent badge %q", got)
	}
	ch.do("the queue", chromedp.Click(chromedp.CSS(`.nav a[href="/admin/legal"]`)), chromedp.WaitVisible(chromedp.CSS("#legal-cases")))
	ch.shot("legal-cases")
	ch.do("open the case", chromedp.Click(chromedp.CSS(`#legal-cases a[href="/admin/legal/`+c.Number+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#evidence")))
	if got := ch.text("#evidence"); !strings.Contains(got, "共 2 张") {
		t.Errorf("evidence: %q", got)
	}
	ch.shot("legal-case")
	ch.do("open the second photo", chromedp.Click(chromedp.CSS(`#evidence a.thumb:nth-child(2)`)),
		chromedp.WaitVisible(chromedp.CSS("#pv-img")), chromedp.WaitReady(chromedp.CSS(`#pv[data-loaded="true"]`)))
	w, err := chromedp.Run(ch.ctx, chromedp.Evaluate[int](`document.getElementById('pv-img').naturalWidth`))
	if err != nil || w != 900 {
		t.Errorf("the photo in the viewer: %d px wide (%v)", w, err)
	}
	if got := ch.text("#pv-count"); got != "2 / 2" || !strings.Contains(ch.text("#pv-caption"), "证据照片 2") {
		t.Errorf("viewer: %q %q", got, ch.text("#pv-caption"))
	}
	ch.view("legal-viewer")
	ch.do("close", chromedp.Click(chromedp.CSS("#pv-close")), chromedp.WaitNotVisible(chromedp.CSS("#pv")))
	ch.do("accept", chromedp.Click(`//button[contains(., "改为「已受理」")]`), chromedp.WaitVisible(chromedp.CSS(".notice.ok")))
	if got, _ := e.db.LegalCaseByNumber(ctx, c.Number); got.Status != legalaid.Accepted {
		t.Errorf("after accepting: %s", got.Status)
	}
	ch.do("yearly figures", chromedp.Navigate(ch.base+"/admin/legal/stats"), chromedp.WaitVisible(chromedp.CSS("#by-officer")))
	if got := ch.text("#year-cases"); got != "3" {
		t.Errorf("cases this year: %q", got)
	}
	ch.shot("legal-stats")
	ch.do("logout", chromedp.Click(chromedp.CSS(`button.linkbtn`)), chromedp.WaitVisible(chromedp.CSS("#login-submit")))
}
