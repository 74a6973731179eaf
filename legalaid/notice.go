package legalaid

import (
	"fmt"
	"time"
)

// Hotline is the national workers' service hotline (职工服务热线).
const Hotline = "12351"

// Notice is the message the requester receives when their case number moves from from to
// to, and whether there is one: on acceptance, on first contact, at closing (with the
// rating question, or the reason of a refusal) and on reopening. Other moves are not told.
func Notice(number string, from, to Status, d Details) (string, bool) {
	switch {
	case to == Accepted:
		return fmt.Sprintf("您的法律援助申请 %s 已受理，工作人员会尽快联系您。回复“进度”可查看办理情况。", number), true
	case to == Contacted:
		return fmt.Sprintf("法律援助工作人员已和您联系，申请 %s 正在跟进。有新情况可以直接在这里留言，或拨打 %s。", number, Hotline), true
	case to == Closed && d.Outcome == Declined:
		return fmt.Sprintf("很抱歉，您的法律援助申请 %s 未予受理。原因：%s。\n有疑问可拨打职工服务热线 %s，或回复“人工”。", number, d.Reason, Hotline), true
	case to == Closed:
		return fmt.Sprintf("您的法律援助案件 %s 已结案（%s）。\n请为这次服务打分：回复 1 到 5 的数字，5 分最满意。也欢迎再说说您的意见。", number, d.Outcome.Label()), true
	case from == Closed && to == InProgress:
		return fmt.Sprintf("您的法律援助案件 %s 已重新办理，工作人员会再联系您。", number), true
	}
	return "", false
}

// Default contact SLAs: how long a case may wait for first contact before the console
// highlights it. Working hours are not counted here (no holiday calendar): an SLA is a
// reminder to officers, not a promise to the requester.
const (
	DefaultSLA       = 72 * time.Hour
	DefaultUrgentSLA = 2 * time.Hour
)

// Overdue reports whether a case in status s, filed at filed, has waited longer than its
// SLA for first contact at now (only cases not yet contacted can be overdue).
func Overdue(s Status, urgent bool, filed, now time.Time, sla, urgentSLA time.Duration) bool {
	if s != Submitted && s != Accepted {
		return false
	}
	limit := sla
	if urgent {
		limit = urgentSLA
	}
	return now.Sub(filed) > limit
}

// RatingWindow is how long after closing a bare number answers the rating question.
const RatingWindow = 7 * 24 * time.Hour

// ValidRating reports whether n is a satisfaction rating (1–5).
func ValidRating(n int) bool { return n >= 1 && n <= 5 }

var crisisLabels = map[string]string{
	"self_harm": "自伤风险",
	"violence":  "暴力冲突",
	"injury":    "正在受伤",
	"protest":   "群体聚集",
}

// CrisisLabel is a crisis signal's category in Chinese ("紧急情况" for one it does not know).
func CrisisLabel(category string) string {
	if l, ok := crisisLabels[category]; ok {
		return l
	}
	return "紧急情况"
}

// Alert is the message legal officers get on their linked WeChat when a crisis signal
// arrives: the case number, the kind of danger and the console link, nothing about the
// person (they open the case to see who it is and what was said). link may be "" (no
// public URL configured): the officer then opens the console by the number.
func Alert(number, category, link string) string {
	where := "请登录干部后台“法律援助”查看并尽快联系当事人。"
	if link != "" {
		where = "请尽快查看并联系当事人：" + link
	}
	return fmt.Sprintf("【紧急求助】法律援助案件 %s 收到紧急求助（%s）。\n%s", number, CrisisLabel(category), where)
}
