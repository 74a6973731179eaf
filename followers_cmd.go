package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"unionbot/config"
	"unionbot/storage"
	"unionbot/wx"
)

// sync-followers pulls the follower list and user tags from WeChat (user/get paged by
// next_openid, tags/get, user/tag/get), so that "all followers" includes people who
// followed before the bot existed; serve runs it once a day (serve_notices.go).

// followerSource is the part of wx.Sender the sync uses.
type followerSource interface {
	ListFollowers(ctx context.Context, next string) (wx.FollowerPage, error)
	Tags(ctx context.Context) ([]wx.Tag, error)
	TagFollowers(ctx context.Context, id int64, next string) (wx.FollowerPage, error)
}

// followerReport is what a sync did.
type followerReport struct {
	storage.FollowerSync
	Pages, Tags int
}

// pageAll follows next_openid until a page comes back empty, without its successor, or
// pointing back to where it started (a guard against an API that loops).
func pageAll(ctx context.Context, page func(ctx context.Context, next string) (wx.FollowerPage, error)) ([]string, int, error) {
	var all []string
	next, pages := "", 0
	for {
		p, err := page(ctx, next)
		if err != nil {
			return nil, pages, err
		}
		pages++
		all = append(all, p.OpenIDs...)
		if len(p.OpenIDs) == 0 || p.Next == "" || p.Next == next || (p.Total > 0 && len(all) >= p.Total) {
			return all, pages, nil
		}
		next = p.Next
	}
}

// syncFollowers runs one complete sync of followers and tags into db.
func syncFollowers(ctx context.Context, src followerSource, db *storage.DB, now func() time.Time) (followerReport, error) {
	started := now()
	ids, pages, err := pageAll(ctx, src.ListFollowers)
	if err != nil {
		return followerReport{}, fmt.Errorf("follower list: %w", err)
	}
	if len(ids) == 0 {
		// An empty list teaches nothing and would mark every follower gone.
		return followerReport{Pages: pages}, errors.New("WeChat listed no followers; nothing changed")
	}
	res, err := db.SyncFollowers(ctx, ids, started)
	if err != nil {
		return followerReport{}, err
	}
	tags, err := src.Tags(ctx)
	if err != nil {
		return followerReport{FollowerSync: res, Pages: pages}, fmt.Errorf("tags: %w", err)
	}
	stored := make([]storage.WxTag, 0, len(tags))
	for _, t := range tags {
		ids, n, err := pageAll(ctx, func(ctx context.Context, next string) (wx.FollowerPage, error) {
			return src.TagFollowers(ctx, t.ID, next)
		})
		if err != nil {
			return followerReport{FollowerSync: res, Pages: pages}, fmt.Errorf("tag %s: %w", t.Name, err)
		}
		pages += n
		stored = append(stored, storage.WxTag{ID: t.ID, Name: t.Name, OpenIDs: ids})
	}
	if err := db.ReplaceTags(ctx, stored); err != nil {
		return followerReport{FollowerSync: res, Pages: pages}, err
	}
	return followerReport{FollowerSync: res, Pages: pages, Tags: len(tags)}, nil
}

// cmdSyncFollowers is `unionbot sync-followers`.
func cmdSyncFollowers(ctx context.Context, cfg config.Config, stdout, stderr io.Writer) error {
	logger := newLogger(cfg, stderr)
	wcfg := wechatConfig(cfg)
	wcfg.HTTPTimeout = 30 * time.Second
	if wcfg.APIBase == "" { // local mode: the running server's emulator
		if err := checkRunning(ctx, localBase(cfg), "go run . sync-followers"); err != nil {
			return fmt.Errorf("本地模式下，关注者列表从正在运行的服务里的模拟器读取。%w", err)
		}
		wcfg.APIBase = localBase(cfg) + localPrefix + "/wechat"
	}
	store, closeKV, err := openKV(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeKV()
	wc, err := wx.NewWeChat(wcfg, store, logger)
	if err != nil {
		return err
	}
	db, _, err := openDB(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := syncFollowers(ctx, wx.NewSender(wc), db, time.Now)
	if err != nil {
		return fmt.Errorf("同步关注者失败：%w", err)
	}
	fmt.Fprintf(stdout, "关注者同步完成：微信列出 %d 人（%d 页），新增 %d，重新关注 %d，已取消关注 %d；标签 %d 个。\n",
		r.Listed, r.Pages, r.Added, r.Revived, r.Gone, r.Tags)
	return nil
}
