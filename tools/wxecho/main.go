// Command wxecho is the baseline for callback benchmarks: a bare
// silenceper/wechat server that checks the signature, parses the message
// (decrypting it in safe mode) and echoes text back — no de-duplication, no
// sessions, no database. BENCHMARKS.md runs it side by side with unionbot
// under the same load generator, so the cost of what unionbot adds is
// measured rather than guessed.
//
//	go run ./tools/wxecho -addr 127.0.0.1:18090
//	go run ./tools/loadgen -url http://127.0.0.1:18090 -duration 20s -concurrency 32
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/officialaccount"
	"github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/sirupsen/logrus"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address")
	token := flag.String("token", "unionbot-dev-token", "callback token")
	appID := flag.String("appid", "wx0000local0000000", "AppID (safe mode)")
	aesKey := flag.String("aes-key", "", "EncodingAESKey: enables safe mode")
	flag.Parse()

	// At debug level the SDK logs every message; a fair baseline logs nothing.
	logrus.SetLevel(logrus.WarnLevel)
	logrus.SetOutput(io.Discard)

	oa := officialaccount.NewOfficialAccount(&config.Config{
		AppID: *appID, AppSecret: "unused", Token: *token, EncodingAESKey: *aesKey, Cache: cache.NewMemory(),
	})
	h := func(w http.ResponseWriter, r *http.Request) {
		srv := oa.GetServer(r, w)
		srv.SetMessageHandler(func(m *message.MixMessage) *message.Reply {
			text := m.Content
			if text == "" {
				text = string(m.MsgType) + " " + string(m.Event)
			}
			return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText(text)}
		})
		if err := srv.Serve(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_ = srv.Send()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/wechat", h)
	s := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("wxecho listening on %s", *addr)
	log.Fatal(s.ListenAndServe())
}
