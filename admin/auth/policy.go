package auth

import (
	"errors"
	"slices"
)

// Errors of Authorize. The console and the API map them once: ErrForbidden → 403,
// ErrNotFound → 404 (another unit's record is answered as if it did not exist).
var (
	ErrForbidden = errors.New("forbidden")
	ErrNotFound  = errors.New("not found")
)

// Kind says how a principal authenticated.
type Kind string

const (
	KindOfficer Kind = "officer" // console login (session cookie)
	KindToken   Kind = "token"   // API bearer token
)

// Principal is who makes a request: an officer or an API token, with roles and a unit.
type Principal struct {
	Kind     Kind
	ID       int64
	Name     string // username or token name
	Display  string // what the console shows
	Roles    []Role
	UnitID   int64 // 0: county level, sees every unit and the records with none
	UnitName string
}

// Actor is the audit log's name for the principal: "officer:alice", "token:ci".
func (p Principal) Actor() string { return string(p.Kind) + ":" + p.Name }

// Has reports whether the principal holds role r.
func (p Principal) Has(r Role) bool { return slices.Contains(p.Roles, r) }

// CountyLevel reports whether the principal belongs to no unit.
func (p Principal) CountyLevel() bool { return p.UnitID == 0 }

// Action is something a principal may be allowed to do.
type Action string

// The actions of the console and API. Capabilities added later (claims, legal aid, notices)
// add theirs to policy.
const (
	ViewDashboard  Action = "dashboard.view"
	ReadMembers    Action = "members.read"
	HelpBinding    Action = "members.binding"   // unlock, issue a binding code, unbind
	RevealIDNumber Action = "members.reveal_id" // show a member's full ID number once, with a reason (audited)
	ReadAudit      Action = "audit.read"
	ManageOfficers Action = "officers.manage"

	ReadClaims       Action = "claims.read"          // the queue, a claim with its photos
	TransitionClaims Action = "claims.transition"    // which transition is claims.Transition's call
	RecordPayments   Action = "claims.payments"      // the bank's result file, the payment list
	ViewPayments     Action = "claims.payments.view" // the payment page: what awaits payment (cards masked)
	EnterClaims      Action = "claims.enter"         // 代录: file a claim for a member of one's unit
	ReadClaimStats   Action = "claims.stats"         // yearly figures and the 公示 list
	ManageClaimRules Action = "claims.rules"         // the union's payout rules and premiums

	ReadLegalCases   Action = "legal.read"   // the legal-aid queue, a case with its evidence and notes
	HandleLegalCases Action = "legal.handle" // assign, transitions (legalaid.Transition's call), notes

	ReadFAQ   Action = "faq.read"   // the knowledge base and the unanswered questions
	ManageFAQ Action = "faq.manage" // edit entries, attach unanswered questions

	ReadNotices        Action = "notices.read"       // notices, their preview and delivery progress
	PublishNotices     Action = "notices.publish"    // write, test-send, publish and cancel notices
	ReadSignups        Action = "activities.signups" // an activity's sign-up list (names, phones) and its export
	CheckInActivity    Action = "activities.checkin" // mark who came on the day
	ReadHandoffs       Action = "handoffs.read"      // the 人工 inbox and its messages
	AnswerHandoffs     Action = "handoffs.answer"    // claim, reply, close
	ManageKeywords     Action = "keywords.manage"    // keyword auto-replies (every member reads them)
	ImportRoster       Action = "roster.import"      // the roster upload (every unit's members)
	ChangeMemberStatus Action = "members.status"     // 在册 / 转出 / 退会
	LinkOwnWeChat      Action = "officer.wechat"     // an officer links their own WeChat
)

// rule is who may do an action: any of roles, and, when county is set, only principals
// without a unit.
type rule struct {
	roles  []Role
	county bool
}

var everyone = []Role{RoleAdmin, RoleReviewer, RoleFinance, RoleLegal, RolePublisher, RoleViewer}

// policy is the one table of who may do what (README, "Officers' console" shows it).
var policy = map[Action]rule{
	ViewDashboard: {roles: everyone},
	ReadMembers:   {roles: everyone},
	HelpBinding:   {roles: []Role{RoleAdmin, RoleReviewer}},
	// A full ID number is shown to admins only (e.g. to check a paper form with the member
	// at the counter), each time with a reason written to the audit log; everyone else sees
	// it masked.
	RevealIDNumber: {roles: []Role{RoleAdmin}},
	// The audit log names members and officers of every unit, so only county-level
	// admins read it.
	ReadAudit:      {roles: []Role{RoleAdmin}, county: true},
	ManageOfficers: {roles: []Role{RoleAdmin}},
	// Claims hold medical details: those who review, pay or oversee them read them.
	ReadClaims:       {roles: []Role{RoleAdmin, RoleReviewer, RoleFinance, RoleViewer}},
	TransitionClaims: {roles: []Role{RoleAdmin, RoleReviewer, RoleFinance}},
	// Separation of duties: only finance marks payments.
	RecordPayments: {roles: []Role{RoleFinance}},
	// Admins oversee what awaits payment without paying it.
	ViewPayments: {roles: []Role{RoleAdmin, RoleFinance}},
	// 代录: the grassroots officers who file a claim for a member who cannot use a phone.
	EnterClaims:    {roles: []Role{RoleAdmin, RoleReviewer}},
	ReadClaimStats: {roles: everyone},
	// The rules and premiums are the county union's.
	ManageClaimRules: {roles: []Role{RoleAdmin}, county: true},
	// The knowledge base is the county's: a unit's officers do not edit what every member reads.
	ReadFAQ:   {roles: everyone},
	ManageFAQ: {roles: []Role{RoleAdmin, RolePublisher}, county: true},
	// Legal-aid cases hold disputes, contacts and crisis messages: legal officers and admins
	// only. Non-members' cases have no unit, so only county-level officers see them.
	ReadLegalCases:   {roles: []Role{RoleAdmin, RoleLegal}},
	HandleLegalCases: {roles: []Role{RoleAdmin, RoleLegal}},
	// Notices are publishers' (and admins'); a unit's publisher writes to that unit's members
	// only (storage keeps the audience within the unit too). Sign-up lists hold names and
	// phones: those who run activities, and viewers, read them.
	ReadNotices:     {roles: everyone},
	PublishNotices:  {roles: []Role{RoleAdmin, RolePublisher}},
	ReadSignups:     {roles: []Role{RoleAdmin, RolePublisher, RoleViewer}},
	CheckInActivity: {roles: []Role{RoleAdmin, RolePublisher}},
	// Members write private troubles to staff: those who help them read and answer.
	ReadHandoffs:   {roles: []Role{RoleAdmin, RoleReviewer, RoleLegal}},
	AnswerHandoffs: {roles: []Role{RoleAdmin, RoleReviewer, RoleLegal}},
	// Keyword replies and the roster reach across units: the county union's.
	ManageKeywords:     {roles: []Role{RoleAdmin, RolePublisher}, county: true},
	ImportRoster:       {roles: []Role{RoleAdmin}, county: true},
	ChangeMemberStatus: {roles: []Role{RoleAdmin}},
	LinkOwnWeChat:      {roles: everyone},
}

// Can reports whether p's roles (and level) allow act at all, whatever the record.
func Can(p Principal, act Action) bool {
	r, ok := policy[act]
	if !ok {
		return false
	}
	if r.county && !p.CountyLevel() {
		return false
	}
	for _, role := range r.roles {
		if p.Has(role) {
			return true
		}
	}
	return false
}

// Sees reports whether p may see a record of unit recordUnit (0: a record with no unit):
// a county-level principal sees everything, a unit's principal only that unit's records.
func Sees(p Principal, recordUnit int64) bool {
	return p.CountyLevel() || recordUnit == p.UnitID
}

// NoRecord is Authorize's recordUnit for actions that concern no single record (a list,
// the dashboard): lists are filtered with Sees or UnitFilter instead.
const NoRecord int64 = -1

// Authorize is the one authorization decision of the console and the API: ErrForbidden
// when p's roles do not allow act, ErrNotFound when the record (of unit recordUnit, 0 for
// none; NoRecord for none at all) is outside p's unit, nil when allowed.
func Authorize(p Principal, act Action, recordUnit int64) error {
	if !Can(p, act) {
		return ErrForbidden
	}
	if recordUnit != NoRecord && !Sees(p, recordUnit) {
		return ErrNotFound
	}
	return nil
}

// UnitFilter is the unit a list must be restricted to for p (0: no restriction), given
// the unit the caller asked for (0: any). A unit's principal always gets its own unit;
// asking for another one yields ok false (an empty list).
func UnitFilter(p Principal, asked int64) (unit int64, ok bool) {
	if p.CountyLevel() {
		return asked, true
	}
	if asked != 0 && asked != p.UnitID {
		return 0, false
	}
	return p.UnitID, true
}
