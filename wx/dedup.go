package wx

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"

	"unionbot/bot"
)

// WeChat retries a callback it got no answer to within 5 s (3 tries, same
// query string, ~5 s apart), and a retry may arrive while the first delivery
// is still being handled, on another replica. The engine de-duplicates within
// its turn (bot.Delivery; kv.Turns keeps the keys): the first arrival claims
// the delivery, the reply is kept (sealed) for the retries, so every retry
// returns the same reply and the handler's side effects happen once. This
// file names the keys and sets their lifetimes:
//
//	wx:seen:{openid}:<id>   the marker: lives until the delivery's timestamp
//	                        leaves the ±300 s signature window (≤ 600 s), so
//	                        an exact replay is recognised for as long as its
//	                        signature would be accepted
//	wx:dedup:{openid}:<id>  the state: the claim while the owner works, then
//	                        the sealed reply (or a "pushed" note) for 30 s,
//	                        which covers WeChat's retries; a replay after that
//	                        finds the marker alone and is answered with nothing
//	wx:nonce:<ts>:<nonce>   plain mode only: the SHA-256 of the body first seen
//	                        with this signed timestamp+nonce pair, as long as
//	                        the marker (until the timestamp leaves the window)
//
// The openid is a hash tag so all keys of a member's turn share one Redis
// Cluster slot. The nonce key deliberately is not tied to the openid: a
// forged body may name any member.
const (
	// DefaultRetryTTL is how long a reply is kept for WeChat's retries.
	DefaultRetryTTL = 30 * time.Second
	// maxMarkerTTL caps the marker: a timestamp accepted now leaves the
	// window at most 600 s later.
	maxMarkerTTL = 2 * maxClockSkew
)

// deliveryID names the delivery within its member: the MsgId for messages,
// and for events (which have none) CreateTime+MsgType+Event+EventKey. The
// openid is part of every key, since MsgIds have been seen to collide across
// users.
func deliveryID(m *message.MixMessage) string {
	if m.MsgID != 0 {
		return strconv.FormatInt(m.MsgID, 10)
	}
	return strconv.FormatInt(m.CreateTime, 10) + ":" + string(m.MsgType) + ":" + string(m.Event) + ":" + m.EventKey
}

func stateKey(openID, id string) string  { return "wx:dedup:{" + openID + "}:" + id }
func markerKey(openID, id string) string { return "wx:seen:{" + openID + "}:" + id }

// nonceKey names a signed timestamp+nonce pair. A nonce is the sender's
// choice of length: a long one is hashed to keep the key small.
func nonceKey(ts int64, nonce string) string {
	if len(nonce) > 64 {
		sum := sha256.Sum256([]byte(nonce))
		nonce = hex.EncodeToString(sum[:])
	}
	return "wx:nonce:" + strconv.FormatInt(ts, 10) + ":" + nonce
}

// markerTTL is how long a delivery signed at ts stays recognisable: until ts
// leaves the window (ts + 300 s − now), capped at 600 s, and never shorter
// than the kept reply, so a retry that finds the reply also finds its marker.
func markerTTL(ts int64, now time.Time, retryTTL time.Duration) time.Duration {
	ttl := time.Unix(ts, 0).Add(maxClockSkew).Sub(now)
	return min(max(ttl, retryTTL), maxMarkerTTL)
}

// delivery describes one verified delivery for the engine's turn.
func (c *Callback) delivery(rq *request, m *message.MixMessage) *bot.Delivery {
	openID, id := string(m.FromUserName), deliveryID(m)
	// A delivery's timestamp is refused once it leaves the window, so what
	// recognises it — the marker, and in plain mode the signed pair — need
	// live no longer (about 300 s for a punctual sender, not a flat 600 s:
	// the pairs were the largest part of the in-process store under a flood).
	live := markerTTL(rq.delivery.Timestamp, c.now(), c.retryTTL)
	d := &bot.Delivery{
		StateKey:  stateKey(openID, id),
		MarkerKey: markerKey(openID, id),
		MarkerTTL: live,
		ClaimTTL:  c.claimTTL,
		StateTTL:  c.retryTTL,
	}
	if !rq.delivery.Encrypted {
		// Plain mode: the signature does not cover the body, so the signed
		// pair is honoured for the body it first came with only. WeChat's
		// retries carry the same body and go on.
		sum := sha256.Sum256(rq.delivery.Body)
		d.NonceKey, d.NonceVal, d.NonceTTL = nonceKey(rq.delivery.Timestamp, rq.delivery.Nonce), sum[:], live
	}
	return d
}
