// Command deliverybench measures the delivery pipeline end to end: N
// individual service notifications in a fresh MariaDB/MySQL database, sent by
// worker processes (this binary again, "worker" mode) over Redis through the
// WeChat emulator, which counts every message per openid. It reports the send
// rate, each worker's peak RSS, duplicates and missing messages, and with
// -kill it kill -9s one worker mid-run.
//
//	go run ./tools/deliverybench -n 100000 -workers 2
//	go run ./tools/deliverybench -n 100000 -workers 2 -kill
//	go run ./tools/deliverybench -n 2000 -workers 2 -rate 500   # the shared rate limit
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"

	"unionbot/delivery"
	"unionbot/localwx"
	"unionbot/pii"
	"unionbot/storage"
	"unionbot/storage/kv"
	"unionbot/wx"
)

const (
	appID  = "wxbench"
	secret = "bench-secret"
	prefix = "deliverybench:"
)

var benchKey = []byte("deliverybench-key-0123456789abcd")

func main() {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		if err := worker(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "deliverybench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("deliverybench", flag.ExitOnError)
	n := fs.Int("n", 100000, "notifications")
	workers := fs.Int("workers", 2, "worker processes")
	dsn := fs.String("dsn", "root@tcp(127.0.0.1:3306)/", "MySQL/MariaDB server (a database deliverybench_<random> is created and dropped)")
	redisAddr := fs.String("redis", "127.0.0.1:6379", "Redis")
	kill := fs.Bool("kill", false, "kill -9 one worker when a third is sent")
	rateLimit := fs.Int("rate", 0, "shared sends per second (0: unthrottled)")
	channel := fs.String("channel", "template", "template (outside 48 h) or custom (recently seen)")
	lease := fs.Duration("lease", 5*time.Second, "lease of a claim")
	fs.Parse(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	// A fresh database.
	cfg, err := mysql.ParseDSN(*dsn)
	if err != nil {
		return err
	}
	name := "deliverybench_" + randHex(4)
	admin, err := sql.Open("mysql", *dsn)
	if err != nil {
		return err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		return err
	}
	defer admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name)
	cfg.DBName = name
	dbDSN := cfg.FormatDSN()
	db, err := storage.Open(ctx, storage.Options{MySQLDSN: dbDSN, Cipher: cipher()})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}

	// The emulator, keeping few records but counting per openid.
	emu := localwx.NewEmulator(localwx.EmulatorOptions{AppID: appID, AppSecret: secret, StrictTemplates: true, MaxRecords: 1000})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go (&http.Server{Handler: emu, ReadHeaderTimeout: 5 * time.Second}).Serve(ln)
	api := "http://" + ln.Addr().String()

	rc, err := kv.OpenRedis(ctx, []string{*redisAddr}, "", 0)
	if err != nil {
		return err
	}
	defer rc.Close()
	kvPrefix := prefix + randHex(4) + ":"
	store := kv.NewRedis(rc, kvPrefix)

	// Enqueue.
	t0 := time.Now()
	openID := func(i int) string { return fmt.Sprintf("oBench%07d", i) }
	now := strconv.FormatInt(time.Now().Unix(), 10)
	// Four loaders at once, 1,000 rows per transaction.
	errc := make(chan error, 4)
	for part := range 4 {
		go func() {
			batch := make([]storage.OutboxMessage, 0, 1000)
			for i := part; i < *n; i += 4 {
				if *channel == "custom" {
					if err := store.Set(ctx, delivery.SeenKey(openID(i)), []byte(now), time.Hour); err != nil {
						errc <- err
						return
					}
				}
				batch = append(batch, storage.OutboxMessage{
					Key: fmt.Sprintf("bench:%d", i), Kind: "claim_status", OpenID: openID(i), Service: true,
					Content: storage.OutboxContent{Text: "您的互助金申请已审核通过，款项将于5个工作日内发放。", Link: fmt.Sprintf("/n/%d", i),
						Fields: map[string]string{"title": "互助金申请", "status": "已通过"}},
				})
				if len(batch) == cap(batch) || i+4 >= *n {
					if _, err := db.EnqueueBatch(ctx, batch); err != nil {
						errc <- err
						return
					}
					batch = batch[:0]
				}
			}
			errc <- nil
		}()
	}
	for range 4 {
		if err := <-errc; err != nil {
			return err
		}
	}
	fmt.Printf("enqueued %d in %.1fs\n", *n, time.Since(t0).Seconds())

	// Workers.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	spawn := func(i int) (*exec.Cmd, error) {
		c := exec.Command(self, "worker", "-dsn", dbDSN, "-redis", *redisAddr, "-prefix", kvPrefix, "-api", api,
			"-owner", fmt.Sprintf("bench-w%d", i), "-rate", strconv.Itoa(*rateLimit), "-lease", lease.String())
		c.Stdout, c.Stderr = os.Stdout, os.Stderr
		return c, c.Start()
	}
	var cmds []*exec.Cmd
	for i := range *workers {
		c, err := spawn(i)
		if err != nil {
			return err
		}
		cmds = append(cmds, c)
	}
	defer func() {
		for _, c := range cmds {
			c.Process.Kill()
		}
	}()
	start := time.Now()
	killed := -1
	var firstSent time.Time
	var last map[string]int64
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(100 * time.Millisecond)
		c, err := db.OutboxCounts(ctx)
		if err != nil {
			return err
		}
		last = c
		done := c[storage.OutboxSent] + c[storage.OutboxUnread] + c[storage.OutboxFailed] + c[storage.OutboxUnknown]
		if firstSent.IsZero() && done > 0 {
			firstSent = time.Now()
		}
		if *kill && killed < 0 && done >= int64(*n)/3 {
			killed = 0
			cmds[0].Process.Signal(syscall.SIGKILL)
			fmt.Printf("kill -9 worker 0 at %d done (%.1fs)\n", done, time.Since(start).Seconds())
		}
		if done >= int64(*n) {
			break
		}
		if time.Since(start) > 30*time.Minute {
			return fmt.Errorf("not done after 30 minutes: %v", c)
		}
	}
	took := time.Since(start)
	for i, c := range cmds {
		if i == killed {
			c.Wait()
			continue
		}
		c.Process.Signal(syscall.SIGTERM)
		c.Wait()
	}
	fmt.Printf("states %v\n", last)
	fmt.Printf("sent %d in %.2fs: %.0f sends/s (from start), %.0f sends/s (from the first send)\n",
		*n, took.Seconds(), float64(*n)/took.Seconds(), float64(*n)/time.Since(firstSent).Seconds())
	for i, c := range cmds {
		if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
			note := ""
			if i == killed {
				note = " (killed)"
			}
			fmt.Printf("worker %d peak RSS %.1f MB%s\n", i, float64(ru.Maxrss)/1024, note)
		}
	}
	counts := emu.SentCounts()
	dups, missing := 0, 0
	for i := range *n {
		switch got := counts[openID(i)]; {
		case got > 1:
			dups++
		case got == 0:
			missing++
		}
	}
	fmt.Printf("emulator: %d openids reached, %d with duplicates, %d missing\n", len(counts), dups, missing)
	if dups > 0 || int64(missing) > last[storage.OutboxUnknown]+last[storage.OutboxFailed] {
		return fmt.Errorf("%d duplicates, %d missing", dups, missing)
	}
	return nil
}

func worker(args []string) error {
	fs := flag.NewFlagSet("worker", flag.ExitOnError)
	dsn := fs.String("dsn", "", "database")
	redisAddr := fs.String("redis", "", "Redis")
	kvPrefix := fs.String("prefix", prefix, "kv prefix")
	api := fs.String("api", "", "WeChat API base")
	owner := fs.String("owner", "", "lease owner")
	rateLimit := fs.Int("rate", 0, "shared sends per second")
	lease := fs.Duration("lease", 5*time.Second, "lease")
	fs.Parse(args)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	db, err := storage.Open(ctx, storage.Options{MySQLDSN: *dsn, Cipher: cipher()})
	if err != nil {
		return err
	}
	defer db.Close()
	rc, err := kv.OpenRedis(ctx, []string{*redisAddr}, "", 0)
	if err != nil {
		return err
	}
	defer rc.Close()
	store := kv.NewRedis(rc, *kvPrefix)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	wc, err := wx.NewWeChat(wx.WeChatConfig{AppID: appID, Secret: secret, Token: "t", APIBase: *api}, store, logger)
	if err != nil {
		return err
	}
	tpl, _ := delivery.ParseTemplates(`{"claim_status":{"template":"TPL_CLAIM","fields":{"thing1":"title","phrase2":"status"}}}`)
	var lim delivery.Limiter
	if *rateLimit > 0 {
		lim = delivery.NewSharedLimiter(rc, strings.TrimSuffix(*kvPrefix, ":")+":delivery", *rateLimit)
	}
	w := delivery.New(delivery.Deps{Store: db, Sender: wx.NewSender(wc), Seen: store, Limiter: lim, Logger: logger},
		delivery.Options{Owner: *owner, Templates: tpl, PublicURL: "https://union.example.cn", Lease: *lease, Poll: 50 * time.Millisecond})
	return w.Run(ctx)
}

func cipher() *pii.Cipher {
	c, err := pii.NewCipher(benchKey)
	if err != nil {
		panic(err)
	}
	return c
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
