package handlers

// Legal aid in chat (issue 12): the 法律援助 request form, crisis signals heard anywhere,
// legal questions answered with an offer to start a request, the 1–5 rating after closing,
// and the legal-aid part of 进度.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"unionbot/bot"
	"unionbot/legalaid"
	"unionbot/parse"
	"unionbot/pii"
	"unionbot/storage"
)

// LegalStore is what LegalAid uses.
type LegalStore interface {
	MemberByOpenID(ctx context.Context, openID string) (storage.Member, error)
	SubmitLegalCase(ctx context.Context, in storage.LegalCaseInput, audit storage.AuditEntry) (storage.LegalCase, bool, error)
	ReportCrisis(ctx context.Context, r storage.CrisisReport, audit storage.AuditEntry) (storage.LegalCase, bool, error)
	LegalCasesOf(ctx context.Context, openID string, limit int) ([]storage.LegalCase, error)
	LegalRatingDue(ctx context.Context, openID string) (storage.LegalCase, error)
	RateLegalCase(ctx context.Context, openID, number string, rating int, audit storage.AuditEntry) error
	CommentLegalCase(ctx context.Context, openID, number, comment string) error
}

var _ LegalStore = (*storage.DB)(nil)

// DefaultLegalPromise is what a requester is told happens next (no day count: that would
// need a holiday calendar).
const DefaultLegalPromise = "工作人员会在工作时间内尽快打电话联系您。"

// LegalAid is the legal-aid capability in chat.
type LegalAid struct {
	store     LegalStore
	router    *bot.Router
	logger    *slog.Logger
	now       func() time.Time
	publicURL string // for the console link in the officers' crisis alert
	// Promise is what happens next, told at submission.
	Promise string
}

// registerLegalAid builds the legal-aid capability and registers it on r (after the
// knowledge capability, whose FAQ it answers legal questions from). A store without the
// legal-aid methods (a test's fake) registers nothing.
func registerLegalAid(r *bot.Router, d Deps, k *Knowledge) *LegalAid {
	store, ok := d.Store.(LegalStore)
	if !ok {
		return nil
	}
	l := &LegalAid{store: store, router: r, logger: d.Logger, now: d.Now, publicURL: d.PublicURL,
		Promise: strings.TrimSpace(d.LegalPromise)}
	if l.Promise == "" {
		l.Promise = DefaultLegalPromise
	}
	r.Form(l.form(), "法律援助", "法律咨询", "申请法律援助", "法援")
	if k != nil {
		k.addOffer(l.offer())
	}
	return l
}

// Session data of the form beyond its steps.
const (
	legalForm        = IntentLegalAid
	keyConsent       = "consent"
	keyType          = "type"
	keyStage         = "stage"
	keyEmployer      = "employer"
	keyWorkplace     = "workplace"
	keyWorkers       = "workers"
	keyAmount        = "amount"
	keyDescription   = "description"
	keyEvidence      = "evidence"
	keyContactName   = "contact_name"
	keyContactPhone  = "contact_phone"
	keyContactTime   = "contact_time"
	keyDescParts     = "legal.desc"       // the description so far, while it is being told
	keyMemberName    = "legal.name"       // the bound member's name, offered at the contact step
	keyMemberPhone   = "legal.phone"      // the bound member's phone
	keyToken         = "legal.token"      // the submit token
	keyCrisis        = "legal.crisis"     // a crisis signal's category found in the answers
	keyCrisisText    = "legal.crisisText" // the messages that carried it
	varLegalComment  = "legal.comment"    // "<number>|<unix>": a rating given, a comment welcome
	legalCommentTTL  = 30 * time.Minute
	maxDescription   = 5000
	descPartsDivider = "\n"
)

const (
	msgLegalIntro = `申请需要留下您的联系方式和纠纷情况，
交给工会法律援助工作人员和合作律师，
只用于帮您处理这件事。
不是会员也可以申请，免费，大约3分钟。`
	msgLegalConsent   = "同意吗？回复“同意”开始，回复“不同意”或“取消”退出。"
	msgLegalConsentNo = `好的，没有保存您的任何信息。
需要时可以直接拨打职工服务热线 12351，或随时回复“法律援助”重新申请。`
	msgLegalConsentAsk = "请回复“同意”开始，或回复“不同意”退出。"
	msgLegalType       = "遇到的是哪类问题？"
	msgLegalStage      = "现在到哪一步了？"
	msgLegalEmployer   = "用人单位（老板）叫什么？例如：银湖建筑工程有限公司\n不知道全称，写老板或包工头的名字也行。"
	msgLegalWorkplace  = "在哪里干活？例如：旗开发区银湖小区工地"
	msgLegalWorkers    = "这件事涉及几个人？只有您自己就回复 1；例如：23"
	msgLegalWorkersBad = "请回复人数，例如：1 或 23"
	msgLegalAmount     = "涉及多少钱？例如：42000 或 4.2万；不清楚可以回复“跳过”。"
	msgLegalDesc       = "请说说发生了什么：什么时候开始、对方怎么说、您想要什么结果。\n可以分几条发，说完回复“好了”。"
	msgLegalDescMore   = "收到。还有就接着说，说完回复“好了”。"
	msgLegalDescEmpty  = "还没说情况呢。请简单说说发生了什么，说完回复“好了”。"
	msgLegalDescLong   = "内容太长了，请精简到%d字以内，重新说一遍（回复“返回”可以从上一步重来）。"
	msgLegalDescSoFar  = "已记下%d字。还有就接着说，说完回复“好了”。"
	msgLegalEvidence   = "有合同、工资条、考勤、聊天截图等证据吗？\n有的话拍照发过来，一张一条消息；没有就回复“跳过”。"
	msgLegalName       = "怎么称呼您？请写姓名，例如：李春生"
	msgLegalNameKnown  = "联系人写“%s”（会员登记的姓名）可以吗？回复“对”，或写别的姓名。"
	msgLegalNameBad    = "请写联系人的姓名，例如：李春生"
	msgLegalPhone      = "联系电话是多少？例如：13912345678"
	msgLegalPhoneKnown = "联系电话用 %s（会员登记的号码）可以吗？回复“对”，或写新的号码。"
	msgLegalTime       = "什么时候方便接电话？例如：工作日晚上7点后；随时都行就回复“随时”。"
	msgLegalDone       = `已受理登记，编号 %s。
%s
着急的话可以直接拨打职工服务热线 12351。回复“进度”可以查看办理情况。`
	msgLegalUrgentNote = "您说的紧急情况已经告诉工作人员，会优先处理。"

	msgCrisis = `您的安全最重要。如果有危险，请立即拨打 110；受伤请拨打 120。
职工服务热线 12351 也可以帮您。工会工作人员已经收到消息，会尽快联系您。`
	msgCrisisInDesc = "您说的情况已经记下了。还有就接着说，说完回复“好了”。"

	msgLegalOffer = `工会可以免费帮您：回复“是”（或“法律援助”），
几步就能把情况交给工会的法律援助工作人员。
不是会员也可以申请。`

	msgRatingThanks  = "谢谢您的评价（%d分）！还想说说意见的话，直接回复就行；不想说回复“不用了”。"
	msgCommentThanks = "收到，谢谢您的意见！我们会转给法律援助工作人员。"
	msgCommentSkip   = "好的，谢谢！"

	msgProgressLegalHead = "法律援助："
)

// legalAdvice is a short first answer by dispute type, when the FAQ has no confident one.
var legalAdvice = map[legalaid.Type]string{
	legalaid.WageArrears: `先把能证明干了活、该拿多少钱的东西留好：合同、工资条、考勤、工友证言、聊天记录、欠条……
可以向当地劳动保障监察投诉，也可以申请劳动仲裁；农民工讨薪申请法律援助不需要经济困难证明。`,
	legalaid.LaborContract: `被辞退、不签合同、不给补偿的，先保留劳动合同、辞退通知、工资流水和聊天记录。
单位违法解除合同的，可以要求赔偿；没签书面合同满一个月的，可以主张双倍工资。劳动仲裁一般要在1年内申请。`,
	legalaid.WorkInjury: `受伤后先治疗，保留病历、诊断证明和医疗费票据，记下当时的证人。
单位应在30天内申请工伤认定；单位不申请的，本人或家属可以在1年内自己申请。`,
	legalaid.SocialInsurance: `单位不给交社保的，可以向社保经办机构或劳动保障监察投诉，要求补缴。
先保留劳动合同、工资流水、工作证等能证明劳动关系的材料。`,
	legalaid.ArbitrationLitigation: `劳动争议一般先申请劳动仲裁，不服仲裁结果再向法院起诉；申请仲裁不收费，时效一般为1年。
工会法律援助可以帮您写申请书，必要时指派律师代理。`,
	legalaid.OtherType: `把发生了什么、对方是谁、有什么证据整理好，工会法律援助工作人员可以帮您看看怎么办。`,
}

var typeLabels, stageLabels = func() ([]string, []string) {
	var ts, ss []string
	for _, t := range legalaid.Types {
		ts = append(ts, t.Label())
	}
	for _, s := range legalaid.Stages {
		ss = append(ss, s.Label())
	}
	return ts, ss
}()

func (l *LegalAid) form() *bot.Form {
	return &bot.Form{
		Name: legalForm, Title: "法律援助申请", Durable: true, Confirm: true,
		Intro: msgLegalIntro,
		Steps: []bot.Step{
			{Key: keyConsent, Prompt: msgLegalConsent, Check: l.checkConsent},
			{Key: keyType, Label: "问题类型", Prompt: msgLegalType + bot.Choices(typeLabels...) + "\n回复序号即可。",
				Check: bot.CheckChoice(typeLabels...)},
			{Key: keyStage, Label: "目前进展", Prompt: msgLegalStage + bot.Choices(stageLabels...) + "\n回复序号即可。",
				Check: bot.CheckChoice(stageLabels...)},
			{Key: keyEmployer, Label: "用人单位", Prompt: msgLegalEmployer, Check: legalText(100)},
			{Key: keyWorkplace, Label: "工作地点", Prompt: msgLegalWorkplace, Check: legalText(100)},
			{Key: keyWorkers, Label: "涉及人数", Prompt: msgLegalWorkers, Check: checkWorkers, Show: func(v string) string { return v + "人" }},
			{Key: keyAmount, Label: "涉及金额", Prompt: msgLegalAmount, Optional: true, Show: showOptionalMoney,
				Check: bot.CheckMoney(bot.MoneyRule{Positive: true})},
			{Key: keyDescription, Label: "情况说明", PromptFor: promptDescription, Check: checkDescription, Show: showDescription},
			{Key: keyEvidence, Label: "证据照片", Prompt: msgLegalEvidence, Photos: true, Optional: true},
			{Key: keyContactName, Label: "联系人", PromptFor: func(d map[string]string) string {
				if n := d[keyMemberName]; n != "" {
					return fmt.Sprintf(msgLegalNameKnown, n)
				}
				return msgLegalName
			}, Check: checkContactName},
			{Key: keyContactPhone, Label: "联系电话", PromptFor: func(d map[string]string) string {
				if p := d[keyMemberPhone]; p != "" {
					return fmt.Sprintf(msgLegalPhoneKnown, pii.MaskPhone(p))
				}
				return msgLegalPhone
			}, Check: checkContactPhone, Show: pii.MaskPhone},
			{Key: keyContactTime, Label: "方便联系的时间", Prompt: msgLegalTime, Check: legalText(50)},
		},
		Submit: l.submit,
	}
}

// checkConsent takes the yes (a no is answered by the screen before the form sees it):
// the bound member's details are read now, to be offered at the contact steps.
func (l *LegalAid) checkConsent(ctx context.Context, s *bot.Session, v string) (string, error) {
	yes, ok := parse.YesNo(v)
	if !ok && bot.NormalizeCommand(v) != "同意" {
		return "", bot.Userf(msgLegalConsentAsk)
	}
	if ok && !yes {
		return "", bot.Userf(msgLegalConsentAsk)
	}
	formData(s)
	if m, err := l.store.MemberByOpenID(ctx, s.OpenID); err == nil {
		s.Data[keyMemberName], s.Data[keyMemberPhone] = m.Name, m.Phone
	} else if !errors.Is(err, storage.ErrNotFound) {
		l.logger.WarnContext(ctx, "legal aid prefill", "open_id", s.OpenID, "err", err)
	}
	s.Data[keyToken] = newSubmitToken()
	return "同意", nil
}

// formData returns the form's answers, made when none were kept (an empty map does not
// survive the session's encoding).
func formData(s *bot.Session) map[string]string {
	if s.Data == nil {
		s.Data = map[string]string{}
	}
	return s.Data
}

func newSubmitToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "legal-" + hex.EncodeToString(b[:])
}

func legalText(max int) func(ctx context.Context, s *bot.Session, v string) (string, error) {
	return func(ctx context.Context, s *bot.Session, v string) (string, error) {
		v = strings.TrimSpace(v)
		switch {
		case v == "":
			return "", bot.Userf("请写一下，例如上面的样子。")
		case utf8.RuneCountInString(v) > max:
			return "", bot.Userf(fmt.Sprintf("请写短一点，%d字以内。", max))
		}
		return v, nil
	}
}

// checkWorkers reads a head count: 23, 二十三, 23个人, 就我一个.
func checkWorkers(ctx context.Context, s *bot.Session, v string) (string, error) {
	t := strings.NewReplacer("个人", "", "人", "", "个", "", "多", "", "左右", "", "大概", "", "约", "", "就", "", "只有", "").Replace(bot.NormalizeCommand(v))
	if t == "我" || t == "我自己" || t == "自己" || t == "我一" || t == "本" {
		return "1", nil
	}
	if n, err := strconv.Atoi(t); err == nil && n >= 1 && n <= 100000 {
		return strconv.Itoa(n), nil
	}
	if fen, err := parse.Money(t); err == nil && fen >= 100 && fen%100 == 0 && fen <= 100000*100 {
		return strconv.FormatInt(fen/100, 10), nil
	}
	return "", bot.Userf(msgLegalWorkersBad)
}

func showOptionalMoney(v string) string {
	if v == "" {
		return "不清楚"
	}
	return bot.ShowMoney(v)
}

func promptDescription(d map[string]string) string {
	if so := d[keyDescParts]; so != "" {
		return fmt.Sprintf(msgLegalDescSoFar, utf8.RuneCountInString(so))
	}
	return msgLegalDesc
}

// doneWords end the multi-message description.
var doneWords = map[string]bool{"好了": true, "好": true, "说完了": true, "完了": true, "没了": true, "就这些": true, "完成": true}

// checkDescription gets 好了 (the messages before it were collected by the screen) and
// keeps what was told.
func checkDescription(ctx context.Context, s *bot.Session, v string) (string, error) {
	parts := strings.TrimSpace(formData(s)[keyDescParts])
	if !doneWords[bot.NormalizeCommand(v)] {
		// Only reached when the screen did not collect the message (a question the
		// router answers otherwise): keep it as part of the story.
		parts = strings.TrimSpace(parts + descPartsDivider + strings.TrimSpace(v))
		s.Data[keyDescParts] = parts
		return "", bot.Userf(msgLegalDescMore)
	}
	if parts == "" {
		return "", bot.Userf(msgLegalDescEmpty)
	}
	delete(s.Data, keyDescParts)
	return parts, nil
}

func showDescription(v string) string {
	r := []rune(strings.ReplaceAll(v, "\n", " "))
	if len(r) <= 30 {
		return string(r)
	}
	return fmt.Sprintf("%s…（共%d字）", string(r[:30]), len(r))
}

func checkContactName(ctx context.Context, s *bot.Session, v string) (string, error) {
	if n := s.Data[keyMemberName]; n != "" && isYes(v) {
		return n, nil
	}
	v = strings.TrimSpace(v)
	if v == "" || utf8.RuneCountInString(v) > 20 || strings.ContainsAny(v, "0123456789") {
		return "", bot.Userf(msgLegalNameBad)
	}
	return v, nil
}

func checkContactPhone(ctx context.Context, s *bot.Session, v string) (string, error) {
	if p := s.Data[keyMemberPhone]; p != "" && isYes(v) {
		return pii.NormalizePhone(p), nil
	}
	if err := pii.ValidatePhone(v); err != nil {
		return "", bot.Userf("这个号码好像不对，请再看一下。" + msgLegalPhone)
	}
	return pii.NormalizePhone(v), nil
}

func isYes(v string) bool {
	switch bot.NormalizeCommand(v) {
	case "对", "是", "好", "可以", "行", "嗯", "用这个", "就这个", "没问题", "对的", "是的":
		return true
	}
	yes, ok := parse.YesNo(v)
	return ok && yes
}

func (l *LegalAid) submit(ctx context.Context, s *bot.Session, d map[string]string) (bot.Reply, error) {
	in := storage.LegalCaseInput{
		OpenID: s.OpenID, Employer: d[keyEmployer], Workplace: d[keyWorkplace], Description: d[keyDescription],
		ContactName: d[keyContactName], ContactPhone: d[keyContactPhone], ContactTime: d[keyContactTime],
		SubmitToken: d[keyToken], CrisisText: d[keyCrisisText],
	}
	in.Type, _ = legalaid.TypeOf(d[keyType])
	in.Stage, _ = legalaid.StageOf(d[keyStage])
	in.Workers, _ = strconv.Atoi(d[keyWorkers])
	if a := d[keyAmount]; a != "" {
		in.Amount, in.HasAmount = bot.Fen(a), true
	}
	in.Evidence = storage.ParseMediaRefs(d[keyEvidence])
	if cat := d[keyCrisis]; cat != "" {
		in.Crisis = &legalaid.Signal{Category: cat}
	}
	if m, err := l.store.MemberByOpenID(ctx, s.OpenID); err == nil {
		in.MemberID = m.ID
	} else if !errors.Is(err, storage.ErrNotFound) {
		return bot.Reply{}, fmt.Errorf("legal aid member: %w", err)
	}
	c, _, err := l.store.SubmitLegalCase(ctx, in, memberAudit(ctx, s.OpenID))
	if err != nil {
		return bot.Reply{}, err
	}
	msg := fmt.Sprintf(msgLegalDone, c.Number, l.Promise)
	if c.Urgent {
		msg = msgLegalUrgentNote + "\n" + msg
	}
	return bot.Text(msg), nil
}

// screen sees every text message first: crisis signals anywhere, the consent's no, the
// multi-message description, the rating and its comment, and legal questions.
func (l *LegalAid) screen(ctx context.Context, s *bot.Session, in bot.Input) bot.ScreenResult {
	text := strings.TrimSpace(in.Text)
	if sig, ok := legalaid.Detect(text); ok {
		return l.crisis(ctx, s, in, sig)
	}
	if s.Form == legalForm {
		switch l.router.FormStep(s) {
		case keyConsent:
			if yes, ok := parse.YesNo(text); (ok && !yes) || bot.NormalizeCommand(text) == "不同意" {
				s.Form, s.Step, s.Data, s.Edit, s.Pending = "", 0, nil, false, ""
				return bot.ScreenResult{Handled: true, Reply: bot.Text(msgLegalConsentNo)}
			}
		case keyDescription:
			if text != "" && !doneWords[bot.NormalizeCommand(text)] && !l.router.IsCommand(text) {
				return l.collect(s, text, msgLegalDescMore)
			}
		}
		return bot.ScreenResult{}
	}
	if s.Form != "" || text == "" {
		return bot.ScreenResult{}
	}
	if res, ok := l.rating(ctx, s, text); ok {
		return res
	}
	if l.router.IsCommand(text) {
		return bot.ScreenResult{}
	}
	return bot.ScreenResult{}
}

// collect adds a message to the description being told.
func (l *LegalAid) collect(s *bot.Session, text, ack string) bot.ScreenResult {
	parts := strings.TrimSpace(formData(s)[keyDescParts] + descPartsDivider + text)
	if utf8.RuneCountInString(parts) > maxDescription {
		return bot.ScreenResult{Handled: true, Reply: bot.Text(fmt.Sprintf(msgLegalDescLong, maxDescription))}
	}
	s.Data[keyDescParts] = parts
	return bot.ScreenResult{Handled: true, Reply: bot.Text(ack)}
}

// crisis answers a crisis signal at once with the numbers and keeps the message for the
// legal officers; a form goes on.
func (l *LegalAid) crisis(ctx context.Context, s *bot.Session, in bot.Input, sig legalaid.Signal) bot.ScreenResult {
	text := strings.TrimSpace(in.Text)
	report := storage.CrisisReport{OpenID: s.OpenID, Signal: sig, Text: text, PublicURL: l.publicURL}
	if m, err := l.store.MemberByOpenID(ctx, s.OpenID); err == nil {
		report.MemberID = m.ID
	}
	if _, _, err := l.store.ReportCrisis(ctx, report, memberAudit(ctx, s.OpenID)); err != nil {
		// The numbers go out whatever happens; the officers miss this one.
		l.logger.ErrorContext(ctx, "keep crisis message", "open_id", s.OpenID, "signal", sig.Category, "err", err)
	} else {
		l.logger.WarnContext(ctx, "crisis signal", "open_id", s.OpenID, "signal", sig.Category)
	}
	if s.Form == legalForm {
		formData(s)[keyCrisis] = sig.Category
		s.Data[keyCrisisText] = strings.TrimSpace(s.Data[keyCrisisText] + "\n" + text)
		if l.router.FormStep(s) == keyDescription {
			res := l.collect(s, text, msgCrisisInDesc)
			res.Reply = bot.Text(msgCrisis + "\n\n" + res.Reply.Text)
			return res
		}
	}
	if p := l.router.FormPrompt(ctx, s); p != "" {
		return bot.ScreenResult{Handled: true, Reply: bot.Text(msgCrisis + "\n\n" + p)}
	}
	return bot.ScreenResult{Handled: true, Reply: bot.Text(msgCrisis)}
}

// rating takes a bare 1–5 as the rating of a case closed within the week, and the next
// message after it as a comment.
func (l *LegalAid) rating(ctx context.Context, s *bot.Session, text string) (bot.ScreenResult, bool) {
	cmd := bot.NormalizeCommand(text)
	if v := s.Var(varLegalComment); v != "" {
		s.SetVar(varLegalComment, "")
		number, at, _ := strings.Cut(v, "|")
		secs, _ := strconv.ParseInt(at, 10, 64)
		if l.now().Sub(time.Unix(secs, 0)) < legalCommentTTL && !l.router.IsCommand(text) {
			if skip := map[string]bool{"不用了": true, "不用": true, "没有": true, "没了": true, "不说了": true}; skip[cmd] {
				return bot.ScreenResult{Handled: true, Reply: bot.Text(msgCommentSkip)}, true
			}
			if err := l.store.CommentLegalCase(ctx, s.OpenID, number, text); err != nil {
				l.logger.WarnContext(ctx, "legal rating comment", "open_id", s.OpenID, "err", err)
			}
			return bot.ScreenResult{Handled: true, Reply: bot.Text(msgCommentThanks)}, true
		}
	}
	n, err := strconv.Atoi(strings.TrimSuffix(cmd, "分"))
	if err != nil || !legalaid.ValidRating(n) {
		return bot.ScreenResult{}, false
	}
	if q := takeNumberQuestion(&bot.Session{Vars: map[string]string{varNumberQ: s.Var(varNumberQ)}}, l.now()); q.kind != "" {
		return bot.ScreenResult{}, false // a list just shown asked for this number
	}
	c, err := l.store.LegalRatingDue(ctx, s.OpenID)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			l.logger.WarnContext(ctx, "legal rating due", "open_id", s.OpenID, "err", err)
		}
		return bot.ScreenResult{}, false
	}
	if err := l.store.RateLegalCase(ctx, s.OpenID, c.Number, n, memberAudit(ctx, s.OpenID)); err != nil {
		l.logger.WarnContext(ctx, "legal rating", "open_id", s.OpenID, "err", err)
		return bot.ScreenResult{}, false
	}
	s.SetVar(varLegalComment, c.Number+"|"+strconv.FormatInt(l.now().Unix(), 10))
	return bot.ScreenResult{Handled: true, Reply: bot.Text(fmt.Sprintf(msgRatingThanks, n))}, true
}

// offer is legal aid's answer and offer (offers.go): a legal question gets an officers'
// keyword rule, the FAQ's confident answer or, with no FAQ entry close at all, the short
// advice for the type of dispute (close FAQ guesses answer better than general advice).
func (l *LegalAid) offer() formOffer {
	return formOffer{form: legalForm, offer: msgLegalOffer, fromFAQ: true,
		asks: func(text string) (string, bool) {
			t, ok := legalaid.Question(text)
			return legalAdvice[t], ok
		}}
}

// ProgressSection is the legal-aid part of 进度 for openID ("" when there is nothing to
// show): the requests the person filed, newest first. The claims capability composes it
// with its own part.
func (l *LegalAid) ProgressSection(ctx context.Context, openID string) (string, error) {
	cases, err := l.store.LegalCasesOf(ctx, openID, 10)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, c := range cases {
		if c.Type == legalaid.Crisis {
			continue // kept to protect the person, not a request they filed
		}
		status := c.Status.Label()
		if c.Status == legalaid.Closed {
			status += "（" + c.Outcome.Label() + "）"
		}
		fmt.Fprintf(&b, "\n%s %s · %s（%s提交）", c.Number, c.Type.Label(), status, parse.FormatShortDate(c.SubmittedAt.In(shanghai)))
	}
	if b.Len() == 0 {
		return "", nil
	}
	return msgProgressLegalHead + b.String(), nil
}
