// Package handlers holds the member-facing capabilities in chat: the services
// menu, binding a WeChat account to a union membership, membership and
// mutual-aid lookups, the FAQ and keyword auto-replies, follow/unfollow events,
// and the "coming soon" notes of capabilities not built yet. Each capability is
// its own type that declares the few store methods it uses and registers
// itself on the dialog engine of package bot; Register composes them. Every
// sentence a member reads sits beside the handler that says it.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"unionbot/bot"
	"unionbot/storage"
	"unionbot/storage/kv"
	"unionbot/web"
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

// Store is every store method the chat capabilities use, the union of their
// own small interfaces. *storage.DB satisfies it.
type Store interface {
	BindingStore
	MembershipStore
	KnowledgeStore
	FollowerStore
	ClaimStore
	ActivityStore
	HandoffStore
}

var _ Store = (*storage.DB)(nil)

// Deps are what the chat capabilities need.
type Deps struct {
	Store Store
	// KV is short-lived shared state. No capability needs it today (binding
	// lockouts live in the database, so they survive a Redis restart); it is
	// optional.
	KV     kv.Store
	Logger *slog.Logger
	// Now is the clock (time.Now when nil); "today" is taken in Asia/Shanghai.
	// Time rules that storage keeps (lockouts, code validity) use storage's clock.
	Now func() time.Time
	// UnionName is how the union calls itself in the welcome ("县总工会").
	UnionName string
	// FAQRefresh is how long the compiled FAQ index and keyword rules are
	// used before they are reloaded from the database (30s).
	FAQRefresh time.Duration
	// BindingLimits are the self-service binding limits; zero fields take
	// storage's defaults (5 failures an hour per openid, 10 a day per name).
	BindingLimits storage.BindingLimits
	// PublicURL is UNIONBOT_PUBLIC_URL, for links to a notice's full text.
	PublicURL string
	// StaffHours are when staff answer 人工 conversations (UNIONBOT_STAFF_HOURS, see
	// ParseStaffHours; "" is DefaultStaffHours).
	StaffHours string
	// HandoffRetention is how long a closed 人工 conversation is kept
	// (UNIONBOT_HANDOFF_RETENTION; 0 is DefaultHandoffRetention).
	HandoffRetention time.Duration
	// LegalPromise is what a legal-aid requester is told happens next after 确认
	// (UNIONBOT_LEGAL_PROMISE; "" is DefaultLegalPromise).
	LegalPromise string
}

// Service is the set of capabilities Register built. It is safe for
// concurrent use.
type Service struct {
	Binding    *Binding
	Membership *Membership
	Knowledge  *Knowledge
	Followers  *Followers
	Menu       *ServiceMenu
	Claims     *Claims
	LegalAid   *LegalAid // nil with a store that has no legal-aid methods
	Activities *Activities
	Handoff    *Handoff
}

// SeedDefaults stores the default knowledge base; see Knowledge.SeedDefaults.
func (s *Service) SeedDefaults(ctx context.Context) error { return s.Knowledge.SeedDefaults(ctx) }

// Register builds every capability and registers it on r: intents, forms,
// prefix commands, events, the fallback and the in-form interrupt hook.
func Register(r *bot.Router, d Deps) (*Service, error) {
	if r == nil {
		return nil, errors.New("register handlers: nil router")
	}
	if d.Store == nil {
		return nil, errors.New("register handlers: nil store")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.UnionName == "" {
		d.UnionName = "县总工会"
	}
	if d.FAQRefresh <= 0 {
		d.FAQRefresh = 30 * time.Second
	}
	hours, err := ParseStaffHours(d.StaffHours)
	if err != nil {
		return nil, fmt.Errorf("register handlers: UNIONBOT_STAFF_HOURS: %w", err)
	}
	if d.HandoffRetention <= 0 {
		d.HandoffRetention = DefaultHandoffRetention
	}
	s := &Service{
		Binding:    &Binding{store: d.Store, logger: d.Logger, now: d.Now, limits: d.BindingLimits.WithDefaults()},
		Membership: &Membership{store: d.Store, now: d.Now},
		Knowledge:  &Knowledge{store: d.Store, logger: d.Logger, now: d.Now, refresh: d.FAQRefresh},
		Followers:  &Followers{store: d.Store, logger: d.Logger, now: d.Now, unionName: d.UnionName},
		Menu:       &ServiceMenu{unionName: d.UnionName},
		Claims:     &Claims{store: d.Store, now: d.Now},
		Activities: &Activities{store: d.Store, now: d.Now, publicURL: d.PublicURL},
		Handoff:    &Handoff{store: d.Store, logger: d.Logger, now: d.Now, hours: hours, keep: d.HandoffRetention},
	}
	s.Menu.register(r)
	s.Binding.register(r)
	s.Membership.register(r)
	s.Claims.register(r)
	registerSoon(r)
	s.Knowledge.register(r, s.Menu.handleMenu)
	// Claims first: "住院了医疗保险怎么报销" is about a claim, not an employer's insurance;
	// the claim's words leave work injuries to legal aid.
	s.Knowledge.addOffer(s.Claims.offer())
	s.LegalAid = registerLegalAid(r, d, s.Knowledge)
	screens := []func(context.Context, *bot.Session, bot.Input) bot.ScreenResult{s.Knowledge.offerScreen}
	if s.LegalAid != nil {
		s.Claims.AddProgress(s.LegalAid.ProgressSection) // 进度: claims, then legal-aid requests
		screens = append(screens, s.LegalAid.screen)
	}
	r.Screen(chainScreens(screens...))
	s.Activities.register(r, s.Knowledge.handleFallback)
	s.Handoff.register(r, s.Knowledge.handleFallback)
	s.Followers.register(r)
	markSideEffectFree(r)
	return s, nil
}

// intent registers h under name; h runs with the FAQ choices of last turn
// forgotten, since whatever it says is the new pending question (or none).
func intent(r *bot.Router, name string, h bot.HandlerFunc, keywords ...string) {
	r.Intent(name, forgetChoices(h), keywords...)
}

// forgetChoices wraps h so that a number question asked last turn (FAQ
// choices) and a form offered last turn are forgotten: a number or a yes typed
// after any other input is asked about.
func forgetChoices(h bot.HandlerFunc) bot.HandlerFunc {
	return func(ctx context.Context, sess *bot.Session, in bot.Input) (bot.Reply, error) {
		forgetNumberQuestion(sess)
		sess.SetVar(varOffer, "")
		return h(ctx, sess, in)
	}
}

// reply is a handler that always answers text.
func reply(text string) bot.HandlerFunc {
	return func(context.Context, *bot.Session, bot.Input) (bot.Reply, error) {
		return bot.Text(text), nil
	}
}

// memberAudit is the audit input of a change a member makes in chat.
func memberAudit(ctx context.Context, openID string) storage.AuditEntry {
	return storage.AuditEntry{Actor: "member:" + openID, RequestID: web.RequestID(ctx)}
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
func today(now func() time.Time) time.Time {
	y, m, d := now().In(shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// dateOnly drops the clock of a stored date.
func dateOnly(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
