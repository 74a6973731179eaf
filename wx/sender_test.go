package wx

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"unionbot/localwx"
)

func TestSenderSendText(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{})
	if err := h.sender.SendText(t.Context(), "oS1", "您的申请已受理"); err != nil {
		t.Fatal(err)
	}
	sent := h.emu.SentTo("oS1")
	if len(sent) != 1 || sent[0].Kind != localwx.KindCustom || sent[0].Text != "您的申请已受理" {
		t.Fatalf("sent %+v", sent)
	}
}

func TestSenderErrors(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{})
	h.emu.SetUser("oGone", localwx.UserState{Unsubscribed: true})
	h.emu.SetUser("oQuiet", localwx.UserState{OutsideWindow: true})
	cases := []struct {
		name  string
		setup func()
		to    string
		check func(*APIError) bool
		code  int64
	}{
		{"unsubscribed is permanent", nil, "oGone", (*APIError).Permanent, 43004},
		{"outside 48h window", nil, "oQuiet", (*APIError).OutsideWindow, 45015},
		{"system busy is transient", func() { h.emu.FailNext(localwx.PathCustomSend, -1, 1) }, "oS", (*APIError).Transient, -1},
		{"rate limit is transient", func() { h.emu.FailNext(localwx.PathCustomSend, 45047, 1) }, "oS", (*APIError).Transient, 45047},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			err := h.sender.SendText(t.Context(), tc.to, "x")
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("got %v, want *APIError", err)
			}
			if ae.Code != tc.code || !tc.check(ae) || ae.Op != "send text" {
				t.Errorf("got %+v", ae)
			}
		})
	}
	t.Run("cancelled context sends nothing", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		before := len(h.emu.Sent())
		if err := h.sender.SendText(ctx, "oS", "x"); !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
		if len(h.emu.Sent()) != before {
			t.Error("a message was sent")
		}
	})
}

func TestSenderTemplate(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{})
	id, err := h.sender.SendTemplate(t.Context(), TemplateMessage{
		ToUser: "oT", TemplateID: "TPL1", URL: "https://example.org/n/1",
		Data: map[string]string{"thing1": "会员活动", "time2": "2026-05-01"}, ClientMsgID: "n1:oT",
	})
	if err != nil {
		t.Fatal(err)
	}
	sent := h.emu.SentTo("oT")
	if len(sent) != 1 || sent[0].Kind != localwx.KindTemplate || sent[0].MsgID != id || id == 0 {
		t.Fatalf("id %d, sent %+v", id, sent)
	}
	if sent[0].TemplateID != "TPL1" || sent[0].Data["thing1"] != "会员活动" || sent[0].URL != "https://example.org/n/1" {
		t.Errorf("sent %+v", sent[0])
	}
}

func TestSenderDownloadMedia(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{})
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, []byte(strings.Repeat("j", 1000))...)
	h.emu.AddMedia("MEDIA1", "image/jpeg", jpeg)
	data, ct, err := h.sender.DownloadMedia(t.Context(), "MEDIA1")
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(jpeg) || ct != "image/jpeg" {
		t.Errorf("got %d bytes %q", len(data), ct)
	}

	_, _, err = h.sender.DownloadMedia(t.Context(), "NOPE")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 40007 || !ae.Permanent() {
		t.Fatalf("unknown media: got %v, want permanent 40007", err)
	}
	if strings.Contains(err.Error(), "access_token") || strings.Contains(err.Error(), "SAT_") {
		t.Errorf("error leaks the token: %v", err)
	}
}

func TestSenderMenuAndUserInfo(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{})
	menu := `{"button":[{"type":"click","name":"常见问题","key":"MENU_FAQ"}]}`
	if err := h.sender.SetMenu(t.Context(), []byte(menu)); err != nil {
		t.Fatal(err)
	}
	var got, want any
	if err := json.Unmarshal(h.emu.Menu(), &got); err != nil {
		t.Fatalf("emulator menu %q: %v", h.emu.Menu(), err)
	}
	_ = json.Unmarshal([]byte(menu), &want)
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Errorf("menu %s, want %s", gb, wb)
	}

	ui, err := h.sender.UserInfo(t.Context(), "oInfo")
	if err != nil {
		t.Fatal(err)
	}
	if ui.OpenID != "oInfo" || !ui.Subscribed || ui.SubscribeTime.IsZero() {
		t.Errorf("user info %+v", ui)
	}
	h.emu.SetUser("oLeft", localwx.UserState{Unsubscribed: true})
	ui, err = h.sender.UserInfo(t.Context(), "oLeft")
	if err != nil {
		t.Fatal(err)
	}
	if ui.Subscribed {
		t.Errorf("unsubscribed user reported subscribed: %+v", ui)
	}
}
