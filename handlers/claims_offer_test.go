package handlers_test

import (
	"strings"
	"testing"
	"time"

	"unionbot/claims"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// Asking how to claim, in any of the ways people ask, answers briefly and offers the
// claim form with one reply; a question about the cost of the cover does not.
func TestAskingStartsClaim(t *testing.T) {
	f := newClaimsFixture(t, storagetest.Embedded(t))
	f.seedRoster()
	f.seedFAQs()
	ctx := t.Context()
	const z = "o-ask"
	mustContain(t, f.bind(z, zhang), "绑定成功")

	for _, q := range []string{"我住院了怎么报销", "互助金怎么申请", "生病了能报销吗", "住院花了好多钱工会能补吗"} {
		got := f.say(z, q)
		mustContain(t, got, "互助金", "现在开始请回复“是”", "随时发送“互助金”")
		if !strings.HasSuffix(got, "以后也可以随时发送“互助金”。") {
			t.Errorf("the offer is not the last thing said: %q", got) // one question per message
		}
		mustContain(t, f.say(z, "不用了"), "好的。还有其他问题随时发给我")
	}
	// An officers' keyword rule answers in their words, with the offer under it.
	if _, err := f.db.CreateKeywordRule(ctx, storage.KeywordRule{Pattern: "去哪报销", Match: storage.MatchContains, Reply: "报销请带好发票原件。", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Minute) // the knowledge cache reloads
	mustContain(t, f.say(z, "申请互助金要去哪报销"), "报销请带好发票原件。", "现在开始请回复“是”")
	mustContain(t, f.say(z, "好的"), "开始办理互助金申领", "敏感个人信息")
	mustContain(t, f.say(z, "取消"), "已取消")

	// Questions that are not a claim get the FAQ, and no offer.
	for _, q := range []string{"互助保障一年多少钱", "互助金多久能到账", "怎么参加互助保障", "我的互助金申请到哪一步了"} {
		mustNotContain(t, f.say(z, q), "现在开始请回复“是”")
	}
	// Without an offer just made, "好" is an acknowledgement.
	mustContain(t, f.say(z, "好"), "不客气")

	// The offer lasts one reply: another message, a command or half an hour closes it.
	f.say(z, "我住院了怎么报销")
	f.say(z, "菜单")
	mustNotContain(t, f.say(z, "是"), "开始办理互助金申领")
	f.say(z, "我住院了怎么报销")
	f.clock.Add(31 * time.Minute)
	mustNotContain(t, f.say(z, "是"), "开始办理互助金申领")
	f.say(z, "我住院了怎么报销")
	mustContain(t, f.say(z, "互助金"), "开始办理互助金申领") // the keyword, not the yes
	mustContain(t, f.say(z, "取消"), "已取消")
	mustContain(t, f.say(z, "好"), "不客气")

	// Someone not bound is offered it too, and told at the yes what to do first.
	mustContain(t, f.say("o-stranger", "生病了能报销吗"), "现在开始请回复“是”")
	mustContain(t, f.say("o-stranger", "是"), "先绑定会员身份")

	// Medical costs are a claim even when they name an insurance; a work injury is legal aid's.
	mustContain(t, f.say(z, "住院了医疗保险怎么报销"), "可以申请工会互助金", "现在开始请回复“是”")
	mustContain(t, f.say(z, "工伤住院了怎么报销"), "回复“是”（或“法律援助”）")
	mustContain(t, f.say(z, "不用"), "好的")

	// Legal aid answers and offers through the same mechanism.
	mustContain(t, f.say("o-worker", "老板拖欠工资怎么办"), "回复“是”（或“法律援助”）")
	mustContain(t, f.say("o-worker", "是"), "交给工会法律援助工作人员")
}

// The card step offers the card of the member's last claim (never one whose payment
// failed); no asks for a new card, and 修改 N can change the choice.
func TestClaimCardFromLastClaim(t *testing.T) {
	f := newClaimsFixture(t, storagetest.Embedded(t))
	f.seedRoster()
	ctx := t.Context()
	const z = "o-card"
	f.bind(z, zhang)

	// The first claim: no card to offer.
	mustContain(t, f.fileToCard(t, z, "4月20日"), "请写出开户银行")
	f.say(z, "农业银行")
	first := luhnCard("622848001234567")
	mustContain(t, f.say(z, first), "请核对")
	mustContain(t, f.say(z, "确认"), "HZ20260503-0001")

	// The second: offered, refused, a new card typed.
	mustContain(t, f.fileToCard(t, z, "4月10日"), "使用上次的银行卡（尾号"+first[len(first)-4:]+"，农业银行）吗？回复“是”或“否”")
	mustContain(t, f.say(z, "哪张卡"), "请回复“是”或“否”", "使用上次的银行卡")
	mustContain(t, f.say(z, "否"), "请写出开户银行")
	f.say(z, "工商银行")
	second := luhnCard("622202000000001")
	sum := f.say(z, second)
	mustContain(t, sum, "14 沿用上次的银行卡：否", "15 开户银行：工商银行", "16 银行卡号：")
	// Changed to yes at the summary: the typed card is dropped.
	mustContain(t, f.say(z, "修改 14"), "使用上次的银行卡")
	sum = f.say(z, "是")
	mustContain(t, sum, "已修改", "14 沿用上次的银行卡：是（农业银行 尾号"+first[len(first)-4:]+"）")
	mustNotContain(t, sum, "工商银行", "银行卡号")
	mustContain(t, f.say(z, "修改 14"), "使用上次的银行卡")
	mustContain(t, f.say(z, "否"), "请写出开户银行")
	f.say(z, "工商银行")
	mustContain(t, f.say(z, second), "16 银行卡号：")
	mustContain(t, f.say(z, "确认"), "HZ20260503-0002")
	if card, _ := f.db.ClaimBankCard(ctx, "HZ20260503-0002"); card != second {
		t.Fatalf("second claim's card %s, want %s", card, second)
	}

	// The second card's payment fails: the third claim is offered the first card.
	officer := storage.AuditEntry{Actor: "officer:r"}
	for _, step := range []storage.TransitionRequest{
		{To: claims.Reviewing, Role: claims.RoleReviewer},
		{To: claims.Approved, Role: claims.RoleReviewer, Details: claims.Details{Amount: claims.Yuan(100)}},
		{To: claims.PaymentFailed, Role: claims.RoleFinance, Details: claims.Details{Reason: "户名不符"}},
	} {
		if _, err := f.db.TransitionClaim(ctx, "HZ20260503-0002", step, officer); err != nil {
			t.Fatal(err)
		}
	}
	mustContain(t, f.fileToCard(t, z, "3月1日"), "尾号"+first[len(first)-4:]+"，农业银行")
	mustContain(t, f.say(z, "是"), "请核对")
	mustContain(t, f.say(z, "确认"), "HZ20260503-0003")
	c, err := f.db.ClaimByNumber(ctx, "HZ20260503-0003")
	if err != nil {
		t.Fatal(err)
	}
	if card, _ := f.db.ClaimBankCard(ctx, c.Number); card != first || c.BankName != "农业银行" {
		t.Fatalf("third claim's card %s at %s, want the first's %s", card, c.BankName, first)
	}
}
