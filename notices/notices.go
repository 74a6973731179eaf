// Package notices holds the pure rules of activity notices: the notice's
// state machine as one transition table, who a notice is for (the audience
// and how an officer reads it), which channel carries it and why, the
// activity details and the text members receive. Storage, the console and
// the chat use it alike; it knows no database and no WeChat.
package notices

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Status is where a notice is in its life.
type Status string

// Notice statuses (DESIGN §11): draft → scheduled → sending → done, and
// cancelled from any state before done.
const (
	Draft     Status = "draft"
	Scheduled Status = "scheduled"
	Sending   Status = "sending"
	Done      Status = "done"
	Cancelled Status = "cancelled"
)

// Event is what moves a notice.
type Event string

// Events of the state machine.
const (
	// Schedule: the officer published with a time in the future.
	Schedule Event = "schedule"
	// Publish: its messages are enqueued (now, or the scheduled time came).
	Publish Event = "publish"
	// Finish: no message of it is waiting or being sent any more.
	Finish Event = "finish"
	// Cancel: the officer called it off; waiting messages are cancelled.
	Cancel Event = "cancel"
	// Unschedule: a scheduled notice goes back to draft for changes.
	Unschedule Event = "unschedule"
)

// transitions is the one table of the notice's state machine.
var transitions = map[Status]map[Event]Status{
	Draft:     {Schedule: Scheduled, Publish: Sending, Cancel: Cancelled},
	Scheduled: {Publish: Sending, Cancel: Cancelled, Unschedule: Draft},
	Sending:   {Finish: Done, Cancel: Cancelled},
}

// ErrIllegal is returned for an event the notice's status does not allow.
var ErrIllegal = errors.New("illegal notice transition")

// Next returns the status ev leads to from s, or ErrIllegal.
func Next(s Status, ev Event) (Status, error) {
	if to, ok := transitions[s][ev]; ok {
		return to, nil
	}
	return "", fmt.Errorf("%w: %s on a %s notice", ErrIllegal, ev, s)
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case Draft, Scheduled, Sending, Done, Cancelled:
		return true
	}
	return false
}

// Label is how the console shows the status.
func (s Status) Label() string {
	switch s {
	case Draft:
		return "草稿"
	case Scheduled:
		return "定时待发"
	case Sending:
		return "发送中"
	case Done:
		return "已发完"
	case Cancelled:
		return "已取消"
	}
	return string(s)
}

// Editable reports whether the notice's content and audience may still change.
func (s Status) Editable() bool { return s == Draft || s == Scheduled }

// ---- audience ----

// Audience kinds (DESIGN §11).
const (
	AudienceAll      = "all"      // every follower
	AudienceBound    = "bound"    // members who bound their WeChat
	AudienceUnits    = "units"    // bound members of the given units
	AudienceEnrolled = "enrolled" // bound members enrolled in mutual aid this year
	AudienceTags     = "tags"     // followers with any of the given WeChat tags
)

// Audience is who a notice is for. Units and Tags hold names as officers
// know them; storage resolves them to ids.
type Audience struct {
	Kind  string   `json:"kind"`
	Units []string `json:"units"`
	Tags  []string `json:"tags"`
}

// ErrAudience is wrapped by Audience.Check's errors.
var ErrAudience = errors.New("invalid audience")

// Check validates a and returns it normalised (names trimmed, duplicates
// and lists the kind does not use dropped).
func (a Audience) Check() (Audience, error) {
	out := Audience{Kind: strings.TrimSpace(a.Kind), Units: []string{}, Tags: []string{}}
	switch out.Kind {
	case AudienceAll, AudienceBound, AudienceEnrolled:
	case AudienceUnits:
		out.Units = clean(a.Units)
		if len(out.Units) == 0 {
			return Audience{}, fmt.Errorf("%w: 请至少选择一个基层工会", ErrAudience)
		}
	case AudienceTags:
		out.Tags = clean(a.Tags)
		if len(out.Tags) == 0 {
			return Audience{}, fmt.Errorf("%w: 请至少选择一个标签", ErrAudience)
		}
	default:
		return Audience{}, fmt.Errorf("%w: 发送对象只能是 all、bound、units、enrolled 或 tags", ErrAudience)
	}
	return out, nil
}

func clean(in []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// MembersOnly reports whether the audience is made of bound members (rather
// than followers).
func (a Audience) MembersOnly() bool {
	return a.Kind == AudienceBound || a.Kind == AudienceUnits || a.Kind == AudienceEnrolled
}

// Describe says in Chinese who the audience is, for the console and the audit.
func (a Audience) Describe(year int) string {
	switch a.Kind {
	case AudienceAll:
		return "全部关注者"
	case AudienceBound:
		return "已绑定的会员"
	case AudienceUnits:
		return strings.Join(a.Units, "、") + "的已绑定会员"
	case AudienceEnrolled:
		return fmt.Sprintf("%d年度参加互助保障的已绑定会员", year)
	case AudienceTags:
		return "带有标签“" + strings.Join(a.Tags, "”“") + "”的关注者"
	}
	return a.Kind
}

// ---- channel ----

// Channel is how a notice's messages go out.
type Channel string

// Channels.
const (
	// Mass is WeChat's mass sending by openid list (群发): up to 10,000 a
	// batch, counted against each follower's 4 a month.
	Mass Channel = "mass"
	// Individual is one message per person through the delivery pipeline
	// (customer service within 48 h, else the unread list).
	Individual Channel = "individual"
)

// IndividualMax is the largest audience sent one by one: small enough that
// per-person sends are quick, and sparing the followers' monthly quota of
// four mass messages for broadcasts that need it.
const IndividualMax = 20

// Choice is the channel chosen for a notice and the reason, in Chinese, the
// officer sees before publishing.
type Choice struct {
	Channel Channel
	Reason  string
}

// ChooseChannel picks the channel for an audience of size people (after
// opt-outs), overQuota of whom already had this month's four mass messages.
// want forces a channel ("" chooses).
func ChooseChannel(size, overQuota int, want Channel) Choice {
	if size == 0 {
		return Choice{Channel: Individual, Reason: "没有可发送的对象：请检查发送范围（退订和已取消关注的人不会收到）。"}
	}
	individual := Choice{Channel: Individual, Reason: fmt.Sprintf(
		"受众%d人，逐条发送：不占用每人每月4次的群发次数；48小时内与公众号有过互动的人会立即收到，其余的人下次进入公众号时看到。", size)}
	if size == 1 {
		individual.Reason = "只有1人，逐条发送（群发至少需要2人）。"
		return individual
	}
	mass := Choice{Channel: Mass, Reason: fmt.Sprintf(
		"受众%d人，使用群发：每人每月最多收到4条群发消息。", size)}
	if overQuota > 0 {
		mass.Reason += fmt.Sprintf("本月已收满4条的%d人这次收不到，会在发送进度里列出。", overQuota)
	}
	switch want {
	case Mass:
		mass.Reason = "按您的选择使用群发。" + mass.Reason
		return mass
	case Individual:
		individual.Reason = "按您的选择逐条发送。" + individual.Reason
		return individual
	}
	if size <= IndividualMax {
		return individual
	}
	return mass
}

// ---- content ----

// Limits of a notice's text.
const (
	MaxTitle = 64
	MaxBody  = 5000
	MaxPlace = 100
)

// ErrContent is wrapped by CheckContent's errors.
var ErrContent = errors.New("invalid notice")

// CheckContent validates a title and body and returns them trimmed.
func CheckContent(title, body string) (string, string, error) {
	title, body = strings.TrimSpace(title), strings.TrimSpace(body)
	switch {
	case title == "":
		return "", "", fmt.Errorf("%w: 请填写标题", ErrContent)
	case utf8.RuneCountInString(title) > MaxTitle:
		return "", "", fmt.Errorf("%w: 标题最多%d个字", ErrContent, MaxTitle)
	case strings.ContainsAny(title, "\r\n"):
		return "", "", fmt.Errorf("%w: 标题不能换行", ErrContent)
	case body == "":
		return "", "", fmt.Errorf("%w: 请填写正文", ErrContent)
	case utf8.RuneCountInString(body) > MaxBody:
		return "", "", fmt.Errorf("%w: 正文最多%d个字", ErrContent, MaxBody)
	}
	return title, body, nil
}

// Activity is the sign-up part of a notice that announces an activity.
type Activity struct {
	StartsAt time.Time
	Place    string
	// Capacity is the number of places; 0 means no limit.
	Capacity int
	// SignupDeadline ends sign-ups; zero means the start time.
	SignupDeadline time.Time
	// MembersOnly asks followers to bind their membership before signing up;
	// otherwise a non-member gives a name and phone once.
	MembersOnly bool
	// Waitlist keeps people who sign up when it is full in a queue; a place
	// freed goes to the first of them.
	Waitlist bool
	// RemindBefore is how long before the start the signed-up get a
	// reminder; 0 means DefaultRemind, negative means none.
	RemindBefore time.Duration
}

// DefaultRemind is the reminder lead time when the officer sets none.
const DefaultRemind = 24 * time.Hour

// Check validates an activity created at now and fills in defaults.
func (a Activity) Check(now time.Time) (Activity, error) {
	a.Place = strings.TrimSpace(a.Place)
	switch {
	case a.StartsAt.IsZero():
		return Activity{}, fmt.Errorf("%w: 请填写活动开始时间", ErrContent)
	case !a.StartsAt.After(now):
		return Activity{}, fmt.Errorf("%w: 活动开始时间已经过去", ErrContent)
	case a.Place == "":
		return Activity{}, fmt.Errorf("%w: 请填写活动地点", ErrContent)
	case utf8.RuneCountInString(a.Place) > MaxPlace:
		return Activity{}, fmt.Errorf("%w: 地点最多%d个字", ErrContent, MaxPlace)
	case a.Capacity < 0 || a.Capacity > 100000:
		return Activity{}, fmt.Errorf("%w: 名额应在0到100000之间（0表示不限）", ErrContent)
	case !a.SignupDeadline.IsZero() && a.SignupDeadline.After(a.StartsAt):
		return Activity{}, fmt.Errorf("%w: 报名截止时间不能晚于活动开始时间", ErrContent)
	}
	if a.SignupDeadline.IsZero() {
		a.SignupDeadline = a.StartsAt
	}
	if a.RemindBefore == 0 {
		a.RemindBefore = DefaultRemind
	}
	if a.Capacity == 0 {
		a.Waitlist = false
	}
	return a, nil
}

// ChinaTime is the union's clock for what members read (no DST in China).
var ChinaTime = time.FixedZone("CST", 8*3600)

// When shows a time the way members read it: 11月3日（周二）14:30.
func When(t time.Time) string {
	t = t.In(ChinaTime)
	week := []string{"日", "一", "二", "三", "四", "五", "六"}[t.Weekday()]
	return fmt.Sprintf("%d月%d日（周%s）%02d:%02d", t.Month(), t.Day(), week, t.Hour(), t.Minute())
}

// PagePath is the public page of notice id (GET /n/{id}).
func PagePath(id int64) string { return fmt.Sprintf("/n/%d", id) }

// MessageText is the text a follower receives for a notice: the title, the
// start of the body, the activity's time and place, and the link to the
// full text (publicURL + /n/id; left out when publicURL is empty).
func MessageText(id int64, title, body string, act *Activity, number int64, publicURL string) string {
	var b strings.Builder
	b.WriteString("【" + title + "】\n")
	b.WriteString(Excerpt(body, 120))
	if act != nil {
		b.WriteString("\n\n时间：" + When(act.StartsAt))
		b.WriteString("\n地点：" + act.Place)
		if act.Capacity > 0 {
			fmt.Fprintf(&b, "\n名额：%d人", act.Capacity)
		}
		fmt.Fprintf(&b, "\n报名：回复“报名 %d”", number)
	}
	if publicURL != "" {
		b.WriteString("\n\n全文：" + strings.TrimRight(publicURL, "/") + PagePath(id))
	}
	b.WriteString("\n\n回复“退订”不再接收通知。")
	return b.String()
}

// Excerpt is the first n characters of s on one paragraph, with … when cut.
func Excerpt(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n])) + "…"
}
