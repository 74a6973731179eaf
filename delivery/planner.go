// Package delivery sends what the outbox holds: it leases rows (storage
// outbox.go), picks each message's channel (the pure planner in this file),
// sends through the WeChat edge under shared rate limits, and records the
// outcome. Workers run in every replica; docs/ARCHITECTURE.md ("Delivery")
// states the crash semantics.
package delivery

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Channel is how a message reaches a person.
type Channel string

// Channels, in the planner's order of preference.
const (
	ChannelCustom    Channel = "custom"    // customer-service message, within 48 h of the last interaction
	ChannelTemplate  Channel = "template"  // template message, service notifications only
	ChannelSubscribe Channel = "subscribe" // subscribe message (订阅通知), once per acceptance
	ChannelUnread    Channel = "unread"    // kept, shown at the next conversation and in 进度
	ChannelMass      Channel = "mass"      // a mass-send batch
)

// Window is how long after a person's last interaction customer-service
// messages reach them (WeChat's 48 hours).
const Window = 48 * time.Hour

// maxField is WeChat's limit on a template keyword value since 2023.
const maxField = 20

// KindTemplates maps one message kind to its template and subscribe message.
// Fields map the template's keyword names (thing1, phrase2, time3…) to the
// names of the message's own fields (title, status, time…).
type KindTemplates struct {
	Template        string            `json:"template"`
	Fields          map[string]string `json:"fields"`
	Subscribe       string            `json:"subscribe"`
	SubscribeFields map[string]string `json:"subscribe_fields"`
}

// Templates are the KindTemplates by message kind (UNIONBOT_DELIVERY_TEMPLATES).
type Templates map[string]KindTemplates

// ParseTemplates reads UNIONBOT_DELIVERY_TEMPLATES; "" is no templates.
func ParseTemplates(s string) (Templates, error) {
	t := Templates{}
	if strings.TrimSpace(s) == "" {
		return t, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("delivery templates: %w", err)
	}
	for kind, kt := range t {
		if kt.Template != "" && len(kt.Fields) == 0 {
			return nil, fmt.Errorf("delivery templates: kind %q: a template needs its fields", kind)
		}
		if kt.Subscribe != "" && len(kt.SubscribeFields) == 0 {
			return nil, fmt.Errorf("delivery templates: kind %q: a subscribe message needs its subscribe_fields", kind)
		}
	}
	return t, nil
}

// Situation is everything the planner knows about one message and its
// recipient.
type Situation struct {
	Now      time.Time
	LastSeen time.Time // the last interaction; zero when unknown or long ago
	Kind     string
	// Service marks a service notification: only these may take a template.
	Service bool
	// HasText: the message has a customer-service text.
	HasText bool
	// HasOpenID: the recipient is known to WeChat (a member may be unbound).
	HasOpenID bool
	// SubscribeAccepted: the recipient accepted the kind's subscribe message.
	SubscribeAccepted bool
	// Closed are the channels WeChat refused for this message (45015, 45047).
	Closed []Channel
}

// Plan picks the channel of one message: customer service within the 48-hour
// window, else a template for service notifications of a kind that has one,
// else a subscribe message the person accepted, else the unread list.
func Plan(s Situation, t Templates) Channel {
	if !s.HasOpenID {
		return ChannelUnread
	}
	open := func(c Channel) bool { return !slices.Contains(s.Closed, c) }
	kt := t[s.Kind]
	switch {
	case open(ChannelCustom) && s.HasText && !s.LastSeen.IsZero() && s.Now.Sub(s.LastSeen) < Window:
		return ChannelCustom
	case open(ChannelTemplate) && s.Service && kt.Template != "":
		return ChannelTemplate
	case open(ChannelSubscribe) && kt.Subscribe != "" && s.SubscribeAccepted:
		return ChannelSubscribe
	}
	return ChannelUnread
}

// TemplateData fills a template's keyword fields from the message's fields
// by mapping (keyword → field name), as WeChat requires since 2023: each value
// at most 20 characters (cut with "…") and on one line. A field the message
// lacks is an error: a template with a hole is worse than the next channel.
func TemplateData(mapping, fields map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(mapping))
	keys := make([]string, 0, len(mapping))
	for k := range mapping {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, ok := fields[mapping[k]]
		if !ok || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("template field %s: the message has no %q", k, mapping[k])
		}
		out[k] = FieldValue(v)
	}
	return out, nil
}

// FieldValue makes v a valid template keyword value: newlines and tabs become
// spaces, and a value longer than 20 characters is cut to 19 and "…".
func FieldValue(v string) string {
	v = strings.Join(strings.Fields(v), " ")
	if utf8.RuneCountInString(v) <= maxField {
		return v
	}
	r := []rune(v)
	return string(r[:maxField-1]) + "…"
}

// Link is the page with a message's full text: path under the public URL.
// Without a public URL (or path) the template goes without a link.
func Link(publicURL, path string) string {
	if publicURL == "" || path == "" {
		return ""
	}
	return strings.TrimRight(publicURL, "/") + "/" + strings.TrimLeft(path, "/")
}

// UnreadNotice is what the chat says at the top of a person's next
// conversation when messages were kept for them: the count and the first
// lines. It returns "" when total is 0.
func UnreadNotice(lines []string, total int) string {
	if total <= 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "您有%d条新通知：", total)
	for i, l := range lines {
		fmt.Fprintf(&b, "\n%d. %s", i+1, oneLine(l, 60))
	}
	if total > len(lines) {
		fmt.Fprintf(&b, "\n……另有%d条，发送“进度”查看全部。", total-len(lines))
	}
	return b.String()
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
