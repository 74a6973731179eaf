package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Follow events can arrive late or out of order (WeChat retries, replicas racing), so each
// upsert keeps the newest timestamp of each kind and lets the follower's state follow the
// newest event: an older subscribe never revives a newer unsubscribe, and vice versa. The
// subscribed assignment comes first because MySQL evaluates ON DUPLICATE KEY UPDATE
// assignments left to right and it must see the old timestamps. (SQLite stores times as
// UTC text in one format, which sorts in time order.)
const (
	subscribeMySQL = `INSERT INTO followers (open_id, subscribed, subscribed_at, unsubscribed_at) VALUES (?, 1, ?, NULL)
ON DUPLICATE KEY UPDATE
    subscribed = IF(unsubscribed_at IS NULL OR VALUES(subscribed_at) >= unsubscribed_at, 1, subscribed),
    subscribed_at = IF(subscribed_at IS NULL OR VALUES(subscribed_at) > subscribed_at, VALUES(subscribed_at), subscribed_at)`

	unsubscribeMySQL = `INSERT INTO followers (open_id, subscribed, subscribed_at, unsubscribed_at) VALUES (?, 0, NULL, ?)
ON DUPLICATE KEY UPDATE
    subscribed = IF(subscribed_at IS NULL OR VALUES(unsubscribed_at) >= subscribed_at, 0, subscribed),
    unsubscribed_at = IF(unsubscribed_at IS NULL OR VALUES(unsubscribed_at) > unsubscribed_at, VALUES(unsubscribed_at), unsubscribed_at)`

	subscribeSQLite = `INSERT INTO followers (open_id, subscribed, subscribed_at, unsubscribed_at) VALUES (?, 1, ?, NULL)
ON CONFLICT (open_id) DO UPDATE SET
    subscribed = CASE WHEN followers.unsubscribed_at IS NULL OR excluded.subscribed_at >= followers.unsubscribed_at
        THEN 1 ELSE followers.subscribed END,
    subscribed_at = CASE WHEN followers.subscribed_at IS NULL OR excluded.subscribed_at > followers.subscribed_at
        THEN excluded.subscribed_at ELSE followers.subscribed_at END`

	unsubscribeSQLite = `INSERT INTO followers (open_id, subscribed, subscribed_at, unsubscribed_at) VALUES (?, 0, NULL, ?)
ON CONFLICT (open_id) DO UPDATE SET
    subscribed = CASE WHEN followers.subscribed_at IS NULL OR excluded.unsubscribed_at >= followers.subscribed_at
        THEN 0 ELSE followers.subscribed END,
    unsubscribed_at = CASE WHEN followers.unsubscribed_at IS NULL OR excluded.unsubscribed_at > followers.unsubscribed_at
        THEN excluded.unsubscribed_at ELSE followers.unsubscribed_at END`
)

// RecordSubscribe records that openID followed the account at at.
func (db *DB) RecordSubscribe(ctx context.Context, openID string, at time.Time) error {
	q := subscribeSQLite
	if db.mysql() {
		q = subscribeMySQL
	}
	if err := db.recordFollow(ctx, q, openID, at); err != nil {
		return fmt.Errorf("record subscribe of %s: %w", openID, err)
	}
	return nil
}

// RecordUnsubscribe records that openID unfollowed the account at at.
func (db *DB) RecordUnsubscribe(ctx context.Context, openID string, at time.Time) error {
	q := unsubscribeSQLite
	if db.mysql() {
		q = unsubscribeMySQL
	}
	if err := db.recordFollow(ctx, q, openID, at); err != nil {
		return fmt.Errorf("record unsubscribe of %s: %w", openID, err)
	}
	return nil
}

func (db *DB) recordFollow(ctx context.Context, q, openID string, at time.Time) error {
	if openID == "" {
		return fmt.Errorf("%w: empty openid", ErrInvalid)
	}
	if at.IsZero() {
		at = db.now()
	}
	_, err := db.w.ExecContext(ctx, q, openID, utc(at))
	return err
}

type followerRow struct {
	OpenID         string       `db:"open_id"`
	Subscribed     bool         `db:"subscribed"`
	SubscribedAt   sql.NullTime `db:"subscribed_at"`
	UnsubscribedAt sql.NullTime `db:"unsubscribed_at"`
}

// Follower returns what is known about openID, or ErrNotFound.
func (db *DB) Follower(ctx context.Context, openID string) (Follower, error) {
	var r followerRow
	err := db.r.GetContext(ctx, &r, `SELECT open_id, subscribed, subscribed_at, unsubscribed_at FROM followers WHERE open_id = ?`, openID)
	if err != nil {
		return Follower{}, fmt.Errorf("follower %s: %w", openID, mapErr(err))
	}
	return Follower{
		OpenID:         r.OpenID,
		Subscribed:     r.Subscribed,
		SubscribedAt:   timeOf(r.SubscribedAt),
		UnsubscribedAt: timeOf(r.UnsubscribedAt),
	}, nil
}
