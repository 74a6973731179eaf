package localwx

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"unionbot/internal/testlog"
)

// waitFor waits until out contains want.
func waitFor(t *testing.T, out *testlog.Buffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("output never showed %q; got:\n%s", want, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestChat(t *testing.T) {
	t.Parallel()
	s := newStack(t, testAESKey, nil)
	c := s.client(Safe)
	img := filepath.Join(t.TempDir(), "invoice.png")
	pngBytes := []byte("\x89PNG\r\n\x1a\n0123456789")
	if err := os.WriteFile(img, pngBytes, 0o600); err != nil {
		t.Fatal(err)
	}

	in, inW := io.Pipe()
	out := &testlog.Buffer{}
	done := make(chan error, 1)
	go func() { done <- Chat(t.Context(), in, out, c, s.srv.URL, "oChat") }()
	line := func(l string) {
		t.Helper()
		if _, err := fmt.Fprintln(inW, l); err != nil {
			t.Fatal(err)
		}
	}

	waitFor(t, out, "直接输入文字")
	line("你好")
	waitFor(t, out, "公众号: echo:你好")
	line("/关注")
	waitFor(t, out, "公众号: 欢迎关注")
	line("/click MENU_MEMBER")
	waitFor(t, out, "公众号: click:MENU_MEMBER")
	line("/image " + img)
	waitFor(t, out, fmt.Sprintf("公众号: image:%d", len(pngBytes)))

	// Pushed messages arrive through the long poll.
	line("push")
	waitFor(t, out, "公众号[客服消息]: pushed:hello")
	waitFor(t, out, "thing1: 春季运动会")

	// A msgmenu push, then picking an option sends bizmsgmenuid.
	tok := tokenOf(t, s.emu)
	body := `{"touser":"oChat","msgtype":"msgmenu","msgmenu":{"head_content":"您对本次服务满意吗？","list":[{"id":"101","content":"满意"},{"id":"102","content":"不满意"}],"tail_content":"谢谢"}}`
	if code := errcode(call(t, s.emu, "POST", PathCustomSend+"?access_token="+tok, body)); code != 0 {
		t.Fatalf("msgmenu send: %d", code)
	}
	waitFor(t, out, "[102] 不满意")
	line("/选 102")
	waitFor(t, out, "公众号: menu:102:不满意")

	line("/取关")
	deadline := time.Now().Add(5 * time.Second)
	for !s.emu.User("oChat").Unsubscribed {
		if time.Now().After(deadline) {
			t.Fatal("unsubscribe did not reach the emulator")
		}
		time.Sleep(10 * time.Millisecond)
	}
	line("/nonsense")
	waitFor(t, out, "未知命令 /nonsense")

	line("/quit")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("chat returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("chat did not stop on /quit")
	}
	_ = inW.Close()
}

func TestChatEndOfInput(t *testing.T) {
	t.Parallel()
	s := newStack(t, "", nil)
	out := &testlog.Buffer{}
	err := Chat(t.Context(), strings.NewReader("第一句\n\n第二句\n"), out, s.client(Plain), s.srv.URL, "oEOF")
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.Contains(got, "公众号: echo:第一句") || !strings.Contains(got, "公众号: echo:第二句") {
		t.Fatalf("output:\n%s", got)
	}
	if n := len(s.bot.requests()); n != 2 {
		t.Fatalf("bot got %d messages, want 2 (blank lines are skipped)", n)
	}
}

func TestChatBotDown(t *testing.T) {
	t.Parallel()
	s := newStack(t, "", nil)
	c := s.client(Plain)
	c.URL = s.srv.URL + "/nowhere" // emulator answers 404 here
	out := &testlog.Buffer{}
	if err := Chat(t.Context(), strings.NewReader("hi\n"), out, c, s.srv.URL, "oDown"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "该公众号暂时无法提供服务") {
		t.Fatalf("output:\n%s", out.String())
	}
}

// TestChatWithoutBot: with nothing listening, the terminal says how to start
// the bot instead of printing dial errors.
func TestChatWithoutBot(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close()
	c := &Client{URL: base + "/wechat", Token: testToken, AppID: testAppID, NoRetry: true}
	out := &testlog.Buffer{}
	if err := Chat(t.Context(), strings.NewReader("你好\n"), out, c, base+"/_local/wechat", "oGone"); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"收不到客服消息", "连接不上机器人服务", "先启动服务：go run ."} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "暂时无法提供服务") {
		t.Errorf("a refused connection reads as a busy bot:\n%s", got)
	}
}
