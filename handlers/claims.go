package handlers

// 互助金 in chat: the claim form (eligibility first, separate consent for medical and bank
// details, plan, dates, costs, photos per plan, bank card with a Luhn read-back, a summary
// with the estimate once the union's rules are confirmed, 确认 → claim number), 进度 and
// 进度 HZ… (my claims and one claim's timeline), 撤回 HZ… (before review), 补充材料 (the
// photos an officer asked for).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"unionbot/bot"
	"unionbot/claims"
	"unionbot/parse"
	"unionbot/pii"
	"unionbot/storage"
)

// IntentClaimMore is 补充材料: sending the documents an officer asked for;
// IntentClaimCard is 更正银行卡: a new card for a claim whose payment failed.
const (
	IntentClaimMore = "claim_more"
	IntentClaimCard = "claim_card"
)

// ClaimStore is what the claims capability uses; *storage.DB implements it.
type ClaimStore interface {
	MemberByOpenID(ctx context.Context, openID string) (storage.Member, error)
	MemberByID(ctx context.Context, id int64) (storage.Member, error)
	Enrollments(ctx context.Context, memberID int64) ([]storage.Enrollment, error)
	ClaimRules(ctx context.Context) (storage.RuleSet, error)
	EstimateClaim(ctx context.Context, memberID int64, c claims.Case) (claims.Estimate, storage.RuleSet, error)
	SubmitClaim(ctx context.Context, in storage.ClaimInput, audit storage.AuditEntry) (storage.SubmitResult, error)
	ListClaims(ctx context.Context, f storage.ClaimFilter) ([]storage.Claim, int64, error)
	ClaimByNumber(ctx context.Context, number string) (storage.Claim, error)
	TransitionClaim(ctx context.Context, number string, req storage.TransitionRequest, audit storage.AuditEntry) (storage.Claim, error)
	AddClaimAttachments(ctx context.Context, number string, memberID int64, owner string, as []storage.AttachmentInput, audit storage.AuditEntry) error
	CorrectClaimCard(ctx context.Context, number string, memberID int64, bankName, card string, audit storage.AuditEntry) (storage.Claim, error)
	ClaimBankCard(ctx context.Context, number string) (string, error)
}

var _ ClaimStore = (*storage.DB)(nil)

// Claims is the mutual-aid claim capability.
type Claims struct {
	store    ClaimStore
	now      func() time.Time
	sections []func(ctx context.Context, openID string) (string, error)
}

// Keys of the claim form's answers; _member and _token are set by the guard.
const (
	ckMember    = "_member"
	ckToken     = "_token"
	ckConsent   = "consent"
	ckPlan      = "plan"
	ckHospital  = "hospital"
	ckAdmitted  = "admitted"
	ckDischarge = "discharged"
	ckDiagnosis = "diagnosis"
	ckTotal     = "total"
	ckInsurance = "insurance"
	ckOwn       = "own"
	ckBankName  = "bank_name"
	ckCard      = "card"
	// ckCardReuse is the answer to "使用上次的银行卡？", asked when the guard found the card of
	// the member's last claim: ckPrevClaim (its number), ckPrevBank, ckPrevCard (masked).
	ckCardReuse = "card_reuse"
	ckPrevClaim = "_prev_claim"
	ckPrevBank  = "_prev_bank"
	ckPrevCard  = "_prev_card"
	cardNew     = "否"
	docPrefix   = "doc_"
	// varCard holds a card number that failed the Luhn check until the member sends it again.
	varCard = "claim.card"
)

func (c *Claims) register(r *bot.Router) {
	r.Form(c.form(), "互助金", "申领互助金", "互助金申领", "申请互助金")
	r.Form(c.moreForm(), "补充材料")
	r.Form(c.cardForm(), "更正银行卡", "修改银行卡")
	intent(r, IntentProgress, c.handleProgress, "进度", "查进度", "办理进度")
	r.Prefix("进度", c.handleProgressOf)
	r.Prefix("撤回", c.handleWithdraw)
}

// offer is the claim's answer and offer (offers.go): "我住院了怎么报销" gets the FAQ's answer
// (or a short one) and the offer to start the claim with "是".
func (c *Claims) offer() formOffer {
	return formOffer{form: IntentClaim, offer: msgClaimOffer,
		asks: func(text string) (string, bool) { return msgClaimAdvice, claims.AsksToClaim(text) }}
}

// eligible is the member behind openID, or the reason (a UserError) why they cannot file.
func (c *Claims) eligible(ctx context.Context, openID string) (storage.Member, error) {
	m, err := c.store.MemberByOpenID(ctx, openID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Member{}, bot.Userf(msgClaimBindFirst)
	}
	if err != nil {
		return storage.Member{}, err
	}
	if m.Status != storage.StatusActive {
		return storage.Member{}, bot.Userf(fmt.Sprintf(msgClaimNotActive, m.Status))
	}
	return m, nil
}

// claimableYears are the member's cover years still inside the claim window today.
func (c *Claims) claimableYears(ctx context.Context, m storage.Member) ([]int, error) {
	rs, err := c.store.ClaimRules(ctx)
	if err != nil {
		return nil, err
	}
	es, err := c.store.Enrollments(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	now := today(c.now)
	var out []int
	for _, e := range es {
		if !now.Before(dateOnly(e.CoverFrom)) && !now.After(dateOnly(e.CoverTo).AddDate(0, 0, rs.Rules.ClaimWindowDays)) {
			out = append(out, e.Year)
		}
	}
	return out, nil
}

func newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (c *Claims) form() *bot.Form {
	steps := []bot.Step{
		{Key: ckConsent, Prompt: msgClaimConsent, Check: checkConsent},
		{Key: ckPlan, Label: "保障项目", Prompt: "请选择申领的保障项目：" + bot.Choices(planNames()...),
			Show: func(v string) string { return claims.Plan(v).Name() }, Check: checkPlan},
		{Key: ckHospital, Label: "医院", Prompt: "请写出就诊医院的全称（如：XX旗人民医院）。", Check: checkClaimText(60)},
		{Key: ckAdmitted, Label: "入院日期", PromptFor: func(d map[string]string) string {
			if claims.Plan(d[ckPlan]) == claims.Accident {
				return "请写出受伤（事故）的日期，如 2026-11-03 或 11月3日。"
			}
			if hasStay(d) {
				return "请写出入院日期，如 2026-11-03 或 11月3日。"
			}
			return "请写出就诊日期，如 2026-11-03 或 11月3日。"
		}, Show: bot.ShowDate, Check: c.checkAdmitted},
		{Key: ckDischarge, Label: "出院日期", Prompt: "请写出出院日期。", Show: bot.ShowDate, When: hasStay,
			Check: bot.CheckDate(bot.DateRule{NotFuture: true, NotBefore: ckAdmitted, NotBeforeLabel: "入院日期"})},
		{Key: ckDiagnosis, Label: "诊断", Prompt: "请写出医院的诊断（病名），如：急性阑尾炎。", Check: checkClaimText(100)},
		{Key: ckTotal, Label: "医疗总费用", Prompt: "这次的医疗总费用是多少元？（见结算单“总费用”）", Show: bot.ShowMoney,
			Check: bot.CheckMoney(bot.MoneyRule{Positive: true})},
		{Key: ckInsurance, Label: "医保统筹支付", Prompt: "其中医保统筹（基本医疗保险）支付了多少元？没有请回复 0。", Show: bot.ShowMoney,
			Check: bot.CheckMoney(bot.MoneyRule{NotAbove: ckTotal, NotAboveLabel: "医疗总费用"})},
		{Key: ckOwn, Label: "个人自付", Prompt: "个人自付了多少元？（见结算单“个人自付”）", Show: bot.ShowMoney,
			Check: bot.CheckMoney(bot.MoneyRule{Positive: true, NotAbove: ckTotal, NotAboveLabel: "医疗总费用"})},
	}
	for _, k := range docKinds() {
		steps = append(steps, bot.Step{Key: docPrefix + string(k), Label: k.Name(), Photos: true,
			Prompt: fmt.Sprintf("请拍照发送：%s。", k.Name()),
			When:   func(d map[string]string) bool { return slices.Contains(claims.RequiredDocs(claims.Plan(d[ckPlan])), k) }})
	}
	steps = append(steps,
		bot.Step{Key: ckCardReuse, Label: "沿用上次的银行卡", When: hasPrevCard, Check: checkCardReuse, PromptFor: func(d map[string]string) string {
			return fmt.Sprintf(msgClaimCardReuse, lastDigits(d[ckPrevCard]), d[ckPrevBank])
		}},
		bot.Step{Key: ckBankName, Label: "开户银行", Prompt: "互助金发放到您本人的银行卡。请写出开户银行，如：中国农业银行。", Check: checkClaimText(40),
			When: newCard},
		bot.Step{Key: ckCard, Label: "银行卡号", Prompt: "请发送银行卡号（本人名下）。", Show: pii.MaskBankCard, Check: checkCard, When: newCard},
	)
	return &bot.Form{
		Name: IntentClaim, Title: "互助金申领", Durable: true, Confirm: true, Steps: steps,
		Guard: func(ctx context.Context, s *bot.Session) error {
			m, err := c.eligible(ctx, s.OpenID)
			if err != nil {
				return err
			}
			years, err := c.claimableYears(ctx, m)
			if err != nil {
				return err
			}
			if len(years) == 0 {
				return bot.Userf(msgClaimNotEnrolled)
			}
			s.Data[ckMember] = strconv.FormatInt(m.ID, 10)
			s.Data[ckToken] = newToken()
			return c.prefillCard(ctx, s, m)
		},
		Intro:       msgClaimIntro,
		SummaryNote: c.summaryNote,
		Submit:      c.submit,
	}
}

func planNames() []string {
	out := make([]string, len(claims.Plans))
	for i, p := range claims.Plans {
		out[i] = p.Name()
	}
	return out
}

// ClaimDocKinds are the document kinds of every plan, in the order the chat form asks for
// them (the console's 代录 form shows them in the same order).
func ClaimDocKinds() []claims.DocKind { return docKinds() }

// docKinds are the document kinds of every plan, in the order the form asks for them.
func docKinds() []claims.DocKind {
	var out []claims.DocKind
	for _, p := range claims.Plans {
		for _, k := range claims.RequiredDocs(p) {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	// The identity documents last: the plan's own papers are what the member has in hand.
	slices.SortStableFunc(out, func(a, b claims.DocKind) int {
		rank := func(k claims.DocKind) int {
			if k == claims.DocIDCard || k == claims.DocBankCard {
				return 1
			}
			return 0
		}
		return rank(a) - rank(b)
	})
	return out
}

// hasStay reports whether the plan has a hospital stay with a discharge date.
func hasStay(d map[string]string) bool {
	p := claims.Plan(d[ckPlan])
	return p == claims.Hospital || p == claims.CriticalIllness
}

func checkConsent(ctx context.Context, s *bot.Session, v string) (string, error) {
	yes, ok := parse.YesNo(v)
	switch {
	case strings.Contains(v, "不同意"):
		return "", bot.Userf(msgClaimNoConsent)
	case v == "同意" || (ok && yes):
		return "同意", nil
	case ok:
		return "", bot.Userf(msgClaimNoConsent)
	}
	return "", bot.Userf("请回复「同意」或「不同意」。")
}

func checkPlan(ctx context.Context, s *bot.Session, v string) (string, error) {
	name, err := bot.CheckChoice(planNames()...)(ctx, s, v)
	if err != nil {
		return "", err
	}
	p, _ := claims.PlanByName(name)
	return string(p), nil
}

func checkClaimText(maxRunes int) func(ctx context.Context, s *bot.Session, v string) (string, error) {
	return func(ctx context.Context, s *bot.Session, v string) (string, error) {
		v = strings.TrimSpace(v)
		switch {
		case v == "":
			return "", bot.Userf("请写出内容。")
		case utf8.RuneCountInString(v) > maxRunes:
			return "", bot.Userf(fmt.Sprintf("请简短一些（不超过%d个字）。", maxRunes))
		}
		return v, nil
	}
}

// checkAdmitted reads the admission date and checks it against the member's cover and the
// rules: inside a cover period, past the waiting period, inside the claim window.
func (c *Claims) checkAdmitted(ctx context.Context, s *bot.Session, v string) (string, error) {
	iso, err := bot.CheckDate(bot.DateRule{NotFuture: true})(ctx, s, v)
	if err != nil {
		return "", err
	}
	d, _ := parse.ParseISODate(iso)
	memberID, _ := strconv.ParseInt(s.Data[ckMember], 10, 64)
	est, rs, err := c.store.EstimateClaim(ctx, memberID, claims.Case{Plan: claims.Plan(s.Data[ckPlan]), AdmittedOn: d, DischargedOn: d,
		FiledOn: today(c.now)})
	if err != nil {
		return "", err
	}
	switch est.Refusal {
	case claims.RefusedNotCovered:
		return "", bot.Userf(fmt.Sprintf(msgClaimNotCovered, parse.FormatDate(d)))
	case claims.RefusedWaiting:
		return "", bot.Userf(fmt.Sprintf(msgClaimWaiting, parse.FormatDate(d), rs.Rules.WaitingDays))
	case claims.RefusedWindowClosed:
		return "", bot.Userf(fmt.Sprintf(msgClaimWindowClosed, rs.Rules.ClaimWindowDays))
	}
	return iso, nil
}

// prefillCard notes the card of the member's last claim (not one whose payment failed on
// it), to offer it at the card step: its number, bank and masked digits, never the card.
func (c *Claims) prefillCard(ctx context.Context, s *bot.Session, m storage.Member) error {
	cs, _, err := c.store.ListClaims(ctx, storage.ClaimFilter{MemberID: m.ID, Limit: 10})
	if err != nil {
		return err
	}
	for _, cl := range cs {
		if cl.BankCardMasked != "" && cl.Status != claims.PaymentFailed {
			s.Data[ckPrevClaim], s.Data[ckPrevBank], s.Data[ckPrevCard] = cl.Number, cl.BankName, cl.BankCardMasked
			return nil
		}
	}
	return nil
}

func hasPrevCard(d map[string]string) bool { return d[ckPrevClaim] != "" }

// newCard reports whether the member gives a card: there is none to reuse, or they said no.
func newCard(d map[string]string) bool { return !hasPrevCard(d) || d[ckCardReuse] == cardNew }

// checkCardReuse reads the yes or no to the last claim's card; a yes is kept with the card
// it means, as the summary shows it.
func checkCardReuse(ctx context.Context, s *bot.Session, v string) (string, error) {
	yes, ok := parse.YesNo(v)
	switch {
	case !ok:
		return "", bot.Userf(parse.MsgYesNo + "。")
	case !yes:
		return cardNew, nil
	}
	return fmt.Sprintf("是（%s 尾号%s）", s.Data[ckPrevBank], lastDigits(s.Data[ckPrevCard])), nil
}

// lastDigits is the last four characters of a masked card number.
func lastDigits(masked string) string {
	if len(masked) < 4 {
		return masked
	}
	return masked[len(masked)-4:]
}

// checkCard accepts a card number of 12 to 19 digits. A number failing the Luhn check is
// read back instead of refused (some real cards fail it): sent again, it is taken.
func checkCard(ctx context.Context, s *bot.Session, v string) (string, error) {
	digits := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, pii.HalfWidth(v))
	if len(digits) < 12 || len(digits) > 19 || strings.Trim(digits, "0123456789") != "" {
		return "", bot.Userf("银行卡号应为12到19位数字，请核对后重新发送。")
	}
	if !luhn(digits) && s.Var(varCard) != digits {
		s.SetVar(varCard, digits)
		return "", bot.Userf(fmt.Sprintf(msgClaimCardReadBack, groupDigits(digits)))
	}
	s.SetVar(varCard, "")
	return digits, nil
}

// luhn reports whether digits pass the Luhn check of card numbers.
func luhn(digits string) bool {
	sum := 0
	for i := range len(digits) {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// groupDigits writes a card number in groups of four for reading back.
func groupDigits(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// caseOf is the claim's event from the form's answers.
func caseOf(d map[string]string) claims.Case {
	adm, _ := parse.ParseISODate(d[ckAdmitted])
	dis := adm
	if v, ok := parse.ParseISODate(d[ckDischarge]); ok {
		dis = v
	}
	return claims.Case{Plan: claims.Plan(d[ckPlan]), AdmittedOn: adm, DischargedOn: dis, OutOfPocket: claims.Fen(bot.Fen(d[ckOwn]))}
}

// summaryNote is the estimate under the union's confirmed rules; until an admin has
// confirmed them the member is told the amount is set at review.
func (c *Claims) summaryNote(ctx context.Context, s *bot.Session, d map[string]string) string {
	memberID, _ := strconv.ParseInt(d[ckMember], 10, 64)
	cs := caseOf(d)
	cs.FiledOn = today(c.now)
	est, rs, err := c.store.EstimateClaim(ctx, memberID, cs)
	switch {
	case err != nil || rs.Example():
		return msgClaimAmountAtReview
	case est.Refusal != "":
		return fmt.Sprintf(msgClaimEstimateRefused, est.Refusal.Text())
	}
	return fmt.Sprintf(msgClaimEstimate, parse.FormatMoney(int64(est.Amount)))
}

func (c *Claims) submit(ctx context.Context, s *bot.Session, d map[string]string) (bot.Reply, error) {
	memberID, _ := strconv.ParseInt(d[ckMember], 10, 64)
	in := claimInputOf(d, s.OpenID, "chat:"+d[ckToken])
	if !newCard(d) {
		// The member chose the last claim's card: it is read from that claim (stored
		// encrypted) only now, never kept in the session.
		prev, err := c.store.ClaimByNumber(ctx, d[ckPrevClaim])
		if err == nil && prev.MemberID != memberID {
			err = storage.ErrNotFound
		}
		if err == nil {
			in.BankCard, err = c.store.ClaimBankCard(ctx, prev.Number)
		}
		if err != nil {
			return bot.Reply{}, fmt.Errorf("card of the previous claim %s: %w", d[ckPrevClaim], err)
		}
		in.BankName = prev.BankName
	}
	res, err := c.store.SubmitClaim(ctx, in, memberAudit(ctx, s.OpenID))
	var dup *storage.DuplicateClaimError
	if errors.As(err, &dup) {
		return bot.Reply{}, bot.Userf(fmt.Sprintf(msgClaimDuplicate, dup.Number, dup.Number))
	}
	if err != nil {
		return bot.Reply{}, err
	}
	return bot.Text(fmt.Sprintf(msgClaimSubmitted, res.Claim.Number, res.Claim.Number)), nil
}

// claimInputOf is the claim the form's answers describe, with its photos saved under owner
// (the member's openid, or the officer's upload key for 代录).
func claimInputOf(d map[string]string, owner, token string) storage.ClaimInput {
	memberID, _ := strconv.ParseInt(d[ckMember], 10, 64)
	cs := caseOf(d)
	in := storage.ClaimInput{
		MemberID: memberID, Plan: cs.Plan, Hospital: d[ckHospital], AdmittedOn: cs.AdmittedOn, DischargedOn: cs.DischargedOn,
		Diagnosis: d[ckDiagnosis], TotalCost: claims.Fen(bot.Fen(d[ckTotal])), InsurancePaid: claims.Fen(bot.Fen(d[ckInsurance])),
		OutOfPocket: cs.OutOfPocket, BankName: d[ckBankName], BankCard: d[ckCard], MediaOwner: owner, SubmitToken: token,
	}
	for _, k := range claims.RequiredDocs(cs.Plan) {
		for _, id := range storage.ParseMediaRefs(d[docPrefix+string(k)]) {
			in.Attachments = append(in.Attachments, storage.AttachmentInput{Kind: k, MediaID: id})
		}
	}
	return in
}

// AddProgress adds another capability's part of 进度 (legal aid's requests), shown after
// the claims; section returns "" when it has nothing to show.
func (c *Claims) AddProgress(section func(ctx context.Context, openID string) (string, error)) {
	c.sections = append(c.sections, section)
}

// ProgressSection is the claims part of 进度 for openID: the member's claims, newest
// first ("" when there are none or the person is not a bound member).
func (c *Claims) ProgressSection(ctx context.Context, openID string) (string, error) {
	m, err := c.store.MemberByOpenID(ctx, openID)
	if errors.Is(err, storage.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	cs, _, err := c.store.ListClaims(ctx, storage.ClaimFilter{MemberID: m.ID, Limit: 10})
	if err != nil || len(cs) == 0 {
		return "", err
	}
	var b strings.Builder
	b.WriteString("互助金申请：")
	for _, cl := range cs {
		last := storage.ClaimHistory{To: cl.Status, Missing: cl.Missing, Reason: cl.Reason}
		if cl.Status == claims.Approved || cl.Status == claims.Paid {
			last.Amount = cl.ApprovedAmount
		}
		fmt.Fprintf(&b, "\n· %s %s：%s%s（%s）", cl.Number, cl.Plan.Name(), cl.Status.Label(), stepDetail(last), shortDate(cl.UpdatedAt))
	}
	b.WriteString("\n发送「进度 申请编号」查看详细进程。")
	return b.String(), nil
}

// handleProgress is 进度: the claims, then the other capabilities' parts.
func (c *Claims) handleProgress(ctx context.Context, s *bot.Session, in bot.Input) (bot.Reply, error) {
	var parts []string
	for _, section := range append([]func(context.Context, string) (string, error){c.ProgressSection}, c.sections...) {
		sec, err := section(ctx, in.OpenID)
		if err != nil {
			return bot.Reply{}, err
		}
		if sec != "" {
			parts = append(parts, sec)
		}
	}
	if len(parts) == 0 {
		return bot.Text(msgClaimProgressNone), nil
	}
	return bot.Text(strings.Join(parts, "\n\n")), nil
}

// memberClaim is the member's claim of the number typed (another member's is not found).
func (c *Claims) memberClaim(ctx context.Context, openID, arg string) (storage.Claim, storage.Member, error) {
	m, err := c.store.MemberByOpenID(ctx, openID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Claim{}, storage.Member{}, bot.Userf(msgClaimBindFirst)
	}
	if err != nil {
		return storage.Claim{}, storage.Member{}, err
	}
	number := strings.ToUpper(strings.TrimSpace(arg))
	cl, err := c.store.ClaimByNumber(ctx, number)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && cl.MemberID != m.ID) {
		return storage.Claim{}, m, bot.Userf(fmt.Sprintf(msgClaimUnknown, number))
	}
	return cl, m, err
}

// handleProgressOf shows one claim's timeline and what the member can do next.
func (c *Claims) handleProgressOf(ctx context.Context, s *bot.Session, in bot.Input, arg string) (bot.Reply, error) {
	if arg == "" {
		return c.handleProgress(ctx, s, in)
	}
	cl, _, err := c.memberClaim(ctx, in.OpenID, arg)
	if err != nil {
		return bot.Reply{}, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "申请编号 %s（%s）\n当前状态：%s", cl.Number, cl.Plan.Name(), cl.Status.Label())
	for _, h := range cl.History {
		fmt.Fprintf(&b, "\n· %s %s%s", shortTime(h.At), h.To.Label(), stepDetail(h))
	}
	switch cl.Status {
	case claims.Submitted:
		fmt.Fprintf(&b, "\n\n如需撤回，请发送「撤回 %s」。", cl.Number)
	case claims.NeedMore:
		fmt.Fprintf(&b, "\n\n请发送「补充材料」，按提示上传：%s。", cl.Missing)
	case claims.PaymentFailed:
		b.WriteString("\n\n请发送「更正银行卡」，填写正确的银行卡后将重新发放。")
	}
	return bot.Text(b.String()), nil
}

// stepDetail is what a step of a claim's history says beyond its status: the amount
// approved, what the member was asked for, or the reason.
func stepDetail(h storage.ClaimHistory) string {
	switch {
	case h.Amount > 0:
		return "，核定 " + parse.FormatMoney(int64(h.Amount))
	case h.Missing != "":
		return "，需补充：" + h.Missing
	case h.Reason != "":
		return "，原因：" + h.Reason
	}
	return ""
}

// handleWithdraw withdraws a claim not yet under review.
func (c *Claims) handleWithdraw(ctx context.Context, s *bot.Session, in bot.Input, arg string) (bot.Reply, error) {
	if arg == "" {
		return bot.Text("请发送「撤回 申请编号」，如：撤回 HZ20261124-0007。\n发送「进度」可查看您的申请编号。"), nil
	}
	cl, m, err := c.memberClaim(ctx, in.OpenID, arg)
	if err != nil {
		return bot.Reply{}, err
	}
	_, err = c.store.TransitionClaim(ctx, cl.Number, storage.TransitionRequest{To: claims.Withdrawn, Role: claims.RoleMember, MemberID: m.ID},
		memberAudit(ctx, in.OpenID))
	if errors.Is(err, claims.ErrIllegal) {
		return bot.Text(fmt.Sprintf(msgClaimNoWithdraw, cl.Number, cl.Status.Label())), nil
	}
	if err != nil {
		return bot.Reply{}, err
	}
	return bot.Text(fmt.Sprintf("已撤回互助金申请 %s。如需重新申请，请发送「互助金」。", cl.Number)), nil
}

const (
	ckMoreNumber = "_number"
	ckMorePhotos = "photos"
)

// moreForm takes the photos an officer asked for and puts the claim back in review.
func (c *Claims) moreForm() *bot.Form {
	return &bot.Form{
		Name: IntentClaimMore, Title: "补充材料",
		Guard: func(ctx context.Context, s *bot.Session) error {
			m, err := c.eligible(ctx, s.OpenID)
			if err != nil {
				return err
			}
			cs, _, err := c.store.ListClaims(ctx, storage.ClaimFilter{MemberID: m.ID, Status: claims.NeedMore, Limit: 1})
			if err != nil {
				return err
			}
			if len(cs) == 0 {
				return bot.Userf("您目前没有需要补充材料的互助金申请。发送「进度」可查看办理情况。")
			}
			s.Data[ckMember] = strconv.FormatInt(m.ID, 10)
			s.Data[ckMoreNumber] = cs[0].Number
			return nil
		},
		Steps: []bot.Step{{Key: ckMorePhotos, Photos: true, PromptFor: func(d map[string]string) string {
			return fmt.Sprintf("申请 %s 需要补充材料，请拍照发送。", d[ckMoreNumber])
		}}},
		Submit: func(ctx context.Context, s *bot.Session, d map[string]string) (bot.Reply, error) {
			memberID, _ := strconv.ParseInt(d[ckMember], 10, 64)
			var as []storage.AttachmentInput
			for _, id := range storage.ParseMediaRefs(d[ckMorePhotos]) {
				as = append(as, storage.AttachmentInput{Kind: claims.DocOther, MediaID: id})
			}
			number := d[ckMoreNumber]
			if err := c.store.AddClaimAttachments(ctx, number, memberID, s.OpenID, as, memberAudit(ctx, s.OpenID)); err != nil {
				return bot.Reply{}, err
			}
			_, err := c.store.TransitionClaim(ctx, number, storage.TransitionRequest{To: claims.Reviewing, Role: claims.RoleMember, MemberID: memberID},
				memberAudit(ctx, s.OpenID))
			if err != nil && !errors.Is(err, claims.ErrIllegal) { // already back in review: the photos are in anyway
				return bot.Reply{}, err
			}
			return bot.Text(fmt.Sprintf("已收到 %d 张照片，申请 %s 继续审核，结果会通知您。", len(as), number)), nil
		},
	}
}

// cardForm takes a corrected bank card for the member's claim whose payment failed.
func (c *Claims) cardForm() *bot.Form {
	return &bot.Form{
		Name: IntentClaimCard, Title: "更正银行卡", Confirm: true,
		Guard: func(ctx context.Context, s *bot.Session) error {
			m, err := c.eligible(ctx, s.OpenID)
			if err != nil {
				return err
			}
			cs, _, err := c.store.ListClaims(ctx, storage.ClaimFilter{MemberID: m.ID, Status: claims.PaymentFailed, Limit: 1})
			if err != nil {
				return err
			}
			if len(cs) == 0 {
				return bot.Userf("您目前没有发放失败、需要更正银行卡的互助金申请。")
			}
			s.Data[ckMember] = strconv.FormatInt(m.ID, 10)
			s.Data[ckMoreNumber] = cs[0].Number
			return nil
		},
		Steps: []bot.Step{
			{Key: ckBankName, Label: "开户银行", Check: checkClaimText(40), PromptFor: func(d map[string]string) string {
				return fmt.Sprintf("申请 %s 的互助金发放失败，请重新填写本人银行卡。\n请写出开户银行，如：中国农业银行。", d[ckMoreNumber])
			}},
			{Key: ckCard, Label: "银行卡号", Prompt: "请发送银行卡号（本人名下）。", Show: pii.MaskBankCard, Check: checkCard},
		},
		Submit: func(ctx context.Context, s *bot.Session, d map[string]string) (bot.Reply, error) {
			memberID, _ := strconv.ParseInt(d[ckMember], 10, 64)
			cl, err := c.store.CorrectClaimCard(ctx, d[ckMoreNumber], memberID, d[ckBankName], d[ckCard], memberAudit(ctx, s.OpenID))
			if errors.Is(err, claims.ErrIllegal) {
				return bot.Reply{}, bot.Userf("这个申请已不在发放失败状态，无需更正。发送「进度」查看办理情况。")
			}
			if err != nil {
				return bot.Reply{}, err
			}
			return bot.Text(fmt.Sprintf("银行卡已更正，申请 %s 将重新发放，到账后会通知您。", cl.Number)), nil
		},
	}
}

func shortDate(t time.Time) string {
	t = t.In(shanghai)
	return fmt.Sprintf("%d月%d日", int(t.Month()), t.Day())
}

func shortTime(t time.Time) string {
	t = t.In(shanghai)
	return fmt.Sprintf("%d月%d日 %02d:%02d", int(t.Month()), t.Day(), t.Hour(), t.Minute())
}

// What the claims capability says.
const (
	msgClaimBindFirst = "申领互助金需要先绑定会员身份。请发送「绑定」，按提示完成后再发送「互助金」。"
	msgClaimNotActive = "您的会员状态为「%s」，暂不能申领互助金。如有疑问，请联系所在基层工会。"
	// msgClaimNotEnrolled: eligibility is said before any question.
	msgClaimNotEnrolled = "没有查到您可以申领的互助保障参保年度（参保后的保障期内、申领期限内才可以申领）。\n请联系所在基层工会确认参保情况；发送「互助保障」可查看您的参保记录。"
	msgClaimIntro       = "开始办理互助金申领，大约需要5分钟。\n请准备好医疗费发票、结算单等材料和本人银行卡。\n随时可以发送「返回」改上一项，发送「取消」退出；中途离开，回来后可以接着填。"
	msgClaimConsent     = `申领需要收集您的就医信息（医院、诊断、费用、票据照片）
和银行卡信息，属于敏感个人信息：
· 仅用于审核和发放本次互助金；
· 由县总工会和您所在基层工会的经办人员查看；
· 加密保存，按互助保障档案规定的期限保存后删除。
同意请回复「同意」；不同意回复「不同意」，我们不会保存任何信息。`
	msgClaimNoConsent       = "好的，我们不会保存您的任何信息。\n如需线上申领，请回复「同意」；不办理请回复「取消」。\n也可以把材料交给所在基层工会代为办理。"
	msgClaimNotCovered      = "%s不在您的互助保障期内，这次就医不能申领。\n如有疑问，请联系所在基层工会；或重新写出日期。"
	msgClaimWaiting         = "%s在参保后的观察期（%d天）内，按规定不能申领。\n如有疑问，请联系所在基层工会；或重新写出日期。"
	msgClaimWindowClosed    = "这次就医已超过申领期限（保障期结束后%d天内申领）。\n如有特殊情况，请联系所在基层工会。"
	msgClaimCardReadBack    = "请核对卡号：%s\n这个号码没有通过银行卡号校验，可能有输错的数字。\n确认无误请再发送一遍同样的卡号；有误请发送正确的卡号。"
	msgClaimCardReuse       = "互助金发放到您本人的银行卡。\n使用上次的银行卡（尾号%s，%s）吗？回复“是”或“否”。"
	msgClaimAdvice          = "会员在保障期内住院、得了规定的重大疾病或意外受伤，医保报销后自己负担的医疗费，可以申请工会互助金。"
	msgClaimOffer           = "在这里就能申请：按提示填几项、拍照上传发票等材料，大约5分钟。\n现在开始请回复“是”；以后也可以随时发送“互助金”。"
	msgClaimAmountAtReview  = "互助金金额将在审核时核定。"
	msgClaimEstimate        = "按现行规则估算，预计可获互助金约 %s（以审核结果为准）。"
	msgClaimEstimateRefused = "按现行规则，这次申领可能不符合条件（%s），工作人员审核时会再核实。"
	msgClaimDuplicate       = "您已提交过同一保障项目、同一入院日期的申请 %s，无需重复申请。\n发送「进度 %s」可查看办理情况。"
	msgClaimSubmitted       = "互助金申请已提交，申请编号 %s。\n工作人员审核后会通知您结果；发送「进度 %s」可随时查看。"
	msgClaimProgressNone    = "您目前没有办理中的申请。\n申领互助金请发送「互助金」；\n遇到欠薪、工伤等问题可发送「法律援助」。"
	msgClaimUnknown         = "没有找到您的申请 %s，请核对申请编号。发送「进度」可查看您的全部申请。"
	msgClaimNoWithdraw      = "申请 %s 当前为「%s」，已不能撤回。如有需要，请联系所在基层工会。"
)
