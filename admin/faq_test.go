package admin_test

import (
	"strconv"
	"testing"

	"unionbot/admin/auth"
	"unionbot/faq"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// faqRoutes are covered here (and counted by TestAuthorizationMatrix).
var faqRoutes = []string{
	"GET /api/v1/faqs", "POST /api/v1/faqs", "PUT /api/v1/faqs/{id}", "DELETE /api/v1/faqs/{id}",
	"GET /api/v1/unanswered", "POST /api/v1/unanswered/{id}/attach", "POST /api/v1/unanswered/{id}/faq",
}

func seedFAQs(t *testing.T, db *storage.DB) {
	t.Helper()
	seed, err := faq.Seed()
	if err != nil {
		t.Fatal(err)
	}
	var rows []storage.FAQ
	for _, e := range seed {
		rows = append(rows, storage.FAQ{ID: e.ID, Question: e.Question, Alternates: e.Alternates, Answer: e.Answer, Category: e.Category, Enabled: true})
	}
	if _, err := db.SeedFAQs(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
}

// An officer's edit that breaks matching is flagged by the score; unanswered questions
// are listed grouped, attached by one call, and leave the list; roles are enforced.
func TestFAQAPI(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, memStore(t))
		seedFAQs(t, db)
		admin := e.token("faq-admin", []auth.Role{auth.RoleAdmin}, 0)
		viewer := e.token("faq-viewer", []auth.Role{auth.RoleViewer}, 0)
		unitPub := e.token("faq-unit", []auth.Role{auth.RolePublisher}, e.unitA.ID)

		st, body := e.api("GET", "/api/v1/faqs", viewer, nil)
		if items, _ := body["items"].([]any); st != 200 || len(items) != 55 {
			t.Fatalf("list: %d %v", st, len(items))
		}
		if st, _ := e.api("POST", "/api/v1/faqs", viewer, map[string]any{"question": "q", "answer": "a"}); st != 403 {
			t.Errorf("viewer create: %d", st)
		}
		if st, _ := e.api("POST", "/api/v1/faqs", unitPub, map[string]any{"question": "q", "answer": "a"}); st != 403 {
			t.Errorf("unit publisher create: %d", st)
		}
		if st, _ := e.api("POST", "/api/v1/faqs", admin, map[string]any{"question": " ", "answer": "a"}); st != 422 {
			t.Errorf("empty question: %d", st)
		}

		// A harmless new entry: not worse.
		st, body = e.api("POST", "/api/v1/faqs", admin, map[string]any{"question": "工会有没有篮球场？", "answer": "有，在职工之家。", "category": "活动"})
		if st != 201 || body["worse"] != false {
			t.Errorf("create: %d %v", st, body)
		}
		// Rewriting the wage-arrears entry (23) into something else breaks matching: flagged.
		st, body = e.api("PUT", "/api/v1/faqs/23", admin, map[string]any{"question": "食堂几点开饭？", "answer": "十一点半。", "category": "其他"})
		if st != 200 || body["worse"] != true {
			t.Errorf("breaking edit: %d worse=%v", st, body["worse"])
		}
		before, _ := body["eval_before"].(map[string]any)
		after, _ := body["eval_after"].(map[string]any)
		if before["direct"].(float64) <= after["direct"].(float64) {
			t.Errorf("direct %v → %v, want lower", before["direct"], after["direct"])
		}
		if st, _ := e.api("DELETE", "/api/v1/faqs/999", admin, nil); st != 404 {
			t.Errorf("retire missing: %d", st)
		}
		if st, body = e.api("DELETE", "/api/v1/faqs/23", admin, nil); st != 200 {
			t.Errorf("retire: %d %v", st, body)
		}

		// Unanswered: two phrasings of one question and one other, grouped.
		var ids []int64
		for _, q := range []string{"夜班补贴咋算的", "夜班补贴咋算的", "夜班补贴怎么算", "食堂饭菜太咸了"} {
			id, err := db.RecordUnanswered(t.Context(), storage.UnansweredQuestion{Question: q, Normalized: faq.Normalize(q), Outcome: storage.OutcomeNone})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		st, body = e.api("GET", "/api/v1/unanswered", viewer, nil)
		items, _ := body["items"].([]any)
		if st != 200 || len(items) != 2 {
			t.Fatalf("unanswered: %d %v", st, body)
		}
		first := items[0].(map[string]any)
		if first["count"].(float64) != 3 {
			t.Errorf("first group %v, want the 3 夜班补贴 questions", first)
		}
		if st, _ := e.api("POST", "/api/v1/unanswered/1/attach", viewer, map[string]any{"faq_id": 27}); st != 403 {
			t.Errorf("viewer attach: %d", st)
		}
		st, body = e.api("POST", "/api/v1/unanswered/"+fmtInt(ids[1])+"/attach", admin, map[string]any{"faq_id": 27})
		if st != 200 || body["attached"].(float64) != 3 || body["paraphrases_added"].(float64) != 2 {
			t.Errorf("attach: %d %v", st, body)
		}
		if st, _ := e.api("POST", "/api/v1/unanswered/"+fmtInt(ids[1])+"/attach", admin, map[string]any{"faq_id": 27}); st != 404 {
			t.Errorf("attach again: %d", st)
		}
		st, body = e.api("GET", "/api/v1/unanswered", viewer, nil)
		if items, _ := body["items"].([]any); st != 200 || len(items) != 1 {
			t.Errorf("after attach: %d %v", st, body)
		}
		ps, _ := db.FAQParaphrases(t.Context())
		if len(ps[27]) != 2 {
			t.Errorf("paraphrases of 27: %v", ps[27])
		}

		// The other group becomes a new entry in one call.
		newEntry := map[string]any{"question": "食堂的饭菜可以提意见吗？", "answer": "可以，找工会食堂监督小组。", "category": "其他"}
		if st, _ := e.api("POST", "/api/v1/unanswered/"+fmtInt(ids[3])+"/faq", viewer, newEntry); st != 403 {
			t.Errorf("viewer create from unanswered: %d", st)
		}
		if st, _ := e.api("POST", "/api/v1/unanswered/"+fmtInt(ids[3])+"/faq", admin, map[string]any{"question": "", "answer": "a"}); st != 422 {
			t.Errorf("create from unanswered without a question: %d", st)
		}
		st, body = e.api("POST", "/api/v1/unanswered/"+fmtInt(ids[3])+"/faq", admin, newEntry)
		f, _ := body["faq"].(map[string]any)
		if st != 201 || body["attached"].(float64) != 1 || f["question"] != "食堂的饭菜可以提意见吗？" {
			t.Fatalf("create from unanswered: %d %v", st, body)
		}
		if p, _ := f["paraphrases"].([]any); len(p) != 1 || p[0] != "食堂饭菜太咸了" {
			t.Errorf("new entry's paraphrases: %v", f["paraphrases"])
		}
		if st, _ := e.api("POST", "/api/v1/unanswered/"+fmtInt(ids[3])+"/faq", admin, newEntry); st != 404 {
			t.Errorf("create from a handled question: %d", st)
		}
		st, body = e.api("GET", "/api/v1/unanswered", viewer, nil)
		if items, _ := body["items"].([]any); st != 200 || len(items) != 0 {
			t.Errorf("after create: %d %v", st, body)
		}
	})
}

func fmtInt(n int64) string { return strconv.FormatInt(n, 10) }
