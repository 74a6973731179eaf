package wx

import (
	"strings"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"
)

func TestDeliveryKeys(t *testing.T) {
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
	key := func(m *message.MixMessage) string { return stateKey(string(m.FromUserName), deliveryID(m)) }

	if key(text) != key(text2) {
		t.Error("the same MsgId must give the same key")
	}
	keys := map[string]string{}
	for name, m := range map[string]*message.MixMessage{"text": text, "other user": other, "click": click, "click K2": click2, "click later": clickLater} {
		k := key(m)
		if prev, dup := keys[k]; dup {
			t.Errorf("%s and %s share key %q", name, prev, k)
		}
		keys[k] = name
		// One Redis Cluster slot per member: the openid is the hash tag.
		if !strings.Contains(k, "{"+string(m.FromUserName)+"}") {
			t.Errorf("key %q lacks the {openid} hash tag", k)
		}
	}
	if got := markerKey("oA", "42"); got != "wx:seen:{oA}:42" || got == stateKey("oA", "42") {
		t.Errorf("marker key %q", got)
	}
	if got := nonceKey(1700000000, "n1"); got != "wx:nonce:1700000000:n1" {
		t.Errorf("nonce key %q", got)
	}
	if got := nonceKey(1, strings.Repeat("x", 5000)); len(got) > 100 {
		t.Errorf("a long nonce gives a %d-byte key", len(got))
	}
}

func TestMarkerTTL(t *testing.T) {
	now := time.Unix(1700000000, 0)
	cases := []struct {
		name string
		ts   time.Time
		want time.Duration
	}{
		{"fresh delivery", now, 300 * time.Second},
		{"signed 100 s ago", now.Add(-100 * time.Second), 200 * time.Second},
		{"signed 290 s ago: never shorter than the kept reply", now.Add(-290 * time.Second), DefaultRetryTTL},
		{"sender clock 300 s ahead: capped", now.Add(300 * time.Second), 600 * time.Second},
		{"sender clock far ahead: capped", now.Add(time.Hour), 600 * time.Second},
	}
	for _, tc := range cases {
		if got := markerTTL(tc.ts.Unix(), now, DefaultRetryTTL); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
