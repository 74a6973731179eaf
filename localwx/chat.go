package localwx

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

const chatHelp = `模拟微信用户 %s，正在和公众号对话。直接输入文字即发送消息。
命令：/关注  /取关  /click 菜单KEY  /image 图片路径  /选 编号（点选菜单消息里的选项）  /帮助  /quit 退出
`

// pushPollWait is how long one long poll for pushed messages waits.
const pushPollWait = 25 * time.Second

// Chat lets a person talk to the bot from a terminal as the WeChat user
// openid. Each input line is sent as a text message through c and the bot's
// synchronous reply is printed; messages the bot pushes (customer-service and
// template messages) are fetched from the emulator at emulatorURL and printed
// as they arrive. It returns nil at end of input or on /quit.
func Chat(ctx context.Context, in io.Reader, out io.Writer, c *Client, emulatorURL, openid string) error {
	return runChat(ctx, in, out, c, &RemoteEmulator{URL: emulatorURL}, openid)
}

type chatSession struct {
	c      *Client
	b      Backend
	openid string

	mu   sync.Mutex // guards out and menu
	out  io.Writer
	menu map[string]string // msgmenu option id → content, from the last menu pushed
}

func (s *chatSession) printf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.out, format, args...)
}

func runChat(ctx context.Context, in io.Reader, out io.Writer, c *Client, b Backend, openid string) error {
	s := &chatSession{c: c, b: b, openid: openid, out: out, menu: map[string]string{}}
	s.printf(chatHelp, openid)

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	if _, last, err := b.Pushed(ctx, openid, -1, 0); err != nil {
		// A bot outside local mode has no emulator: replies still show.
		s.printf("（连接不上本地模式的模拟器，只能看到直接回复，收不到客服消息和模板消息推送：%v）\n", err)
	} else {
		wg.Go(func() { s.pollPushed(ctx, last) })
	}

	lines := make(chan string)
	scanErr := make(chan error, 1)
	go func() { // may outlive Chat until in is closed; it never blocks on lines then
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		scanErr <- sc.Err()
		close(lines)
	}()

	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case line, ok := <-lines:
			if !ok {
				if err := <-scanErr; err != nil {
					return fmt.Errorf("read chat input: %w", err)
				}
				return nil
			}
			if quit := s.handleLine(ctx, strings.TrimSpace(line)); quit {
				return nil
			}
		}
	}
}

func (s *chatSession) handleLine(ctx context.Context, line string) (quit bool) {
	if line == "" {
		return false
	}
	if !strings.HasPrefix(line, "/") {
		s.send(ctx, TextMsg(s.openid, line))
		return false
	}
	cmd, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	switch cmd {
	case "/quit", "/exit", "/退出":
		return true
	case "/help", "/帮助":
		s.printf(chatHelp, s.openid)
	case "/关注", "/subscribe":
		if err := s.b.SetUserState(ctx, s.openid, UserState{}); err != nil {
			s.printf("（模拟器出错：%v）\n", err)
		}
		s.send(ctx, EventMsg(s.openid, "subscribe", ""))
	case "/取关", "/unsubscribe":
		if err := s.b.SetUserState(ctx, s.openid, UserState{Unsubscribed: true}); err != nil {
			s.printf("（模拟器出错：%v）\n", err)
		}
		s.send(ctx, EventMsg(s.openid, "unsubscribe", ""))
	case "/click":
		if arg == "" {
			s.printf("用法：/click 菜单KEY\n")
			return false
		}
		s.send(ctx, EventMsg(s.openid, "CLICK", arg))
	case "/image", "/图片":
		if arg == "" {
			s.printf("用法：/image 图片路径\n")
			return false
		}
		s.sendImage(ctx, arg)
	case "/选", "/pick":
		s.mu.Lock()
		content, ok := s.menu[arg]
		s.mu.Unlock()
		if !ok {
			s.printf("没有编号为 %q 的选项。\n", arg)
			return false
		}
		s.send(ctx, MenuReplyMsg(s.openid, arg, content))
	default:
		s.printf("未知命令 %s。\n"+chatHelp, cmd, s.openid)
	}
	return false
}

func (s *chatSession) sendImage(ctx context.Context, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		s.printf("（读不到图片：%v）\n", err)
		return
	}
	id, err := s.b.StoreMedia(ctx, http.DetectContentType(data), data)
	if err != nil {
		s.printf("（上传图片失败：%v）\n", err)
		return
	}
	s.send(ctx, ImageMsg(s.openid, id, fakePicURL(id)))
}

func fakePicURL(mediaID string) string {
	return "http://mmbiz.qpic.cn/mmbiz_jpg/" + mediaID + "/0"
}

func (s *chatSession) send(ctx context.Context, m Message) {
	resp, err := s.c.Send(ctx, m)
	if err != nil {
		switch {
		case ctx.Err() != nil:
		case unreachable(s.c.URL):
			// The bot stopped (or never ran at this address): say what to do,
			// not the dial error.
			s.printf("（连接不上机器人服务 %s，它可能已经停止。先启动服务：go run .，再发一次这条消息）\n", s.c.URL)
		default:
			s.printf("（该公众号暂时无法提供服务，请稍后再试。%v）\n", err)
		}
		return
	}
	if resp.Empty {
		return
	}
	s.printf("%s\n", formatReply(resp))
}

// unreachable reports whether nothing listens at rawURL's host: the
// connection is refused.
func unreachable(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return false
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	host := net.JoinHostPort(u.Hostname(), port)
	conn, err := net.DialTimeout("tcp", host, time.Second)
	if err == nil {
		conn.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

func (s *chatSession) pollPushed(ctx context.Context, after int64) {
	for ctx.Err() == nil {
		msgs, _, err := s.b.Pushed(ctx, s.openid, after, pushPollWait)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		for _, m := range msgs {
			after = max(after, m.Seq)
			s.rememberMenu(m)
			s.printf("%s\n", formatPushed(m))
		}
	}
}

func (s *chatSession) rememberMenu(m Sent) {
	if m.MsgType != "msgmenu" {
		return
	}
	items := msgmenuItems(m.Raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.menu = map[string]string{}
	for _, it := range items {
		s.menu[it.ID] = it.Content
	}
}

type menuItem struct {
	ID      string `json:"id"`
	Content string `json:"content"`
}

type msgmenuBody struct {
	Msgmenu struct {
		HeadContent string     `json:"head_content"`
		List        []menuItem `json:"list"`
		TailContent string     `json:"tail_content"`
	} `json:"msgmenu"`
}

func msgmenuItems(raw json.RawMessage) []menuItem {
	var b msgmenuBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil
	}
	return b.Msgmenu.List
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n    ") }

// formatReply renders a synchronous reply for the terminal.
func formatReply(r Response) string {
	switch r.MsgType {
	case "text":
		return "公众号: " + indent(r.Text)
	case "news":
		var b strings.Builder
		b.WriteString("公众号[图文]:")
		for _, a := range r.Articles {
			b.WriteString("\n    " + indent(strings.TrimSpace(a.Title+"\n"+a.Description)))
			if a.URL != "" {
				b.WriteString("\n    " + a.URL)
			}
		}
		return b.String()
	case "image", "voice", "video":
		return fmt.Sprintf("公众号[%s]: %s", r.MsgType, r.MediaID)
	case "transfer_customer_service":
		return "（已为你转接人工客服）"
	}
	return "公众号[" + r.MsgType + "]"
}

// formatPushed renders a pushed message for the terminal.
func formatPushed(m Sent) string {
	if m.Kind == KindTemplate {
		var b strings.Builder
		b.WriteString("公众号[模板消息]:")
		for _, k := range m.DataKeys {
			b.WriteString("\n    " + k + ": " + m.Data[k])
		}
		if m.URL != "" {
			b.WriteString("\n    详情: " + m.URL)
		}
		return b.String()
	}
	switch m.MsgType {
	case "text":
		return "公众号[客服消息]: " + indent(m.Text)
	case "msgmenu":
		var mb msgmenuBody
		_ = json.Unmarshal(m.Raw, &mb)
		var b strings.Builder
		b.WriteString("公众号[客服消息]: " + indent(mb.Msgmenu.HeadContent))
		for _, it := range mb.Msgmenu.List {
			b.WriteString(fmt.Sprintf("\n    [%s] %s", it.ID, it.Content))
		}
		if mb.Msgmenu.TailContent != "" {
			b.WriteString("\n    " + indent(mb.Msgmenu.TailContent))
		}
		b.WriteString("\n    （输入 /选 编号 点选）")
		return b.String()
	case "image", "voice", "mpnews":
		return fmt.Sprintf("公众号[客服消息·%s]: %s", m.MsgType, m.MediaID)
	}
	s := "公众号[客服消息·" + m.MsgType + "]: " + indent(m.Text)
	if m.URL != "" {
		s += "\n    " + m.URL
	}
	return s
}
