package storage

// The 人工 hand-off inbox: a member who asks for a person opens a conversation (open); an
// officer claims it (claimed; one officer wins, the other gets ErrHandoffTaken), replies
// (each reply is an officer_reply on the outbox, enqueued in the transaction that records it)
// and closes it (closed), or it closes itself after a period without activity. A member has
// at most one conversation that is not closed (open_key, unique, is the openid while the
// conversation is open and NULL once closed). Message bodies are encrypted with the PII
// cipher: members write names, numbers and troubles into them. Closed conversations and
// their messages are purged after the retention period.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// Hand-off statuses (DESIGN §11).
const (
	HandoffOpen    = "open"
	HandoffClaimed = "claimed"
	HandoffClosed  = "closed"
)

// Who wrote a hand-off message.
const (
	SenderMember  = "member"
	SenderOfficer = "officer"
	SenderSystem  = "system"
)

// Why a hand-off closed.
const (
	CloseByOfficer = "officer" // an officer closed it
	CloseByMember  = "member"  // the member said 取消
	CloseIdle      = "idle"    // no activity for the idle period
)

// Errors of hand-off changes. Both are conflicts (errors.Is(err, ErrConflict) holds).
var (
	ErrHandoffClosed = fmt.Errorf("%w: the hand-off is closed", ErrConflict)
	ErrHandoffTaken  = fmt.Errorf("%w: another officer has claimed the hand-off", ErrConflict)
)

// MaxHandoffText is the longest message body kept (WeChat's own text limit is 2,048 bytes).
const MaxHandoffText = 2000

// Handoff is one 人工 conversation.
type Handoff struct {
	ID           int64
	OpenID       string
	MemberID     int64 // 0: the person is not a bound member
	MemberNo     string
	MemberName   string
	UnitID       int64 // 0: no unit (a non-member): county-level officers only
	UnitName     string
	Status       string
	Urgent       bool
	OpenedAt     time.Time
	LastActivity time.Time
	LastMemberAt time.Time // the member's last message in this conversation (zero: none yet)
	ClaimedBy    string    // actor, "officer:alice"
	ClaimedAt    time.Time
	ClosedAt     time.Time
	ClosedBy     string
	CloseReason  string
	Messages     []HandoffMessage // filled by Handoff only
}

// HandoffMessage is one message of a conversation.
type HandoffMessage struct {
	ID        int64
	At        time.Time
	Sender    string // SenderMember, SenderOfficer, SenderSystem
	Officer   string // the officer's actor for SenderOfficer
	Text      string
	OutboxKey string // the outbox row that carries an officer's reply
}

// HandoffQuery filters Handoffs.
type HandoffQuery struct {
	Statuses []string // none: every status
	UnitID   int64    // 0: every unit (and none)
	AfterID  int64    // paging: ids below this one (newest first); 0: from the newest
	Limit    int
}

const handoffColumns = `SELECT h.id, h.open_id, h.member_id, h.unit_id, h.status, h.urgent, h.opened_at,
    h.last_activity_at, h.last_member_at, h.claimed_by, h.claimed_at, h.closed_at, h.closed_by, h.close_reason,
    COALESCE(m.member_no, '') AS member_no, COALESCE(m.name_enc, '') AS name_enc, COALESCE(u.name, '') AS unit_name
FROM handoffs h LEFT JOIN members m ON m.id = h.member_id LEFT JOIN units u ON u.id = h.unit_id`

type handoffRow struct {
	ID           int64          `db:"id"`
	OpenID       string         `db:"open_id"`
	MemberID     sql.NullInt64  `db:"member_id"`
	UnitID       sql.NullInt64  `db:"unit_id"`
	Status       string         `db:"status"`
	Urgent       bool           `db:"urgent"`
	OpenedAt     time.Time      `db:"opened_at"`
	LastActivity time.Time      `db:"last_activity_at"`
	LastMemberAt sql.NullTime   `db:"last_member_at"`
	ClaimedBy    sql.NullString `db:"claimed_by"`
	ClaimedAt    sql.NullTime   `db:"claimed_at"`
	ClosedAt     sql.NullTime   `db:"closed_at"`
	ClosedBy     sql.NullString `db:"closed_by"`
	CloseReason  sql.NullString `db:"close_reason"`
	MemberNo     string         `db:"member_no"`
	NameEnc      string         `db:"name_enc"`
	UnitName     string         `db:"unit_name"`
}

func (db *DB) toHandoff(r handoffRow) (Handoff, error) {
	name, err := db.decrypt(r.NameEnc)
	if err != nil {
		return Handoff{}, err
	}
	return Handoff{
		ID: r.ID, OpenID: r.OpenID, MemberID: r.MemberID.Int64, MemberNo: r.MemberNo, MemberName: name,
		UnitID: r.UnitID.Int64, UnitName: r.UnitName, Status: r.Status, Urgent: r.Urgent,
		OpenedAt: r.OpenedAt.UTC(), LastActivity: r.LastActivity.UTC(), LastMemberAt: timeOf(r.LastMemberAt),
		ClaimedBy: r.ClaimedBy.String, ClaimedAt: timeOf(r.ClaimedAt), ClosedAt: timeOf(r.ClosedAt),
		ClosedBy: r.ClosedBy.String, CloseReason: r.CloseReason.String,
	}, nil
}

func (db *DB) handoffWhere(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (Handoff, error) {
	var r handoffRow
	if err := sqlx.GetContext(ctx, q, &r, handoffColumns+" WHERE "+where, args...); err != nil {
		return Handoff{}, mapErr(err)
	}
	return db.toHandoff(r)
}

func handoffSubject(id int64) string { return "handoff:" + strconv.FormatInt(id, 10) }

// cleanHandoffText trims a message and refuses an empty or overlong one.
func cleanHandoffText(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("%w: empty message", ErrInvalid)
	}
	if utf8.RuneCountInString(s) > MaxHandoffText {
		return "", fmt.Errorf("%w: message longer than %d characters", ErrInvalid, MaxHandoffText)
	}
	return s, nil
}

const insertHandoff = `INSERT INTO handoffs (open_id, open_key, member_id, unit_id, status, opened_at, last_activity_at)
VALUES (?, ?, ?, ?, ?, ?, ?)`

// OpenHandoff opens a conversation for openID, or returns the one already open (created
// false). The member bound to openID, if any, and their unit are recorded, so the inbox can be
// scoped by unit. The audit row (Action "handoff.open") is written in the same transaction.
func (db *DB) OpenHandoff(ctx context.Context, openID string, audit AuditEntry) (h Handoff, created bool, err error) {
	if openID == "" {
		return Handoff{}, false, fmt.Errorf("open hand-off: %w: empty openid", ErrInvalid)
	}
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		created = false
		cur, err := db.handoffWhere(ctx, tx, "h.open_key = ?", openID)
		if err == nil {
			h = cur
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		var member, unit sql.NullInt64
		if m, err := db.memberWhere(ctx, tx, selectMemberByOpenID, openID); err == nil {
			member = sql.NullInt64{Int64: m.ID, Valid: true}
			unit = nullUnit(m.UnitID)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		now := db.now()
		res, err := tx.ExecContext(ctx, insertHandoff, openID, openID, member, unit, HandoffOpen, now, now)
		if err != nil {
			return mapErr(err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		audit.Action, audit.Subject = "handoff.open", handoffSubject(id)
		if member.Valid {
			audit.Detail = joinDetail(memberSubject(member.Int64), audit.Detail)
		}
		if err := db.auditTx(ctx, tx, audit); err != nil {
			return err
		}
		if h, err = db.handoffWhere(ctx, tx, "h.id = ?", id); err != nil {
			return err
		}
		created = true
		return nil
	})
	if errors.Is(err, ErrConflict) {
		// Two first messages raced: the other one opened it.
		h, err = db.handoffWhere(ctx, db.w, "h.open_key = ?", openID)
		return h, false, err
	}
	if err != nil {
		return Handoff{}, false, fmt.Errorf("open hand-off: %w", err)
	}
	return h, created, nil
}

// OpenHandoffOf returns the conversation of openID that is not closed, or ErrNotFound.
func (db *DB) OpenHandoffOf(ctx context.Context, openID string) (Handoff, error) {
	h, err := db.handoffWhere(ctx, db.r, "h.open_key = ?", openID)
	if err != nil {
		return Handoff{}, fmt.Errorf("open hand-off of member: %w", err)
	}
	return h, nil
}

const insertHandoffMessage = `INSERT INTO handoff_messages (handoff_id, at, sender, officer, body_enc, outbox_key)
VALUES (?, ?, ?, ?, ?, ?)`

func (db *DB) insertHandoffMessage(ctx context.Context, tx *sqlx.Tx, id int64, at time.Time, sender, officer, text, key string) (int64, error) {
	enc, err := db.cipher.Encrypt(text)
	if err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, insertHandoffMessage, id, at, sender,
		sql.NullString{String: officer, Valid: officer != ""}, enc, sql.NullString{String: key, Valid: key != ""})
	if err != nil {
		return 0, mapErr(err)
	}
	return res.LastInsertId()
}

// AddMemberMessage records a message the member of openID sent in conversation id.
// ErrHandoffClosed when the conversation has closed meanwhile (the member should then be
// answered as usual), ErrNotFound when it is not theirs. urgent marks the conversation
// urgent (a crisis signal was seen in the message); it is never unmarked.
func (db *DB) AddMemberMessage(ctx context.Context, id int64, openID, text string, urgent bool) error {
	text, err := cleanHandoffText(text)
	if err != nil {
		return fmt.Errorf("hand-off message: %w", err)
	}
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := db.now()
		res, err := tx.ExecContext(ctx, `UPDATE handoffs SET last_activity_at = ?, last_member_at = ?,
    urgent = CASE WHEN ? THEN 1 ELSE urgent END WHERE id = ? AND open_id = ? AND status <> ?`,
			now, now, urgent, id, openID, HandoffClosed)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			// MySQL counts changed rows: read the row to tell "closed" from "same values".
			h, err := db.handoffWhere(ctx, tx, "h.id = ? AND h.open_id = ?", id, openID)
			if err != nil {
				return err
			}
			if h.Status == HandoffClosed {
				return ErrHandoffClosed
			}
		}
		_, err = db.insertHandoffMessage(ctx, tx, id, now, SenderMember, "", text, "")
		return err
	})
	if err != nil {
		return fmt.Errorf("hand-off %d message: %w", id, err)
	}
	return nil
}

// Handoff returns conversation id with its messages, oldest first.
func (db *DB) Handoff(ctx context.Context, id int64) (Handoff, error) {
	h, err := db.handoffWhere(ctx, db.r, "h.id = ?", id)
	if err != nil {
		return Handoff{}, fmt.Errorf("hand-off %d: %w", id, err)
	}
	if h.Messages, err = db.handoffMessages(ctx, db.r, id); err != nil {
		return Handoff{}, fmt.Errorf("hand-off %d: %w", id, err)
	}
	return h, nil
}

type handoffMessageRow struct {
	ID        int64          `db:"id"`
	At        time.Time      `db:"at"`
	Sender    string         `db:"sender"`
	Officer   sql.NullString `db:"officer"`
	BodyEnc   string         `db:"body_enc"`
	OutboxKey sql.NullString `db:"outbox_key"`
}

func (db *DB) handoffMessages(ctx context.Context, q sqlx.QueryerContext, id int64) ([]HandoffMessage, error) {
	var rows []handoffMessageRow
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT id, at, sender, officer, body_enc, outbox_key
FROM handoff_messages WHERE handoff_id = ? ORDER BY id`, id); err != nil {
		return nil, err
	}
	out := make([]HandoffMessage, len(rows))
	for i, r := range rows {
		text, err := db.decrypt(r.BodyEnc)
		if err != nil {
			return nil, err
		}
		out[i] = HandoffMessage{ID: r.ID, At: r.At.UTC(), Sender: r.Sender, Officer: r.Officer.String,
			Text: text, OutboxKey: r.OutboxKey.String}
	}
	return out, nil
}

// Handoffs lists conversations, newest first, without their messages.
func (db *DB) Handoffs(ctx context.Context, q HandoffQuery) ([]Handoff, error) {
	var where []string
	var args []any
	if len(q.Statuses) > 0 {
		where = append(where, "h.status IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(q.Statuses)), ", ")+")")
		for _, s := range q.Statuses {
			args = append(args, s)
		}
	}
	if q.UnitID != 0 {
		where = append(where, "h.unit_id = ?")
		args = append(args, q.UnitID)
	}
	if q.AfterID > 0 {
		where = append(where, "h.id < ?")
		args = append(args, q.AfterID)
	}
	query := handoffColumns
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 1000
	}
	query += " ORDER BY h.id DESC LIMIT " + strconv.Itoa(q.Limit)
	var rows []handoffRow
	if err := db.r.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("hand-offs: %w", err)
	}
	out := make([]Handoff, len(rows))
	for i, r := range rows {
		h, err := db.toHandoff(r)
		if err != nil {
			return nil, fmt.Errorf("hand-offs: %w", err)
		}
		out[i] = h
	}
	return out, nil
}

// ClaimHandoff makes officer (an actor, "officer:alice") the one who answers conversation id.
// Of two officers claiming at once exactly one wins; the other gets ErrHandoffTaken. Claiming
// again one's own claim is a no-op. ErrHandoffClosed when it is closed.
func (db *DB) ClaimHandoff(ctx context.Context, id int64, officer string, audit AuditEntry) (Handoff, error) {
	var h Handoff
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := db.now()
		res, err := tx.ExecContext(ctx, `UPDATE handoffs SET status = ?, claimed_by = ?, claimed_at = ?
WHERE id = ? AND status = ?`, HandoffClaimed, clip(officer, 100), now, id, HandoffOpen)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if h, err = db.handoffWhere(ctx, tx, "h.id = ?", id); err != nil {
			return err
		}
		if n == 0 {
			switch {
			case h.Status == HandoffClosed:
				return ErrHandoffClosed
			case h.ClaimedBy != officer:
				return ErrHandoffTaken
			}
			return nil // already ours
		}
		audit.Action, audit.Subject = "handoff.claim", handoffSubject(id)
		audit.After = map[string]string{"status": HandoffClaimed, "claimed_by": officer}
		audit.Before = map[string]string{"status": HandoffOpen}
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return Handoff{}, fmt.Errorf("claim hand-off %d: %w", id, err)
	}
	return h, nil
}

// ReplyHandoff records officer's reply in conversation id and enqueues it for the member
// (Kind "officer_reply", a customer-service message; outside WeChat's 48-hour window the
// delivery planner keeps it unread) in the same transaction, with the audit row. An open
// conversation is claimed by the reply; one claimed by another officer answers
// ErrHandoffTaken, a closed one ErrHandoffClosed.
func (db *DB) ReplyHandoff(ctx context.Context, id int64, officer, text string, audit AuditEntry) (Handoff, HandoffMessage, error) {
	text, err := cleanHandoffText(text)
	if err != nil {
		return Handoff{}, HandoffMessage{}, fmt.Errorf("reply to hand-off %d: %w", id, err)
	}
	var h Handoff
	var msg HandoffMessage
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := db.now()
		res, err := tx.ExecContext(ctx, `UPDATE handoffs SET status = ?, claimed_by = COALESCE(claimed_by, ?),
    claimed_at = COALESCE(claimed_at, ?), last_activity_at = ?
WHERE id = ? AND status <> ? AND (claimed_by IS NULL OR claimed_by = ?)`,
			HandoffClaimed, clip(officer, 100), now, now, id, HandoffClosed, officer)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if h, err = db.handoffWhere(ctx, tx, "h.id = ?", id); err != nil {
			return err
		}
		// MySQL counts changed rows (0 when a reply repeats the same values): decide by the row.
		switch {
		case h.Status == HandoffClosed:
			return ErrHandoffClosed
		case n == 0 && h.ClaimedBy != officer:
			return ErrHandoffTaken
		}
		// The key is unique per reply: the message id is taken from a counter of the
		// conversation's own messages, which this transaction holds (the row update above).
		var count int
		if err := sqlx.GetContext(ctx, tx, &count, `SELECT COUNT(*) FROM handoff_messages WHERE handoff_id = ?`, id); err != nil {
			return err
		}
		key := fmt.Sprintf("handoff:%d:reply:%d", id, count+1)
		mid, err := db.insertHandoffMessage(ctx, tx, id, now, SenderOfficer, officer, text, key)
		if err != nil {
			return err
		}
		m := OutboxMessage{Key: key, Kind: "officer_reply", OpenID: h.OpenID,
			Content: OutboxContent{Text: "【工作人员回复】\n" + text, Unread: "工作人员回复：" + text}}
		if _, err := db.Enqueue(ctx, tx, m); err != nil {
			return err
		}
		msg = HandoffMessage{ID: mid, At: now, Sender: SenderOfficer, Officer: officer, Text: text, OutboxKey: key}
		audit.Action, audit.Subject = "handoff.reply", handoffSubject(id)
		audit.Detail = joinDetail(fmt.Sprintf("回复 %d 字", utf8.RuneCountInString(text)), audit.Detail)
		return db.auditTx(ctx, tx, audit)
	})
	if err != nil {
		return Handoff{}, HandoffMessage{}, fmt.Errorf("reply to hand-off %d: %w", id, err)
	}
	return h, msg, nil
}

// CloseHandoff closes conversation id: by an officer (reason CloseByOfficer) or by the
// member (CloseByMember, when openID must own it). notice, when not empty, is enqueued to
// the member in the same transaction (Kind "handoff_closed"). Closing a closed conversation
// answers ErrHandoffClosed.
func (db *DB) CloseHandoff(ctx context.Context, id int64, reason, notice string, audit AuditEntry) (Handoff, error) {
	var h Handoff
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		h, err = db.closeHandoffTx(ctx, tx, id, reason, notice, audit)
		return err
	})
	if err != nil {
		return Handoff{}, fmt.Errorf("close hand-off %d: %w", id, err)
	}
	return h, nil
}

func (db *DB) closeHandoffTx(ctx context.Context, tx *sqlx.Tx, id int64, reason, notice string, audit AuditEntry) (Handoff, error) {
	now := db.now()
	res, err := tx.ExecContext(ctx, `UPDATE handoffs SET status = ?, open_key = NULL, closed_at = ?, closed_by = ?,
    close_reason = ? WHERE id = ? AND status <> ?`, HandoffClosed, now, clip(audit.Actor, 100), reason, id, HandoffClosed)
	if err != nil {
		return Handoff{}, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Handoff{}, err
	}
	h, err := db.handoffWhere(ctx, tx, "h.id = ?", id)
	if err != nil {
		return Handoff{}, err
	}
	if n == 0 {
		return h, ErrHandoffClosed
	}
	if notice != "" {
		key := fmt.Sprintf("handoff:%d:closed", id)
		if _, err := db.insertHandoffMessage(ctx, tx, id, now, SenderSystem, "", notice, key); err != nil {
			return Handoff{}, err
		}
		// A service notification (the state of the member's own request): after 48 hours
		// without activity the customer-service window is shut, so a template configured
		// for handoff_closed, or the unread list, carries it.
		if _, err := db.Enqueue(ctx, tx, OutboxMessage{Key: key, Kind: "handoff_closed", OpenID: h.OpenID, Service: true,
			Content: OutboxContent{Text: notice, Fields: map[string]string{"title": "人工对话", "status": "已结束"}}}); err != nil {
			return Handoff{}, err
		}
	}
	audit.Action, audit.Subject = "handoff.close", handoffSubject(id)
	audit.Detail = joinDetail("原因："+reason, audit.Detail)
	audit.After = map[string]string{"status": HandoffClosed}
	return h, db.auditTx(ctx, tx, audit)
}

// CloseIdleHandoffs closes up to limit conversations with no activity for idle (by the
// storage clock), each in its own transaction with notice enqueued to the member and an
// audit row by "system". Replicas may run it together: a conversation closes once.
func (db *DB) CloseIdleHandoffs(ctx context.Context, idle time.Duration, notice string, limit int) ([]Handoff, error) {
	if limit <= 0 {
		limit = 100
	}
	var ids []int64
	if err := db.r.SelectContext(ctx, &ids, `SELECT id FROM handoffs WHERE status <> ? AND last_activity_at < ?
ORDER BY last_activity_at LIMIT `+strconv.Itoa(limit), HandoffClosed, db.now().Add(-idle)); err != nil {
		return nil, fmt.Errorf("idle hand-offs: %w", err)
	}
	var out []Handoff
	for _, id := range ids {
		var h Handoff
		err := db.inTx(ctx, func(tx *sqlx.Tx) error {
			// Activity may have come in since the list was read.
			var last time.Time
			if err := sqlx.GetContext(ctx, tx, &last, `SELECT last_activity_at FROM handoffs WHERE id = ?`, id); err != nil {
				return mapErr(err)
			}
			if !last.Before(db.now().Add(-idle)) {
				return ErrHandoffClosed // not idle any more: skip
			}
			var err error
			h, err = db.closeHandoffTx(ctx, tx, id, CloseIdle, notice, AuditEntry{Actor: "system"})
			return err
		})
		switch {
		case errors.Is(err, ErrHandoffClosed), errors.Is(err, ErrNotFound):
			continue
		case err != nil:
			return out, fmt.Errorf("close idle hand-off %d: %w", id, err)
		}
		out = append(out, h)
	}
	return out, nil
}

// PurgeHandoffs deletes conversations closed more than keep ago, with their messages.
func (db *DB) PurgeHandoffs(ctx context.Context, keep time.Duration) (int64, error) {
	cutoff := db.now().Add(-keep)
	var n int64
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM handoff_messages WHERE handoff_id IN
    (SELECT id FROM (SELECT id FROM handoffs WHERE status = ? AND closed_at < ?) old)`, HandoffClosed, cutoff); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM handoffs WHERE status = ? AND closed_at < ?`, HandoffClosed, cutoff)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge hand-offs: %w", err)
	}
	return n, nil
}
