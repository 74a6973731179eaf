package storage

// Notices: what officers publish to followers and members (DESIGN §11). A notice is
// written as a draft, published now or at a scheduled time, and its messages go out
// through the outbox: a mass broadcast in batches of ≤ 10,000 openids (EnqueueMass) or one
// row per person for small audiences, enqueued in the transaction that moves the notice to
// sending. Every outbox key of notice 12 starts with "notice:12#" (mass batches
// "notice:12#1", personal rows "notice:12#o:<openid>"), which is how progress is counted
// and how a cancel finds the rows still waiting. The state machine and the channel choice
// are package notices'.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"unionbot/notices"
)

// Notice is a stored notice, with its activity details when it announces one.
type Notice struct {
	ID             int64
	Title          string
	Body           string
	Audience       notices.Audience
	UnitID         int64 // the publishing officer's unit (0: county level); scopes who sees it
	Status         notices.Status
	Channel        notices.Channel // chosen at publishing
	ChannelReason  string
	AudienceSize   int // recipients enqueued
	ExcludedOptOut int // left out at publishing: sent 退订 or unfollowed
	ExcludedQuota  int // expected over this month's mass quota at publishing
	PublishAt      time.Time
	PublishedAt    time.Time
	FinishedAt     time.Time
	CancelledAt    time.Time
	Version        int
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Activity       *Activity
}

// Activity is the sign-up part of a notice.
type Activity struct {
	notices.Activity
	// Number is the activity's own number in chat (活动 N, 报名 N); stable.
	Number     int64
	NoticeID   int64
	Taken      int // confirmed places
	RemindedAt time.Time
}

// NoticeInput is what an officer writes.
type NoticeInput struct {
	Title, Body string
	Audience    notices.Audience
	Activity    *notices.Activity
	PublishAt   time.Time // zero: publish when asked
	UnitID      int64     // the officer's unit: the audience is kept within it
	Actor       string
}

type noticeRow struct {
	ID             int64          `db:"id"`
	Title          string         `db:"title"`
	Body           string         `db:"body"`
	AudienceKind   string         `db:"audience_kind"`
	AudienceUnits  string         `db:"audience_units"`
	AudienceTags   string         `db:"audience_tags"`
	UnitID         sql.NullInt64  `db:"unit_id"`
	Status         string         `db:"status"`
	Channel        string         `db:"channel"`
	ChannelReason  string         `db:"channel_reason"`
	AudienceSize   int            `db:"audience_size"`
	ExcludedOptOut int            `db:"excluded_optout"`
	ExcludedQuota  int            `db:"excluded_quota"`
	PublishAt      sql.NullTime   `db:"publish_at"`
	PublishedAt    sql.NullTime   `db:"published_at"`
	FinishedAt     sql.NullTime   `db:"finished_at"`
	CancelledAt    sql.NullTime   `db:"cancelled_at"`
	Version        int            `db:"version"`
	CreatedBy      string         `db:"created_by"`
	CreatedAt      time.Time      `db:"created_at"`
	UpdatedAt      time.Time      `db:"updated_at"`
	Number         sql.NullInt64  `db:"number"`
	StartsAt       sql.NullTime   `db:"starts_at"`
	Place          sql.NullString `db:"place"`
	Capacity       sql.NullInt64  `db:"capacity"`
	Taken          sql.NullInt64  `db:"taken"`
	SignupDeadline sql.NullTime   `db:"signup_deadline"`
	MembersOnly    sql.NullBool   `db:"members_only"`
	Waitlist       sql.NullBool   `db:"waitlist"`
	RemindBefore   sql.NullInt64  `db:"remind_before_min"`
	RemindedAt     sql.NullTime   `db:"reminded_at"`
}

const noticeCols = `n.id, n.title, n.body, n.audience_kind, n.audience_units, n.audience_tags, n.unit_id, n.status,
 n.channel, n.channel_reason, n.audience_size, n.excluded_optout, n.excluded_quota, n.publish_at, n.published_at,
 n.finished_at, n.cancelled_at, n.version, n.created_by, n.created_at, n.updated_at,
 a.number, a.starts_at, a.place, a.capacity, a.taken, a.signup_deadline, a.members_only, a.waitlist,
 a.remind_before_min, a.reminded_at
 FROM notices n LEFT JOIN activities a ON a.notice_id = n.id`

func (r noticeRow) toNotice() (Notice, error) {
	n := Notice{
		ID: r.ID, Title: r.Title, Body: r.Body, UnitID: r.UnitID.Int64, Status: notices.Status(r.Status),
		Channel: notices.Channel(r.Channel), ChannelReason: r.ChannelReason, AudienceSize: r.AudienceSize,
		ExcludedOptOut: r.ExcludedOptOut, ExcludedQuota: r.ExcludedQuota, PublishAt: timeOf(r.PublishAt),
		PublishedAt: timeOf(r.PublishedAt), FinishedAt: timeOf(r.FinishedAt), CancelledAt: timeOf(r.CancelledAt),
		Version: r.Version, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		Audience: notices.Audience{Kind: r.AudienceKind},
	}
	if err := json.Unmarshal([]byte(r.AudienceUnits), &n.Audience.Units); err != nil {
		return Notice{}, fmt.Errorf("notice %d units: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.AudienceTags), &n.Audience.Tags); err != nil {
		return Notice{}, fmt.Errorf("notice %d tags: %w", r.ID, err)
	}
	if r.Number.Valid {
		n.Activity = &Activity{
			Number: r.Number.Int64, NoticeID: r.ID, Taken: int(r.Taken.Int64), RemindedAt: timeOf(r.RemindedAt),
			Activity: notices.Activity{
				StartsAt: timeOf(r.StartsAt), Place: r.Place.String, Capacity: int(r.Capacity.Int64),
				SignupDeadline: timeOf(r.SignupDeadline), MembersOnly: r.MembersOnly.Bool, Waitlist: r.Waitlist.Bool,
				RemindBefore: time.Duration(r.RemindBefore.Int64) * time.Minute,
			},
		}
	}
	return n, nil
}

// ErrNoticeState is returned (wrapping notices.ErrIllegal) when the notice's status does
// not allow what was asked (publishing a cancelled notice, cancelling a finished one).
var ErrNoticeState = notices.ErrIllegal

// CreateNotice stores a draft notice (and its activity) with its audit row.
func (db *DB) CreateNotice(ctx context.Context, in NoticeInput, audit AuditEntry) (Notice, error) {
	title, body, err := notices.CheckContent(in.Title, in.Body)
	if err != nil {
		return Notice{}, fmt.Errorf("create notice: %w: %w", ErrInvalid, err)
	}
	aud, err := in.Audience.Check()
	if err != nil {
		return Notice{}, fmt.Errorf("create notice: %w: %w", ErrInvalid, err)
	}
	if err := db.scopeAudience(aud, in.UnitID); err != nil {
		return Notice{}, err
	}
	now := db.now()
	var act notices.Activity
	if in.Activity != nil {
		if act, err = in.Activity.Check(now); err != nil {
			return Notice{}, fmt.Errorf("create notice: %w: %w", ErrInvalid, err)
		}
	}
	if !in.PublishAt.IsZero() && !in.PublishAt.After(now) {
		in.PublishAt = time.Time{} // a time already past means now
	}
	units, _ := json.Marshal(aud.Units)
	tags, _ := json.Marshal(aud.Tags)
	var id int64
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		if aud.Kind == notices.AudienceUnits {
			if err := checkUnitNames(ctx, tx, aud.Units); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO notices (title, body, audience_kind, audience_units, audience_tags,
 unit_id, status, publish_at, version, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`,
			title, body, aud.Kind, string(units), string(tags), nullID(in.UnitID), notices.Draft, nullTime(in.PublishAt),
			clip(in.Actor, 100), now, now)
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if in.Activity != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO activities (notice_id, starts_at, place, capacity, taken,
 signup_deadline, members_only, waitlist, remind_before_min) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?)`,
				id, utc(act.StartsAt), act.Place, act.Capacity, utc(act.SignupDeadline), act.MembersOnly, act.Waitlist,
				int64(act.RemindBefore/time.Minute)); err != nil {
				return err
			}
		}
		audit.Action, audit.Subject = "notice.create", fmt.Sprintf("notice:%d", id)
		audit.After = map[string]string{"title": title, "audience": aud.Describe(now.In(chinaTime).Year())}
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return Notice{}, fmt.Errorf("create notice: %w", err)
	}
	return db.NoticeByID(ctx, id)
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// scopeAudience keeps a unit officer's notice within the unit: followers at large and
// WeChat tags reach beyond it, and units are only their own.
func (db *DB) scopeAudience(a notices.Audience, unit int64) error {
	if unit == 0 {
		return nil
	}
	if a.Kind == notices.AudienceAll || a.Kind == notices.AudienceTags {
		return fmt.Errorf("%w: %w: 基层工会的干部只能向本单位的会员发布通知", ErrInvalid, notices.ErrAudience)
	}
	return nil
}

func checkUnitNames(ctx context.Context, q sqlx.QueryerContext, names []string) error {
	query, args, err := sqlx.In(`SELECT name FROM units WHERE name IN (?)`, names)
	if err != nil {
		return err
	}
	var found []string
	if err := sqlx.SelectContext(ctx, q, &found, query, args...); err != nil {
		return err
	}
	for _, n := range names {
		if !slices.Contains(found, n) {
			return fmt.Errorf("%w: %w: 没有名为“%s”的基层工会", ErrInvalid, notices.ErrAudience, n)
		}
	}
	return nil
}

// NoticeByID returns a notice, or ErrNotFound.
func (db *DB) NoticeByID(ctx context.Context, id int64) (Notice, error) {
	return db.noticeOn(ctx, db.r, id)
}

func (db *DB) noticeOn(ctx context.Context, q sqlx.QueryerContext, id int64) (Notice, error) {
	var r noticeRow
	if err := sqlx.GetContext(ctx, q, &r, `SELECT `+noticeCols+` WHERE n.id = ?`, id); err != nil {
		return Notice{}, fmt.Errorf("notice %d: %w", id, mapErr(err))
	}
	return r.toNotice()
}

// NoticeQuery filters the notices list.
type NoticeQuery struct {
	UnitID   int64 // only this unit's notices (0: all)
	Status   notices.Status
	BeforeID int64 // newest first: ids below this
	Limit    int
}

// Notices lists notices, newest first.
func (db *DB) Notices(ctx context.Context, q NoticeQuery) ([]Notice, error) {
	where, args := []string{"1 = 1"}, []any{}
	if q.UnitID != 0 {
		where, args = append(where, "n.unit_id = ?"), append(args, q.UnitID)
	}
	if q.Status != "" {
		where, args = append(where, "n.status = ?"), append(args, q.Status)
	}
	if q.BeforeID > 0 {
		where, args = append(where, "n.id < ?"), append(args, q.BeforeID)
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 50
	}
	var rs []noticeRow
	if err := db.r.SelectContext(ctx, &rs, `SELECT `+noticeCols+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY n.id DESC LIMIT `+strconv.Itoa(q.Limit), args...); err != nil {
		return nil, fmt.Errorf("notices: %w", err)
	}
	out := make([]Notice, 0, len(rs))
	for _, r := range rs {
		n, err := r.toNotice()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// ---- audience ----

// AudiencePreview is who a notice would reach if it were published now.
type AudiencePreview struct {
	Matched    int             // people the audience names
	OptedOut   int             // of them, sent 退订
	Unfollowed int             // of them, known to have unfollowed
	Size       int             // Matched minus the two above: messages to enqueue
	OverQuota  int             // of Size, already had this month's 4 mass messages
	Choice     notices.Choice  // the channel publishing would take, and why
	Month      string          // the quota month ("2026-03", China time)
	Want       notices.Channel // the channel asked for ("" for the automatic choice)
}

// audienceOpenIDs lists the openids a (resolved within unit scope) names, before the
// exclusions, sorted and without duplicates.
func (db *DB) audienceOpenIDs(ctx context.Context, q sqlx.QueryerContext, a notices.Audience, scope int64) ([]string, error) {
	var (
		query string
		args  []any
		err   error
	)
	members := `SELECT m.open_id FROM members m WHERE m.open_id IS NOT NULL AND m.status = '` + StatusActive + `'`
	if scope != 0 {
		members += ` AND m.unit_id = ` + strconv.FormatInt(scope, 10)
	}
	switch a.Kind {
	case notices.AudienceAll:
		if scope != 0 {
			return nil, fmt.Errorf("%w: unit-scoped notice to all followers", ErrInvalid)
		}
		query = `SELECT open_id FROM followers WHERE subscribed = 1 UNION ` + members
	case notices.AudienceBound:
		query = members
	case notices.AudienceUnits:
		query, args, err = sqlx.In(members+` AND m.unit_id IN (SELECT id FROM units WHERE name IN (?))`, a.Units)
	case notices.AudienceEnrolled:
		query = members + ` AND EXISTS (SELECT 1 FROM mutual_aid_enrollments e WHERE e.member_id = m.id AND e.year = ?)`
		args = []any{db.now().In(chinaTime).Year()}
	case notices.AudienceTags:
		if scope != 0 {
			return nil, fmt.Errorf("%w: unit-scoped notice to tags", ErrInvalid)
		}
		query, args, err = sqlx.In(`SELECT DISTINCT ft.open_id FROM follower_tags ft JOIN wx_tags t ON t.id = ft.tag_id
 WHERE t.name IN (?)`, a.Tags)
	default:
		return nil, fmt.Errorf("%w: audience kind %q", ErrInvalid, a.Kind)
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	if err := sqlx.SelectContext(ctx, q, &ids, query, args...); err != nil {
		return nil, fmt.Errorf("audience %s: %w", a.Kind, err)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// excluded returns the followers no notice reaches: opted out, and unfollowed.
func excluded(ctx context.Context, q sqlx.QueryerContext) (optedOut, gone map[string]bool, err error) {
	var a, b []string
	if err := sqlx.SelectContext(ctx, q, &a, `SELECT open_id FROM notice_optouts`); err != nil {
		return nil, nil, err
	}
	if err := sqlx.SelectContext(ctx, q, &b, `SELECT open_id FROM followers WHERE subscribed = 0`); err != nil {
		return nil, nil, err
	}
	optedOut, gone = make(map[string]bool, len(a)), make(map[string]bool, len(b))
	for _, o := range a {
		optedOut[o] = true
	}
	for _, o := range b {
		gone[o] = true
	}
	return optedOut, gone, nil
}

// reach is an audience after the exclusions.
type reach struct {
	to                   []string
	matched              int
	optedOut, unfollowed int
}

func (db *DB) reachOf(ctx context.Context, q sqlx.QueryerContext, a notices.Audience, scope int64) (reach, error) {
	ids, err := db.audienceOpenIDs(ctx, q, a, scope)
	if err != nil {
		return reach{}, err
	}
	out, gone, err := excluded(ctx, q)
	if err != nil {
		return reach{}, fmt.Errorf("audience exclusions: %w", err)
	}
	r := reach{matched: len(ids), to: make([]string, 0, len(ids))}
	for _, o := range ids {
		switch {
		case gone[o]:
			r.unfollowed++
		case out[o]:
			r.optedOut++
		default:
			r.to = append(r.to, o)
		}
	}
	return r, nil
}

// PreviewAudience counts who audience a would reach now (within unit scope, 0 for the
// county), how many are left out and why, and which channel publishing would take.
func (db *DB) PreviewAudience(ctx context.Context, a notices.Audience, scope int64, want notices.Channel) (AudiencePreview, error) {
	a, err := a.Check()
	if err != nil {
		return AudiencePreview{}, fmt.Errorf("preview: %w: %w", ErrInvalid, err)
	}
	if err := db.scopeAudience(a, scope); err != nil {
		return AudiencePreview{}, err
	}
	r, err := db.reachOf(ctx, db.r, a, scope)
	if err != nil {
		return AudiencePreview{}, fmt.Errorf("preview: %w", err)
	}
	month := massMonth(db.now())
	used, err := db.MassQuotaUsed(ctx, month, r.to)
	if err != nil {
		return AudiencePreview{}, fmt.Errorf("preview: %w", err)
	}
	p := AudiencePreview{Matched: r.matched, OptedOut: r.optedOut, Unfollowed: r.unfollowed, Size: len(r.to),
		Month: month, Want: want}
	for _, n := range used {
		if n >= MassMonthlyQuota {
			p.OverQuota++
		}
	}
	p.Choice = notices.ChooseChannel(p.Size, p.OverQuota, want)
	return p, nil
}

// massMonth is the quota month of t in China ("2026-03"), as the delivery workers count it.
func massMonth(t time.Time) string { return t.In(chinaTime).Format("2006-01") }

// ---- publishing ----

// PublishOptions say how to publish.
type PublishOptions struct {
	// Want forces a channel; "" lets notices.ChooseChannel decide.
	Want notices.Channel
	// PublicURL is UNIONBOT_PUBLIC_URL, for the link to the full text.
	PublicURL string
}

// PublishNotice publishes a draft: scheduled when its publish time is still ahead,
// otherwise sent now — its messages enqueued in the same transaction that moves it to
// sending. A scheduled notice is sent by PublishDue. Publishing twice is refused
// (ErrNoticeState).
func (db *DB) PublishNotice(ctx context.Context, id int64, o PublishOptions, audit AuditEntry) (Notice, error) {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		n, err := db.lockNotice(ctx, tx, id)
		if err != nil {
			return err
		}
		if n.Activity != nil && !n.Activity.StartsAt.After(db.now()) {
			return fmt.Errorf("%w: %w: 活动开始时间已经过去", ErrInvalid, notices.ErrContent)
		}
		if !n.PublishAt.IsZero() && n.PublishAt.After(db.now()) {
			if _, err := notices.Next(n.Status, notices.Schedule); err != nil {
				return err
			}
			if err := db.setStatus(ctx, tx, n, notices.Scheduled, "channel = ?", o.Want); err != nil {
				return err
			}
			audit.Action, audit.Subject = "notice.schedule", fmt.Sprintf("notice:%d", id)
			audit.After = map[string]string{"status": string(notices.Scheduled), "publish_at": n.PublishAt.Format(time.RFC3339)}
			return db.auditTx(ctx, tx, audit)
		}
		if err := db.send(ctx, tx, n, o); err != nil {
			return err
		}
		audit.Action, audit.Subject = "notice.publish", fmt.Sprintf("notice:%d", id)
		audit.After = map[string]string{"status": string(notices.Sending)}
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return Notice{}, fmt.Errorf("publish notice %d: %w", id, err)
	}
	return db.NoticeByID(ctx, id)
}

// lockNotice reads the notice for a change in tx; the row is locked on MySQL (the
// embedded database's transaction is the lock).
func (db *DB) lockNotice(ctx context.Context, tx *sqlx.Tx, id int64) (Notice, error) {
	q := `SELECT ` + noticeCols + ` WHERE n.id = ?`
	if db.mysql() {
		q += ` FOR UPDATE`
	}
	var r noticeRow
	if err := tx.GetContext(ctx, &r, q, id); err != nil {
		return Notice{}, fmt.Errorf("notice %d: %w", id, mapErr(err))
	}
	return r.toNotice()
}

// setStatus moves n to status, with extra "col = ?" assignments.
func (db *DB) setStatus(ctx context.Context, tx *sqlx.Tx, n Notice, to notices.Status, extra string, args ...any) error {
	q := `UPDATE notices SET status = ?, version = version + 1, updated_at = ?`
	if extra != "" {
		q += ", " + extra
	}
	all := append([]any{to, db.now()}, args...)
	all = append(all, n.ID, n.Version)
	res, err := tx.ExecContext(ctx, q+` WHERE id = ? AND version = ?`, all...)
	if err != nil {
		return err
	}
	if k, err := res.RowsAffected(); err != nil || k != 1 {
		return errors.Join(err, ErrConflict)
	}
	return nil
}

// send enqueues n's messages in tx and moves it to sending.
func (db *DB) send(ctx context.Context, tx *sqlx.Tx, n Notice, o PublishOptions) error {
	if _, err := notices.Next(n.Status, notices.Publish); err != nil {
		return err
	}
	r, err := db.reachOf(ctx, tx, n.Audience, n.UnitID)
	if err != nil {
		return err
	}
	month := massMonth(db.now())
	used, err := quotaUsedOn(ctx, tx, month, r.to)
	if err != nil {
		return err
	}
	over := 0
	for _, u := range used {
		if u >= MassMonthlyQuota {
			over++
		}
	}
	choice := notices.ChooseChannel(len(r.to), over, o.Want)
	var act *notices.Activity
	var number int64
	if n.Activity != nil {
		act, number = &n.Activity.Activity, n.Activity.Number
	}
	text := notices.MessageText(n.ID, n.Title, n.Body, act, number, o.PublicURL)
	key := fmt.Sprintf("notice:%d", n.ID)
	if choice.Channel == notices.Mass {
		plan, err := db.EnqueueMass(ctx, tx, MassMessage{Key: key, Kind: "notice", Text: text, OpenIDs: r.to})
		if err != nil {
			return err
		}
		r.to = r.to[:plan.Recipients]
	} else {
		over = 0
		unread := "【" + n.Title + "】回复“活动”查看详情"
		if n.Activity == nil {
			unread = "【" + n.Title + "】" + notices.Excerpt(n.Body, 40)
		}
		for _, oid := range r.to {
			if _, err := db.insertOutbox(ctx, tx, OutboxMessage{Key: key + "#o:" + oid, Kind: "notice", OpenID: oid,
				Content: OutboxContent{Text: text, Unread: unread, Link: notices.PagePath(n.ID)}}, false, 1); err != nil {
				return err
			}
		}
	}
	now := db.now()
	return db.setStatus(ctx, tx, n, notices.Sending,
		`channel = ?, channel_reason = ?, audience_size = ?, excluded_optout = ?, excluded_quota = ?, published_at = ?`,
		choice.Channel, clip(choice.Reason, 255), len(r.to), r.optedOut+r.unfollowed, over, now)
}

func quotaUsedOn(ctx context.Context, q sqlx.QueryerContext, month string, ids []string) (map[string]int, error) {
	type row struct {
		OpenID string `db:"open_id"`
		Used   int    `db:"used"`
	}
	out := map[string]int{}
	for part := range slices.Chunk(ids, 1000) {
		query, args, err := sqlx.In(`SELECT open_id, used FROM mass_quota WHERE month = ? AND open_id IN (?)`, month, part)
		if err != nil {
			return nil, err
		}
		var rs []row
		if err := sqlx.SelectContext(ctx, q, &rs, query, args...); err != nil {
			return nil, fmt.Errorf("mass quota: %w", err)
		}
		for _, r := range rs {
			out[r.OpenID] = r.Used
		}
	}
	return out, nil
}

// PublishDue sends the scheduled notices whose time has come (by the injected clock), each
// in its own transaction; several replicas may run it at once (the version check lets one
// win). It returns the ids it sent.
func (db *DB) PublishDue(ctx context.Context, publicURL string) ([]int64, error) {
	var ids []int64
	if err := db.r.SelectContext(ctx, &ids, `SELECT id FROM notices WHERE status = ? AND publish_at <= ? ORDER BY publish_at, id`,
		notices.Scheduled, db.now()); err != nil {
		return nil, fmt.Errorf("due notices: %w", err)
	}
	var sent []int64
	for _, id := range ids {
		err := db.inTx(ctx, func(tx *sqlx.Tx) error {
			n, err := db.lockNotice(ctx, tx, id)
			if err != nil {
				return err
			}
			if n.Status != notices.Scheduled {
				return nil // another replica was first
			}
			if err := db.send(ctx, tx, n, PublishOptions{Want: n.Channel, PublicURL: publicURL}); err != nil {
				return err
			}
			sent = append(sent, id)
			return db.audit(ctx, tx, "system", "notice.publish", fmt.Sprintf("notice:%d", id), "定时发布")
		})
		if err != nil && !errors.Is(err, ErrConflict) {
			return sent, fmt.Errorf("publish due notice %d: %w", id, err)
		}
	}
	return sent, nil
}

// CancelNotice calls a notice off: a draft or scheduled one sends nothing, a sending one
// has its waiting messages cancelled in the same transaction (those already with WeChat
// cannot be called back). It reports how many messages it stopped.
func (db *DB) CancelNotice(ctx context.Context, id int64, audit AuditEntry) (Notice, int64, error) {
	var stopped int64
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		n, err := db.lockNotice(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := notices.Next(n.Status, notices.Cancel); err != nil {
			return err
		}
		now := db.now()
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'cancelled', updated_at = ? WHERE dedup_key LIKE ? AND state = 'pending'`,
			now, fmt.Sprintf("notice:%d#%%", id))
		if err != nil {
			return err
		}
		if stopped, err = res.RowsAffected(); err != nil {
			return err
		}
		if err := db.setStatus(ctx, tx, n, notices.Cancelled, "cancelled_at = ?", now); err != nil {
			return err
		}
		audit.Action, audit.Subject = "notice.cancel", fmt.Sprintf("notice:%d", id)
		audit.Before = map[string]string{"status": string(n.Status)}
		audit.After = map[string]string{"status": string(notices.Cancelled), "stopped": strconv.FormatInt(stopped, 10)}
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return Notice{}, 0, fmt.Errorf("cancel notice %d: %w", id, err)
	}
	n, err := db.NoticeByID(ctx, id)
	return n, stopped, err
}

// FinishNotices marks done the sending notices none of whose messages is waiting or
// being sent any more; it returns how many it finished.
func (db *DB) FinishNotices(ctx context.Context) (int, error) {
	var ids []int64
	if err := db.r.SelectContext(ctx, &ids, `SELECT id FROM notices WHERE status = ?`, notices.Sending); err != nil {
		return 0, fmt.Errorf("finish notices: %w", err)
	}
	done := 0
	for _, id := range ids {
		var open int
		if err := db.r.GetContext(ctx, &open, `SELECT COUNT(*) FROM outbox WHERE dedup_key LIKE ? AND state IN ('pending', 'sending')`,
			fmt.Sprintf("notice:%d#%%", id)); err != nil {
			return done, fmt.Errorf("finish notice %d: %w", id, err)
		}
		if open > 0 {
			continue
		}
		res, err := db.w.ExecContext(ctx, `UPDATE notices SET status = ?, finished_at = ?, version = version + 1, updated_at = ?
 WHERE id = ? AND status = ?`, notices.Done, db.now(), db.now(), id, notices.Sending)
		if err != nil {
			return done, fmt.Errorf("finish notice %d: %w", id, err)
		}
		if k, _ := res.RowsAffected(); k == 1 {
			done++
		}
	}
	return done, nil
}

// TestSendNotice sends the notice's message to one chosen follower (the officer's own
// WeChat) before publishing; it goes as a personal message and spends no quota.
func (db *DB) TestSendNotice(ctx context.Context, id int64, openID, publicURL string, audit AuditEntry) error {
	openID = strings.TrimSpace(openID)
	if openID == "" {
		return fmt.Errorf("test send: %w: no openid", ErrInvalid)
	}
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		n, err := db.noticeOn(ctx, tx, id)
		if err != nil {
			return err
		}
		var act *notices.Activity
		var number int64
		if n.Activity != nil {
			act, number = &n.Activity.Activity, n.Activity.Number
		}
		text := "【测试】" + notices.MessageText(n.ID, n.Title, n.Body, act, number, publicURL)
		key := fmt.Sprintf("notice-test:%d:%s:%d", id, openID, db.now().UnixNano())
		if _, err := db.insertOutbox(ctx, tx, OutboxMessage{Key: clip(key, 191), Kind: "notice", OpenID: openID,
			Content: OutboxContent{Text: text, Link: notices.PagePath(id)}}, false, 1); err != nil {
			return err
		}
		audit.Action, audit.Subject, audit.Detail = "notice.test_send", fmt.Sprintf("notice:%d", id), "试发给 "+openID
		return db.auditTx(ctx, tx, audit)
	})
}

// ---- progress ----

// NoticeDelivery is a notice's delivery progress, counted in people (a mass batch counts
// its recipients).
type NoticeDelivery struct {
	Total, Pending, Sending, Sent, Unread, Failed, Unknown, Cancelled int
	// OverQuota are recipients of sent batches WeChat's monthly limit left out.
	OverQuota    int
	FailedByCode map[int]int
	Batches      int // outbox rows
}

// NoticeProgress counts notice id's messages by state.
func (db *DB) NoticeProgress(ctx context.Context, id int64) (NoticeDelivery, error) {
	type row struct {
		State     string         `db:"state"`
		Mass      bool           `db:"mass"`
		ErrCode   int            `db:"err_code"`
		Content   string         `db:"content"`
		OverQuota sql.NullString `db:"over_quota"`
		N         int            `db:"n"`
	}
	d := NoticeDelivery{FailedByCode: map[int]int{}}
	prefix := fmt.Sprintf("notice:%d#%%", id)
	var rs []row
	if err := db.r.SelectContext(ctx, &rs, `SELECT state, mass, err_code, '' AS content, NULL AS over_quota, COUNT(*) AS n
 FROM outbox WHERE dedup_key LIKE ? AND mass = 0 GROUP BY state, mass, err_code`, prefix); err != nil {
		return d, fmt.Errorf("notice %d progress: %w", id, err)
	}
	var ms []row
	if err := db.r.SelectContext(ctx, &ms, `SELECT state, mass, err_code, content, over_quota, 1 AS n
 FROM outbox WHERE dedup_key LIKE ? AND mass = 1`, prefix); err != nil {
		return d, fmt.Errorf("notice %d progress: %w", id, err)
	}
	for _, m := range ms {
		var c OutboxContent
		if err := json.Unmarshal([]byte(m.Content), &c); err != nil {
			return d, fmt.Errorf("notice %d batch: %w", id, err)
		}
		var oq []string
		if m.OverQuota.Valid && m.OverQuota.String != "" {
			_ = json.Unmarshal([]byte(m.OverQuota.String), &oq)
		}
		d.Batches++
		d.OverQuota += len(oq)
		rs = append(rs, row{State: m.State, Mass: true, ErrCode: m.ErrCode, N: len(c.OpenIDs) - len(oq)})
	}
	for _, r := range rs {
		if !r.Mass {
			d.Batches += r.N
		}
		d.Total += r.N
		switch r.State {
		case OutboxPending:
			d.Pending += r.N
		case OutboxSending:
			d.Sending += r.N
		case OutboxSent:
			d.Sent += r.N
		case OutboxUnread:
			d.Unread += r.N
		case OutboxFailed:
			d.Failed += r.N
			d.FailedByCode[r.ErrCode] += r.N
		case OutboxUnknown:
			d.Unknown += r.N
		case OutboxCancelled:
			d.Cancelled += r.N
		}
	}
	d.Total += d.OverQuota
	return d, nil
}
