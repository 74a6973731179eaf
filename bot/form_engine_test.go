package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"unionbot/storage"
	"unionbot/storage/kv"
	"unionbot/storage/storagetest"
)

// JPEG and PNG headers the photo store recognises.
var (
	jpegBytes = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF"), make([]byte, 2000)...)
	pngBytes  = append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 500)...)
)

// claimRig is a claim-like durable form with every feature of the engine,
// over a real in-process kv store and a real embedded database; only
// WeChat's media download is played by a map.
type claimRig struct {
	t      *testing.T
	bot    *Bot
	router *Router
	db     *storage.DB
	mu     sync.Mutex
	now    time.Time
	media  map[string][]byte
	done   []map[string]string
}

var plans = []string{"住院", "门诊特殊病种", "重大疾病", "意外伤害"}

func newClaimRig(t *testing.T, db *storage.DB) *claimRig {
	t.Helper()
	if db == nil {
		db = storagetest.Embedded(t)
	}
	cr := &claimRig{t: t, db: db, now: time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC), media: map[string][]byte{
		"IMG1": jpegBytes, "IMG2": pngBytes, "IMG3": jpegBytes, "DOC": []byte("%PDF-1.4 not a photo"),
	}}
	r := NewRouter(nil)
	r.Intent("menu", func(ctx context.Context, s *Session, in Input) (Reply, error) { return Text("MENU"), nil }, "菜单")
	r.Interrupt(func(ctx context.Context, s *Session, in Input) (Reply, bool) {
		if strings.Contains(in.Text, "多久") {
			return Text("一般15个工作日左右。"), true
		}
		return Reply{}, false
	})
	r.Fallback(func(ctx context.Context, s *Session, in Input) (Reply, error) { return Text("FALLBACK"), nil })
	r.Form(&Form{
		Name: "claim", Title: "互助金申请", Durable: true, Confirm: true,
		Intro: "申请需要填写就医信息并拍照上传发票。",
		Steps: []Step{
			{Key: "plan", Label: "保障项目", Prompt: "请选择保障项目：" + Choices(plans...), Check: CheckChoice(plans...)},
			{Key: "hospital", Label: "医院", Prompt: "在哪家医院住的院？例如：鄂托克前旗人民医院"},
			{Key: "admitted", Label: "入院", Prompt: "哪天入院的？例如：2026-11-03 或 11月3日", Show: ShowDate,
				Check: CheckDate(DateRule{NotFuture: true})},
			{Key: "discharged", Label: "出院", Prompt: "哪天出院的？", Show: ShowDate,
				Check: CheckDate(DateRule{NotFuture: true, NotBefore: "admitted", NotBeforeLabel: "入院日期"})},
			{Key: "total", Label: "总费用", Prompt: "医疗总费用是多少元？", Show: ShowMoney, Check: CheckMoney(MoneyRule{Positive: true})},
			{Key: "own", Label: "自付费用", Prompt: "其中个人自付多少元？", Show: ShowMoney,
				Check: CheckMoney(MoneyRule{NotAbove: "total", NotAboveLabel: "总费用"})},
			{Key: "invoices", Label: "发票", Prompt: "请拍照发送住院发票。", Photos: true},
			{Key: "accident", Label: "事故证明", Prompt: "请拍照发送事故证明。", Photos: true, MaxPhotos: 2,
				When: func(d map[string]string) bool { return d["plan"] == "意外伤害" }},
			{Key: "note", Label: "备注", Prompt: "还有要说明的吗？", Optional: true},
		},
		SummaryNote: func(ctx context.Context, s *Session, d map[string]string) string {
			return "预计补助约 " + ShowMoney(fmt.Sprint(Fen(d["own"])*3/10)) + "（以审核结果为准）。"
		},
		Submit: func(ctx context.Context, s *Session, d map[string]string) (Reply, error) {
			cr.mu.Lock()
			defer cr.mu.Unlock()
			cr.done = append(cr.done, d)
			return Text("已提交，申请编号 HZ20261124-0007。"), nil
		},
	}, "互助金")
	r.Form(&Form{
		Name: "short", Title: "登记",
		Steps: []Step{{Key: "a", Label: "A", Prompt: "请输入A"}, {Key: "b", Label: "B", Prompt: "请输入B"}},
		Submit: func(ctx context.Context, s *Session, d map[string]string) (Reply, error) {
			return Text("登记完成"), nil
		},
	}, "登记")
	r.UseForms(FormOptions{
		Drafts: db,
		Photos: &MediaPhotos{Fetch: cr.fetch, Save: db, Now: cr.clock},
	})
	cr.router = r
	cr.bot = cr.newBot(kv.NewMemory())
	return cr
}

func (cr *claimRig) newBot(store kv.Store) *Bot {
	cr.t.Cleanup(func() {
		if c, ok := store.(interface{ Close() }); ok {
			c.Close()
		}
	})
	return New(Deps{Store: store, Router: cr.router, Now: cr.clock})
}

func (cr *claimRig) clock() time.Time {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return cr.now
}

func (cr *claimRig) advance(d time.Duration) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	cr.now = cr.now.Add(d)
}

func (cr *claimRig) fetch(ctx context.Context, mediaID string) ([]byte, string, error) {
	b, ok := cr.media[mediaID]
	if !ok {
		return nil, "", errors.New("wechat download media: errcode=40007 errmsg=invalid media_id")
	}
	return b, "image/jpeg", nil
}

func (cr *claimRig) say(text string) string {
	cr.t.Helper()
	rep, err := cr.bot.Handle(cr.t.Context(), Input{OpenID: "oC", Kind: KindText, Text: text})
	if err != nil {
		cr.t.Fatalf("Handle(%q): %v", text, err)
	}
	return rep.Text
}

func (cr *claimRig) photo(mediaID string) string {
	cr.t.Helper()
	rep, err := cr.bot.Handle(cr.t.Context(), Input{OpenID: "oC", Kind: KindImage, MediaID: mediaID})
	if err != nil {
		cr.t.Fatalf("Handle(image %s): %v", mediaID, err)
	}
	return rep.Text
}

func mustNotContain(t *testing.T, got string, bads ...string) {
	t.Helper()
	for _, b := range bads {
		if strings.Contains(got, b) {
			t.Fatalf("reply %q contains %q", got, b)
		}
	}
}

// fillToPhotos answers the text steps up to the invoices.
func (cr *claimRig) fillToPhotos(plan string) {
	cr.t.Helper()
	cr.say("互助金")
	cr.say(plan)
	cr.say("旗医院")
	cr.say("11月13日")
	cr.say("11月20日")
	cr.say("5000")
	mustContain(cr.t, cr.say("1380"), "住院发票")
}

func TestClaimFormConversation(t *testing.T) {
	cr := newClaimRig(t, nil)
	mustContain(t, cr.say("互助金"), "申请需要填写", "（第1/8步）", "1. 住院", "4. 意外伤害")
	mustContain(t, cr.say("9"), "请回复 1 到 4 之间的序号", "第1/8步")
	mustContain(t, cr.say("1"), "（第2/8步）在哪家医院")
	// A question where any text would do is answered, then the step asked again.
	mustContain(t, cr.say("互助金多久能到账？"), "一般15个工作日", "继续办理「互助金申请」", "第2/8步")
	mustContain(t, cr.say("旗医院"), "（第3/8步）哪天入院")
	mustContain(t, cr.say("下周"), "日期格式不对", "第3/8步")
	mustContain(t, cr.say("2026-11-30"), "2026年11月30日还没到")
	mustContain(t, cr.say("11月13号"), "（第4/8步）哪天出院")
	mustContain(t, cr.say("11月10"), "不能早于入院日期（11月13日）", "哪天出院")
	mustContain(t, cr.say("11月20日"), "（第5/8步）医疗总费用")
	mustContain(t, cr.say("很多"), "金额格式不对", "医疗总费用")
	mustContain(t, cr.say("0"), "不能是0")
	mustContain(t, cr.say("五千元"), "（第6/8步）其中个人自付")
	mustContain(t, cr.say("6000"), "不能多于总费用（5,000.00 元）")
	mustContain(t, cr.say("1,380"), "（第7/8步）请拍照发送住院发票", "好了")
	// Photos, each stored as it arrives.
	mustContain(t, cr.say("好了"), "还没有收到照片")
	mustContain(t, cr.say("发票在这"), "这一步请发送照片")
	mustContain(t, cr.photo("IMG1"), "已收到第1张，继续发送或回复“好了”")
	mustContain(t, cr.photo("GONE"), "没有收到（可能已过期），请重新")
	mustContain(t, cr.photo("DOC"), "不是照片")
	mustContain(t, cr.photo("IMG2"), "已收到第2张")
	mustContain(t, cr.say("好了"), "（第8/8步）还有要说明的吗", "跳过")
	sum := cr.say("跳过")
	mustContain(t, sum, "请核对：", "1 保障项目：住院", "2 医院：旗医院", "3 入院：2026年11月13日", "4 出院：2026年11月20日",
		"5 总费用：5,000.00 元", "6 自付费用：1,380.00 元", "7 发票：2张", "8 备注：无", "预计补助约 414.00 元", "修改 3")
	mustNotContain(t, sum, "事故证明")
	// 修改 N changes one field and comes back to the summary.
	mustContain(t, cr.say("修改 9"), "没有这一项", "1 到 8")
	mustContain(t, cr.say("修改 2"), "（修改第2项）在哪家医院")
	got := cr.say("鄂托克前旗人民医院")
	mustContain(t, got, "已修改。\n请核对：", "2 医院：鄂托克前旗人民医院", "3 入院：2026年11月13日")
	// 返回 while changing a field goes back to the summary unchanged.
	mustContain(t, cr.say("修改第3项"), "（修改第3项）哪天入院")
	mustContain(t, cr.say("返回"), "请核对：", "3 入院：2026年11月13日")
	// A new plan asks the document it needs before the summary.
	mustContain(t, cr.say("改1"), "（修改第1项）请选择保障项目")
	mustContain(t, cr.say("4"), "请拍照发送事故证明")
	mustContain(t, cr.photo("IMG3"), "已收到第1张")
	mustContain(t, cr.photo("IMG1"), "已收到第2张，这一项最多2张，已收齐", "已修改", "1 保障项目：意外伤害", "8 事故证明：2张", "9 备注：无")
	mustContain(t, cr.say("确认"), "HZ20261124-0007")
	if len(cr.done) != 1 {
		t.Fatalf("submitted %d times", len(cr.done))
	}
	d := cr.done[0]
	if d["plan"] != "意外伤害" || d["hospital"] != "鄂托克前旗人民医院" || d["admitted"] != "2026-11-13" || d["total"] != "500000" || d["own"] != "138000" || d["note"] != "" {
		t.Fatalf("submitted %v", d)
	}
	refs := PhotoRefs(d["invoices"])
	if len(refs) != 2 || len(PhotoRefs(d["accident"])) != 2 {
		t.Fatalf("photo refs %v / %v", d["invoices"], d["accident"])
	}
	ids := storage.ParseMediaRefs(d["invoices"])
	m, err := cr.db.MediaByID(t.Context(), ids[1])
	if err != nil || m.ContentType != "image/png" || string(m.Data) != string(pngBytes) || m.OpenID != "oC" || m.ExpiresAt.IsZero() {
		t.Fatalf("stored photo: %+v %v", m.ContentType, err)
	}
	if _, _, _, ok, _ := cr.db.FormDraft(t.Context(), "oC", "claim"); ok {
		t.Fatal("draft kept after submit")
	}
	mustContain(t, cr.say("确认"), "FALLBACK")
}

func TestFormBackSkipsStepsThatDoNotApply(t *testing.T) {
	cr := newClaimRig(t, nil)
	cr.fillToPhotos("意外伤害")
	cr.photo("IMG1")
	mustContain(t, cr.say("好了"), "（第8/9步）请拍照发送事故证明")
	mustContain(t, cr.say("返回"), "（第7/9步）请拍照发送住院发票")
	mustContain(t, cr.say("返回"), "（第6/9步）其中个人自付")
	for range 5 {
		cr.say("返回")
	}
	mustContain(t, cr.say("返回"), "已经是第一步", "请选择保障项目")
	mustContain(t, cr.say("1"), "在哪家医院")

	// With 住院 the accident proof is skipped both ways.
	cr2 := newClaimRig(t, nil)
	cr2.fillToPhotos("住院")
	cr2.photo("IMG1")
	mustContain(t, cr2.say("好了"), "（第8/8步）还有要说明的吗")
	mustContain(t, cr2.say("返回"), "请拍照发送住院发票")
}

func TestPhotoStepLimitsAndRetake(t *testing.T) {
	cr := newClaimRig(t, nil)
	cr.fillToPhotos("住院")
	cr.photo("IMG1")
	mustContain(t, cr.say("重拍"), "已清空")
	mustContain(t, cr.say("好了"), "还没有收到照片")
	for i := 1; i <= 12; i++ {
		got := cr.photo("IMG1")
		if i < 12 {
			mustContain(t, got, fmt.Sprintf("已收到第%d张", i))
		} else {
			mustContain(t, got, "已收到第12张，这一项最多12张，已收齐", "还有要说明的吗")
		}
	}
	// In a text step a photo is kept, and the question asked again.
	mustContain(t, cr.photo("IMG2"), "这一步还不需要照片", "还有要说明的吗")
}

func TestStrayPhotoIsKeptAndOffered(t *testing.T) {
	cr := newClaimRig(t, nil)
	mustContain(t, cr.photo("IMG1"), "收到您的照片", "补充材料")
	mustContain(t, cr.photo("GONE"), "收到您的照片") // not kept, still answered
	cr.fillToPhotos("住院")
	got := cr.say("返回")
	mustContain(t, cr.say("1380"), "单独发来1张照片", "用刚才的照片")
	_ = got
	mustContain(t, cr.say("用刚才的照片"), "已放入1张照片", "继续发送")
	mustContain(t, cr.say("好了"), "还有要说明的吗")
}

func TestCancelAsksFirst(t *testing.T) {
	cr := newClaimRig(t, nil)
	cr.say("互助金")
	mustContain(t, cr.say("取消"), "已取消「互助金申请」") // nothing answered: at once
	cr.say("互助金")
	cr.say("1")
	mustContain(t, cr.say("取消"), "确定不办「互助金申请」了吗", "回复“是”放弃")
	mustContain(t, cr.say("否"), "好的，接着填", "在哪家医院")
	mustContain(t, cr.say("取消"), "确定不办")
	// Anything else is read as usual: here the answer of the step.
	mustContain(t, cr.say("旗医院"), "哪天入院")
	mustContain(t, cr.say("取消"), "确定不办")
	if _, _, _, ok, _ := cr.db.FormDraft(t.Context(), "oC", "claim"); !ok {
		t.Fatal("no draft while filling a durable form")
	}
	mustContain(t, cr.say("是的"), "已取消「互助金申请」")
	if _, _, _, ok, _ := cr.db.FormDraft(t.Context(), "oC", "claim"); ok {
		t.Fatal("draft kept after 取消")
	}
	mustContain(t, cr.say("旗医院"), "FALLBACK")

	// A short form with one answer is left without a question.
	cr.say("登记")
	cr.say("x")
	mustContain(t, cr.say("取消"), "已取消「登记」")
}

func TestEditOnlyAtTheSummary(t *testing.T) {
	cr := newClaimRig(t, nil)
	cr.say("互助金")
	cr.say("1")
	mustContain(t, cr.say("修改 1"), "填完后会给您看全部内容", "在哪家医院")
}

func TestIdleDurableFormOffersToContinue(t *testing.T) {
	cr := newClaimRig(t, nil)
	cr.say("互助金")
	cr.say("1")
	cr.say("旗医院")
	cr.advance(29 * time.Minute)
	mustContain(t, cr.say("11月13日"), "哪天出院") // not idle yet
	cr.advance(2 * time.Hour)
	mustContain(t, cr.say("你好"), "您有一份没填完的「互助金申请」（填到第4步）", "继续", "重新开始")
	mustContain(t, cr.say("随便"), "请回复“继续”或“重新开始”")
	mustContain(t, cr.say("菜单"), "MENU", "您有一份没填完的")
	mustContain(t, cr.say("继续"), "好的，接着填", "（第4/8步）哪天出院")
	mustContain(t, cr.say("11月20日"), "医疗总费用")

	cr.advance(31 * time.Minute)
	mustContain(t, cr.say("5000"), "您有一份没填完的")
	got := cr.say("重新开始")
	mustContain(t, got, "从头开始填", "（第1/8步）请选择保障项目")
	mustContain(t, cr.say("1"), "在哪家医院")

	cr.advance(31 * time.Minute)
	mustContain(t, cr.say("继续"), "好的，接着填", "在哪家医院") // 继续 right away
	cr.advance(31 * time.Minute)
	mustContain(t, cr.say("取消"), "已取消「互助金申请」")
	if _, _, _, ok, _ := cr.db.FormDraft(t.Context(), "oC", "claim"); ok {
		t.Fatal("draft kept after 取消")
	}
}

func TestDraftSurvivesLostKVStore(t *testing.T) {
	cr := newClaimRig(t, nil)
	cr.fillToPhotos("住院")
	cr.photo("IMG1")
	// The kv store restarts empty (and days pass).
	cr.bot = cr.newBot(kv.NewMemory())
	cr.advance(3 * 24 * time.Hour)
	mustContain(t, cr.say("你好"), "您有一份没填完的「互助金申请」（填到第7步）")
	mustContain(t, cr.say("继续"), "（第7/8步）请拍照发送住院发票", "已收到1张")
	cr.photo("IMG2")
	cr.say("好了")
	mustContain(t, cr.say("跳过"), "2 医院：旗医院", "7 发票：2张")
	mustContain(t, cr.say("确认"), "已提交")
	if d := cr.done[0]; d["own"] != "138000" || len(PhotoRefs(d["invoices"])) != 2 {
		t.Fatalf("submitted %v", d)
	}

	// Starting the form again while a draft waits offers it too.
	cr.fillToPhotos("住院")
	cr.say("登记") // another form: the claim draft stays
	mustContain(t, cr.say("互助金"), "您有一份没填完的「互助金申请」（填到第7步）")

	// A draft older than the keep period is not offered.
	cr.bot = cr.newBot(kv.NewMemory())
	cr.advance(8 * 24 * time.Hour)
	mustContain(t, cr.say("你好"), "FALLBACK")
	mustContain(t, cr.say("互助金"), "（第1/8步）")
}

func TestDraftReminderText(t *testing.T) {
	cr := newClaimRig(t, nil)
	got := cr.router.DraftReminder("claim", time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC))
	mustContain(t, got, "「互助金申请」", "12月2日过期", "回复“互助金”")
	if keep := cr.router.SessionKeep(&Session{Form: "claim"}); keep != DefaultDraftKeep {
		t.Fatalf("session keep %v", keep)
	}
	if keep := cr.router.SessionKeep(&Session{Form: "short"}); keep != 0 {
		t.Fatalf("session keep of a plain form %v", keep)
	}
}

func TestImageType(t *testing.T) {
	for ct, b := range map[string][]byte{
		"image/jpeg": jpegBytes, "image/png": pngBytes,
		"image/webp": []byte("RIFF\x00\x00\x00\x00WEBPVP8 "),
		"image/heic": []byte("\x00\x00\x00\x18ftypheic\x00\x00"),
		"":           []byte("GIF89a......"),
	} {
		if got := ImageType(b); got != ct {
			t.Errorf("ImageType(%q) = %q, want %q", b[:8], got, ct)
		}
	}
	if ImageType(nil) != "" || ImageType([]byte{0xff}) != "" {
		t.Error("short input")
	}
}
