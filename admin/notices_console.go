package admin

// The notices and activities pages of the console (issue 10): the list, the editor with its
// audience preview (how many, who is left out and why, the month's mass quota, which channel
// and why), a notice's page (test send, publish, cancel, live delivery progress polled from
// GET /api/v1/notices/{id} by assets/progress.js), and an activity's sign-up list with
// check-in on the day and the XLSX export.

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"unionbot/admin/auth"
	"unionbot/notices"
	"unionbot/storage"
)

// noticeRowView is a notice in the list.
type noticeRowView struct {
	storage.Notice
	StatusLabel   string
	AudienceLabel string
}

type noticesPage struct {
	Items      []noticeRowView
	CanPublish bool
	Activities bool // only activities
}

func (s *Server) audienceLabel(a notices.Audience) string {
	return a.Describe(s.now().In(shanghai).Year())
}

func (s *Server) handleNotices(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ReadNotices, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	unit, _ := auth.UnitFilter(p, 0)
	ns, err := s.db.Notices(r.Context(), storage.NoticeQuery{UnitID: unit, Limit: 200})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := noticesPage{CanPublish: auth.Can(p, auth.PublishNotices), Activities: r.URL.Query().Get("kind") == "activity"}
	for _, n := range ns {
		if !auth.Sees(p, n.UnitID) || (d.Activities && n.Activity == nil) {
			continue
		}
		d.Items = append(d.Items, noticeRowView{Notice: n, StatusLabel: n.Status.Label(), AudienceLabel: s.audienceLabel(n.Audience)})
	}
	s.render(w, r, "notices", &pageData{Title: "通知与活动", Data: d})
}

// previewView is the audience preview the editor and a draft's page show.
type previewView struct {
	storage.AudiencePreview
	QuotaLeftOut bool // mass sending and some already had this month's four
}

type noticeEditor struct {
	Units   []storage.Unit
	Tags    []storage.WxTag
	Scoped  string // the officer's unit: the audience is kept within it
	Kinds   []kindOption
	Chosen  map[string]bool // units ticked
	Preview *previewView
}

type kindOption struct{ Value, Label string }

func (s *Server) editorData(r *http.Request, p auth.Principal, form url.Values) (noticeEditor, error) {
	d := noticeEditor{Scoped: p.UnitName, Chosen: map[string]bool{}}
	for _, u := range form["units"] {
		d.Chosen[u] = true
	}
	units, err := s.db.Units(r.Context())
	if err != nil {
		return d, err
	}
	for _, u := range units {
		if auth.Sees(p, u.ID) {
			d.Units = append(d.Units, u)
		}
	}
	kinds := []kindOption{{notices.AudienceBound, "已绑定的会员"}, {notices.AudienceUnits, "指定基层工会的会员"},
		{notices.AudienceEnrolled, "今年参加互助保障的会员"}}
	if p.CountyLevel() {
		kinds = append([]kindOption{{notices.AudienceAll, "全部关注者"}}, kinds...)
		kinds = append(kinds, kindOption{notices.AudienceTags, "带有微信标签的关注者"})
		if d.Tags, err = s.db.WxTags(r.Context()); err != nil {
			return d, err
		}
	}
	d.Kinds = kinds
	return d, nil
}

func (s *Server) handleNoticeEditor(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.PublishNotices, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.editorData(r, p, url.Values{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "notice_edit", &pageData{Title: "新建通知", Form: map[string]string{"kind": notices.AudienceBound, "capacity": "0"}, Data: d})
}

// parseLocal reads a datetime-local field in China time ("" is zero).
func parseLocal(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", v, shanghai)
	if err != nil {
		return time.Time{}, userErr(http.StatusUnprocessableEntity, "bad_time", "时间格式不对，请用日期时间选择器填写。")
	}
	return t.UTC(), nil
}

// noticeFromForm reads the editor's form.
func noticeFromForm(r *http.Request, p auth.Principal) (storage.NoticeInput, error) {
	f := r.PostForm
	in := storage.NoticeInput{Title: f.Get("title"), Body: f.Get("body"), UnitID: p.UnitID, Actor: p.Actor(),
		Audience: notices.Audience{Kind: f.Get("kind"), Units: f["units"]}}
	for _, t := range strings.FieldsFunc(f.Get("tags"), func(c rune) bool { return c == ',' || c == '，' || c == '、' }) {
		in.Audience.Tags = append(in.Audience.Tags, strings.TrimSpace(t))
	}
	var err error
	if in.PublishAt, err = parseLocal(f.Get("publish_at")); err != nil {
		return in, err
	}
	if f.Get("is_activity") != "" {
		a := &notices.Activity{Place: f.Get("place"), MembersOnly: f.Get("members_only") != "", Waitlist: f.Get("waitlist") != ""}
		if a.StartsAt, err = parseLocal(f.Get("starts_at")); err != nil {
			return in, err
		}
		if a.SignupDeadline, err = parseLocal(f.Get("signup_deadline")); err != nil {
			return in, err
		}
		if c := strings.TrimSpace(f.Get("capacity")); c != "" {
			if a.Capacity, err = strconv.Atoi(c); err != nil {
				return in, userErr(http.StatusUnprocessableEntity, "bad_capacity", "名额请填整数（0 表示不限）。")
			}
		}
		if h := strings.TrimSpace(f.Get("remind_hours")); h != "" {
			n, err := strconv.Atoi(h)
			if err != nil || n < 0 || n > 14*24 {
				return in, userErr(http.StatusUnprocessableEntity, "bad_remind", "提前提醒请填 0 到 336 之间的小时数（0 表示不提醒）。")
			}
			a.RemindBefore = time.Duration(n) * time.Hour
			if n == 0 {
				a.RemindBefore = -1
			}
		}
		in.Activity = a
	}
	return in, nil
}

func formMap(f url.Values) map[string]string {
	m := map[string]string{}
	for k, v := range f {
		if k != "csrf" && len(v) > 0 {
			m[k] = v[0]
		}
	}
	return m
}

func (s *Server) preview(r *http.Request, a notices.Audience, unit int64, want notices.Channel) (*previewView, error) {
	pv, err := s.db.PreviewAudience(r.Context(), a, unit, want)
	if err != nil {
		return nil, err
	}
	return &previewView{AudiencePreview: pv, QuotaLeftOut: pv.Choice.Channel == notices.Mass && pv.OverQuota > 0}, nil
}

// handleCreateNotice previews the audience (op=preview) or saves the draft.
func (s *Server) handleCreateNotice(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.PublishNotices, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	in, err := noticeFromForm(r, p)
	d, derr := s.editorData(r, p, r.PostForm)
	if derr != nil {
		s.fail(w, r, derr)
		return
	}
	if err == nil && r.PostFormValue("op") == "preview" {
		d.Preview, err = s.preview(r, in.Audience, p.UnitID, "")
		if err == nil {
			s.render(w, r, "notice_edit", &pageData{Title: "新建通知", Form: formMap(r.PostForm), Data: d})
			return
		}
	}
	var n storage.Notice
	if err == nil {
		n, err = s.db.CreateNotice(r.Context(), in, s.auditFor(r, p))
	}
	if err != nil {
		if he := classify(noticeErr(err)); he != nil && he.status < 500 {
			s.renderStatus(w, r, he.status, "notice_edit", &pageData{Title: "新建通知", Error: he.msg, Form: formMap(r.PostForm), Data: d})
			return
		}
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, "草稿已保存。请核对下面的发送预览，可以先试发给自己，再发布。", noticeURL(n.ID))
}

func noticeURL(id int64) string { return fmt.Sprintf("/admin/notices/%d", id) }

type noticePage struct {
	N             storage.Notice
	StatusLabel   string
	AudienceLabel string
	Preview       *previewView
	Delivery      *deliveryView
	FailedCodes   []codeCount
	CanPublish    bool
	CanSignups    bool
	Live          bool // still sending: the page polls the progress
	PublicPath    string
}

type codeCount struct {
	Code  string
	Count int
}

// errcodeLabels explain WeChat's errcodes an officer meets in delivery.
var errcodeLabels = map[string]string{
	"43004": "对方已取消关注",
	"40003": "openid 无效",
	"43101": "对方拒收订阅消息",
	"45015": "超过48小时未互动",
	"45047": "客服消息条数超限",
	"45028": "群发次数已用完",
	"-1":    "微信系统繁忙",
}

func (s *Server) noticePageData(r *http.Request, p auth.Principal, n storage.Notice) (noticePage, error) {
	d := noticePage{N: n, StatusLabel: n.Status.Label(), AudienceLabel: s.audienceLabel(n.Audience),
		CanPublish: auth.Can(p, auth.PublishNotices), CanSignups: auth.Can(p, auth.ReadSignups) && n.Activity != nil,
		Live: n.Status == notices.Sending, PublicPath: notices.PagePath(n.ID)}
	if n.Status.Editable() {
		pv, err := s.preview(r, n.Audience, n.UnitID, n.Channel)
		if err != nil {
			return d, err
		}
		d.Preview = pv
	} else {
		pr, err := s.db.NoticeProgress(r.Context(), n.ID)
		if err != nil {
			return d, err
		}
		d.Delivery = viewDelivery(pr)
		for code, k := range d.Delivery.FailedByCode {
			label := code
			if l, ok := errcodeLabels[code]; ok {
				label = code + " " + l
			}
			d.FailedCodes = append(d.FailedCodes, codeCount{Code: label, Count: k})
		}
	}
	return d, nil
}

// noticeOf reads notice {id} for act in the console.
func (s *Server) noticeOf(w http.ResponseWriter, r *http.Request, p auth.Principal, act auth.Action) (storage.Notice, bool) {
	n, err := s.noticeFor(r, p, act)
	if err != nil {
		s.fail(w, r, err)
		return n, false
	}
	return n, true
}

func (s *Server) renderNotice(w http.ResponseWriter, r *http.Request, p auth.Principal, n storage.Notice, status int, msg string) {
	d, err := s.noticePageData(r, p, n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderStatus(w, r, status, "notice", &pageData{Title: n.Title, Error: msg, Data: d})
}

func (s *Server) handleNotice(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if n, ok := s.noticeOf(w, r, p, auth.ReadNotices); ok {
		s.renderNotice(w, r, p, n, http.StatusOK, "")
	}
}

// noticeAction runs a write on notice {id} and answers with a flash, or the page with
// the officer's error.
func (s *Server) noticeAction(w http.ResponseWriter, r *http.Request, p auth.Principal, do func(storage.Notice) (string, error)) {
	n, ok := s.noticeOf(w, r, p, auth.PublishNotices)
	if !ok {
		return
	}
	msg, err := do(n)
	if err != nil {
		if he := classify(noticeErr(err)); he != nil && he.status < 500 && he.status != http.StatusNotFound {
			if fresh, ferr := s.db.NoticeByID(r.Context(), n.ID); ferr == nil {
				n = fresh
			}
			s.renderNotice(w, r, p, n, he.status, he.msg)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, msg, noticeURL(n.ID))
}

func (s *Server) handlePublishNotice(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.noticeAction(w, r, p, func(n storage.Notice) (string, error) {
		want := notices.Channel(r.PostFormValue("channel"))
		if want != notices.Mass && want != notices.Individual {
			want = ""
		}
		n, err := s.db.PublishNotice(r.Context(), n.ID, storage.PublishOptions{Want: want, PublicURL: s.publicURL}, s.auditFor(r, p))
		if err != nil {
			return "", err
		}
		if n.Status == notices.Scheduled {
			return "已定时，将于 " + n.PublishAt.In(shanghai).Format("2006-01-02 15:04") + " 发布。", nil
		}
		return fmt.Sprintf("已发布，正在发送给 %d 人。", n.AudienceSize), nil
	})
}

func (s *Server) handleCancelNotice(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.noticeAction(w, r, p, func(n storage.Notice) (string, error) {
		_, stopped, err := s.db.CancelNotice(r.Context(), n.ID, s.auditFor(r, p))
		if err != nil {
			return "", err
		}
		if stopped > 0 {
			return fmt.Sprintf("已取消，%d 条还没发出的消息不再发送（已发出的无法撤回）。", stopped), nil
		}
		return "已取消。", nil
	})
}

func (s *Server) handleTestSendNotice(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.noticeAction(w, r, p, func(n storage.Notice) (string, error) {
		openID := strings.TrimSpace(r.PostFormValue("openid"))
		if openID == "" {
			return "", userErr(http.StatusUnprocessableEntity, "openid_required", "请填写试发对象的 openid（可在会员详情里看到已绑定会员的 openid）。")
		}
		if err := s.db.TestSendNotice(r.Context(), n.ID, openID, s.publicURL, s.auditFor(r, p)); err != nil {
			return "", err
		}
		return "已试发，请在微信里查看。", nil
	})
}

// ---- activities ----

type signupsPage struct {
	N          storage.Notice
	Signups    []storage.Signup
	Confirmed  int
	Waiting    int
	CheckedIn  int
	CanCheckIn bool
	Today      bool // the activity is today (China time): check-in is shown first
}

func (s *Server) handleSignups(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	n, sus, err := s.activitySignups(r, p, auth.ReadSignups)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := signupsPage{N: n, Signups: sus, CanCheckIn: auth.Can(p, auth.CheckInActivity)}
	for _, su := range sus {
		switch su.Status {
		case storage.SignupConfirmed:
			d.Confirmed++
			if !su.CheckedInAt.IsZero() {
				d.CheckedIn++
			}
		case storage.SignupWaiting:
			d.Waiting++
		}
	}
	d.Today = n.Activity.StartsAt.In(shanghai).Format("2006-01-02") == s.now().In(shanghai).Format("2006-01-02")
	s.render(w, r, "signups", &pageData{Title: "报名名单 · " + n.Title, Data: d})
}

func (s *Server) handleCheckIn(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	n, err := s.noticeFor(r, p, auth.CheckInActivity)
	if err == nil && n.Activity == nil {
		err = errNotFound
	}
	var sid int64
	if err == nil {
		if sid, err = strconv.ParseInt(r.PathValue("sid"), 10, 64); err != nil {
			err = errNotFound
		}
	}
	present := r.PostFormValue("present") != "0"
	if err == nil {
		err = s.db.CheckIn(r.Context(), n.Activity.Number, sid, present, s.auditFor(r, p))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msg := "已签到。"
	if !present {
		msg = "已撤销签到。"
	}
	s.flashRedirect(w, r, msg, noticeURL(n.ID)+"/signups#s"+strconv.FormatInt(sid, 10))
}

var signupStatusLabels = map[string]string{
	storage.SignupConfirmed: "已报名",
	storage.SignupWaiting:   "候补",
	storage.SignupCancelled: "已取消",
}

// handleSignupsXLSX exports the sign-ups (for the distribution list on the day).
func (s *Server) handleSignupsXLSX(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	n, sus, err := s.activitySignups(r, p, auth.ReadSignups)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "报名名单"
	_ = f.SetSheetName("Sheet1", sheet)
	rows := [][]any{{"序号", "姓名", "手机号", "会员编号", "所属工会", "状态", "候补顺序", "报名时间", "签到时间"}}
	for i, su := range sus {
		pos := ""
		if su.Position > 0 {
			pos = strconv.Itoa(su.Position)
		}
		checked := ""
		if !su.CheckedInAt.IsZero() {
			checked = su.CheckedInAt.In(shanghai).Format("2006-01-02 15:04")
		}
		member := su.MemberNo
		if su.MemberID == 0 {
			member = "（非会员）"
		}
		rows = append(rows, []any{i + 1, su.Name, su.Phone, member, su.Unit, signupStatusLabels[su.Status], pos,
			su.QueuedAt.In(shanghai).Format("2006-01-02 15:04"), checked})
	}
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	_ = f.SetColWidth(sheet, "B", "C", 14)
	_ = f.SetColWidth(sheet, "E", "E", 18)
	_ = f.SetColWidth(sheet, "H", "I", 18)
	name := fmt.Sprintf("报名名单-活动%d.xlsx", n.Activity.Number)
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", "attachment; filename=\"signups.xlsx\"; filename*=UTF-8''"+url.PathEscape(name))
	if err := f.Write(w); err != nil {
		s.fail(w, r, err)
	}
}
