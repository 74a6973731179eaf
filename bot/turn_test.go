package bot

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"unionbot/pii"
	"unionbot/storage/kv"
)

// turnRig is a Bot over a router with one side-effect-free intent, one that
// is not, a form, and a counting fallback.
type turnRig struct {
	*Bot
	store   kv.Store
	mu      sync.Mutex
	calls   int
	block   chan struct{} // when set, the fallback waits for it
	reached chan struct{}
}

func newTurnRig(t *testing.T, store kv.Store, sealer Sealer, forms OpenForms) *turnRig {
	t.Helper()
	rig := &turnRig{store: store}
	r := NewRouter(nil)
	r.Intent("menu", func(context.Context, *Session, Input) (Reply, error) { return Text("MENU"), nil }, "菜单")
	r.Intent("myinfo", func(context.Context, *Session, Input) (Reply, error) { return Text("您的信息：张三"), nil }, "我的信息")
	r.Form(&Form{Name: "bind", Title: "绑定会员", Steps: []Step{{Key: "name", Prompt: "请输入姓名"}, {Key: "id", Prompt: "请输入证件后6位"}},
		Submit: func(context.Context, *Session, map[string]string) (Reply, error) { return Text("绑定成功"), nil }},
		"绑定会员", "绑定")
	r.Fallback(func(ctx context.Context, s *Session, in Input) (Reply, error) {
		rig.mu.Lock()
		rig.calls++
		block, reached := rig.block, rig.reached
		rig.mu.Unlock()
		if block != nil {
			close(reached)
			<-block
		}
		return Text("答复：" + in.Text), nil
	})
	r.SideEffectFree("menu", FallbackRoute)
	rig.Bot = New(Deps{Store: store, Router: r, Sealer: sealer, Forms: forms})
	return rig
}

func (r *turnRig) Calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

func memStore(t *testing.T) *kv.Memory {
	m := kv.NewMemory()
	t.Cleanup(m.Close)
	return m
}

func testSealer(t *testing.T) *pii.Cipher {
	c, err := pii.NewCipher(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func delivery(openID, id string) *Delivery {
	return &Delivery{
		StateKey: "wx:dedup:{" + openID + "}:" + id, MarkerKey: "wx:seen:{" + openID + "}:" + id,
		MarkerTTL: 300 * time.Second, ClaimTTL: 3 * time.Second, StateTTL: 30 * time.Second,
	}
}

func text(openID, s string, d *Delivery) Input {
	return Input{OpenID: openID, Kind: KindText, Text: s, Delivery: d}
}

// TestKeptReplyIsSealedAndReturnedToRetries: the reply kept for WeChat's
// retries holds a member's data, so it is sealed like the session; a retry
// gets the same reply without running the handler again.
func TestKeptReplyIsSealedAndReturnedToRetries(t *testing.T) {
	store := memStore(t)
	rig := newTurnRig(t, store, testSealer(t), nil)
	d := delivery("o1", "100")
	res, err := rig.Turn(t.Context(), text("o1", "会费标准", d))
	if err != nil || res.Dup != Fresh || res.Reply.Text != "答复：会费标准" {
		t.Fatalf("first: %+v, %v", res, err)
	}
	kept, err := store.Get(t.Context(), d.StateKey)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(kept, []byte("会费标准")) || bytes.Contains(kept, []byte("答复")) {
		t.Fatalf("kept reply stored in plaintext: %q", kept)
	}
	res, err = rig.Turn(t.Context(), text("o1", "会费标准", d))
	if err != nil || res.Dup != DupReply || res.Reply.Text != "答复：会费标准" {
		t.Fatalf("retry: %+v, %v", res, err)
	}
	if peek, err := rig.Peek(t.Context(), text("o1", "", d)); err != nil || peek.Dup != DupReply || peek.Reply.Text != "答复：会费标准" {
		t.Fatalf("peek: %+v, %v", peek, err)
	}
	if rig.Calls() != 1 {
		t.Errorf("handler ran %d times, want 1", rig.Calls())
	}
}

// TestLateReplyKeepsPushedNote: when the edge's deadline passed (Ready says
// no), the reply is pushed by the edge and retries get nothing.
func TestLateReplyKeepsPushedNote(t *testing.T) {
	store := memStore(t)
	rig := newTurnRig(t, store, nil, nil)
	d := delivery("o1", "101")
	var got Reply
	d.Ready = func(r Reply) bool { got = r; return false }
	res, err := rig.Turn(t.Context(), text("o1", "慢问题", d))
	if err != nil || res.Reply.Text != "答复：慢问题" || got.Text != "答复：慢问题" {
		t.Fatalf("turn: %+v, %v; Ready got %+v", res, err, got)
	}
	d.Ready = nil
	if res, err := rig.Turn(t.Context(), text("o1", "慢问题", d)); err != nil || res.Dup != DupPushed || !res.Reply.Empty() {
		t.Fatalf("retry: %+v, %v; want DupPushed and nothing", res, err)
	}
}

// TestReplayAfterTheRetryPeriod: after the kept reply expires (30 s), the
// marker still recognises the delivery until it leaves the signature window,
// so a replay at 150 s or 290 s does nothing and says nothing.
func TestReplayAfterTheRetryPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := kv.NewMemory()
		defer store.Close()
		rig := newTurnRig(t, store, nil, nil)
		d := delivery("o1", "102")
		if res, err := rig.Turn(t.Context(), text("o1", "解绑", d)); err != nil || res.Dup != Fresh {
			t.Fatalf("first: %+v, %v", res, err)
		}
		for _, at := range []time.Duration{150 * time.Second, 290 * time.Second} {
			time.Sleep(at - time.Since(time.Unix(946684800, 0))) // synctest's epoch
			res, err := rig.Turn(t.Context(), text("o1", "解绑", d))
			if err != nil || res.Dup != DupReplay || !res.Reply.Empty() {
				t.Fatalf("replay at %v: %+v, %v; want DupReplay", at, res, err)
			}
		}
		if rig.Calls() != 1 {
			t.Errorf("handler ran %d times, want 1", rig.Calls())
		}
		if _, err := store.Get(t.Context(), d.StateKey); !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("the reply is kept past the retry period: %v", err)
		}
	})
}

// TestClaimRenewedWhileOwnerWorks: a slow but live owner keeps its claim far
// beyond ClaimTTL, so a retry waits instead of running the message again; a
// dead owner's claim lapses and the next arrival takes over.
func TestClaimRenewedWhileOwnerWorks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := kv.NewMemory()
		defer store.Close()
		rig := newTurnRig(t, store, nil, nil)
		rig.block, rig.reached = make(chan struct{}), make(chan struct{})
		d := delivery("o1", "103")
		done := make(chan Result)
		go func() {
			res, _ := rig.Turn(context.Background(), text("o1", "慢", d))
			done <- res
		}()
		<-rig.reached
		time.Sleep(20 * time.Second) // more than six claim lifetimes
		res, err := rig.Turn(t.Context(), text("o1", "慢", d))
		if err != nil || res.Dup != DupPending {
			t.Fatalf("retry while the owner works: %+v, %v; want DupPending", res, err)
		}
		close(rig.block)
		if res := <-done; res.Reply.Text != "答复：慢" {
			t.Fatalf("owner: %+v", res)
		}
		if res, _ := rig.Turn(t.Context(), text("o1", "慢", d)); res.Dup != DupReply || res.Reply.Text != "答复：慢" {
			t.Fatalf("retry after: %+v", res)
		}

		// A dead owner: claimed and locked, never ended.
		d2 := delivery("o1", "104")
		_, err = store.BeginTurn(t.Context(), kv.BeginTurnArgs{
			MarkerKey: d2.MarkerKey, MarkerTTL: d2.MarkerTTL, StateKey: d2.StateKey, ClaimTTL: d2.ClaimTTL,
			LockKey: lockKey("o1"), LockToken: "dead", LockTTL: 10 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		rig.block = nil
		time.Sleep(d2.ClaimTTL + time.Second)
		res, err = rig.Turn(t.Context(), text("o1", "接管", d2))
		if err != nil || res.Dup != Fresh || res.Reply.Text != "答复：接管" {
			t.Fatalf("takeover: %+v, %v", res, err)
		}
		if rig.Calls() != 2 {
			t.Errorf("handler ran %d times, want 2", rig.Calls())
		}
	})
}

func TestNonceBoundToOneBody(t *testing.T) {
	rig := newTurnRig(t, memStore(t), nil, nil)
	withNonce := func(id, body string) *Delivery {
		d := delivery("o1", id)
		d.NonceKey, d.NonceVal, d.NonceTTL = "wx:nonce:1700000000:n1", []byte(body), 600*time.Second
		return d
	}
	if res, err := rig.Turn(t.Context(), text("o1", "你好", withNonce("1", "body-1"))); err != nil || res.Dup != Fresh {
		t.Fatalf("first: %+v, %v", res, err)
	}
	// WeChat's retry: the same pair, the same body.
	if res, err := rig.Turn(t.Context(), text("o1", "你好", withNonce("1", "body-1"))); err != nil || res.Dup != DupReply {
		t.Fatalf("retry: %+v, %v", res, err)
	}
	// The pair captured and put on a forged body.
	if _, err := rig.Turn(t.Context(), text("o2", "解绑", withNonce("2", "body-2"))); !errors.Is(err, ErrNonceReused) {
		t.Fatalf("forged body: %v, want ErrNonceReused", err)
	}
	if rig.Calls() != 1 {
		t.Errorf("handler ran %d times, want 1", rig.Calls())
	}
}

// downStore is a kv store whose turns fail, as when Redis is unreachable.
type downStore struct{ *kv.Memory }

func (downStore) BeginTurn(context.Context, kv.BeginTurnArgs) (kv.TurnStart, error) {
	return kv.TurnStart{}, errors.New("dial tcp: connection refused")
}

// TestStoreDownAnswersOnlySideEffectFree: without the kv store there is no
// session, lock, de-duplication or nonce check; side-effect-free routes
// still answer, everything else says busy.
func TestStoreDownAnswersOnlySideEffectFree(t *testing.T) {
	rig := newTurnRig(t, downStore{memStore(t)}, nil, nil)
	d := delivery("o1", "1")
	d.NonceKey, d.NonceVal, d.NonceTTL = "wx:nonce:1:n", []byte("b"), time.Minute
	cases := []struct {
		in   Input
		want string
	}{
		{text("o1", "菜单", d), "MENU"},
		{Input{OpenID: "o1", Kind: KindEvent, Event: EventClick, EventKey: "menu"}, "MENU"},
		{text("o1", "会费怎么交", d), "答复：会费怎么交\n\n" + msgDegradedNote},
		{text("o1", "我的信息", d), msgSystemBusy},
		{text("o1", "绑定", d), msgSystemBusy},
		{Input{OpenID: "o1", Kind: KindEvent, Event: EventSubscribe}, ""},
	}
	// subscribe has no handler in this router: nothing to say, safe.
	for _, tc := range cases {
		res, err := rig.Turn(t.Context(), tc.in)
		if err != nil || res.Reply.Text != tc.want {
			t.Errorf("%s%s: %q, %v; want %q", tc.in.Text, tc.in.EventKey, res.Reply.Text, err, tc.want)
		}
	}
}

func TestSideEffectFreeRefusesForms(t *testing.T) {
	r := NewRouter(nil)
	r.Form(&Form{Name: "f", Steps: []Step{{Key: "x"}}}, "f")
	defer func() {
		if recover() == nil {
			t.Error("marking a form side-effect free did not panic")
		}
	}()
	r.SideEffectFree("f")
}

// TestSeenWrittenEachTurn: the last-interaction time (for WeChat's 48-hour
// window) is written in EndTurn, with its 49-hour TTL.
func TestSeenWrittenEachTurn(t *testing.T) {
	store := memStore(t)
	rig := newTurnRig(t, store, nil, nil)
	if _, err := rig.Turn(t.Context(), text("o1", "你好", nil)); err != nil {
		t.Fatal(err)
	}
	ttl, err := store.TTL(t.Context(), SeenKey("o1"))
	if err != nil || ttl <= 48*time.Hour || ttl > SeenTTL {
		t.Fatalf("seen ttl %v, %v", ttl, err)
	}
}

// memForms is an OpenForms in memory.
type memForms struct {
	mu    sync.Mutex
	open  map[string]string
	takes int
}

func (m *memForms) OpenForm(_ context.Context, openID, form string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.open[openID] = form
	return nil
}

func (m *memForms) CloseForm(_ context.Context, openID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.open, openID)
	return nil
}

func (m *memForms) TakeOpenForm(_ context.Context, openID string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.takes++
	f, ok := m.open[openID]
	delete(m.open, openID)
	return f, ok, nil
}

// TestLostFormIsAnnounced: the kv store loses a member's half-filled form;
// their next message says so and how to start again. The durable note is
// read only when the member has neither a session nor a recent message.
func TestLostFormIsAnnounced(t *testing.T) {
	forms := &memForms{open: map[string]string{}}
	store := memStore(t)
	rig := newTurnRig(t, store, nil, forms)
	say := func(rig *turnRig, s string) string {
		t.Helper()
		rep, err := rig.Handle(t.Context(), text("o1", s, nil))
		if err != nil {
			t.Fatal(err)
		}
		return rep.Text
	}
	say(rig, "绑定")
	if forms.open["o1"] != "bind" {
		t.Fatalf("open form not noted: %v", forms.open)
	}
	say(rig, "张三")
	takes := forms.takes
	say(rig, "取消")
	if _, ok := forms.open["o1"]; ok || forms.takes != takes {
		t.Fatalf("after cancel: open %v; %d reads of the note during the conversation", forms.open, forms.takes-takes)
	}
	say(rig, "绑定")
	say(rig, "张三")

	// The store restarts empty.
	rig2 := newTurnRig(t, memStore(t), nil, forms)
	got := say(rig2, "123456")
	if !strings.Contains(got, "「绑定会员」已失效") || !strings.Contains(got, "回复“绑定”") {
		t.Fatalf("after the loss: %q", got)
	}
	if got := say(rig2, "绑定"); !strings.Contains(got, "请输入姓名") {
		t.Fatalf("starting again: %q", got)
	}
	takes = forms.takes
	say(rig2, "张三")
	say(rig2, "菜单")
	if forms.takes != takes {
		t.Errorf("the note was read %d times on ordinary messages", forms.takes-takes)
	}
}
