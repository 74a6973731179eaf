package wx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unionbot/bot"

	"github.com/silenceper/wechat/v2/officialaccount/message"

	"unionbot/storage/kv"
)

// WeChat retries a callback it got no answer to within 5 s (3 tries, same
// query string), and a retry may arrive while the first delivery is still
// being handled. The first arrival claims a dedup key; the finished reply is
// stored under it, so every retry returns the same reply and the handler's
// side effects happen once. A key holds one of:
//
//	"p"        processing: the first arrival is running the handler
//	"a"        async: the reply deadline passed; the reply goes out as a
//	           customer-service message, retries answer "success"
//	"d"+JSON   done: the Reply to return
const (
	dedupProcessing = "p"
	dedupAsync      = "a"
	dedupDone       = 'd'
)

// dedupState is what a waiting retry found.
type dedupState int

const (
	dedupPending dedupState = iota // still processing when the wait ended
	dedupGotReply
	dedupWentAsync
	dedupVanished // the claim expired: its owner died before finishing
)

// dedupKey names the delivery: the MsgId for messages, and for events (which
// have none) FromUserName+CreateTime+Event+EventKey. The openid is part of
// every key, since MsgIds have been seen to collide across users.
func dedupKey(m *message.MixMessage) string {
	from := string(m.FromUserName)
	if m.MsgID != 0 {
		return "wx:dedup:" + from + ":" + strconv.FormatInt(m.MsgID, 10)
	}
	return "wx:dedup:" + from + ":" + strconv.FormatInt(m.CreateTime, 10) + ":" +
		string(m.MsgType) + ":" + string(m.Event) + ":" + m.EventKey
}

type dedup struct {
	store kv.Store
	ttl   time.Duration
	// claimTTL bounds the "processing" marker. A live owner renews it until
	// it writes the reply or the async marker, so it only expires when the
	// owner died (a replica killed mid-message); WeChat's next retry then
	// claims the delivery again instead of being answered "success" with
	// nothing ever processed.
	claimTTL time.Duration
}

// claim reports whether this arrival is the first one for key.
func (d dedup) claim(ctx context.Context, key string) (bool, error) {
	ttl := d.claimTTL
	if ttl <= 0 || ttl > d.ttl {
		ttl = d.ttl
	}
	ok, err := d.store.SetNX(ctx, key, []byte(dedupProcessing), ttl)
	if err != nil {
		return false, fmt.Errorf("dedup claim: %w", err)
	}
	return ok, nil
}

// renew extends the processing marker of a claim this process still owns.
func (d dedup) renew(ctx context.Context, key string) error {
	if err := d.store.Set(ctx, key, []byte(dedupProcessing), d.claimTTL); err != nil {
		return fmt.Errorf("dedup renew: %w", err)
	}
	return nil
}

// finish stores the reply for retries.
func (d dedup) finish(ctx context.Context, key string, r bot.Reply) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("dedup finish: %w", err)
	}
	val := make([]byte, 0, len(b)+1)
	val = append(append(val, dedupDone), b...)
	if err := d.store.Set(ctx, key, val, d.ttl); err != nil {
		return fmt.Errorf("dedup finish: %w", err)
	}
	return nil
}

// markAsync tells retries that the reply will be pushed instead.
func (d dedup) markAsync(ctx context.Context, key string) error {
	if err := d.store.Set(ctx, key, []byte(dedupAsync), d.ttl); err != nil {
		return fmt.Errorf("dedup mark async: %w", err)
	}
	return nil
}

// wait polls key until the first arrival has finished or gone async, or ctx
// ends (dedupPending). A key that vanished (the claim's owner crashed before
// finishing, so its short claim expired) ends the wait as dedupVanished: the
// caller may claim the delivery itself.
func (d dedup) wait(ctx context.Context, key string) (bot.Reply, dedupState, error) {
	delay := 5 * time.Millisecond
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return bot.Reply{}, dedupPending, nil
		case <-t.C:
		}
		val, err := d.store.Get(ctx, key)
		switch {
		case errors.Is(err, kv.ErrNotFound):
			return bot.Reply{}, dedupVanished, nil
		case err != nil:
			if ctx.Err() != nil {
				return bot.Reply{}, dedupPending, nil
			}
			return bot.Reply{}, dedupPending, fmt.Errorf("dedup wait: %w", err)
		case len(val) > 0 && val[0] == dedupDone:
			var r bot.Reply
			if err := json.Unmarshal(val[1:], &r); err != nil {
				return bot.Reply{}, dedupPending, fmt.Errorf("dedup wait: decode reply: %w", err)
			}
			return r, dedupGotReply, nil
		case string(val) == dedupAsync:
			return bot.Reply{}, dedupWentAsync, nil
		}
		t.Reset(delay)
		if delay < 100*time.Millisecond {
			delay *= 2
		}
	}
}
