package storage_test

import (
	"errors"
	"testing"
	"time"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func TestFollowers(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := t.Context()
		t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		at := func(d time.Duration) time.Time { return t0.Add(d) }
		check := func(step string, subscribed bool, subAt, unsubAt time.Time) {
			t.Helper()
			f, err := db.Follower(ctx, "oFan")
			if err != nil {
				t.Fatalf("%s: Follower: %v", step, err)
			}
			if f.OpenID != "oFan" || f.Subscribed != subscribed || !f.SubscribedAt.Equal(subAt) || !f.UnsubscribedAt.Equal(unsubAt) {
				t.Errorf("%s: got %+v, want subscribed=%v at %v, unsubscribed at %v", step, f, subscribed, subAt, unsubAt)
			}
		}

		steps := []struct {
			name      string
			subscribe bool
			at        time.Time
			wantSub   bool
			wantSubAt time.Time
			wantUnAt  time.Time
		}{
			{"first follow", true, at(0), true, at(0), time.Time{}},
			{"unfollow", false, at(time.Second), false, at(0), at(time.Second)},
			{"late older follow", true, at(500 * time.Millisecond), false, at(500 * time.Millisecond), at(time.Second)},
			{"follow again", true, at(time.Second + 1500*time.Microsecond), true, at(time.Second + 1500*time.Microsecond), at(time.Second)},
			{"late older unfollow", false, at(time.Second + time.Microsecond), true, at(time.Second + 1500*time.Microsecond), at(time.Second + time.Microsecond)},
		}
		for _, s := range steps {
			var err error
			if s.subscribe {
				err = db.RecordSubscribe(ctx, "oFan", s.at)
			} else {
				err = db.RecordUnsubscribe(ctx, "oFan", s.at)
			}
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			check(s.name, s.wantSub, s.wantSubAt, s.wantUnAt)
		}

		if err := db.RecordUnsubscribe(ctx, "oOnlyLeft", at(0)); err != nil {
			t.Fatal(err)
		}
		if f, err := db.Follower(ctx, "oOnlyLeft"); err != nil || f.Subscribed || !f.SubscribedAt.IsZero() {
			t.Errorf("unfollow first: got %+v, %v", f, err)
		}
		if _, err := db.Follower(ctx, "oStranger"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("unknown follower: got %v, want ErrNotFound", err)
		}
	})
}
