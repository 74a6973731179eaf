package storage

// The follower list and WeChat tags as pulled by sync-followers, so that "all followers"
// includes people who followed before the bot existed (no subscribe event ever reached
// us), and notices can target tags.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// FollowerSync is what SyncFollowers changed.
type FollowerSync struct {
	Listed  int // openids WeChat listed
	Added   int // unknown to us before
	Revived int // recorded as unfollowed, but listed (they followed again while we missed it)
	Gone    int // recorded as following, but not listed (they unfollowed while we missed it)
}

// SyncFollowers reconciles the followers table with the complete list WeChat gave, fetched
// from started on. Events newer than started win over the list: a follower whose
// unsubscribe arrived after started stays unfollowed, and one who followed after started
// is never marked gone.
func (db *DB) SyncFollowers(ctx context.Context, listed []string, started time.Time) (FollowerSync, error) {
	started = utc(started)
	res := FollowerSync{Listed: len(listed)}
	type row struct {
		OpenID       string     `db:"open_id"`
		Subscribed   bool       `db:"subscribed"`
		SubscribedAt *time.Time `db:"subscribed_at"`
		Unsubscribed *time.Time `db:"unsubscribed_at"`
	}
	var known []row
	if err := db.r.SelectContext(ctx, &known, `SELECT open_id, subscribed, subscribed_at, unsubscribed_at FROM followers`); err != nil {
		return res, fmt.Errorf("sync followers: %w", err)
	}
	inList := make(map[string]bool, len(listed))
	for _, o := range listed {
		inList[o] = true
	}
	byID := make(map[string]row, len(known))
	for _, k := range known {
		byID[k.OpenID] = k
	}
	var add, revive, gone []string
	for o := range inList {
		k, ok := byID[o]
		switch {
		case !ok:
			add = append(add, o)
		case !k.Subscribed && (k.Unsubscribed == nil || k.Unsubscribed.Before(started)):
			revive = append(revive, o)
		}
	}
	for _, k := range known {
		if k.Subscribed && !inList[k.OpenID] && (k.SubscribedAt == nil || k.SubscribedAt.Before(started)) {
			gone = append(gone, k.OpenID)
		}
	}
	slices.Sort(add)
	insert := `INSERT INTO followers (open_id, subscribed, subscribed_at, unsubscribed_at) VALUES %s ON CONFLICT (open_id) DO NOTHING`
	if db.mysql() {
		insert = `INSERT INTO followers (open_id, subscribed, subscribed_at, unsubscribed_at) VALUES %s ON DUPLICATE KEY UPDATE open_id = open_id`
	}
	for part := range slices.Chunk(add, 500) {
		err := db.inTx(ctx, func(tx *sqlx.Tx) error {
			args := make([]any, 0, 2*len(part))
			for _, o := range part {
				args = append(args, o, started)
			}
			values := strings.TrimSuffix(strings.Repeat("(?, 1, ?, NULL), ", len(part)), ", ")
			_, err := tx.ExecContext(ctx, fmt.Sprintf(insert, values), args...)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("sync followers: %w", err)
		}
		res.Added += len(part)
	}
	for _, o := range revive {
		r, err := db.w.ExecContext(ctx, `UPDATE followers SET subscribed = 1, subscribed_at = ?
 WHERE open_id = ? AND subscribed = 0 AND (unsubscribed_at IS NULL OR unsubscribed_at < ?)`, started, o, started)
		if err != nil {
			return res, fmt.Errorf("sync followers: %w", err)
		}
		if k, _ := r.RowsAffected(); k == 1 {
			res.Revived++
		}
	}
	for _, o := range gone {
		r, err := db.w.ExecContext(ctx, `UPDATE followers SET subscribed = 0, unsubscribed_at = ?
 WHERE open_id = ? AND subscribed = 1 AND (subscribed_at IS NULL OR subscribed_at < ?)`, started, o, started)
		if err != nil {
			return res, fmt.Errorf("sync followers: %w", err)
		}
		if k, _ := r.RowsAffected(); k == 1 {
			res.Gone++
		}
	}
	return res, nil
}

// WxTag is a WeChat user tag with its followers.
type WxTag struct {
	ID        int64
	Name      string
	Followers int
	OpenIDs   []string // when syncing
}

// ReplaceTags stores the account's tags and who has each, replacing what was stored.
func (db *DB) ReplaceTags(ctx context.Context, tags []WxTag) error {
	now := db.now()
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM follower_tags`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM wx_tags`); err != nil {
			return err
		}
		for _, t := range tags {
			if _, err := tx.ExecContext(ctx, `INSERT INTO wx_tags (id, name, followers, synced_at) VALUES (?, ?, ?, ?)`,
				t.ID, t.Name, len(t.OpenIDs), now); err != nil {
				return err
			}
			ids := slices.Compact(slices.Sorted(slices.Values(t.OpenIDs)))
			for part := range slices.Chunk(ids, 500) {
				args := make([]any, 0, 2*len(part))
				for _, o := range part {
					args = append(args, t.ID, o)
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO follower_tags (tag_id, open_id) VALUES `+placeholders(len(part), 2), args...); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replace tags: %w", err)
	}
	return nil
}

// WxTags lists the stored tags by name.
func (db *DB) WxTags(ctx context.Context) ([]WxTag, error) {
	var rs []struct {
		ID        int64  `db:"id"`
		Name      string `db:"name"`
		Followers int    `db:"followers"`
	}
	if err := db.r.SelectContext(ctx, &rs, `SELECT id, name, followers FROM wx_tags ORDER BY name`); err != nil {
		return nil, fmt.Errorf("tags: %w", err)
	}
	out := make([]WxTag, len(rs))
	for i, r := range rs {
		out[i] = WxTag{ID: r.ID, Name: r.Name, Followers: r.Followers}
	}
	return out, nil
}
