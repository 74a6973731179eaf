package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"unionbot/bot"
	"unionbot/notices"
	"unionbot/pii"
	"unionbot/storage"
)

// IntentMyActivities lists the member's own sign-ups (我的活动).
const IntentMyActivities = "my_activities"

// formActivityGuest asks a non-member once for a name and phone (open activities).
const formActivityGuest = "activity_guest"

// varActivity carries the activity number into the guest form.
const varActivity = "act_no"

// ActivityStore is what Activities uses.
type ActivityStore interface {
	memberFinder
	UpcomingActivities(ctx context.Context, limit int) ([]storage.Notice, error)
	ActivityByNumber(ctx context.Context, n int64) (storage.Notice, error)
	SignUp(ctx context.Context, n int64, in storage.SignupIn) (storage.SignupResult, error)
	CancelSignup(ctx context.Context, n int64, openID string) (storage.CancelResult, error)
	SignupsOf(ctx context.Context, openID string) ([]storage.MySignup, error)
	GuestContactOf(ctx context.Context, openID string) (storage.GuestContact, error)
	SetNoticeOptOut(ctx context.Context, openID string, out bool) error
}

// Activities is 活动, 活动 N, 报名 N, 取消报名 N, 我的活动 and 退订/订阅 (DESIGN §7).
type Activities struct {
	store     ActivityStore
	now       func() time.Time
	publicURL string
	router    *bot.Router
	fallback  bot.HandlerFunc
}

func (s *Activities) register(r *bot.Router, fallback bot.HandlerFunc) {
	s.router, s.fallback = r, fallback
	intent(r, IntentActivities, s.handleList, "活动", "工会活动", "近期活动", "活动报名")
	intent(r, IntentMyActivities, s.handleMine, "我的活动", "我的报名")
	intent(r, IntentNoticesOff, s.handleOptOut, "退订", "退订通知", "取消订阅")
	intent(r, IntentNoticesOn, s.handleOptIn, "订阅", "订阅通知")
	r.Prefix("活动", s.prefix(s.handleDetail))
	r.Prefix("报名", s.prefix(s.handleSignUp))
	r.Prefix("取消报名", s.prefix(s.handleCancel))
	r.Form(&bot.Form{
		Name:  formActivityGuest,
		Title: "活动报名",
		Guard: s.guestGuard,
		Steps: []bot.Step{
			{Key: "name", Label: "姓名", Prompt: "请回复您的姓名（用于活动签到）：", Check: checkGuestName},
			{Key: "phone", Label: "手机号", Prompt: "请回复您的手机号（活动有变化时联系您）：", Check: checkGuestPhone,
				Show: pii.MaskPhone},
		},
		Confirm: true,
		Summary: func(data map[string]string) string { return "报名活动：" + data["title"] },
		Submit:  s.submitGuest,
	})
}

// prefix wraps a numbered command: "报名 3", "报名3", "报名 第3个"; anything else that
// merely starts with the word ("活动中心在哪") goes to the fallback (FAQ).
func (s *Activities) prefix(h func(ctx context.Context, sess *bot.Session, in bot.Input, n int64) (bot.Reply, error)) func(context.Context, *bot.Session, bot.Input, string) (bot.Reply, error) {
	return func(ctx context.Context, sess *bot.Session, in bot.Input, arg string) (bot.Reply, error) {
		forgetNumberQuestion(sess)
		a := strings.TrimSpace(pii.HalfWidth(arg))
		a = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(a, "第"), "个"), "号")
		n, err := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
		if err != nil || n <= 0 {
			if a != "" && s.fallback != nil {
				return s.fallback(ctx, sess, in)
			}
			return bot.Text(msgActivityNumber), nil
		}
		return h(ctx, sess, in, n)
	}
}

const (
	msgActivityNumber = "请在后面加上活动编号，例如“报名 3”。回复“活动”查看近期活动和编号。"
	msgNoActivities   = `近期没有可以报名的活动。

新活动发布后会推送给您，也可以随时回复“活动”查看。`
	msgActivityNotFound = "没有找到编号为 %d 的活动。回复“活动”查看近期活动和编号。"
	msgBindFirst        = `“%s”只限工会会员报名，您的微信还没有绑定会员。

回复“绑定”，按提示输入姓名和身份证号后6位，绑定后再回复“报名 %d”即可。`
	msgNotInAudience = "“%s”面向%s，您不在这次的报名范围内。如有疑问请联系所在基层工会。"
	msgOptedOut      = `已为您退订活动和通知推送。

您本人互助金、法律援助等办理进度的消息仍会照常发送。
想重新接收，回复“订阅”即可。`
	msgOptedIn = `已为您恢复接收工会的活动和通知推送。

不想再收到时，回复“退订”即可。`
)

func (s *Activities) member(ctx context.Context, openID string) (storage.Member, bool, error) {
	return boundMember(ctx, s.store, openID)
}

// visible reports whether the activity is for this person: an activity for given units
// or the enrolled is hidden from bound members outside it (unbound people see all, they
// may be members who have not bound yet).
func visible(n storage.Notice, m storage.Member, bound bool, year int) bool {
	if !bound {
		return true
	}
	switch n.Audience.Kind {
	case notices.AudienceUnits:
		return slices.Contains(n.Audience.Units, m.UnitName)
	case notices.AudienceEnrolled:
		return slices.Contains(m.MutualAidYears, year)
	}
	return true
}

func (s *Activities) year() int { return s.now().In(notices.ChinaTime).Year() }

func (s *Activities) handleList(ctx context.Context, sess *bot.Session, _ bot.Input) (bot.Reply, error) {
	list, err := s.store.UpcomingActivities(ctx, 30)
	if err != nil {
		return bot.Reply{}, err
	}
	m, bound, err := s.member(ctx, sess.OpenID)
	if err != nil {
		return bot.Reply{}, err
	}
	var b strings.Builder
	shown := 0
	for _, n := range list {
		if !visible(n, m, bound, s.year()) || shown == 8 {
			continue
		}
		shown++
		a := n.Activity
		fmt.Fprintf(&b, "\n\n【%d】%s\n%s · %s", a.Number, n.Title, notices.When(a.StartsAt), a.Place)
		if line := placesLine(n, s.now()); line != "" {
			b.WriteString("\n" + line)
		}
	}
	if shown == 0 {
		return bot.Text(msgNoActivities), nil
	}
	return bot.Text("近期活动（【】里是活动编号）：" + b.String() +
		"\n\n回复“活动 编号”看详情，“报名 编号”报名，“我的活动”看已报名的。"), nil
}

// placesLine says how many places are left, or why sign-up is closed.
func placesLine(n storage.Notice, now time.Time) string {
	a := n.Activity
	switch {
	case now.After(a.SignupDeadline):
		return "报名已截止"
	case a.Capacity == 0:
		return "名额不限"
	case a.Taken >= a.Capacity && a.Waitlist:
		return "名额已满，可报名候补"
	case a.Taken >= a.Capacity:
		return "名额已满"
	}
	return fmt.Sprintf("剩余名额 %d/%d", a.Capacity-a.Taken, a.Capacity)
}

func (s *Activities) open(ctx context.Context, n int64) (storage.Notice, error) {
	act, err := s.store.ActivityByNumber(ctx, n)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (!act.Published() || act.Activity == nil)) {
		return storage.Notice{}, bot.Userf(fmt.Sprintf(msgActivityNotFound, n))
	}
	return act, err
}

func (s *Activities) handleDetail(ctx context.Context, sess *bot.Session, _ bot.Input, num int64) (bot.Reply, error) {
	n, err := s.open(ctx, num)
	if err != nil {
		return bot.Reply{}, err
	}
	a := n.Activity
	var b strings.Builder
	fmt.Fprintf(&b, "【%d】%s\n\n%s\n\n时间：%s\n地点：%s", a.Number, n.Title, notices.Excerpt(n.Body, 300),
		notices.When(a.StartsAt), a.Place)
	fmt.Fprintf(&b, "\n报名截止：%s", notices.When(a.SignupDeadline))
	if line := placesLine(n, s.now()); line != "" {
		b.WriteString("\n" + line)
	}
	if a.MembersOnly || n.Audience.MembersOnly() {
		b.WriteString("\n限工会会员报名")
	}
	if s.publicURL != "" {
		b.WriteString("\n全文：" + strings.TrimRight(s.publicURL, "/") + notices.PagePath(n.ID))
	}
	if !a.StartsAt.After(s.now()) {
		b.WriteString("\n\n活动已经开始或结束。")
	} else if !s.now().After(a.SignupDeadline) {
		fmt.Fprintf(&b, "\n\n回复“报名 %d”报名。", a.Number)
	}
	return bot.Text(b.String()), nil
}

func (s *Activities) handleSignUp(ctx context.Context, sess *bot.Session, in bot.Input, num int64) (bot.Reply, error) {
	n, err := s.open(ctx, num)
	if err != nil {
		return bot.Reply{}, err
	}
	m, bound, err := s.member(ctx, sess.OpenID)
	if err != nil {
		return bot.Reply{}, err
	}
	if !bound && (n.Activity.MembersOnly || n.Audience.MembersOnly()) {
		return bot.Text(fmt.Sprintf(msgBindFirst, n.Title, num)), nil
	}
	if bound && !visible(n, m, bound, s.year()) {
		return bot.Text(fmt.Sprintf(msgNotInAudience, n.Title, n.Audience.Describe(s.year()))), nil
	}
	if bound {
		return s.signUp(ctx, n, storage.SignupIn{OpenID: sess.OpenID, MemberID: m.ID})
	}
	// A non-member: the name and phone given before, or asked once.
	g, err := s.store.GuestContactOf(ctx, sess.OpenID)
	if err == nil {
		return s.signUp(ctx, n, storage.SignupIn{OpenID: sess.OpenID, GuestName: g.Name, GuestPhone: g.Phone})
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return bot.Reply{}, err
	}
	sess.SetVar(varActivity, strconv.FormatInt(num, 10))
	return s.router.Run(ctx, formActivityGuest, sess, in)
}

func (s *Activities) signUp(ctx context.Context, n storage.Notice, in storage.SignupIn) (bot.Reply, error) {
	num := n.Activity.Number
	res, err := s.store.SignUp(ctx, num, in)
	switch {
	case errors.Is(err, storage.ErrAlreadySigned):
		if res.Status == storage.SignupWaiting {
			return bot.Text(fmt.Sprintf("您已在“%s”的候补名单上，有名额空出会自动为您报上并通知您。", n.Title)), nil
		}
		return bot.Text(fmt.Sprintf("您已经报名了“%s”，不用重复报名。\n不能参加请回复“取消报名 %d”。", n.Title, num)), nil
	case errors.Is(err, storage.ErrActivityFull):
		return bot.Text(fmt.Sprintf("很抱歉，“%s”的名额已经报满了。\n回复“活动”看看其他活动。", n.Title)), nil
	case errors.Is(err, storage.ErrSignupClosed):
		return bot.Text(fmt.Sprintf("“%s”的报名已于%s截止。", n.Title, notices.When(n.Activity.SignupDeadline))), nil
	case errors.Is(err, storage.ErrActivityClosed):
		return bot.Text(fmt.Sprintf("“%s”已经开始或已取消，不能再报名了。", n.Title)), nil
	case err != nil:
		return bot.Reply{}, err
	}
	a := n.Activity
	if res.Status == storage.SignupWaiting {
		return bot.Text(fmt.Sprintf("“%s”名额已满，已为您登记候补，目前排第%d位。\n有人取消时会按顺序自动为您报上，并发消息通知您。\n不想候补了回复“取消报名 %d”。",
			n.Title, res.Position, num)), nil
	}
	remind := ""
	if a.RemindBefore > 0 {
		remind = "\n活动前会提醒您。"
	}
	return bot.Text(fmt.Sprintf("报名成功！\n活动：%s\n时间：%s\n地点：%s%s\n不能参加请回复“取消报名 %d”，把名额让给别人。",
		n.Title, notices.When(a.StartsAt), a.Place, remind, num)), nil
}

func (s *Activities) guestGuard(ctx context.Context, sess *bot.Session) error {
	num, err := strconv.ParseInt(sess.Var(varActivity), 10, 64)
	if err != nil {
		return bot.Userf("请回复“报名 编号”报名活动，例如“报名 3”。")
	}
	sess.SetVar(varActivity, "")
	n, err := s.open(ctx, num)
	if err != nil {
		return err
	}
	sess.Data["act"] = strconv.FormatInt(num, 10)
	sess.Data["title"] = n.Title
	return nil
}

func checkGuestName(_ context.Context, _ *bot.Session, v string) (string, error) {
	v = strings.TrimSpace(v)
	if n := len([]rune(v)); n < 2 || n > 20 || strings.ContainsAny(v, "0123456789") {
		return "", bot.Userf("请回复您的真实姓名（2到20个字）。")
	}
	return v, nil
}

func checkGuestPhone(_ context.Context, _ *bot.Session, v string) (string, error) {
	p := pii.NormalizePhone(v)
	if err := pii.ValidatePhone(p); err != nil {
		return "", bot.Userf("手机号好像不对，请回复11位手机号，例如 13812345678。")
	}
	return p, nil
}

func (s *Activities) submitGuest(ctx context.Context, sess *bot.Session, data map[string]string) (bot.Reply, error) {
	num, _ := strconv.ParseInt(data["act"], 10, 64)
	n, err := s.open(ctx, num)
	if err != nil {
		return bot.Reply{}, err
	}
	return s.signUp(ctx, n, storage.SignupIn{OpenID: sess.OpenID, GuestName: data["name"], GuestPhone: data["phone"]})
}

func (s *Activities) handleCancel(ctx context.Context, sess *bot.Session, _ bot.Input, num int64) (bot.Reply, error) {
	n, err := s.open(ctx, num)
	if err != nil {
		return bot.Reply{}, err
	}
	res, err := s.store.CancelSignup(ctx, num, sess.OpenID)
	switch {
	case errors.Is(err, storage.ErrNotSignedUp):
		return bot.Text(fmt.Sprintf("您没有报名“%s”，不需要取消。回复“我的活动”查看您报名的活动。", n.Title)), nil
	case errors.Is(err, storage.ErrActivityClosed):
		return bot.Text(fmt.Sprintf("“%s”已经开始，不能在线取消了，请联系活动负责人。", n.Title)), nil
	case err != nil:
		return bot.Reply{}, err
	}
	if res.Was == storage.SignupWaiting {
		return bot.Text(fmt.Sprintf("已取消“%s”的候补。", n.Title)), nil
	}
	return bot.Text(fmt.Sprintf("已取消“%s”的报名，名额已让出。想再参加可以回复“报名 %d”（有名额时）。", n.Title, num)), nil
}

func (s *Activities) handleMine(ctx context.Context, sess *bot.Session, _ bot.Input) (bot.Reply, error) {
	mine, err := s.store.SignupsOf(ctx, sess.OpenID)
	if err != nil {
		return bot.Reply{}, err
	}
	if len(mine) == 0 {
		return bot.Text("您还没有报名近期的活动。回复“活动”查看可以报名的活动。"), nil
	}
	var b strings.Builder
	b.WriteString("您报名的活动：")
	for _, m := range mine {
		a := m.Activity.Activity
		status := "已报名"
		if m.Status == storage.SignupWaiting {
			status = fmt.Sprintf("候补第%d位", m.Position)
		}
		if !a.StartsAt.After(s.now()) {
			status += "（已开始）"
		}
		fmt.Fprintf(&b, "\n\n【%d】%s\n%s · %s\n%s", a.Number, m.Activity.Title, notices.When(a.StartsAt), a.Place, status)
	}
	b.WriteString("\n\n不能参加请回复“取消报名 编号”。")
	return bot.Text(b.String()), nil
}

func (s *Activities) handleOptOut(ctx context.Context, sess *bot.Session, _ bot.Input) (bot.Reply, error) {
	if err := s.store.SetNoticeOptOut(ctx, sess.OpenID, true); err != nil {
		return bot.Reply{}, err
	}
	return bot.Text(msgOptedOut), nil
}

func (s *Activities) handleOptIn(ctx context.Context, sess *bot.Session, _ bot.Input) (bot.Reply, error) {
	if err := s.store.SetNoticeOptOut(ctx, sess.OpenID, false); err != nil {
		return bot.Reply{}, err
	}
	return bot.Text(msgOptedIn), nil
}
