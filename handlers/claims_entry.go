package handlers

// 代录: a claim a grassroots officer enters in the console for a member who cannot use a
// phone (in hospital, elderly). The answers go through the chat form's own steps — the same
// checks in the same order, the same eligibility, the same estimate and the same
// storage.SubmitClaim — so a claim entered from the paper form follows exactly the rules of
// one filed in chat. Only the consent differs: the member gave it on paper, the officer
// records that.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"unionbot/bot"
	"unionbot/claims"
	"unionbot/storage"
)

// ClaimEntry is a claim as an officer types it from the member's paper form. The text
// fields are read exactly as the chat reads a member's answers (dates such as 2026-11-03 or
// 11月3日, amounts such as 3,500.50 or 3500元); Plan is a plan code or its Chinese name.
type ClaimEntry struct {
	MemberID int64
	// Consent is the officer's statement that the member signed the consent to collect
	// medical and bank details on paper.
	Consent                                             bool
	Plan, Hospital, AdmittedOn, DischargedOn, Diagnosis string
	TotalCost, InsurancePaid, OutOfPocket               string
	BankName, BankCard                                  string
	// CardChecked: a card number failing the Luhn check was compared with the card itself
	// (the chat's read-back, done by the officer).
	CardChecked bool
	// Photos are the stored media (storage.SaveMedia under MediaOwner) per document kind.
	Photos     map[claims.DocKind][]int64
	MediaOwner string
	// Token makes the submission idempotent (a double click files one claim).
	Token string
}

// EntryProblem is one refused field of a ClaimEntry: Field is the API's name of it
// (member_no, consent, plan, hospital, admitted_on, …, doc_invoice), Label its Chinese name.
type EntryProblem struct {
	Field, Label, Message string
}

// EntryError is a ClaimEntry refused, with every problem in the form's order.
// CardReadBack is set when the only thing wrong with the card is the Luhn check.
type EntryError struct {
	Problems     []EntryProblem
	CardReadBack bool
}

func (e *EntryError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Label + "：" + strings.TrimSuffix(p.Message, "。")
	}
	return strings.Join(parts, "；")
}

// entryFields maps the chat form's step keys to the entry's fields and their API names.
var entryFields = []struct {
	key, field string
	get        func(ClaimEntry) string
}{
	{ckPlan, "plan", func(e ClaimEntry) string { return e.Plan }},
	{ckHospital, "hospital", func(e ClaimEntry) string { return e.Hospital }},
	{ckAdmitted, "admitted_on", func(e ClaimEntry) string { return e.AdmittedOn }},
	{ckDischarge, "discharged_on", func(e ClaimEntry) string { return e.DischargedOn }},
	{ckDiagnosis, "diagnosis", func(e ClaimEntry) string { return e.Diagnosis }},
	{ckTotal, "total_cost", func(e ClaimEntry) string { return e.TotalCost }},
	{ckInsurance, "insurance_paid", func(e ClaimEntry) string { return e.InsurancePaid }},
	{ckOwn, "out_of_pocket", func(e ClaimEntry) string { return e.OutOfPocket }},
	{ckBankName, "bank_name", func(e ClaimEntry) string { return e.BankName }},
	{ckCard, "bank_card", func(e ClaimEntry) string { return e.BankCard }},
}

// What the officer is told (the member's own wording is in claims.go).
const (
	msgEntryNotActive   = "该会员状态为「%s」，不能申领互助金。"
	msgEntryNotEnrolled = "没有查到该会员可以申领的互助保障参保年度（参保后的保障期内、申领期限内才可以申领），请核对参保情况。"
	msgEntryNoConsent   = "请确认会员已在纸质申请表上签字，同意收集就医和银行卡信息。"
	msgEntryCardCheck   = "卡号没有通过银行卡号校验，可能有输错的数字。请与会员的银行卡逐位核对；确认无误请勾选「卡号已与银行卡核对」后再提交。"
	msgEntryRequired    = "请填写%s。"
	msgEntryPhotos      = "请上传%s的照片（1到%d张）。"
)

// checkEntry runs the entry through the claim form's steps as the chat would, and returns
// the form's answers (what Submit gets) or an *EntryError.
func (c *Claims) checkEntry(ctx context.Context, e ClaimEntry) (map[string]string, error) {
	ctx = bot.WithClock(ctx, c.now)
	m, err := c.store.MemberByID(ctx, e.MemberID)
	if err != nil {
		return nil, err
	}
	refuse := func(msg string) error {
		return &EntryError{Problems: []EntryProblem{{Field: "member_no", Label: "会员", Message: msg}}}
	}
	if m.Status != storage.StatusActive {
		return nil, refuse(fmt.Sprintf(msgEntryNotActive, m.Status))
	}
	years, err := c.claimableYears(ctx, m)
	if err != nil {
		return nil, err
	}
	if len(years) == 0 {
		return nil, refuse(msgEntryNotEnrolled)
	}
	raw := map[string]string{}
	field := map[string]string{}
	for _, f := range entryFields {
		raw[f.key], field[f.key] = strings.TrimSpace(f.get(e)), f.field
	}
	if p := claims.Plan(raw[ckPlan]); p.Valid() {
		raw[ckPlan] = p.Name() // the console's code, as the chat's choice
	}
	s := &bot.Session{Data: map[string]string{ckMember: fmt.Sprint(m.ID)}}
	out := &EntryError{}
	if !e.Consent {
		out.Problems = append(out.Problems, EntryProblem{Field: "consent", Label: "同意书", Message: msgEntryNoConsent})
	}
	s.Data[ckConsent] = "同意"
	for _, st := range c.form().Steps {
		if st.Key == ckConsent || (st.When != nil && !st.When(s.Data)) {
			continue
		}
		if st.Photos {
			kind := claims.DocKind(strings.TrimPrefix(st.Key, docPrefix))
			ids := e.Photos[kind]
			if len(ids) < 1 || len(ids) > bot.DefaultMaxPhotos {
				out.Problems = append(out.Problems, EntryProblem{Field: st.Key, Label: st.Label,
					Message: fmt.Sprintf(msgEntryPhotos, st.Label, bot.DefaultMaxPhotos)})
				continue
			}
			refs := make([]string, len(ids))
			for i, id := range ids {
				refs[i] = storage.MediaRef(id)
			}
			s.Data[st.Key] = strings.Join(refs, ",")
			continue
		}
		v := raw[st.Key]
		if v == "" {
			out.Problems = append(out.Problems, EntryProblem{Field: field[st.Key], Label: st.Label, Message: fmt.Sprintf(msgEntryRequired, st.Label)})
			continue
		}
		got, err := st.Check(ctx, s, v)
		if err != nil && st.Key == ckCard && s.Var(varCard) != "" {
			// The chat reads the number back and takes it when sent again; here the officer
			// has compared it with the card.
			if !e.CardChecked {
				out.CardReadBack = true
				out.Problems = append(out.Problems, EntryProblem{Field: field[st.Key], Label: st.Label, Message: msgEntryCardCheck})
				continue
			}
			got, err = st.Check(ctx, s, v)
		}
		if msg, ok := bot.UserMessage(err); ok {
			out.Problems = append(out.Problems, EntryProblem{Field: field[st.Key], Label: st.Label, Message: msg})
			continue
		}
		if err != nil {
			return nil, err
		}
		s.Data[st.Key] = got
	}
	if len(out.Problems) > 0 {
		return nil, out
	}
	return s.Data, nil
}

// CheckEntry checks an entry without filing it: nil, an *EntryError, or a failure.
func (c *Claims) CheckEntry(ctx context.Context, e ClaimEntry) error {
	_, err := c.checkEntry(ctx, e)
	return err
}

// SubmitEntry files a claim entered by an officer (代录): checked as the chat form checks
// a member's answers, then storage.SubmitClaim — the claim number, the estimate, the photos
// kept, the history, the audit row (the officer as actor, noting the entry on behalf and
// the paper consent) and the member's notification in one transaction. A refused entry is
// an *EntryError; a duplicate a *storage.DuplicateClaimError.
func (c *Claims) SubmitEntry(ctx context.Context, e ClaimEntry, audit storage.AuditEntry) (storage.SubmitResult, error) {
	d, err := c.checkEntry(ctx, e)
	if err != nil {
		return storage.SubmitResult{}, err
	}
	token := ""
	if e.Token != "" {
		token = "console:" + e.Token
	}
	audit.Detail = "代录：由经办人代会员录入；会员已在纸质申请表上签字同意收集就医和银行卡信息"
	return c.store.SubmitClaim(ctx, claimInputOf(d, e.MediaOwner, token), audit)
}

// NewClaims is the claims capability on its own, for the console's 代录 (Register builds
// the one the chat uses).
func NewClaims(store ClaimStore, now func() time.Time) *Claims {
	if now == nil {
		now = time.Now
	}
	return &Claims{store: store, now: now}
}

// IsEntryError reports whether err is a refused entry and returns it.
func IsEntryError(err error) (*EntryError, bool) {
	var ee *EntryError
	ok := errors.As(err, &ee)
	return ee, ok
}
