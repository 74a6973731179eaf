package admin

import (
	"fmt"
	"net/http"
	"strings"

	"unionbot/admin/auth"
	"unionbot/storage"
)

// actionLabels name audit actions for officers; an unknown one shows as is.
var actionLabels = map[string]string{
	"member.bind":              "绑定微信",
	"member.unbind":            "解除绑定",
	"member.unbind.id_changed": "身份证号变更，自动解绑",
	"binding.unlock":           "解除绑定锁定",
	"binding.lock":             "自助绑定被锁定",
	"binding.code.issue":       "发放绑定码",
	"binding.code.redeem":      "使用绑定码绑定",
	"officer.create":           "新增干部",
	"officer.update":           "修改干部",
	"officer.password.change":  "修改密码",
	"officer.password.reset":   "重置密码",
	"token.create":             "新增 API 令牌",
	"member.status":            "变更会员状态",
	"member.id.reveal":         "查看完整身份证号",
	"handoff.open":             "发起人工对话",
	"handoff.claim":            "认领人工对话",
	"handoff.reply":            "回复人工对话",
	"handoff.close":            "结束人工对话",
	"keyword.create":           "新增关键词",
	"keyword.update":           "修改关键词",
	"keyword.delete":           "删除关键词",
	"roster.import":            "导入名册",
	"officer.wechat.code":      "获取微信绑定码",
	"officer.wechat.link":      "绑定干部微信",
	"officer.wechat.unlink":    "解除干部微信",
	"claim.submit":             "提交互助金申请",
	"claim.view":               "查看互助金申请",
	"claim.transition":         "变更互助金申请状态",
	"claim.attach":             "补充互助金申请材料",
	"claim_rules.save":         "保存互助金规则",
	"claim.correct_card":       "会员更正发放银行卡",
	"claims.payment_list":      "导出发放清单（含完整卡号）",
	"premium.set":              "记录单位缴费",
	"legal.submit":             "提交法律援助申请",
	"legal.crisis":             "紧急求助（新案件）",
	"legal.urgent":             "法律援助案件标为紧急",
	"legal.transition":         "法律援助案件状态变更",
	"legal.assign":             "分派法律援助案件",
	"legal.note":               "法律援助内部备注",
	"legal.rate":               "法律援助满意度评价",
	"legal.view":               "查看法律援助案件",
	"legal.crisis.purge":       "删除到期的紧急求助原文",
}

func actionLabel(a string) string {
	if l, ok := actionLabels[a]; ok {
		return l
	}
	return a
}

type auditView struct {
	storage.AuditEntry
	Label string
}

func auditViews(es []storage.AuditEntry) []auditView {
	out := make([]auditView, len(es))
	for i, e := range es {
		out[i] = auditView{AuditEntry: e, Label: actionLabel(e.Action)}
	}
	return out
}

type membersPage struct {
	Query    memberSearch
	Members  []memberView
	Next     string
	Units    []storage.Unit
	Scoped   string // the officer's own unit, when they have one
	Searched bool
}

func (s *Server) handleMembers(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ReadMembers, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	q := memberSearch{Text: strings.TrimSpace(r.URL.Query().Get("q")), Unit: r.URL.Query().Get("unit"), Cursor: r.URL.Query().Get("cursor")}
	data := membersPage{Query: q, Scoped: p.UnitName}
	if p.CountyLevel() {
		units, err := s.db.Units(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data.Units = units
	}
	// An empty form lists nothing for a county officer (thousands of members); a unit's
	// officer sees their own members at once.
	if q.Text != "" || q.Unit != "" || q.Cursor != "" || !p.CountyLevel() {
		data.Searched = true
		ms, next, err := s.searchMembers(r.Context(), p, q, 50)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, m := range ms {
			v, err := s.viewMember(r.Context(), m)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			data.Members = append(data.Members, v)
		}
		data.Next = next
	}
	s.render(w, r, "members", &pageData{Title: "会员", Data: data})
}

type memberPage struct {
	Member          memberView
	History         []auditView
	CanHelp         bool
	CanChangeStatus bool
	CanRevealID     bool
	Code            *storage.BindingCode
	CodeExpiry      string
	FullIDNumber    string // shown once, on the answer to 显示完整身份证号
}

func (s *Server) memberPageData(r *http.Request, p auth.Principal, m storage.Member) (*memberPage, error) {
	v, err := s.viewMember(r.Context(), m)
	if err != nil {
		return nil, err
	}
	hist, err := s.db.AuditEntries(r.Context(), fmt.Sprintf("member:%d", m.ID), 50)
	if err != nil {
		return nil, err
	}
	return &memberPage{Member: v, History: auditViews(hist), CanHelp: auth.Can(p, auth.HelpBinding), CanChangeStatus: auth.Can(p, auth.ChangeMemberStatus),
		CanRevealID: auth.Can(p, auth.RevealIDNumber)}, nil
}

func (s *Server) handleMember(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	m, err := s.memberFor(r, p, auth.ReadMembers)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.memberPageData(r, p, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "member", &pageData{Title: "会员 " + m.MemberNo, Data: d})
}

func memberURL(no string) string { return "/admin/members/" + pathEscape(no) }

func (s *Server) handleUnlockBinding(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	m, err := s.memberFor(r, p, auth.HelpBinding)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, was, err := s.db.UnlockBinding(r.Context(), m.MemberNo, s.auditFor(r, p))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msg := "已解除绑定锁定，会员现在可以重新自助绑定。"
	if was.IsZero() {
		msg = "该会员当前没有被锁定，已清除失败计数。"
	}
	s.flashRedirect(w, r, msg, memberURL(m.MemberNo))
}

// handleBindingCode shows the new code on the page that answers the POST, once: it is
// never stored in clear, so a reload cannot show it again.
func (s *Server) handleBindingCode(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	m, err := s.memberFor(r, p, auth.HelpBinding)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	code, err := s.issueCode(r, p, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.memberPageData(r, p, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Code = &code
	d.CodeExpiry = code.ExpiresAt.In(shanghai).Format("2006-01-02 15:04")
	s.render(w, r, "member", &pageData{Title: "会员 " + m.MemberNo, Data: d})
}

func (s *Server) handleUnbind(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	m, err := s.memberFor(r, p, auth.HelpBinding)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reason, err := unbindReason(r.PostFormValue("reason"))
	if err == nil {
		_, err = s.unbind(r, p, m, reason)
	}
	if he := classify(err); he != nil && he.status < 500 && he.status != http.StatusNotFound {
		d, derr := s.memberPageData(r, p, m)
		if derr != nil {
			s.fail(w, r, derr)
			return
		}
		s.renderStatus(w, r, he.status, "member", &pageData{Title: "会员 " + m.MemberNo, Error: he.msg, Data: d})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, "已解除该会员的微信绑定（原因已记入审计日志）。", memberURL(m.MemberNo))
}

// handleRevealID shows the member's full ID number on the page that answers the POST, once
// (a reload asks again), after writing the audit row with the officer's reason in the same
// transaction. Only roles allowed auth.RevealIDNumber see the button; others get 403.
func (s *Server) handleRevealID(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	m, err := s.memberFor(r, p, auth.RevealIDNumber)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var id string
	reason, err := officerReason(r.PostFormValue("reason"), "查看原因")
	if err == nil {
		id, err = s.db.RevealIDNumber(r.Context(), m.MemberNo, reason, s.auditFor(r, p))
	}
	d, derr := s.memberPageData(r, p, m)
	if derr != nil {
		s.fail(w, r, derr)
		return
	}
	if he := classify(err); he != nil && he.status < 500 && he.status != http.StatusNotFound {
		s.renderStatus(w, r, he.status, "member", &pageData{Title: "会员 " + m.MemberNo, Error: he.msg, Data: d})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.FullIDNumber = id
	s.render(w, r, "member", &pageData{Title: "会员 " + m.MemberNo, Data: d})
}
