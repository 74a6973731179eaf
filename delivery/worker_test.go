package delivery_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"unionbot/delivery"
	"unionbot/internal/testclock"
	"unionbot/localwx"
	"unionbot/storage"
	"unionbot/storage/kv"
	"unionbot/storage/kv/kvtest"
	"unionbot/storage/storagetest"
	"unionbot/wx"
)

var start = time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)

var templates = delivery.Templates{
	"claim_status": {Template: "TPL_CLAIM", Fields: map[string]string{"thing1": "title", "phrase2": "status"}},
	"reminder":     {Subscribe: "SUB_REMIND", SubscribeFields: map[string]string{"thing1": "title"}},
}

type fixture struct {
	db     *storage.DB
	emu    *localwx.Emulator
	sender *wx.Sender
	seen   *kv.Memory
	clock  *testclock.Clock
}

// newFixture wires real storage, the emulator behind the real WeChat edge and
// an in-process kv store. The edge sets the SDK's global HTTP client, so these
// tests do not run in parallel.
func newFixture(t *testing.T, db *storage.DB) *fixture {
	t.Helper()
	clock := testclock.New(start)
	emu := localwx.NewEmulator(localwx.EmulatorOptions{StrictTemplates: true})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	store := kv.NewMemory()
	t.Cleanup(store.Close)
	wc, err := wx.NewWeChat(wx.WeChatConfig{AppID: "wxtest", Secret: "s", Token: "t", APIBase: srv.URL, HTTPTimeout: 3 * time.Second}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db.WithClock(clock.Now), emu: emu, sender: wx.NewSender(wc), seen: store, clock: clock}
}

func (f *fixture) worker(o delivery.Options, lim delivery.Limiter) *delivery.Worker {
	o.Templates, o.Now, o.PublicURL = templates, f.clock.Now, "https://union.example.cn"
	if o.Owner == "" {
		o.Owner = "w1"
	}
	o.Poll = 20 * time.Millisecond
	return delivery.New(delivery.Deps{Store: f.db, Sender: f.sender, Seen: f.seen, Limiter: lim, Metrics: delivery.NewMetrics(nil)}, o)
}

func (f *fixture) seenAt(t *testing.T, openID string, at time.Time) {
	t.Helper()
	if err := f.seen.Set(t.Context(), delivery.SeenKey(openID), []byte(strconv.FormatInt(at.Unix(), 10)), 49*time.Hour); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) enqueue(t *testing.T, msgs ...storage.OutboxMessage) {
	t.Helper()
	for _, m := range msgs {
		if _, err := f.db.EnqueueMessage(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) row(t *testing.T, key string) storage.OutboxRow {
	t.Helper()
	r, err := f.db.OutboxByKey(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func drain(t *testing.T, w *delivery.Worker) {
	t.Helper()
	for range 100 {
		n, err := w.RunOnce(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("the outbox does not drain")
}

func claim(key, openID string) storage.OutboxMessage {
	return storage.OutboxMessage{Key: key, Kind: "claim_status", OpenID: openID, Service: true, Content: storage.OutboxContent{
		Text: "您的互助金申请（HZ001）已审核通过，款项将于5个工作日内发放。", Link: "/n/" + key,
		Fields: map[string]string{"title": "互助金申请HZ001", "status": "已通过"},
	}}
}

func TestChannels(t *testing.T) {
	f := newFixture(t, storagetest.Embedded(t))
	ctx := t.Context()
	f.seenAt(t, "oRecent", start.Add(-47*time.Hour))
	f.seenAt(t, "oStale", start.Add(-49*time.Hour))
	f.seenAt(t, "oClosed", start.Add(-time.Hour))
	f.emu.SetUser("oClosed", localwx.UserState{OutsideWindow: true}) // WeChat says 45015 anyway
	f.seenAt(t, "oCapped", start.Add(-time.Hour))
	f.emu.AcceptSubscribe("oSub", "SUB_REMIND")
	if err := f.db.RecordSubscribeConsent(ctx, "oSub", "SUB_REMIND", start); err != nil {
		t.Fatal(err)
	}
	f.enqueue(t,
		claim("c-recent", "oRecent"), claim("c-stale", "oStale"), claim("c-closed", "oClosed"),
		storage.OutboxMessage{Key: "r-sub", Kind: "reminder", OpenID: "oSub", Service: true,
			Content: storage.OutboxContent{Text: "明天上午9点活动", Fields: map[string]string{"title": "职工运动会"}}},
		storage.OutboxMessage{Key: "r-none", Kind: "reminder", OpenID: "oNone",
			Content: storage.OutboxContent{Text: "明天上午9点活动", Fields: map[string]string{"title": "职工运动会"}}},
		storage.OutboxMessage{Key: "m-unbound", Kind: "claim_status", MemberID: 999, Service: true,
			Content: storage.OutboxContent{Text: "申请已受理", Fields: map[string]string{"title": "x", "status": "y"}}},
	)
	w := f.worker(delivery.Options{}, nil)
	drain(t, w)
	f.emu.FailNext(localwx.PathCustomSend, localwx.ErrResponseLimit, 1) // 45047: the window's cap
	f.enqueue(t, claim("c-capped", "oCapped"))
	drain(t, w)
	want := map[string]string{
		"c-recent": "custom", "c-stale": "template", "c-closed": "template", "c-capped": "template",
		"r-sub": "subscribe", "r-none": "unread", "m-unbound": "unread",
	}
	for key, ch := range want {
		r := f.row(t, key)
		wantState := storage.OutboxSent
		if ch == "unread" {
			wantState = storage.OutboxUnread
		}
		if r.Channel != ch || r.State != wantState {
			t.Errorf("%s: %s on %s, want %s on %s", key, r.State, r.Channel, wantState, ch)
		}
	}
	if r := f.row(t, "c-closed"); len(r.SkipChannels) != 1 || r.SkipChannels[0] != "custom" {
		t.Errorf("45015 not recorded: %v", r.SkipChannels)
	}
	tpl := f.emu.SentTo("oStale")
	if len(tpl) != 1 || tpl[0].URL != "https://union.example.cn/n/c-stale" || tpl[0].Data["phrase2"] != "已通过" {
		t.Fatalf("template sent: %+v", tpl)
	}
	// 45015/45047 were never retried on customer service.
	if n := f.emu.ErrorCount(localwx.ErrOutsideWindow); n != 1 {
		t.Errorf("45015 seen %d times", n)
	}
	if n := f.emu.SentCount("oCapped"); n != 1 {
		t.Errorf("oCapped got %d messages", n)
	}
	text, ids, err := delivery.Unread(ctx, f.db, "oNone", 0)
	if err != nil || len(ids) != 1 || text != "您有1条新通知：\n1. 明天上午9点活动" {
		t.Fatalf("unread notice %q %v %v", text, ids, err)
	}
}

func TestTransientPermanentAndToken(t *testing.T) {
	f := newFixture(t, storagetest.Embedded(t))
	w := f.worker(delivery.Options{BackoffBase: time.Minute}, nil)
	f.emu.FailNext(localwx.PathTemplateSend, localwx.ErrSystemBusy, 1)
	f.emu.SetUser("oGone", localwx.UserState{Unsubscribed: true})
	// One at a time: the injected -1 must meet "busy", whatever order a
	// worker takes rows in (43004 for oGone comes from the user's state).
	f.enqueue(t, claim("busy", "oBusy"))
	drain(t, w)
	f.enqueue(t, claim("gone", "oGone"))
	drain(t, w)
	busy := f.row(t, "busy")
	if busy.State != storage.OutboxPending || busy.ErrCode != -1 || !busy.NextAt.After(start.Add(29*time.Second)) {
		t.Fatalf("after -1: %+v", busy)
	}
	gone := f.row(t, "gone")
	if gone.State != storage.OutboxFailed || gone.ErrCode != 43004 {
		t.Fatalf("after 43004: %s %d", gone.State, gone.ErrCode)
	}
	f.clock.Add(2 * time.Minute)
	f.emu.InvalidateTokens() // 40001: the edge refreshes once and retries
	drain(t, w)
	if r := f.row(t, "busy"); r.State != storage.OutboxSent || f.emu.SentCount("oBusy") != 1 {
		t.Fatalf("after the back-off: %s, %d sends", r.State, f.emu.SentCount("oBusy"))
	}
	if f.row(t, "gone").Attempts != 1 || f.emu.ErrorCount(localwx.ErrRequireSubscribe) != 1 {
		t.Error("a permanent failure was retried")
	}
	// Out of attempts: failed with the last code.
	f.enqueue(t, claim("always-busy", "oB2"))
	w2 := f.worker(delivery.Options{MaxAttempts: 2, BackoffBase: time.Second}, nil)
	f.emu.FailNext(localwx.PathTemplateSend, localwx.ErrDailyQuota, 5)
	for range 3 {
		drain(t, w2)
		f.clock.Add(time.Minute)
	}
	if r := f.row(t, "always-busy"); r.State != storage.OutboxFailed || r.ErrCode != 45009 || r.Attempts != 2 {
		t.Fatalf("out of attempts: %s %d after %d", r.State, r.ErrCode, r.Attempts)
	}
}

func TestCancel(t *testing.T) {
	f := newFixture(t, storagetest.Embedded(t))
	f.enqueue(t, claim("c1", "oC"))
	if ok, err := f.db.CancelOutbox(t.Context(), "c1"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	drain(t, f.worker(delivery.Options{}, nil))
	if f.emu.SentCount("oC") != 0 || f.row(t, "c1").State != storage.OutboxCancelled {
		t.Fatal("a cancelled message went out")
	}
}

// TestTwoWorkersNoDuplicates runs two workers side by side over one queue,
// with a takeover in the middle: a "dead" worker leased rows and sent some of
// them without recording it.
func TestTwoWorkersNoDuplicates(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		const n = 400
		var msgs []storage.OutboxMessage
		for i := range n {
			m := claim(fmt.Sprintf("k%03d", i), fmt.Sprintf("o%03d", i))
			if i%2 == 0 {
				f.seenAt(t, m.OpenID, start.Add(-time.Hour)) // half by customer service
				m.Key = "cs-" + m.Key
			}
			msgs = append(msgs, m)
		}
		f.enqueue(t, msgs...)
		// The dead worker: leases template rows, sends two, records nothing.
		dead, err := f.db.ClaimOutbox(ctx, "dead", 10, 30*time.Second, false)
		if err != nil || len(dead) != 10 {
			t.Fatal(len(dead), err)
		}
		// Sent through the edge as the dead worker would have (same client id).
		for _, r := range dead {
			if r.OpenID == "" || len(r.Key) < 3 || r.Key[:3] == "cs-" {
				continue
			}
			if _, err := f.sender.SendTemplate(ctx, wx.TemplateMessage{ToUser: r.OpenID, TemplateID: "TPL_CLAIM",
				Data: map[string]string{"thing1": "互助金申请HZ001", "phrase2": "已通过"}, ClientMsgID: delivery.ClientMsgIDForTest(r.Key)}); err != nil {
				t.Fatal(err)
			}
			break
		}
		rctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for i := range 2 {
			w := f.worker(delivery.Options{Owner: fmt.Sprintf("w%d", i), Lanes: 2, Batch: 16, Lease: 30 * time.Second}, nil)
			wg.Go(func() { w.Run(rctx) })
		}
		deadline := time.Now().Add(20 * time.Second)
		expired := false
		for time.Now().Before(deadline) {
			c, _ := f.db.OutboxCounts(ctx)
			if !expired && c[storage.OutboxSent] == n-10 && c[storage.OutboxSending] == 10 {
				expired = true
				f.clock.Add(31 * time.Second) // the dead worker's lease runs out
				if err := f.worker(delivery.Options{}, nil).Reap(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if c[storage.OutboxSent] == n {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		c, _ := f.db.OutboxCounts(ctx)
		if c[storage.OutboxSent] != n {
			t.Fatalf("counts %v", c)
		}
		for i := range n {
			o := fmt.Sprintf("o%03d", i)
			if got := f.emu.SentCount(o); got != 1 {
				t.Errorf("%s received %d messages", o, got)
			}
		}
	})
}

func TestSharedRateLimit(t *testing.T) {
	rc := kvtest.Redis(t)
	prefix := kvtest.PrefixOn(t, rc)
	f := newFixture(t, storagetest.Embedded(t))
	const n, perSecond = 60, 40
	var msgs []storage.OutboxMessage
	for i := range n {
		msgs = append(msgs, claim(fmt.Sprintf("rl%d", i), fmt.Sprintf("oR%d", i)))
	}
	f.enqueue(t, msgs...)
	began := time.Now()
	rctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for i := range 2 { // two workers, each with its own limiter over the one Redis key
		lim := delivery.NewSharedLimiter(rc, prefix+"delivery", perSecond)
		w := f.worker(delivery.Options{Owner: fmt.Sprintf("rl%d", i), Lanes: 2, Batch: 8}, lim)
		wg.Go(func() { w.Run(rctx) })
	}
	for f.emu.Count(localwx.KindTemplate) < n && time.Since(began) < 10*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(began)
	cancel()
	wg.Wait()
	// GCRA with a burst of 4: n sends take at least (n-4)/rate.
	if min := time.Duration(float64(n-4) / perSecond * 0.9 * float64(time.Second)); took < min {
		t.Errorf("%d sends in %v: faster than %d/s", n, took, perSecond)
	}
	if took > 4*time.Second {
		t.Errorf("%d sends took %v at %d/s", n, took, perSecond)
	}
}

func TestMassBatchesExclusionsAndQuota(t *testing.T) {
	f := newFixture(t, storagetest.Embedded(t))
	ctx := t.Context()
	var all []string
	for i := range storage.MassBatchSize + 2 {
		all = append(all, fmt.Sprintf("oF%05d", i))
	}
	if err := f.db.SetNoticeOptOut(ctx, "oF00007", true); err != nil {
		t.Fatal(err)
	}
	w := f.worker(delivery.Options{}, nil)
	broadcast := func(key string, to []string) storage.MassPlan {
		plan, err := f.db.EnqueueMassMessage(ctx, storage.MassMessage{Key: key, Kind: "notice", Text: "三月职工活动通知", OpenIDs: to})
		if err != nil {
			t.Fatal(err)
		}
		drain(t, w)
		return plan
	}
	plan := broadcast("act:1", all)
	if plan.Batches != 2 || len(plan.OptedOut) != 1 || f.emu.MassJobs() != 2 {
		t.Fatalf("plan %+v, %d jobs", plan, f.emu.MassJobs())
	}
	if f.emu.SentCount("oF00007") != 0 || f.emu.SentCount("oF10000") != 1 {
		t.Fatal("opt-out ignored or a follower missed")
	}
	few := []string{"oF00001", "oF00002", "oF00003"}
	for i := 2; i <= 4; i++ {
		broadcast(fmt.Sprintf("act:%d", i), few)
	}
	broadcast("act:5", append(few, "oF00004")) // the first three have had their 4
	b, err := f.db.MassBatches(ctx, "act:5")
	if err != nil || len(b) != 1 {
		t.Fatal(b, err)
	}
	if b[0].State != storage.OutboxSent || b[0].Recipients != 1 || len(b[0].OverQuota) != 3 {
		t.Fatalf("batch %s recipients %d over quota %v", b[0].State, b[0].Recipients, b[0].OverQuota)
	}
	job, _ := f.emu.MassJob(b[0].WxMsgID)
	if job.Filtered != 0 || job.Sent != 1 {
		t.Errorf("WeChat had to filter: %+v", job)
	}
	if f.emu.MassQuotaUsed("oF00001") != 4 {
		t.Errorf("quota used %d", f.emu.MassQuotaUsed("oF00001"))
	}
	// A batch whose worker died mid-send is unknown, never sent again.
	if _, err := f.db.EnqueueMassMessage(ctx, storage.MassMessage{Key: "act:7", Kind: "notice", Text: "x", OpenIDs: []string{"oF00005", "oF00006"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ClaimOutbox(ctx, "dead", 1, 30*time.Second, true); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Minute)
	if err := w.Reap(ctx); err != nil {
		t.Fatal(err)
	}
	drain(t, w)
	if b, _ := f.db.MassBatches(ctx, "act:7"); b[0].State != storage.OutboxUnknown || f.emu.SentCount("oF00005") != 1 {
		t.Fatalf("in-flight batch after its worker died: %s", b[0].State)
	}
}
