// Package wiretest serves the bot for tests the way it runs in production, over HTTP: the
// localwx client plays the WeChat server posting to the real callback, the localwx emulator
// plays WeChat's API (access tokens, the media members send, customer-service messages), and
// forms keep their drafts and photos in the database. Tests give the database, the kv store,
// the clock and what the router serves; restarting the bot is starting another Process over
// the same database and emulator.
package wiretest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"unionbot/admin"
	"unionbot/bot"
	"unionbot/localwx"
	"unionbot/storage"
	"unionbot/storage/kv"
	"unionbot/web"
	"unionbot/wx"
)

// The test account's credentials.
const (
	AppID  = "wx0123456789abcdef"
	Secret = "s3cret"
	Token  = "tok3n"
)

// WeChat is the emulated WeChat API, the same across bot restarts.
type WeChat struct {
	*localwx.Emulator
	URL string
}

// NewWeChat serves an emulator for the test account (opts' AppID and AppSecret are set).
func NewWeChat(t testing.TB, opts localwx.EmulatorOptions) *WeChat {
	t.Helper()
	opts.AppID, opts.AppSecret = AppID, Secret
	emu := localwx.NewEmulator(opts)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &WeChat{Emulator: emu, URL: srv.URL}
}

// Options are what a bot process runs on.
type Options struct {
	DB *storage.DB
	KV kv.Store
	// Now is the clock of the bot, the callback's timestamp window and the client (time.Now
	// when nil), so a test may move time.
	Now func() time.Time
	// Register adds the capabilities to the router, which already has durable forms and
	// photo steps fetching from the emulator.
	Register func(r *bot.Router, logger *slog.Logger)
	// Admin mounts the officers' console and API beside the callback.
	Admin bool
}

// Process is one running bot behind its callback URL.
type Process struct {
	Sender *wx.Sender
	Server *httptest.Server
	Client *localwx.Client
	cb     *wx.Callback
}

// Start runs a bot process talking to wc; it is stopped at the end of the test.
func Start(t testing.TB, wc *WeChat, o Options) *Process {
	t.Helper()
	if o.Now == nil {
		o.Now = time.Now
	}
	logger := slog.New(slog.DiscardHandler)
	api, err := wx.NewWeChat(wx.WeChatConfig{AppID: AppID, Secret: Secret, Token: Token, APIBase: wc.URL, HTTPTimeout: 3 * time.Second}, o.KV, logger)
	if err != nil {
		t.Fatal(err)
	}
	sender := wx.NewSender(api)
	r := bot.NewRouter(logger)
	r.UseForms(bot.FormOptions{Drafts: o.DB, Now: o.Now, Photos: &bot.MediaPhotos{Fetch: sender.DownloadMedia, Save: o.DB, Now: o.Now}})
	o.Register(r, logger)
	engine := bot.New(bot.Deps{Store: o.KV, Router: r, Logger: logger, Now: o.Now, Forms: o.DB})
	cb := wx.NewCallback(wx.CallbackOptions{WeChat: api, Engine: engine, Pusher: sender, Logger: logger, Now: o.Now})
	mux := http.NewServeMux()
	mux.Handle("/wechat", cb)
	if o.Admin {
		admin.New(admin.Deps{DB: o.DB, KV: o.KV, Logger: logger, Now: o.Now}).Mount(mux)
	}
	p := &Process{Sender: sender, Server: httptest.NewServer(web.WithRequest(logger, mux)), cb: cb}
	p.Client = &localwx.Client{URL: p.Server.URL + "/wechat", Token: Token, AppID: AppID, Mode: localwx.Plain, NoRetry: true, Now: o.Now}
	t.Cleanup(p.Stop)
	return p
}

// Stop shuts the process down: no new requests, the ones in flight finished. Stopping twice
// is harmless.
func (p *Process) Stop() {
	p.Server.Close()
	_ = p.cb.Wait(context.Background())
}

// Send posts m to the callback as WeChat would and returns the reply's text; the test fails
// when the bot does not answer.
func (p *Process) Send(t testing.TB, m localwx.Message) string {
	t.Helper()
	resp, err := p.Client.Send(t.Context(), m)
	if err != nil {
		t.Fatalf("send %s: %v", m.XML(), err)
	}
	return resp.Text
}

// Message is the WeChat message of an input.
func Message(in bot.Input) localwx.Message {
	switch in.Kind {
	case bot.KindImage:
		return localwx.ImageMsg(in.OpenID, in.MediaID, "http://mmbiz.qpic.cn/x")
	case bot.KindEvent:
		return localwx.EventMsg(in.OpenID, in.Event, in.EventKey)
	}
	return localwx.TextMsg(in.OpenID, in.Text)
}

// Photo is a JPEG of its own for each media id (no two share a content hash).
func Photo(mediaID string) []byte {
	return append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"+mediaID), make([]byte, 200)...)
}
