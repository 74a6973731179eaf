package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"unionbot/bot"
	"unionbot/storage"
)

// HandoffStore is what the 人工 hand-off and officer linking use.
type HandoffStore interface {
	OpenHandoff(ctx context.Context, openID string, audit storage.AuditEntry) (storage.Handoff, bool, error)
	AddMemberMessage(ctx context.Context, id int64, openID, text string, urgent bool) error
	CloseHandoff(ctx context.Context, id int64, reason, notice string, audit storage.AuditEntry) (storage.Handoff, error)
	CloseIdleHandoffs(ctx context.Context, idle time.Duration, notice string, limit int) ([]storage.Handoff, error)
	PurgeHandoffs(ctx context.Context, keep time.Duration) (int64, error)
	RedeemOfficerLinkCode(ctx context.Context, openID, code string) (storage.Officer, error)
}

// Hand-off defaults.
const (
	// HandoffIdle is how long a conversation stays open without a message either way.
	HandoffIdle = 48 * time.Hour
	// DefaultHandoffRetention is how long the messages of a closed conversation are kept.
	DefaultHandoffRetention = 90 * 24 * time.Hour
	// varHandoff holds the id of the member's open conversation: the hand-off mode
	// flag, read with the session in the turn's first round trip.
	varHandoff = "handoff"
)

// Handoff is the 人工 capability: a member asks for a person; until the conversation is
// closed (by an officer, by the member's 取消, or after HandoffIdle without activity) their
// free text goes to the officers' inbox, while commands (菜单, 进度, …) keep working. The
// store is the truth: a member whose conversation closed meanwhile is answered as usual.
type Handoff struct {
	store  HandoffStore
	logger *slog.Logger
	now    func() time.Time
	hours  StaffHours
	keep   time.Duration
}

func (h *Handoff) register(r *bot.Router, fallback bot.HandlerFunc) {
	intent(r, IntentHuman, h.handleHuman, "人工", "人工客服", "转人工", "联系工作人员", "找人工")
	r.KeepSessionWhile(varHandoff, HandoffIdle+time.Hour)
	r.Fallback(h.fallback(fallback))
	r.Prefix("干部绑定", h.handleOfficerLink)
}

// Staff returns the hours staff work.
func (h *Handoff) Staff() StaffHours { return h.hours }

func (h *Handoff) whenStaff() string {
	now := h.now()
	if h.hours.Open(now) {
		return fmt.Sprintf("工作时间：%s。\n现在是工作时间，工作人员看到后会在这里回复您。", h.hours)
	}
	return fmt.Sprintf("工作时间：%s。\n现在不是工作时间，工作人员最早%s后回复您\n（法定节假日顺延）。", h.hours, describeNext(h.hours.Next(now), now))
}

func (h *Handoff) handleHuman(ctx context.Context, s *bot.Session, in bot.Input) (bot.Reply, error) {
	ho, created, err := h.store.OpenHandoff(ctx, in.OpenID, memberAudit(ctx, in.OpenID))
	if err != nil {
		return bot.Reply{}, err
	}
	s.SetVar(varHandoff, strconv.FormatInt(ho.ID, 10))
	if !created {
		return bot.Text(msgHandoffAlready + "\n" + h.whenStaff()), nil
	}
	return bot.Text(fmt.Sprintf(msgHandoffOpened, h.whenStaff())), nil
}

// fallback sends the member's free text to staff while a conversation is open, and
// otherwise answers as next does.
func (h *Handoff) fallback(next bot.HandlerFunc) bot.HandlerFunc {
	return func(ctx context.Context, s *bot.Session, in bot.Input) (bot.Reply, error) {
		idText := s.Var(varHandoff)
		if idText == "" {
			return next(ctx, s, in)
		}
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			s.SetVar(varHandoff, "")
			return next(ctx, s, in)
		}
		if in.Kind != bot.KindText {
			return bot.Text(msgHandoffTextOnly), nil
		}
		if cancelWords[bot.NormalizeCommand(in.Text)] {
			s.SetVar(varHandoff, "")
			_, err := h.store.CloseHandoff(ctx, id, storage.CloseByMember, "", memberAudit(ctx, in.OpenID))
			if err != nil && !errors.Is(err, storage.ErrHandoffClosed) && !errors.Is(err, storage.ErrNotFound) {
				return bot.Reply{}, err
			}
			return bot.Text(msgHandoffCancelled), nil
		}
		// Crisis signals never get here: the legal-aid screen answers them first,
		// with the emergency numbers, and keeps them for the legal officers.
		err = h.store.AddMemberMessage(ctx, id, in.OpenID, in.Text, false)
		switch {
		case errors.Is(err, storage.ErrHandoffClosed), errors.Is(err, storage.ErrNotFound):
			// Closed by an officer or for inactivity (the member was told): answer as usual.
			s.SetVar(varHandoff, "")
			return next(ctx, s, in)
		case errors.Is(err, storage.ErrInvalid):
			return bot.Text(fmt.Sprintf(msgHandoffTooLong, storage.MaxHandoffText)), nil
		case err != nil:
			return bot.Reply{}, err
		}
		if h.hours.Open(h.now()) {
			return bot.Text(msgHandoffForwarded), nil
		}
		now := h.now()
		return bot.Text(msgHandoffForwarded + fmt.Sprintf(msgHandoffOffHours, describeNext(h.hours.Next(now), now))), nil
	}
}

// cancelWords end a conversation (the words that abandon a form).
var cancelWords = map[string]bool{"取消": true, "退出": true, "结束": true, "结束对话": true, "不用了": true, "算了": true}

// inHandoff reports whether the member is talking to staff: their free text is for them.
func inHandoff(s *bot.Session) bool { return s.Var(varHandoff) != "" }

// Maintain closes conversations idle for HandoffIdle (each member is told how to reach
// staff again, through the outbox) and purges closed ones older than the retention period.
// A periodic job of every replica runs it; a conversation closes once.
func (h *Handoff) Maintain(ctx context.Context) (closed int, purged int64, err error) {
	for {
		got, err := h.store.CloseIdleHandoffs(ctx, HandoffIdle, msgHandoffIdleClosed, 100)
		closed += len(got)
		if err != nil {
			return closed, 0, err
		}
		if len(got) < 100 {
			break
		}
	}
	purged, err = h.store.PurgeHandoffs(ctx, h.keep)
	return closed, purged, err
}

func (h *Handoff) handleOfficerLink(ctx context.Context, s *bot.Session, in bot.Input, arg string) (bot.Reply, error) {
	forgetNumberQuestion(s)
	if strings.TrimSpace(arg) == "" {
		return bot.Text(msgOfficerLinkHow), nil
	}
	o, err := h.store.RedeemOfficerLinkCode(ctx, in.OpenID, arg)
	if errors.Is(err, storage.ErrNotFound) {
		return bot.Text(msgOfficerLinkBad), nil
	}
	if err != nil {
		return bot.Reply{}, err
	}
	return bot.Text(fmt.Sprintf(msgOfficerLinked, o.DisplayName, o.Username)), nil
}

// Member- and officer-facing sentences of the hand-off.
const (
	msgHandoffOpened = `好的，已为您转接人工服务。
%s

接下来您发的文字都会转给工作人员，
请直接说明您的问题；回复“取消”可结束人工对话。
请不要发送完整的身份证号、银行卡号。
其间“菜单”“进度”等功能照常可用。
急事或法律问题，可拨打职工服务热线 12351。`

	msgHandoffAlready = `您已在人工对话中，直接发文字即可留言，
工作人员会在这里回复您；回复“取消”可结束人工对话。`

	msgHandoffForwarded = "已转给工作人员，请耐心等待回复。"
	msgHandoffOffHours  = "\n现在不是工作时间，工作人员最早%s后回复。"

	msgHandoffTextOnly = "人工对话目前只能转达文字，请用文字描述您的问题。"
	msgHandoffTooLong  = "这条消息太长了（最多%d个字），请分几条发送。"

	msgHandoffCancelled = "已结束人工对话。\n之后如需联系工作人员，再回复“人工”即可。"

	// msgHandoffIdleClosed tells a member their conversation closed for inactivity.
	msgHandoffIdleClosed = `您的人工对话已超过48小时没有新消息，已自动结束。
如还需要帮助，请回复“人工”重新联系工作人员；
急事请拨打职工服务热线 12351。`

	// MsgHandoffClosedByOfficer tells a member an officer closed the conversation.
	MsgHandoffClosedByOfficer = `工作人员已结束本次人工对话，感谢您的耐心。
如还有问题，请回复“人工”再次联系我们。`

	msgOfficerLinkHow = `干部绑定用于把您的微信和工会后台账号关联。
请先登录后台，在“我的微信”页面获取绑定码，然后发送：干部绑定 绑定码`
	msgOfficerLinkBad = "绑定码无效或已过期。\n请在后台“我的微信”页面重新获取\n（绑定码15分钟内有效，只能用一次）。"
	msgOfficerLinked  = `已将本微信与后台账号 %s（%s）关联。
紧急求助等提醒会发到这里。如需解除，请在后台“我的微信”页面操作。`
)
