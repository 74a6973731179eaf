package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// The outbox carries every message the bot sends outside a callback reply. A
// capability enqueues with (*DB).Enqueue inside the transaction of the change
// the message reports, so the two commit together or not at all; the delivery
// workers (package delivery) lease the rows, choose the channel and record the
// outcome. Row states:
//
//	pending → sending → sent | unread | failed | cancelled | unknown
//
// "sending" is a lease: the row belongs to lease_owner until next_at. A lease
// that runs out (its worker died) puts a personal row back to pending (at
// least once) and turns a mass batch into unknown (never sent twice).
const (
	OutboxPending   = "pending"
	OutboxSending   = "sending"
	OutboxSent      = "sent"
	OutboxUnread    = "unread"
	OutboxFailed    = "failed"
	OutboxCancelled = "cancelled"
	OutboxUnknown   = "unknown"
)

// MassBatchSize is the most openids WeChat takes in one message/mass/send.
const MassBatchSize = 10000

// OutboxContent is a message's content for every channel it may take; the
// planner picks the channel. Template and subscribe messages take Fields by
// name through the per-kind mapping in the configuration.
type OutboxContent struct {
	// Text is the customer-service message (and a mass batch's text).
	Text string `json:"text,omitempty"`
	// Unread is the line kept in the member's unread list when no channel
	// reaches them; Text when empty.
	Unread string `json:"unread,omitempty"`
	// Fields are the short values (≤ 20 characters, no newline) a template
	// or subscribe message shows, by our own names (title, status, time…).
	Fields map[string]string `json:"fields,omitempty"`
	// Link is the path of the full text under UNIONBOT_PUBLIC_URL.
	Link string `json:"link,omitempty"`
	// OpenIDs are a mass batch's recipients.
	OpenIDs []string `json:"openids,omitempty"`
}

// OutboxMessage is one logical message to enqueue.
type OutboxMessage struct {
	// Key identifies the logical message ("claim:HZ123:approved"): a second
	// Enqueue with the same key is a no-op, so a retried request or a
	// redelivered callback never enqueues twice. At most 191 bytes.
	Key string
	// Kind says what it is: claim_status, case_status, reminder,
	// officer_reply, notice…
	Kind string
	// OpenID or MemberID names the recipient; a member is resolved to the
	// openid bound at send time.
	OpenID   string
	MemberID int64
	// Service marks a service notification (a status change, a reminder the
	// member asked for), which alone may go out as a template message.
	Service bool
	Content OutboxContent
	// NotBefore delays the first attempt; zero means now.
	NotBefore time.Time
}

// OutboxRow is a stored outbox row.
type OutboxRow struct {
	ID           int64
	Key          string
	Kind         string
	OpenID       string // the row's openid, or the bound member's
	MemberID     int64
	Service      bool
	Mass         bool
	Content      OutboxContent
	State        string
	Channel      string
	SkipChannels []string
	Attempts     int
	NextAt       time.Time
	ErrCode      int
	ErrMsg       string
	WxMsgID      int64
	Recipients   int
	OverQuota    []string
	CreatedAt    time.Time
	SentAt       time.Time
	ReadAt       time.Time
}

type outboxRow struct {
	ID           int64          `db:"id"`
	Key          string         `db:"dedup_key"`
	Kind         string         `db:"kind"`
	OpenID       string         `db:"open_id"`
	MemberOpenID sql.NullString `db:"member_open_id"`
	MemberID     sql.NullInt64  `db:"member_id"`
	Service      bool           `db:"service"`
	Mass         bool           `db:"mass"`
	Content      string         `db:"content"`
	State        string         `db:"state"`
	Channel      string         `db:"channel"`
	SkipChannels string         `db:"skip_channels"`
	Attempts     int            `db:"attempts"`
	NextAt       time.Time      `db:"next_at"`
	ErrCode      int            `db:"err_code"`
	ErrMsg       string         `db:"err_msg"`
	WxMsgID      int64          `db:"wx_msg_id"`
	Recipients   int            `db:"recipients"`
	OverQuota    sql.NullString `db:"over_quota"`
	CreatedAt    time.Time      `db:"created_at"`
	SentAt       sql.NullTime   `db:"sent_at"`
	ReadAt       sql.NullTime   `db:"read_at"`
}

const outboxCols = `o.id, o.dedup_key, o.kind, o.open_id, m.open_id AS member_open_id, o.member_id, o.service, o.mass,
 o.content, o.state, o.channel, o.skip_channels, o.attempts, o.next_at, o.err_code, o.err_msg, o.wx_msg_id,
 o.recipients, o.over_quota, o.created_at, o.sent_at, o.read_at
 FROM outbox o LEFT JOIN members m ON m.id = o.member_id`

func (r outboxRow) toRow() (OutboxRow, error) {
	out := OutboxRow{
		ID: r.ID, Key: r.Key, Kind: r.Kind, OpenID: r.OpenID, MemberID: r.MemberID.Int64, Service: r.Service,
		Mass: r.Mass, State: r.State, Channel: r.Channel, Attempts: r.Attempts, NextAt: r.NextAt.UTC(),
		ErrCode: r.ErrCode, ErrMsg: r.ErrMsg, WxMsgID: r.WxMsgID, Recipients: r.Recipients,
		CreatedAt: r.CreatedAt.UTC(), SentAt: timeOf(r.SentAt), ReadAt: timeOf(r.ReadAt),
	}
	if out.OpenID == "" && r.MemberOpenID.Valid {
		out.OpenID = r.MemberOpenID.String
	}
	if r.SkipChannels != "" {
		out.SkipChannels = strings.Split(r.SkipChannels, ",")
	}
	if err := json.Unmarshal([]byte(r.Content), &out.Content); err != nil {
		return OutboxRow{}, fmt.Errorf("outbox row %d content: %w", r.ID, err)
	}
	if r.OverQuota.Valid && r.OverQuota.String != "" {
		if err := json.Unmarshal([]byte(r.OverQuota.String), &out.OverQuota); err != nil {
			return OutboxRow{}, fmt.Errorf("outbox row %d over_quota: %w", r.ID, err)
		}
	}
	return out, nil
}

func toRows(rs []outboxRow) ([]OutboxRow, error) {
	out := make([]OutboxRow, 0, len(rs))
	for _, r := range rs {
		row, err := r.toRow()
		if err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, nil
}

const (
	insertOutboxSQLite = `INSERT INTO outbox (dedup_key, kind, open_id, member_id, service, mass, content, state,
 next_at, recipients, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)
 ON CONFLICT (dedup_key) DO NOTHING`
	// ON DUPLICATE KEY UPDATE id = id is a no-op on a duplicate (0 rows
	// affected) but, unlike INSERT IGNORE, does not hide other errors.
	insertOutboxMySQL = `INSERT INTO outbox (dedup_key, kind, open_id, member_id, service, mass, content, state,
 next_at, recipients, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)
 ON DUPLICATE KEY UPDATE id = id`
)

// Enqueue writes m into the outbox within tx, the transaction of the change
// the message reports: a rolled-back change enqueues nothing. It reports
// whether a row was created (false: a message with m.Key already exists).
func (db *DB) Enqueue(ctx context.Context, tx *sqlx.Tx, m OutboxMessage) (bool, error) {
	if err := validOutbox(m); err != nil {
		return false, err
	}
	return db.insertOutbox(ctx, tx, m, false, 0)
}

func validOutbox(m OutboxMessage) error {
	switch {
	case m.Key == "" || len(m.Key) > 191:
		return fmt.Errorf("enqueue: %w: the key must have 1 to 191 bytes", ErrInvalid)
	case m.Kind == "" || len(m.Kind) > 32:
		return fmt.Errorf("enqueue %s: %w: the kind must have 1 to 32 bytes", m.Key, ErrInvalid)
	case m.OpenID == "" && m.MemberID == 0:
		return fmt.Errorf("enqueue %s: %w: no recipient", m.Key, ErrInvalid)
	case m.Content.Text == "" && m.Content.Unread == "" && len(m.Content.Fields) == 0:
		return fmt.Errorf("enqueue %s: %w: no content", m.Key, ErrInvalid)
	}
	return nil
}

func (db *DB) insertOutbox(ctx context.Context, tx sqlx.ExecerContext, m OutboxMessage, mass bool, recipients int) (bool, error) {
	content, err := json.Marshal(m.Content)
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", m.Key, err)
	}
	now := db.now()
	next := now
	if !m.NotBefore.IsZero() {
		next = utc(m.NotBefore)
	}
	var member sql.NullInt64
	if m.MemberID != 0 {
		member = sql.NullInt64{Int64: m.MemberID, Valid: true}
	}
	q := insertOutboxSQLite
	if db.mysql() {
		q = insertOutboxMySQL
	}
	res, err := tx.ExecContext(ctx, q, m.Key, m.Kind, m.OpenID, member, m.Service, mass, string(content), next, recipients, now, now)
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", m.Key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", m.Key, err)
	}
	return n == 1, nil
}

// EnqueueMessage is Enqueue in a transaction of its own, for messages that
// report no other change (an officer's reply, a reminder).
func (db *DB) EnqueueMessage(ctx context.Context, m OutboxMessage) (created bool, err error) {
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		created, err = db.Enqueue(ctx, tx, m)
		return err
	})
	return created, err
}

// EnqueueBatch enqueues msgs in one transaction of their own (a tool
// loading many messages at once); it returns how many rows were created.
func (db *DB) EnqueueBatch(ctx context.Context, msgs []OutboxMessage) (int, error) {
	n := 0
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		n = 0
		for _, m := range msgs {
			created, err := db.Enqueue(ctx, tx, m)
			if err != nil {
				return err
			}
			if created {
				n++
			}
		}
		return nil
	})
	return n, err
}

// MassMessage is broadcast content for many followers (an activity notice).
type MassMessage struct {
	// Key identifies the broadcast; batch n is stored as Key+"#n".
	Key, Kind, Text string
	OpenIDs         []string
	NotBefore       time.Time
}

// MassPlan is what EnqueueMass did.
type MassPlan struct {
	Batches    int      // outbox rows written (≤ MassBatchSize openids each)
	Recipients int      // openids in them
	OptedOut   []string // left out: they sent 退订 or unfollowed
}

// EnqueueMass splits a broadcast into batches of at most MassBatchSize
// openids, one outbox row each, within tx. Duplicates, followers who opted out
// of notices and followers known to have unfollowed are left out (and
// listed). The monthly quota is applied when a batch is sent, since the month
// may turn before then.
func (db *DB) EnqueueMass(ctx context.Context, tx *sqlx.Tx, m MassMessage) (MassPlan, error) {
	if m.Key == "" || len(m.Key) > 180 || m.Kind == "" || m.Text == "" {
		return MassPlan{}, fmt.Errorf("enqueue mass: %w: key (≤ 180 bytes), kind and text are required", ErrInvalid)
	}
	var excluded []string
	if err := sqlx.SelectContext(ctx, tx, &excluded, `SELECT open_id FROM notice_optouts`); err != nil {
		return MassPlan{}, fmt.Errorf("enqueue mass %s: opt-outs: %w", m.Key, err)
	}
	var gone []string
	if err := sqlx.SelectContext(ctx, tx, &gone, `SELECT open_id FROM followers WHERE subscribed = 0`); err != nil {
		return MassPlan{}, fmt.Errorf("enqueue mass %s: followers: %w", m.Key, err)
	}
	skip := make(map[string]bool, len(excluded)+len(gone))
	for _, o := range append(excluded, gone...) {
		skip[o] = true
	}
	seen := make(map[string]bool, len(m.OpenIDs))
	var plan MassPlan
	to := make([]string, 0, len(m.OpenIDs))
	for _, o := range m.OpenIDs {
		if o == "" || seen[o] {
			continue
		}
		seen[o] = true
		if skip[o] {
			plan.OptedOut = append(plan.OptedOut, o)
			continue
		}
		to = append(to, o)
	}
	if len(to) == 1 {
		// WeChat's mass send wants at least two openids: one recipient
		// gets the notice as a personal message.
		msg := OutboxMessage{Key: m.Key + "#1", Kind: m.Kind, OpenID: to[0], NotBefore: m.NotBefore,
			Content: OutboxContent{Text: m.Text}}
		if _, err := db.insertOutbox(ctx, tx, msg, false, 1); err != nil {
			return MassPlan{}, err
		}
		return MassPlan{Batches: 1, Recipients: 1, OptedOut: plan.OptedOut}, nil
	}
	// Balanced batches (10,001 recipients: 5,001 + 5,000, not 10,000 + 1).
	batches := (len(to) + MassBatchSize - 1) / MassBatchSize
	size := (len(to) + batches - 1) / max(batches, 1)
	n := 0
	for batch := range slices.Chunk(to, max(size, 1)) {
		n++
		msg := OutboxMessage{
			Key: fmt.Sprintf("%s#%d", m.Key, n), Kind: m.Kind, NotBefore: m.NotBefore,
			Content: OutboxContent{Text: m.Text, OpenIDs: batch},
		}
		if _, err := db.insertOutbox(ctx, tx, msg, true, len(batch)); err != nil {
			return MassPlan{}, err
		}
		plan.Batches++
		plan.Recipients += len(batch)
	}
	return plan, nil
}

// EnqueueMassMessage is EnqueueMass in a transaction of its own (an officer
// publishing a notice that changes nothing else).
func (db *DB) EnqueueMassMessage(ctx context.Context, m MassMessage) (plan MassPlan, err error) {
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		plan, err = db.EnqueueMass(ctx, tx, m)
		return err
	})
	return plan, err
}

// SetNoticeOptOut records that openID sent 退订 (out) or 订阅 (!out):
// broadcasts leave opted-out followers out. Personal notifications (a claim's
// status) are not affected.
func (db *DB) SetNoticeOptOut(ctx context.Context, openID string, out bool) error {
	var err error
	if out {
		q := `INSERT INTO notice_optouts (open_id, opted_out_at) VALUES (?, ?) ON CONFLICT (open_id) DO NOTHING`
		if db.mysql() {
			q = `INSERT INTO notice_optouts (open_id, opted_out_at) VALUES (?, ?) ON DUPLICATE KEY UPDATE open_id = open_id`
		}
		_, err = db.w.ExecContext(ctx, q, openID, db.now())
	} else {
		_, err = db.w.ExecContext(ctx, `DELETE FROM notice_optouts WHERE open_id = ?`, openID)
	}
	if err != nil {
		return fmt.Errorf("notice opt-out of %s: %w", openID, err)
	}
	return nil
}

// ---- workers ----

// ClaimOutbox leases up to limit due rows (mass batches when mass, personal
// messages otherwise) to owner until now+lease and returns them. On MySQL
// concurrent workers skip each other's locked rows (FOR UPDATE SKIP LOCKED);
// the embedded database has a single writer, so its transaction is the lock.
func (db *DB) ClaimOutbox(ctx context.Context, owner string, limit int, lease time.Duration, mass bool) ([]OutboxRow, error) {
	if owner == "" || limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("claim outbox: %w: owner, limit and lease are required", ErrInvalid)
	}
	var rows []outboxRow
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		rows = rows[:0]
		now := db.now()
		q := `SELECT id FROM outbox WHERE state = 'pending' AND mass = ? AND next_at <= ? ORDER BY next_at LIMIT ?`
		if db.mysql() {
			q += ` FOR UPDATE SKIP LOCKED`
		}
		var ids []int64
		if err := tx.SelectContext(ctx, &ids, q, mass, now, limit); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		up, args, err := sqlx.In(`UPDATE outbox SET state = 'sending', lease_owner = ?, next_at = ?, attempts = attempts + 1,
 updated_at = ? WHERE id IN (?)`, owner, now.Add(lease), now, ids)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, up, args...); err != nil {
			return err
		}
		sel, args, err := sqlx.In(`SELECT `+outboxCols+` WHERE o.id IN (?) ORDER BY o.id`, ids)
		if err != nil {
			return err
		}
		return tx.SelectContext(ctx, &rows, sel, args...)
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	return toRows(rows)
}

// ReapExpired ends the leases that ran out (their worker died or hung): a
// personal message goes back to pending and is sent again (at least once), a
// mass batch becomes unknown, because WeChat may have sent it and a second
// send would reach every recipient twice.
func (db *DB) ReapExpired(ctx context.Context) (requeued, unknown int64, err error) {
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := db.now()
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'pending', lease_owner = '', updated_at = ?
 WHERE state = 'sending' AND mass = 0 AND next_at <= ?`, now, now)
		if err != nil {
			return err
		}
		if requeued, err = res.RowsAffected(); err != nil {
			return err
		}
		res, err = tx.ExecContext(ctx, `UPDATE outbox SET state = 'unknown', lease_owner = '', updated_at = ?,
 err_msg = 'worker lost during the send' WHERE state = 'sending' AND mass = 1 AND next_at <= ?`, now, now)
		if err != nil {
			return err
		}
		unknown, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("reap expired leases: %w", err)
	}
	return requeued, unknown, nil
}

// OutboxResult is the outcome of one leased row.
type OutboxResult struct {
	ID      int64
	State   string // OutboxSent, OutboxUnread, OutboxFailed, or OutboxPending to retry at NextAt
	Channel string // the channel that took it (or was last tried)
	// SkipChannels are the channels WeChat closed for this message (45015,
	// 45047): the planner never tries them again.
	SkipChannels []string
	ErrCode      int
	ErrMsg       string
	NextAt       time.Time
	WxMsgID      int64
}

// CompleteOutbox records the outcomes of rows owner leased, in one
// transaction. The common outcome (sent on one channel) is written as one
// statement per channel. A row whose lease another worker has taken over is
// left alone.
func (db *DB) CompleteOutbox(ctx context.Context, owner string, results []OutboxResult) error {
	if len(results) == 0 {
		return nil
	}
	sentBy := map[string][]int64{}
	var others []OutboxResult
	for _, r := range results {
		if r.State == OutboxSent && len(r.SkipChannels) == 0 && r.ErrCode == 0 && r.WxMsgID == 0 {
			sentBy[r.Channel] = append(sentBy[r.Channel], r.ID)
			continue
		}
		others = append(others, r)
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := db.now()
		for ch, ids := range sentBy {
			for part := range slices.Chunk(ids, 500) {
				q, args, err := sqlx.In(`UPDATE outbox SET state = 'sent', channel = ?, lease_owner = '', sent_at = ?, updated_at = ?
 WHERE id IN (?) AND state = 'sending' AND lease_owner = ?`, ch, now, now, part, owner)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					return err
				}
			}
		}
		for _, r := range others {
			next := now
			if !r.NextAt.IsZero() {
				next = utc(r.NextAt)
			}
			var sent sql.NullTime
			if r.State == OutboxSent || r.State == OutboxUnread {
				sent = sql.NullTime{Time: now, Valid: true}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET state = ?, channel = ?, skip_channels = ?, err_code = ?, err_msg = ?,
 next_at = ?, wx_msg_id = ?, sent_at = ?, lease_owner = '', updated_at = ?
 WHERE id = ? AND state = 'sending' AND lease_owner = ?`,
				r.State, r.Channel, strings.Join(r.SkipChannels, ","), r.ErrCode, truncate(r.ErrMsg, 255),
				next, r.WxMsgID, sent, now, r.ID, owner); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("complete outbox: %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// CancelOutbox cancels the message key while it waits (pending); it reports
// whether it did. A message being sent or already out cannot be called back.
func (db *DB) CancelOutbox(ctx context.Context, key string) (bool, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE outbox SET state = 'cancelled', updated_at = ? WHERE dedup_key = ? AND state = 'pending'`,
		db.now(), key)
	if err != nil {
		return false, fmt.Errorf("cancel outbox %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("cancel outbox %s: %w", key, err)
	}
	return n == 1, nil
}

// OutboxByKey returns the row of message key, or ErrNotFound.
func (db *DB) OutboxByKey(ctx context.Context, key string) (OutboxRow, error) {
	var r outboxRow
	if err := db.r.GetContext(ctx, &r, `SELECT `+outboxCols+` WHERE o.dedup_key = ?`, key); err != nil {
		return OutboxRow{}, fmt.Errorf("outbox %s: %w", key, mapErr(err))
	}
	return r.toRow()
}

// MassBatches returns the batches of broadcast key in order.
func (db *DB) MassBatches(ctx context.Context, key string) ([]OutboxRow, error) {
	var rs []outboxRow
	if err := db.r.SelectContext(ctx, &rs, `SELECT `+outboxCols+` WHERE o.mass = 1 AND o.dedup_key LIKE ? ORDER BY o.id`,
		likePrefix(key)+"#%"); err != nil {
		return nil, fmt.Errorf("mass batches %s: %w", key, err)
	}
	return toRows(rs)
}

func likePrefix(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ---- unread ----

// UnreadNotices returns the messages kept unread for openID (or the member
// bound to it, memberID when not 0), oldest first, at most limit, and how
// many there are in all.
func (db *DB) UnreadNotices(ctx context.Context, openID string, memberID int64, limit int) ([]OutboxRow, int, error) {
	where := `o.state = 'unread' AND o.read_at IS NULL AND (o.open_id = ? OR (o.member_id = ? AND o.open_id = ''))`
	var total int
	if err := db.r.GetContext(ctx, &total, `SELECT COUNT(*) FROM outbox o WHERE `+where, openID, memberID); err != nil {
		return nil, 0, fmt.Errorf("unread notices of %s: %w", openID, err)
	}
	if total == 0 || limit <= 0 {
		return nil, total, nil
	}
	var rs []outboxRow
	if err := db.r.SelectContext(ctx, &rs, `SELECT `+outboxCols+` WHERE `+where+` ORDER BY o.id LIMIT ?`, openID, memberID, limit); err != nil {
		return nil, 0, fmt.Errorf("unread notices of %s: %w", openID, err)
	}
	rows, err := toRows(rs)
	return rows, total, err
}

// RecentNotices returns the last limit messages kept for openID's unread
// list, read or not, newest first (for 进度, where they always show).
func (db *DB) RecentNotices(ctx context.Context, openID string, memberID int64, limit int) ([]OutboxRow, error) {
	var rs []outboxRow
	if err := db.r.SelectContext(ctx, &rs, `SELECT `+outboxCols+` WHERE o.state = 'unread'
 AND (o.open_id = ? OR (o.member_id = ? AND o.open_id = '')) ORDER BY o.id DESC LIMIT ?`, openID, memberID, limit); err != nil {
		return nil, fmt.Errorf("recent notices of %s: %w", openID, err)
	}
	return toRows(rs)
}

// MarkNoticesRead marks the given unread messages as shown.
func (db *DB) MarkNoticesRead(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	q, args, err := sqlx.In(`UPDATE outbox SET read_at = ?, updated_at = ? WHERE id IN (?) AND state = 'unread' AND read_at IS NULL`,
		db.now(), db.now(), ids)
	if err != nil {
		return fmt.Errorf("mark notices read: %w", err)
	}
	if _, err := db.w.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("mark notices read: %w", err)
	}
	return nil
}

// ---- subscribe messages ----

// RecordSubscribeConsent records that openID accepted the subscribe message
// templateID (the subscribe_msg_popup_event). A consent allows one send.
func (db *DB) RecordSubscribeConsent(ctx context.Context, openID, templateID string, at time.Time) error {
	if at.IsZero() {
		at = db.now()
	}
	q := `INSERT INTO subscribe_consents (open_id, template_id, accepted_at) VALUES (?, ?, ?)
 ON CONFLICT (open_id, template_id) DO UPDATE SET accepted_at = excluded.accepted_at`
	if db.mysql() {
		q = `INSERT INTO subscribe_consents (open_id, template_id, accepted_at) VALUES (?, ?, ?)
 ON DUPLICATE KEY UPDATE accepted_at = VALUES(accepted_at)`
	}
	if _, err := db.w.ExecContext(ctx, q, openID, templateID, utc(at)); err != nil {
		return fmt.Errorf("subscribe consent of %s: %w", openID, err)
	}
	return nil
}

// HasSubscribeConsent reports whether openID has an unused consent for templateID.
func (db *DB) HasSubscribeConsent(ctx context.Context, openID, templateID string) (bool, error) {
	var n int
	if err := db.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM subscribe_consents WHERE open_id = ? AND template_id = ?`,
		openID, templateID); err != nil {
		return false, fmt.Errorf("subscribe consent of %s: %w", openID, err)
	}
	return n > 0, nil
}

// UseSubscribeConsent spends openID's consent for templateID after a send.
func (db *DB) UseSubscribeConsent(ctx context.Context, openID, templateID string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM subscribe_consents WHERE open_id = ? AND template_id = ?`,
		openID, templateID); err != nil {
		return fmt.Errorf("use subscribe consent of %s: %w", openID, err)
	}
	return nil
}

// ---- mass quota ----

// MassMonthlyQuota is how many mass messages a service account's follower
// receives per month.
const MassMonthlyQuota = 4

// MassQuotaUsed returns how many mass messages each of openIDs received in
// month ("2026-03"); openids without one are absent.
func (db *DB) MassQuotaUsed(ctx context.Context, month string, openIDs []string) (map[string]int, error) {
	type row struct {
		OpenID string `db:"open_id"`
		Used   int    `db:"used"`
	}
	out := make(map[string]int)
	for part := range slices.Chunk(openIDs, 1000) {
		q, args, err := sqlx.In(`SELECT open_id, used FROM mass_quota WHERE month = ? AND open_id IN (?)`, month, part)
		if err != nil {
			return nil, fmt.Errorf("mass quota %s: %w", month, err)
		}
		var rs []row
		if err := db.r.SelectContext(ctx, &rs, q, args...); err != nil {
			return nil, fmt.Errorf("mass quota %s: %w", month, err)
		}
		for _, r := range rs {
			out[r.OpenID] = r.Used
		}
	}
	return out, nil
}

// MassQuotaTotal is the number of mass messages counted in month, for the metric.
func (db *DB) MassQuotaTotal(ctx context.Context, month string) (int64, error) {
	var n sql.NullInt64
	if err := db.r.GetContext(ctx, &n, `SELECT SUM(used) FROM mass_quota WHERE month = ?`, month); err != nil {
		return 0, fmt.Errorf("mass quota total %s: %w", month, err)
	}
	return n.Int64, nil
}

// CompleteMass records a mass batch's outcome. When it was sent it also adds
// one to the month's quota of each recipient, in the same transaction.
func (db *DB) CompleteMass(ctx context.Context, owner string, r OutboxResult, month string, sentTo, overQuota []string) error {
	oq, err := json.Marshal(overQuota)
	if err != nil {
		return fmt.Errorf("complete mass %d: %w", r.ID, err)
	}
	if overQuota == nil {
		oq = nil
	}
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := db.now()
		next := now
		if !r.NextAt.IsZero() {
			next = utc(r.NextAt)
		}
		var sent sql.NullTime
		if r.State == OutboxSent {
			sent = sql.NullTime{Time: now, Valid: true}
		}
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = ?, channel = 'mass', err_code = ?, err_msg = ?, next_at = ?,
 wx_msg_id = ?, recipients = ?, over_quota = ?, sent_at = ?, lease_owner = '', updated_at = ?
 WHERE id = ? AND state = 'sending' AND lease_owner = ?`,
			r.State, r.ErrCode, truncate(r.ErrMsg, 255), next, r.WxMsgID, len(sentTo), nullString(oq), sent, now, r.ID, owner)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 || r.State != OutboxSent {
			return err
		}
		q := `INSERT INTO mass_quota (open_id, month, used) VALUES %s
 ON CONFLICT (open_id, month) DO UPDATE SET used = mass_quota.used + 1`
		if db.mysql() {
			q = `INSERT INTO mass_quota (open_id, month, used) VALUES %s ON DUPLICATE KEY UPDATE used = used + 1`
		}
		for part := range slices.Chunk(sentTo, 1000) {
			args := make([]any, 0, 3*len(part))
			for _, o := range part {
				args = append(args, o, month, 1)
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(q, placeholders(len(part), 3)), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("complete mass %d: %w", r.ID, err)
	}
	return nil
}

func nullString(b []byte) sql.NullString {
	if b == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: string(b), Valid: true}
}

// ---- figures ----

// OutboxStats are the figures the delivery metrics show.
type OutboxStats struct {
	// Depth counts the rows waiting or in flight (pending, sending) by kind.
	Depth map[string]int64
	// Unknown counts mass batches whose outcome is unknown.
	Unknown int64
	// OldestPending is when the oldest due pending row became due (zero: none).
	OldestPending time.Time
}

// OutboxStats counts the queue.
func (db *DB) OutboxStats(ctx context.Context) (OutboxStats, error) {
	type row struct {
		Kind  string `db:"kind"`
		State string `db:"state"`
		N     int64  `db:"n"`
	}
	var rs []row
	if err := db.r.SelectContext(ctx, &rs, `SELECT kind, state, COUNT(*) AS n FROM outbox
 WHERE state IN ('pending', 'sending', 'unknown') GROUP BY kind, state`); err != nil {
		return OutboxStats{}, fmt.Errorf("outbox stats: %w", err)
	}
	st := OutboxStats{Depth: map[string]int64{}}
	for _, r := range rs {
		if r.State == OutboxUnknown {
			st.Unknown += r.N
			continue
		}
		st.Depth[r.Kind] += r.N
	}
	// ORDER BY … LIMIT 1 rather than MIN(): SQLite keeps the column's DATETIME
	// type (and so the time scan) only for a plain column.
	var oldest []time.Time
	if err := db.r.SelectContext(ctx, &oldest, `SELECT next_at FROM outbox WHERE state = 'pending' ORDER BY next_at LIMIT 1`); err != nil {
		return OutboxStats{}, fmt.Errorf("outbox oldest: %w", err)
	}
	if len(oldest) == 1 {
		st.OldestPending = oldest[0].UTC()
	}
	return st, nil
}

// OutboxCounts returns how many rows are in each state (tests, the benchmark).
func (db *DB) OutboxCounts(ctx context.Context) (map[string]int64, error) {
	type row struct {
		State string `db:"state"`
		N     int64  `db:"n"`
	}
	var rs []row
	if err := db.r.SelectContext(ctx, &rs, `SELECT state, COUNT(*) AS n FROM outbox GROUP BY state`); err != nil {
		return nil, fmt.Errorf("outbox counts: %w", err)
	}
	out := map[string]int64{}
	for _, r := range rs {
		out[r.State] = r.N
	}
	return out, nil
}
