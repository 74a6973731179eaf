package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"unionbot/admin/auth"
	"unionbot/faq"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func recordUnanswered(t *testing.T, db *storage.DB, q string, picked int64) int64 {
	t.Helper()
	id, err := db.RecordUnanswered(t.Context(), storage.UnansweredQuestion{Question: q, Normalized: faq.Normalize(q),
		Outcome: storage.OutcomeGuesses, Offered: []int64{27, 23}})
	if err != nil {
		t.Fatal(err)
	}
	if picked != 0 {
		if err := db.RecordUnansweredPick(t.Context(), id, picked); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// The console's knowledge pages: the unanswered list with picks per phrasing, attach and
// create from a group, the FAQ list with the try box, add, edit with the evaluation (a
// breaking edit flagged), retire; viewers read but may not change anything.
func TestFAQPages(t *testing.T) {
	e := newEnv(t, storagetest.Embedded(t), memStore(t))
	seedFAQs(t, e.db)
	e.officer("chief", []auth.Role{auth.RoleAdmin}, 0)
	e.officer("look", []auth.Role{auth.RoleViewer}, 0)
	night := recordUnanswered(t, e.db, "夜班补贴咋算的", 27)
	recordUnanswered(t, e.db, "夜班补贴咋算的", 0)
	recordUnanswered(t, e.db, "夜班补贴怎么算", 0)
	canteen := recordUnanswered(t, e.db, "食堂饭菜太咸了", 0)

	b := e.browser()
	b.mustLogin("chief")
	code, _, body := b.get("/admin/unanswered")
	if code != 200 || !strings.Contains(body, `id="group-`+itoa(night)+`"`) || !strings.Contains(body, "3 次") {
		t.Fatalf("unanswered page: %d %s", code, body)
	}
	if i, j := strings.Index(body, "夜班补贴咋算的"), strings.Index(body, "食堂饭菜太咸了"); i < 0 || j < i {
		t.Errorf("most frequent group not first")
	}
	if !strings.Contains(body, "×1") || !strings.Contains(body, `href="/admin/faqs/27"`) {
		t.Errorf("the member's pick is not shown")
	}
	// Nav shows both pages.
	if !strings.Contains(body, `href="/admin/faqs"`) || !strings.Contains(body, `href="/admin/unanswered"`) {
		t.Errorf("nav lacks the FAQ pages")
	}

	// Attach with no entry chosen: refused, nothing changes.
	if code, _, body := b.post("/admin/unanswered/"+itoa(night)+"/attach", url.Values{"faq_id": {""}}); code != 422 || !strings.Contains(body, "请选择") {
		t.Errorf("attach without entry: %d", code)
	}
	code, loc, _ := b.post("/admin/unanswered/"+itoa(night)+"/attach", url.Values{"faq_id": {"27"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/unanswered?") {
		t.Fatalf("attach: %d %s", code, loc)
	}
	_, _, body = b.get(loc)
	if strings.Contains(body, `id="group-`+itoa(night)+`"`) || !strings.Contains(body, "已把 3 条提问归入") || !strings.Contains(body, `id="faq-eval"`) {
		t.Errorf("after attach: %s", body)
	}

	// A new entry from the other group; a missing answer keeps the officer's input.
	code, _, body = b.post("/admin/unanswered/"+itoa(canteen)+"/faq", url.Values{"group": {itoa(canteen)}, "question": {"食堂意见找谁？"}})
	if code != 422 || !strings.Contains(body, "请填写答案") || !strings.Contains(body, `value="食堂意见找谁？"`) {
		t.Errorf("create without answer: %d", code)
	}
	code, loc, _ = b.post("/admin/unanswered/"+itoa(canteen)+"/faq", url.Values{"group": {itoa(canteen)},
		"question": {"食堂意见找谁？"}, "answer": {"找工会食堂监督小组。"}, "category": {"其他"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/faqs/") || !strings.Contains(loc, "eb=") {
		t.Fatalf("create from group: %d %s", code, loc)
	}
	_, _, body = b.get(loc)
	if !strings.Contains(body, "食堂饭菜太咸了") || !strings.Contains(body, `id="faq-eval"`) || !strings.Contains(body, "没有让匹配变差") {
		t.Errorf("new entry page: %s", body)
	}
	if _, _, body = b.get("/admin/unanswered"); !strings.Contains(body, "目前没有待处理的问题") {
		t.Errorf("unanswered not empty")
	}

	// Try a question: the top 3 with scores.
	_, _, body = b.get("/admin/faqs?try=" + url.QueryEscape("夜班补贴怎么算"))
	if !strings.Contains(body, `id="try-result"`) || strings.Count(body, `class="tag plain" title="匹配分数`) == 0 {
		t.Errorf("try box: %s", body)
	}

	// Add, then a breaking edit: flagged.
	code, loc, _ = b.post("/admin/faqs", url.Values{"question": {"工会有没有篮球场？"}, "answer": {"有，在职工之家。"}, "alternates": {"能打球吗\n篮球场在哪"}})
	if code != http.StatusSeeOther {
		t.Fatalf("add: %d", code)
	}
	if _, _, body = b.get(loc); !strings.Contains(body, "能打球吗\n篮球场在哪") {
		t.Errorf("alternates not kept one a line")
	}
	code, loc, _ = b.post("/admin/faqs/23", url.Values{"question": {"食堂几点开饭？"}, "answer": {"十一点半。"}})
	if code != http.StatusSeeOther {
		t.Fatalf("edit: %d", code)
	}
	if _, _, body = b.get(loc); !strings.Contains(body, "这次修改让匹配变差了") {
		t.Errorf("a breaking edit is not flagged: %s", body)
	}
	code, loc, _ = b.post("/admin/faqs/23/retire", nil)
	if _, _, body = b.get(loc); code != http.StatusSeeOther || !strings.Contains(body, "已停用") {
		t.Errorf("retire: %d", code)
	}

	// A viewer reads but has no forms and may not post.
	v := e.browser()
	v.mustLogin("look")
	if code, _, body := v.get("/admin/faqs/27"); code != 200 || strings.Contains(body, `id="save-faq"`) || !strings.Contains(body, "夜班补贴怎么算") {
		t.Errorf("viewer faq page: %d", code)
	}
	if code, _, _ := v.post("/admin/faqs/27/retire", nil); code != 403 {
		t.Errorf("viewer retire: %d", code)
	}
	if code, _, _ := v.post("/admin/faqs", url.Values{"question": {"x"}, "answer": {"y"}}); code != 403 {
		t.Errorf("viewer add: %d", code)
	}
}
