package handlers_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"unionbot/delivery"
	"unionbot/handlers"
	"unionbot/localwx"
	"unionbot/storage"
	"unionbot/storage/storagetest"
	"unionbot/wx"
)

// A crisis message reaches, through the outbox and the delivery worker, the WeChat of the
// legal officer who linked it (a customer-service message while they are in the 48-hour
// window, the legal_alert template after), and no one else: not a legal officer without a
// linked WeChat, not a linked officer of another role.
func TestCrisisAlertReachesLinkedLegalOfficer(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		const appID, secret = "wx0123456789abcdef", "s3cret"
		f := newLegalFixture(t, db, func(d *handlers.Deps) { d.PublicURL = "https://union.example.cn" })
		ctx := t.Context()
		emu := localwx.NewEmulator(localwx.EmulatorOptions{AppID: appID, AppSecret: secret})
		emuSrv := httptest.NewServer(emu)
		t.Cleanup(emuSrv.Close)
		wc, err := wx.NewWeChat(wx.WeChatConfig{AppID: appID, Secret: secret, Token: "t", APIBase: emuSrv.URL,
			HTTPTimeout: 3 * time.Second}, f.kv, nil)
		if err != nil {
			t.Fatal(err)
		}
		tpl, err := delivery.ParseTemplates(`{"legal_alert":{"template":"TPL_ALERT","fields":{"thing1":"title","character_string2":"number","thing3":"status"}}}`)
		if err != nil {
			t.Fatal(err)
		}
		worker := delivery.New(delivery.Deps{Store: f.db, Sender: wx.NewSender(wc), Seen: f.kv, Metrics: delivery.NewMetrics(nil)},
			delivery.Options{Owner: "alert", Now: f.clock.Now, PublicURL: "https://union.example.cn", Templates: tpl})
		drain := func() {
			t.Helper()
			for range 10 {
				if n, err := worker.RunOnce(ctx); err != nil {
					t.Fatal(err)
				} else if n == 0 {
					return
				}
			}
		}
		officer := func(name string, roles ...string) (openID string) {
			t.Helper()
			o, err := f.db.CreateOfficer(ctx, storage.NewOfficer{Username: name, PasswordHash: "x", Roles: roles}, storage.AuditEntry{Actor: "test"})
			if err != nil {
				t.Fatal(err)
			}
			code, err := f.db.IssueOfficerLinkCode(ctx, o.ID, 0, storage.AuditEntry{Actor: "test"})
			if err != nil {
				t.Fatal(err)
			}
			openID = "o-" + name
			mustContain(t, f.say(openID, "干部绑定 "+code.Code), name)
			return openID
		}
		legal := officer("liuls", "legal")
		publisher := officer("zhaoxc", "publisher")
		if _, err := f.db.CreateOfficer(ctx, storage.NewOfficer{Username: "unlinked", PasswordHash: "x", Roles: []string{"legal"}},
			storage.AuditEntry{Actor: "test"}); err != nil {
			t.Fatal(err)
		}

		mustContain(t, f.say("oWorker", "再不给钱我就从楼上跳下去"), "110", "工作人员已经收到消息")
		drain()
		c := onlyCase(t, f, "oWorker")
		got := emu.SentTo(legal)
		if len(got) != 1 || got[0].Kind != localwx.KindCustom || !strings.Contains(got[0].Text, c.Number) ||
			!strings.Contains(got[0].Text, "自伤风险") || !strings.Contains(got[0].Text, "https://union.example.cn/admin/legal/"+c.Number) ||
			strings.Contains(got[0].Text, "跳下去") {
			t.Fatalf("the legal officer got %+v", got)
		}
		// Nobody else: the linked publisher, the legal officer without a WeChat, the worker.
		if all := emu.Sent(); len(all) != 1 || len(emu.SentTo(publisher)) != 0 {
			t.Fatalf("the emulator got %+v", all)
		}
		// Two days later the officer is outside the window: the template carries the alert.
		f.clock.Add(49 * time.Hour)
		f.say("oWorker2", "工地上有人拿刀")
		drain()
		got = emu.SentTo(legal)
		if len(got) != 2 || got[1].Kind != localwx.KindTemplate || got[1].Data["thing1"] != "法律援助紧急求助" ||
			got[1].Data["thing3"] != "暴力冲突" || !strings.HasPrefix(got[1].URL, "https://union.example.cn/admin/legal/FY") {
			t.Fatalf("the second alert %+v", got)
		}
	})
}
