package admin

// The 人工 hand-off inbox: conversations members opened with 人工, scoped by unit (a
// unit's officer sees its members' conversations; those of non-members only county-level
// officers see). An officer claims one (one of two officers claiming at once wins; the other
// is told who has it), replies (the reply is an officer_reply on the outbox, delivered as a
// customer-service message while WeChat's 48-hour window is open; outside it the page says so
// and the reply waits in the member's unread list) and closes it.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"unionbot/admin/auth"
	"unionbot/bot"
	"unionbot/handlers"
	"unionbot/pii"
	"unionbot/storage"
	"unionbot/web"
)

// serviceWindow is WeChat's customer-service window after a member's last interaction.
const serviceWindow = 48 * time.Hour

// handoffMessageView is one message in the API and on the page.
type handoffMessageView struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	From    string    `json:"from"` // member, officer, system
	Officer string    `json:"officer,omitempty"`
	Text    string    `json:"text"`
}

// handoffView is a conversation as officers see it (DESIGN §11 names the fields).
type handoffView struct {
	ID             int64                `json:"id"`
	Status         string               `json:"status"`
	Urgent         bool                 `json:"urgent"`
	MemberNo       string               `json:"member_no,omitempty"`
	Member         string               `json:"member"` // masked name, or 未绑定会员
	Unit           string               `json:"unit"`
	OpenedAt       time.Time            `json:"opened_at"`
	LastActivityAt time.Time            `json:"last_activity_at"`
	WindowEndsAt   *time.Time           `json:"window_ends_at"`
	WindowOpen     bool                 `json:"window_open"`
	ClaimedBy      string               `json:"claimed_by,omitempty"`
	ClosedAt       *time.Time           `json:"closed_at,omitempty"`
	Messages       []handoffMessageView `json:"messages,omitempty"`
	Warning        string               `json:"warning,omitempty"`

	unitID int64
	mine   bool
}

// msgOutsideWindow is what officers read when WeChat no longer lets a reply through.
const msgOutsideWindow = "该会员最近48小时内没有与公众号互动，微信不允许向其发送客服消息：回复会保存为未读通知，会员下次来公众号时才能看到。急事请电话联系会员。"

// lastSeen is the member's last interaction: the engine's seen:{openid} (any message or
// click) or their last message in the conversation, whichever is later.
func (s *Server) lastSeen(ctx context.Context, h storage.Handoff) time.Time {
	last := h.LastMemberAt
	if s.kv != nil {
		if b, err := s.kv.Get(ctx, bot.SeenKey(h.OpenID)); err == nil {
			if sec, err := strconv.ParseInt(string(b), 10, 64); err == nil {
				if t := time.Unix(sec, 0).UTC(); t.After(last) {
					last = t
				}
			}
		}
	}
	return last
}

func (s *Server) viewHandoff(ctx context.Context, p auth.Principal, h storage.Handoff) handoffView {
	v := handoffView{ID: h.ID, Status: h.Status, Urgent: h.Urgent, MemberNo: h.MemberNo, Unit: h.UnitName,
		OpenedAt: h.OpenedAt, LastActivityAt: h.LastActivity, ClaimedBy: h.ClaimedBy, unitID: h.UnitID,
		mine: h.ClaimedBy == p.Actor()}
	switch {
	case h.MemberID != 0:
		v.Member = pii.MaskName(h.MemberName)
	default:
		v.Member = "未绑定会员"
	}
	if last := s.lastSeen(ctx, h); !last.IsZero() {
		end := last.Add(serviceWindow)
		v.WindowEndsAt, v.WindowOpen = &end, s.now().Before(end)
	}
	if !h.ClosedAt.IsZero() {
		t := h.ClosedAt
		v.ClosedAt = &t
	}
	if h.Status != storage.HandoffClosed && !v.WindowOpen {
		v.Warning = msgOutsideWindow
	}
	for _, m := range h.Messages {
		v.Messages = append(v.Messages, handoffMessageView{ID: m.ID, At: m.At, From: m.Sender, Officer: m.Officer, Text: m.Text})
	}
	return v
}

// WindowEnd is when the window shuts (zero when unknown).
func (v handoffView) WindowEnd() time.Time {
	if v.WindowEndsAt == nil {
		return time.Time{}
	}
	return *v.WindowEndsAt
}

// WindowLeft renders the time left in the window: "还剩 23小时10分", or that it is shut.
func (v handoffView) WindowLeft(now time.Time) string {
	if v.WindowEndsAt == nil || !now.Before(*v.WindowEndsAt) {
		return "已超出48小时"
	}
	d := v.WindowEndsAt.Sub(now)
	return fmt.Sprintf("还剩 %d小时%d分", int(d.Hours()), int(d.Minutes())%60)
}

// StatusLabel is the status in Chinese.
func (v handoffView) StatusLabel() string {
	switch v.Status {
	case storage.HandoffOpen:
		return "待认领"
	case storage.HandoffClaimed:
		return "处理中"
	}
	return "已结束"
}

// ClaimedByName drops the "officer:" of the actor.
func (v handoffView) ClaimedByName() string {
	_, name, ok := strings.Cut(v.ClaimedBy, ":")
	if !ok {
		return v.ClaimedBy
	}
	return name
}

// handoffStatuses reads ?status= (open, claimed, closed, or active = open and claimed).
func handoffStatuses(s string) ([]string, error) {
	switch s {
	case "", "active":
		return []string{storage.HandoffOpen, storage.HandoffClaimed}, nil
	case storage.HandoffOpen, storage.HandoffClaimed, storage.HandoffClosed:
		return []string{s}, nil
	case "all":
		return nil, nil
	}
	return nil, userErr(http.StatusBadRequest, "bad_status", "status 应为 open、claimed、closed、active 或 all。")
}

// listHandoffs lists conversations within p's unit; next is the cursor of the next page.
func (s *Server) listHandoffs(r *http.Request, p auth.Principal, limit int) ([]handoffView, string, error) {
	if err := auth.Authorize(p, auth.ReadHandoffs, auth.NoRecord); err != nil {
		return nil, "", err
	}
	st, err := handoffStatuses(r.URL.Query().Get("status"))
	if err != nil {
		return nil, "", err
	}
	after, err := decodeCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		return nil, "", userErr(http.StatusBadRequest, "bad_cursor", "翻页参数无效。")
	}
	unit, _ := auth.UnitFilter(p, 0)
	// A unit's officer sees its members' conversations: the unit filter is the query's.
	hs, err := s.db.Handoffs(r.Context(), storage.HandoffQuery{Statuses: st, UnitID: unit, AfterID: after, Limit: limit + 1})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(hs) > limit {
		hs = hs[:limit]
		next = encodeCursor(hs[len(hs)-1].ID)
	}
	out := make([]handoffView, 0, len(hs))
	for _, h := range hs {
		if auth.Sees(p, h.UnitID) {
			out = append(out, s.viewHandoff(r.Context(), p, h))
		}
	}
	return out, next, nil
}

// handoffFor loads the conversation of the URL with its messages and authorizes act on it.
func (s *Server) handoffFor(r *http.Request, p auth.Principal, act auth.Action) (storage.Handoff, error) {
	if err := auth.Authorize(p, act, auth.NoRecord); err != nil {
		return storage.Handoff{}, err
	}
	id, err := pathID(r)
	if err != nil {
		return storage.Handoff{}, err
	}
	h, err := s.db.Handoff(r.Context(), id)
	if err != nil {
		return storage.Handoff{}, err
	}
	if err := auth.Authorize(p, act, h.UnitID); err != nil {
		return storage.Handoff{}, err
	}
	return h, nil
}

// handoffErr explains the conflicts of the inbox.
func handoffErr(err error, h storage.Handoff) error {
	switch {
	case errors.Is(err, storage.ErrHandoffTaken):
		who := handoffView{ClaimedBy: h.ClaimedBy}.ClaimedByName()
		return userErr(http.StatusConflict, "handoff_taken", "该对话已由 "+who+" 认领，请勿重复处理。")
	case errors.Is(err, storage.ErrHandoffClosed):
		return userErr(http.StatusConflict, "handoff_closed", "该对话已结束。会员再次回复“人工”时会开启新的对话。")
	case errors.Is(err, storage.ErrInvalid):
		return userErr(http.StatusUnprocessableEntity, "invalid_text", fmt.Sprintf("回复不能为空，且不超过%d个字。", storage.MaxHandoffText))
	}
	return err
}

func (s *Server) claimHandoff(r *http.Request, p auth.Principal) (storage.Handoff, error) {
	h, err := s.handoffFor(r, p, auth.AnswerHandoffs)
	if err != nil {
		return h, err
	}
	got, err := s.db.ClaimHandoff(r.Context(), h.ID, p.Actor(), s.auditFor(r, p))
	if err != nil {
		cur, _ := s.db.Handoff(r.Context(), h.ID)
		return h, handoffErr(err, cur)
	}
	return got, nil
}

func (s *Server) replyHandoff(r *http.Request, p auth.Principal, text string) (storage.Handoff, error) {
	h, err := s.handoffFor(r, p, auth.AnswerHandoffs)
	if err != nil {
		return h, err
	}
	if _, _, err := s.db.ReplyHandoff(r.Context(), h.ID, p.Actor(), text, s.auditFor(r, p)); err != nil {
		return h, handoffErr(err, h)
	}
	return s.db.Handoff(r.Context(), h.ID)
}

func (s *Server) closeHandoff(r *http.Request, p auth.Principal) (storage.Handoff, error) {
	h, err := s.handoffFor(r, p, auth.AnswerHandoffs)
	if err != nil {
		return h, err
	}
	if _, err := s.db.CloseHandoff(r.Context(), h.ID, storage.CloseByOfficer, handlers.MsgHandoffClosedByOfficer, s.auditFor(r, p)); err != nil {
		return h, handoffErr(err, h)
	}
	return s.db.Handoff(r.Context(), h.ID)
}

// API.

func (s *Server) apiListHandoffs(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	limit, err := apiLimit(r, 50, 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	vs, next, err := s.listHandoffs(r, p, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, list[handoffView]{Items: vs, Next: next})
}

func (s *Server) writeHandoff(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, h storage.Handoff) {
	v := s.viewHandoff(r.Context(), p, h)
	if v.Messages == nil {
		v.Messages = []handoffMessageView{}
	}
	web.JSON(w, status, v)
}

func (s *Server) apiHandoff(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	h, err := s.handoffFor(r, p, auth.ReadHandoffs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeHandoff(w, r, p, http.StatusOK, h)
}

func (s *Server) apiClaimHandoff(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	h, err := s.claimHandoff(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h, err = s.db.Handoff(r.Context(), h.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeHandoff(w, r, p, http.StatusOK, h)
}

func (s *Server) apiReplyHandoff(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	var body struct {
		Text string `json:"text"`
	}
	if err := decodeBody(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	h, err := s.replyHandoff(r, p, body.Text)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeHandoff(w, r, p, http.StatusCreated, h)
}

func (s *Server) apiCloseHandoff(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	h, err := s.closeHandoff(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeHandoff(w, r, p, http.StatusOK, h)
}

// Console.

type handoffsPage struct {
	Items  []handoffView
	Next   string
	Status string
	Now    time.Time
	PollMS int64
}

func (s *Server) handleHandoffs(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	vs, next, err := s.listHandoffs(r, p, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st := r.URL.Query().Get("status")
	if st == "" {
		st = "active"
	}
	s.render(w, r, "handoffs", &pageData{Title: "人工对话", Data: &handoffsPage{Items: vs, Next: next, Status: st, Now: s.now(), PollMS: s.handoffPoll.Milliseconds()}})
}

type handoffPage struct {
	H         handoffView
	Now       time.Time
	CanAnswer bool
	CanReply  bool
}

func (s *Server) renderHandoff(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, h storage.Handoff, errMsg string) {
	v := s.viewHandoff(r.Context(), p, h)
	can := auth.Can(p, auth.AnswerHandoffs)
	d := &handoffPage{H: v, Now: s.now(), CanAnswer: can && v.Status != storage.HandoffClosed,
		CanReply: can && (v.Status == storage.HandoffOpen || v.mine)}
	s.renderStatus(w, r, status, "handoff", &pageData{Title: fmt.Sprintf("人工对话 #%d", h.ID), Error: errMsg, Data: d})
}

func handoffURL(id int64) string { return "/admin/handoffs/" + strconv.FormatInt(id, 10) }

func (s *Server) handleHandoff(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	h, err := s.handoffFor(r, p, auth.ReadHandoffs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderHandoff(w, r, p, http.StatusOK, h, "")
}

// consoleHandoffResult shows a 4xx of the inbox on the conversation's page, and redirects
// with a notice otherwise.
func (s *Server) consoleHandoffResult(w http.ResponseWriter, r *http.Request, p auth.Principal, h storage.Handoff, err error, ok string) {
	if he := classify(err); he != nil && he.status < 500 && he.status != http.StatusNotFound && he.status != http.StatusForbidden {
		cur, lerr := s.db.Handoff(r.Context(), h.ID)
		if lerr != nil {
			s.fail(w, r, lerr)
			return
		}
		s.renderHandoff(w, r, p, he.status, cur, he.msg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, ok, handoffURL(h.ID))
}

func (s *Server) handleClaimHandoff(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	h, err := s.claimHandoff(r, p)
	s.consoleHandoffResult(w, r, p, h, err, "已认领，请尽快回复会员。")
}

func (s *Server) handleReplyHandoff(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	h, err := s.replyHandoff(r, p, r.PostFormValue("text"))
	msg := "回复已发出，将以客服消息送达会员。"
	if err == nil {
		if v := s.viewHandoff(r.Context(), p, h); !v.WindowOpen {
			msg = "回复已保存，但未能即时送达：" + msgOutsideWindow
		}
	}
	s.consoleHandoffResult(w, r, p, h, err, msg)
}

func (s *Server) handleCloseHandoff(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	h, err := s.closeHandoff(r, p)
	s.consoleHandoffResult(w, r, p, h, err, "对话已结束，已告知会员如何再次联系工作人员。")
}
