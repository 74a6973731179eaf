package admin

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"unionbot/admin/auth"
	"unionbot/pii"
	"unionbot/storage"
)

// memberView is a member as officers see them: personal numbers masked (DESIGN §9). The
// JSON names are the API contract (DESIGN §11).
type memberView struct {
	MemberNo       string     `json:"member_no"`
	Name           string     `json:"name"`
	IDNumberMasked string     `json:"id_number_masked"`
	PhoneMasked    string     `json:"phone_masked"`
	Unit           string     `json:"unit"`
	Status         string     `json:"status"`
	JoinedOn       string     `json:"joined_on,omitempty"`
	MutualAidYears []int      `json:"mutual_aid_years"`
	Bound          bool       `json:"bound"`
	BoundAt        *time.Time `json:"bound_at,omitempty"`
	BindingLocked  bool       `json:"binding_locked"`
	LockedUntil    *time.Time `json:"binding_locked_until,omitempty"`
}

func (s *Server) viewMember(ctx context.Context, m storage.Member) (memberView, error) {
	v := memberView{
		MemberNo: m.MemberNo, Name: m.Name, IDNumberMasked: pii.MaskIDNumber(m.IDNumber),
		Unit: m.UnitName, Status: m.Status, MutualAidYears: m.MutualAidYears, Bound: m.OpenID != "",
	}
	if v.MutualAidYears == nil {
		v.MutualAidYears = []int{}
	}
	if m.Phone != "" {
		v.PhoneMasked = pii.MaskPhone(m.Phone)
	}
	if !m.JoinedOn.IsZero() {
		v.JoinedOn = m.JoinedOn.Format(time.DateOnly)
	}
	if v.Bound && !m.BoundAt.IsZero() {
		t := m.BoundAt.UTC()
		v.BoundAt = &t
	}
	lock, err := s.db.BindingLockOf(ctx, m.OpenID, m.Name)
	if err != nil {
		return memberView{}, err
	}
	if !lock.NameUntil.IsZero() {
		t := lock.NameUntil.UTC()
		v.BindingLocked, v.LockedUntil = true, &t
	}
	return v, nil
}

// memberFor loads the member of the URL and authorizes act on it: another unit's member is
// ErrNotFound, exactly as a missing one.
func (s *Server) memberFor(r *http.Request, p auth.Principal, act auth.Action) (storage.Member, error) {
	return scoped(r, p, act, s.db.MemberByNo, r.PathValue("member_no"), func(v storage.Member) int64 { return v.UnitID })
}

// scoped loads the record key names and authorizes act on it: the role is
// checked before the load, the record's unit after, so another unit's record
// is ErrNotFound exactly as a missing one (console and API alike).
func scoped[T any](r *http.Request, p auth.Principal, act auth.Action, load func(context.Context, string) (T, error), key string, unit func(T) int64) (T, error) {
	var zero T
	if err := auth.Authorize(p, act, auth.NoRecord); err != nil {
		return zero, err
	}
	v, err := load(r.Context(), key)
	if err != nil {
		return zero, err
	}
	if err := auth.Authorize(p, act, unit(v)); err != nil {
		return zero, err
	}
	return v, nil
}

// memberSearch is a parsed member query of the console or the API.
type memberSearch struct {
	Text   string
	Unit   string // unit name asked for
	Cursor string
}

// searchMembers runs a search within p's unit; next is the cursor of the following page.
func (s *Server) searchMembers(ctx context.Context, p auth.Principal, q memberSearch, limit int) ([]storage.Member, string, error) {
	var asked int64
	if q.Unit != "" {
		u, err := s.db.UnitByName(ctx, q.Unit)
		if err != nil {
			return nil, "", nil // no such unit: nothing to list
		}
		asked = u.ID
	}
	unit, ok := auth.UnitFilter(p, asked)
	if !ok {
		return nil, "", nil
	}
	after, err := decodeCursor(q.Cursor)
	if err != nil {
		return nil, "", userErr(http.StatusBadRequest, "bad_cursor", "翻页参数无效。")
	}
	if utf8.RuneCountInString(q.Text) > 64 {
		return nil, "", userErr(http.StatusBadRequest, "bad_query", "查询内容太长。")
	}
	ms, err := s.db.SearchMembers(ctx, storage.MemberQuery{Text: q.Text, UnitID: unit, AfterID: after, Limit: limit + 1})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ms) > limit {
		ms = ms[:limit]
		next = encodeCursor(ms[len(ms)-1].ID)
	}
	return ms, next, nil
}

// Cursors are opaque to clients: base64 of the last id seen.
func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(b), 10, 64)
}

// unbindReason checks an officer's reason for unbinding (required, at most 200 characters).
func unbindReason(s string) (string, error) { return officerReason(s, "解绑原因") }

// officerReason checks a reason an officer must give (what names it: 解绑原因, 查看原因):
// required, at most 200 characters.
func officerReason(s, what string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", userErr(http.StatusUnprocessableEntity, "reason_required", "请填写"+what+"。")
	}
	if utf8.RuneCountInString(s) > 200 {
		return "", userErr(http.StatusUnprocessableEntity, "reason_too_long", what+"不能超过 200 个字。")
	}
	return s, nil
}

// unbind removes the member's WeChat binding, auditing the reason.
func (s *Server) unbind(r *http.Request, p auth.Principal, m storage.Member, reason string) (storage.Member, error) {
	if m.OpenID == "" {
		return storage.Member{}, userErr(http.StatusConflict, "not_bound", "该会员当前没有绑定微信。")
	}
	a := s.auditFor(r, p)
	a.Detail = "原因：" + reason
	if _, err := s.db.UnbindMember(r.Context(), m.OpenID, a); err != nil {
		return storage.Member{}, err
	}
	return s.db.MemberByNo(r.Context(), m.MemberNo)
}

// issueCode makes a binding code for m.
func (s *Server) issueCode(r *http.Request, p auth.Principal, m storage.Member) (storage.BindingCode, error) {
	if m.Status != storage.StatusActive {
		return storage.BindingCode{}, userErr(http.StatusConflict, "not_active", "该会员状态为“"+m.Status+"”，不能绑定。")
	}
	return s.db.IssueBindingCode(r.Context(), m.MemberNo, storage.DefaultBindingCodeTTL, s.auditFor(r, p))
}

func pathEscape(s string) string { return url.PathEscape(s) }
