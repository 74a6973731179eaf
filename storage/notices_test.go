package storage_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"unionbot/internal/testclock"
	"unionbot/notices"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// 2026-07-01 10:00 in China.
var noticeStart = time.Date(2026, 7, 1, 2, 0, 0, 0, time.UTC)

var officer = storage.AuditEntry{Actor: "officer:pub"}

// noticeFixture is a database with members of three units (m1..m9, m%3 picks the unit; the
// even ones enrolled this year), nine of them bound to o1..o9, and followers f1..f5 who are
// no members.
type noticeFixture struct {
	db    *storage.DB
	clock *testclock.Clock
}

func newNoticeFixture(t *testing.T, base *storage.DB) noticeFixture {
	t.Helper()
	clock := testclock.New(noticeStart)
	db := base.WithClock(clock.Now)
	var recs []storage.MemberRecord
	for i := 1; i <= 10; i++ {
		r := rec(i)
		r.MutualAidYears = []int{2025}
		if i%2 == 0 {
			r.MutualAidYears = []int{2025, 2026}
		}
		recs = append(recs, r)
	}
	upsert(t, db, recs...)
	for i := 1; i <= 9; i++ {
		m := memberByNo(t, db, fmt.Sprintf("M%06d", i))
		if err := db.BindMember(t.Context(), m.ID, fmt.Sprintf("o%d", i), storage.AuditEntry{Actor: "test"}); err != nil {
			t.Fatal(err)
		}
		if err := db.RecordSubscribe(t.Context(), fmt.Sprintf("o%d", i), noticeStart.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 5; i++ {
		if err := db.RecordSubscribe(t.Context(), fmt.Sprintf("f%d", i), noticeStart.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	return noticeFixture{db: db, clock: clock}
}

func (f noticeFixture) create(t *testing.T, in storage.NoticeInput) storage.Notice {
	t.Helper()
	if in.Title == "" {
		in.Title, in.Body = "送清凉", "高温慰问品发放"
	}
	n, err := f.db.CreateNotice(t.Context(), in, officer)
	if err != nil {
		t.Fatalf("CreateNotice: %v", err)
	}
	return n
}

func TestNoticeAudienceKinds(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, base *storage.DB) {
		f := newNoticeFixture(t, base)
		ctx := t.Context()
		if err := f.db.ReplaceTags(ctx, []storage.WxTag{{ID: 100, Name: "农民工", OpenIDs: []string{"f1", "f2", "o3"}}}); err != nil {
			t.Fatal(err)
		}
		// o1 sent 退订; f5 unfollowed.
		if err := f.db.SetNoticeOptOut(ctx, "o1", true); err != nil {
			t.Fatal(err)
		}
		if err := f.db.RecordUnsubscribe(ctx, "f5", noticeStart.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			aud            notices.Audience
			scope          int64
			size, out, gon int
		}{
			{notices.Audience{Kind: "all"}, 0, 12, 1, 0},                                       // o1..o9 + f1..f4 (f5 left)
			{notices.Audience{Kind: "bound"}, 0, 8, 1, 0},                                      // o1..o9
			{notices.Audience{Kind: "units", Units: []string{"第1基层工会", "第2基层工会"}}, 0, 5, 1, 0}, // 1,2,4,5,7,8 minus o1
			{notices.Audience{Kind: "enrolled"}, 0, 4, 0, 0},                                   // o2 o4 o6 o8
			{notices.Audience{Kind: "tags", Tags: []string{"农民工"}}, 0, 3, 0, 0},
		}
		for _, c := range cases {
			p, err := f.db.PreviewAudience(ctx, c.aud, c.scope, "")
			if err != nil {
				t.Fatalf("%s: %v", c.aud.Kind, err)
			}
			if p.Size != c.size || p.OptedOut != c.out || p.Unfollowed != c.gon {
				t.Errorf("%s: size %d opted out %d unfollowed %d, want %d %d %d", c.aud.Kind, p.Size, p.OptedOut, p.Unfollowed, c.size, c.out, c.gon)
			}
			if p.Choice.Channel != notices.Individual || p.Choice.Reason == "" {
				t.Errorf("%s: small audience should go one by one with a reason: %+v", c.aud.Kind, p.Choice)
			}
		}
		// A unit's publisher reaches only the unit, and never followers at large.
		u := memberByNo(t, f.db, "M000003").UnitID
		p, err := f.db.PreviewAudience(ctx, notices.Audience{Kind: "bound"}, u, "")
		if err != nil || p.Size != 3 {
			t.Errorf("unit-scoped bound: %+v %v, want 3 (o3 o6 o9)", p, err)
		}
		if _, err := f.db.PreviewAudience(ctx, notices.Audience{Kind: "all"}, u, ""); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("unit-scoped all followers: %v, want ErrInvalid", err)
		}
		if _, err := f.db.CreateNotice(ctx, storage.NoticeInput{Title: "x", Body: "y",
			Audience: notices.Audience{Kind: "units", Units: []string{"没有这个工会"}}}, officer); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("unknown unit: %v", err)
		}
	})
}

func TestPublishMassAndIndividual(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, base *storage.DB) {
		f := newNoticeFixture(t, base)
		ctx := t.Context()
		// Over the individual limit: a mass broadcast, o2 already at the month's quota.
		var many []string
		for i := range 30 {
			o := fmt.Sprintf("x%02d", i)
			many = append(many, o)
			if err := f.db.RecordSubscribe(ctx, o, noticeStart.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if err := storage.Exec(ctx, f.db, `INSERT INTO mass_quota (open_id, month, used) VALUES ('o2', '2026-07', 4)`); err != nil {
			t.Fatal(err)
		}
		p, err := f.db.PreviewAudience(ctx, notices.Audience{Kind: "all"}, 0, "")
		if err != nil || p.Size != 44 || p.OverQuota != 1 || p.Choice.Channel != notices.Mass || p.Month != "2026-07" {
			t.Fatalf("preview all: %+v %v", p, err)
		}
		n := f.create(t, storage.NoticeInput{Audience: notices.Audience{Kind: "all"}})
		if n.Status != notices.Draft {
			t.Fatalf("new notice is %s", n.Status)
		}
		n, err = f.db.PublishNotice(ctx, n.ID, storage.PublishOptions{PublicURL: "https://u.example"}, officer)
		if err != nil {
			t.Fatal(err)
		}
		if n.Status != notices.Sending || n.Channel != notices.Mass || n.AudienceSize != 44 || n.ExcludedQuota != 1 {
			t.Fatalf("published: %+v", n)
		}
		batches, err := f.db.MassBatches(ctx, fmt.Sprintf("notice:%d", n.ID))
		if err != nil || len(batches) != 1 || len(batches[0].Content.OpenIDs) != 44 {
			t.Fatalf("batches %v %v", len(batches), err)
		}
		if !slices.Contains(batches[0].Content.OpenIDs, "x07") {
			t.Errorf("a follower is missing from the batch")
		}
		if _, err := f.db.PublishNotice(ctx, n.ID, storage.PublishOptions{}, officer); !errors.Is(err, notices.ErrIllegal) {
			t.Errorf("publishing twice: %v", err)
		}
		d, err := f.db.NoticeProgress(ctx, n.ID)
		if err != nil || d.Total != 44 || d.Pending != 44 || d.Batches != 1 {
			t.Errorf("progress %+v %v", d, err)
		}

		// A small audience: one personal message each, with the page link.
		small := f.create(t, storage.NoticeInput{Audience: notices.Audience{Kind: "enrolled"}})
		small, err = f.db.PublishNotice(ctx, small.ID, storage.PublishOptions{}, officer)
		if err != nil || small.Channel != notices.Individual || small.AudienceSize != 4 {
			t.Fatalf("small: %+v %v", small, err)
		}
		row, err := f.db.OutboxByKey(ctx, fmt.Sprintf("notice:%d#o:o4", small.ID))
		if err != nil || row.Mass || row.Content.Link != fmt.Sprintf("/n/%d", small.ID) || row.Service {
			t.Errorf("personal row %+v %v", row, err)
		}
	})
}

func TestScheduledPublishingAndCancel(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, base *storage.DB) {
		f := newNoticeFixture(t, base)
		ctx := t.Context()
		at := noticeStart.Add(2 * time.Hour)
		n := f.create(t, storage.NoticeInput{Audience: notices.Audience{Kind: "bound"}, PublishAt: at})
		n, err := f.db.PublishNotice(ctx, n.ID, storage.PublishOptions{Want: notices.Individual}, officer)
		if err != nil || n.Status != notices.Scheduled {
			t.Fatalf("schedule: %+v %v", n, err)
		}
		if sent, err := f.db.PublishDue(ctx, ""); err != nil || len(sent) != 0 {
			t.Fatalf("before its time: %v %v", sent, err)
		}
		f.clock.Set(at)
		sent, err := f.db.PublishDue(ctx, "")
		if err != nil || !slices.Equal(sent, []int64{n.ID}) {
			t.Fatalf("at its time: %v %v", sent, err)
		}
		if again, _ := f.db.PublishDue(ctx, ""); len(again) != 0 {
			t.Errorf("published twice: %v", again)
		}
		n, _ = f.db.NoticeByID(ctx, n.ID)
		if n.Status != notices.Sending || n.Channel != notices.Individual || n.AudienceSize != 9 {
			t.Fatalf("after: %+v", n)
		}
		// Mid-send: a worker holds 4 rows; cancelling stops the 5 still waiting.
		held, err := f.db.ClaimOutbox(ctx, "w1", 4, time.Minute, false)
		if err != nil || len(held) != 4 {
			t.Fatalf("claim %d %v", len(held), err)
		}
		n, stopped, err := f.db.CancelNotice(ctx, n.ID, officer)
		if err != nil || stopped != 5 || n.Status != notices.Cancelled {
			t.Fatalf("cancel: %+v %d %v", n.Status, stopped, err)
		}
		d, err := f.db.NoticeProgress(ctx, n.ID)
		if err != nil || d.Cancelled != 5 || d.Sending != 4 || d.Total != 9 {
			t.Errorf("progress after cancel: %+v %v", d, err)
		}
		if _, _, err := f.db.CancelNotice(ctx, n.ID, officer); !errors.Is(err, notices.ErrIllegal) {
			t.Errorf("cancel twice: %v", err)
		}
		// A finished notice is done once nothing waits.
		m := f.create(t, storage.NoticeInput{Audience: notices.Audience{Kind: "tags", Tags: []string{"none"}}})
		if m, err = f.db.PublishNotice(ctx, m.ID, storage.PublishOptions{}, officer); err != nil || m.AudienceSize != 0 {
			t.Fatal(m, err)
		}
		if k, err := f.db.FinishNotices(ctx); err != nil || k != 1 {
			t.Errorf("finish: %d %v", k, err)
		}
		entries, err := f.db.AuditEntries(ctx, fmt.Sprintf("notice:%d", n.ID), 10)
		if err != nil || len(entries) < 3 {
			t.Errorf("audit of notice: %d %v", len(entries), err)
		}
	})
}

func TestSyncFollowersAndTags(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, base *storage.DB) {
		f := newNoticeFixture(t, base)
		ctx := t.Context()
		// f5 unfollowed before the sync began but is listed (followed again, event missed);
		// f4 is not listed (unfollowed, event missed); o9 unfollowed after the sync began.
		if err := f.db.RecordUnsubscribe(ctx, "f5", noticeStart.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		started := noticeStart
		if err := f.db.RecordUnsubscribe(ctx, "o9", started.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		listed := []string{"o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8", "o9", "f1", "f2", "f3", "f5", "new1", "new2"}
		res, err := f.db.SyncFollowers(ctx, listed, started)
		if err != nil {
			t.Fatal(err)
		}
		if res.Added != 2 || res.Revived != 1 || res.Gone != 1 {
			t.Errorf("sync %+v, want added 2, revived 1, gone 1", res)
		}
		for o, want := range map[string]bool{"new1": true, "f5": true, "f4": false, "o9": false} {
			fl, err := f.db.Follower(ctx, o)
			if err != nil || fl.Subscribed != want {
				t.Errorf("%s subscribed=%v (%v), want %v", o, fl.Subscribed, err, want)
			}
		}
		p, err := f.db.PreviewAudience(ctx, notices.Audience{Kind: "all"}, 0, "")
		if err != nil || p.Size != 14 {
			t.Errorf("all after sync: %+v %v", p, err)
		}
		if err := f.db.ReplaceTags(ctx, []storage.WxTag{{ID: 2, Name: "青年", OpenIDs: []string{"new1", "o1"}}}); err != nil {
			t.Fatal(err)
		}
		tags, err := f.db.WxTags(ctx)
		if err != nil || len(tags) != 1 || tags[0].Followers != 2 {
			t.Errorf("tags %+v %v", tags, err)
		}
	})
}
