package storage_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"unionbot/notices"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func (f noticeFixture) activity(t *testing.T, act notices.Activity) storage.Notice {
	t.Helper()
	if act.StartsAt.IsZero() {
		act.StartsAt = noticeStart.Add(72 * time.Hour)
	}
	if act.Place == "" {
		act.Place = "职工之家"
	}
	n := f.create(t, storage.NoticeInput{Title: "羽毛球赛", Body: "欢迎报名", Audience: notices.Audience{Kind: "bound"}, Activity: &act})
	n, err := f.db.PublishNotice(t.Context(), n.ID, storage.PublishOptions{}, officer)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestConcurrentSignupsAtCapacity(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, base *storage.DB) {
		f := newNoticeFixture(t, base)
		n := f.activity(t, notices.Activity{Capacity: 10})
		num := n.Activity.Number
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[string]int{}
		for i := range 100 {
			wg.Go(func() {
				_, err := f.db.SignUp(t.Context(), num, storage.SignupIn{OpenID: fmt.Sprintf("g%03d", i), GuestName: "张三", GuestPhone: "13800000000"})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					counts["ok"]++
				case errors.Is(err, storage.ErrActivityFull):
					counts["full"]++
				default:
					counts[err.Error()]++
				}
			})
		}
		wg.Wait()
		if counts["ok"] != 10 || counts["full"] != 90 {
			t.Fatalf("outcomes %v, want 10 signed up and 90 full", counts)
		}
		got, err := f.db.ActivityByNumber(t.Context(), num)
		if err != nil || got.Activity.Taken != 10 {
			t.Fatalf("taken %+v %v", got.Activity, err)
		}
		list, err := f.db.ActivitySignups(t.Context(), num)
		if err != nil || len(list) != 10 || list[0].Name != "张三" {
			t.Fatalf("list %d %v", len(list), err)
		}
	})
}

func TestSignupWaitingListAndCancel(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, base *storage.DB) {
		f := newNoticeFixture(t, base)
		ctx := t.Context()
		n := f.activity(t, notices.Activity{Capacity: 2, Waitlist: true, MembersOnly: true,
			SignupDeadline: noticeStart.Add(48 * time.Hour)})
		num := n.Activity.Number
		member := func(i int) storage.SignupIn {
			return storage.SignupIn{OpenID: fmt.Sprintf("o%d", i), MemberID: memberByNo(t, f.db, fmt.Sprintf("M%06d", i)).ID}
		}
		for i, want := range []string{storage.SignupConfirmed, storage.SignupConfirmed, storage.SignupWaiting, storage.SignupWaiting} {
			res, err := f.db.SignUp(ctx, num, member(i+1))
			if err != nil || res.Status != want {
				t.Fatalf("sign-up %d: %+v %v, want %s", i+1, res, err, want)
			}
			if want == storage.SignupWaiting && res.Position != i-1 {
				t.Errorf("sign-up %d position %d", i+1, res.Position)
			}
		}
		if res, err := f.db.SignUp(ctx, num, member(1)); !errors.Is(err, storage.ErrAlreadySigned) || res.Status != storage.SignupConfirmed {
			t.Errorf("twice: %+v %v", res, err)
		}
		// o1 cancels: o3, first in the queue, gets the place and a message.
		res, err := f.db.CancelSignup(ctx, num, "o1")
		if err != nil || res.Was != storage.SignupConfirmed || res.Promoted != "o3" {
			t.Fatalf("cancel: %+v %v", res, err)
		}
		mine, err := f.db.SignupsOf(ctx, "o3")
		if err != nil || len(mine) != 1 || mine[0].Status != storage.SignupConfirmed {
			t.Fatalf("o3: %+v %v", mine, err)
		}
		mine, _ = f.db.SignupsOf(ctx, "o4")
		if len(mine) != 1 || mine[0].Status != storage.SignupWaiting || mine[0].Position != 1 {
			t.Errorf("o4: %+v", mine)
		}
		rows, err := storage.RawRows(ctx, f.db, `SELECT open_id, kind, service FROM outbox WHERE dedup_key LIKE 'activity:%promoted%'`)
		if err != nil || len(rows) != 1 || rows[0][0] != "o3" {
			t.Errorf("promotion message %v %v", rows, err)
		}
		// A waiting person who cancels frees nothing; a place left with no queue is freed.
		if _, err := f.db.CancelSignup(ctx, num, "o4"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.CancelSignup(ctx, num, "o2"); err != nil {
			t.Fatal(err)
		}
		got, _ := f.db.ActivityByNumber(ctx, num)
		if got.Activity.Taken != 1 {
			t.Errorf("taken %d, want 1 (o3)", got.Activity.Taken)
		}
		if _, err := f.db.CancelSignup(ctx, num, "o2"); !errors.Is(err, storage.ErrNotSignedUp) {
			t.Errorf("cancel twice: %v", err)
		}
		// Signing up again after cancelling works while there is room.
		if res, err := f.db.SignUp(ctx, num, member(2)); err != nil || res.Status != storage.SignupConfirmed {
			t.Errorf("again: %+v %v", res, err)
		}
		// After the deadline: closed.
		f.clock.Set(noticeStart.Add(49 * time.Hour))
		if _, err := f.db.SignUp(ctx, num, member(5)); !errors.Is(err, storage.ErrSignupClosed) {
			t.Errorf("after the deadline: %v", err)
		}
	})
}

func TestActivityReminders(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, base *storage.DB) {
		f := newNoticeFixture(t, base)
		ctx := t.Context()
		n := f.activity(t, notices.Activity{StartsAt: noticeStart.Add(72 * time.Hour), RemindBefore: 24 * time.Hour})
		num := n.Activity.Number
		for _, o := range []string{"o1", "o2", "g1"} {
			if _, err := f.db.SignUp(ctx, num, storage.SignupIn{OpenID: o, GuestName: "李四", GuestPhone: "13900000000"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.db.CancelSignup(ctx, num, "o2"); err != nil {
			t.Fatal(err)
		}
		if k, err := f.db.SendActivityReminders(ctx); err != nil || k != 0 {
			t.Fatalf("too early: %d %v", k, err)
		}
		f.clock.Set(noticeStart.Add(48 * time.Hour))
		if k, err := f.db.SendActivityReminders(ctx); err != nil || k != 2 {
			t.Fatalf("reminders %d %v, want 2", k, err)
		}
		if k, _ := f.db.SendActivityReminders(ctx); k != 0 {
			t.Errorf("reminded twice: %d", k)
		}
		rows, err := storage.RawRows(ctx, f.db, `SELECT open_id, kind, service, content FROM outbox WHERE kind = 'reminder' ORDER BY open_id`)
		if err != nil || len(rows) != 2 || rows[0][0] != "g1" || rows[1][0] != "o1" || rows[0][2] != "1" {
			t.Errorf("reminder rows %v %v", rows, err)
		}
		if g, err := f.db.GuestContactOf(ctx, "g1"); err != nil || g.Name != "李四" {
			t.Errorf("guest contact %+v %v", g, err)
		}
	})
}
