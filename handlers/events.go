package handlers

import (
	"context"
	"fmt"
	"time"

	"unionbot/bot"
)

const msgWelcome = `您好，欢迎关注%s！
我们为职工提供会员服务、互助保障、法律援助和各类咨询。
首次使用，建议先回复“绑定”绑定会员身份。`

// handleSubscribe records the follower and welcomes them with the menu. A
// subscribe through a QR code (EventKey "qrscene_…") gets the same welcome.
func (s *Service) handleSubscribe(ctx context.Context, sess *bot.Session, in bot.Input) (bot.Reply, error) {
	if err := s.store.RecordSubscribe(ctx, in.OpenID, s.eventTime(in)); err != nil {
		// The welcome matters more than the record; the next event fixes it.
		s.logger.ErrorContext(ctx, "record subscribe", "open_id", in.OpenID, "err", err)
	}
	return bot.Text(fmt.Sprintf(msgWelcome, s.unionName) + "\n\n" + menuText), nil
}

// handleUnsubscribe records that the follower left and forgets their
// conversation. WeChat shows nothing to someone who has unfollowed.
func (s *Service) handleUnsubscribe(ctx context.Context, sess *bot.Session, in bot.Input) (bot.Reply, error) {
	if err := s.store.RecordUnsubscribe(ctx, in.OpenID, s.eventTime(in)); err != nil {
		// Nobody reads a reply to an unfollow; logging is all that can be done.
		s.logger.ErrorContext(ctx, "record unsubscribe", "open_id", in.OpenID, "err", err)
	}
	sess.Form, sess.Step, sess.Data, sess.Vars = "", 0, nil, nil
	return bot.Reply{}, nil
}

// eventTime is when WeChat says the event happened, or now.
func (s *Service) eventTime(in bot.Input) time.Time {
	if !in.CreateTime.IsZero() {
		return in.CreateTime
	}
	return s.now()
}
