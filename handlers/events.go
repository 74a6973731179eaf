package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"unionbot/bot"
)

const msgWelcome = `您好，欢迎关注%s！
我们为职工提供会员服务、互助保障、法律援助和各类咨询。
首次使用，建议先回复“绑定”绑定会员身份。`

// FollowerStore is what Followers uses.
type FollowerStore interface {
	RecordSubscribe(ctx context.Context, openID string, at time.Time) error
	RecordUnsubscribe(ctx context.Context, openID string, at time.Time) error
}

// Followers records who follows the account and welcomes new followers.
type Followers struct {
	store     FollowerStore
	logger    *slog.Logger
	now       func() time.Time
	unionName string
}

func (s *Followers) register(r *bot.Router) {
	r.OnEvent(bot.EventSubscribe, forgetChoices(s.handleSubscribe))
	r.OnEvent(bot.EventUnsubscribe, s.handleUnsubscribe)
}

// handleSubscribe records the follower and welcomes them with the menu. A
// subscribe through a QR code (EventKey "qrscene_…") gets the same welcome.
func (s *Followers) handleSubscribe(ctx context.Context, sess *bot.Session, in bot.Input) (bot.Reply, error) {
	if err := s.store.RecordSubscribe(ctx, in.OpenID, s.eventTime(in)); err != nil {
		// The welcome matters more than the record; the next event fixes it.
		s.logger.ErrorContext(ctx, "record subscribe", "open_id", in.OpenID, "err", err)
	}
	return bot.Text(fmt.Sprintf(msgWelcome, s.unionName) + "\n\n" + menuText), nil
}

// handleUnsubscribe records that the follower left and forgets their
// conversation. WeChat shows nothing to someone who has unfollowed.
func (s *Followers) handleUnsubscribe(ctx context.Context, sess *bot.Session, in bot.Input) (bot.Reply, error) {
	if err := s.store.RecordUnsubscribe(ctx, in.OpenID, s.eventTime(in)); err != nil {
		// Nobody reads a reply to an unfollow; logging is all that can be done.
		s.logger.ErrorContext(ctx, "record unsubscribe", "open_id", in.OpenID, "err", err)
	}
	sess.Form, sess.Step, sess.Data, sess.Vars = "", 0, nil, nil
	return bot.Reply{}, nil
}

// eventTime is when WeChat says the event happened, or now.
func (s *Followers) eventTime(in bot.Input) time.Time {
	if !in.CreateTime.IsZero() {
		return in.CreateTime
	}
	return s.now()
}
