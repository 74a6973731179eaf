package bot_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"unionbot/bot"
	"unionbot/internal/wiretest"
	"unionbot/localwx"
	"unionbot/storage"
	"unionbot/storage/kv"
	"unionbot/storage/storagetest"
)

// A durable form with a photo step, end to end (internal/wiretest): the localwx
// test client plays WeChat's server against the real callback, the emulator
// serves the photos (and has forgotten one), the bot stores them encrypted in
// the database.
func TestFormPhotosThroughTheCallback(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		const openID = "o-form-e2e"
		jpeg := append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), make([]byte, 4096)...)
		png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 1024)...)
		wc := wiretest.NewWeChat(t, localwx.EmulatorOptions{})
		wc.AddMedia("MEDIA-INVOICE-1", "image/jpeg", jpeg)
		wc.AddMedia("MEDIA-INVOICE-2", "image/png", png)
		wc.AddMedia("MEDIA-PDF", "image/jpeg", []byte("%PDF-1.7 renamed"))

		store := kv.NewMemory()
		t.Cleanup(store.Close)
		var mu sync.Mutex
		var submitted []map[string]string
		p := wiretest.Start(t, wc, wiretest.Options{DB: db, KV: store, Register: func(r *bot.Router, _ *slog.Logger) {
			r.Form(&bot.Form{
				Name: "claim", Title: "互助金申请", Durable: true, Confirm: true,
				Steps: []bot.Step{
					{Key: "admitted", Label: "入院", Prompt: "哪天入院的？", Show: bot.ShowDate,
						Check: bot.CheckDate(bot.DateRule{NotFuture: true})},
					{Key: "own", Label: "自付费用", Prompt: "个人自付多少元？", Show: bot.ShowMoney, Check: bot.CheckMoney(bot.MoneyRule{})},
					{Key: "invoices", Label: "发票", Prompt: "请拍照发送住院发票。", Photos: true},
				},
				Submit: func(ctx context.Context, s *bot.Session, d map[string]string) (bot.Reply, error) {
					mu.Lock()
					defer mu.Unlock()
					submitted = append(submitted, d)
					return bot.Text("已提交。"), nil
				},
			}, "互助金")
		}})
		say := func(text string) string { t.Helper(); return p.Send(t, localwx.TextMsg(openID, text)) }
		photo := func(id string) string {
			t.Helper()
			return p.Send(t, localwx.ImageMsg(openID, id, "http://mmbiz.qpic.cn/x"))
		}
		want := func(got string, parts ...string) {
			t.Helper()
			for _, p := range parts {
				if !strings.Contains(got, p) {
					t.Fatalf("reply %q does not contain %q", got, p)
				}
			}
		}

		want(say("互助金"), "（第1/3步）哪天入院")
		want(say("昨天"), "（第2/3步）个人自付")
		want(say("三千五百元"), "（第3/3步）请拍照发送住院发票")
		want(photo("MEDIA-INVOICE-1"), "已收到第1张")
		want(photo("MEDIA-EXPIRED"), "没有收到（可能已过期）")
		want(photo("MEDIA-PDF"), "不是照片")
		want(photo("MEDIA-INVOICE-2"), "已收到第2张")

		// The kv store loses everything: the draft brings the answers back.
		if err := store.Delete(t.Context(), bot.SessionKey(openID)); err != nil {
			t.Fatal(err)
		}
		if err := store.Delete(t.Context(), bot.SeenKey(openID)); err != nil {
			t.Fatal(err)
		}
		want(say("你好"), "您有一份没填完的「互助金申请」（填到第3步）")
		want(say("继续"), "请拍照发送住院发票", "已收到2张")
		want(say("好了"), "1 入院：", "2 自付费用：3,500.00 元", "3 发票：2张")
		want(say("确认"), "已提交")

		if len(submitted) != 1 {
			t.Fatalf("submitted %d times", len(submitted))
		}
		ids := storage.ParseMediaRefs(submitted[0]["invoices"])
		if len(ids) != 2 {
			t.Fatalf("refs %q", submitted[0]["invoices"])
		}
		for i, body := range [][]byte{jpeg, png} {
			m, err := db.MediaByID(t.Context(), ids[i])
			if err != nil || string(m.Data) != string(body) || m.OpenID != openID {
				t.Fatalf("photo %d: %v", i, err)
			}
		}
		if _, _, _, ok, _ := db.FormDraft(t.Context(), openID, "claim"); ok {
			t.Fatal("draft kept after submit")
		}
	})
}
