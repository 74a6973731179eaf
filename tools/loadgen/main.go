// Command loadgen drives a running unionbot's /wechat callback with mixed,
// signed WeChat traffic (as the WeChat server would send it) and reports
// throughput, latency percentiles and errors. It only targets the URL given
// (default loopback), runs for a bounded time and stops by itself.
//
//	go run ./tools/loadgen -url http://127.0.0.1:8080 -duration 30s -concurrency 64
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"unionbot/localwx"
)

// The traffic mix: mostly questions (FAQ), then menu, membership look-ups,
// menu clicks and follow events, roughly what follows a broadcast.
var questions = []string{
	"会费怎么交", "怎么加入工会", "互助金要准备什么材料", "农民工被拖欠工资怎么办", "12351是什么电话",
	"困难职工帮扶有什么条件", "送温暖活动什么时候", "普惠商户有哪些", "电子会员卡怎么领", "审核要多久",
	"工伤了工会能帮忙吗", "劳动合同到期不续签有补偿吗", "互助保障一年多少钱", "怎么转会籍", "你好",
}

type op struct {
	weight int
	build  func(openid string) localwx.Message
}

var mix = []op{
	{60, func(o string) localwx.Message { return localwx.TextMsg(o, questions[rand.IntN(len(questions))]) }},
	{15, func(o string) localwx.Message { return localwx.TextMsg(o, "菜单") }},
	{10, func(o string) localwx.Message { return localwx.TextMsg(o, "我的信息") }},
	{10, func(o string) localwx.Message { return localwx.EventMsg(o, "CLICK", "mutual_aid") }},
	{5, func(o string) localwx.Message { return localwx.EventMsg(o, "subscribe", "") }},
}

func pick() func(string) localwx.Message {
	total := 0
	for _, m := range mix {
		total += m.weight
	}
	n := rand.IntN(total)
	for _, m := range mix {
		if n < m.weight {
			return m.build
		}
		n -= m.weight
	}
	return mix[0].build
}

// send posts one signed message. With verify, the reply is parsed (and in safe
// mode its signature checked and decrypted) the way WeChat would.
func send(ctx context.Context, c *localwx.Client, m localwx.Message, verify bool) error {
	p, err := c.Prepare(m)
	if err != nil {
		return err
	}
	req, err := p.Request(ctx)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		return fmt.Errorf("HTTP %d, %d bytes", resp.StatusCode, len(body))
	}
	if verify {
		if _, err := c.ParseResponse(resp.StatusCode, body); err != nil {
			return err
		}
	}
	return nil
}

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "base URL of the bot")
	token := flag.String("token", "unionbot-dev-token", "callback token")
	appID := flag.String("appid", "wx0000local0000000", "AppID (safe mode)")
	aesKey := flag.String("aes-key", "", "EncodingAESKey: enables safe mode")
	duration := flag.Duration("duration", 30*time.Second, "how long to run (max 10m)")
	conc := flag.Int("concurrency", 64, "concurrent WeChat connections")
	members := flag.Int("members", 5000, "distinct openids")
	verifyEvery := flag.Int("verify-every", 10, "fully parse (and in safe mode decrypt and verify) every Nth reply; the others are checked for HTTP 200 and a non-empty body, which keeps the generator's own CPU share down")
	flag.Parse()
	if *duration > 10*time.Minute {
		*duration = 10 * time.Minute
	}
	mode := localwx.Plain
	if *aesKey != "" {
		mode = localwx.Safe
	}
	tr := &http.Transport{MaxIdleConns: *conc * 2, MaxIdleConnsPerHost: *conc * 2}
	c := &localwx.Client{URL: *url + "/wechat", Token: *token, AppID: *appID, AESKey: *aesKey, Mode: mode,
		NoRetry: true, HTTP: &http.Client{Timeout: 10 * time.Second, Transport: tr}}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()

	var (
		mu       sync.Mutex
		lat      []time.Duration
		errs     atomic.Int64
		firstErr atomic.Value
		sent     atomic.Int64
	)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			// Each worker owns a slice of the openids, like separate members.
			for i := 0; ctx.Err() == nil; i++ {
				openid := fmt.Sprintf("o-load-%d", (w+i*(*conc))%*members)
				t0 := time.Now()
				err := send(ctx, c, pick()(openid), i%*verifyEvery == 0)
				if ctx.Err() != nil {
					break
				}
				sent.Add(1)
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	q := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	fmt.Printf("mode=%s concurrency=%d duration=%s\n", mode, *conc, elapsed.Round(time.Millisecond))
	fmt.Printf("requests=%d ok=%d errors=%d throughput=%.0f msg/s\n",
		sent.Load(), len(lat), errs.Load(), float64(len(lat))/elapsed.Seconds())
	fmt.Printf("latency p50=%s p90=%s p99=%s max=%s\n", q(.50), q(.90), q(.99), q(1))
	if e := firstErr.Load(); e != nil {
		fmt.Printf("first error: %s\n", e)
		os.Exit(1)
	}
}
