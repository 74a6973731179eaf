package localwx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	maxJSONBody    = 1 << 20
	maxMediaBytes  = 10 << 20
	maxTextBytes   = 2048 // WeChat's limit for a customer-service text
	maxTemplateVal = 20   // runes per template keyword value since 2023
)

// ---- tokens ----

func (e *Emulator) checkCredentials(grantType, appid, secret string) int {
	switch {
	case grantType != "client_credential":
		return ErrInvalidGrantType
	case e.opts.AppID != "" && appid != e.opts.AppID:
		return ErrInvalidAppID
	case e.opts.AppSecret != "" && secret != e.opts.AppSecret:
		return ErrInvalidSecret
	}
	return 0
}

// issueTokenLocked makes a new token and ages the older ones of the same
// family (stable or not).
func (e *Emulator) issueTokenLocked(stable bool) string {
	now := e.now()
	for tok, t := range e.tokens {
		if isStableToken(tok) != stable || t.invalid {
			continue
		}
		if e.opts.OldTokenGrace < 0 {
			t.invalid = true
		} else if limit := now.Add(e.opts.OldTokenGrace); t.expires.After(limit) {
			t.expires = limit
		}
	}
	tok := "AT_" + randomToken(60)
	if stable {
		tok = "SAT_" + randomToken(60)
		e.stable = tok
	}
	e.tokens[tok] = &tokenInfo{expires: now.Add(e.opts.TokenTTL)}
	return tok
}

func isStableToken(tok string) bool { return strings.HasPrefix(tok, "SAT_") }

func (e *Emulator) handleToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	e.mu.Lock()
	e.tokenFetches++
	e.mu.Unlock()
	if code := e.checkCredentials(q.Get("grant_type"), q.Get("appid"), q.Get("secret")); code != 0 {
		e.writeErr(w, code, "")
		return
	}
	e.mu.Lock()
	tok := e.issueTokenLocked(false)
	e.mu.Unlock()
	writeJSON(w, map[string]any{"access_token": tok, "expires_in": int64(e.opts.TokenTTL / time.Second)})
}

func (e *Emulator) handleStableToken(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.tokenFetches++
	e.mu.Unlock()
	body, err := readBody(r, maxJSONBody)
	if err != nil || len(body) == 0 {
		e.writeErr(w, ErrEmptyPostData, "")
		return
	}
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		e.writeErr(w, ErrDataFormat, "")
		return
	}
	if code := e.checkCredentials(req.GrantType, req.AppID, req.Secret); code != 0 {
		e.writeErr(w, code, "")
		return
	}
	e.mu.Lock()
	now := e.now()
	tok := e.stable
	var expiresIn int64
	if t, ok := e.tokens[tok]; ok && !req.ForceRefresh && !t.invalid && t.expires.After(now) {
		expiresIn = int64(t.expires.Sub(now) / time.Second)
	} else {
		tok = e.issueTokenLocked(true)
		expiresIn = int64(e.opts.TokenTTL / time.Second)
	}
	e.mu.Unlock()
	writeJSON(w, map[string]any{"access_token": tok, "expires_in": expiresIn})
}

// ---- messages ----

type customRequest struct {
	ToUser  string `json:"touser"`
	MsgType string `json:"msgtype"`
	Text    *struct {
		Content string `json:"content"`
	} `json:"text"`
	Image  *mediaRef `json:"image"`
	Voice  *mediaRef `json:"voice"`
	Mpnews *mediaRef `json:"mpnews"`
	Video  *struct {
		MediaID string `json:"media_id"`
		Title   string `json:"title"`
	} `json:"video"`
	Music *struct {
		Title string `json:"title"`
	} `json:"music"`
	News *struct {
		Articles []struct {
			Title       string `json:"title"`
			Description string `json:"description"`
			URL         string `json:"url"`
			PicURL      string `json:"picurl"`
		} `json:"articles"`
	} `json:"news"`
	Msgmenu *struct {
		HeadContent string `json:"head_content"`
		List        []struct {
			ID      string `json:"id"`
			Content string `json:"content"`
		} `json:"list"`
		TailContent string `json:"tail_content"`
	} `json:"msgmenu"`
	Wxcard *struct {
		CardID string `json:"card_id"`
	} `json:"wxcard"`
	Miniprogrampage *struct {
		Title    string `json:"title"`
		Pagepath string `json:"pagepath"`
	} `json:"miniprogrampage"`
	Mpnewsarticle *struct {
		ArticleID string `json:"article_id"`
	} `json:"mpnewsarticle"`
}

type mediaRef struct {
	MediaID string `json:"media_id"`
}

// describe validates the message body and fills the readable parts of s. It
// returns a WeChat errcode (0 when valid).
func (c *customRequest) describe(s *Sent) int {
	s.MsgType = c.MsgType
	media := func(m *mediaRef) int {
		if m == nil || m.MediaID == "" {
			return ErrInvalidMediaID
		}
		s.MediaID = m.MediaID
		return 0
	}
	switch c.MsgType {
	case "text":
		if c.Text == nil || c.Text.Content == "" {
			return ErrEmptyContent
		}
		if len(c.Text.Content) > maxTextBytes {
			return ErrContentTooLong
		}
		s.Text = c.Text.Content
	case "image":
		return media(c.Image)
	case "voice":
		return media(c.Voice)
	case "mpnews":
		return media(c.Mpnews)
	case "video":
		if c.Video == nil || c.Video.MediaID == "" {
			return ErrInvalidMediaID
		}
		s.MediaID, s.Text = c.Video.MediaID, c.Video.Title
	case "music":
		if c.Music == nil {
			return ErrDataFormat
		}
		s.Text = c.Music.Title
	case "news":
		if c.News == nil || len(c.News.Articles) == 0 {
			return ErrDataFormat
		}
		var parts []string
		for _, a := range c.News.Articles {
			parts = append(parts, strings.TrimSpace(a.Title+"\n"+a.Description))
		}
		s.Text = strings.Join(parts, "\n")
		s.URL = c.News.Articles[0].URL
	case "msgmenu":
		if c.Msgmenu == nil || len(c.Msgmenu.List) == 0 {
			return ErrDataFormat
		}
		lines := []string{c.Msgmenu.HeadContent}
		for _, it := range c.Msgmenu.List {
			lines = append(lines, it.Content)
		}
		lines = append(lines, c.Msgmenu.TailContent)
		s.Text = strings.TrimSpace(strings.Join(lines, "\n"))
	case "wxcard":
		if c.Wxcard == nil || c.Wxcard.CardID == "" {
			return ErrDataFormat
		}
		s.Text = c.Wxcard.CardID
	case "miniprogrampage":
		if c.Miniprogrampage == nil {
			return ErrDataFormat
		}
		s.Text, s.URL = c.Miniprogrampage.Title, c.Miniprogrampage.Pagepath
	case "mpnewsarticle":
		if c.Mpnewsarticle == nil || c.Mpnewsarticle.ArticleID == "" {
			return ErrDataFormat
		}
		s.Text = c.Mpnewsarticle.ArticleID
	default:
		return ErrInvalidMsgType
	}
	return 0
}

func (e *Emulator) handleCustomSend(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r, maxJSONBody)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		e.writeErr(w, ErrEmptyPostData, "")
		return
	}
	var req customRequest
	if err := json.Unmarshal(body, &req); err != nil {
		e.writeErr(w, ErrDataFormat, "")
		return
	}
	if req.ToUser == "" {
		e.writeErr(w, ErrInvalidOpenID, "")
		return
	}
	s := Sent{Kind: KindCustom, ToUser: req.ToUser, Raw: compactJSON(body)}
	if code := req.describe(&s); code != 0 {
		e.writeErr(w, code, "")
		return
	}
	e.mu.Lock()
	code := 0
	st := e.users[req.ToUser]
	switch {
	case !e.allowLocked(KindCustom):
		code = ErrResponseLimit
	case st.Unsubscribed:
		code = ErrRequireSubscribe
	case st.OutsideWindow:
		code = ErrOutsideWindow
	default:
		e.addRecordLocked(s)
	}
	e.mu.Unlock()
	if code != 0 {
		e.writeErr(w, code, "")
		return
	}
	writeOK(w, nil)
}

func (e *Emulator) handleTyping(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r, maxJSONBody)
	if err != nil {
		e.writeErr(w, ErrEmptyPostData, "")
		return
	}
	var req struct {
		ToUser  string `json:"touser"`
		Command string `json:"command"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		e.writeErr(w, ErrDataFormat, "")
		return
	}
	if req.ToUser == "" {
		e.writeErr(w, ErrInvalidOpenID, "")
		return
	}
	writeOK(w, nil)
}

// orderedTemplateData reads the template "data" object keeping key order.
func orderedTemplateData(raw json.RawMessage) (keys []string, vals map[string]string, err error) {
	vals = make(map[string]string)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, vals, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, fmt.Errorf("template data: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, errors.New("template data: not an object")
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("template data key: %w", err)
		}
		k, _ := kt.(string)
		var item struct {
			Value string `json:"value"`
		}
		if err := dec.Decode(&item); err != nil {
			return nil, nil, fmt.Errorf("template data %q: %w", k, err)
		}
		if _, dup := vals[k]; !dup {
			keys = append(keys, k)
		}
		vals[k] = item.Value
	}
	return keys, vals, nil
}

// templateRequest is the body shared by template and subscribe sends.
type templateRequest struct {
	ToUser      string          `json:"touser"`
	TemplateID  string          `json:"template_id"`
	URL         string          `json:"url"`  // template messages
	Page        string          `json:"page"` // subscribe messages
	Data        json.RawMessage `json:"data"`
	ClientMsgID string          `json:"client_msg_id"`

	keys []string
	vals map[string]string
}

// readTemplateRequest reads and checks a template-shaped send, returning
// WeChat's errcode for what is wrong with it (0 when nothing is).
func readTemplateRequest(r *http.Request) (templateRequest, []byte, int) {
	var req templateRequest
	body, err := readBody(r, maxJSONBody)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return req, body, ErrEmptyPostData
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, body, ErrDataFormat
	}
	req.keys, req.vals, err = orderedTemplateData(req.Data)
	switch {
	case err != nil:
		return req, body, ErrDataFormat
	case req.ToUser == "":
		return req, body, ErrInvalidOpenID
	case req.TemplateID == "":
		return req, body, ErrInvalidTemplate
	}
	return req, body, 0
}

func (e *Emulator) handleTemplateSend(w http.ResponseWriter, r *http.Request) {
	req, body, code := readTemplateRequest(r)
	if code != 0 {
		e.writeErr(w, code, "")
		return
	}
	keys, vals := req.keys, req.vals
	if e.opts.StrictTemplates {
		for _, k := range keys {
			v := vals[k]
			if utf8.RuneCountInString(v) > maxTemplateVal || strings.ContainsAny(v, "\r\n") {
				e.writeErr(w, ErrArgumentInvalid, "data."+k+".value invalid")
				return
			}
		}
	}
	lines := make([]string, 0, len(keys))
	for _, k := range keys {
		lines = append(lines, k+": "+vals[k])
	}
	s := Sent{
		Kind: KindTemplate, ToUser: req.ToUser, MsgType: "template", Text: strings.Join(lines, "\n"),
		TemplateID: req.TemplateID, Data: vals, DataKeys: keys, URL: req.URL, Raw: compactJSON(body),
	}
	e.mu.Lock()
	code = 0
	dupID, dup := e.templateDupLocked(req.ToUser, req.ClientMsgID, 0)
	switch {
	case dup: // WeChat drops a repeated client_msg_id (emulator_mass.go)
		s.MsgID = dupID
	case !e.allowLocked(KindTemplate):
		code = ErrDailyQuota
	case e.users[req.ToUser].Unsubscribed:
		code = ErrRequireSubscribe
	default:
		e.templateID++
		s.MsgID = e.templateID
		s = e.addRecordLocked(s)
		e.templateDupLocked(req.ToUser, req.ClientMsgID, s.MsgID)
	}
	e.mu.Unlock()
	if code != 0 {
		e.writeErr(w, code, "")
		return
	}
	writeOK(w, map[string]any{"msgid": s.MsgID})
}

func compactJSON(b []byte) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil
	}
	return buf.Bytes()
}

// ---- media ----

func (e *Emulator) handleMediaGet(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("media_id")
	ct, data, ok := e.Media(id)
	if !ok {
		e.writeErr(w, ErrInvalidMediaID, "")
		return
	}
	if ct == "" {
		ct = http.DetectContentType(data)
	}
	ext := mediaExt(ct)
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+ext+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

func mediaExt(contentType string) string {
	ct, _, _ := mime.ParseMediaType(contentType)
	switch ct {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "audio/amr":
		return ".amr"
	case "video/mp4":
		return ".mp4"
	}
	if exts, _ := mime.ExtensionsByType(ct); len(exts) > 0 {
		return exts[0]
	}
	return ".bin"
}

// readMediaPart reads the multipart field "media".
func readMediaPart(w http.ResponseWriter, r *http.Request) (contentType string, data []byte, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxMediaBytes+64<<10)
	f, hdr, err := r.FormFile("media")
	if err != nil {
		return "", nil, fmt.Errorf("read media field: %w", err)
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, maxMediaBytes+1))
	if err != nil {
		return "", nil, fmt.Errorf("read media: %w", err)
	}
	if len(data) > maxMediaBytes {
		return "", nil, errors.New("media larger than 10 MB")
	}
	contentType = hdr.Header.Get("Content-Type")
	if contentType == "" || contentType == "application/octet-stream" {
		contentType = http.DetectContentType(data)
	}
	return contentType, data, nil
}

func (e *Emulator) handleMediaUpload(w http.ResponseWriter, r *http.Request) {
	typ := r.URL.Query().Get("type")
	switch typ {
	case "image", "voice", "video", "thumb":
	default:
		e.writeErr(w, ErrInvalidMediaType, "")
		return
	}
	if r.Method != http.MethodPost {
		e.writeErr(w, ErrEmptyPostData, "")
		return
	}
	ct, data, err := readMediaPart(w, r)
	if err != nil {
		e.writeErr(w, ErrDataFormat, "")
		return
	}
	id, _ := e.StoreMedia(r.Context(), ct, data)
	writeJSON(w, map[string]any{"type": typ, "media_id": id, "created_at": e.now().Unix()})
}

// ---- menu ----

func (e *Emulator) handleMenuCreate(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r, maxJSONBody)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		e.writeErr(w, ErrEmptyPostData, "")
		return
	}
	var m struct {
		Button []json.RawMessage `json:"button"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		e.writeErr(w, ErrDataFormat, "")
		return
	}
	if len(m.Button) == 0 || len(m.Button) > 3 {
		e.writeErr(w, ErrInvalidButtons, "")
		return
	}
	e.mu.Lock()
	e.menu = compactJSON(body)
	e.mu.Unlock()
	writeOK(w, nil)
}

func (e *Emulator) handleMenuGet(w http.ResponseWriter, _ *http.Request) {
	m := e.Menu()
	if len(m) == 0 {
		e.writeErr(w, ErrMenuNotExist, "")
		return
	}
	writeJSON(w, map[string]any{"menu": m})
}

func (e *Emulator) handleMenuDelete(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	e.menu = nil
	e.mu.Unlock()
	writeOK(w, nil)
}

// ---- users ----

func (e *Emulator) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	openid := r.URL.Query().Get("openid")
	if openid == "" {
		e.writeErr(w, ErrInvalidOpenID, "")
		return
	}
	st := e.User(openid)
	if st.Unsubscribed {
		writeJSON(w, map[string]any{"subscribe": 0, "openid": openid})
		return
	}
	since := st.SubscribeTime
	if since.IsZero() {
		since = e.start
	}
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		lang = "zh_CN"
	}
	writeJSON(w, map[string]any{
		"subscribe": 1, "openid": openid, "language": lang, "subscribe_time": since.Unix(),
		"remark": "", "groupid": 0, "tagid_list": []int{}, "subscribe_scene": "ADD_SCENE_SEARCH",
		"qr_scene": 0, "qr_scene_str": "",
	})
}

// ---- /_emulator/ helpers ----

func (e *Emulator) handlePushed(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, err := strconv.ParseInt(q.Get("after"), 10, 64)
	if err != nil && q.Get("after") != "" {
		http.Error(w, "bad after", http.StatusBadRequest)
		return
	}
	wait, err := parseWait(q.Get("wait"))
	if err != nil {
		http.Error(w, "bad wait", http.StatusBadRequest)
		return
	}
	msgs, last, err := e.Pushed(r.Context(), q.Get("openid"), after, wait)
	if err != nil {
		return // client went away
	}
	if msgs == nil {
		msgs = []Sent{}
	}
	writeJSON(w, map[string]any{"messages": msgs, "last_seq": last})
}

// parseWait reads "25s" or "25" (seconds); at most one minute.
func parseWait(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		n, err2 := strconv.Atoi(s)
		if err2 != nil {
			return 0, fmt.Errorf("parse wait %q: %w", s, err)
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 {
		d = 0
	}
	if d > time.Minute {
		d = time.Minute
	}
	return d, nil
}

func (e *Emulator) handleEmulatorMedia(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	ct, data, err := readMediaPart(w, r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id, _ := e.StoreMedia(r.Context(), ct, data)
	writeJSON(w, map[string]any{"media_id": id})
}

func (e *Emulator) handleEmulatorUser(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := readBody(r, maxJSONBody)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req struct {
		OpenID string `json:"openid"`
		UserState
	}
	if err := json.Unmarshal(body, &req); err != nil || req.OpenID == "" {
		http.Error(w, "want {openid, unsubscribed, outside_window}", http.StatusBadRequest)
		return
	}
	e.SetUser(req.OpenID, req.UserState)
	writeJSON(w, map[string]any{"ok": true})
}
