// Package claims is the mutual-aid claim (互助金申领) as pure rules: the statuses and the one
// table of who may move a claim from which status to which, the plans with their Chinese
// names and the documents each needs, money in integer fen, and the payout estimate from
// the union's versioned rules. It does no I/O; storage enforces the table with optimistic
// concurrency and the console and chat show its wording.
package claims

import (
	"errors"
	"fmt"
)

// Status is where a claim is in its life (DESIGN §11).
type Status string

// The statuses.
const (
	Submitted     Status = "submitted"
	Reviewing     Status = "reviewing"
	NeedMore      Status = "need_more"
	Approved      Status = "approved"
	Rejected      Status = "rejected"
	Paid          Status = "paid"
	PaymentFailed Status = "payment_failed"
	Withdrawn     Status = "withdrawn"
)

// Statuses lists every status in the order of a claim's life.
var Statuses = []Status{Submitted, Reviewing, NeedMore, Approved, Rejected, Paid, PaymentFailed, Withdrawn}

var statusLabels = map[Status]string{
	Submitted:     "已提交",
	Reviewing:     "审核中",
	NeedMore:      "待补充材料",
	Approved:      "审核通过",
	Rejected:      "未通过",
	Paid:          "已发放",
	PaymentFailed: "发放失败",
	Withdrawn:     "已撤回",
}

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool { _, ok := statusLabels[s]; return ok }

// Label is the status in Chinese, as members and officers read it; the code itself when
// unknown.
func (s Status) Label() string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return string(s)
}

// Final reports whether no transition leaves s.
func (s Status) Final() bool {
	for _, t := range table {
		if t.from == s {
			return false
		}
	}
	return true
}

// Role is who asks for a transition. Officers' roles carry the console's names; the member
// acts from the chat.
type Role string

// The roles the table knows. An admin reviews (an admin is the county's senior officer) but
// does not mark payments: separation of duties keeps money with finance.
const (
	RoleMember   Role = "member"
	RoleReviewer Role = "reviewer"
	RoleAdmin    Role = "admin"
	RoleFinance  Role = "finance"
)

// transition is one row of the table.
type transition struct {
	from, to Status
	roles    []Role
}

// table is every legal transition and who may make it. need_more → reviewing is the member
// sending what was asked (or a reviewer resuming after receiving it at the counter);
// payment_failed → approved is the card corrected, by the member in chat or by finance from
// a corrected bank sheet.
var table = []transition{
	{Submitted, Reviewing, []Role{RoleReviewer, RoleAdmin}},
	{Submitted, Withdrawn, []Role{RoleMember}},
	{Reviewing, NeedMore, []Role{RoleReviewer, RoleAdmin}},
	{NeedMore, Reviewing, []Role{RoleMember, RoleReviewer, RoleAdmin}},
	{Reviewing, Approved, []Role{RoleReviewer, RoleAdmin}},
	{Reviewing, Rejected, []Role{RoleReviewer, RoleAdmin}},
	{Approved, Paid, []Role{RoleFinance}},
	{Approved, PaymentFailed, []Role{RoleFinance}},
	{PaymentFailed, Approved, []Role{RoleMember, RoleFinance}},
}

// Errors of Transition, tested with errors.Is: an illegal transition (the API's 422) and a
// role that may not make a legal one (403). Check's missing or bad details are ErrDetails
// (400).
var (
	ErrIllegal   = errors.New("illegal transition")
	ErrForbidden = errors.New("role may not make this transition")
	ErrDetails   = errors.New("transition details missing or invalid")
)

// TransitionError says which transition was refused and why; errors.Is matches its Kind.
type TransitionError struct {
	Kind     error // ErrIllegal or ErrForbidden
	From, To Status
	Role     Role
}

func (e *TransitionError) Error() string {
	if e.Kind == ErrForbidden {
		return fmt.Sprintf("%s → %s: %v: %s", e.From, e.To, e.Kind, e.Role)
	}
	return fmt.Sprintf("%s → %s: %v", e.From, e.To, e.Kind)
}

// Is makes errors.Is(err, ErrIllegal) and errors.Is(err, ErrForbidden) work.
func (e *TransitionError) Is(target error) bool { return target == e.Kind }

// Message is the refusal in Chinese, safe to show to an officer or a member.
func (e *TransitionError) Message() string {
	if e.Kind == ErrForbidden {
		return fmt.Sprintf("您的角色无权将申请从「%s」改为「%s」", e.From.Label(), e.To.Label())
	}
	return fmt.Sprintf("申请当前为「%s」，不能改为「%s」", e.From.Label(), e.To.Label())
}

// Transition reports whether role may move a claim from from to to: nil when it may, a
// *TransitionError with ErrIllegal when the table has no such move, with ErrForbidden when
// the move exists but role is not among those who make it.
func Transition(from, to Status, role Role) error {
	for _, t := range table {
		if t.from != from || t.to != to {
			continue
		}
		for _, r := range t.roles {
			if r == role {
				return nil
			}
		}
		return &TransitionError{Kind: ErrForbidden, From: from, To: to, Role: role}
	}
	return &TransitionError{Kind: ErrIllegal, From: from, To: to, Role: role}
}

// Next lists the statuses role may move a claim in from to, in table order (the console's
// buttons).
func Next(from Status, role Role) []Status {
	var out []Status
	for _, t := range table {
		if t.from == from && Transition(from, t.to, role) == nil {
			out = append(out, t.to)
		}
	}
	return out
}

// Details are what a transition carries besides its target.
type Details struct {
	Amount     Fen    // approved: the amount to pay
	Reason     string // rejected, payment_failed: why
	Missing    string // need_more: exactly what the member must send
	PaymentRef string // paid: the bank's reference (流水号)
}

// DetailsError names the missing or invalid detail; Message is safe to show.
type DetailsError struct{ Msg string }

func (e *DetailsError) Error() string        { return "transition details: " + e.Msg }
func (e *DetailsError) Is(target error) bool { return target == ErrDetails }

// Message is the problem in Chinese.
func (e *DetailsError) Message() string { return e.Msg }

// Check validates the details a transition from from to to requires: an amount above zero
// for the approval of a claim under review (a claim approved again once its card is
// corrected keeps its amount), a reason for rejected and payment_failed, what is missing for
// need_more, the payment reference for paid. Details a transition does not use are ignored.
func Check(from, to Status, d Details) error {
	if to == Approved && from == Reviewing && d.Amount <= 0 {
		return &DetailsError{"审核通过须填写大于零的核定金额"}
	}
	if (to == Rejected || to == PaymentFailed) && blank(d.Reason) {
		return &DetailsError{"须填写原因"}
	}
	if to == NeedMore && blank(d.Missing) {
		return &DetailsError{"须写明需要补充的材料"}
	}
	if to == Paid && blank(d.PaymentRef) {
		return &DetailsError{"须填写银行流水号"}
	}
	return nil
}

func blank(s string) bool {
	for _, r := range s {
		if r != ' ' && r != '\t' && r != '\n' && r != '\r' && r != '\u3000' {
			return false
		}
	}
	return true
}
