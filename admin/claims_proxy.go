package admin

// 代录: a grassroots officer (reviewer or admin, within their unit) enters a claim for a
// member who cannot use a phone, from the member's paper form, with the photos uploaded
// here: GET/POST /admin/claims/new and POST /api/v1/claims (multipart, the same fields).
// The answers are checked by the chat form's own steps and filed by the same
// storage.SubmitClaim (handlers.Claims.SubmitEntry); this file only reads the request,
// checks and stores the photos (bot.CheckPhoto, encrypted in the media table as chat
// photos are) and shows the outcome.

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"time"

	"unionbot/admin/auth"
	"unionbot/bot"
	"unionbot/claims"
	"unionbot/handlers"
	"unionbot/parse"
	"unionbot/storage"
	"unionbot/web"
)

// maxEntryBytes bounds one 代录 request, photos included.
const maxEntryBytes = 100 << 20

// limitEntry bounds the body of a 代录 request before anything reads it (the console's
// form token check parses the form first).
func limitEntry(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxEntryBytes)
		h.ServeHTTP(w, r)
	})
}

// entryPhotoKeep is how long photos uploaded for an entry wait for its submission (a
// refused form keeps them for the officer's next try).
const entryPhotoKeep = 24 * time.Hour

// entryFieldNames are the text fields of an entry, as the form and the API name them.
var entryFieldNames = []string{"member_no", "plan", "hospital", "admitted_on", "discharged_on", "diagnosis",
	"total_cost", "insurance_paid", "out_of_pocket", "bank_name", "bank_card"}

// entryRequest is a parsed 代录 request: the entry, the member, and what was wrong with
// the photos or the member (problems the officer can fix, shown with the entry's own).
type entryRequest struct {
	Entry    handlers.ClaimEntry
	Member   storage.Member
	Values   map[string]string
	Problems []handlers.EntryProblem
	status   int // of the problems: 404 for the member, else 422
}

func (q *entryRequest) problem(field, label, msg string) {
	q.Problems = append(q.Problems, handlers.EntryProblem{Field: field, Label: label, Message: msg})
}

// entryMember finds the member of q.Values["member_no"] within p's unit, or records why
// not (another unit's member is told as a missing one).
func (s *Server) entryMember(r *http.Request, p auth.Principal, q *entryRequest) error {
	no := q.Values["member_no"]
	if no == "" {
		q.problem("member_no", "会员", "请填写会员编号。")
		return nil
	}
	m, err := scoped(r, p, auth.EnterClaims, s.db.MemberByNo, no, func(m storage.Member) int64 { return m.UnitID })
	switch {
	case errors.Is(err, storage.ErrNotFound) || errors.Is(err, auth.ErrNotFound):
		q.problem("member_no", "会员", "没有找到会员编号为「"+no+"」的会员，或该会员不在您的基层工会。")
		q.status = http.StatusNotFound
		return nil
	case err != nil:
		return err
	}
	q.Member, q.Entry.MemberID = m, m.ID
	return nil
}

// uploadOwner is the key the officer's uploads are stored under (media.open_id).
func uploadOwner(p auth.Principal) string { return "console:" + p.Actor() }

// readEntry reads a 代录 request (multipart form, console or API) as p, who must be allowed
// to enter claims: the member must be in p's unit; photos are checked and stored, provisional until the claim keeps them.
func (s *Server) readEntry(r *http.Request, p auth.Principal) (*entryRequest, error) {
	if err := auth.Authorize(p, auth.EnterClaims, auth.NoRecord); err != nil {
		return nil, err
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return nil, userErr(http.StatusBadRequest, "bad_form", "表单无法读取（照片每张不超过 10 MB，合计不超过 100 MB）。")
	}
	q := &entryRequest{Values: map[string]string{}, status: http.StatusUnprocessableEntity}
	for _, k := range entryFieldNames {
		q.Values[k] = strings.TrimSpace(r.FormValue(k))
	}
	e := &q.Entry
	e.Consent, e.CardChecked = formBool(r.FormValue("consent")), formBool(r.FormValue("card_checked"))
	e.Plan, e.Hospital, e.AdmittedOn, e.DischargedOn = q.Values["plan"], q.Values["hospital"], q.Values["admitted_on"], q.Values["discharged_on"]
	e.Diagnosis, e.TotalCost, e.InsurancePaid, e.OutOfPocket = q.Values["diagnosis"], q.Values["total_cost"], q.Values["insurance_paid"], q.Values["out_of_pocket"]
	e.BankName, e.BankCard, e.Token = q.Values["bank_name"], q.Values["bank_card"], strings.TrimSpace(r.FormValue("token"))
	e.MediaOwner = uploadOwner(p)

	if err := s.entryMember(r, p, q); err != nil {
		return nil, err
	}

	e.Photos = map[claims.DocKind][]int64{}
	for _, kind := range handlers.ClaimDocKinds() {
		field := "doc_" + string(kind)
		// Photos uploaded by an earlier try of this form (or of a double click).
		for _, id := range storage.ParseMediaRefs(r.FormValue("kept_" + field)) {
			md, err := s.db.MediaByID(r.Context(), id)
			if err == nil && md.OpenID == e.MediaOwner { // only the officer's own uploads

				e.Photos[kind] = append(e.Photos[kind], id)
			}
		}
		if r.MultipartForm == nil {
			continue
		}
		for _, fh := range r.MultipartForm.File[field] {
			if fh.Filename == "" && fh.Size == 0 {
				continue // an empty file input
			}
			id, msg, err := s.savePhoto(r, e.MediaOwner, fh)
			if err != nil {
				return nil, err
			}
			if msg != "" {
				q.problem(field, kind.Name(), "「"+fh.Filename+"」"+msg)
				continue
			}
			e.Photos[kind] = append(e.Photos[kind], id)
		}
	}
	return q, nil
}

// savePhoto checks an uploaded photo as a chat photo is checked and stores it encrypted;
// msg says why it was refused.
func (s *Server) savePhoto(r *http.Request, owner string, fh *multipart.FileHeader) (int64, string, error) {
	f, err := fh.Open()
	if err != nil {
		return 0, "无法读取，请重新上传。", nil
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, bot.DefaultMaxPhotoBytes+1))
	if err != nil {
		return 0, "无法读取，请重新上传。", nil
	}
	ct, err := bot.CheckPhoto(data, bot.DefaultMaxPhotoBytes)
	switch {
	case errors.Is(err, bot.ErrPhotoTooLarge):
		return 0, "超过 10 MB，请缩小后上传。", nil
	case errors.Is(err, bot.ErrPhotoNotImage):
		return 0, "不是照片（应为 JPEG、PNG、WebP 或 HEIC 图片）。", nil
	}
	id, _, err := s.db.SaveMedia(r.Context(), owner, ct, data, s.now().Add(entryPhotoKeep))
	if err != nil {
		return 0, "", err
	}
	return id, "", nil
}

func formBool(v string) bool { return v == "1" || v == "true" || v == "on" || v == "yes" }

// submitEntry files a read entry. The problems found reading it and those of the form's
// checks are reported together (*handlers.EntryError with q's status).
func (s *Server) submitEntry(r *http.Request, p auth.Principal, q *entryRequest) (storage.SubmitResult, error) {
	audit := s.auditFor(r, p)
	if q.Entry.MemberID == 0 {
		return storage.SubmitResult{}, &handlers.EntryError{Problems: q.Problems}
	}
	if len(q.Problems) > 0 {
		err := s.claimEntry.CheckEntry(r.Context(), q.Entry)
		ee, _ := handlers.IsEntryError(err)
		if err != nil && ee == nil {
			return storage.SubmitResult{}, err
		}
		out := &handlers.EntryError{Problems: q.Problems}
		if ee != nil {
			out.Problems, out.CardReadBack = append(out.Problems, ee.Problems...), ee.CardReadBack
		}
		return storage.SubmitResult{}, out
	}
	return s.claimEntry.SubmitEntry(r.Context(), q.Entry, audit)
}

// entryErr maps a refused entry to what the API answers.
func entryErr(q *entryRequest, err error) error {
	if ee, ok := handlers.IsEntryError(err); ok {
		status := http.StatusUnprocessableEntity
		if q != nil && q.status == http.StatusNotFound && len(ee.Problems) > 0 && ee.Problems[0].Field == "member_no" {
			status = http.StatusNotFound
		}
		return userErr(status, "invalid", ee.Error()+"。")
	}
	return claimErr(err)
}

// apiEnterClaim is POST /api/v1/claims: 代录 through the API (multipart: the fields of the
// console's form, photos as doc_<kind> files). 201 with the claim; 200 with the same claim
// when the token was used already.
func (s *Server) apiEnterClaim(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	q, err := s.readEntry(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.submitEntry(r, p, q)
	if err != nil {
		s.fail(w, r, entryErr(q, err))
		return
	}
	c, err := s.db.ClaimByNumber(r.Context(), res.Claim.Number)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if !res.Created {
		status = http.StatusOK
	}
	web.JSON(w, status, viewClaim(c, p, true))
}

// Console.

type entryDoc struct {
	Kind     claims.DocKind
	Name     string
	Plans    string // the plan codes that ask for it, for the page's script
	Kept     string // refs of photos uploaded by an earlier try
	KeptN    int
	Problem  string
	Required bool // by the chosen plan
}

type claimNewPage struct {
	Values       map[string]string
	Member       *storage.Member
	Plans        []claims.Plan
	Docs         []entryDoc
	Problems     map[string]string
	CardReadBack bool
	CardChecked  bool
	Consent      bool
	Token        string
	StayPlans    string
}

func newEntryToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) claimNewData(q *entryRequest, ee *handlers.EntryError) claimNewPage {
	d := claimNewPage{Values: q.Values, Plans: claims.Plans, Problems: map[string]string{}, Token: q.Entry.Token,
		StayPlans: string(claims.Hospital) + " " + string(claims.CriticalIllness), Consent: q.Entry.Consent, CardChecked: q.Entry.CardChecked}
	if d.Token == "" {
		d.Token = newEntryToken()
	}
	if q.Member.ID != 0 {
		m := q.Member
		d.Member = &m
	}
	if ee != nil {
		for _, p := range ee.Problems {
			if d.Problems[p.Field] == "" {
				d.Problems[p.Field] = p.Message
			}
		}
		d.CardReadBack = ee.CardReadBack
	}
	plan := claims.Plan(q.Values["plan"])
	for _, k := range handlers.ClaimDocKinds() {
		var plans []string
		for _, p := range claims.Plans {
			if slices.Contains(claims.RequiredDocs(p), k) {
				plans = append(plans, string(p))
			}
		}
		refs := make([]string, 0, len(q.Entry.Photos[k]))
		for _, id := range q.Entry.Photos[k] {
			refs = append(refs, storage.MediaRef(id))
		}
		d.Docs = append(d.Docs, entryDoc{Kind: k, Name: k.Name(), Plans: strings.Join(plans, " "), Kept: strings.Join(refs, ","),
			KeptN: len(refs), Problem: d.Problems["doc_"+string(k)], Required: slices.Contains(claims.RequiredDocs(plan), k)})
	}
	return d
}

// handleClaimNew is the empty form; ?member_no= looks the member up first.
func (s *Server) handleClaimNew(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.EnterClaims, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	q := &entryRequest{Values: map[string]string{"member_no": strings.TrimSpace(r.URL.Query().Get("member_no"))}}
	status, msg := http.StatusOK, ""
	if q.Values["member_no"] != "" {
		if err := s.entryMember(r, p, q); err != nil {
			s.fail(w, r, err)
			return
		}
		if len(q.Problems) > 0 {
			status, msg = q.status, q.Problems[0].Message
		}
	}
	s.renderStatus(w, r, status, "claim_new", &pageData{Title: "代录互助金申请", Error: msg, Data: s.claimNewData(q, nil)})
}

// handleClaimCreate files the entry, or shows the form again with every problem beside its
// field and the photos already uploaded kept.
func (s *Server) handleClaimCreate(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	q, err := s.readEntry(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.submitEntry(r, p, q)
	if ee, ok := handlers.IsEntryError(err); ok {
		status := http.StatusUnprocessableEntity
		if q.status == http.StatusNotFound {
			status = http.StatusNotFound
		}
		s.renderStatus(w, r, status, "claim_new", &pageData{Title: "代录互助金申请", Error: "申请未提交，请按提示修改后再提交。",
			Data: s.claimNewData(q, ee)})
		return
	}
	if he := classify(claimErr(err)); err != nil && he != nil && he.status == http.StatusConflict {
		s.renderStatus(w, r, he.status, "claim_new", &pageData{Title: "代录互助金申请", Error: he.msg, Data: s.claimNewData(q, nil)})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c := res.Claim
	msg := fmt.Sprintf("已为会员 %s（%s）代录互助金申请 %s。会员将收到微信通知。", c.MemberName, c.MemberNo, c.Number)
	if !res.Created {
		msg = fmt.Sprintf("这份申请已经提交过：%s。", c.Number)
	} else if c.Estimate.Refusal != "" {
		msg += "按现行规则预审：" + c.Estimate.Refusal.Text() + "，请审核时核实。"
	} else {
		msg += fmt.Sprintf("按现行规则估算约 %s 元，以审核结果为准。", parse.FormatFen(int64(c.Estimate.Amount)))
	}
	// The claim's page (the reviewers' view) when the officer may read it; else a fresh form.
	target := "/admin/claims/new"
	if auth.Can(p, auth.ReadClaims) {
		target = "/admin/claims/" + c.Number
	}
	s.flashRedirect(w, r, msg, target)
}
