package localwx

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func localStack(t *testing.T) *stack {
	t.Helper()
	return newStack(t, testAESKey, func(mux *http.ServeMux, s *stack) {
		c := s.client(Safe)
		mux.Handle("/_local/", LocalUI(c, s.emu, LocalUIOptions{
			Title: "测试工会",
			Menu: []MenuButton{{Label: "会员服务", Key: "MENU_MEMBER"}, {Label: "互助金", Key: "MENU_CLAIM"},
				{Label: "更多", Sub: []MenuButton{{Label: "常见问题", Key: "MENU_FAQ"}, {Label: "联系人工", Key: "MENU_HUMAN"}}}},
		}))
	})
}

func postJSON(t *testing.T, url string, v any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(v)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{"http_status": float64(resp.StatusCode)}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return out
}

func TestLocalUIAPI(t *testing.T) {
	t.Parallel()
	s := localStack(t)
	api := s.srv.URL + "/_local/api/"

	out := postJSON(t, api+"send", map[string]any{"openid": "o-local-api", "text": "你好"})
	reply, _ := out["reply"].(map[string]any)
	if out["ok"] != true || reply["text"] != "echo:你好" {
		t.Fatalf("send text: %v", out)
	}
	out = postJSON(t, api+"send", map[string]any{"openid": "o-local-api", "event": "CLICK", "key": "MENU_CLAIM"})
	if reply, _ := out["reply"].(map[string]any); reply["text"] != "click:MENU_CLAIM" {
		t.Fatalf("click: %v", out)
	}
	png := "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
	out = postJSON(t, api+"send", map[string]any{"openid": "o-local-api", "image": png})
	if reply, _ := out["reply"].(map[string]any); !strings.HasPrefix(reply["text"].(string), "image:") || out["media_id"] == "" {
		t.Fatalf("image: %v", out)
	}
	out = postJSON(t, api+"send", map[string]any{"openid": "o-local-api", "image": "data:text/html;base64,PHNjcmlwdD4="})
	if out["http_status"] != float64(400) {
		t.Fatalf("non-image upload must be refused: %v", out)
	}
	out = postJSON(t, api+"send", map[string]any{"openid": "bad openid!", "text": "x"})
	if out["http_status"] != float64(400) {
		t.Fatalf("bad openid must be refused: %v", out)
	}
	out = postJSON(t, api+"send", map[string]any{"openid": "o-local-api", "event": "unsubscribe"})
	if out["ok"] != true || !s.emu.User("o-local-api").Unsubscribed {
		t.Fatalf("unsubscribe: %v, state %+v", out, s.emu.User("o-local-api"))
	}

	// Pushed messages: after=-1 gives the position, then a long poll returns
	// the new message.
	resp, err := http.Get(api + "pushed?openid=o-local-api&after=-1")
	if err != nil {
		t.Fatal(err)
	}
	var first struct {
		LastSeq int64 `json:"last_seq"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&first)
	resp.Body.Close()
	s.emu.SetUser("o-local-api", UserState{})
	tok := tokenOf(t, s.emu)
	if code := sendText(t, s.emu, tok, "o-local-api", "有新通知"); code != 0 {
		t.Fatalf("custom send %d", code)
	}
	resp, err = http.Get(api + "pushed?openid=o-local-api&wait=5s&after=" + jsonNum(first.LastSeq))
	if err != nil {
		t.Fatal(err)
	}
	var pushed struct {
		Messages []Sent `json:"messages"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&pushed)
	resp.Body.Close()
	if len(pushed.Messages) != 1 || pushed.Messages[0].Text != "有新通知" {
		t.Fatalf("pushed %+v", pushed)
	}

	// The page and its assets are served, with no external references.
	for _, p := range []string{"chat", "assets/chat.js", "assets/chat.css"} {
		resp, err := http.Get(s.srv.URL + "/_local/" + p)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || b.Len() == 0 || strings.Contains(b.String(), "//cdn") || strings.Contains(b.String(), "https://fonts") {
			t.Fatalf("%s: status %d, %d bytes", p, resp.StatusCode, b.Len())
		}
	}
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

// chromiumPath finds a Chromium for the browser test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found (install it: apt-get install -y chromium)")
	}
	t.Skip("chromium not found; install it (apt-get install -y chromium) to run the browser test")
	return ""
}

func TestLocalUIInBrowser(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	s := localStack(t)
	ctx := browser(t, 390, 844)

	// bubble finds a message row containing text (XPath, resolved by DOM search).
	bubble := func(text string) string {
		return `//div[contains(@class,"msg")]//*[contains(., "` + text + `")]`
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.srv.URL+"/_local/chat"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)),
		// First visit: a new openid follows the account and gets the welcome.
		chromedp.WaitVisible(bubble("欢迎关注")),
		chromedp.WaitVisible(chromedp.CSS(`#menu button[data-key="MENU_MEMBER"]`)),
		chromedp.SendKeys(chromedp.CSS(`#text`), "你好"),
		chromedp.Click(chromedp.CSS(`#send`)),
		chromedp.WaitVisible(bubble("echo:你好")),
		chromedp.Click(chromedp.CSS(`#menu button[data-key="MENU_MEMBER"]`)),
		chromedp.WaitVisible(bubble("click:MENU_MEMBER")),
		// A top-level button with a sub-menu opens it; a sub-button clicks.
		chromedp.Click(`//*[@id="menu"]//button[contains(., "更多")]`),
		chromedp.Click(chromedp.CSS(`#menu .menu-pop button[data-key="MENU_HUMAN"]`)),
		chromedp.WaitVisible(bubble("click:MENU_HUMAN")),
	)
	if err != nil {
		t.Fatalf("chat in browser: %v", err)
	}
	openid, err := chromedp.Run(ctx, chromedp.Evaluate[string](`localStorage.getItem('unionbot.local.openid')`))
	if err != nil || !strings.HasPrefix(openid, "o-local-") {
		t.Fatalf("openid %q, %v", openid, err)
	}

	// Pushed messages: one from outside (markup must stay text), then a
	// customer message and a template message triggered by the bot.
	tok := tokenOf(t, s.emu)
	if code := sendText(t, s.emu, tok, openid, `<img src=x onerror="document.title='pwned'">通知到了`); code != 0 {
		t.Fatalf("custom send %d", code)
	}
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(bubble("通知到了")),
		chromedp.SendKeys(chromedp.CSS(`#text`), "push"),
		chromedp.Click(chromedp.CSS(`#send`)),
		chromedp.WaitVisible(bubble("pushed:hello")),
		chromedp.WaitVisible(`//div[contains(@class,"card")]//dd[contains(., "春季运动会")]`),
	)
	if err != nil {
		t.Fatalf("pushed messages in browser: %v", err)
	}
	imgs, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#log img').length`))
	if err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.title`))
	if err != nil {
		t.Fatal(err)
	}
	if imgs != 0 || strings.Contains(title, "pwned") || title != "测试工会 · 本地模拟" {
		t.Fatalf("bot text was rendered as HTML, or the title is wrong (imgs %d, title %q)", imgs, title)
	}

	// Photo button: the file goes to the emulator, the bot downloads it.
	img := filepath.Join(t.TempDir(), "invoice.png")
	pngBytes := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	if err := os.WriteFile(img, pngBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{img}),
		chromedp.WaitVisible(bubble("image:"+jsonNum(int64(len(pngBytes))))),
	)
	if err != nil {
		t.Fatalf("photo in browser: %v", err)
	}
	screenshot(t, ctx, "localchat.png")
}

// screenshotDirVar names a directory where the browser tests leave their
// screenshots, for a person to look at (unset: none are taken).
const screenshotDirVar = "UNIONBOT_TEST_SCREENSHOT_DIR"

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv(screenshotDirVar)
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// browser starts a headless Chromium with a window of the given size (CSS
// pixels, like a phone's) and returns its context, valid until the test ends.
func browser(t *testing.T, width, height int) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := chromiumPath(t)
	actx, cancelA := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	t.Cleanup(cancelA)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(cancelC)
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelT)
	t0 := time.Now()
	// Headless windows are at least 500 px wide: the viewport is set too,
	// as a phone's would be.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	t.Logf("chromium started in %v", time.Since(t0))
	return ctx
}

// TestLocalUIHeaderFitsNarrowScreens: on a phone-sized window, with the
// longest title the configuration allows (a 30-character union name and
// "（本地模式）"), the header's "···" button stays whole and on screen, and the
// title gives way (ellipsis) instead of pushing it out.
func TestLocalUIHeaderFitsNarrowScreens(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("某", 24) + "县总工会（本地模式）"
	s := newStack(t, testAESKey, func(mux *http.ServeMux, s *stack) {
		mux.Handle("/_local/", LocalUI(s.client(Safe), s.emu, LocalUIOptions{Title: long}))
	})
	for _, width := range []int{390, 320} {
		ctx := browser(t, width, 700)
		type box struct {
			Viewport                float64
			MoreLeft, MoreRight     float64
			MoreScroll, MoreClient  float64
			TitleRight              float64
			TitleScroll, TitleWidth float64
			TitleBottom, TopBottom  float64
		}
		err := chromedp.Do(ctx,
			chromedp.Navigate(s.srv.URL+"/_local/chat"),
			chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)),
		)
		if err != nil {
			t.Fatalf("%d px: %v", width, err)
		}
		layout, err := chromedp.Run(ctx, chromedp.Evaluate[box](`(() => {
				const m = document.getElementById('more').getBoundingClientRect();
				const mb = document.getElementById('more');
				const h = document.getElementById('title');
				const hr = h.getBoundingClientRect();
				return {Viewport: document.documentElement.clientWidth,
					MoreLeft: m.left, MoreRight: m.right, MoreScroll: mb.scrollWidth, MoreClient: mb.clientWidth,
					TitleRight: hr.right, TitleScroll: h.scrollWidth, TitleWidth: h.clientWidth,
					TitleBottom: hr.bottom, TopBottom: document.getElementById('top').getBoundingClientRect().bottom};
			})()`))
		if err != nil {
			t.Fatalf("%d px: %v", width, err)
		}
		screenshot(t, ctx, "header-"+strconv.Itoa(width)+".png")
		t.Logf("%d px: %+v", width, layout)
		switch {
		case layout.Viewport != float64(width):
			t.Errorf("%d px: the page is %v px wide (something overflows the screen)", width, layout.Viewport)
		case layout.MoreLeft < 0 || layout.MoreRight > layout.Viewport:
			t.Errorf("%d px: the ··· button is off screen: %v–%v of %v", width, layout.MoreLeft, layout.MoreRight, layout.Viewport)
		case layout.MoreScroll > layout.MoreClient:
			t.Errorf("%d px: the ··· button's text is clipped (%v > %v)", width, layout.MoreScroll, layout.MoreClient)
		case layout.TitleRight > layout.MoreLeft:
			t.Errorf("%d px: the title runs under the ··· button", width)
		case layout.TitleBottom > layout.TopBottom:
			t.Errorf("%d px: the title wraps out of the header", width)
		case layout.TitleScroll <= layout.TitleWidth:
			t.Errorf("%d px: a title this long should be shortened with an ellipsis", width)
		}
	}
}
