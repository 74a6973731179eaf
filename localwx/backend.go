package localwx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Backend is the emulator as the chat front ends (Chat, LocalUI) see it:
// pushed messages, media the user "sends", follow state. *Emulator implements
// it in-process, RemoteEmulator over HTTP.
type Backend interface {
	// Pushed returns messages sent to openid with Seq > after, waiting up to
	// wait for the first one; lastSeq is the highest Seq so far. after < 0
	// returns at once with no messages.
	Pushed(ctx context.Context, openid string, after int64, wait time.Duration) (msgs []Sent, lastSeq int64, err error)
	// StoreMedia registers media and returns the id the bot can download.
	StoreMedia(ctx context.Context, contentType string, data []byte) (mediaID string, err error)
	// SetUserState sets a follower's state (unsubscribed, outside window).
	SetUserState(ctx context.Context, openid string, st UserState) error
}

var (
	_ Backend = (*Emulator)(nil)
	_ Backend = (*RemoteEmulator)(nil)
)

// RemoteEmulator reaches an Emulator served at URL (its root, where
// /cgi-bin/ and /_emulator/ live) over HTTP.
type RemoteEmulator struct {
	URL  string
	HTTP *http.Client // nil: http.DefaultClient
}

func (r *RemoteEmulator) client() *http.Client {
	if r.HTTP != nil {
		return r.HTTP
	}
	return http.DefaultClient
}

func (r *RemoteEmulator) do(req *http.Request, out any) error {
	resp, err := r.client().Do(req)
	if err != nil {
		return fmt.Errorf("call emulator: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read emulator answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("emulator %s: HTTP %d: %s", req.URL.Path, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode emulator answer: %w", err)
	}
	return nil
}

// Pushed long-polls GET /_emulator/sent.
func (r *RemoteEmulator) Pushed(ctx context.Context, openid string, after int64, wait time.Duration) ([]Sent, int64, error) {
	q := url.Values{}
	q.Set("openid", openid)
	q.Set("after", strconv.FormatInt(after, 10))
	q.Set("wait", wait.String())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(r.URL, "/")+PathEmulatorSent+"?"+q.Encode(), nil)
	if err != nil {
		return nil, 0, fmt.Errorf("new pushed request: %w", err)
	}
	var out struct {
		Messages []Sent `json:"messages"`
		LastSeq  int64  `json:"last_seq"`
	}
	if err := r.do(req, &out); err != nil {
		return nil, 0, err
	}
	return out.Messages, out.LastSeq, nil
}

// StoreMedia posts multipart "media" to /_emulator/media.
func (r *RemoteEmulator) StoreMedia(ctx context.Context, contentType string, data []byte) (string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", `form-data; name="media"; filename="upload`+mediaExt(contentType)+`"`)
	h.Set("Content-Type", contentType)
	part, err := mw.CreatePart(h)
	if err != nil {
		return "", fmt.Errorf("build media upload: %w", err)
	}
	if _, err := part.Write(data); err != nil {
		return "", fmt.Errorf("build media upload: %w", err)
	}
	if err := mw.Close(); err != nil {
		return "", fmt.Errorf("build media upload: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(r.URL, "/")+PathEmulatorMedia, &buf)
	if err != nil {
		return "", fmt.Errorf("new media request: %w", err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var out struct {
		MediaID string `json:"media_id"`
	}
	if err := r.do(req, &out); err != nil {
		return "", err
	}
	return out.MediaID, nil
}

// SetUserState posts to /_emulator/user.
func (r *RemoteEmulator) SetUserState(ctx context.Context, openid string, st UserState) error {
	b, err := json.Marshal(struct {
		OpenID string `json:"openid"`
		UserState
	}{openid, st})
	if err != nil {
		return fmt.Errorf("encode user state: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(r.URL, "/")+PathEmulatorUser, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("new user request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	var out struct {
		OK bool `json:"ok"`
	}
	return r.do(req, &out)
}
