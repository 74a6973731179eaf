package handlers_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"unionbot/bot"
	"unionbot/handlers"
	"unionbot/internal/testclock"
	"unionbot/internal/wiretest"
	"unionbot/localwx"
	"unionbot/storage"
	"unionbot/storage/kv"
	"unionbot/storage/kv/kvtest"
	"unionbot/storage/storagetest"
)

// The handlers served as in production, for tests over HTTP (internal/wiretest), on both
// backends. A fixture made by wireFixture sends every message through the callback, so the
// fixture's helpers (say, bind, fileClaim…) work over HTTP unchanged.

// wireBackend is a database and kv store pair the bot is served on.
type wireBackend struct {
	name string
	// open gives the database and kv store, and flush, which loses every key of the kv store
	// as a Redis restart without persistence does (nil: the store lives in the bot's process
	// and goes with it).
	open func(t *testing.T) (db *storage.DB, store kv.Store, flush func())
	// restarted is the kv store a restarted bot process finds: the same Redis, or a new
	// in-process store.
	restarted func(t testing.TB, old kv.Store) kv.Store
}

// wireBackends are the two ways the bot is deployed: embedded (SQLite, in-process kv) and
// MariaDB + Redis (under a private key prefix).
var wireBackends = []wireBackend{
	{name: "embedded",
		open:      func(t *testing.T) (*storage.DB, kv.Store, func()) { return storagetest.Embedded(t), memoryKV(t), nil },
		restarted: func(t testing.TB, _ kv.Store) kv.Store { return memoryKV(t) }},
	{name: "mysql+redis",
		open: func(t *testing.T) (*storage.DB, kv.Store, func()) {
			c := kvtest.Redis(t)
			prefix := kvtest.PrefixOn(t, c)
			return storagetest.MySQL(t), kv.NewRedis(c, prefix), func() { flushPrefix(t, c, prefix) }
		},
		restarted: func(_ testing.TB, old kv.Store) kv.Store { return old }},
}

// flushPrefix deletes every key under prefix.
func flushPrefix(t *testing.T, c redis.UniversalClient, prefix string) {
	t.Helper()
	ctx := t.Context()
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("scan %s*: %v", prefix, err)
	}
	for _, k := range keys {
		if err := c.Del(ctx, k).Err(); err != nil {
			t.Fatalf("del %s: %v", k, err)
		}
	}
	if len(keys) == 0 {
		t.Fatalf("no keys under %s to lose", prefix)
	}
}

// wireFixture serves the bot on the backend, on the fixture's date (2026-05-03 10:30 in
// Shanghai), with the WeChat emulator; mod adjusts the handlers' dependencies.
func wireFixture(t *testing.T, be wireBackend, emuOpts localwx.EmulatorOptions, mod ...func(*handlers.Deps)) *fixture {
	t.Helper()
	base, store, flush := be.open(t)
	clock := testclock.New(time.Date(2026, 5, 3, 10, 30, 0, 0, shanghai))
	f := &fixture{t: t, db: base.WithClock(clock.Now), kv: store, clock: clock, mods: mod,
		wechat: wiretest.NewWeChat(t, emuOpts), flushKV: flush, backend: be}
	f.boot()
	return f
}

// boot starts a bot process over the fixture's database and kv store.
func (f *fixture) boot() {
	f.wire = wiretest.Start(f.t, f.wechat, wiretest.Options{DB: f.db, KV: f.kv, Now: f.clock.Now, Admin: true,
		Register: func(r *bot.Router, logger *slog.Logger) {
			d := handlers.Deps{Store: f.db, KV: f.kv, Logger: logger, Now: f.clock.Now, UnionName: "测试县总工会"}
			for _, m := range f.mods {
				m(&d)
			}
			svc, err := handlers.Register(r, d)
			if err != nil {
				f.t.Fatal(err)
			}
			f.svc = svc
		}})
}

// restart stops the bot process and starts a new one over the same database, with the kv
// store a new process finds on this backend.
func (f *fixture) restart() {
	f.t.Helper()
	f.wire.Stop()
	f.kv = f.backend.restarted(f.t, f.kv)
	f.boot()
}
