package handlers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"unionbot/bot"
	"unionbot/pii"
	"unionbot/storage"
	"unionbot/storage/kv"
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
	msgLocked     = "绑定已暂时锁定，请在约%d分钟后再试，或联系所在基层工会。"
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
)

func (s *Service) registerMembership(r *bot.Router) {
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
}

// boundMember returns the member bound to openID; ok is false when none is.
func (s *Service) boundMember(ctx context.Context, openID string) (storage.Member, bool, error) {
	m, err := s.store.MemberByOpenID(ctx, openID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Member{}, false, nil
	}
	if err != nil {
		return storage.Member{}, false, fmt.Errorf("member of openid: %w", err)
	}
	return m, true, nil
}

func (s *Service) bindGuard(ctx context.Context, sess *bot.Session) error {
	sess.SetVar(varChoices, "")
	m, ok, err := s.boundMember(ctx, sess.OpenID)
	if err != nil {
		return err
	}
	if ok {
		return bot.Userf(fmt.Sprintf(msgAlreadyOwn, pii.MaskMemberNo(m.MemberNo)))
	}
	return s.lockedError(ctx, sess.OpenID)
}

// lockedError returns a UserError when binding is locked for openID.
func (s *Service) lockedError(ctx context.Context, openID string) error {
	ttl, err := s.kv.TTL(ctx, bindLockPrefix+openID)
	if errors.Is(err, kv.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bind lock: %w", err)
	}
	return bot.Userf(fmt.Sprintf(msgLocked, ceilMinutes(ttl)))
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
	return fmt.Sprintf("%d分钟", ceilMinutes(d))
}

// questionMarkers are pieces of text that show a question was typed where a
// name was asked for. Then the engine lets the interrupt hook answer it.
var questionMarkers = []string{"吗", "怎么", "什么", "如何", "为什么", "哪", "?", "？", "多少", "能不能", "可以", "请问", "咋"}

// chatter is small talk that would otherwise pass for a two-character name.
var chatter = map[string]bool{
	"你好": true, "您好": true, "谢谢": true, "好的": true, "不知道": true, "没有": true,
	"是的": true, "不是": true, "知道了": true, "收到": true, "哈哈": true, "嗯嗯": true,
	"在不在": true, "不要": true, "不用": true, "算了吧": true, "绑定": true, "会员": true,
	"ok": true, "hi": true, "hello": true, "yes": true, "no": true, "thanks": true, "help": true,
	"cancel": true, "menu": true, "unbind": true, "bind": true, "back": true, "quit": true, "exit": true,
}

// sentenceWords never occur in a person's name but fill the sentences members
// type instead of one ("查一下我的互助保障", "申请困难职工补助金"). Long
// minority names written without the dot (乌力吉巴雅尔) are still names.
var sentenceWords = []string{"我", "你", "您", "的", "了", "呢", "吧", "啊", "一下", "申请", "报销", "补助",
	"查询", "保障", "互助", "工会", "工资", "帮忙", "办理", "医疗", "费用"}

// checkName accepts a name the roster may hold: after pii.NormalizeName (which
// storage applies too: no spaces, one middle dot "·"), 2–20 characters of Han
// characters and Latin letters, parts joined by "·" (阿依古丽·买买提). A Han
// name without a dot must not read like a sentence (sentenceWords), so one
// typed instead goes to the interrupt hook; a Latin name must
// have been typed in parts ("Aygul Memet"), so a lone word ("cancel",
// "zenmebangding") is not taken for one.
func checkName(_ context.Context, _ *bot.Session, v string) (string, error) {
	for _, q := range questionMarkers {
		if strings.Contains(v, q) {
			return "", bot.Userf(msgNameNotQ)
		}
	}
	raw := strings.TrimSpace(v)
	v = pii.NormalizeName(v)
	v = strings.TrimFunc(v, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) })
	if chatter[strings.ToLower(v)] {
		return "", bot.Userf(msgBadName)
	}
	if n := utf8.RuneCountInString(v); n < 2 || n > 20 {
		return "", bot.Userf(msgBadName)
	}
	latin := false
	for _, p := range strings.Split(v, "·") {
		if p == "" {
			return "", bot.Userf(msgBadName)
		}
		for _, r := range p {
			switch {
			case unicode.Is(unicode.Han, r):
			case unicode.Is(unicode.Latin, r) && unicode.IsLetter(r):
				latin = true
			default:
				return "", bot.Userf(msgBadName)
			}
		}
	}
	dotted := strings.Contains(v, "·")
	if !latin && !dotted {
		for _, w := range sentenceWords {
			if strings.Contains(v, w) {
				return "", bot.Userf(msgBadName)
			}
		}
	}
	if latin && !dotted && !strings.ContainsFunc(raw, unicode.IsSpace) {
		return "", bot.Userf(msgBadName)
	}
	return v, nil
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

func (s *Service) submitBind(ctx context.Context, sess *bot.Session, data map[string]string) (bot.Reply, error) {
	openID := sess.OpenID
	if err := s.bindGuard(ctx, sess); err != nil {
		return bot.Reply{}, err
	}
	ms, err := s.store.MembersByNameAndIDSuffix(ctx, data[keyName], data[keyIDSix])
	if err != nil {
		return bot.Reply{}, fmt.Errorf("find member to bind: %w", err)
	}
	switch {
	case len(ms) == 0:
		return s.bindFailed(ctx, openID)
	case len(ms) > 1:
		s.logger.WarnContext(ctx, "bind matched several members", "open_id", openID, "matches", len(ms))
		return bot.Reply{}, bot.Userf(msgManyMatch)
	}
	m := ms[0]
	switch m.Status {
	case storage.StatusActive:
	case storage.StatusTransferred:
		return bot.Reply{}, bot.Userf(msgTransferred)
	case storage.StatusWithdrawn:
		return bot.Reply{}, bot.Userf(msgWithdrawn)
	default:
		return bot.Reply{}, bot.Userf(fmt.Sprintf(msgInactive, m.Status))
	}
	if m.OpenID != "" && m.OpenID != openID {
		s.logger.InfoContext(ctx, "bind refused, member bound elsewhere", "open_id", openID, "member_id", m.ID)
		return bot.Reply{}, bot.Userf(msgBoundElsewhere)
	}
	err = s.store.BindMember(ctx, m.ID, openID)
	if errors.Is(err, storage.ErrConflict) {
		s.logger.InfoContext(ctx, "bind refused, conflict", "open_id", openID, "member_id", m.ID)
		return bot.Reply{}, bot.Userf(msgBoundElsewhere)
	}
	if err != nil {
		return bot.Reply{}, fmt.Errorf("bind member: %w", err)
	}
	// The failure count is not reset here: it runs out with its window. Resetting it would
	// let someone guess at another person's details, bind their own membership, unbind and
	// guess again without ever being locked out.
	s.audit(ctx, openID, "member.bind", m)
	s.logger.InfoContext(ctx, "member bound", "open_id", openID, "member_id", m.ID)
	return bot.Text(fmt.Sprintf(msgBindOK, pii.MaskName(m.Name), pii.MaskMemberNo(m.MemberNo), m.UnitName)), nil
}

// bindFailed counts a failed attempt and says how many remain, locking
// binding when none do.
func (s *Service) bindFailed(ctx context.Context, openID string) (bot.Reply, error) {
	n, err := s.kv.Incr(ctx, bindFailPrefix+openID, s.lockout)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("count bind failure: %w", err)
	}
	s.logger.InfoContext(ctx, "bind failed, no matching member", "open_id", openID, "failures", n)
	if int(n) < s.maxFailures {
		return bot.Text(fmt.Sprintf(msgNoMatch, s.maxFailures-int(n))), nil
	}
	if err := s.kv.Set(ctx, bindLockPrefix+openID, []byte("1"), s.lockout); err != nil {
		return bot.Reply{}, fmt.Errorf("lock binding: %w", err)
	}
	if err := s.kv.Delete(ctx, bindFailPrefix+openID); err != nil {
		s.logger.WarnContext(ctx, "reset bind failures", "open_id", openID, "err", err)
	}
	s.logger.WarnContext(ctx, "binding locked", "open_id", openID, "lockout", s.lockout)
	until := s.now().Add(s.lockout).In(shanghai).Format("15:04")
	return bot.Text(fmt.Sprintf(msgLockedNow, n, humanDuration(s.lockout), until)), nil
}

// audit records a member's own change to their binding. A failure is logged,
// not returned: the change itself is already committed.
func (s *Service) audit(ctx context.Context, openID, action string, m storage.Member) {
	detail := fmt.Sprintf("会员 %s，编号 %s", pii.MaskName(m.Name), pii.MaskMemberNo(m.MemberNo))
	if err := s.store.Audit(ctx, "member:"+openID, action, fmt.Sprintf("member:%d", m.ID), detail); err != nil {
		s.logger.ErrorContext(ctx, "audit", "action", action, "open_id", openID, "member_id", m.ID, "err", err)
	}
}

// unbindGuard refuses when nothing is bound and puts the masked member in the
// form's data for the confirmation summary.
func (s *Service) unbindGuard(ctx context.Context, sess *bot.Session) error {
	m, ok, err := s.boundMember(ctx, sess.OpenID)
	if err != nil {
		return err
	}
	if !ok {
		return bot.Userf(msgNotBound)
	}
	sess.Data["member"] = fmt.Sprintf(msgUnbindWarn, pii.MaskName(m.Name), pii.MaskMemberNo(m.MemberNo), m.UnitName)
	return nil
}

func (s *Service) submitUnbind(ctx context.Context, sess *bot.Session, _ map[string]string) (bot.Reply, error) {
	m, err := s.store.UnbindMember(ctx, sess.OpenID)
	if errors.Is(err, storage.ErrNotFound) {
		return bot.Reply{}, bot.Userf(msgNotBound)
	}
	if err != nil {
		return bot.Reply{}, fmt.Errorf("unbind member: %w", err)
	}
	s.audit(ctx, sess.OpenID, "member.unbind", m)
	s.logger.InfoContext(ctx, "member unbound", "open_id", sess.OpenID, "member_id", m.ID)
	return bot.Text(msgUnbindOK), nil
}
