package handlers_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"unionbot/bot"
	"unionbot/handlers"
	"unionbot/internal/testclock"
	"unionbot/legalaid"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

var jpeg = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF"), make([]byte, 300)...)

// newLegalFixture is the fixture with forms switched on as in the service: drafts in the
// database and photos fetched from a map standing in for WeChat's media download.
func newLegalFixture(t *testing.T, db *storage.DB, mod ...func(*handlers.Deps)) *fixture {
	t.Helper()
	c := testclock.New(time.Date(2026, 11, 24, 10, 30, 0, 0, shanghai))
	db = db.WithClock(c.Now)
	store := memoryKV(t)
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	r := bot.NewRouter(logger)
	d := handlers.Deps{Store: db, KV: store, Now: c.Now, UnionName: "测试县总工会", Logger: logger}
	for _, m := range mod {
		m(&d)
	}
	svc, err := handlers.Register(r, d)
	if err != nil {
		t.Fatal(err)
	}
	r.UseForms(bot.FormOptions{Drafts: db, Photos: &bot.MediaPhotos{Save: db, Now: c.Now,
		Fetch: func(ctx context.Context, id string) ([]byte, string, error) { return jpeg, "image/jpeg", nil }}})
	return &fixture{t: t, db: db, kv: store, bot: bot.New(bot.Deps{Store: store, Router: r, Now: c.Now, Logger: logger}), svc: svc, clock: c}
}

func onlyCase(t *testing.T, f *fixture, openID string) storage.LegalCase {
	t.Helper()
	cs, err := f.db.LegalCasesOf(t.Context(), openID, 10)
	if err != nil || len(cs) != 1 {
		t.Fatalf("cases of %s: %d %v", openID, len(cs), err)
	}
	c, err := f.db.LegalCaseByNumber(t.Context(), cs[0].Number)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A migrant worker owed wages asks in chat, without binding anything.
func TestLegalAidRequestFromNonMember(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newLegalFixture(t, db)
		const w = "oMigrant"
		mustContain(t, f.say(w, "老板拖欠工资怎么办"), "工资条", "回复“是”（或“法律援助”）", "不是会员也可以申请")
		mustContain(t, f.say(w, "被辞退了不给补偿"), "法律援助")
		got := f.say(w, "法律援助")
		mustContain(t, got, "交给工会法律援助工作人员", "回复“同意”")
		mustNotContain(t, got, "绑定")
		mustContain(t, f.say(w, "同意"), "（第2/12步）遇到的是哪类问题", "1. 拖欠工资", "6. 其他")
		mustContain(t, f.say(w, "1"), "现在到哪一步了", "5. 投诉无答复")
		mustContain(t, f.say(w, "1"), "用人单位")
		mustContain(t, f.say(w, "银湖建筑工程有限公司"), "在哪里干活")
		mustContain(t, f.say(w, "旗开发区银湖小区工地"), "涉及几个人")
		mustContain(t, f.say(w, "好多"), "请回复人数")
		mustContain(t, f.say(w, "二十三个人"), "涉及多少钱")
		mustContain(t, f.say(w, "4.2万"), "说说发生了什么", "好了")
		// The story in several messages, a question among them kept as part of it.
		mustContain(t, f.say(w, "干了八个月，老板一直拖着不结工资。"), "收到。还有就接着说")
		mustContain(t, f.say(w, "包工头电话也打不通了，怎么办？"), "收到")
		mustContain(t, f.say(w, "好了"), "证据", "跳过")
		mustContain(t, f.send(bot.Input{OpenID: w, Kind: bot.KindImage, MediaID: "IMG1"}), "已收到第1张")
		mustContain(t, f.say(w, "好了"), "怎么称呼您")
		mustContain(t, f.say(w, "李春生"), "联系电话")
		mustContain(t, f.say(w, "1391234"), "号码好像不对")
		mustContain(t, f.say(w, "139 1234 5678"), "方便接电话")
		sum := f.say(w, "晚上7点以后")
		mustContain(t, sum, "请核对", "1 问题类型：拖欠工资", "2 目前进展：未进入程序", "5 涉及人数：23人",
			"6 涉及金额：42,000.00 元", "7 情况说明：干了八个月", "8 证据照片：1张", "10 联系电话：139****5678", "修改 3")
		mustNotContain(t, sum, "13912345678")
		mustContain(t, f.say(w, "修改 11"), "什么时候方便接电话")
		mustContain(t, f.say(w, "工作日白天"), "已修改", "11 方便联系的时间：工作日白天")
		done := f.say(w, "确认")
		mustContain(t, done, "已受理登记，编号 FY20261124-0001", "12351", "尽快打电话联系您", "进度")
		c := onlyCase(t, f, w)
		if c.MemberID != 0 || c.UnitID != 0 || c.Type != legalaid.WageArrears || c.Stage != legalaid.NotStarted ||
			c.Workers != 23 || c.Amount != 4200000 || c.ContactPhone != "13912345678" || c.ContactName != "李春生" ||
			c.ContactTime != "工作日白天" || len(c.Evidence) != 1 || c.Urgent {
			t.Fatalf("case %+v", c)
		}
		if c.Description != "干了八个月，老板一直拖着不结工资。\n包工头电话也打不通了，怎么办？" {
			t.Fatalf("description %q", c.Description)
		}
		if _, _, _, ok, _ := f.db.FormDraft(t.Context(), w, handlers.IntentLegalAid); ok {
			t.Fatal("draft kept after submit")
		}
		sec, err := f.svc.LegalAid.ProgressSection(t.Context(), w)
		if err != nil || !strings.Contains(sec, c.Number+" 拖欠工资 · 已登记") {
			t.Fatalf("progress %q %v", sec, err)
		}
		// Another person sees nothing of it.
		if other, _ := f.svc.LegalAid.ProgressSection(t.Context(), "oSomeoneElse"); other != "" {
			t.Fatalf("another's progress %q", other)
		}
	})
}

func TestLegalAidConsentRefusedStoresNothing(t *testing.T) {
	f := newLegalFixture(t, storagetest.Embedded(t))
	f.say("oR", "法律援助")
	mustContain(t, f.say("oR", "不同意"), "没有保存您的任何信息", "12351")
	if cs, _ := f.db.LegalCasesOf(t.Context(), "oR", 10); len(cs) != 0 {
		t.Fatal("case stored")
	}
	if _, _, _, ok, _ := f.db.FormDraft(t.Context(), "oR", handlers.IntentLegalAid); ok {
		t.Fatal("draft stored")
	}
	mustNotContain(t, f.say("oR", "你好"), "（第")
}

func TestLegalAidPrefillForMembers(t *testing.T) {
	f := newLegalFixture(t, storagetest.Embedded(t))
	f.seedRoster()
	if _, err := f.db.UpsertMembers(t.Context(), []storage.MemberRecord{{MemberNo: zhang.no, Name: zhang.name,
		IDNumber: zhang.id(t), Phone: "13800001234", UnitName: zhang.unit, Status: storage.StatusActive}}); err != nil {
		t.Fatal(err)
	}
	f.bind("oZ", zhang)
	f.say("oZ", "法律援助")
	f.say("oZ", "同意")
	for _, a := range []string{"3", "1", "县供电公司", "变电站", "1", "跳过", "去年巡线摔伤，单位不给申请工伤", "好了", "跳过"} {
		f.say("oZ", a)
	}
	mustContain(t, f.say("oZ", ""), "") // an empty message changes nothing
	got := f.say("oZ", "对")
	mustContain(t, got, "138****1234（会员登记的号码）")
	mustContain(t, f.say("oZ", "对"), "方便接电话")
	sum := f.say("oZ", "随时")
	mustContain(t, sum, "联系人：张三丰", "联系电话：138****1234", "涉及金额：不清楚")
	f.say("oZ", "确认")
	c := onlyCase(t, f, "oZ")
	m, _ := f.db.MemberByNo(t.Context(), zhang.no)
	if c.MemberID != m.ID || c.UnitID != m.UnitID || c.ContactPhone != "13800001234" || c.Type != legalaid.WorkInjury || c.HasAmount {
		t.Fatalf("member case %+v", c)
	}
}

func TestCrisisAnywhere(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newLegalFixture(t, db)
		ctx := t.Context()
		// Ordinary tiredness is not a crisis.
		mustNotContain(t, f.say("oT", "我快累死了"), "110")
		if cs, _ := f.db.LegalCasesOf(ctx, "oT", 10); len(cs) != 0 {
			t.Fatal("a case for an ordinary sentence")
		}
		// Outside any form: the numbers at once, an urgent case for the officers.
		got := f.say("oC", "再不给钱我就从楼上跳下去")
		mustContain(t, got, "110", "120", "12351", "工作人员已经收到消息")
		c := onlyCase(t, f, "oC")
		if c.Type != legalaid.Crisis || !c.Urgent || c.CrisisText != "再不给钱我就从楼上跳下去" || c.CrisisCategory != "self_harm" {
			t.Fatalf("urgent case %+v", c)
		}
		// It stays out of the person's 进度 (it is not a request they filed).
		if sec, _ := f.svc.LegalAid.ProgressSection(ctx, "oC"); sec != "" {
			t.Fatalf("progress shows the crisis case: %q", sec)
		}
		// Inside the legal-aid form, at a step: the numbers, then the same question.
		f.say("oC", "法律援助")
		f.say("oC", "同意")
		f.say("oC", "1")
		f.say("oC", "1")
		got = f.say("oC", "他们要打人了")
		mustContain(t, got, "110", "用人单位（老板）叫什么")
		mustContain(t, f.say("oC", "银湖建筑"), "在哪里干活")
		for _, a := range []string{"工地", "5", "跳过"} {
			f.say("oC", a)
		}
		// Inside the description: the numbers, and the words kept in the story.
		mustContain(t, f.say("oC", "工友说要一起去堵门"), "110", "已经记下了")
		f.say("oC", "好了")
		f.say("oC", "跳过")
		f.say("oC", "王五")
		f.say("oC", "13912345678")
		f.say("oC", "随时")
		mustContain(t, f.say("oC", "确认"), "会优先处理", c.Number)
		done, err := f.db.LegalCaseByNumber(ctx, c.Number)
		if err != nil || done.Type != legalaid.WageArrears || !done.Urgent || !strings.Contains(done.Description, "堵门") ||
			!strings.Contains(done.CrisisText, "打人") || !strings.Contains(done.CrisisText, "堵门") {
			t.Fatalf("completed urgent case %+v %v", done, err)
		}
		// Inside another form (binding): the numbers, then the form's question again.
		f.say("oB", "绑定")
		mustContain(t, f.say("oB", "我不想活了"), "110", "姓名")
		if cs, _ := f.db.LegalCasesOf(ctx, "oB", 10); len(cs) != 1 || !cs[0].Urgent {
			t.Fatalf("urgent case from inside a form: %+v", cs)
		}
	})
}

func TestLegalSatisfactionInChat(t *testing.T) {
	f := newLegalFixture(t, storagetest.Embedded(t))
	ctx := t.Context()
	mustContain(t, f.say("oW", "3"), "是指什么") // nothing pending asks for a number
	c, _, err := f.db.SubmitLegalCase(ctx, storage.LegalCaseInput{OpenID: "oW", Type: legalaid.WageArrears, Employer: "甲公司",
		Workers: 1, Description: "欠薪", ContactName: "王", ContactPhone: "13912345678"}, storage.AuditEntry{Actor: "member:oW"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []storage.LegalTransition{{To: legalaid.Accepted}, {To: legalaid.Contacted}, {To: legalaid.InProgress},
		{To: legalaid.Closed, Details: legalaid.Details{Outcome: legalaid.Mediated}}} {
		s.Role = legalaid.RoleLegal
		if _, err := f.db.TransitionLegalCase(ctx, c.Number, s, storage.AuditEntry{Actor: "officer:l"}); err != nil {
			t.Fatal(err)
		}
	}
	// Someone else's bare number rates nothing.
	mustContain(t, f.say("oOther", "5"), "是指什么")
	f.clock.Add(6 * 24 * time.Hour)
	mustContain(t, f.say("oW", "5分"), "谢谢您的评价（5分）")
	mustContain(t, f.say("oW", "律师很耐心，谢谢"), "谢谢您的意见")
	got, _ := f.db.LegalCaseByNumber(ctx, c.Number)
	if got.Satisfaction != 5 || got.SatisfactionComment != "律师很耐心，谢谢" {
		t.Fatalf("rating %d %q", got.Satisfaction, got.SatisfactionComment)
	}
	mustContain(t, f.say("oW", "4"), "是指什么") // rated once
	if _, err := f.db.LegalRatingDue(ctx, "oW"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("still due: %v", err)
	}
}

// The promise told after 确认 is the union's own (UNIONBOT_LEGAL_PROMISE).
func TestLegalPromiseConfigured(t *testing.T) {
	const promise = "工作人员将在工作时间内尽快联系您，周末顺延。"
	f := newLegalFixture(t, storagetest.Embedded(t), func(d *handlers.Deps) { d.LegalPromise = " " + promise + " " })
	for _, a := range []string{"法律援助", "同意", "1", "1", "甲公司", "工地", "1", "跳过", "欠了两个月工资", "好了", "跳过",
		"王五", "13912345678", "随时"} {
		f.say("oP", a)
	}
	done := f.say("oP", "确认")
	mustContain(t, done, "编号 FY20261124-0001", promise, "12351")
	mustNotContain(t, done, handlers.DefaultLegalPromise)
}
