package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"unionbot/config"
	"unionbot/handlers"
	"unionbot/localwx"
	"unionbot/roster"
	"unionbot/wx"
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
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usageError{fmt.Sprintf("import-members needs exactly one FILE (CSV or XLSX), got %d: %q", len(files), files)}
	}
	path := files[0]
	// Look at the file before opening the database, so that a wrong path
	// neither creates ./data nor hides behind a migration log line.
	if err := checkRosterFile(path); err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	db, _, err := openDB(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	im := &roster.Importer{Store: db, Opts: roster.Options{DryRun: *dry, BatchSize: *batch}}
	start := time.Now()
	rep, err := im.ImportFile(ctx, path)
	var fe *roster.FileError
	if errors.As(err, &fe) {
		return fmt.Errorf("%s：%s（未导入任何数据）", path, fe.Reason)
	}
	if err != nil {
		return fmt.Errorf("导入 %s 失败（未导入任何数据）：%w", path, err)
	}
	fmt.Fprintln(stdout, rep.Summary())
	fmt.Fprintf(stdout, "用时 %.1f 秒\n", time.Since(start).Seconds())
	if rep.Rejected > 0 {
		// The valid rows are in; a non-zero exit makes scripts notice the rest.
		if *dry {
			return fmt.Errorf("有 %d 行未通过校验，见上方错误明细；改正后再导入", rep.Rejected)
		}
		return fmt.Errorf("有 %d 行未通过校验、未导入，见上方错误明细；其余行已导入，改正这些行后可再次导入同一文件", rep.Rejected)
	}
	return nil
}

// checkRosterFile says in Chinese, for the officer running the import, why
// path cannot be a roster file.
func checkRosterFile(path string) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		wd, _ := os.Getwd()
		return fmt.Errorf("找不到名册文件 %s（当前目录：%s）。请检查文件名和路径；未导入任何数据", path, wd)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("没有权限读取名册文件 %s；未导入任何数据", path)
	case err != nil:
		return fmt.Errorf("无法读取名册文件 %s：%v；未导入任何数据", path, err)
	case st.IsDir():
		return fmt.Errorf("%s 是一个目录，不是名册文件（CSV 或 XLSX）；未导入任何数据", path)
	}
	return nil
}

// parseInterspersed parses flags placed before, between or after the
// positional arguments (import-members FILE --dry-run), which the flag
// package alone stops at the first positional; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse consumed a "--" when it is what stopped it.
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// cmdSyncMenu publishes handlers' menu through the WeChat API (the emulator in
// local mode, which then needs the local server running).
func cmdSyncMenu(ctx context.Context, cfg config.Config, stdout, stderr io.Writer) error {
	logger := newLogger(cfg, stderr)
	wcfg := wechatConfig(cfg)
	wcfg.HTTPTimeout = 10 * time.Second
	if wcfg.APIBase == "" { // local mode: the running server's emulator
		if err := checkRunning(ctx, localBase(cfg), "go run . sync-menu"); err != nil {
			return fmt.Errorf("本地模式下，菜单发布到正在运行的服务里的模拟器。%w", err)
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
	if err := checkRunning(ctx, base, "go run . chat"); err != nil {
		return err
	}
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

// checkRunning makes sure something answers base/healthz, so that a command
// that needs the running bot says how to start it instead of printing a dial
// error (for sync-menu, one naming the real WeChat host). next is the command
// to run again once the bot is up. Any HTTP answer will do.
func checkRunning(ctx context.Context, base, next string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	if err != nil {
		return fmt.Errorf("地址 %s 无效：%v", base, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		return nil
	}
	cause := "连接超时"
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		cause = "该端口没有程序在监听"
	case ctx.Err() == nil:
		cause = err.Error()
	}
	return fmt.Errorf("连接不上 %s 上的机器人服务（%s）。\n"+
		"先启动服务：go run .（或 ./unionbot），等它打印“本地模式已启动”后，在另一个终端运行 %s。\n"+
		"服务若监听在别的地址，请让两边的 UNIONBOT_ADDR 相同。", base, cause, next)
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
