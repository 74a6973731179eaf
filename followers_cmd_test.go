package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"unionbot/internal/testclock"
	"unionbot/localwx"
	"unionbot/notices"
	"unionbot/storage"
	"unionbot/storage/kv"
	"unionbot/storage/storagetest"
	"unionbot/wx"
)

func TestSyncFollowersAcrossPages(t *testing.T) {
	emu := localwx.NewEmulator(localwx.EmulatorOptions{AppID: "wxsync", AppSecret: "secret"})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	var ids []string
	for i := range 25 {
		ids = append(ids, fmt.Sprintf("oF%02d", i))
	}
	emu.SetFollowers(ids)
	emu.SetUserPageSize(10) // three pages
	emu.SetTag(101, "农民工", ids[:12])
	emu.SetTag(102, "青年", nil)
	store := kv.NewMemory()
	t.Cleanup(store.Close)
	wc, err := wx.NewWeChat(wx.WeChatConfig{AppID: "wxsync", Secret: "secret", Token: "tok", APIBase: srv.URL,
		HTTPTimeout: 3 * time.Second}, store, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	db := storagetest.Embedded(t)
	ctx := t.Context()
	// oGone followed once and is no longer listed.
	if err := db.RecordSubscribe(ctx, "oGone", time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	r, err := syncFollowers(ctx, wx.NewSender(wc), db, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if r.Listed != 25 || r.Added != 25 || r.Gone != 1 || r.Tags != 2 || r.Pages < 5 {
		t.Fatalf("sync %+v", r)
	}
	p, err := db.PreviewAudience(ctx, notices.Audience{Kind: "tags", Tags: []string{"农民工"}}, 0, "")
	if err != nil || p.Size != 12 {
		t.Errorf("tag audience %+v %v", p, err)
	}
	p, _ = db.PreviewAudience(ctx, notices.Audience{Kind: "all"}, 0, "")
	if p.Size != 25 {
		t.Errorf("all followers after sync: %+v", p)
	}
	// An empty list changes nothing.
	emu.SetFollowers(nil)
	if _, err := syncFollowers(ctx, wx.NewSender(wc), db, time.Now); err == nil {
		t.Errorf("an empty list was applied")
	}
}

func TestNoticeLoopAndPage(t *testing.T) {
	clock := testclock.New(time.Date(2026, 7, 1, 2, 0, 0, 0, time.UTC))
	db := storagetest.Embedded(t).WithClock(clock.Now)
	ctx := t.Context()
	for _, o := range []string{"oA", "oB", "oC"} {
		if err := db.RecordSubscribe(ctx, o, clock.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	by := storage.AuditEntry{Actor: "officer:pub"}
	act := notices.Activity{StartsAt: clock.Now().Add(48 * time.Hour), Place: "县职工之家", Capacity: 30}
	n, err := db.CreateNotice(ctx, storage.NoticeInput{Title: "送清凉", Body: "高温季节慰问一线职工。\n请各基层工会组织报名。",
		Audience: notices.Audience{Kind: "all"}, Activity: &act, PublishAt: clock.Now().Add(time.Hour)}, by)
	if err != nil {
		t.Fatal(err)
	}
	if n, err = db.PublishNotice(ctx, n.ID, storage.PublishOptions{}, by); err != nil || n.Status != notices.Scheduled {
		t.Fatal(n.Status, err)
	}
	page := httptest.NewServer(func() http.Handler {
		mux := http.NewServeMux()
		mux.Handle("GET /n/{id}", noticePage(db, "测试县总工会"))
		return mux
	}())
	t.Cleanup(page.Close)
	get := func(path string) (int, string) {
		resp, err := http.Get(page.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(fmt.Sprintf("/n/%d", n.ID)); code != http.StatusNotFound {
		t.Errorf("unpublished notice page: %d", code)
	}
	loop := newNoticeLoop(db, nil, "", slog.New(slog.DiscardHandler))
	loop.tick(ctx)
	if got, _ := db.NoticeByID(ctx, n.ID); got.Status != notices.Scheduled {
		t.Fatalf("published before its time: %s", got.Status)
	}
	clock.Add(time.Hour)
	loop.tick(ctx)
	if got, _ := db.NoticeByID(ctx, n.ID); got.Status != notices.Sending || got.AudienceSize != 3 {
		t.Fatalf("at its time: %+v", got)
	}
	code, body := get(fmt.Sprintf("/n/%d", n.ID))
	for _, want := range []string{"送清凉", "<p>请各基层工会组织报名。</p>", "县职工之家", "报名 " + fmt.Sprint(n.Activity.Number), "viewport"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("page %d lacks %q", code, want)
		}
	}
	if code, _ := get("/n/abc"); code != http.StatusNotFound {
		t.Errorf("bad id: %d", code)
	}
}
