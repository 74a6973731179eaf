package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unionbot/wx"

	"unionbot/config"
	"unionbot/handlers"
	"unionbot/localwx"
	"unionbot/roster"
)

// cmdMigrate applies the embedded migrations (also done at every start).
func cmdMigrate(ctx context.Context, cfg config.Config, stdout, stderr io.Writer) error {
	logger := newLogger(cfg, stderr)
	db, _, err := openDB(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "database (%s) is at the latest schema\n", db.Dialect())
	return nil
}

// cmdImport imports the roster file.
func cmdImport(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import-members", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dry := fs.Bool("dry-run", false, "validate only, write nothing")
	batch := fs.Int("batch", 1000, "rows per transaction")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"import-members needs exactly one FILE (CSV or XLSX)"}
	}
	logger := newLogger(cfg, stderr)
	db, _, err := openDB(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	im := &roster.Importer{Store: db, Opts: roster.Options{DryRun: *dry, BatchSize: *batch}}
	start := time.Now()
	rep, err := im.ImportFile(ctx, fs.Arg(0))
	var fe *roster.FileError
	if errors.As(err, &fe) {
		return fmt.Errorf("%s: %s（未导入任何数据）", fs.Arg(0), fe.Reason)
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", fs.Arg(0), err)
	}
	fmt.Fprintln(stdout, rep.Summary())
	fmt.Fprintf(stdout, "用时 %.1f 秒\n", time.Since(start).Seconds())
	if rep.Rejected > 0 {
		// The valid rows are in; a non-zero exit makes scripts notice the rest.
		return fmt.Errorf("%d rows rejected, see the report above", rep.Rejected)
	}
	return nil
}

// cmdSyncMenu publishes handlers' menu through the WeChat API (the emulator in
// local mode, which then needs the local server running).
func cmdSyncMenu(ctx context.Context, cfg config.Config, stdout, stderr io.Writer) error {
	logger := newLogger(cfg, stderr)
	wcfg := wechatConfig(cfg)
	wcfg.HTTPTimeout = 10 * time.Second
	if wcfg.APIBase == "" { // local mode: the running server's emulator
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
	if err := wx.NewSender(wc).SetMenu(ctx, handlers.MenuJSON()); err != nil {
		return fmt.Errorf("publish menu: %w", err)
	}
	fmt.Fprintf(stdout, "menu published (%d keys)\n", len(handlers.MenuKeys()))
	return nil
}

// cmdChat lets a person talk to a running bot from a terminal, as a WeChat
// user would: replies and pushed messages both show.
func cmdChat(ctx context.Context, cfg config.Config, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stdout)
	url := fs.String("url", localBase(cfg), "base URL of the running bot")
	openid := fs.String("openid", "o-terminal-user", "the WeChat openid to chat as")
	if err := fs.Parse(args); err != nil {
		return err
	}
	base := strings.TrimRight(*url, "/")
	mode := localwx.Plain
	if cfg.WeChat.AESKey != "" {
		mode = localwx.Safe
	}
	appID := cfg.WeChat.AppID
	if cfg.LocalMode() {
		appID = localAppID
	}
	c := &localwx.Client{
		URL: base + "/wechat", Token: cfg.WeChat.Token, AppID: appID, AESKey: cfg.WeChat.AESKey,
		Mode: mode, HTTP: &http.Client{Timeout: 20 * time.Second},
	}
	return localwx.Chat(ctx, stdin, stdout, c, base+localPrefix+"/wechat", *openid)
}

// cmdHealthcheck is the Docker HEALTHCHECK: GET /healthz on the local listener.
func cmdHealthcheck(ctx context.Context, cfg config.Config) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, localBase(cfg)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz: %s", resp.Status)
	}
	return nil
}

// localBase is the URL of a server listening on cfg.Addr on this machine.
func localBase(cfg config.Config) string {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return "http://127.0.0.1:8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
