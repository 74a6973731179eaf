package handlers_test

import (
	"strings"
	"testing"
	"time"

	"unionbot/faq"
	"unionbot/storage"
	"unionbot/storage/storagetest"
)

// A question answered with a list of guesses is kept masked with the member's pick; an
// officer attaches it to the entry on one replica's database, and another replica (its
// own handler instance and cache, the same database) then answers it directly, without a
// restart, within the version check interval.
func TestUnansweredAttachAnswersOnAnotherReplica(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		a := newFixture(t, db, memoryKV(t))
		a.seedFAQs()
		b := newFixture(t, db, memoryKV(t))
		ix := defaultIndex(t)
		q, res := findLevel(t, ix, faq.Middling, 2,
			"工资", "会费", "受伤", "合同", "困难", "报销", "卡", "活动", "退休", "经费", "保障", "工伤", "法律")
		asked := q
		// replica B builds its index now, before the attach
		mustContain(t, b.say("oid-b", asked), "您是想问：")

		got := a.say("oid-a", asked)
		mustContain(t, got, "您是想问：")
		mustContain(t, a.say("oid-a", "2"), mustEntry(t, ix, res[1].ID).Answer)

		pending, err := db.UnansweredQuestions(t.Context(), time.Time{}, 0)
		if err != nil || len(pending) != 2 {
			t.Fatalf("pending %+v, %v; want both replicas' questions", pending, err)
		}
		picked := 0
		for _, p := range pending {
			if strings.Contains(p.Question, "13812345678") || strings.Contains(p.Normalized, "13812345678") {
				t.Errorf("phone kept: %q", p.Question)
			}
			if p.Outcome != storage.OutcomeGuesses || len(p.Offered) < 2 {
				t.Errorf("stored %+v", p)
			}
			if p.PickedFAQ != 0 {
				picked = int(p.PickedFAQ)
			}
		}
		if picked != int(res[1].ID) {
			t.Errorf("pick %d, want %d", picked, res[1].ID)
		}
		want := res[1].ID
		if _, err := db.AttachParaphrases(t.Context(), want, []int64{pending[0].ID, pending[1].ID},
			storage.AuditEntry{Actor: "officer:test"}); err != nil {
			t.Fatal(err)
		}
		b.clock.Add(3 * time.Second) // past the version check, far within the full refresh
		got = b.say("oid-b2", asked)
		mustContain(t, got, mustEntry(t, ix, want).Answer)
		mustNotContain(t, got, "您是想问：")

		// nothing matched: kept as "none", masked
		b.say("oid-b3", "给我唱首歌吧 我电话13812345678")
		pending, _ = db.UnansweredQuestions(t.Context(), time.Time{}, 0)
		if len(pending) != 1 || pending[0].Outcome != storage.OutcomeNone || strings.Contains(pending[0].Question, "13812345678") {
			t.Errorf("after a no-answer question: %+v", pending)
		}
	})
}
