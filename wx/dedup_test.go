package wx

import (
	"context"
	"log/slog"
	"testing"
	"time"
	"unionbot/bot"

	"github.com/silenceper/wechat/v2/officialaccount/message"
)

func TestDedupKey(t *testing.T) {
	msg := func(f func(*message.MixMessage)) *message.MixMessage {
		m := &message.MixMessage{}
		m.FromUserName = "oA"
		m.CreateTime = 1700000000
		f(m)
		return m
	}
	text := msg(func(m *message.MixMessage) { m.MsgType, m.MsgID = "text", 42 })
	text2 := msg(func(m *message.MixMessage) { m.MsgType, m.MsgID, m.CreateTime = "text", 42, 1700000099 })
	other := msg(func(m *message.MixMessage) { m.MsgType, m.MsgID, m.FromUserName = "text", 42, "oB" })
	click := msg(func(m *message.MixMessage) { m.MsgType, m.Event, m.EventKey = "event", "CLICK", "K1" })
	click2 := msg(func(m *message.MixMessage) { m.MsgType, m.Event, m.EventKey = "event", "CLICK", "K2" })
	clickLater := msg(func(m *message.MixMessage) {
		m.MsgType, m.Event, m.EventKey, m.CreateTime = "event", "CLICK", "K1", 1700000001
	})

	if dedupKey(text) != dedupKey(text2) {
		t.Error("the same MsgId must give the same key")
	}
	keys := map[string]string{}
	for name, m := range map[string]*message.MixMessage{"text": text, "other user": other, "click": click, "click K2": click2, "click later": clickLater} {
		k := dedupKey(m)
		if prev, dup := keys[k]; dup {
			t.Errorf("%s and %s share key %q", name, prev, k)
		}
		keys[k] = name
	}
}

func TestDedupStates(t *testing.T) {
	for _, st := range wxStores {
		t.Run(st.name, func(t *testing.T) {
			d := dedup{store: st.open(t), ttl: time.Minute}
			ctx := t.Context()
			ok, err := d.claim(ctx, "wx:dedup:t1")
			if err != nil || !ok {
				t.Fatalf("first claim: %v %v", ok, err)
			}
			ok, err = d.claim(ctx, "wx:dedup:t1")
			if err != nil || ok {
				t.Fatalf("second claim: %v %v", ok, err)
			}
			// Still processing: the wait ends with its context.
			wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			_, state, err := d.wait(wctx, "wx:dedup:t1")
			cancel()
			if err != nil || state != dedupPending {
				t.Errorf("wait while processing: %v %v", state, err)
			}
			go func() {
				time.Sleep(30 * time.Millisecond)
				_ = d.finish(context.Background(), "wx:dedup:t1", bot.Text("好的"))
			}()
			r, state, err := d.wait(ctx, "wx:dedup:t1")
			if err != nil || state != dedupGotReply || r.Text != "好的" {
				t.Errorf("wait for reply: %+v %v %v", r, state, err)
			}
			if err := d.markAsync(ctx, "wx:dedup:t1"); err != nil {
				t.Fatal(err)
			}
			if _, state, _ := d.wait(ctx, "wx:dedup:t1"); state != dedupWentAsync {
				t.Errorf("after markAsync: %v", state)
			}
			if _, state, _ := d.wait(ctx, "wx:dedup:none"); state != dedupVanished {
				t.Errorf("missing key: %v, want vanished (the caller may claim it)", state)
			}
		})
	}
}

// TestClaimKeptAliveUntilSettled: a live owner's claim outlasts claimTTL (so a
// slow but running handler is never taken over), and once settled no renewal
// overwrites the stored reply.
func TestClaimKeptAliveUntilSettled(t *testing.T) {
	for _, st := range wxStores {
		t.Run(st.name, func(t *testing.T) {
			store := st.open(t)
			c := &Callback{dedup: dedup{store: store, ttl: time.Minute, claimTTL: 300 * time.Millisecond}, logger: slog.New(slog.DiscardHandler)}
			ctx := t.Context()
			const key = "wx:dedup:keep"
			if ok, err := c.dedup.claim(ctx, key); !ok || err != nil {
				t.Fatalf("claim: %v %v", ok, err)
			}
			k := c.keepClaim(ctx, key)
			time.Sleep(time.Second) // more than three claim lifetimes
			if ok, _ := c.dedup.claim(ctx, key); ok {
				t.Fatal("a live owner's claim expired and was taken over")
			}
			k.settle(func() {
				if err := c.dedup.finish(ctx, key, bot.Text("答复")); err != nil {
					t.Error(err)
				}
			})
			time.Sleep(200 * time.Millisecond)
			wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			if r, state, _ := c.dedup.wait(wctx, key); state != dedupGotReply || r.Text != "答复" {
				t.Fatalf("after settle: %v %q, want the stored reply", state, r.Text)
			}
		})
	}
}
