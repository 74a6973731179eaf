package handlers_test

import (
	"fmt"
	"testing"

	"unionbot/bot"
	"unionbot/storage/storagetest"
)

// benchHandle measures one message through the whole engine (kv lock,
// session load and save, routing, the handler) on the embedded database and
// the in-process kv store, spread over many openids like real traffic.
func benchHandle(b *testing.B, text string, setup func(f *fixture, openID string)) {
	f := newFixture(b, storagetest.Embedded(b), memoryKV(b))
	f.seedRoster()
	f.seedFAQs()
	const users = 64
	ids := make([]string, users)
	for i := range ids {
		ids[i] = fmt.Sprintf("oid-bench-%d", i)
		if setup != nil {
			setup(f, ids[i])
		}
	}
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		rep, err := f.bot.Handle(ctx, bot.Input{OpenID: ids[i%users], Kind: bot.KindText, Text: text})
		if err != nil || rep.Empty() {
			b.Fatalf("handle: %v %q", err, rep.Text)
		}
		i++
	}
}

func BenchmarkHandleFAQQuestion(b *testing.B) { benchHandle(b, "老板拖欠工资怎么办", nil) }

func BenchmarkHandleMenu(b *testing.B) { benchHandle(b, "菜单", nil) }

// BenchmarkHandleMyInfo: one of the 64 openids is bound, the rest get the
// "not bound yet" answer; both cost one member lookup.
func BenchmarkHandleMyInfo(b *testing.B) {
	n := 0
	benchHandle(b, "我的信息", func(f *fixture, openID string) {
		if n == 0 {
			f.bind(openID, zhang) // one bound member; the rest see the unbound answer
		}
		n++
	})
}
