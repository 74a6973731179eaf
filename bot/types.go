// Package bot is the conversation core, free of the WeChat SDK: sessions,
// the dialog engine (intents, forms, steps, validators, global commands) and
// the neutral Input and Reply types that the WeChat edge (package wx)
// translates to and from WeChat's XML.
package bot

import (
	"context"
	"errors"
	"time"
)

// Input kinds.
const (
	KindText     = "text"
	KindImage    = "image"
	KindVoice    = "voice"
	KindVideo    = "video"
	KindLocation = "location"
	KindLink     = "link"
	KindEvent    = "event"
)

// Event names (WeChat's, as they arrive in the Event field).
const (
	EventSubscribe   = "subscribe"
	EventUnsubscribe = "unsubscribe"
	EventClick       = "CLICK"
	EventView        = "VIEW"
	EventScan        = "SCAN"
)

// Input is one inbound message or event, stripped of its WeChat envelope.
type Input struct {
	OpenID     string
	MsgID      int64 // 0 for events
	CreateTime time.Time
	Kind       string // Kind* constants
	Text       string // text content, or voice recognition when present
	Event      string // Event* constants, for KindEvent
	EventKey   string // menu key, or QR scene
	MediaID    string // image/voice/video
	PicURL     string // image
	// Delivery, when set, de-duplicates WeChat's retries of this input
	// within the turn (see Delivery); nil for callers with no retries.
	Delivery *Delivery
}

// Reply is what the bot answers. An empty Reply means "no reply" (WeChat gets
// `success`).
type Reply struct {
	Text string
}

// Empty reports whether there is nothing to send.
func (r Reply) Empty() bool { return r.Text == "" }

// Text is a shorthand for a text reply.
func Text(s string) Reply { return Reply{Text: s} }

// Session is one openid's conversation state, saved between messages.
type Session struct {
	OpenID string            `json:"open_id"`
	Form   string            `json:"form,omitempty"` // active form name, "" when idle
	Step   int               `json:"step,omitempty"` // index into the form's steps; len(steps) = summary/confirm
	Data   map[string]string `json:"data,omitempty"` // answers collected by the active form
	// Edit is set while answering a field chosen at the summary (修改 N):
	// the answer returns to the summary.
	Edit bool `json:"edit,omitempty"`
	// Pending is a question the form asked before going on: "cancel"
	// (abandon? yes/no) or "resume" (continue or start over).
	Pending string `json:"pending,omitempty"`
	// Vars holds small non-form state that must survive to the next message,
	// such as the FAQ entries just offered for picking by number.
	Vars    map[string]string `json:"vars,omitempty"`
	Updated time.Time         `json:"updated"`

	stored bool // loaded from the store (so an emptied session must be deleted)
}

// Var returns a session variable ("" when unset).
func (s *Session) Var(k string) string { return s.Vars[k] }

// SetVar sets (or with v == "" deletes) a session variable.
func (s *Session) SetVar(k, v string) {
	if v == "" {
		delete(s.Vars, k)
		return
	}
	if s.Vars == nil {
		s.Vars = map[string]string{}
	}
	s.Vars[k] = v
}

// UserError carries a sentence that may be shown to the member as is, such as
// why an answer was not accepted.
type UserError struct{ Msg string }

func (e *UserError) Error() string { return e.Msg }

// Userf builds a UserError.
func Userf(msg string) error { return &UserError{Msg: msg} }

// UserMessage returns the member-facing text of err when it is (or wraps) a
// UserError.
func UserMessage(err error) (string, bool) {
	var ue *UserError
	if errors.As(err, &ue) {
		return ue.Msg, true
	}
	return "", false
}

// HandlerFunc answers one input. It may change the session (saved afterwards).
type HandlerFunc func(ctx context.Context, s *Session, in Input) (Reply, error)
