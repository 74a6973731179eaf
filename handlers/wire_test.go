package handlers_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"unionbot/admin"
	"unionbot/bot"
	"unionbot/handlers"
	"unionbot/internal/testclock"
	"unionbot/localwx"
	"unionbot/storage"
	"unionbot/storage/kv"
	"unionbot/storage/kv/kvtest"
	"unionbot/storage/storagetest"
	"unionbot/web"
	"unionbot/wx"
)

// The bot as it is served, for tests over HTTP: the localwx client plays the WeChat server
// posting to the real callback, the emulator plays WeChat's API (media, customer-service
// messages), and the handlers, forms (drafts, photos fetched from the emulator) and the
// console's API run on a real database and kv store. A fixture made by wireFixture sends
// every message this way, so the fixture's helpers (say, bind, fileClaim…) work over HTTP.

const wireAppID, wireSecret, wireToken = "wx0123456789abcdef", "s3cret", "tok3n"

// wireBackend is a database and kv store pair the bot is served on.
type wireBackend struct {
	name string
	// open gives the database and kv store, and flush, which loses every key of the kv store
	// as a Redis restart without persistence does (nil: the store lives in the bot's process
	// and goes with it).
	open func(t *testing.T) (db *storage.DB, store kv.Store, flush func())
	// restarted is the kv store a restarted bot process finds: the same Redis, or a new
	// in-process store.
	restarted func(t testing.TB, old kv.Store) kv.Store
}

// wireBackends are the two ways the bot is deployed: embedded (SQLite, in-process kv) and
// MariaDB + Redis (under a private key prefix).
var wireBackends = []wireBackend{
	{name: "embedded",
		open:      func(t *testing.T) (*storage.DB, kv.Store, func()) { return storagetest.Embedded(t), memoryKV(t), nil },
		restarted: func(t testing.TB, _ kv.Store) kv.Store { return memoryKV(t) }},
	{name: "mysql+redis",
		open: func(t *testing.T) (*storage.DB, kv.Store, func()) {
			c := kvtest.Redis(t)
			prefix := kvtest.PrefixOn(t, c)
			return storagetest.MySQL(t), kv.NewRedis(c, prefix), func() { flushPrefix(t, c, prefix) }
		},
		restarted: func(_ testing.TB, old kv.Store) kv.Store { return old }},
}

// flushPrefix deletes every key under prefix.
func flushPrefix(t *testing.T, c redis.UniversalClient, prefix string) {
	t.Helper()
	ctx := t.Context()
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("scan %s*: %v", prefix, err)
	}
	for _, k := range keys {
		if err := c.Del(ctx, k).Err(); err != nil {
			t.Fatalf("del %s: %v", k, err)
		}
	}
	if len(keys) == 0 {
		t.Fatalf("no keys under %s to lose", prefix)
	}
}

// wire is one running bot process behind its callback URL.
type wire struct {
	emu    *localwx.Emulator
	sender *wx.Sender
	srv    *httptest.Server
	cb     *wx.Callback
	client *localwx.Client
}

// wireFixture serves the bot on the backend, on the fixture's date (2026-05-03 10:30 in
// Shanghai), with the WeChat emulator; mod adjusts the handlers' dependencies.
func wireFixture(t *testing.T, be wireBackend, emuOpts localwx.EmulatorOptions, mod ...func(*handlers.Deps)) *fixture {
	t.Helper()
	base, store, flush := be.open(t)
	clock := testclock.New(time.Date(2026, 5, 3, 10, 30, 0, 0, shanghai))
	emuOpts.AppID, emuOpts.AppSecret = wireAppID, wireSecret
	emu := localwx.NewEmulator(emuOpts)
	emuSrv := httptest.NewServer(emu)
	t.Cleanup(emuSrv.Close)
	f := &fixture{t: t, db: base.WithClock(clock.Now), kv: store, clock: clock, mods: mod, apiBase: emuSrv.URL,
		flushKV: flush, backend: be}
	f.boot(emu)
	return f
}

// boot starts a bot process over the fixture's database and kv store (the emulator, WeChat,
// is the same across restarts).
func (f *fixture) boot(emu *localwx.Emulator) {
	t := f.t
	logger := slog.New(slog.DiscardHandler)
	wc, err := wx.NewWeChat(wx.WeChatConfig{AppID: wireAppID, Secret: wireSecret, Token: wireToken,
		APIBase: f.apiBase, HTTPTimeout: 3 * time.Second}, f.kv, logger)
	if err != nil {
		t.Fatal(err)
	}
	sender := wx.NewSender(wc)
	r := bot.NewRouter(logger)
	r.UseForms(bot.FormOptions{Drafts: f.db, Now: f.clock.Now,
		Photos: &bot.MediaPhotos{Fetch: sender.DownloadMedia, Save: f.db, Now: f.clock.Now}})
	d := handlers.Deps{Store: f.db, KV: f.kv, Logger: logger, Now: f.clock.Now, UnionName: "测试县总工会"}
	for _, m := range f.mods {
		m(&d)
	}
	svc, err := handlers.Register(r, d)
	if err != nil {
		t.Fatal(err)
	}
	engine := bot.New(bot.Deps{Store: f.kv, Router: r, Logger: logger, Now: f.clock.Now, Forms: f.db})
	cb := wx.NewCallback(wx.CallbackOptions{WeChat: wc, Engine: engine, Pusher: sender, Logger: logger, Now: f.clock.Now})
	mux := http.NewServeMux()
	mux.Handle("/wechat", cb)
	admin.New(admin.Deps{DB: f.db, KV: f.kv, Logger: logger, Now: f.clock.Now}).Mount(mux)
	srv := httptest.NewServer(web.WithRequest(logger, mux))
	w := &wire{emu: emu, sender: sender, srv: srv, cb: cb,
		client: &localwx.Client{URL: srv.URL + "/wechat", Token: wireToken, AppID: wireAppID, Mode: localwx.Plain, NoRetry: true, Now: f.clock.Now}}
	t.Cleanup(w.stop)
	f.wire, f.svc, f.bot = w, svc, engine
}

// stop shuts the process down: no new requests, the ones in flight finished.
func (w *wire) stop() {
	w.srv.Close()
	_ = w.cb.Wait(context.Background())
}

// restart stops the bot process and starts a new one over the same database, with the kv
// store a new process finds on this backend.
func (f *fixture) restart() {
	f.t.Helper()
	f.wire.stop()
	f.kv = f.backend.restarted(f.t, f.kv)
	f.boot(f.wire.emu)
}

// sendWire posts in to the callback as WeChat would and returns the reply's text.
func (f *fixture) sendWire(in bot.Input) string {
	f.t.Helper()
	resp, err := f.wire.client.Send(f.t.Context(), wireMessage(in))
	if err != nil {
		f.t.Fatalf("send %+v: %v", in, err)
	}
	return resp.Text
}

// wireMessage is the WeChat message of an input.
func wireMessage(in bot.Input) localwx.Message {
	switch in.Kind {
	case bot.KindImage:
		return localwx.ImageMsg(in.OpenID, in.MediaID, "")
	case bot.KindEvent:
		return localwx.EventMsg(in.OpenID, in.Event, in.EventKey)
	}
	return localwx.TextMsg(in.OpenID, in.Text)
}

// photoBytes is a JPEG of its own for each media id (so no two share a content hash).
func photoBytes(mediaID string) []byte {
	return append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"+mediaID), make([]byte, 200)...)
}
