package localwx

import (
	"bytes"
	"context"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

//go:embed web
var webFS embed.FS

// MenuButton is one button of the chat page's bottom menu; tapping it sends a
// CLICK event with Key.
type MenuButton struct {
	Label string `json:"label"`
	Key   string `json:"key,omitempty"`
	// Sub, like a WeChat top-level menu button, opens a list of buttons
	// instead of sending a click itself.
	Sub []MenuButton `json:"sub,omitempty"`
}

// LocalUIOptions configures LocalUI.
type LocalUIOptions struct {
	// Prefix is where the handler is mounted; default "/_local". The page is
	// at Prefix+"/chat".
	Prefix string
	// Title is the account name shown in the header; default "工会服务".
	Title string
	// Menu is the bottom menu.
	Menu []MenuButton
	// Logger receives errors; nil discards.
	Logger *slog.Logger
}

// LocalUI serves a browser chat page that plays a WeChat user talking to the
// bot (local mode). The page posts to its own JSON API, which signs and sends
// the message to the bot through c (so the whole callback path runs) and reads
// pushed messages from b:
//
//	GET  {prefix}/chat                         the page
//	GET  {prefix}/api/config                   {title, menu}
//	POST {prefix}/api/send                     {openid, text[, menu_id]} | {openid, event, key} | {openid, image: data URL}
//	GET  {prefix}/api/pushed?openid=&after=&wait=  long poll for pushed messages
//	GET  {prefix}/api/media?id=                media bytes (when b is an *Emulator)
func LocalUI(c *Client, b Backend, o LocalUIOptions) http.Handler {
	if o.Prefix == "" {
		o.Prefix = "/_local"
	}
	o.Prefix = strings.TrimRight(o.Prefix, "/")
	if o.Title == "" {
		o.Title = "工会服务"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	u := &localUI{c: c, b: b, o: o}
	static, _ := fs.Sub(webFS, "web")
	p := o.Prefix
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+p+"/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, p+"/chat", http.StatusFound)
	})
	mux.HandleFunc("GET "+p+"/chat", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		http.ServeFileFS(w, r, static, "chat.html")
	})
	mux.Handle("GET "+p+"/assets/", http.StripPrefix(p+"/assets/", http.FileServerFS(static)))
	mux.HandleFunc("GET "+p+"/api/config", u.handleConfig)
	mux.HandleFunc("POST "+p+"/api/send", u.handleSend)
	mux.HandleFunc("GET "+p+"/api/pushed", u.handlePushed)
	mux.HandleFunc("GET "+p+"/api/media", u.handleMedia)
	return mux
}

type localUI struct {
	c *Client
	b Backend
	o LocalUIOptions
}

var openidPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (u *localUI) handleConfig(w http.ResponseWriter, _ *http.Request) {
	menu := u.o.Menu
	if menu == nil {
		menu = []MenuButton{}
	}
	writeJSON(w, map[string]any{"title": u.o.Title, "menu": menu})
}

type sendRequest struct {
	OpenID string `json:"openid"`
	Text   string `json:"text"`
	MenuID string `json:"menu_id"`
	Event  string `json:"event"`
	Key    string `json:"key"`
	Image  string `json:"image"` // data URL
}

type replyView struct {
	MsgType  string    `json:"msg_type"`
	Text     string    `json:"text,omitempty"`
	MediaID  string    `json:"media_id,omitempty"`
	Articles []Article `json:"articles,omitempty"`
}

func apiError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"ok": false, "error": msg})
	_, _ = w.Write(b)
}

func (u *localUI) handleSend(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r, 12<<20)
	if err != nil {
		apiError(w, http.StatusRequestEntityTooLarge, "图片太大（最大 10MB）")
		return
	}
	var req sendRequest
	if err := json.Unmarshal(body, &req); err != nil {
		apiError(w, http.StatusBadRequest, "请求格式错误")
		return
	}
	if !openidPattern.MatchString(req.OpenID) {
		apiError(w, http.StatusBadRequest, "openid 无效")
		return
	}
	ctx := r.Context()
	var m Message
	var userMedia string
	switch {
	case req.Image != "":
		ct, data, err := decodeDataURL(req.Image)
		if err != nil {
			apiError(w, http.StatusBadRequest, "图片无法读取")
			return
		}
		if userMedia, err = u.b.StoreMedia(ctx, ct, data); err != nil {
			u.o.Logger.Error("local chat: store media", "err", err)
			apiError(w, http.StatusBadGateway, "图片上传失败")
			return
		}
		m = ImageMsg(req.OpenID, userMedia, fakePicURL(userMedia))
	case req.Event != "":
		switch req.Event {
		case "subscribe", "unsubscribe":
			st := UserState{Unsubscribed: req.Event == "unsubscribe"}
			if err := u.b.SetUserState(ctx, req.OpenID, st); err != nil {
				u.o.Logger.Error("local chat: set user state", "err", err)
			}
		case "CLICK", "VIEW", "SCAN":
		default:
			apiError(w, http.StatusBadRequest, "不支持的事件")
			return
		}
		m = EventMsg(req.OpenID, req.Event, req.Key)
	case strings.TrimSpace(req.Text) != "":
		if req.MenuID != "" {
			m = MenuReplyMsg(req.OpenID, req.MenuID, req.Text)
		} else {
			m = TextMsg(req.OpenID, req.Text)
		}
	default:
		apiError(w, http.StatusBadRequest, "消息为空")
		return
	}

	resp, err := u.c.Send(ctx, m)
	out := map[string]any{"ok": err == nil, "tries": resp.Tries, "status": resp.Status}
	if userMedia != "" {
		out["media_id"] = userMedia
	}
	if err != nil {
		u.o.Logger.Warn("local chat: bot did not answer", "err", err)
		out["error"] = "该公众号暂时无法提供服务，请稍后再试"
		out["detail"] = err.Error()
	} else {
		out["empty"] = resp.Empty
		if !resp.Empty {
			out["reply"] = replyView{MsgType: resp.MsgType, Text: resp.Text, MediaID: resp.MediaID, Articles: resp.Articles}
		}
	}
	writeJSON(w, out)
}

// decodeDataURL reads "data:image/png;base64,…".
func decodeDataURL(s string) (contentType string, data []byte, err error) {
	meta, payload, ok := strings.Cut(s, ",")
	if !ok || !strings.HasPrefix(meta, "data:") || !strings.HasSuffix(meta, ";base64") {
		return "", nil, errors.New("not a base64 data URL")
	}
	data, err = base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return "", nil, fmt.Errorf("decode data URL: %w", err)
	}
	if len(data) == 0 || len(data) > maxMediaBytes {
		return "", nil, errors.New("image empty or larger than 10 MB")
	}
	contentType = http.DetectContentType(data) // trust the bytes, not the page
	if !strings.HasPrefix(contentType, "image/") {
		return "", nil, fmt.Errorf("not an image: %s", contentType)
	}
	return contentType, data, nil
}

func (u *localUI) handlePushed(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	openid := q.Get("openid")
	if !openidPattern.MatchString(openid) {
		apiError(w, http.StatusBadRequest, "openid 无效")
		return
	}
	after, err := strconv.ParseInt(q.Get("after"), 10, 64)
	if err != nil {
		apiError(w, http.StatusBadRequest, "after 无效")
		return
	}
	wait := pushPollWait
	if s := q.Get("wait"); s != "" {
		if wait, err = parseWait(s); err != nil {
			apiError(w, http.StatusBadRequest, "wait 无效")
			return
		}
	}
	msgs, last, err := u.b.Pushed(r.Context(), openid, after, wait)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			u.o.Logger.Warn("local chat: read pushed", "err", err)
		}
		apiError(w, http.StatusBadGateway, "读取推送失败")
		return
	}
	if msgs == nil {
		msgs = []Sent{}
	}
	writeJSON(w, map[string]any{"messages": msgs, "last_seq": last})
}

type mediaSource interface {
	Media(mediaID string) (contentType string, data []byte, ok bool)
}

func (u *localUI) handleMedia(w http.ResponseWriter, r *http.Request) {
	src, ok := u.b.(mediaSource)
	if !ok {
		http.NotFound(w, r)
		return
	}
	ct, data, ok := src.Media(r.URL.Query().Get("id"))
	if !ok || !strings.HasPrefix(ct, "image/") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}
