package wx

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/credential"
	"github.com/silenceper/wechat/v2/officialaccount"
	"github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/material"
	"github.com/silenceper/wechat/v2/officialaccount/menu"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/officialaccount/user"
	"github.com/silenceper/wechat/v2/util"
	"github.com/sirupsen/logrus"

	"unionbot/storage/kv"
)

// DefaultAPIBase is where WeChat's API lives.
const DefaultAPIBase = "https://api.weixin.qq.com"

// WeChatConfig is what the WeChat edge needs. AESKey is the 43-character
// EncodingAESKey, required for safe and compatible mode. APIBase redirects
// every outbound call (the emulator in tests and local mode).
type WeChatConfig struct {
	AppID, Secret, Token, AESKey, APIBase string
	HTTPTimeout                           time.Duration // per outbound call; default 5 s
}

// WeChat holds the SDK client of one official account and its sub-clients,
// built once because the SDK's lazy getters are not goroutine-safe.
type WeChat struct {
	cfg      WeChatConfig
	oa       *officialaccount.OfficialAccount
	tokens   *Tokens
	custom   *message.Manager
	template *message.Template
	material *material.Material
	menu     *menu.Menu
	user     *user.User
	logger   *slog.Logger
}

// NewWeChat builds the SDK client. It touches two process globals, on purpose
// and only here:
//   - util.DefaultHTTPClient, the SDK's HTTP client, gets a timeout and (when
//     APIBase is not WeChat's) a transport that sends every request there; the
//     last NewWeChat call wins, so a process has one WeChat.
//   - logrus, the SDK's logger, is held at warn level with its output
//     discarded: at debug level the SDK logs decrypted messages and replies.
//
// The root package github.com/silenceper/wechat/v2 is never imported: its
// init() turns logrus to debug.
func NewWeChat(cfg WeChatConfig, store kv.Store, logger *slog.Logger) (*WeChat, error) {
	if cfg.AppID == "" || cfg.Token == "" {
		return nil, errors.New("new wechat: app id and token are required")
	}
	if cfg.AESKey != "" && len(cfg.AESKey) != 43 {
		return nil, errors.New("new wechat: the AES key must be 43 characters")
	}
	if store == nil {
		return nil, errors.New("new wechat: kv store is required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPTimeout <= 0 {
		cfg.HTTPTimeout = 5 * time.Second
	}
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultAPIBase
	}
	client, err := newHTTPClient(cfg.APIBase, cfg.HTTPTimeout)
	if err != nil {
		return nil, fmt.Errorf("new wechat: %w", err)
	}

	quietSDKLogs()
	util.DefaultHTTPClient = client

	kvc := kvCache{store: store, timeout: cfg.HTTPTimeout}
	oa := officialaccount.NewOfficialAccount(&config.Config{
		AppID:          cfg.AppID,
		AppSecret:      cfg.Secret,
		Token:          cfg.Token,
		EncodingAESKey: cfg.AESKey,
		Cache:          kvc,
		UseStableAK:    true,
	})
	stable, ok := credential.NewStableAccessToken(cfg.AppID, cfg.Secret, credential.CacheKeyOfficialAccountPrefix, kvc).(*credential.StableAccessToken)
	if !ok {
		return nil, errors.New("new wechat: unexpected stable token handle type")
	}
	// The lock wait and the fetch itself both fit in this budget.
	tokens := newTokens(cfg.AppID, store, stable, tokenLockTTL+cfg.HTTPTimeout, logger)
	oa.SetAccessTokenHandle(tokens)

	w := &WeChat{cfg: cfg, oa: oa, tokens: tokens, logger: logger}
	// Each lazy getter once, here, before any goroutine can race on it.
	w.custom = oa.GetCustomerMessageManager()
	w.template = oa.GetTemplate()
	w.material = oa.GetMaterial()
	w.menu = oa.GetMenu()
	w.user = oa.GetUser()
	return w, nil
}

// Tokens returns the shared access-token handle.
func (w *WeChat) Tokens() *Tokens { return w.tokens }

// AppID returns the account's app id.
func (w *WeChat) AppID() string { return w.cfg.AppID }

// quietSDKLogs keeps the SDK's logrus output free of message content.
func quietSDKLogs() {
	logrus.SetLevel(logrus.WarnLevel)
	logrus.SetOutput(io.Discard)
}

func newHTTPClient(apiBase string, timeout time.Duration) (*http.Client, error) {
	base, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, errors.New("default transport is not *http.Transport")
	}
	tr := base.Clone()
	// Broadcasts send many messages to one host: keep connections for reuse.
	tr.MaxIdleConnsPerHost = 64
	var rt http.RoundTripper = tr
	if strings.TrimRight(apiBase, "/") != DefaultAPIBase {
		u, err := url.Parse(apiBase)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("bad API base %q", apiBase)
		}
		rt = rewriteTransport{target: u, next: tr}
	}
	return &http.Client{Timeout: timeout, Transport: rt}, nil
}

// rewriteTransport sends every request to target, keeping path and query.
// It sits under the SDK's whole HTTP layer, so it also covers URLs the SDK
// hands out, such as GetMediaURL's.
type rewriteTransport struct {
	target *url.URL
	next   http.RoundTripper
}

func (t rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme = t.target.Scheme
	req.URL.Host = t.target.Host
	req.Host = t.target.Host
	if p := strings.TrimRight(t.target.Path, "/"); p != "" {
		req.URL.Path = p + req.URL.Path
		if req.URL.RawPath != "" {
			req.URL.RawPath = p + req.URL.RawPath
		}
	}
	return t.next.RoundTrip(req)
}
