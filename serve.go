package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"
	"unionbot/web"
	"unionbot/wx"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"unionbot/admin"
	"unionbot/bot"
	"unionbot/config"
	"unionbot/delivery"
	"unionbot/handlers"
	"unionbot/localwx"
	"unionbot/pii"
	"unionbot/roster"
	"unionbot/storage"
	"unionbot/storage/kv"
)

// Local mode talks to the built-in emulator with these fixed credentials.
const (
	localAppID  = "wx0000local0000000"
	localSecret = "unionbot-local-secret"
	localPrefix = "/_local"
)

// app is one running service: everything serve wires together.
type app struct {
	cfg      config.Config
	logger   *slog.Logger
	db       *storage.DB
	kv       kv.Store
	closers  []func() error
	callback *wx.Callback
	handler  http.Handler
	emulator *localwx.Emulator // local mode only
	registry *prometheus.Registry
	baseURL  string            // how this process reaches itself
	delivery *delivery.Worker  // serve_delivery.go
	router   *bot.Router       // forms maintenance (serve_forms.go)
	notices  *noticeLoop       // scheduled notices, reminders, follower sync (serve_notices.go)
	handoff  *handlers.Handoff // 人工 maintenance (serve_handoff.go)
	roster   *roster.Jobs      // confirmed roster imports, resumed across replicas
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// openDB opens the database (MySQL or embedded) and migrates it. It also
// returns the PII cipher, made from UNIONBOT_SECRET_KEY (or, in local mode, a
// key generated once in the data directory).
func openDB(ctx context.Context, cfg config.Config, logger *slog.Logger) (*storage.DB, *pii.Cipher, error) {
	key := cfg.SecretKey
	if len(key) == 0 {
		var err error
		if key, err = config.EnsureSecretKey(cfg.DataDir); err != nil {
			return nil, nil, fmt.Errorf("local secret key: %w", err)
		}
	}
	cipher, err := pii.NewCipher(key)
	if err != nil {
		return nil, nil, fmt.Errorf("secret key: %w", err)
	}
	db, err := storage.Open(ctx, storage.Options{MySQLDSN: cfg.MySQLDSN, DataDir: cfg.DataDir, Cipher: cipher})
	if err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("migrate: %w", err)
	}
	if len(applied) > 0 {
		logger.InfoContext(ctx, "migrations applied", "dialect", db.Dialect(), "versions", applied)
	}
	return db, cipher, nil
}

// openKV opens Redis when configured, else an in-process store.
func openKV(ctx context.Context, cfg config.Config, logger *slog.Logger) (kv.Store, func() error, error) {
	if len(cfg.Redis.Addrs) == 0 {
		mem := kv.NewMemory()
		return mem, func() error { mem.Close(); return nil }, nil
	}
	// go-redis prints to the standard logger by default (one line per failed
	// dial while Redis is down); route it into ours, below the errors our
	// own code reports for the same outage.
	redisLogOnce.Do(func() { redis.SetLogger(redisLogger{logger}) })
	rc, err := kv.OpenRedis(ctx, cfg.Redis.Addrs, cfg.Redis.Password, cfg.Redis.DB)
	if err != nil {
		return nil, nil, fmt.Errorf("open redis: %w", err)
	}
	store := kv.NewRedis(rc, cfg.Redis.Prefix)
	// Load the turn scripts on every node now, so that no member's first
	// message pays an extra round trip for NOSCRIPT.
	if err := store.LoadScripts(ctx); err != nil {
		rc.Close()
		return nil, nil, fmt.Errorf("open redis: %w", err)
	}
	return store, rc.Close, nil
}

// redisLogOnce guards go-redis's package-level logger, which may be set only
// once per process (tests wire several apps in one process).
var redisLogOnce sync.Once

// redisLogger adapts slog to go-redis's logger interface.
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.DebugContext(ctx, "redis client", "msg", fmt.Sprintf(format, v...))
}

// wechatConfig is the official account's configuration; local mode uses the
// emulator's fixed credentials, and an empty APIBase there means "the
// emulator", which the caller locates.
func wechatConfig(cfg config.Config) wx.WeChatConfig {
	w := wx.WeChatConfig{
		AppID: cfg.WeChat.AppID, Secret: cfg.WeChat.Secret, Token: cfg.WeChat.Token,
		AESKey: cfg.WeChat.AESKey, APIBase: cfg.WeChat.APIBase, HTTPTimeout: 5 * time.Second,
	}
	if cfg.LocalMode() {
		w.AppID, w.Secret = localAppID, localSecret
	}
	return w
}

// newApp wires the service. baseURL is how the process reaches its own
// listener (local mode points the WeChat API base at its own emulator).
func newApp(ctx context.Context, cfg config.Config, logger *slog.Logger, baseURL string) (*app, error) {
	a := &app{cfg: cfg, logger: logger, baseURL: baseURL, registry: prometheus.NewRegistry()}
	warnPlainMode(cfg, logger)
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	db, cipher, err := openDB(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	a.db, a.closers = db, []func() error{db.Close}
	store, closeKV, err := openKV(ctx, cfg, logger)
	if err != nil {
		db.Close()
		return nil, err
	}
	a.kv, a.closers = store, append(a.closers, closeKV)
	ok := false
	defer func() {
		if !ok {
			a.close()
		}
	}()

	wcfg := wechatConfig(cfg)
	if cfg.LocalMode() {
		a.emulator = localwx.NewEmulator(localwx.EmulatorOptions{AppID: localAppID, AppSecret: localSecret, StrictTemplates: true, MaxRecords: 10000})
		if wcfg.APIBase == "" {
			// The bot reaches its emulator on a private loopback listener
			// that closes only with storage, after late replies are out:
			// the public one stops accepting first at shutdown.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return nil, fmt.Errorf("emulator listener: %w", err)
			}
			emuSrv := &http.Server{Handler: a.emulator, ReadHeaderTimeout: 5 * time.Second}
			go emuSrv.Serve(ln)
			a.closers = append(a.closers, emuSrv.Close)
			wcfg.APIBase = selfURL(ln.Addr())
		}
	}
	wc, err := wx.NewWeChat(wcfg, a.kv, logger)
	if err != nil {
		return nil, fmt.Errorf("wechat: %w", err)
	}
	sender := wx.NewSender(wc)
	// Local mode's emulator has no follower list to sync from.
	var followers followerSource
	if !cfg.LocalMode() {
		followers = sender
	}
	a.notices = newNoticeLoop(a.db, followers, cfg.PublicURL, logger)
	a.roster = roster.NewJobs(a.db, logger)
	if err := a.newDelivery(ctx, sender); err != nil {
		return nil, err
	}

	router := bot.NewRouter(logger)
	useForms(router, a.db, sender)
	a.router = router
	svc, err := handlers.Register(router, handlers.Deps{Store: a.db, KV: a.kv, Logger: logger, UnionName: cfg.UnionName, PublicURL: cfg.PublicURL,
		StaffHours: cfg.StaffHours, HandoffRetention: cfg.HandoffRetention, LegalPromise: cfg.LegalPromise})
	if err != nil {
		return nil, fmt.Errorf("handlers: %w", err)
	}
	svc.Knowledge.Retention = cfg.UnansweredRetention
	a.handoff = svc.Handoff
	if err := svc.SeedDefaults(ctx); err != nil {
		return nil, fmt.Errorf("seed defaults: %w", err)
	}
	// Sessions and kept replies are sealed when they leave the process (Redis
	// is not where personal data may sit in clear); in the in-process store
	// they sit beside the key that would seal them, so sealing would only
	// cost CPU and memory.
	var sealer bot.Sealer
	if len(cfg.Redis.Addrs) > 0 {
		sealer = cipher
	}
	engine := bot.New(bot.Deps{Store: a.kv, Router: router, Logger: logger, SessionTTL: cfg.SessionTTL, Sealer: sealer, Forms: a.db})
	a.callback = wx.NewCallback(wx.CallbackOptions{
		WeChat: wc, Engine: engine, Pusher: sender, Logger: logger, ReplyTimeout: cfg.ReplyTimeout,
		Observe: newCallbackMetrics(a.registry),
	})
	a.handler = a.routes()
	ok = true
	return a, nil
}

// routes is the one place every HTTP route is listed.
func (a *app) routes() http.Handler {
	m := web.NewHTTPMetrics(a.registry)

	mux := http.NewServeMux()
	mux.Handle("/wechat", a.callback)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", a.readiness())
	mux.Handle("GET /n/{id}", noticePage(a.db, a.cfg.UnionName))
	admin.New(admin.Deps{DB: a.db, KV: a.kv, Logger: a.logger, UnionName: a.cfg.UnionName,
		PublicURL: a.cfg.PublicURL, TrustedProxies: a.cfg.TrustedProxies, RosterJobs: a.roster}).Mount(mux)
	if a.emulator != nil {
		client := a.localClient()
		mux.Handle(localPrefix+"/wechat/", web.LoopbackOnly(http.StripPrefix(localPrefix+"/wechat", a.emulator)))
		mux.Handle(localPrefix+"/", web.LoopbackOnly(localwx.LocalUI(client, a.emulator, localwx.LocalUIOptions{
			Prefix: localPrefix, Title: a.cfg.UnionName + "（本地模式）", Menu: localMenu(), Logger: a.logger,
		})))
		mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, localPrefix+"/chat", http.StatusFound)
		})
	}
	return web.WithRequest(a.logger, web.Recoverer(a.logger, m.Wrap(mux)))
}

// localMenu turns the WeChat custom menu into the chat page's menu, keeping
// its top-level buttons and their sub-menus.
func localMenu() []localwx.MenuButton {
	m, err := handlers.ParseMenu(handlers.MenuJSON())
	if err != nil {
		return nil
	}
	var conv func([]handlers.MenuButton) []localwx.MenuButton
	conv = func(bs []handlers.MenuButton) []localwx.MenuButton {
		var out []localwx.MenuButton
		for _, b := range bs {
			if b.Type == "click" || len(b.SubButton) > 0 {
				out = append(out, localwx.MenuButton{Label: b.Name, Key: b.Key, Sub: conv(b.SubButton)})
			}
		}
		return out
	}
	return conv(m.Button)
}

// localClient plays the WeChat server against this process (local mode).
func (a *app) localClient() *localwx.Client {
	mode := localwx.Plain
	if a.cfg.WeChat.AESKey != "" {
		mode = localwx.Safe
	}
	return &localwx.Client{
		URL: a.baseURL + "/wechat", Token: a.cfg.WeChat.Token, AppID: localAppID,
		AESKey: a.cfg.WeChat.AESKey, Mode: mode, HTTP: &http.Client{Timeout: 20 * time.Second},
	}
}

// pinger is what /readyz asks of a dependency.
type pinger interface {
	Ping(ctx context.Context) error
}

// readyCheck is one dependency of /readyz, by the name the 503 gives it.
type readyCheck struct {
	name string
	dep  pinger
}

// readyBudget is how long each dependency has to answer /readyz.
const readyBudget = 2 * time.Second

// readiness checks the database and the kv store.
func (a *app) readiness() http.HandlerFunc {
	kvName := "kv"
	if len(a.cfg.Redis.Addrs) > 0 {
		kvName = "redis"
	}
	return readyHandler(a.logger, readyBudget, readyCheck{"database", a.db}, readyCheck{kvName, a.kv})
}

// readyHandler pings every dependency at once, each within its own budget,
// and answers 503 naming only those that failed or did not answer in time: a
// hanging database must not use up Redis's time and get Redis blamed too. A
// ping that ignores its context is not waited for beyond the budget.
func readyHandler(logger *slog.Logger, budget time.Duration, checks ...readyCheck) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		type result struct {
			i   int
			err error
		}
		results := make(chan result, len(checks))
		for i, c := range checks {
			go func() {
				ctx, cancel := context.WithTimeout(r.Context(), budget)
				defer cancel()
				results <- result{i, c.dep.Ping(ctx)}
			}()
		}
		failed := make([]error, len(checks))
		for i := range checks {
			failed[i] = context.DeadlineExceeded // until it answers
		}
		timer := time.NewTimer(budget + budget/10)
		defer timer.Stop()
	wait:
		for range checks {
			select {
			case res := <-results:
				failed[res.i] = res.err
			case <-timer.C:
				break wait
			}
		}
		var problems []string
		for i, err := range failed {
			if err != nil {
				logger.WarnContext(r.Context(), "readiness: "+checks[i].name, "err", err)
				problems = append(problems, checks[i].name)
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if len(problems) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "unavailable: %s\n", strings.Join(problems, ", "))
			return
		}
		io.WriteString(w, "ready\n")
	}
}

// warnPlainMode warns, once at start, when a real account runs without an
// AES key: plain mode's signature does not cover the message body.
func warnPlainMode(cfg config.Config, logger *slog.Logger) {
	if cfg.LocalMode() || cfg.WeChat.AESKey != "" {
		return
	}
	logger.Warn("WeChat plain mode: UNIONBOT_WECHAT_AES_KEY is not set, so message bodies are not signed; " +
		"switch the account to safe mode (安全模式) and set the EncodingAESKey (README.md, \"Safe mode\")")
}

// metricsHandler serves Prometheus metrics: only on UNIONBOT_METRICS_ADDR,
// never on the public listener.
func (a *app) metricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{}))
	return mux
}

// listenMetrics opens the metrics listener; nil when metrics are off. In
// local mode an address already in use is a warning (someone trying the bot
// may well run something on 9090); with a real account it stops the start.
func listenMetrics(cfg config.Config, logger *slog.Logger) (net.Listener, error) {
	if cfg.MetricsAddr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err == nil {
		return ln, nil
	}
	if cfg.LocalMode() {
		logger.Warn("metrics listener unavailable, running without /metrics (set UNIONBOT_METRICS_ADDR to another address, or off)",
			"addr", cfg.MetricsAddr, "err", err)
		return nil, nil
	}
	return nil, fmt.Errorf("metrics listener %s: %w (set UNIONBOT_METRICS_ADDR to another address, or off)", cfg.MetricsAddr, err)
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.logger.Warn("close", "err", err)
		}
	}
}

// cmdServe runs the HTTP server until ctx ends (SIGTERM), then drains: new
// connections stop, in-flight requests and late replies finish.
func cmdServe(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments (got %q)", args)}
	}
	logger := newLogger(cfg, stderr)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	mln, err := listenMetrics(cfg, logger)
	if err != nil {
		ln.Close()
		return err
	}
	base := selfURL(ln.Addr())
	a, err := newApp(ctx, cfg, logger, base)
	if err != nil {
		ln.Close()
		if mln != nil {
			mln.Close()
		}
		return err
	}
	defer a.close()
	if mln != nil {
		msrv := &http.Server{Handler: a.metricsHandler(), ReadHeaderTimeout: 5 * time.Second}
		go msrv.Serve(mln)
		defer msrv.Close() // after the drain: its figures are worth scraping
		logger.Info("metrics server", "addr", mln.Addr().String())
	}
	logger.Info("unionbot started", "addr", ln.Addr().String(), "config", cfg)
	if cfg.LocalMode() {
		fmt.Fprintf(stdout, `
unionbot 本地模式已启动 (local mode: embedded database, built-in WeChat emulator)
  浏览器聊天 / browser chat:  %[1]s/_local/chat
  终端聊天 / terminal chat:   unionbot chat --url %[1]s
  回调地址 / callback:        %[1]s/wechat   (token: %[2]s)
  数据目录 / data dir:        %[3]s
`, base, cfg.WeChat.Token, cfg.DataDir)
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	waitDelivery := a.runDelivery(ctx)
	go a.runFormMaintenance(ctx, a.router)
	go a.notices.run(ctx)
	go a.runHandoffMaintenance(ctx)
	go a.roster.Loop(ctx, rosterSweepEvery)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if cfg.DebugAddr != "" {
		go serveDebug(ctx, cfg.DebugAddr, logger)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("shutdown", "err", err)
	}
	// Late handlers (replies going out as customer-service messages) share
	// the one budget, so the process stops within UNIONBOT_SHUTDOWN_TIMEOUT
	// (keep it below the orchestrator's grace period); storage closes only
	// after they are done or the budget is spent.
	if err := a.callback.Wait(sctx); err != nil {
		logger.Warn("late replies not finished", "err", err)
	}
	waitDelivery(time.Until(deadlineOf(sctx)))
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// serveDebug serves pprof on its own listener until ctx ends.
func serveDebug(ctx context.Context, addr string, logger *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	logger.Info("debug server", "addr", addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("debug server", "err", err)
	}
}

// selfURL turns a listener address into a URL this process can call.
func selfURL(addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
