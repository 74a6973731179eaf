package wx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
)

// Pusher sends a text to a member outside a callback reply (a customer-service
// message). The callback uses it when a handler misses the reply deadline.
type Pusher interface {
	SendText(ctx context.Context, openID, text string) error
}

// TemplateMessage is a template message. Since 2023 WeChat shows only the
// template's keyword fields (no first/remark), each up to 20 characters with
// no newline. ClientMsgID makes WeChat drop a repeated send.
type TemplateMessage struct {
	ToUser, TemplateID, URL string
	Data                    map[string]string
	ClientMsgID             string
}

// UserInfo is what the bot uses of a follower's profile.
type UserInfo struct {
	OpenID         string
	Subscribed     bool
	SubscribeTime  time.Time
	UnionID        string
	Language       string
	Remark         string
	TagIDs         []int32
	SubscribeScene string
	QRScene        string
}

// maxMediaBytes caps a media download (WeChat's temporary media are ≤ 10 MB).
const maxMediaBytes = 20 << 20

// Sender makes the outbound WeChat calls. Each method checks ctx first (the
// SDK's calls take no context and lean on the HTTP client timeout), returns
// *APIError for WeChat error codes, and on a rejected access token refreshes
// it and retries exactly once.
type Sender struct {
	wc *WeChat
}

var _ Pusher = (*Sender)(nil)

// NewSender returns the sender of wc's account.
func NewSender(wc *WeChat) *Sender { return &Sender{wc: wc} }

// do runs call with a token warmed under ctx (so waiting for the shared token
// respects ctx), maps its error, and retries once after a token rejection.
func (s *Sender) do(ctx context.Context, op string, call func() error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("wechat %s: %w", op, err)
	}
	tok, err := s.wc.tokens.Token(ctx)
	if err != nil {
		return fmt.Errorf("wechat %s: %w", op, err)
	}
	err = apiError(op, call())
	var ae *APIError
	if !errors.As(err, &ae) || !ae.TokenExpired() {
		return err
	}
	if ierr := s.wc.tokens.Invalidate(ctx, tok); ierr != nil {
		return errors.Join(err, ierr)
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("wechat %s: %w", op, cerr)
	}
	if _, terr := s.wc.tokens.Token(ctx); terr != nil {
		return fmt.Errorf("wechat %s: %w", op, terr)
	}
	return apiError(op, call())
}

// SendText sends a customer-service text message. WeChat delivers it only
// within 48 hours of the user's last message (APIError.OutsideWindow).
func (s *Sender) SendText(ctx context.Context, openID, text string) error {
	return s.do(ctx, "send text", func() error {
		return s.wc.custom.Send(message.NewCustomerTextMessage(openID, text))
	})
}

// SendTemplate sends a template message and returns WeChat's msgid.
func (s *Sender) SendTemplate(ctx context.Context, m TemplateMessage) (int64, error) {
	data := make(map[string]*message.TemplateDataItem, len(m.Data))
	for k, v := range m.Data {
		data[k] = &message.TemplateDataItem{Value: v}
	}
	msg := &message.TemplateMessage{
		ToUser:      m.ToUser,
		TemplateID:  m.TemplateID,
		URL:         m.URL,
		Data:        data,
		ClientMsgID: m.ClientMsgID,
	}
	var id int64
	err := s.do(ctx, "send template", func() error {
		var err error
		id, err = s.wc.template.Send(msg)
		return err
	})
	return id, err
}

// DownloadMedia fetches a temporary medium sent by a user (an invoice photo, a
// voice note). WeChat keeps them for 3 days: store the bytes at once. The
// media URL carries the access token, so it never reaches a log or an error.
func (s *Sender) DownloadMedia(ctx context.Context, mediaID string) (data []byte, contentType string, err error) {
	err = s.do(ctx, "download media", func() error {
		u, err := s.wc.material.GetMediaURL(mediaID)
		if err != nil {
			return err
		}
		data, contentType, err = fetchMedia(ctx, u)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return data, contentType, nil
}

// fetchMedia GETs u through the SDK's HTTP client (so the API base rewrite
// applies) and keeps the Content-Type header, which util.HTTPGetContext drops.
func fetchMedia(ctx context.Context, u string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", redact(err)
	}
	resp, err := util.DefaultHTTPClient.Do(req)
	if err != nil {
		return nil, "", redact(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("media get: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMediaBytes+1))
	if err != nil {
		return nil, "", redact(err)
	}
	if len(body) > maxMediaBytes {
		return nil, "", fmt.Errorf("media get: larger than %d bytes", maxMediaBytes)
	}
	// WeChat answers errors (expired media id, bad token) with a JSON body.
	body, err = util.HandleFileResponse(body, "DownloadMedia")
	if err != nil {
		return nil, "", err
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, perr := mime.ParseMediaType(ct); perr != nil || mt == "" || mt == "application/octet-stream" {
		ct = http.DetectContentType(body)
	}
	return body, ct, nil
}

// SetMenu replaces the account's custom menu with menuJSON (WeChat's
// {"button":[…]} format).
func (s *Sender) SetMenu(ctx context.Context, menuJSON []byte) error {
	return s.do(ctx, "set menu", func() error {
		return s.wc.menu.SetMenuByJSON(string(menuJSON))
	})
}

// UserInfo returns a follower's profile. A user who unfollowed has
// Subscribed false and little else.
func (s *Sender) UserInfo(ctx context.Context, openID string) (UserInfo, error) {
	var ui UserInfo
	err := s.do(ctx, "user info", func() error {
		info, err := s.wc.user.GetUserInfo(openID)
		if err != nil {
			return err
		}
		ui = UserInfo{
			OpenID:         info.OpenID,
			Subscribed:     info.Subscribe == 1,
			UnionID:        info.UnionID,
			Language:       info.Language,
			Remark:         info.Remark,
			TagIDs:         info.TagIDList,
			SubscribeScene: info.SubscribeScene,
			QRScene:        info.QrSceneStr,
		}
		if info.SubscribeTime > 0 {
			ui.SubscribeTime = time.Unix(int64(info.SubscribeTime), 0)
		}
		return nil
	})
	if err != nil {
		return UserInfo{}, err
	}
	return ui, nil
}
