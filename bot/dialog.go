package bot

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"unionbot/storage/kv"
)

// Bot is the conversation core behind the callback: for one input it takes the
// member's lock, loads the session, routes, and saves. It is the Engine the
// callback calls, and it is transport-free, so tests and the load tool can
// drive it directly.
type Bot struct {
	store    kv.Store
	sessions *Sessions
	router   *Router
	logger   *slog.Logger
	lockTTL  time.Duration
}

// Deps are what a Bot needs.
type Deps struct {
	Store      kv.Store
	Router     *Router
	Logger     *slog.Logger
	SessionTTL time.Duration
	// Sealer encrypts sessions at rest (nil: plain JSON).
	Sealer Sealer
	// LockTTL bounds how long a crashed replica can hold a member's lock.
	LockTTL time.Duration
}

// New builds a Bot.
func New(d Deps) *Bot {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.LockTTL <= 0 {
		d.LockTTL = 30 * time.Second
	}
	return &Bot{
		store:    d.Store,
		sessions: NewSessions(d.Store, d.SessionTTL, d.Sealer),
		router:   d.Router,
		logger:   d.Logger,
		lockTTL:  d.LockTTL,
	}
}

// Handle answers one input. Messages of one openid are handled one at a time
// across all replicas (a kv lock), so two quick messages cannot both read the
// same session and overwrite each other's answers.
func (b *Bot) Handle(ctx context.Context, in Input) (Reply, error) {
	unlock, err := b.store.Lock(ctx, openIDLock+in.OpenID, b.lockTTL)
	if err != nil {
		return Reply{}, fmt.Errorf("lock conversation: %w", err)
	}
	defer unlock()
	// The lock expires after lockTTL even if we still hold it (so a crashed
	// replica cannot block a member); stop our own work before that, so two
	// handlers never run for one member at once.
	ctx, cancel := context.WithTimeout(ctx, b.lockTTL-b.lockTTL/10)
	defer cancel()
	s, err := b.sessions.Load(ctx, in.OpenID)
	if err != nil {
		return Reply{}, err
	}
	rep, err := b.router.Route(ctx, &s, in)
	if err != nil {
		return Reply{}, err
	}
	if err := b.sessions.Save(ctx, s); err != nil {
		// The work is done (a bind, a submission): answering "busy" now would
		// invite the member to do it again. Say what happened; at worst the
		// conversation resumes from the previous step.
		b.logger.ErrorContext(ctx, "save session", "open_id", in.OpenID, "err", err)
	}
	return rep, nil
}
