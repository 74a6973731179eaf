// Package handlers holds the member-facing capabilities in chat: the services
// menu, binding a WeChat account to a union membership, membership and
// mutual-aid lookups, the FAQ and keyword auto-replies, follow/unfollow events,
// and the "coming soon" notes of capabilities not built yet. Each capability
// registers itself on the dialog engine of package bot; every sentence a
// member reads sits beside the handler that says it.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"unionbot/bot"
	"unionbot/storage"
	"unionbot/storage/kv"
)

// Intent names. They double as the click keys of the WeChat custom menu, so a
// click and the typed keyword reach the same handler.
const (
	IntentMenu       = "menu"
	IntentBind       = "bind"
	IntentUnbind     = "unbind"
	IntentMyInfo     = "my_info"
	IntentMutualAid  = "mutual_aid"
	IntentClaim      = "claim"
	IntentLegalAid   = "legal_aid"
	IntentProgress   = "progress"
	IntentActivities = "activities"
	IntentNoticesOff = "notices_off"
	IntentNoticesOn  = "notices_on"
	IntentHuman      = "human"
	IntentFAQ        = "faq"
)

// Key prefixes of this package in the kv store.
const (
	bindFailPrefix = "bindfail:" // failed bind attempts of an openid (counter)
	bindLockPrefix = "bindlock:" // set while binding is locked for an openid
)

// Session variables of this package.
const (
	// varChoices holds the FAQ ids offered last turn ("12,5,7"), so that a
	// reply of 1..3 picks one of them. Cleared by any other input.
	varChoices = "faq_choices"
)

// Store is the slice of storage the chat capabilities use. *storage.DB
// satisfies it.
type Store interface {
	MemberByOpenID(ctx context.Context, openID string) (storage.Member, error)
	MembersByNameAndIDSuffix(ctx context.Context, name, idLast6 string) ([]storage.Member, error)
	BindMember(ctx context.Context, memberID int64, openID string) error
	UnbindMember(ctx context.Context, openID string) (storage.Member, error)
	Enrollments(ctx context.Context, memberID int64) ([]storage.Enrollment, error)
	FAQs(ctx context.Context) ([]storage.FAQ, error)
	SeedFAQs(ctx context.Context, faqs []storage.FAQ) (int, error)
	KeywordRules(ctx context.Context) ([]storage.KeywordRule, error)
	RecordSubscribe(ctx context.Context, openID string, at time.Time) error
	RecordUnsubscribe(ctx context.Context, openID string, at time.Time) error
	Audit(ctx context.Context, actor, action, subject, detail string) error
}

var _ Store = (*storage.DB)(nil)

// Deps are what the chat capabilities need.
type Deps struct {
	Store  Store
	KV     kv.Store
	Logger *slog.Logger
	// Now is the clock (time.Now when nil); "today" is taken in Asia/Shanghai.
	Now func() time.Time
	// UnionName is how the union calls itself in the welcome ("县总工会").
	UnionName string
	// FAQRefresh is how long the compiled FAQ index and keyword rules are
	// used before they are reloaded from the database (30s).
	FAQRefresh time.Duration
	// MaxBindFailures is how many failed bind attempts lock binding (5).
	MaxBindFailures int
	// BindLockout is both the window in which failures are counted and how
	// long binding stays locked after MaxBindFailures (1h).
	BindLockout time.Duration
}

// Service holds the state shared by the handlers: dependencies and the cached
// knowledge base. It is safe for concurrent use.
type Service struct {
	store       Store
	kv          kv.Store
	logger      *slog.Logger
	now         func() time.Time
	unionName   string
	refresh     time.Duration
	maxFailures int
	lockout     time.Duration

	kb        atomic.Pointer[knowledge]
	reloading sync.Mutex // one reload at a time; others keep using the old set
}

// Register builds the Service and registers every capability on r: intents,
// forms, events, the fallback and the in-form interrupt hook.
func Register(r *bot.Router, d Deps) (*Service, error) {
	if r == nil {
		return nil, errors.New("register handlers: nil router")
	}
	if d.Store == nil {
		return nil, errors.New("register handlers: nil store")
	}
	if d.KV == nil {
		return nil, errors.New("register handlers: nil kv store")
	}
	s := &Service{
		store:       d.Store,
		kv:          d.KV,
		logger:      d.Logger,
		now:         d.Now,
		unionName:   d.UnionName,
		refresh:     d.FAQRefresh,
		maxFailures: d.MaxBindFailures,
		lockout:     d.BindLockout,
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.unionName == "" {
		s.unionName = "县总工会"
	}
	if s.refresh <= 0 {
		s.refresh = 30 * time.Second
	}
	if s.maxFailures <= 0 {
		s.maxFailures = 5
	}
	if s.lockout <= 0 {
		s.lockout = time.Hour
	}

	intent := func(name string, h bot.HandlerFunc, keywords ...string) {
		r.Intent(name, forgetChoices(h), keywords...)
	}
	intent(IntentMenu, s.handleMenu, "菜单", "帮助", "服务", "功能", "help")
	s.registerMembership(r)
	intent(IntentMyInfo, s.handleMyInfo, "我的信息", "会员信息", "我的会员信息")
	intent(IntentMutualAid, s.handleMutualAid, "互助保障", "互助保障查询", "我的互助保障", "参保查询")
	intent(IntentClaim, reply(msgClaimSoon), "互助金", "申领互助金", "互助金申领")
	intent(IntentLegalAid, reply(msgLegalAidSoon), "法律援助", "法律咨询")
	intent(IntentProgress, reply(msgProgressSoon), "进度", "查进度", "办理进度")
	intent(IntentActivities, reply(msgActivitiesSoon), "活动", "工会活动")
	intent(IntentNoticesOff, reply(msgNoticesOffSoon), "退订")
	intent(IntentNoticesOn, reply(msgNoticesOnSoon), "订阅")
	intent(IntentHuman, reply(msgHuman), "人工", "人工客服", "转人工", "联系工作人员")
	intent(IntentFAQ, s.handleFAQList, "常见问题", "问题")
	r.OnEvent(bot.EventSubscribe, forgetChoices(s.handleSubscribe))
	r.OnEvent(bot.EventUnsubscribe, s.handleUnsubscribe)
	r.Fallback(s.handleFallback)
	r.Interrupt(s.interrupt)
	markSideEffectFree(r)
	return s, nil
}

// forgetChoices wraps h so that FAQ choices offered last turn are forgotten:
// a number typed after any other input means an FAQ id, not a choice.
func forgetChoices(h bot.HandlerFunc) bot.HandlerFunc {
	return func(ctx context.Context, sess *bot.Session, in bot.Input) (bot.Reply, error) {
		sess.SetVar(varChoices, "")
		return h(ctx, sess, in)
	}
}

// reply is a handler that always answers text.
func reply(text string) bot.HandlerFunc {
	return func(context.Context, *bot.Session, bot.Input) (bot.Reply, error) {
		return bot.Text(text), nil
	}
}

// shanghai is the zone "today" and clock times are shown in. Falls back to a
// fixed +08:00 zone when the system has no tzdata (China has no DST).
var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// formatDate renders a date as 2026年3月5日, in the zone the date was stored in
// (storage keeps dates as UTC midnight).
func formatDate(t time.Time) string {
	y, m, d := t.Date()
	return fmt.Sprintf("%d年%d月%d日", y, int(m), d)
}

// today is the current date in Asia/Shanghai, as UTC midnight (the form
// storage uses for dates).
func (s *Service) today() time.Time {
	y, m, d := s.now().In(shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// dateOnly drops the clock of a stored date.
func dateOnly(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
