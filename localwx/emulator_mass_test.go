package localwx

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestEmulatorMassSendQuotaAndDuplicates(t *testing.T) {
	e := NewEmulator(EmulatorOptions{})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	tok := e.issueTokenForTest()
	post := func(path string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		resp, err := http.Post(srv.URL+path+"?access_token="+tok, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	mass := func(client string, to ...string) map[string]any {
		return post(PathMassSend, map[string]any{"touser": to, "msgtype": "text", "text": map[string]string{"content": "活动通知"}, "clientmsgid": client})
	}
	e.SetUser("oGone", UserState{Unsubscribed: true})
	for i := range 5 {
		out := mass(string(rune('a'+i)), "o1", "o2", "oGone")
		if out["errcode"].(float64) != 0 {
			t.Fatalf("send %d: %v", i, out)
		}
		job, _ := e.MassJob(int64(out["msg_id"].(float64)))
		wantSent, wantFiltered := 2, 0
		if i == 4 {
			wantSent, wantFiltered = 0, 2 // the fifth this month
		}
		if job.Sent != wantSent || job.Filtered != wantFiltered || job.Errors != 1 {
			t.Fatalf("send %d: job %+v", i, job)
		}
	}
	if e.SentCount("o1") != 4 || e.MassQuotaUsed("o1") != 4 {
		t.Fatalf("o1 got %d", e.SentCount("o1"))
	}
	if out := mass("a", "o3", "o4"); out["errcode"].(float64) != ErrMassDuplicate || out["msg_id"] == nil {
		t.Fatalf("same clientmsgid: %v", out)
	}
	// Template client_msg_id: the second send is dropped, with the first msgid.
	tpl := map[string]any{"touser": "o5", "template_id": "T", "client_msg_id": "c1", "data": map[string]any{"k": map[string]string{"value": "v"}}}
	first, second := post(PathTemplateSend, tpl), post(PathTemplateSend, tpl)
	if first["msgid"] != second["msgid"] || e.SentCount("o5") != 1 {
		t.Fatalf("template de-duplication: %v %v, %d sent", first, second, e.SentCount("o5"))
	}
	// Subscribe messages need an acceptance, one per message.
	sub := map[string]any{"touser": "o6", "template_id": "S", "data": map[string]any{"k": map[string]string{"value": "v"}}}
	if out := post(PathSubscribeSend, sub); out["errcode"].(float64) != ErrUserRefused {
		t.Fatalf("no acceptance: %v", out)
	}
	e.AcceptSubscribe("o6", "S")
	if out := post(PathSubscribeSend, sub); out["errcode"].(float64) != 0 {
		t.Fatalf("accepted: %v", out)
	}
	if out := post(PathSubscribeSend, sub); out["errcode"].(float64) != ErrUserRefused {
		t.Fatalf("acceptance used twice: %v", out)
	}
}

func (e *Emulator) issueTokenForTest() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.issueTokenLocked(false)
}
