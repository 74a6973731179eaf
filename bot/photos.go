package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PhotoStore keeps an image a member sent: it fetches the medium from WeChat
// at once (WeChat keeps user media only 3 days), checks it, stores it where
// every replica can read it, and returns a ref the form keeps among its
// answers. keep is how long the photo stays if no submission keeps it.
// Errors the member can act on are ErrPhotoExpired, ErrPhotoNotImage and
// ErrPhotoTooLarge; anything else is asked to be sent again.
type PhotoStore interface {
	SavePhoto(ctx context.Context, openID, mediaID string, keep time.Duration) (ref string, err error)
}

// Photo errors a member can act on.
var (
	ErrPhotoExpired  = errors.New("photo: media id unknown or expired")
	ErrPhotoNotImage = errors.New("photo: not a JPEG, PNG, WebP or HEIC image")
	ErrPhotoTooLarge = errors.New("photo: too large")
)

// MediaSaver stores encrypted media; *storage.DB implements it.
type MediaSaver interface {
	SaveMedia(ctx context.Context, openID, contentType string, data []byte, expires time.Time) (id int64, sha256 string, err error)
}

// MediaPhotos is the PhotoStore of the service: it downloads with Fetch
// (wx.Sender.DownloadMedia), checks the real image type by its magic bytes
// and the size, and saves through Save (the database, encrypted).
type MediaPhotos struct {
	// Fetch downloads a medium by its WeChat media id.
	Fetch func(ctx context.Context, mediaID string) (data []byte, contentType string, err error)
	// Expired reports whether a Fetch error means WeChat no longer has the
	// medium. Default: the error mentions errcode 40007 (wx.APIError).
	Expired func(error) bool
	Save    MediaSaver
	// MaxBytes bounds one photo; default 10 MB.
	MaxBytes int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// SavePhoto implements PhotoStore.
func (p *MediaPhotos) SavePhoto(ctx context.Context, openID, mediaID string, keep time.Duration) (string, error) {
	if mediaID == "" {
		return "", ErrPhotoExpired
	}
	data, _, err := p.Fetch(ctx, mediaID)
	if err != nil {
		expired := p.Expired
		if expired == nil {
			expired = func(err error) bool { return strings.Contains(err.Error(), "errcode=40007") }
		}
		if expired(err) {
			return "", ErrPhotoExpired
		}
		return "", fmt.Errorf("fetch photo: %w", err)
	}
	ct, err := CheckPhoto(data, p.MaxBytes)
	if err != nil {
		return "", err
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	id, _, err := p.Save.SaveMedia(ctx, openID, ct, data, now().Add(keep))
	if err != nil {
		return "", fmt.Errorf("save photo: %w", err)
	}
	return "m" + strconv.FormatInt(id, 10), nil
}

// DefaultMaxPhotoBytes bounds one photo unless the store says otherwise.
const DefaultMaxPhotoBytes = 10 << 20

// CheckPhoto is what every photo must pass before it is stored, from chat or from the
// console: at most max bytes (DefaultMaxPhotoBytes when max <= 0; ErrPhotoTooLarge) and a
// real image by its magic bytes (ErrPhotoNotImage). It returns the content type.
func CheckPhoto(data []byte, max int) (string, error) {
	if max <= 0 {
		max = DefaultMaxPhotoBytes
	}
	if len(data) > max {
		return "", ErrPhotoTooLarge
	}
	ct := ImageType(data)
	if ct == "" {
		return "", ErrPhotoNotImage
	}
	return ct, nil
}

// ImageType names the image format by its magic bytes (never trusting the
// declared type): image/jpeg, image/png, image/webp, image/heic, or "".
func ImageType(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return "image/jpeg"
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "image/webp"
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		switch string(b[8:12]) {
		case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1":
			return "image/heic"
		}
	}
	return ""
}

// strayKey holds the refs of photos sent outside any photo step, with the
// time they arrived: "unix:ref,ref".
const strayKey = "photos.stray"

// strayTTL is how long such photos are kept for the member to use.
const strayTTL = 24 * time.Hour

func strayRefs(ctx context.Context, s *Session) []string {
	v := s.Var(strayKey)
	at, refs, ok := strings.Cut(v, ":")
	if !ok {
		return nil
	}
	if sec, err := strconv.ParseInt(at, 10, 64); err != nil || Now(ctx).Sub(time.Unix(sec, 0)) > strayTTL {
		return nil
	}
	return PhotoRefs(refs)
}

func addStray(ctx context.Context, s *Session, ref string) {
	refs := append(strayRefs(ctx, s), ref)
	if len(refs) > DefaultMaxPhotos {
		refs = refs[len(refs)-DefaultMaxPhotos:]
	}
	s.SetVar(strayKey, strconv.FormatInt(Now(ctx).Unix(), 10)+":"+strings.Join(refs, ","))
}

// photoWords end a photo step; retakeWords clear it; strayWords put the
// photos sent earlier into it.
var (
	photoDoneWords = map[string]bool{"好了": true, "好": true, "完成": true, "发完了": true, "发完": true, "完了": true,
		"没了": true, "没有了": true, "就这些": true, "就这些了": true, "ok": true, "好的": true, "可以了": true}
	retakeWords = map[string]bool{"重拍": true, "重发": true, "重新发": true, "重新拍": true, "清空": true}
	strayWords  = map[string]bool{"用刚才的照片": true, "用之前的照片": true, "用刚才的": true, "用之前的": true}
)

// photoImage takes one image for the current photo step.
func (r *Router) photoImage(ctx context.Context, s *Session, f *Form, in Input) (Reply, error) {
	st := &f.Steps[s.Step]
	refs := PhotoRefs(s.Data[st.Key])
	if len(refs) >= st.maxPhotos() {
		return f.advance(ctx, s, fmt.Sprintf(msgPhotoFull, len(refs), st.maxPhotos()))
	}
	if r.photos == nil {
		return Reply{}, errors.New("photo step without a PhotoStore (Router.UseForms)")
	}
	ref, err := r.photos.SavePhoto(ctx, in.OpenID, in.MediaID, r.draftKeep()+24*time.Hour)
	if msg, ok := photoError(err); ok {
		return Text(msg), nil
	} else if err != nil {
		r.logger.ErrorContext(ctx, "save photo", "open_id", in.OpenID, "form", f.Name, "err", err)
		return Text(msgPhotoFailed), nil
	}
	refs = append(refs, ref)
	if s.Data == nil {
		s.Data = map[string]string{}
	}
	s.Data[st.Key] = strings.Join(refs, ",")
	if len(refs) >= st.maxPhotos() {
		return f.advance(ctx, s, fmt.Sprintf(msgPhotoFull, len(refs), st.maxPhotos()))
	}
	return Text(fmt.Sprintf(msgPhotoAck, len(refs))), nil
}

func photoError(err error) (string, bool) {
	switch {
	case errors.Is(err, ErrPhotoExpired):
		return msgPhotoExpired, true
	case errors.Is(err, ErrPhotoNotImage):
		return msgPhotoNotImage, true
	case errors.Is(err, ErrPhotoTooLarge):
		return msgPhotoTooLarge, true
	}
	return "", false
}

// photoText handles text typed in a photo step: 好了, 重拍, 用刚才的照片,
// 跳过 (optional steps), or a question.
func (r *Router) photoText(ctx context.Context, s *Session, f *Form, in Input) (Reply, error) {
	st := &f.Steps[s.Step]
	refs := PhotoRefs(s.Data[st.Key])
	cmd := NormalizeCommand(in.Text)
	switch {
	case photoDoneWords[cmd] || (st.Optional && skipWords[cmd] && len(refs) == 0):
		if len(refs) < st.minPhotos() {
			if len(refs) == 0 {
				return Text(msgPhotoNone + "\n\n" + f.prompt(ctx, s)), nil
			}
			return Text(fmt.Sprintf(msgPhotoFewer, st.minPhotos(), len(refs))), nil
		}
		if s.Data == nil {
			s.Data = map[string]string{}
		}
		s.Data[st.Key] = strings.Join(refs, ",")
		return f.advance(ctx, s, "")
	case retakeWords[cmd]:
		delete(s.Data, st.Key)
		return Text(msgPhotoCleared + "\n\n" + f.prompt(ctx, s)), nil
	case strayWords[cmd] && len(strayRefs(ctx, s)) > 0:
		stray := strayRefs(ctx, s)
		room := st.maxPhotos() - len(refs)
		if len(stray) > room {
			stray = stray[:room]
		}
		refs = append(refs, stray...)
		s.SetVar(strayKey, "")
		if s.Data == nil {
			s.Data = map[string]string{}
		}
		s.Data[st.Key] = strings.Join(refs, ",")
		lead := fmt.Sprintf(msgStrayUsed, len(stray))
		if len(refs) >= st.maxPhotos() {
			return f.advance(ctx, s, lead)
		}
		return Text(lead + msgPhotoMore), nil
	}
	if r.interrupt != nil {
		if ans, ok := r.interrupt(ctx, s, in); ok {
			return r.resume(ctx, s, f, ans), nil
		}
	}
	return Text(msgPhotoPlease + "\n\n" + f.prompt(ctx, s)), nil
}

// strayPhoto keeps a photo sent outside any photo step for a day (so that
// it is not lost if the member meant it for a step coming up) and says what
// to do with photos.
func (r *Router) strayPhoto(ctx context.Context, s *Session, f *Form, in Input) (Reply, error) {
	if ref, err := r.photos.SavePhoto(ctx, in.OpenID, in.MediaID, strayTTL); err == nil {
		addStray(ctx, s, ref)
	} else if _, ok := photoError(err); !ok {
		r.logger.WarnContext(ctx, "keep stray photo", "open_id", in.OpenID, "err", err)
	}
	if f != nil {
		return Text(msgPhotoNotNow + "\n\n" + f.prompt(ctx, s)), nil
	}
	hint := r.strayHint
	if hint == "" {
		hint = msgStrayPhoto
	}
	return Text(hint), nil
}
