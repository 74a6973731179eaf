package handlers_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"unionbot/admin/auth"
	"unionbot/delivery"
	"unionbot/handlers"
	"unionbot/localwx"
	"unionbot/storage"
)

// The 人工 hand-off end to end over HTTP, on both backends: the localwx client plays WeChat
// against the real callback; the member says 人工 and writes; the officer sees it in the
// inbox through the API, claims it and replies; the delivery worker sends the reply, which
// reaches the emulator as a customer-service message. 49 hours later the console says the
// member is outside the window, and the job closes the idle conversation.
func TestHandoffEndToEnd(t *testing.T) {
	for _, be := range wireBackends {
		t.Run(be.name, func(t *testing.T) {
			const member = "o-handoff-e2e"
			ctx := t.Context()
			// Every day, all day: hours do not matter here.
			f := wireFixture(t, be, localwx.EmulatorOptions{}, func(d *handlers.Deps) { d.StaffHours = "1-7 00:00-24:00" })
			clock, db, svc, emu := f.clock, f.db, f.svc, f.wechat
			worker := delivery.New(delivery.Deps{Store: db, Sender: f.wire.Sender, Seen: f.kv, Metrics: delivery.NewMetrics(nil)},
				delivery.Options{Owner: "e2e", Now: clock.Now, Poll: 20 * time.Millisecond})
			say := func(text string) string {
				t.Helper()
				return f.say(member, text)
			}
			tok := auth.NewToken()
			if _, err := db.CreateAPIToken(ctx, "inbox", auth.HashToken(tok), []string{"admin"}, 0, storage.AuditEntry{Actor: "test"}); err != nil {
				t.Fatal(err)
			}
			api := func(method, path, body string) (int, map[string]any) {
				t.Helper()
				var rd io.Reader
				if body != "" {
					rd = strings.NewReader(body)
				}
				req, _ := http.NewRequestWithContext(ctx, method, f.wire.Server.URL+path, rd)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var out map[string]any
				json.NewDecoder(resp.Body).Decode(&out)
				return resp.StatusCode, out
			}
			drain := func() {
				t.Helper()
				for range 20 {
					n, err := worker.RunOnce(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if n == 0 {
						return
					}
				}
			}

			if got := say("人工"); !strings.Contains(got, "已为您转接人工服务") || !strings.Contains(got, "现在是工作时间") {
				t.Fatalf("人工: %q", got)
			}
			if got := say("我在工地摔伤了，老板不给报销医药费"); !strings.Contains(got, "已转给工作人员") {
				t.Fatalf("message: %q", got)
			}
			if got := say("菜单"); !strings.Contains(got, "绑定") {
				t.Fatalf("menu during the hand-off: %q", got)
			}

			code, list := api("GET", "/api/v1/handoffs?status=open", "")
			items, _ := list["items"].([]any)
			if code != 200 || len(items) != 1 {
				t.Fatalf("inbox: %d %v", code, list)
			}
			h := items[0].(map[string]any)
			id := strconv.Itoa(int(h["id"].(float64)))
			if h["window_open"] != true || h["member"] != "未绑定会员" {
				t.Fatalf("inbox item %v", h)
			}
			code, one := api("GET", "/api/v1/handoffs/"+id, "")
			msgs, _ := one["messages"].([]any)
			if code != 200 || len(msgs) != 1 || msgs[0].(map[string]any)["text"] != "我在工地摔伤了，老板不给报销医药费" {
				t.Fatalf("conversation: %d %v", code, one)
			}
			if code, _ := api("POST", "/api/v1/handoffs/"+id+"/claim", ""); code != 200 {
				t.Fatalf("claim: %d", code)
			}
			if code, rep := api("POST", "/api/v1/handoffs/"+id+"/replies", `{"text":"请保留好病历和发票，工伤可以申请法律援助。"}`); code != 201 || rep["warning"] != nil {
				t.Fatalf("reply: %d %v", code, rep)
			}
			drain()
			var got []string
			for _, s := range emu.SentTo(member) {
				got = append(got, s.Kind+":"+s.Text)
			}
			if len(got) != 1 || got[0] != "custom:【工作人员回复】\n请保留好病历和发票，工伤可以申请法律援助。" {
				t.Fatalf("the emulator got %q", got)
			}

			// 49 hours later: outside the window the console says so, and the reply waits.
			clock.Add(47 * time.Hour)
			if closed, _, err := svc.Handoff.Maintain(ctx); err != nil || closed != 0 {
				t.Fatalf("closed early: %d %v", closed, err)
			}
			clock.Add(2 * time.Hour)
			code, one = api("GET", "/api/v1/handoffs/"+id, "")
			if code != 200 || one["window_open"] != false || !strings.Contains(one["warning"].(string), "48小时") {
				t.Fatalf("outside the window: %d %v", code, one)
			}
			code, rep := api("POST", "/api/v1/handoffs/"+id+"/replies", `{"text":"还需要帮助吗？"}`)
			if code != 201 || rep["warning"] == nil {
				t.Fatalf("reply outside the window: %d %v", code, rep)
			}
			drain()
			if n := len(emu.SentTo(member)); n != 1 {
				t.Fatalf("a customer-service message went out of the window: %d sent", n)
			}
			// The reply was activity: the conversation closes 48 hours after it.
			clock.Add(48*time.Hour + time.Minute)
			if closed, _, err := svc.Handoff.Maintain(ctx); err != nil || closed != 1 {
				t.Fatalf("self-close: %d %v", closed, err)
			}
			row, err := db.OutboxByKey(ctx, "handoff:"+id+":closed")
			if err != nil || !strings.Contains(row.Content.Text, "已自动结束") || !strings.Contains(row.Content.Text, "回复“人工”") {
				t.Fatalf("close notice %+v %v", row, err)
			}
			drain()
			if row, _ = db.OutboxByKey(ctx, "handoff:"+id+":closed"); row.State != storage.OutboxUnread {
				t.Fatalf("close notice state %s", row.State)
			}
			// The member's next message is answered as usual again.
			if got := say("会费怎么交"); strings.Contains(got, "已转给工作人员") {
				t.Fatalf("after the close: %q", got)
			}
			if code, one = api("GET", "/api/v1/handoffs/"+id, ""); one["status"] != "closed" {
				t.Fatalf("status %v", one["status"])
			}
		})
	}
}
