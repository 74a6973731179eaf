package handlers_test

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"unionbot/claims"
	"unionbot/handlers"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

var claimNumber = regexp.MustCompile(`HZ\d{8}-\d{4}`)

// TestClaimEntryFollowsTheChatRules files a claim in chat, withdraws it, then enters the
// same answers as an officer (代录): the claim is the same in every rule-made figure, and
// what the chat refuses the entry refuses with the same reasons.
func TestClaimEntryFollowsTheChatRules(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newClaimsFixture(t, db)
		ms := f.seedRoster()
		ctx := t.Context()
		mustContain(t, f.bind("o-zhang", zhang), "绑定成功")
		f.fileClaim(t, "o-zhang", "4月20日")
		done := f.say("o-zhang", "确认")
		number := claimNumber.FindString(done)
		if number == "" {
			t.Fatalf("chat claim: %s", done)
		}
		chat, err := f.db.ClaimByNumber(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		mustContain(t, f.say("o-zhang", "撤回 "+number), "已撤回")

		const owner = "console:officer:rev"
		photos := map[claims.DocKind][]int64{}
		for _, k := range claims.RequiredDocs(claims.Hospital) {
			id, _, err := f.db.SaveMedia(ctx, owner, "image/jpeg", []byte("\xFF\xD8\xFF paper "+string(k)), f.clock.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			photos[k] = []int64{id}
		}
		entry := handlers.ClaimEntry{MemberID: ms[zhang.no].ID, Consent: true, Plan: "hospital", Hospital: "旗人民医院",
			AdmittedOn: "2026-04-20", DischargedOn: "4月30日", Diagnosis: "肺炎", TotalCost: "一万二千元", InsurancePaid: "5,000",
			OutOfPocket: "6000元", BankName: "农业银行", BankCard: luhnCard("622848001234567"), Photos: photos, MediaOwner: owner}

		// What the chat refuses, the entry refuses, with the chat's reasons.
		for _, tc := range []struct {
			name  string
			edit  func(e *handlers.ClaimEntry)
			field string
			want  string
		}{
			{"no consent", func(e *handlers.ClaimEntry) { e.Consent = false }, "consent", "纸质申请表上签字"},
			{"outside cover", func(e *handlers.ClaimEntry) { e.AdmittedOn = "2024-05-01" }, "admitted_on", "2024年5月1日不在"},
			{"future", func(e *handlers.ClaimEntry) { e.AdmittedOn = "2026-06-01" }, "admitted_on", "还没到"},
			{"discharge before admission", func(e *handlers.ClaimEntry) { e.DischargedOn = "4月18日" }, "discharged_on", "不能早于入院日期"},
			{"own above total", func(e *handlers.ClaimEntry) { e.OutOfPocket = "13000" }, "out_of_pocket", "不能多于医疗总费用"},
			{"no hospital", func(e *handlers.ClaimEntry) { e.Hospital = " " }, "hospital", "请填写医院"},
			{"short card", func(e *handlers.ClaimEntry) { e.BankCard = "1234" }, "bank_card", "12到19位"},
			{"Luhn", func(e *handlers.ClaimEntry) { e.BankCard = "6228480012345670" }, "bank_card", "与会员的银行卡逐位核对"},
			{"no invoice", func(e *handlers.ClaimEntry) {
				e.Photos = map[claims.DocKind][]int64{claims.DocSettlement: photos[claims.DocSettlement]}
			}, "doc_invoice", "请上传医疗费发票"},
			{"not enrolled", func(e *handlers.ClaimEntry) { e.MemberID = ms[li.no].ID }, "member_no", "没有查到该会员可以申领"},
			{"transferred", func(e *handlers.ClaimEntry) { e.MemberID = ms[wang.no].ID }, "member_no", "该会员状态为"},
		} {
			e := entry
			tc.edit(&e)
			err := f.svc.Claims.CheckEntry(ctx, e)
			ee, ok := handlers.IsEntryError(err)
			if !ok {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			found := false
			for _, p := range ee.Problems {
				found = found || (p.Field == tc.field && strings.Contains(p.Message, tc.want))
			}
			if !found {
				t.Errorf("%s: %+v", tc.name, ee.Problems)
			}
		}
		// A card failing the Luhn check is taken once the officer has compared it.
		e := entry
		e.BankCard, e.CardChecked = "6228480012345670", true
		if err := f.svc.Claims.CheckEntry(ctx, e); err != nil {
			t.Errorf("checked card: %v", err)
		}

		res, err := f.svc.Claims.SubmitEntry(ctx, entry, storage.AuditEntry{Actor: "officer:rev"})
		if err != nil || !res.Created {
			t.Fatalf("entry: %+v %v", res, err)
		}
		got := res.Claim
		if !reflect.DeepEqual(got.Estimate, chat.Estimate) || got.RulesVersion != chat.RulesVersion || got.Estimate.Amount <= 0 {
			t.Errorf("estimate: entry %+v, chat %+v", got.Estimate, chat.Estimate)
		}
		if got.Plan != chat.Plan || !got.AdmittedOn.Equal(chat.AdmittedOn) || !got.DischargedOn.Equal(chat.DischargedOn) ||
			got.TotalCost != chat.TotalCost || got.InsurancePaid != chat.InsurancePaid || got.OutOfPocket != chat.OutOfPocket ||
			got.BankCardMasked != chat.BankCardMasked || got.Diagnosis != chat.Diagnosis || got.Hospital != chat.Hospital {
			t.Errorf("entry %+v\nchat %+v", got, chat)
		}
		if got.SubmittedBy != "officer:rev" || len(got.Attachments) != len(claims.RequiredDocs(claims.Hospital)) || !strings.HasPrefix(got.Number, "HZ20260503-") {
			t.Errorf("entry claim: %s %d %s", got.SubmittedBy, len(got.Attachments), got.Number)
		}
		if row, err := f.db.OutboxByKey(ctx, "claim:"+got.Number+":v1"); err != nil || row.OpenID != "o-zhang" {
			t.Errorf("member notice: %+v %v", row, err)
		}
		// The member sees it in 进度 like any claim.
		mustContain(t, f.say("o-zhang", "进度"), got.Number)
	})
}
