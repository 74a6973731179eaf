package localwx

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// lastMsgID makes MsgIds unique and increasing across every Client in the
// process, and across restarts (it starts at the clock in nanoseconds), so a
// restarted chat never collides with the bot's de-duplication keys.
var lastMsgID atomic.Int64

func init() { lastMsgID.Store(time.Now().UnixNano()) }

// NextMsgID returns a new MsgId.
func NextMsgID() int64 { return lastMsgID.Add(1) }

// Message is one inbound message or event as WeChat posts it to the bot.
// Constructors fill CreateTime and (for messages, not events) a fresh MsgID;
// sending the same Message twice therefore looks like a duplicate delivery.
type Message struct {
	ToUserName   string // the account's gh_ id; the Client's ToUserName when empty
	FromUserName string // the user's openid
	CreateTime   int64
	MsgType      string // text, image, voice, location, event, …
	MsgID        int64  // 0: no MsgId element (events)

	Content      string // text
	BizMsgMenuID int64  // text sent by tapping a msgmenu option
	PicURL       string // image
	MediaID      string // image, voice
	Format       string // voice
	Recognition  string // voice
	LocationX    float64
	LocationY    float64
	Scale        int
	Label        string
	Event        string // subscribe, unsubscribe, CLICK, VIEW, SCAN, …
	EventKey     string
	Ticket       string // QR-code events

	// Extra is raw XML appended before </xml> (for fields this type lacks).
	Extra string
}

func newMessage(openid, msgType string, withID bool) Message {
	m := Message{FromUserName: openid, CreateTime: time.Now().Unix(), MsgType: msgType}
	if withID {
		m.MsgID = NextMsgID()
	}
	return m
}

// TextMsg is a text message.
func TextMsg(openid, content string) Message {
	m := newMessage(openid, "text", true)
	m.Content = content
	return m
}

// MenuReplyMsg is the text message WeChat sends when the user taps an option
// of a msgmenu customer-service message.
func MenuReplyMsg(openid, menuID, content string) Message {
	m := TextMsg(openid, content)
	m.BizMsgMenuID, _ = strconv.ParseInt(menuID, 10, 64)
	return m
}

// EventMsg is an event (subscribe, unsubscribe, CLICK, VIEW, SCAN, …). It has
// no MsgId, like WeChat's.
func EventMsg(openid, event, key string) Message {
	m := newMessage(openid, "event", false)
	m.Event = event
	m.EventKey = key
	return m
}

// ImageMsg is an image message; the bot downloads mediaID from the media API.
func ImageMsg(openid, mediaID, picURL string) Message {
	m := newMessage(openid, "image", true)
	m.MediaID = mediaID
	m.PicURL = picURL
	return m
}

// VoiceMsg is a voice message with WeChat's speech recognition result.
func VoiceMsg(openid, mediaID, recognition string) Message {
	m := newMessage(openid, "voice", true)
	m.MediaID = mediaID
	m.Format = "amr"
	m.Recognition = recognition
	return m
}

// LocationMsg is a location message.
func LocationMsg(openid string, lat, lng float64, scale int, label string) Message {
	m := newMessage(openid, "location", true)
	m.LocationX = lat
	m.LocationY = lng
	m.Scale = scale
	m.Label = label
	return m
}

// cdata wraps s in CDATA, splitting any "]]>" inside it.
func cdata(s string) string {
	return "<![CDATA[" + strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>") + "]]>"
}

type xmlWriter struct{ b strings.Builder }

func (w *xmlWriter) str(name, v string) {
	w.b.WriteString("<" + name + ">" + cdata(v) + "</" + name + ">\n")
}

func (w *xmlWriter) num(name, v string) {
	w.b.WriteString("<" + name + ">" + v + "</" + name + ">\n")
}

// XML renders the message the way WeChat does: CDATA for strings, bare
// numbers, one element per line, in WeChat's element order.
func (m Message) XML() string {
	var w xmlWriter
	w.b.WriteString("<xml>")
	w.str("ToUserName", m.ToUserName)
	w.str("FromUserName", m.FromUserName)
	w.num("CreateTime", strconv.FormatInt(m.CreateTime, 10))
	w.str("MsgType", m.MsgType)
	switch m.MsgType {
	case "text":
		w.str("Content", m.Content)
		if m.BizMsgMenuID != 0 {
			w.num("bizmsgmenuid", strconv.FormatInt(m.BizMsgMenuID, 10))
		}
	case "image":
		w.str("PicUrl", m.PicURL)
		w.str("MediaId", m.MediaID)
	case "voice":
		w.str("MediaId", m.MediaID)
		w.str("Format", m.Format)
		if m.Recognition != "" {
			w.str("Recognition", m.Recognition)
		}
	case "location":
		w.num("Location_X", strconv.FormatFloat(m.LocationX, 'f', -1, 64))
		w.num("Location_Y", strconv.FormatFloat(m.LocationY, 'f', -1, 64))
		w.num("Scale", strconv.Itoa(m.Scale))
		w.str("Label", m.Label)
	case "event":
		w.str("Event", m.Event)
		if m.EventKey != "" || m.Event == "CLICK" || m.Event == "VIEW" || m.Event == "SCAN" {
			w.str("EventKey", m.EventKey)
		}
		if m.Ticket != "" {
			w.str("Ticket", m.Ticket)
		}
	default:
		if m.Content != "" {
			w.str("Content", m.Content)
		}
		if m.MediaID != "" {
			w.str("MediaId", m.MediaID)
		}
	}
	if m.MsgID != 0 {
		w.num("MsgId", strconv.FormatInt(m.MsgID, 10))
	}
	w.b.WriteString(m.Extra)
	w.b.WriteString("</xml>")
	return w.b.String()
}
