package handlers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"unionbot/bot"
	"unionbot/pii"
	"unionbot/storage"
)

const (
	msgMyInfo = `您的会员信息
姓名：%s
会员编号：%s
所属工会：%s
入会日期：%s
会员状态：%s

如信息有误，请联系所在基层工会更正。`
	msgUnboundLookup = `您的微信还没有绑定会员，暂时查不到您的信息。
回复“绑定”，按提示输入姓名和身份证号后6位即可绑定。`
	msgNotEnrolled = `暂未查到您（%s）的互助保障参保记录。
互助保障一般由单位工会统一办理参保。
如您已参保或想参保，请联系所在基层工会（%s）。`
	msgAidClaims = "互助金申领记录：暂无"
)

// MembershipStore is what Membership uses.
type MembershipStore interface {
	memberFinder
	Enrollments(ctx context.Context, memberID int64) ([]storage.Enrollment, error)
}

// memberFinder finds the member bound to an openid.
type memberFinder interface {
	MemberByOpenID(ctx context.Context, openID string) (storage.Member, error)
}

// Membership answers a bound member's own questions: 我的信息, 互助保障.
type Membership struct {
	store MembershipStore
	now   func() time.Time
}

func (s *Membership) register(r *bot.Router) {
	intent(r, IntentMyInfo, s.handleMyInfo, "我的信息", "会员信息", "我的会员信息")
	intent(r, IntentMutualAid, s.handleMutualAid, "互助保障", "互助保障查询", "我的互助保障", "参保查询")
}

// boundMember returns the member bound to openID; ok is false when none is.
func boundMember(ctx context.Context, store memberFinder, openID string) (storage.Member, bool, error) {
	m, err := store.MemberByOpenID(ctx, openID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Member{}, false, nil
	}
	if err != nil {
		return storage.Member{}, false, fmt.Errorf("member of openid: %w", err)
	}
	return m, true, nil
}

func (s *Membership) handleMyInfo(ctx context.Context, sess *bot.Session, _ bot.Input) (bot.Reply, error) {
	m, ok, err := boundMember(ctx, s.store, sess.OpenID)
	if err != nil {
		return bot.Reply{}, err
	}
	if !ok {
		return bot.Text(msgUnboundLookup), nil
	}
	joined := "未登记"
	if !m.JoinedOn.IsZero() {
		joined = formatDate(m.JoinedOn)
	}
	return bot.Text(fmt.Sprintf(msgMyInfo, pii.MaskName(m.Name), pii.MaskMemberNo(m.MemberNo),
		orUnknown(m.UnitName), joined, orUnknown(m.Status))), nil
}

func orUnknown(v string) string {
	if v == "" {
		return "未登记"
	}
	return v
}

func (s *Membership) handleMutualAid(ctx context.Context, sess *bot.Session, _ bot.Input) (bot.Reply, error) {
	m, ok, err := boundMember(ctx, s.store, sess.OpenID)
	if err != nil {
		return bot.Reply{}, err
	}
	if !ok {
		return bot.Text(msgUnboundLookup), nil
	}
	es, err := s.store.Enrollments(ctx, m.ID)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("mutual-aid enrollments: %w", err)
	}
	if len(es) == 0 {
		return bot.Text(fmt.Sprintf(msgNotEnrolled, pii.MaskName(m.Name), orUnknown(m.UnitName))), nil
	}
	return bot.Text(s.renderMutualAid(m, es)), nil
}

// renderMutualAid lists the cover years and says whether the member is
// covered today.
func (s *Membership) renderMutualAid(m storage.Member, es []storage.Enrollment) string {
	sort.Slice(es, func(i, j int) bool { return es[i].Year < es[j].Year })
	today := today(s.now)
	var b strings.Builder
	fmt.Fprintf(&b, "%s的互助保障\n参保年度：\n", pii.MaskName(m.Name))
	covered, upcoming := false, false
	for _, e := range es {
		from, to := dateOnly(e.CoverFrom), dateOnly(e.CoverTo)
		mark := ""
		switch {
		case !today.Before(from) && !today.After(to):
			covered, mark = true, "（保障中）"
		case today.Before(from):
			upcoming, mark = true, "（未开始）"
		}
		fmt.Fprintf(&b, "· %d年度：%s至%s%s\n", e.Year, formatDate(from), formatDate(to), mark)
	}
	b.WriteString("\n")
	switch {
	case covered:
		fmt.Fprintf(&b, "今天（%s）在保障期内。\n", formatDate(today))
	case upcoming:
		fmt.Fprintf(&b, "今天（%s）还未到保障开始日期。\n", formatDate(today))
	default:
		fmt.Fprintf(&b, "今天（%s）不在保障期内。\n续保请联系所在基层工会。\n", formatDate(today))
	}
	b.WriteString(msgAidClaims)
	return b.String()
}
