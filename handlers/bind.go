package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"
	"unicode"

	"unionbot/bot"
	"unionbot/pii"
	"unionbot/storage"
)

// Form data keys of the bind form.
const (
	keyName  = "name"
	keyIDSix = "id6"
)

const (
	msgBindIntro = `绑定会员后，可以在这里查询会员信息和互助保障。
只需两步：姓名、身份证号后6位，信息仅用于核对会员身份。`
	msgAskName    = "请输入您的姓名（与工会登记的一致）。"
	msgAskIDSix   = "请输入您的身份证号码后6位（最后一位是X的，输入X）。"
	msgBadName    = "请输入您本人的真实姓名（与工会登记的一致）；少数民族姓名可带“·”，如“阿依古丽·买买提”。"
	msgNameNotQ   = "这一步需要输入您的姓名。如有其他问题，可以先回复“取消”，再提问。"
	msgBadIDSix   = "请输入身份证号码的后6位：6位数字，最后一位可能是X。"
	msgBadIDFull  = "这个身份证号码校验不通过，请核对；也可以只输入后6位。"
	msgAlreadyOwn = "您的微信已绑定会员（会员编号 %s）。\n如需更换绑定，请先回复“解绑”。"
	msgLocked     = "绑定已暂时锁定，请在约%d分钟后再试，或联系所在基层工会。\n如果工作人员已经给了您绑定码，可以直接回复“绑定码”加上绑定码。"
	msgLockedNow  = `连续%d次未能核对成功，绑定已暂时锁定。
请在%s后（约%s）再试，或联系所在基层工会核实会员信息。`
	msgNoMatch = `没有查到与您填写的信息相符的会员记录。
请核对姓名和身份证号后6位，回复“绑定”重新填写，还可以再试%d次。

如果您刚入会，信息可能还未录入，请联系所在基层工会。`
	msgManyMatch = `查到多条相符的会员记录，无法自动绑定。
请联系所在基层工会，由工作人员帮您核实。`
	msgTransferred = `您的会员关系显示为“已转出”，暂时无法绑定。
如已转到其他基层工会，请联系新的基层工会更新会员信息后再绑定。`
	msgWithdrawn = `您的会员状态显示为“已退会”，无法绑定。
如需重新入会，请联系所在单位工会或县总工会。`
	msgInactive       = "您的会员状态为“%s”，暂时无法绑定。请联系所在基层工会核实。"
	msgBoundElsewhere = `这条会员信息已绑定了其他微信，不能重复绑定。
如果不是您本人绑定的，请联系所在基层工会或县总工会处理。`
	msgBindOK = `绑定成功！
姓名：%s
会员编号：%s
所属工会：%s

现在您可以：
· 回复“我的信息”查看会员信息
· 回复“互助保障”查询参保情况
· 回复“菜单”查看全部服务`
	msgNotBound   = "您的微信还没有绑定会员。\n回复“绑定”，按提示输入姓名和身份证号后6位即可绑定。"
	msgUnbindWarn = `要解除绑定的会员：
姓名：%s
会员编号：%s
所属工会：%s

解除后，将不能在这里查询会员信息和互助保障，之后可随时重新绑定。`
	msgUnbindOK = "已解除绑定。\n如需重新绑定，回复“绑定”即可。"

	msgNameLocked = `为保护会员信息，这个姓名近期的绑定核对次数已用完，自助绑定暂时锁定（约%s后自动解除）。
请联系所在基层工会：工作人员核实身份后，可以为您解除锁定，或给您一个绑定码。
拿到绑定码后，回复“绑定码”加上绑定码即可绑定，例如：绑定码 ABCDE-FGHJK`
	msgCodeInForm = "要用绑定码绑定，请先回复“取消”，再发送“绑定码”加上绑定码，例如：绑定码 ABCDE-FGHJK"
	msgCodeHowTo  = `请在“绑定码”后面加上工作人员给您的绑定码，例如：
绑定码 ABCDE-FGHJK
还没有绑定码的，回复“绑定”按姓名和身份证号后6位绑定。`
	msgCodeWrong = `这个绑定码不对，或已经用过、过期了（绑定码24小时内有效，只能用一次）。
请核对后重新发送，或联系所在基层工会重新获取。`
	msgCodeLocked   = "绑定码输错次数过多，已暂时停用。请明天再试，或联系所在基层工会。"
	msgCodeOwnOther = "您的微信已绑定会员（会员编号 %s）。\n如需改绑，请先回复“解绑”，再发送绑定码。"
	msgCodeInactive = "这条会员信息目前不能绑定（会员状态有变化），请联系所在基层工会核实。"
)

// BindingStore is what Binding uses.
type BindingStore interface {
	memberFinder
	MembersByNameAndIDSuffix(ctx context.Context, name, idLast6 string) ([]storage.Member, error)
	BindMember(ctx context.Context, memberID int64, openID string, audit storage.AuditEntry) error
	UnbindMember(ctx context.Context, openID string, audit storage.AuditEntry) (storage.Member, error)
	BindingLockOf(ctx context.Context, openID, name string) (storage.BindingLock, error)
	RecordBindingFailure(ctx context.Context, openID, name string, lim storage.BindingLimits, audit storage.AuditEntry) (storage.BindingFailure, error)
	RedeemBindingCode(ctx context.Context, openID, code string, lim storage.BindingLimits, audit storage.AuditEntry) (storage.Member, error)
}

// Binding links a WeChat account to a membership: the bind form (姓名, then the
// last 6 of the ID number), 解绑, and 绑定码 CODE with a code from an officer.
// Attempts that do not bind are counted in storage, per openid and per name;
// the rules live there, beside the officers' unlock and code calls.
type Binding struct {
	store  BindingStore
	logger *slog.Logger
	now    func() time.Time
	limits storage.BindingLimits
}

func (s *Binding) register(r *bot.Router) {
	r.Form(&bot.Form{
		Name:  IntentBind,
		Title: "绑定会员",
		Guard: s.bindGuard,
		Intro: msgBindIntro,
		Steps: []bot.Step{
			{Key: keyName, Prompt: msgAskName, Check: checkName},
			{Key: keyIDSix, Prompt: msgAskIDSix, Check: checkIDSix},
		},
		Submit: s.submitBind,
	}, "绑定", "绑定会员", "会员绑定", "会员认证")

	r.Form(&bot.Form{
		Name:    IntentUnbind,
		Title:   "解除绑定",
		Confirm: true,
		Guard:   s.unbindGuard,
		Summary: func(data map[string]string) string { return data["member"] },
		Submit:  s.submitUnbind,
	}, "解绑", "解除绑定")

	r.Prefix(codeCommand, func(ctx context.Context, sess *bot.Session, in bot.Input, arg string) (bot.Reply, error) {
		forgetNumberQuestion(sess)
		return s.redeemCode(ctx, sess, arg)
	})
}

// codeCommand is what a member types before a binding code.
const codeCommand = "绑定码"

func (s *Binding) bindGuard(ctx context.Context, sess *bot.Session) error {
	forgetNumberQuestion(sess)
	m, ok, err := boundMember(ctx, s.store, sess.OpenID)
	if err != nil {
		return err
	}
	if ok {
		return bot.Userf(fmt.Sprintf(msgAlreadyOwn, pii.MaskMemberNo(m.MemberNo)))
	}
	l, err := s.store.BindingLockOf(ctx, sess.OpenID, "")
	if err != nil {
		return fmt.Errorf("bind lock: %w", err)
	}
	if !l.OpenIDUntil.IsZero() {
		return bot.Userf(fmt.Sprintf(msgLocked, ceilMinutes(l.OpenIDUntil.Sub(s.now()))))
	}
	return nil
}

// ceilMinutes rounds a remaining time up to whole minutes, at least 1.
func ceilMinutes(d time.Duration) int {
	n := int(math.Ceil(d.Minutes()))
	if n < 1 {
		n = 1
	}
	return n
}

// humanDuration says a lockout length the way a person would.
func humanDuration(d time.Duration) string {
	if d >= time.Hour && d%time.Hour == 0 {
		return fmt.Sprintf("%d小时", d/time.Hour)
	}
	if d > 2*time.Hour { // a day-long lock: "约24小时", not "1440分钟"
		return fmt.Sprintf("%d小时", int(math.Ceil(d.Hours())))
	}
	return fmt.Sprintf("%d分钟", ceilMinutes(d))
}

// checkName accepts a name the roster may hold, by the one rule storage keeps
// for both (storage.BindableName): the import refuses a roster name this
// would refuse. Chat adds two leniencies and one strictness: punctuation and
// emoji around the name are dropped ("张三。"), "绑定码 …" typed here gets a
// hint, and a Latin name must have been typed in parts ("Aygul Memet"), so a
// lone word ("cancel", "zenmebangding") is not taken for one.
func checkName(_ context.Context, _ *bot.Session, v string) (string, error) {
	if strings.HasPrefix(bot.NormalizeCommand(v), codeCommand) {
		return "", bot.Userf(msgCodeInForm)
	}
	raw := strings.TrimSpace(v)
	trimmed := strings.TrimFunc(raw, func(r rune) bool {
		if r == '?' || r == '？' {
			return false // a question mark is the question check's business
		}
		return unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
	})
	name, why := storage.BindableName(trimmed)
	switch why {
	case storage.NameOK:
	case storage.NameQuestion:
		return "", bot.Userf(msgNameNotQ)
	default:
		return "", bot.Userf(msgBadName)
	}
	latin := strings.ContainsFunc(name, func(r rune) bool { return unicode.Is(unicode.Latin, r) })
	if latin && !strings.Contains(name, "·") && !strings.ContainsFunc(raw, unicode.IsSpace) {
		return "", bot.Userf(msgBadName)
	}
	return name, nil
}

// checkIDSix accepts the last 6 characters of an ID number (digits, the last
// one may be X), or a whole 18-character ID number, of which only the last 6
// are kept. The full number is never stored nor echoed.
func checkIDSix(_ context.Context, _ *bot.Session, v string) (string, error) {
	v = strings.ToUpper(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, pii.HalfWidth(v)))
	switch len(v) {
	case 6:
		if isIDTail(v) {
			return v, nil
		}
	case 18:
		if isIDTail(v) {
			if pii.ValidateIDNumber(v) != nil {
				return "", bot.Userf(msgBadIDFull)
			}
			return v[12:], nil
		}
	}
	return "", bot.Userf(msgBadIDSix)
}

// isIDTail reports whether v is digits with an optional final X.
func isIDTail(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= '0' && c <= '9' || c == 'X' && i == len(v)-1 {
			continue
		}
		return false
	}
	return true
}

func (s *Binding) submitBind(ctx context.Context, sess *bot.Session, data map[string]string) (bot.Reply, error) {
	openID, name := sess.OpenID, data[keyName]
	ms, err := s.store.MembersByNameAndIDSuffix(ctx, name, data[keyIDSix])
	if err != nil {
		return bot.Reply{}, fmt.Errorf("find member to bind: %w", err)
	}
	// Bound already: to the member these details name, that is a WeChat retry
	// of a delivery that bound and died before its reply (or the member said
	// it twice), and the answer is the success it would have had.
	if bound, ok, err := boundMember(ctx, s.store, openID); err != nil {
		return bot.Reply{}, err
	} else if ok {
		for _, m := range ms {
			if m.ID == bound.ID {
				return bindOK(bound), nil
			}
		}
		return bot.Reply{}, bot.Userf(fmt.Sprintf(msgAlreadyOwn, pii.MaskMemberNo(bound.MemberNo)))
	}
	// Locked: the details are not even looked at, so a right guess tells nothing.
	l, err := s.store.BindingLockOf(ctx, openID, name)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("bind lock: %w", err)
	}
	switch {
	case !l.NameUntil.IsZero():
		return bot.Reply{}, bot.Userf(fmt.Sprintf(msgNameLocked, humanDuration(l.NameUntil.Sub(s.now()))))
	case !l.OpenIDUntil.IsZero():
		return bot.Reply{}, bot.Userf(fmt.Sprintf(msgLocked, ceilMinutes(l.OpenIDUntil.Sub(s.now()))))
	}

	switch {
	case len(ms) == 0:
		return s.failed(ctx, openID, name, "no match", "")
	case len(ms) > 1:
		return s.failed(ctx, openID, name, "several members match", msgManyMatch)
	}
	m := ms[0]
	switch m.Status {
	case storage.StatusActive:
	case storage.StatusTransferred:
		return s.failed(ctx, openID, name, "member transferred", msgTransferred)
	case storage.StatusWithdrawn:
		return s.failed(ctx, openID, name, "member withdrawn", msgWithdrawn)
	default:
		return s.failed(ctx, openID, name, "member inactive", fmt.Sprintf(msgInactive, m.Status))
	}
	if m.OpenID != "" && m.OpenID != openID {
		return s.failed(ctx, openID, name, "member bound elsewhere", msgBoundElsewhere)
	}
	err = s.store.BindMember(ctx, m.ID, openID, memberAudit(ctx, openID))
	if errors.Is(err, storage.ErrConflict) {
		return s.failed(ctx, openID, name, "bind conflict", msgBoundElsewhere)
	}
	if err != nil {
		return bot.Reply{}, fmt.Errorf("bind member: %w", err)
	}
	// The failure counts are not reset here: they run out with their window.
	// Resetting them would let someone guess at another person's details, bind
	// their own membership, unbind and guess again without ever being locked out.
	s.logger.InfoContext(ctx, "member bound", "open_id", openID, "member_id", m.ID)
	return bindOK(m), nil
}

// bindOK is the success reply.
func bindOK(m storage.Member) bot.Reply {
	return bot.Text(fmt.Sprintf(msgBindOK, pii.MaskName(m.Name), pii.MaskMemberNo(m.MemberNo), m.UnitName))
}

// failed counts an attempt that did not bind — no match, or a reply that
// tells a right pair without binding it (msg) — and answers. An attempt that
// locks binding says so instead.
func (s *Binding) failed(ctx context.Context, openID, name, why, msg string) (bot.Reply, error) {
	f, err := s.store.RecordBindingFailure(ctx, openID, name, s.limits, memberAudit(ctx, openID))
	if err != nil {
		return bot.Reply{}, fmt.Errorf("count bind failure: %w", err)
	}
	s.logger.InfoContext(ctx, "bind failed", "open_id", openID, "why", why, "openid_left", f.OpenIDLeft, "name_left", f.NameLeft)
	switch {
	case !f.Lock.NameUntil.IsZero():
		s.logger.WarnContext(ctx, "binding locked for a name", "open_id", openID, "until", f.Lock.NameUntil)
		return bot.Text(fmt.Sprintf(msgNameLocked, humanDuration(f.Lock.NameUntil.Sub(s.now())))), nil
	case !f.Lock.OpenIDUntil.IsZero():
		s.logger.WarnContext(ctx, "binding locked for an openid", "open_id", openID, "until", f.Lock.OpenIDUntil)
		until := f.Lock.OpenIDUntil.In(shanghai).Format("15:04")
		return bot.Text(fmt.Sprintf(msgLockedNow, s.limits.PerOpenID.Max, humanDuration(s.limits.PerOpenID.Lockout), until)), nil
	case msg != "":
		return bot.Text(msg), nil
	}
	return bot.Text(fmt.Sprintf(msgNoMatch, min(f.OpenIDLeft, f.NameLeft))), nil
}

// redeemCode binds with a one-time code an officer gave the member. It works
// whatever the self-service locks say.
func (s *Binding) redeemCode(ctx context.Context, sess *bot.Session, code string) (bot.Reply, error) {
	if strings.TrimSpace(code) == "" {
		return bot.Text(msgCodeHowTo), nil
	}
	openID := sess.OpenID
	m, err := s.store.RedeemBindingCode(ctx, openID, code, s.limits, memberAudit(ctx, openID))
	switch {
	case err == nil:
		s.logger.InfoContext(ctx, "member bound with a code", "open_id", openID, "member_id", m.ID)
		return bindOK(m), nil
	case errors.Is(err, storage.ErrNotFound):
		s.logger.InfoContext(ctx, "binding code refused", "open_id", openID)
		return bot.Text(msgCodeWrong), nil
	case errors.Is(err, storage.ErrLocked):
		return bot.Text(msgCodeLocked), nil
	case errors.Is(err, storage.ErrConflict):
		if bound, ok, ferr := boundMember(ctx, s.store, openID); ferr == nil && ok {
			return bot.Text(fmt.Sprintf(msgCodeOwnOther, pii.MaskMemberNo(bound.MemberNo))), nil
		}
		return bot.Reply{}, fmt.Errorf("redeem binding code: %w", err)
	case errors.Is(err, storage.ErrInvalid):
		return bot.Text(msgCodeInactive), nil
	}
	return bot.Reply{}, fmt.Errorf("redeem binding code: %w", err)
}

// unbindGuard refuses when nothing is bound and puts the masked member in the
// form's data for the confirmation summary.
func (s *Binding) unbindGuard(ctx context.Context, sess *bot.Session) error {
	forgetNumberQuestion(sess)
	m, ok, err := boundMember(ctx, s.store, sess.OpenID)
	if err != nil {
		return err
	}
	if !ok {
		return bot.Userf(msgNotBound)
	}
	sess.Data["member"] = fmt.Sprintf(msgUnbindWarn, pii.MaskName(m.Name), pii.MaskMemberNo(m.MemberNo), m.UnitName)
	return nil
}

func (s *Binding) submitUnbind(ctx context.Context, sess *bot.Session, _ map[string]string) (bot.Reply, error) {
	m, err := s.store.UnbindMember(ctx, sess.OpenID, memberAudit(ctx, sess.OpenID))
	if errors.Is(err, storage.ErrNotFound) {
		return bot.Reply{}, bot.Userf(msgNotBound)
	}
	if err != nil {
		return bot.Reply{}, fmt.Errorf("unbind member: %w", err)
	}
	s.logger.InfoContext(ctx, "member unbound", "open_id", sess.OpenID, "member_id", m.ID)
	return bot.Text(msgUnbindOK), nil
}
