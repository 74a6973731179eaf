package wx

import (
	"context"
	"fmt"

	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
)

// The delivery pipeline's extra calls: mass sending by openid list and
// subscribe messages (订阅通知).

// MaxMassOpenIDs is the most openids message/mass/send takes in one call.
const MaxMassOpenIDs = 10000

// massSendURL is WeChat's mass send by openid list; the API base rewrite of
// the HTTP client sends it to the emulator in tests and local mode.
const massSendURL = DefaultAPIBase + "/cgi-bin/message/mass/send"

// MassResult is WeChat's answer to a mass send: the job's ids. The job runs
// asynchronously; its counts arrive later in a MASSSENDJOBFINISH event.
type MassResult struct {
	MsgID     int64
	MsgDataID int64
}

type massTextRequest struct {
	ToUser  []string `json:"touser"`
	MsgType string   `json:"msgtype"`
	Text    struct {
		Content string `json:"content"`
	} `json:"text"`
	// ClientMsgID makes WeChat refuse a second job with the same id (45065)
	// for 24 hours. The SDK's broadcast package cannot send it, hence the
	// direct call.
	ClientMsgID string `json:"clientmsgid,omitempty"`
}

type massResponse struct {
	util.CommonError
	MsgID     int64 `json:"msg_id"`
	MsgDataID int64 `json:"msg_data_id"`
}

// SendMassText mass-sends text to openIDs (WeChat wants 2 to MaxMassOpenIDs
// of them; storage.EnqueueMass balances its batches so that none holds a
// single openid). clientMsgID identifies the job (≤ 64 bytes). A follower
// who has had their 4 mass messages this month does not receive it: WeChat
// filters them silently, so the caller counts the quota itself.
func (s *Sender) SendMassText(ctx context.Context, openIDs []string, text, clientMsgID string) (MassResult, error) {
	if len(openIDs) == 0 || len(openIDs) > MaxMassOpenIDs {
		return MassResult{}, fmt.Errorf("wechat mass send: %d openids (want 1 to %d)", len(openIDs), MaxMassOpenIDs)
	}
	req := massTextRequest{ToUser: openIDs, MsgType: "text", ClientMsgID: clientMsgID}
	req.Text.Content = text
	var res MassResult
	err := s.do(ctx, "mass send", func() error {
		tok, err := s.wc.tokens.GetAccessTokenContext(ctx)
		if err != nil {
			return err
		}
		body, err := util.PostJSONContext(ctx, massSendURL+"?access_token="+tok, req)
		if err != nil {
			return err
		}
		var r massResponse
		if err := util.DecodeWithError(body, &r, "MassSend"); err != nil {
			if r.ErrCode != 0 {
				return &util.CommonError{ErrCode: r.ErrCode, ErrMsg: r.ErrMsg}
			}
			return err
		}
		res = MassResult{MsgID: r.MsgID, MsgDataID: r.MsgDataID}
		return nil
	})
	return res, err
}

// SubscribeMessage is a subscribe message (订阅通知, bizsend): sent only to a
// user who accepted the template; keyword values as for templates.
type SubscribeMessage struct {
	ToUser, TemplateID, Page string
	Data                     map[string]string
}

// SendSubscribe sends a subscribe message. 43101 means the user did not
// accept (or no longer accepts) the template: permanent.
func (s *Sender) SendSubscribe(ctx context.Context, m SubscribeMessage) error {
	data := make(map[string]*message.SubscribeDataItem, len(m.Data))
	for k, v := range m.Data {
		data[k] = &message.SubscribeDataItem{Value: v}
	}
	msg := &message.SubscribeMessage{ToUser: m.ToUser, TemplateID: m.TemplateID, Page: m.Page, Data: data}
	// Built per call from the shared context: NewSubscribe is a plain
	// constructor, unlike the account's racy lazy getters.
	sub := message.NewSubscribe(s.wc.oa.GetContext())
	return s.do(ctx, "send subscribe", func() error { return sub.Send(msg) })
}

// NextChannel reports whether WeChat closed this channel for this message
// and another one should take it: 45015 (customer service outside the 48-hour
// window) and 45047 (the customer-service cap of the window reached). Never
// retry these on the same channel. Check it before Transient, which also
// lists 45047 for callers with no other channel.
func (e *APIError) NextChannel() bool { return e.Code == 45015 || e.Code == 45047 }
