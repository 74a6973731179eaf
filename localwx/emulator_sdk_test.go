package localwx

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount"
	offconfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/material"
	"github.com/silenceper/wechat/v2/officialaccount/menu"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/officialaccount/user"
	"github.com/silenceper/wechat/v2/util"
)

// These tests drive the Emulator with silenceper/wechat itself. They swap the
// SDK's global util.DefaultHTTPClient, so none of them is parallel.

type rewriteRT struct{ target *url.URL }

func (r rewriteRT) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = r.target.Scheme, r.target.Host, r.target.Host
	return http.DefaultTransport.RoundTrip(req)
}

// sdkAgainst points the SDK at e and returns an official account using the
// stable token, plus its cache.
func sdkAgainst(t *testing.T, e *Emulator) (*officialaccount.OfficialAccount, *memCache) {
	t.Helper()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	old := util.DefaultHTTPClient
	util.DefaultHTTPClient = &http.Client{Transport: rewriteRT{u}, Timeout: 5 * time.Second}
	t.Cleanup(func() { util.DefaultHTTPClient = old })
	cache := newMemCache()
	oa := officialaccount.NewOfficialAccount(&offconfig.Config{
		AppID: testAppID, AppSecret: testSecret, Token: testToken, Cache: cache, UseStableAK: true,
	})
	return oa, cache
}

func TestSDKAgainstEmulator(t *testing.T) {
	e := NewEmulator(EmulatorOptions{AppID: testAppID, AppSecret: testSecret, StrictTemplates: true})
	oa, _ := sdkAgainst(t, e)
	ctx := oa.GetContext()

	// Customer-service text message.
	if err := message.NewMessageManager(ctx).Send(message.NewCustomerTextMessage("oA", "您的申请已受理")); err != nil {
		t.Fatalf("customer send: %v", err)
	}
	// A msgmenu message.
	mm := &message.CustomerMessage{ToUser: "oA", Msgtype: "msgmenu", Msgmenu: &message.MediaMsgmenu{
		HeadContent: "请选择", List: []message.MsgmenuItem{{ID: "101", Content: "满意"}, {ID: "102", Content: "不满意"}}, TailContent: "谢谢",
	}}
	if err := message.NewMessageManager(ctx).Send(mm); err != nil {
		t.Fatalf("msgmenu send: %v", err)
	}

	// Template message.
	msgID, err := message.NewTemplate(ctx).Send(&message.TemplateMessage{
		ToUser: "oA", TemplateID: "TPL_ACT", URL: "https://example.org/a/1",
		Data: map[string]*message.TemplateDataItem{"thing1": {Value: "职工运动会"}, "time2": {Value: "2026年5月1日"}},
	})
	if err != nil || msgID == 0 {
		t.Fatalf("template send: id %d, %v", msgID, err)
	}

	sent := e.SentTo("oA")
	if len(sent) != 3 {
		t.Fatalf("recorded %d messages, want 3: %+v", len(sent), sent)
	}
	if s := sent[0]; s.Kind != KindCustom || s.MsgType != "text" || s.Text != "您的申请已受理" || s.Seq != 1 {
		t.Errorf("customer record %+v", s)
	}
	if s := sent[1]; s.MsgType != "msgmenu" || !strings.Contains(s.Text, "不满意") || !strings.Contains(string(s.Raw), `"id":"102"`) {
		t.Errorf("msgmenu record %+v", s)
	}
	if s := sent[2]; s.Kind != KindTemplate || s.TemplateID != "TPL_ACT" || s.Data["thing1"] != "职工运动会" ||
		s.URL != "https://example.org/a/1" || s.MsgID != msgID {
		t.Errorf("template record %+v", s)
	}
	if e.Count(KindCustom) != 2 || e.Count(KindTemplate) != 1 {
		t.Errorf("counts %d/%d", e.Count(KindCustom), e.Count(KindTemplate))
	}

	// Strict template rules (WeChat 2023): 47003 for long or multi-line values.
	for _, v := range []string{strings.Repeat("长", 21), "第一行\n第二行"} {
		_, err := message.NewTemplate(ctx).Send(&message.TemplateMessage{ToUser: "oA", TemplateID: "T",
			Data: map[string]*message.TemplateDataItem{"thing1": {Value: v}}})
		if err == nil || !strings.Contains(err.Error(), "errcode=47003") {
			t.Errorf("template value %q: err = %v, want 47003", v, err)
		}
	}
	if _, err := message.NewTemplate(ctx).Send(&message.TemplateMessage{ToUser: "oA",
		Data: map[string]*message.TemplateDataItem{"thing1": {Value: "x"}}}); err == nil || !strings.Contains(err.Error(), "errcode=40037") {
		t.Errorf("empty template_id: err = %v, want 40037", err)
	}

	// Menu.
	m := menu.NewMenu(ctx)
	buttons := []*menu.Button{
		new(menu.Button).SetClickButton("会员服务", "MENU_MEMBER"),
		new(menu.Button).SetSubButton("办事", []*menu.Button{new(menu.Button).SetClickButton("互助金", "MENU_CLAIM")}),
	}
	if err := m.SetMenu(buttons); err != nil {
		t.Fatalf("set menu: %v", err)
	}
	if !strings.Contains(string(e.Menu()), `"key":"MENU_CLAIM"`) {
		t.Errorf("recorded menu %s", e.Menu())
	}
	got, err := m.GetMenu()
	if err != nil || len(got.Menu.Button) != 2 || got.Menu.Button[1].SubButtons[0].Key != "MENU_CLAIM" {
		t.Fatalf("get menu: %+v, %v", got, err)
	}
	if err := m.DeleteMenu(); err != nil || e.Menu() != nil {
		t.Fatalf("delete menu: %v, left %s", err, e.Menu())
	}
	if _, err := m.GetMenu(); err == nil || !strings.Contains(err.Error(), "46003") {
		t.Fatalf("get deleted menu: err = %v, want 46003", err)
	}

	// User info.
	info, err := user.NewUser(ctx).GetUserInfo("oA")
	if err != nil || info.Subscribe != 1 || info.OpenID != "oA" || info.SubscribeTime == 0 {
		t.Fatalf("user info: %+v, %v", info, err)
	}
	e.SetUser("oGone", UserState{Unsubscribed: true})
	info, err = user.NewUser(ctx).GetUserInfo("oGone")
	if err != nil || info.Subscribe != 0 {
		t.Fatalf("unsubscribed user info: %+v, %v", info, err)
	}

	// Media: download registered media, upload new media, unknown media id.
	jpeg := []byte("\xff\xd8\xff\xe0 fake jpeg body")
	e.AddMedia("MEDIA_1", "image/jpeg", jpeg)
	mat := material.NewMaterial(ctx)
	mediaURL, err := mat.GetMediaURL("MEDIA_1")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := util.HTTPGetContext(t.Context(), mediaURL)
	if err != nil {
		t.Fatalf("download media: %v", err)
	}
	if data, err := util.HandleFileResponse(raw, "GetMedia"); err != nil || !bytes.Equal(data, jpeg) {
		t.Fatalf("media bytes %q, %v", data, err)
	}
	up, err := mat.MediaUploadFromReader(material.MediaTypeImage, "invoice.png", bytes.NewReader([]byte("\x89PNG\r\n\x1a\nrest")))
	if err != nil || up.MediaID == "" || up.Type != material.MediaTypeImage {
		t.Fatalf("upload: %+v, %v", up, err)
	}
	if ct, _, ok := e.Media(up.MediaID); !ok || ct != "image/png" {
		t.Fatalf("uploaded media: %q %v", ct, ok)
	}
	unknownURL, _ := mat.GetMediaURL("NOPE")
	raw, err = util.HTTPGetContext(t.Context(), unknownURL)
	if err != nil {
		t.Fatal(err)
	}
	var ce *util.CommonError
	if _, err := util.HandleFileResponse(raw, "GetMedia"); !errors.As(err, &ce) || ce.ErrCode != ErrInvalidMediaID {
		t.Fatalf("unknown media: err = %v, want 40007", err)
	}

	// The stable token was fetched once and reused from the SDK's cache.
	if n := e.TokenFetches(); n != 1 {
		t.Fatalf("token fetches = %d, want 1", n)
	}
}

func TestSDKTokenInvalidation(t *testing.T) {
	e := NewEmulator(EmulatorOptions{AppID: testAppID, AppSecret: testSecret})
	oa, cache := sdkAgainst(t, e)
	mgr := message.NewMessageManager(oa.GetContext())
	send := func() error { return mgr.Send(message.NewCustomerTextMessage("oB", "hi")) }

	if err := send(); err != nil {
		t.Fatal(err)
	}
	// Injected 40001 on one call: the call fails, the next one succeeds.
	e.FailNext(PathCustomSend, ErrInvalidToken, 1)
	if err := send(); err == nil || !strings.Contains(err.Error(), "errcode=40001") {
		t.Fatalf("injected: err = %v, want 40001", err)
	}
	if err := send(); err != nil {
		t.Fatalf("after injection: %v", err)
	}

	// Someone invalidated every token: the cached one answers 40001 until the
	// bot drops it and fetches again.
	e.InvalidateTokens()
	if err := send(); err == nil || !strings.Contains(err.Error(), "errcode=40001") {
		t.Fatalf("invalidated: err = %v, want 40001", err)
	}
	_ = cache.Delete("gowechat_officialaccount__stable_access_token_" + testAppID)
	if err := send(); err != nil {
		t.Fatalf("after refetch: %v", err)
	}
	if n := e.TokenFetches(); n != 2 {
		t.Fatalf("token fetches = %d, want 2", n)
	}
	if n := e.Count(KindCustom); n != 3 {
		t.Fatalf("accepted %d, want 3", n)
	}

	// Per-user states.
	e.SetUser("oGone", UserState{Unsubscribed: true})
	e.SetUser("oQuiet", UserState{OutsideWindow: true})
	if err := mgr.Send(message.NewCustomerTextMessage("oGone", "x")); err == nil || !strings.Contains(err.Error(), "errcode=43004") {
		t.Fatalf("unsubscribed: %v", err)
	}
	if err := mgr.Send(message.NewCustomerTextMessage("oQuiet", "x")); err == nil || !strings.Contains(err.Error(), "errcode=45015") {
		t.Fatalf("outside window: %v", err)
	}
	if _, err := message.NewTemplate(oa.GetContext()).Send(&message.TemplateMessage{ToUser: "oQuiet", TemplateID: "T",
		Data: map[string]*message.TemplateDataItem{"thing1": {Value: "x"}}}); err != nil {
		t.Fatalf("template outside the window must work: %v", err)
	}
}
