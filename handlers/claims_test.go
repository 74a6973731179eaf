package handlers_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"unionbot/bot"
	"unionbot/claims"
	"unionbot/handlers"
	"unionbot/internal/testclock"
	"unionbot/internal/wiretest"
	"unionbot/localwx"
	"unionbot/storage"
)

// photoStore stores what the member "sends" as a medium of their own (tests of the engine
// without WeChat; over HTTP the emulator serves the photos).
type photoStore struct{ db *storage.DB }

func (p photoStore) SavePhoto(ctx context.Context, openID, mediaID string, keep time.Duration) (string, error) {
	id, _, err := p.db.SaveMedia(ctx, openID, "image/jpeg", []byte("\xFF\xD8\xFF photo "+mediaID), bot.Now(ctx).Add(keep))
	if err != nil {
		return "", err
	}
	return storage.MediaRef(id), nil
}

// newClaimsFixture is newFixture with durable forms and photo steps, on 2026-05-03.
func newClaimsFixture(t *testing.T, db *storage.DB) *fixture {
	t.Helper()
	c := testclock.New(time.Date(2026, 5, 3, 10, 30, 0, 0, shanghai))
	db = db.WithClock(c.Now)
	r := bot.NewRouter(nil)
	r.UseForms(bot.FormOptions{Drafts: db, Photos: photoStore{db}, Now: c.Now})
	svc, err := handlers.Register(r, handlers.Deps{Store: db, KV: memoryKV(t), Now: c.Now, UnionName: "测试县总工会"})
	if err != nil {
		t.Fatal(err)
	}
	store := memoryKV(t)
	return &fixture{t: t, db: db, kv: store, bot: bot.New(bot.Deps{Store: store, Router: r, Forms: db, Now: c.Now}), svc: svc, clock: c}
}

// photo sends a photo as openID (over HTTP, one the emulator has).
func (f *fixture) photo(openID, mediaID string) string {
	f.t.Helper()
	if f.wire != nil {
		f.wechat.AddMedia(mediaID, "image/jpeg", wiretest.Photo(mediaID))
	}
	return f.send(bot.Input{OpenID: openID, Kind: bot.KindImage, MediaID: mediaID})
}

// luhnCard completes a card number prefix with its Luhn check digit.
func luhnCard(prefix string) string {
	sum := 0
	for i := range len(prefix) {
		d := int(prefix[len(prefix)-1-i] - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return prefix + string(rune('0'+(10-sum%10)%10))
}

// fileClaim walks the claim form as openID up to the summary (a hospital stay from
// 2026-04-20 to 04-30, 6,000 元 out of pocket; the last claim's card when one is offered)
// and returns the summary.
func (f *fixture) fileClaim(t *testing.T, openID, admitted string) string {
	t.Helper()
	if last := f.fileToCard(t, openID, admitted); strings.Contains(last, "使用上次的银行卡") {
		return f.say(openID, "是")
	}
	f.say(openID, "农业银行")
	return f.say(openID, luhnCard("622848001234567"))
}

// fileToCard walks the claim form as openID through the photos and returns the card step's
// question.
func (f *fixture) fileToCard(t *testing.T, openID, admitted string) string {
	t.Helper()
	f.say(openID, "互助金")
	f.say(openID, "同意")
	f.say(openID, "1")
	f.say(openID, "旗人民医院")
	f.say(openID, admitted)
	f.say(openID, "4月30日") // discharged
	f.say(openID, "肺炎")
	f.say(openID, "12000")
	f.say(openID, "5000")
	f.say(openID, "6000")
	var last string
	for i, kind := range []string{"invoice", "settlement", "summary", "id", "card"} {
		f.photo(openID, kind+admitted)
		if i == 0 {
			f.photo(openID, "invoice2"+admitted)
		}
		last = f.say(openID, "好了")
	}
	return last
}

// A claim, the way a member meets it, over HTTP on both backends (wire_test.go): the
// localwx client plays WeChat against the real callback and the emulator serves the photos.
// The bumps: eligibility refused, consent refused, every re-asked answer, 返回, a photo WeChat
// no longer has, a pause, the kv store losing everything, the bot restarting, the Luhn
// read-back, 修改 N, 取消 taken back, three WeChat retries of 确认 at once; then 进度, 撤回,
// the estimate, the last card offered, the same stay filed twice, 补件 and a failed payment.
func TestClaimConversation(t *testing.T) {
	for _, be := range wireBackends {
		t.Run(be.name, func(t *testing.T) {
			// The emulator keeps 3 media, dropping the oldest as WeChat drops media after 3 days.
			f := wireFixture(t, be, localwx.EmulatorOptions{MaxMedia: 3})
			claimConversation(t, f)
		})
	}
}

func claimConversation(t *testing.T, f *fixture) {
	f.seedRoster()
	f.seedFAQs() // as served: mistyped answers meet the real FAQ
	ctx := t.Context()

	// Eligibility comes before any question.
	mustContain(t, f.say("o-nobody", "互助金"), "先绑定会员身份")
	mustContain(t, f.bind("o-li", li), "绑定成功")
	mustContain(t, f.say("o-li", "互助金"), "没有查到您可以申领的互助保障参保年度")
	mustContain(t, f.bind("o-zhang", zhang), "绑定成功")

	const z = "o-zhang"
	mustContain(t, f.say(z, "我住院了怎么报销"), "现在开始请回复“是”")
	mustContain(t, f.say(z, "是"), "开始办理互助金申领", "敏感个人信息", "回复「同意」")
	mustContain(t, f.say(z, "不同意"), "不会保存您的任何信息")
	if _, _, _, ok, _ := f.db.FormDraft(ctx, z, handlers.IntentClaim); ok {
		t.Error("a draft was kept without consent")
	}
	mustContain(t, f.say(z, "同意"), "请选择申领的保障项目", "1. 住院", "4. 意外伤害")
	mustContain(t, f.say(z, "5"), "1 到 4")
	mustContain(t, f.say(z, "住院"), "就诊医院的全称")
	mustContain(t, f.say(z, "旗人民医院"), "请写出入院日期")
	// Every answer that cannot be taken is asked again, with the reason.
	mustContain(t, f.say(z, "2026-02-30"), "没有这一天", "请写出入院日期")
	// "上个月" is not a date, though the FAQ matches it to 老板拖欠工资: asked again, not answered.
	mid := f.say(z, "上个月")
	mustContain(t, mid, "请写出入院日期")
	mustNotContain(t, mid, "拖欠工资")
	mustContain(t, f.say(z, "2024-05-01"), "2024年5月1日不在您的互助保障期内")
	mustContain(t, f.say(z, "2026-06-01"), "还没到", "请写出入院日期")
	mustContain(t, f.say(z, "4月20日"), "请写出出院日期")
	mustContain(t, f.say(z, "4月18日"), "不能早于入院日期", "请写出出院日期")
	mustContain(t, f.say(z, "返回"), "请写出入院日期")
	mustContain(t, f.say(z, "2026年4月20日"), "请写出出院日期")
	mustContain(t, f.say(z, "4月30日"), "诊断")
	mustContain(t, f.say(z, "肺炎"), "医疗总费用")
	mustContain(t, f.say(z, "好多钱"), "金额格式不对", "医疗总费用")
	mustContain(t, f.say(z, "一万二千元"), "医保统筹")
	mustContain(t, f.say(z, "5,000"), "个人自付")
	mustContain(t, f.say(z, "13000"), "不能多于医疗总费用", "个人自付")
	mustContain(t, f.say(z, "6000元"), "医疗费发票")

	// Photos through the emulator; one it no longer has is asked for again and the others
	// are kept.
	mustContain(t, f.say(z, "好了"), "还没有收到照片")
	f.wechat.AddMedia("old-photo", "image/jpeg", wiretest.Photo("old-photo"))
	mustContain(t, f.photo(z, "inv1"), "已收到第1张")
	f.photo(z, "inv2")

	// Redis loses everything (restarted without persistence) half-way through the photos:
	// the draft in the database brings the member back to where they were, photos and all.
	if f.flushKV != nil {
		f.flushKV()
		mustContain(t, f.say(z, "你好"), "您有一份没填完的「互助金申领」（填到第10步）")
		mustContain(t, f.say(z, "继续"), "好的，接着填", "医疗费发票", "已收到2张")
	}

	f.wechat.AddMedia("other", "image/jpeg", wiretest.Photo("other")) // "old-photo" is dropped
	if _, _, ok := f.wechat.Media("old-photo"); ok {
		t.Fatal("the emulator still has the old photo")
	}
	mustContain(t, f.send(bot.Input{OpenID: z, Kind: bot.KindImage, MediaID: "old-photo"}), "这张照片没有收到（可能已过期）")
	mustContain(t, f.photo(z, "inv3"), "已收到第3张")
	mustContain(t, f.say(z, "好了"), "住院费用结算单")

	// Half an hour away: asked to continue or start over.
	f.clock.Add(31 * time.Minute)
	mustContain(t, f.say(z, "你好"), "您有一份没填完的「互助金申领」")
	mustContain(t, f.say(z, "继续"), "好的，接着填", "住院费用结算单")
	f.photo(z, "settle")
	mustContain(t, f.say(z, "好了"), "出院记录或出院小结")
	f.photo(z, "summary")
	mustContain(t, f.say(z, "好了"), "身份证")
	f.photo(z, "id")
	mustContain(t, f.say(z, "好了"), "银行卡")
	f.photo(z, "card")
	mustContain(t, f.say(z, "好了"), "开户银行")

	// The bot restarts at the bank step: embedded, the in-process kv store goes with it and
	// the draft is offered back; on Redis the conversation simply goes on.
	f.restart()
	got := f.say(z, "农业银行")
	if f.backend.name == "embedded" {
		mustContain(t, got, "您有一份没填完的「互助金申领」")
		mustContain(t, f.say(z, "继续"), "开户银行")
		got = f.say(z, "农业银行")
	}
	mustContain(t, got, "银行卡号")
	mustContain(t, f.say(z, "1234"), "12到19位")
	good := luhnCard("622848001234567")
	bad := good[:len(good)-1] + string(rune('0'+(good[len(good)-1]-'0'+1)%10))
	mustContain(t, f.say(z, bad), "请核对卡号", "没有通过银行卡号校验")
	sum := f.say(z, bad) // the same number again: the member confirms it
	mustContain(t, sum, "请核对", "2 医院：旗人民医院", "3 入院日期：2026年4月20日", "4 出院日期：2026年4月30日",
		"6 医疗总费用：12,000.00 元", "8 个人自付：6,000.00 元", "9 医疗费发票：3张", "10 住院费用结算单：1张",
		"13 银行卡：1张", "14 开户银行：农业银行", "**** **** **** "+bad[len(bad)-4:], "互助金金额将在审核时核定")
	mustNotContain(t, sum, bad)
	mustContain(t, f.say(z, "修改 2"), "就诊医院的全称")
	mustContain(t, f.say(z, "县人民医院"), "已修改", "2 医院：县人民医院")
	mustContain(t, f.say(z, "取消"), "确定不办「互助金申领」了吗")
	mustContain(t, f.say(z, "否"), "请核对", "县人民医院")

	// WeChat retries 确认 three times at once: one claim, the same answer to each.
	p, err := f.wire.Client.Prepare(localwx.TextMsg(z, "确认"))
	if err != nil {
		t.Fatal(err)
	}
	replies := make([]string, 3)
	var wg sync.WaitGroup
	for i := range replies {
		wg.Go(func() {
			resp, err := f.wire.Client.Do(ctx, p)
			if err != nil {
				t.Error(err)
				return
			}
			replies[i] = resp.Text
		})
	}
	wg.Wait()
	for _, r := range replies {
		if r != replies[0] {
			t.Fatalf("retries got different replies: %q", replies)
		}
	}
	mustContain(t, replies[0], "互助金申请已提交，申请编号 HZ20260503-0001")
	m, err := f.db.MemberByOpenID(ctx, z)
	if err != nil {
		t.Fatal(err)
	}
	if cs, _, err := f.db.ListClaims(ctx, storage.ClaimFilter{MemberID: m.ID}); err != nil || len(cs) != 1 {
		t.Fatalf("claims after three retries: %d %v", len(cs), err)
	}
	c, err := f.db.ClaimByNumber(ctx, "HZ20260503-0001")
	if err != nil {
		t.Fatal(err)
	}
	if c.Hospital != "县人民医院" || c.OutOfPocket != claims.Yuan(6000) || c.TotalCost != claims.Yuan(12000) || c.Plan != claims.Hospital ||
		len(c.Attachments) != 7 || c.Diagnosis != "肺炎" || c.DischargedOn.Format(time.DateOnly) != "2026-04-30" {
		t.Errorf("stored claim: %+v", c)
	}
	if card, _ := f.db.ClaimBankCard(ctx, c.Number); card != bad {
		t.Errorf("card: %s", card)
	}
	if _, _, _, ok, _ := f.db.FormDraft(ctx, z, handlers.IntentClaim); ok {
		t.Error("draft kept after submission")
	}

	// 取消 with answers given asks first; 是 drops the draft.
	f.say(z, "互助金")
	f.say(z, "同意")
	mustContain(t, f.say(z, "取消"), "确定不办")
	mustContain(t, f.say(z, "是"), "已取消「互助金申领」")
	if _, _, _, ok, _ := f.db.FormDraft(ctx, z, handlers.IntentClaim); ok {
		t.Fatal("draft kept after 取消")
	}

	// 进度, one claim, withdrawal.
	mustContain(t, f.say(z, "进度"), "互助金申请", "HZ20260503-0001 住院：已提交")
	mustContain(t, f.say(z, "进度 hz20260503-0001"), "当前状态：已提交", "撤回 HZ20260503-0001")
	mustContain(t, f.say("o-li", "进度 HZ20260503-0001"), "没有找到您的申请")
	mustContain(t, f.say("o-li", "撤回 HZ20260503-0001"), "没有找到您的申请")
	mustContain(t, f.say("o-li", "进度"), "没有办理中的申请")
	mustContain(t, f.say(z, "撤回 HZ20260503-0001"), "已撤回互助金申请 HZ20260503-0001")
	mustContain(t, f.say(z, "撤回 HZ20260503-0001"), "已不能撤回")

	// Under rules an admin confirmed, the summary shows the estimate: 6,000 × 50% = 3,000;
	// plus 10 days × 30 元 (11 full years since 2015-03-12): 3,300.
	if _, err := f.db.SaveClaimRules(ctx, claims.Rules{ClaimWindowDays: 90, Bands: []claims.Band{{RatioPct: 50}},
		Allowance: []claims.AllowanceTier{{MinYears: 10, PerDay: claims.Yuan(30)}}}, 0, "admin", storage.AuditEntry{Actor: "officer:admin"}); err != nil {
		t.Fatal(err)
	}
	// The card step offers the last claim's card; yes takes it from that claim.
	sum = f.fileClaim(t, z, "4月20日")
	mustContain(t, sum, "预计可获互助金约 3,300.00 元", "沿用上次的银行卡：是（农业银行 尾号"+bad[len(bad)-4:]+"）")
	mustNotContain(t, sum, "银行卡号：")
	mustContain(t, f.say(z, "确认"), "HZ20260503-0002")
	if card, _ := f.db.ClaimBankCard(ctx, "HZ20260503-0002"); card != bad {
		t.Errorf("reused card: %s, want the first claim's %s", card, bad)
	}

	// The same stay again: refused, naming the first.
	f.fileClaim(t, z, "4月20日")
	mustContain(t, f.say(z, "确认"), "已提交过同一保障项目、同一入院日期的申请 HZ20260503-0002")

	// 补件: an officer asks, the member sends photos and 好了, the claim is back in review.
	mustContain(t, f.say(z, "补充材料"), "没有需要补充材料")
	if _, err := f.db.TransitionClaim(ctx, "HZ20260503-0002", storage.TransitionRequest{To: claims.Reviewing, Role: claims.RoleReviewer}, storage.AuditEntry{Actor: "officer:r"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.TransitionClaim(ctx, "HZ20260503-0002", storage.TransitionRequest{To: claims.NeedMore, Role: claims.RoleReviewer,
		Details: claims.Details{Missing: "出院小结第2页"}}, storage.AuditEntry{Actor: "officer:r"}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, f.say(z, "进度"), "HZ20260503-0002 住院：待补充材料，需补充：出院小结第2页（5月3日）",
		"HZ20260503-0001 住院：已撤回（5月3日）")
	mustContain(t, f.say(z, "进度 HZ20260503-0002"), "待补充材料", "出院小结第2页", "补充材料")
	mustContain(t, f.say(z, "补充材料"), "申请 HZ20260503-0002 需要补充材料")
	f.photo(z, "page2")
	mustContain(t, f.say(z, "好了"), "已收到 1 张照片", "继续审核")
	c, _ = f.db.ClaimByNumber(ctx, "HZ20260503-0002")
	if c.Status != claims.Reviewing || len(c.Attachments) != 7 {
		t.Errorf("after 补件: %s, %d attachments", c.Status, len(c.Attachments))
	}

	// The payment fails; the member corrects the card in chat and the claim is approved again.
	mustContain(t, f.say(z, "更正银行卡"), "没有发放失败")
	officer := storage.AuditEntry{Actor: "officer:r"}
	if _, err := f.db.TransitionClaim(ctx, "HZ20260503-0002", storage.TransitionRequest{To: claims.Approved, Role: claims.RoleReviewer,
		Details: claims.Details{Amount: claims.Yuan(3300)}}, officer); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.TransitionClaim(ctx, "HZ20260503-0002", storage.TransitionRequest{To: claims.PaymentFailed, Role: claims.RoleFinance,
		Details: claims.Details{Reason: "户名不符"}}, officer); err != nil {
		t.Fatal(err)
	}
	mustContain(t, f.say(z, "进度"), "HZ20260503-0002 住院：发放失败，原因：户名不符")
	mustContain(t, f.say(z, "进度 HZ20260503-0002"), "发放失败", "户名不符", "更正银行卡")
	mustContain(t, f.say(z, "更正银行卡"), "发放失败，请重新填写本人银行卡", "开户银行")
	mustContain(t, f.say(z, "工商银行"), "银行卡号")
	newCard := luhnCard("622202000000000")
	mustContain(t, f.say(z, newCard), "工商银行", "**** **** **** "+newCard[len(newCard)-4:])
	mustContain(t, f.say(z, "确认"), "银行卡已更正", "将重新发放")
	c, _ = f.db.ClaimByNumber(ctx, "HZ20260503-0002")
	if card, _ := f.db.ClaimBankCard(ctx, c.Number); c.Status != claims.Approved || card != newCard || c.ApprovedAmount != claims.Yuan(3300) {
		t.Errorf("after correction: %s %s %v", c.Status, card, c.ApprovedAmount)
	}
	mustContain(t, f.say(z, "进度"), "HZ20260503-0002 住院：审核通过，核定 3,300.00 元")
	mustContain(t, f.say(z, "进度 HZ20260503-0002"), "已提交", "审核中", "待补充材料，需补充：出院小结第2页", "审核通过，核定 3,300.00 元", "发放失败，原因：户名不符")
}
