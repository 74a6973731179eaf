package admin

// Notices and activities for officers (issue 10, DESIGN §11): /api/v1/notices (create a
// draft, publish, cancel, read with its delivery progress) and /api/v1/activities/{id}/
// signups. An activity is a notice with activity details and shares its id. Storage keeps a
// unit's publisher within the unit and audits every write in its transaction; here a
// notice is a record of its publisher's unit (another unit's notice is 404).

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"unionbot/admin/auth"
	"unionbot/notices"
	"unionbot/storage"
	"unionbot/web"
)

// noticeActivityBody is the activity part of a create request.
type noticeActivityBody struct {
	StartsAt       time.Time  `json:"starts_at"`
	Place          string     `json:"place"`
	Capacity       int        `json:"capacity"`
	SignupDeadline *time.Time `json:"signup_deadline"`
	MembersOnly    bool       `json:"members_only"`
	Waitlist       bool       `json:"waitlist"`
	// RemindBeforeMinutes: 0 the default (24 h), negative none.
	RemindBeforeMinutes int `json:"remind_before_minutes"`
}

// noticeBody is what POST /api/v1/notices takes.
type noticeBody struct {
	Title     string              `json:"title"`
	Body      string              `json:"body"`
	Audience  notices.Audience    `json:"audience"`
	Activity  *noticeActivityBody `json:"activity"`
	PublishAt *time.Time          `json:"publish_at"`
}

// noticeActivityView is a notice's activity in the API.
type noticeActivityView struct {
	Number         int64     `json:"number"`
	StartsAt       time.Time `json:"starts_at"`
	Place          string    `json:"place"`
	Capacity       int       `json:"capacity"`
	Taken          int       `json:"taken"`
	SignupDeadline time.Time `json:"signup_deadline"`
	MembersOnly    bool      `json:"members_only"`
	Waitlist       bool      `json:"waitlist"`
}

// deliveryView is a notice's delivery progress, in people.
type deliveryView struct {
	Total        int            `json:"total"`
	Pending      int            `json:"pending"`
	Sending      int            `json:"sending"`
	Sent         int            `json:"sent"`
	Unread       int            `json:"unread"`
	Failed       int            `json:"failed"`
	Unknown      int            `json:"unknown"`
	Cancelled    int            `json:"cancelled"`
	OverQuota    int            `json:"over_quota"`
	FailedByCode map[string]int `json:"failed_by_code"`
}

// noticeView is a notice in the API.
type noticeView struct {
	ID             int64               `json:"id"`
	Title          string              `json:"title"`
	Body           string              `json:"body"`
	Status         notices.Status      `json:"status"`
	StatusLabel    string              `json:"status_label"`
	Audience       notices.Audience    `json:"audience"`
	AudienceLabel  string              `json:"audience_label"`
	Channel        string              `json:"channel,omitempty"`
	ChannelReason  string              `json:"channel_reason,omitempty"`
	AudienceSize   int                 `json:"audience_size"`
	ExcludedOptOut int                 `json:"excluded_optout"`
	ExcludedQuota  int                 `json:"excluded_quota"`
	PublishAt      *time.Time          `json:"publish_at,omitempty"`
	PublishedAt    *time.Time          `json:"published_at,omitempty"`
	FinishedAt     *time.Time          `json:"finished_at,omitempty"`
	CancelledAt    *time.Time          `json:"cancelled_at,omitempty"`
	Version        int                 `json:"version"`
	CreatedBy      string              `json:"created_by"`
	CreatedAt      time.Time           `json:"created_at"`
	Page           string              `json:"page"`
	Activity       *noticeActivityView `json:"activity,omitempty"`
	Delivery       *deliveryView       `json:"delivery,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func viewDelivery(d storage.NoticeDelivery) *deliveryView {
	v := &deliveryView{Total: d.Total, Pending: d.Pending, Sending: d.Sending, Sent: d.Sent, Unread: d.Unread,
		Failed: d.Failed, Unknown: d.Unknown, Cancelled: d.Cancelled, OverQuota: d.OverQuota,
		FailedByCode: map[string]int{}}
	for code, n := range d.FailedByCode {
		v.FailedByCode[strconv.Itoa(code)] = n
	}
	return v
}

func (s *Server) viewNotice(n storage.Notice, d *storage.NoticeDelivery) noticeView {
	v := noticeView{ID: n.ID, Title: n.Title, Body: n.Body, Status: n.Status, StatusLabel: n.Status.Label(),
		Audience: n.Audience, AudienceLabel: n.Audience.Describe(s.now().In(shanghai).Year()),
		Channel: string(n.Channel), ChannelReason: n.ChannelReason, AudienceSize: n.AudienceSize,
		ExcludedOptOut: n.ExcludedOptOut, ExcludedQuota: n.ExcludedQuota, PublishAt: optTime(n.PublishAt),
		PublishedAt: optTime(n.PublishedAt), FinishedAt: optTime(n.FinishedAt), CancelledAt: optTime(n.CancelledAt),
		Version: n.Version, CreatedBy: n.CreatedBy, CreatedAt: n.CreatedAt.UTC(), Page: notices.PagePath(n.ID)}
	if v.Audience.Units == nil {
		v.Audience.Units = []string{}
	}
	if v.Audience.Tags == nil {
		v.Audience.Tags = []string{}
	}
	if a := n.Activity; a != nil {
		v.Activity = &noticeActivityView{Number: a.Number, StartsAt: a.StartsAt.UTC(), Place: a.Place,
			Capacity: a.Capacity, Taken: a.Taken, SignupDeadline: a.SignupDeadline.UTC(), MembersOnly: a.MembersOnly,
			Waitlist: a.Waitlist}
	}
	if d != nil {
		v.Delivery = viewDelivery(*d)
	}
	return v
}

// noticeErr turns storage's notice errors into what the officer is told: the rule's own
// Chinese message for invalid content or audience, 409 for a status that does not allow it.
func noticeErr(err error) error {
	switch {
	case errors.Is(err, notices.ErrIllegal):
		return userErr(http.StatusConflict, "wrong_status", "通知当前的状态不允许这样操作（可能已发布、已取消或已发送完），请刷新后查看。")
	case errors.Is(err, storage.ErrInvalid), errors.Is(err, notices.ErrContent), errors.Is(err, notices.ErrAudience):
		return userErr(http.StatusUnprocessableEntity, "invalid_notice", ruleMessage(err))
	}
	return err
}

// ruleMessage is the last part of a wrapped rule error ("create notice: invalid: invalid
// notice: 请填写标题" → "请填写标题"): the package notices' message for people.
func ruleMessage(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	if msg == "" || msg == "invalid" {
		return "提交的内容无效，请检查后重试。"
	}
	return msg
}

// noticeInput checks a create request.
func (s *Server) noticeInput(b noticeBody, p auth.Principal) (storage.NoticeInput, error) {
	in := storage.NoticeInput{Title: b.Title, Body: b.Body, Audience: b.Audience, UnitID: p.UnitID, Actor: p.Actor()}
	if b.PublishAt != nil {
		in.PublishAt = b.PublishAt.UTC()
	}
	if a := b.Activity; a != nil {
		act := &notices.Activity{StartsAt: a.StartsAt.UTC(), Place: a.Place, Capacity: a.Capacity,
			MembersOnly: a.MembersOnly, Waitlist: a.Waitlist, RemindBefore: time.Duration(a.RemindBeforeMinutes) * time.Minute}
		if a.SignupDeadline != nil {
			act.SignupDeadline = a.SignupDeadline.UTC()
		}
		if a.RemindBeforeMinutes > 14*24*60 {
			return in, userErr(http.StatusUnprocessableEntity, "invalid_notice", "提醒最多提前14天。")
		}
		in.Activity = act
	}
	return in, nil
}

// noticeFor reads notice id for act, answering 404 for another unit's notice.
func (s *Server) noticeFor(r *http.Request, p auth.Principal, act auth.Action) (storage.Notice, error) {
	if !auth.Can(p, act) {
		return storage.Notice{}, auth.ErrForbidden
	}
	id, err := pathID(r)
	if err != nil {
		return storage.Notice{}, err
	}
	n, err := s.db.NoticeByID(r.Context(), id)
	if err != nil {
		return storage.Notice{}, err
	}
	if err := auth.Authorize(p, act, n.UnitID); err != nil {
		return storage.Notice{}, err
	}
	return n, nil
}

func (s *Server) writeNotice(w http.ResponseWriter, r *http.Request, status int, n storage.Notice) {
	var d *storage.NoticeDelivery
	if n.Status != notices.Draft && n.Status != notices.Scheduled {
		pr, err := s.db.NoticeProgress(r.Context(), n.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d = &pr
	}
	web.JSON(w, status, s.viewNotice(n, d))
}

func (s *Server) apiCreateNotice(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.PublishNotices, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	var b noticeBody
	if err := decodeBody(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	in, err := s.noticeInput(b, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	n, err := s.db.CreateNotice(r.Context(), in, s.auditFor(r, p))
	if err != nil {
		s.fail(w, r, noticeErr(err))
		return
	}
	s.writeNotice(w, r, http.StatusCreated, n)
}

// publishBody optionally forces the channel.
type publishBody struct {
	Channel notices.Channel `json:"channel"`
}

func (s *Server) apiPublishNotice(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	n, err := s.noticeFor(r, p, auth.PublishNotices)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b publishBody
	if err := decodeBody(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	if b.Channel != "" && b.Channel != notices.Mass && b.Channel != notices.Individual {
		s.fail(w, r, userErr(http.StatusUnprocessableEntity, "bad_channel", "发送方式只能是 mass（群发）或 individual（逐条发送）。"))
		return
	}
	n, err = s.db.PublishNotice(r.Context(), n.ID, storage.PublishOptions{Want: b.Channel, PublicURL: s.publicURL},
		s.auditFor(r, p))
	if err != nil {
		s.fail(w, r, noticeErr(err))
		return
	}
	s.writeNotice(w, r, http.StatusOK, n)
}

func (s *Server) apiCancelNotice(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	n, err := s.noticeFor(r, p, auth.PublishNotices)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	n, _, err = s.db.CancelNotice(r.Context(), n.ID, s.auditFor(r, p))
	if err != nil {
		s.fail(w, r, noticeErr(err))
		return
	}
	s.writeNotice(w, r, http.StatusOK, n)
}

func (s *Server) apiNotice(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	n, err := s.noticeFor(r, p, auth.ReadNotices)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeNotice(w, r, http.StatusOK, n)
}

// signupView is one sign-up in the API.
type signupView struct {
	ID          int64      `json:"id"`
	Status      string     `json:"status"`
	Position    int        `json:"position,omitempty"`
	Name        string     `json:"name"`
	Phone       string     `json:"phone"`
	MemberNo    string     `json:"member_no,omitempty"`
	Unit        string     `json:"unit,omitempty"`
	Guest       bool       `json:"guest"`
	QueuedAt    time.Time  `json:"queued_at"`
	CheckedInAt *time.Time `json:"checked_in_at,omitempty"`
}

func viewSignup(su storage.Signup) signupView {
	return signupView{ID: su.ID, Status: su.Status, Position: su.Position, Name: su.Name, Phone: su.Phone,
		MemberNo: su.MemberNo, Unit: su.Unit, Guest: su.MemberID == 0, QueuedAt: su.QueuedAt.UTC(),
		CheckedInAt: optTime(su.CheckedInAt)}
}

// activitySignups reads the activity of notice {id} and its sign-ups for act.
func (s *Server) activitySignups(r *http.Request, p auth.Principal, act auth.Action) (storage.Notice, []storage.Signup, error) {
	n, err := s.noticeFor(r, p, act)
	if err != nil {
		return n, nil, err
	}
	if n.Activity == nil {
		return n, nil, userErr(http.StatusNotFound, "not_activity", "这条通知不是活动，没有报名。")
	}
	sus, err := s.db.ActivitySignups(r.Context(), n.Activity.Number)
	return n, sus, err
}

func (s *Server) apiActivitySignups(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	n, sus, err := s.activitySignups(r, p, auth.ReadSignups)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]signupView, 0, len(sus))
	for _, su := range sus {
		items = append(items, viewSignup(su))
	}
	web.JSON(w, http.StatusOK, map[string]any{"items": items, "activity": s.viewNotice(n, nil).Activity})
}
