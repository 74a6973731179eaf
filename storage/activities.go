package storage

// Activities and their sign-ups. An activity is a notice with activity details; its chat
// number (活动 N, 报名 N) is the activities row's own key, stable once given. Places are
// taken atomically: a sign-up runs one conditional UPDATE (taken = taken + 1 WHERE taken <
// capacity) before it writes the sign-up row, so however many people sign up at once, no
// more than capacity are confirmed — on MySQL the row lock of that UPDATE orders them, on
// the embedded database the single writer does. Cancelling a confirmed place gives it to
// the first on the waiting list (when the officer enabled one) in the same transaction,
// with a message to them through the outbox.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"unionbot/notices"
)

// Sign-up statuses.
const (
	SignupConfirmed = "confirmed"
	SignupWaiting   = "waiting"
	SignupCancelled = "cancelled"
)

// Errors of sign-ups; callers test them with errors.Is.
var (
	ErrActivityFull   = errors.New("activity full")
	ErrSignupClosed   = errors.New("sign-up closed")
	ErrAlreadySigned  = errors.New("already signed up")
	ErrNotSignedUp    = errors.New("not signed up")
	ErrActivityClosed = errors.New("activity not open") // cancelled, not published, or over
)

// SignupIn is one person signing up: a bound member (MemberID) or a guest with a name and
// phone (an open activity).
type SignupIn struct {
	OpenID     string
	MemberID   int64
	GuestName  string
	GuestPhone string
}

// Signup is a stored sign-up, with the person's name and phone decrypted (a member's from
// the roster, a guest's as given) for the officers' list.
type Signup struct {
	ID          int64
	ActivityNo  int64
	OpenID      string
	MemberID    int64
	MemberNo    string
	Name        string
	Phone       string
	Unit        string
	Status      string
	Position    int // place in the waiting list (1 = next), for waiting sign-ups
	QueuedAt    time.Time
	CheckedInAt time.Time
}

// SignupResult says what SignUp did.
type SignupResult struct {
	Status   string // SignupConfirmed or SignupWaiting
	Position int    // in the waiting list
	Activity Notice
}

// ActivityByNumber returns the notice of the activity with chat number n, or ErrNotFound.
func (db *DB) ActivityByNumber(ctx context.Context, n int64) (Notice, error) {
	return db.activityOn(ctx, db.r, n)
}

func (db *DB) activityOn(ctx context.Context, q sqlx.QueryerContext, n int64) (Notice, error) {
	var r noticeRow
	if err := sqlx.GetContext(ctx, q, &r, `SELECT `+noticeCols+` WHERE a.number = ?`, n); err != nil {
		return Notice{}, fmt.Errorf("activity %d: %w", n, mapErr(err))
	}
	return r.toNotice()
}

// Published reports whether a notice has gone out (so its activity is open in chat).
func (n Notice) Published() bool {
	return n.Status == notices.Sending || n.Status == notices.Done
}

// UpcomingActivities lists published activities that have not started, soonest first.
func (db *DB) UpcomingActivities(ctx context.Context, limit int) ([]Notice, error) {
	if limit <= 0 || limit > 200 {
		limit = 20
	}
	var rs []noticeRow
	if err := db.r.SelectContext(ctx, &rs, `SELECT `+noticeCols+` WHERE a.starts_at > ? AND n.status IN (?, ?)
 ORDER BY a.starts_at, a.number LIMIT `+strconv.Itoa(limit), db.now(), notices.Sending, notices.Done); err != nil {
		return nil, fmt.Errorf("upcoming activities: %w", err)
	}
	return noticesOf(rs)
}

func noticesOf(rs []noticeRow) ([]Notice, error) {
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

// SignUp signs in.OpenID up for activity number: confirmed while places last, then on
// the waiting list when the activity has one, else ErrActivityFull. ErrSignupClosed after
// the deadline, ErrActivityClosed when the activity is not open, ErrAlreadySigned (with
// the current status in the result) when they are already in.
func (db *DB) SignUp(ctx context.Context, number int64, in SignupIn) (SignupResult, error) {
	if in.OpenID == "" {
		return SignupResult{}, fmt.Errorf("sign up: %w: no openid", ErrInvalid)
	}
	var res SignupResult
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		res = SignupResult{}
		now := db.now()
		n, err := db.activityOn(ctx, tx, number)
		if err != nil {
			return err
		}
		res.Activity = n
		a := n.Activity
		switch {
		case !n.Published() || !a.StartsAt.After(now):
			return ErrActivityClosed
		case now.After(a.SignupDeadline):
			return ErrSignupClosed
		}
		var prev struct {
			ID     int64  `db:"id"`
			Status string `db:"status"`
		}
		err = tx.GetContext(ctx, &prev, `SELECT id, status FROM activity_signups WHERE activity_no = ? AND open_id = ?`, number, in.OpenID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			prev.ID = 0
		case err != nil:
			return err
		case prev.Status != SignupCancelled:
			res.Status = prev.Status
			return ErrAlreadySigned
		}
		// The place first: this UPDATE is the lock that orders concurrent sign-ups.
		q := `UPDATE activities SET taken = taken + 1 WHERE number = ? AND (capacity = 0 OR taken < capacity)`
		r, err := tx.ExecContext(ctx, q, number)
		if err != nil {
			return err
		}
		got, err := r.RowsAffected()
		if err != nil {
			return err
		}
		res.Status = SignupConfirmed
		if got == 0 {
			if !a.Waitlist {
				return ErrActivityFull
			}
			res.Status = SignupWaiting
		}
		var nameEnc, phoneEnc string
		if in.MemberID == 0 {
			if nameEnc, err = db.cipher.Encrypt(in.GuestName); err != nil {
				return err
			}
			if phoneEnc, err = db.cipher.Encrypt(in.GuestPhone); err != nil {
				return err
			}
		}
		if prev.ID == 0 {
			_, err = tx.ExecContext(ctx, `INSERT INTO activity_signups (activity_no, open_id, member_id, guest_name_enc,
 guest_phone_enc, status, queued_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				number, in.OpenID, nullID(in.MemberID), nameEnc, phoneEnc, res.Status, now, now, now)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE activity_signups SET member_id = ?, guest_name_enc = ?, guest_phone_enc = ?,
 status = ?, queued_at = ?, checked_in_at = NULL, updated_at = ? WHERE id = ?`,
				nullID(in.MemberID), nameEnc, phoneEnc, res.Status, now, now, prev.ID)
		}
		if err != nil {
			if isUniqueViolation(err) {
				res.Status = SignupConfirmed
				return ErrAlreadySigned
			}
			return err
		}
		if in.MemberID == 0 {
			if err := db.saveGuestContact(ctx, tx, in.OpenID, nameEnc, phoneEnc); err != nil {
				return err
			}
		}
		if res.Status == SignupWaiting {
			if err := tx.GetContext(ctx, &res.Position, `SELECT COUNT(*) FROM activity_signups
 WHERE activity_no = ? AND status = 'waiting'`, number); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("sign up for activity %d: %w", number, err)
	}
	return res, nil
}

// CancelResult says what CancelSignup did.
type CancelResult struct {
	Was      string // the sign-up's status before
	Activity Notice
	// Promoted is the openid of the waiting person who got the freed place ("" when none).
	Promoted string
}

// CancelSignup cancels openID's sign-up for activity number. A freed place goes to the
// first on the waiting list, who is told through the outbox (publicURL for the link), in
// the same transaction. ErrNotSignedUp when there is nothing to cancel.
func (db *DB) CancelSignup(ctx context.Context, number int64, openID string) (CancelResult, error) {
	var res CancelResult
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		res = CancelResult{}
		now := db.now()
		// Lock the activity row first, as SignUp does, so the two never deadlock.
		if _, err := tx.ExecContext(ctx, `UPDATE activities SET taken = taken WHERE number = ?`, number); err != nil {
			return err
		}
		n, err := db.activityOn(ctx, tx, number)
		if err != nil {
			return err
		}
		res.Activity = n
		var s struct {
			ID     int64  `db:"id"`
			Status string `db:"status"`
		}
		if err := tx.GetContext(ctx, &s, `SELECT id, status FROM activity_signups WHERE activity_no = ? AND open_id = ?`,
			number, openID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotSignedUp
			}
			return err
		}
		if s.Status == SignupCancelled {
			return ErrNotSignedUp
		}
		if !n.Activity.StartsAt.After(now) {
			return ErrActivityClosed
		}
		res.Was = s.Status
		if _, err := tx.ExecContext(ctx, `UPDATE activity_signups SET status = 'cancelled', updated_at = ? WHERE id = ?`,
			now, s.ID); err != nil {
			return err
		}
		if s.Status != SignupConfirmed {
			return nil
		}
		var next struct {
			ID     int64  `db:"id"`
			OpenID string `db:"open_id"`
		}
		err = tx.GetContext(ctx, &next, `SELECT id, open_id FROM activity_signups WHERE activity_no = ? AND status = 'waiting'
 ORDER BY queued_at, id LIMIT 1`, number)
		if errors.Is(err, sql.ErrNoRows) {
			_, err = tx.ExecContext(ctx, `UPDATE activities SET taken = taken - 1 WHERE number = ? AND taken > 0`, number)
			return err
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE activity_signups SET status = 'confirmed', updated_at = ? WHERE id = ?`,
			now, next.ID); err != nil {
			return err
		}
		res.Promoted = next.OpenID
		title := n.Title
		text := fmt.Sprintf("您候补的活动“%s”有名额空出，已为您报名成功。\n时间：%s\n地点：%s\n不能参加请回复“取消报名 %d”，把名额让给别人。",
			title, notices.When(n.Activity.StartsAt), n.Activity.Place, number)
		_, err = db.insertOutbox(ctx, tx, OutboxMessage{
			Key: fmt.Sprintf("activity:%d:promoted:%d:%d", number, next.ID, now.UnixNano()), Kind: "activity",
			OpenID: next.OpenID, Service: true,
			Content: OutboxContent{Text: text, Unread: "候补成功：" + title,
				Fields: map[string]string{"title": title, "status": "候补成功", "time": notices.When(n.Activity.StartsAt)},
				Link:   notices.PagePath(n.ID)},
		}, false, 1)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("cancel sign-up for activity %d: %w", number, err)
	}
	return res, nil
}

// MySignup is one of a person's sign-ups with its activity.
type MySignup struct {
	Status   string
	Position int
	Activity Notice
}

// SignupsOf lists openID's sign-ups (not cancelled) for activities that have not ended a
// day ago, soonest first.
func (db *DB) SignupsOf(ctx context.Context, openID string) ([]MySignup, error) {
	type row struct {
		noticeRow
		SignupStatus string    `db:"signup_status"`
		QueuedAt     time.Time `db:"queued_at"`
	}
	var rs []row
	if err := db.r.SelectContext(ctx, &rs, `SELECT s.status AS signup_status, s.queued_at, `+noticeCols+`
 JOIN activity_signups s ON s.activity_no = a.number
 WHERE s.open_id = ? AND s.status <> 'cancelled' AND a.starts_at > ? ORDER BY a.starts_at, a.number`,
		openID, db.now().Add(-24*time.Hour)); err != nil {
		return nil, fmt.Errorf("sign-ups of %s: %w", openID, err)
	}
	out := make([]MySignup, 0, len(rs))
	for _, r := range rs {
		n, err := r.toNotice()
		if err != nil {
			return nil, err
		}
		m := MySignup{Status: r.SignupStatus, Activity: n}
		if r.SignupStatus == SignupWaiting {
			if err := db.r.GetContext(ctx, &m.Position, `SELECT COUNT(*) FROM activity_signups WHERE activity_no = ?
 AND status = 'waiting' AND queued_at <= ?`, n.Activity.Number, r.QueuedAt); err != nil {
				return nil, err
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// ActivitySignups lists the sign-ups of activity number (cancelled ones too, last),
// confirmed first in the order they came, then the waiting list.
func (db *DB) ActivitySignups(ctx context.Context, number int64) ([]Signup, error) {
	type row struct {
		ID          int64          `db:"id"`
		OpenID      string         `db:"open_id"`
		MemberID    sql.NullInt64  `db:"member_id"`
		GuestName   string         `db:"guest_name_enc"`
		GuestPhone  string         `db:"guest_phone_enc"`
		Status      string         `db:"status"`
		QueuedAt    time.Time      `db:"queued_at"`
		CheckedInAt sql.NullTime   `db:"checked_in_at"`
		MemberNo    sql.NullString `db:"member_no"`
		NameEnc     sql.NullString `db:"name_enc"`
		PhoneEnc    sql.NullString `db:"phone_enc"`
		Unit        sql.NullString `db:"unit"`
	}
	var rs []row
	if err := db.r.SelectContext(ctx, &rs, `SELECT s.id, s.open_id, s.member_id, s.guest_name_enc, s.guest_phone_enc, s.status,
 s.queued_at, s.checked_in_at, m.member_no, m.name_enc, m.phone_enc, u.name AS unit
 FROM activity_signups s LEFT JOIN members m ON m.id = s.member_id LEFT JOIN units u ON u.id = m.unit_id
 WHERE s.activity_no = ?
 ORDER BY CASE s.status WHEN 'confirmed' THEN 0 WHEN 'waiting' THEN 1 ELSE 2 END, s.queued_at, s.id`, number); err != nil {
		return nil, fmt.Errorf("sign-ups of activity %d: %w", number, err)
	}
	out := make([]Signup, 0, len(rs))
	waiting := 0
	for _, r := range rs {
		s := Signup{ID: r.ID, ActivityNo: number, OpenID: r.OpenID, MemberID: r.MemberID.Int64, MemberNo: r.MemberNo.String,
			Unit: r.Unit.String, Status: r.Status, QueuedAt: r.QueuedAt.UTC(), CheckedInAt: timeOf(r.CheckedInAt)}
		nameEnc, phoneEnc := r.GuestName, r.GuestPhone
		if r.MemberID.Valid {
			nameEnc, phoneEnc = r.NameEnc.String, r.PhoneEnc.String
		}
		var err error
		if s.Name, err = db.decrypt(nameEnc); err != nil {
			return nil, fmt.Errorf("sign-up %d name: %w", r.ID, err)
		}
		if s.Phone, err = db.decrypt(phoneEnc); err != nil {
			return nil, fmt.Errorf("sign-up %d phone: %w", r.ID, err)
		}
		if s.Status == SignupWaiting {
			waiting++
			s.Position = waiting
		}
		out = append(out, s)
	}
	return out, nil
}

// CheckIn marks sign-up id of activity number as present (on the day), or clears it.
func (db *DB) CheckIn(ctx context.Context, number, id int64, present bool, audit AuditEntry) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		at := sql.NullTime{}
		if present {
			at = sql.NullTime{Time: db.now(), Valid: true}
		}
		res, err := tx.ExecContext(ctx, `UPDATE activity_signups SET checked_in_at = ?, updated_at = ?
 WHERE id = ? AND activity_no = ? AND status = 'confirmed'`, at, db.now(), id, number)
		if err != nil {
			return err
		}
		if k, err := res.RowsAffected(); err != nil || k == 0 {
			return errors.Join(err, fmt.Errorf("check in sign-up %d: %w", id, ErrNotFound))
		}
		audit.Action, audit.Subject = "activity.checkin", fmt.Sprintf("activity:%d", number)
		audit.After = map[string]string{"signup": strconv.FormatInt(id, 10), "present": strconv.FormatBool(present)}
		return db.auditTx(ctx, tx, audit)
	})
}

// ---- reminders ----

// maxRemindLead bounds how far ahead reminders are looked for.
const maxRemindLead = 14 * 24 * time.Hour

// SendActivityReminders enqueues the reminders of activities whose reminder time has come
// (start − lead ≤ now < start), one service notification per confirmed sign-up, and marks
// each activity reminded in the same transaction, so an activity is reminded once however
// many replicas run this. It returns how many reminders it enqueued.
func (db *DB) SendActivityReminders(ctx context.Context) (int, error) {
	now := db.now()
	var rs []noticeRow
	if err := db.r.SelectContext(ctx, &rs, `SELECT `+noticeCols+` WHERE a.reminded_at IS NULL AND a.starts_at > ?
 AND a.starts_at <= ? AND a.remind_before_min > 0 AND n.status IN (?, ?)`,
		now, now.Add(maxRemindLead), notices.Sending, notices.Done); err != nil {
		return 0, fmt.Errorf("due reminders: %w", err)
	}
	ns, err := noticesOf(rs)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, n := range ns {
		a := n.Activity
		if now.Before(a.StartsAt.Add(-a.RemindBefore)) {
			continue
		}
		err := db.inTx(ctx, func(tx *sqlx.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE activities SET reminded_at = ? WHERE number = ? AND reminded_at IS NULL`, now, a.Number)
			if err != nil {
				return err
			}
			if k, err := res.RowsAffected(); err != nil || k == 0 {
				return err // another replica reminded it
			}
			type row struct {
				ID       int64         `db:"id"`
				OpenID   string        `db:"open_id"`
				MemberID sql.NullInt64 `db:"member_id"`
			}
			var ss []row
			if err := tx.SelectContext(ctx, &ss, `SELECT id, open_id, member_id FROM activity_signups
 WHERE activity_no = ? AND status = 'confirmed' ORDER BY id`, a.Number); err != nil {
				return err
			}
			when := notices.When(a.StartsAt)
			text := fmt.Sprintf("活动提醒：您报名的“%s”将于%s开始。\n地点：%s\n不能参加请回复“取消报名 %d”。", n.Title, when, a.Place, a.Number)
			for _, s := range ss {
				if _, err := db.insertOutbox(ctx, tx, OutboxMessage{
					Key: fmt.Sprintf("activity:%d:remind:%d", a.Number, s.ID), Kind: "reminder", OpenID: s.OpenID, Service: true,
					Content: OutboxContent{Text: text, Unread: "活动提醒：" + n.Title + "，" + when,
						Fields: map[string]string{"title": n.Title, "time": when, "place": a.Place, "status": "即将开始"},
						Link:   notices.PagePath(n.ID)},
				}, false, 1); err != nil {
					return err
				}
				total++
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("remind activity %d: %w", a.Number, err)
		}
	}
	return total, nil
}

// ---- guests ----

// GuestContact is the name and phone a non-member gave for open activities.
type GuestContact struct {
	Name, Phone string
}

// GuestContactOf returns what openID gave before, or ErrNotFound.
func (db *DB) GuestContactOf(ctx context.Context, openID string) (GuestContact, error) {
	var r struct {
		Name  string `db:"name_enc"`
		Phone string `db:"phone_enc"`
	}
	if err := db.r.GetContext(ctx, &r, `SELECT name_enc, phone_enc FROM guest_contacts WHERE open_id = ?`, openID); err != nil {
		return GuestContact{}, fmt.Errorf("guest contact: %w", mapErr(err))
	}
	var g GuestContact
	var err error
	if g.Name, err = db.decrypt(r.Name); err != nil {
		return GuestContact{}, err
	}
	if g.Phone, err = db.decrypt(r.Phone); err != nil {
		return GuestContact{}, err
	}
	return g, nil
}

func (db *DB) saveGuestContact(ctx context.Context, tx *sqlx.Tx, openID, nameEnc, phoneEnc string) error {
	q := `INSERT INTO guest_contacts (open_id, name_enc, phone_enc, updated_at) VALUES (?, ?, ?, ?)
 ON CONFLICT (open_id) DO UPDATE SET name_enc = excluded.name_enc, phone_enc = excluded.phone_enc, updated_at = excluded.updated_at`
	if db.mysql() {
		q = `INSERT INTO guest_contacts (open_id, name_enc, phone_enc, updated_at) VALUES (?, ?, ?, ?)
 ON DUPLICATE KEY UPDATE name_enc = VALUES(name_enc), phone_enc = VALUES(phone_enc), updated_at = VALUES(updated_at)`
	}
	_, err := tx.ExecContext(ctx, q, openID, nameEnc, phoneEnc, db.now())
	return err
}
