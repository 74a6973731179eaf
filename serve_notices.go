package main

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"unionbot/notices"
	"unionbot/storage"
)

// The notices scheduler and the public notice page. Every replica runs the loop: each
// step is safe to run concurrently (a scheduled notice is sent by the replica whose
// version check wins, an activity is reminded by the one that marks it, a notice is
// finished once), so there is nothing to elect.

// noticeLoop publishes scheduled notices, enqueues activity reminders, marks finished
// notices done, and syncs the follower list once a day.
type noticeLoop struct {
	db        *storage.DB
	src       followerSource // nil: no daily follower sync (local mode)
	publicURL string
	logger    *slog.Logger
	every     time.Duration
	syncEvery time.Duration
	now       func() time.Time
}

func newNoticeLoop(db *storage.DB, src followerSource, publicURL string, logger *slog.Logger) *noticeLoop {
	return &noticeLoop{db: db, src: src, publicURL: publicURL, logger: logger, every: 30 * time.Second,
		syncEvery: 24 * time.Hour, now: time.Now}
}

// tick runs the scheduled work once.
func (l *noticeLoop) tick(ctx context.Context) {
	if sent, err := l.db.PublishDue(ctx, l.publicURL); err != nil {
		l.logger.ErrorContext(ctx, "publish scheduled notices", "err", err)
	} else if len(sent) > 0 {
		l.logger.InfoContext(ctx, "scheduled notices published", "notices", sent)
	}
	if n, err := l.db.SendActivityReminders(ctx); err != nil {
		l.logger.ErrorContext(ctx, "activity reminders", "err", err)
	} else if n > 0 {
		l.logger.InfoContext(ctx, "activity reminders enqueued", "reminders", n)
	}
	if _, err := l.db.FinishNotices(ctx); err != nil {
		l.logger.ErrorContext(ctx, "finish notices", "err", err)
	}
}

func (l *noticeLoop) run(ctx context.Context) {
	t := time.NewTicker(l.every)
	defer t.Stop()
	var lastSync time.Time
	for {
		l.tick(ctx)
		if l.src != nil && l.now().Sub(lastSync) >= l.syncEvery {
			lastSync = l.now()
			if r, err := syncFollowers(ctx, l.src, l.db, l.now); err != nil {
				l.logger.ErrorContext(ctx, "daily follower sync", "err", err)
			} else {
				l.logger.InfoContext(ctx, "followers synced", "listed", r.Listed, "added", r.Added, "gone", r.Gone, "tags", r.Tags)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// noticePage serves GET /n/{id}: the full text of a published notice, for phones.
func noticePage(db *storage.DB, unionName string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		var n storage.Notice
		if err == nil {
			n, err = db.NoticeByID(r.Context(), id)
		}
		if err == nil && !n.Published() {
			err = storage.ErrNotFound
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=60")
		if err != nil {
			if !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, strconv.ErrSyntax) && !errors.Is(err, strconv.ErrRange) {
				slog.ErrorContext(r.Context(), "notice page", "err", err)
			}
			w.WriteHeader(http.StatusNotFound)
			_ = noticeTmpl.Execute(w, noticeView{Union: unionName, Title: "通知不存在", Paras: []string{"这条通知不存在或已撤回。"}})
			return
		}
		v := noticeView{Union: unionName, Title: n.Title, Date: n.PublishedAt.In(notices.ChinaTime).Format("2006年1月2日")}
		for _, p := range strings.Split(n.Body, "\n") {
			if p = strings.TrimSpace(p); p != "" {
				v.Paras = append(v.Paras, p)
			}
		}
		if a := n.Activity; a != nil {
			v.Activity = true
			v.When, v.Place, v.Number = notices.When(a.StartsAt), a.Place, a.Number
			v.Deadline = notices.When(a.SignupDeadline)
			if a.Capacity > 0 {
				v.Capacity = strconv.Itoa(a.Capacity) + "人"
			} else {
				v.Capacity = "不限"
			}
			v.MembersOnly = a.MembersOnly || n.Audience.MembersOnly()
		}
		_ = noticeTmpl.Execute(w, v)
	})
}

type noticeView struct {
	Union, Title, Date              string
	Paras                           []string
	Activity, MembersOnly           bool
	When, Place, Deadline, Capacity string
	Number                          int64
}

var noticeTmpl = template.Must(template.New("notice").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{margin:0;font:17px/1.7 -apple-system,"PingFang SC","Microsoft YaHei",sans-serif;color:#222;background:#f6f6f6}
main{max-width:680px;margin:0 auto;padding:20px 18px 40px;background:#fff;min-height:100vh;box-sizing:border-box}
h1{font-size:22px;line-height:1.4;margin:0 0 8px;word-break:break-word}
.meta{color:#888;font-size:14px;margin-bottom:18px}
p{margin:0 0 14px;word-break:break-word}
.act{border:1px solid #e5d3b3;background:#fffaf0;border-radius:8px;padding:12px 14px;margin:20px 0}
.act dt{color:#8a6d3b;font-size:14px}.act dd{margin:0 0 8px}
.how{font-size:15px;color:#555}
strong{color:#c0392b}
</style></head><body><main>
<h1>{{.Title}}</h1>
<div class="meta">{{.Union}}{{if .Date}} · {{.Date}}{{end}}</div>
{{range .Paras}}<p>{{.}}</p>
{{end}}{{if .Activity}}<dl class="act" id="activity">
<dt>活动时间</dt><dd>{{.When}}</dd>
<dt>地点</dt><dd>{{.Place}}</dd>
<dt>名额</dt><dd>{{.Capacity}}</dd>
<dt>报名截止</dt><dd>{{.Deadline}}</dd>
</dl>
<p class="how">报名方法：在公众号对话框回复 <strong>报名 {{.Number}}</strong>{{if .MembersOnly}}（限工会会员，请先回复“绑定”绑定会员）{{end}}。不能参加请回复“取消报名 {{.Number}}”。</p>
{{end}}</main></body></html>
`))
