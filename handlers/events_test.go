package handlers_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"unionbot/bot"
	"unionbot/storage"
)

func TestSubscribeWelcome(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		at := time.Date(2026, 5, 3, 2, 0, 0, 0, time.UTC)
		for _, c := range []struct{ oid, key string }{{"oid-sub", ""}, {"oid-sub-qr", "qrscene_county_hall"}} {
			got := f.send(bot.Input{OpenID: c.oid, Kind: bot.KindEvent, Event: bot.EventSubscribe, EventKey: c.key, CreateTime: at})
			mustContain(t, got, "欢迎关注测试县总工会", "绑定", "我的信息", "常见问题", "人工")
			fl, err := f.db.Follower(t.Context(), c.oid)
			if err != nil {
				t.Fatalf("follower %s: %v", c.oid, err)
			}
			if !fl.Subscribed || !fl.SubscribedAt.Equal(at) {
				t.Errorf("follower %s = %+v, want subscribed at %v", c.oid, fl, at)
			}
		}
	})
}

func TestUnsubscribeRecorded(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		const me = "oid-unsub"
		f.send(bot.Input{OpenID: me, Kind: bot.KindEvent, Event: bot.EventSubscribe})
		f.say(me, "绑定") // mid-form when they leave
		at := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
		got := f.send(bot.Input{OpenID: me, Kind: bot.KindEvent, Event: bot.EventUnsubscribe, CreateTime: at})
		if got != "" {
			t.Errorf("unsubscribe replied %q, want nothing", got)
		}
		fl, err := f.db.Follower(t.Context(), me)
		if err != nil {
			t.Fatalf("follower: %v", err)
		}
		if fl.Subscribed || !fl.UnsubscribedAt.Equal(at) {
			t.Errorf("follower = %+v, want unsubscribed at %v", fl, at)
		}
		// The half-done form is forgotten.
		if got := f.say(me, zhang.name); got == "" || strings.Contains(got, "第2/2步") {
			t.Errorf("form survived the unsubscribe: %q", got)
		}
		if _, err := f.db.MemberByOpenID(t.Context(), me); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("bound: %v", err)
		}
	})
}
