// Package legalaid is the legal-aid case (法律援助) as pure rules: statuses and the one table
// of who may move a case from which status to which, dispute types, stages and outcomes
// with their Chinese names (DESIGN §11), the requester's notices, the contact SLA, the
// 1–5 satisfaction rating, and the detection of crisis signals and of legal questions in
// what people type. It does no I/O; storage enforces the table with optimistic
// concurrency, and the chat and the console show its wording.
package legalaid

import (
	"errors"
	"fmt"
	"strings"
)

// Status is where a case is in its life.
type Status string

// The statuses.
const (
	Submitted  Status = "submitted"
	Accepted   Status = "accepted"
	Contacted  Status = "contacted"
	InProgress Status = "in_progress"
	Closed     Status = "closed"
)

// Statuses lists every status in the order of a case's life.
var Statuses = []Status{Submitted, Accepted, Contacted, InProgress, Closed}

var statusLabels = map[Status]string{
	Submitted:  "已登记",
	Accepted:   "已受理",
	Contacted:  "已联系",
	InProgress: "办理中",
	Closed:     "已结案",
}

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool { _, ok := statusLabels[s]; return ok }

// Label is the status in Chinese; the code itself when unknown.
func (s Status) Label() string { return label(statusLabels, s) }

// Open reports whether the case is still being handled (not closed).
func (s Status) Open() bool { return s.Valid() && s != Closed }

// Role is who asks for a transition: the console's role names.
type Role string

// The roles. Legal officers run the caseload; a county admin may step in.
const (
	RoleLegal Role = "legal"
	RoleAdmin Role = "admin"
)

// Officer reports whether role handles cases (may assign, move and annotate them).
func Officer(role Role) bool { return role == RoleLegal || role == RoleAdmin }

type transition struct {
	from, to Status
}

// table is every legal move. Every move is made by a legal officer or an admin; the
// requester moves nothing (they are told). submitted → closed is a refusal (declined, with
// the reason the requester is told); closed → in_progress is a reopening, with a reason.
var table = []transition{
	{Submitted, Accepted},
	{Submitted, Closed},
	{Accepted, Contacted},
	{Contacted, InProgress},
	{InProgress, Closed},
	{Closed, InProgress},
}

// Errors of Transition and Check, tested with errors.Is: an illegal move (the API's 422), a
// role that may not move cases (403), a missing or bad detail (400).
var (
	ErrIllegal   = errors.New("illegal transition")
	ErrForbidden = errors.New("role may not move legal-aid cases")
	ErrDetails   = errors.New("transition details missing or invalid")
)

// TransitionError says which move was refused and why; errors.Is matches its Kind.
type TransitionError struct {
	Kind     error // ErrIllegal or ErrForbidden
	From, To Status
	Role     Role
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("%s → %s (%s): %v", e.From, e.To, e.Role, e.Kind)
}

// Is makes errors.Is(err, ErrIllegal) and errors.Is(err, ErrForbidden) work.
func (e *TransitionError) Is(target error) bool { return target == e.Kind }

// Message is the refusal in Chinese, safe to show to an officer.
func (e *TransitionError) Message() string {
	if e.Kind == ErrForbidden {
		return "只有法律援助工作人员可以办理案件"
	}
	return fmt.Sprintf("案件当前为「%s」，不能改为「%s」", e.From.Label(), e.To.Label())
}

// Transition reports whether role may move a case from from to to: nil when it may, a
// *TransitionError with ErrForbidden when role handles no cases, with ErrIllegal when the
// table has no such move.
func Transition(from, to Status, role Role) error {
	if !Officer(role) {
		return &TransitionError{Kind: ErrForbidden, From: from, To: to, Role: role}
	}
	for _, t := range table {
		if t.from == from && t.to == to {
			return nil
		}
	}
	return &TransitionError{Kind: ErrIllegal, From: from, To: to, Role: role}
}

// Next lists the statuses role may move a case in from to, in table order (the console's
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
	Outcome Outcome // closed: how the case ended
	Reason  string  // closed as declined: why (the requester is told); reopening: why
}

// DetailsError names the missing or invalid detail; Message is safe to show.
type DetailsError struct{ Msg string }

func (e *DetailsError) Error() string        { return "transition details: " + e.Msg }
func (e *DetailsError) Is(target error) bool { return target == ErrDetails }

// Message is the problem in Chinese.
func (e *DetailsError) Message() string { return e.Msg }

// MaxReason is the longest reason, in characters.
const MaxReason = 500

// Check validates the details a move from from to to requires: closing needs an outcome,
// closing a case never accepted can only decline it, declining needs the reason the
// requester is told, reopening needs a reason. Details a move does not use are ignored.
func Check(from, to Status, d Details) error {
	if len([]rune(d.Reason)) > MaxReason {
		return &DetailsError{fmt.Sprintf("原因不能超过 %d 字", MaxReason)}
	}
	switch {
	case to == Closed && !d.Outcome.Valid():
		return &DetailsError{"结案须选择结果"}
	case to == Closed && from == Submitted && d.Outcome != Declined:
		return &DetailsError{"未受理的案件只能以「不予受理」结案"}
	case to == Closed && d.Outcome == Declined && blank(d.Reason):
		return &DetailsError{"不予受理须填写原因（会告知申请人）"}
	case from == Closed && to == InProgress && blank(d.Reason):
		return &DetailsError{"重新办理须填写原因"}
	}
	return nil
}

func blank(s string) bool { return strings.TrimSpace(strings.ReplaceAll(s, "\u3000", "")) == "" }

func label[K ~string](m map[K]string, k K) string {
	if l, ok := m[k]; ok {
		return l
	}
	return string(k)
}
