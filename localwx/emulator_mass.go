package localwx

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Mass sending, subscribe messages, template de-duplication and per-openid
// counts: what the delivery pipeline needs of the Emulator.

// WeChat API paths of the delivery pipeline.
const (
	PathMassSend      = "/cgi-bin/message/mass/send"
	PathSubscribeSend = "/cgi-bin/message/subscribe/bizsend"
)

// Record kinds of the delivery pipeline.
const (
	KindMass      = "mass"
	KindSubscribe = "subscribe"
)

// Errcodes of the delivery pipeline.
const (
	ErrUserRefused     = 43101 // subscribe message not accepted
	ErrMassDuplicate   = 45065 // a mass job with this clientmsgid exists
	ErrTooManyOpenIDs  = 45028 // (we use it for a list beyond 10,000 openids)
	MassMonthlyQuota   = 4     // mass messages a follower receives per month
	maxMassOpenIDs     = 10000
	templateDedupAfter = 10 * time.Minute // WeChat keeps client_msg_id this long
)

func init() {
	errMessages[ErrUserRefused] = "user refuse to accept the msg"
	errMessages[ErrMassDuplicate] = "clientmsgid exist"
	errMessages[ErrTooManyOpenIDs] = "too many openids"
}

// shanghai is where WeChat's months begin and end.
var shanghai = time.FixedZone("CST", 8*3600)

// MassJob is the outcome of one mass send, as WeChat's MASSSENDJOBFINISH
// event reports it.
type MassJob struct {
	MsgID    int64 `json:"msg_id"`
	Total    int   `json:"total_count"`
	Sent     int   `json:"sent_count"`
	Filtered int   `json:"filter_count"` // over the monthly quota
	Errors   int   `json:"error_count"`  // unfollowed
}

type templateSeen struct {
	msgID int64
	at    time.Time
}

type massState struct {
	perUser   map[string]int64           // accepted messages per openid, every kind
	quota     map[string]int             // openid + "|" + month → mass messages received
	jobs      map[int64]MassJob          // by msg_id
	clientIDs map[string]int64           // mass clientmsgid → msg_id
	templates map[string]templateSeen    // openid + "|" + client_msg_id
	consents  map[string]map[string]bool // openid → accepted subscribe templates
	msgID     int64
}

// massLocked returns the delivery state, creating it on first use.
func (e *Emulator) massLocked() *massState {
	if e.mass == nil {
		e.mass = &massState{
			perUser: map[string]int64{}, quota: map[string]int{}, jobs: map[int64]MassJob{},
			clientIDs: map[string]int64{}, templates: map[string]templateSeen{}, consents: map[string]map[string]bool{},
			msgID: 1_000_000_000,
		}
	}
	return e.mass
}

// noteSentLocked counts an accepted message per openid (addRecordLocked calls it).
func (e *Emulator) noteSentLocked(s Sent) {
	e.massLocked().perUser[s.ToUser]++
}

// SentCount returns how many messages (any kind) openid has been sent since
// the start or the last Reset; a duplicate shows as a count above one.
func (e *Emulator) SentCount(openid string) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.massLocked().perUser[openid]
}

// SentCounts returns a copy of the per-openid counts.
func (e *Emulator) SentCounts() map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int64, len(e.massLocked().perUser))
	for k, v := range e.mass.perUser {
		out[k] = v
	}
	return out
}

// MassJob returns the outcome of the mass send msgID.
func (e *Emulator) MassJob(msgID int64) (MassJob, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	j, ok := e.massLocked().jobs[msgID]
	return j, ok
}

// MassJobs returns how many mass sends were accepted.
func (e *Emulator) MassJobs() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.massLocked().jobs)
}

// MassQuotaUsed returns how many mass messages openid received this month.
func (e *Emulator) MassQuotaUsed(openid string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.massLocked().quota[openid+"|"+e.now().In(shanghai).Format("2006-01")]
}

// AcceptSubscribe records that openid accepted the subscribe message
// templateID once (as its subscribe_msg_popup_event would say).
func (e *Emulator) AcceptSubscribe(openid, templateID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := e.massLocked()
	if m.consents[openid] == nil {
		m.consents[openid] = map[string]bool{}
	}
	m.consents[openid][templateID] = true
}

// resetMassLocked forgets counts and jobs (Reset calls it); quota and
// consents stay, as WeChat's would.
func (e *Emulator) resetMassLocked() {
	m := e.massLocked()
	m.perUser = map[string]int64{}
	m.jobs = map[int64]MassJob{}
}

// templateDupLocked reports whether openid already got a template with
// clientMsgID within WeChat's de-duplication period, and its msgid; when not,
// it remembers msgID under it.
func (e *Emulator) templateDupLocked(openid, clientMsgID string, msgID int64) (int64, bool) {
	if clientMsgID == "" {
		return 0, false
	}
	m := e.massLocked()
	k := openid + "|" + clientMsgID
	now := e.now()
	if t, ok := m.templates[k]; ok && now.Sub(t.at) < templateDedupAfter {
		return t.msgID, true
	}
	if msgID != 0 {
		m.templates[k] = templateSeen{msgID: msgID, at: now}
		if len(m.templates) > 200_000 { // bound memory: drop the expired ones
			for key, t := range m.templates {
				if now.Sub(t.at) >= templateDedupAfter {
					delete(m.templates, key)
				}
			}
		}
	}
	return 0, false
}

func (e *Emulator) handleMassSend(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r, 4<<20)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		e.writeErr(w, ErrEmptyPostData, "")
		return
	}
	var req struct {
		ToUser  []string `json:"touser"`
		MsgType string   `json:"msgtype"`
		Text    *struct {
			Content string `json:"content"`
		} `json:"text"`
		ClientMsgID string `json:"clientmsgid"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		e.writeErr(w, ErrDataFormat, "")
		return
	}
	switch {
	case len(req.ToUser) == 0:
		e.writeErr(w, ErrInvalidOpenID, "")
		return
	case len(req.ToUser) > maxMassOpenIDs:
		e.writeErr(w, ErrTooManyOpenIDs, "")
		return
	case req.MsgType != "text":
		e.writeErr(w, ErrInvalidMsgType, "")
		return
	case req.Text == nil || req.Text.Content == "":
		e.writeErr(w, ErrEmptyContent, "")
		return
	case utf8.RuneCountInString(req.Text.Content) > 2000:
		e.writeErr(w, ErrContentTooLong, "")
		return
	}
	e.mu.Lock()
	m := e.massLocked()
	if id, dup := m.clientIDs[req.ClientMsgID]; dup && req.ClientMsgID != "" {
		e.mu.Unlock()
		e.writeErrWith(w, ErrMassDuplicate, map[string]any{"msg_id": id})
		return
	}
	m.msgID++
	id := m.msgID
	if req.ClientMsgID != "" {
		m.clientIDs[req.ClientMsgID] = id
	}
	month := "|" + e.now().In(shanghai).Format("2006-01")
	job := MassJob{MsgID: id}
	seen := make(map[string]bool, len(req.ToUser))
	for _, o := range req.ToUser {
		if seen[o] {
			continue
		}
		seen[o] = true
		job.Total++
		switch {
		case e.users[o].Unsubscribed:
			job.Errors++
		case m.quota[o+month] >= MassMonthlyQuota:
			job.Filtered++
		default:
			m.quota[o+month]++
			job.Sent++
			e.addRecordLocked(Sent{Kind: KindMass, ToUser: o, MsgType: "text", Text: req.Text.Content, MsgID: id})
		}
	}
	m.jobs[id] = job
	e.mu.Unlock()
	writeOK(w, map[string]any{"msg_id": id, "msg_data_id": id})
}

func (e *Emulator) handleSubscribeSend(w http.ResponseWriter, r *http.Request) {
	req, body, code := readTemplateRequest(r)
	if code != 0 {
		e.writeErr(w, code, "")
		return
	}
	keys, vals := req.keys, req.vals
	lines := make([]string, 0, len(keys))
	for _, k := range keys {
		lines = append(lines, k+": "+vals[k])
	}
	e.mu.Lock()
	m := e.massLocked()
	code = 0
	switch {
	case e.users[req.ToUser].Unsubscribed:
		code = ErrRequireSubscribe
	case !m.consents[req.ToUser][req.TemplateID]:
		code = ErrUserRefused
	default:
		delete(m.consents[req.ToUser], req.TemplateID) // one acceptance, one message
		e.addRecordLocked(Sent{Kind: KindSubscribe, ToUser: req.ToUser, MsgType: "subscribe", Text: strings.Join(lines, "\n"),
			TemplateID: req.TemplateID, Data: vals, DataKeys: keys, URL: req.Page, Raw: compactJSON(body)})
	}
	e.mu.Unlock()
	if code != 0 {
		e.writeErr(w, code, "")
		return
	}
	writeOK(w, nil)
}

// writeErrWith is writeErr with extra fields (45065 carries the existing msg_id).
func (e *Emulator) writeErrWith(w http.ResponseWriter, errcode int, extra map[string]any) {
	e.mu.Lock()
	e.errCounts[errcode]++
	e.mu.Unlock()
	out := map[string]any{"errcode": errcode, "errmsg": ErrMsg(errcode)}
	for k, v := range extra {
		out[k] = v
	}
	writeJSON(w, out)
}
