package handlers_test

import (
	"strings"
	"testing"
	"time"

	"unionbot/bot"
	"unionbot/handlers"
	"unionbot/internal/testclock"
	"unionbot/internal/wiretest"
	"unionbot/storage"
	"unionbot/storage/kv"
	"unionbot/storage/kv/kvtest"
	"unionbot/storage/storagetest"
)

// fixture is the real dialog engine with the handlers registered, on a real
// database and a real kv store.
type fixture struct {
	t     testing.TB
	db    *storage.DB
	kv    kv.Store
	bot   *bot.Bot
	svc   *handlers.Service
	clock *testclock.Clock

	// Served over HTTP (wire_test.go): the running process, the emulated WeChat, what a
	// restart rebuilds it with, and how the backend's kv store loses its keys.
	wire    *wiretest.Process
	wechat  *wiretest.WeChat
	backend wireBackend
	mods    []func(*handlers.Deps)
	flushKV func()
}

// shanghai is the zone the tests set "today" in.
var shanghai = time.FixedZone("CST", 8*3600)

func newFixture(t testing.TB, db *storage.DB, store kv.Store, mod ...func(*handlers.Deps)) *fixture {
	t.Helper()
	c := testclock.New(time.Date(2026, 5, 3, 10, 30, 0, 0, shanghai))
	db = db.WithClock(c.Now) // lockouts and codes expire by the same clock
	d := handlers.Deps{Store: db, KV: store, Now: c.Now, UnionName: "测试县总工会"}
	for _, m := range mod {
		m(&d)
	}
	r := bot.NewRouter(nil)
	svc, err := handlers.Register(r, d)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return &fixture{t: t, db: db, kv: store, bot: bot.New(bot.Deps{Store: store, Router: r}), svc: svc, clock: c}
}

// memoryKV returns an in-process kv store closed at cleanup.
func memoryKV(t testing.TB) kv.Store {
	t.Helper()
	m := kv.NewMemory()
	t.Cleanup(m.Close)
	return m
}

// redisKV returns a Redis kv store under a private prefix; kvtest skips (or
// fails under CI=true) when Redis is unreachable.
func redisKV(t testing.TB) kv.Store {
	t.Helper()
	return kv.NewRedis(kvtest.Redis(t), kvtest.Prefix(t))
}

// each runs fn on every database backend with an in-process kv store.
func each(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Helper()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		fn(t, newFixture(t, db, memoryKV(t)))
	})
}

func (f *fixture) send(in bot.Input) string {
	f.t.Helper()
	if f.wire != nil {
		return f.wire.Send(f.t, wiretest.Message(in))
	}
	if in.CreateTime.IsZero() {
		in.CreateTime = f.clock.Now()
	}
	rep, err := f.bot.Handle(f.t.Context(), in)
	if err != nil {
		f.t.Fatalf("handle %+v: %v", in, err)
	}
	return rep.Text
}

// say sends a text message as openID and returns the reply.
func (f *fixture) say(openID, text string) string {
	f.t.Helper()
	return f.send(bot.Input{OpenID: openID, Kind: bot.KindText, Text: text})
}

// click sends a menu click as openID.
func (f *fixture) click(openID, key string) string {
	f.t.Helper()
	return f.send(bot.Input{OpenID: openID, Kind: bot.KindEvent, Event: bot.EventClick, EventKey: key})
}

// seedFAQs loads the default knowledge base.
func (f *fixture) seedFAQs() {
	f.t.Helper()
	if err := f.svc.SeedDefaults(f.t.Context()); err != nil {
		f.t.Fatalf("seed defaults: %v", err)
	}
}

// idNumber completes a 17-digit prefix with its GB 11643 check character.
func idNumber(t testing.TB, prefix17 string) string {
	t.Helper()
	if len(prefix17) != 17 {
		t.Fatalf("ID prefix %q: want 17 digits", prefix17)
	}
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		d := prefix17[i]
		if d < '0' || d > '9' {
			t.Fatalf("ID prefix %q: not a digit at %d", prefix17, i)
		}
		sum += int(d-'0') * w
	}
	return prefix17 + string("10X98765432"[sum%11])
}

// Test roster. IDs get their check character at seeding.
type person struct {
	no, name, id17, unit, status string
	joined                       time.Time
	years                        []int
}

var (
	zhang = person{no: "HQ2024000101", name: "张三丰", id17: "15062719850312421", unit: "县供电公司工会",
		status: storage.StatusActive, joined: date(2015, 3, 12), years: []int{2025, 2026}}
	li = person{no: "HQ2024000102", name: "李秀英", id17: "15062719900101162", unit: "县第一中学工会",
		status: storage.StatusActive}
	wang = person{no: "HQ2024000103", name: "王建国", id17: "15062719780609331", unit: "县建筑公司工会",
		status: storage.StatusTransferred, years: []int{2024}}
	ayi = person{no: "HQ2024000104", name: "阿依古丽·买买提", id17: "15062719920307009", unit: "县人民医院工会",
		status: storage.StatusActive, years: []int{2026}}
	zhao = person{no: "HQ2024000105", name: "赵敏", id17: "15062719880215551", unit: "县供电公司工会",
		status: storage.StatusWithdrawn}
	roster = []person{zhang, li, wang, ayi, zhao}
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// id returns the full ID number of p.
func (p person) id(t testing.TB) string { return idNumber(t, p.id17) }

// last6 returns the last six characters of p's ID number.
func (p person) last6(t testing.TB) string { id := p.id(t); return id[12:] }

// seedRoster stores the test roster and returns the members by member number.
func (f *fixture) seedRoster() map[string]storage.Member {
	f.t.Helper()
	recs := make([]storage.MemberRecord, len(roster))
	for i, p := range roster {
		recs[i] = storage.MemberRecord{MemberNo: p.no, Name: p.name, IDNumber: p.id(f.t), UnitName: p.unit,
			JoinedOn: p.joined, Status: p.status, MutualAidYears: p.years}
	}
	out, err := f.db.UpsertMembers(f.t.Context(), recs)
	if err != nil {
		f.t.Fatalf("upsert members: %v", err)
	}
	for i, o := range out {
		if o.Err != nil {
			f.t.Fatalf("upsert %s: %v", roster[i].no, o.Err)
		}
	}
	ms := map[string]storage.Member{}
	for _, p := range roster {
		m, err := f.db.MemberByNo(f.t.Context(), p.no)
		if err != nil {
			f.t.Fatalf("member %s: %v", p.no, err)
		}
		ms[p.no] = m
	}
	return ms
}

// bind walks the bind form for p as openID and returns the final reply.
func (f *fixture) bind(openID string, p person) string {
	f.t.Helper()
	f.say(openID, "绑定")
	f.say(openID, p.name)
	return f.say(openID, p.last6(f.t))
}

func mustContain(t testing.TB, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("reply lacks %q:\n%s", w, got)
		}
	}
}

func mustNotContain(t testing.TB, got string, bads ...string) {
	t.Helper()
	for _, b := range bads {
		if strings.Contains(got, b) {
			t.Errorf("reply contains %q:\n%s", b, got)
		}
	}
}
