package admin

// The knowledge base for officers (issue 8): /api/v1/faqs (list, create, edit, retire) and
// /api/v1/unanswered (questions the FAQ could not answer directly, grouped by similarity,
// most frequent first; attach a group to an entry as paraphrases). Every write goes through
// a storage method that audits it in its transaction and raises the knowledge version, so
// every replica's matcher uses it within seconds.

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"unionbot/admin/auth"
	"unionbot/faq"
	"unionbot/storage"
	"unionbot/web"
)

// faqItem is one entry in the API.
type faqItem struct {
	ID          int64     `json:"id"`
	Question    string    `json:"question"`
	Alternates  []string  `json:"alternates"`
	Paraphrases []string  `json:"paraphrases"`
	Answer      string    `json:"answer"`
	Category    string    `json:"category"`
	Enabled     bool      `json:"enabled"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// faqBody is what POST and PUT take.
type faqBody struct {
	Question   string   `json:"question"`
	Alternates []string `json:"alternates"`
	Answer     string   `json:"answer"`
	Category   string   `json:"category"`
	Enabled    *bool    `json:"enabled"`
}

// evalFigures is the matcher's score on the built-in evaluation sets.
type evalFigures struct {
	Direct  float64 `json:"direct"`   // share answered directly and rightly
	Wrong   float64 `json:"wrong"`    // share answered directly and wrongly
	Top1    float64 `json:"top1"`     // share ranked first
	Answers int     `json:"answered"` // questions with an expected entry
}

// faqWriteResult is the answer of a write: the entry, and the evaluation before and after
// the change so an officer sees when an edit makes matching worse.
type faqWriteResult struct {
	FAQ        faqItem     `json:"faq"`
	EvalBefore evalFigures `json:"eval_before"`
	EvalAfter  evalFigures `json:"eval_after"`
	Worse      bool        `json:"worse"`
}

func figures(r faq.Report) evalFigures {
	return evalFigures{Direct: r.DirectRate(), Wrong: r.WrongRate(), Top1: r.Top1Accuracy(), Answers: r.Answerable}
}

// knowledgeIndex builds the matcher over the enabled entries and their paraphrases, as the
// chat does.
func (s *Server) knowledgeIndex(r *http.Request) (*faq.Index, []storage.FAQ, map[int64][]string, error) {
	all, err := s.db.FAQs(r.Context())
	if err != nil {
		return nil, nil, nil, err
	}
	ps, err := s.db.FAQParaphrases(r.Context())
	if err != nil {
		return nil, nil, nil, err
	}
	var entries []faq.Entry
	for _, f := range all {
		if f.Enabled {
			entries = append(entries, faq.Entry{ID: f.ID, Question: f.Question, Alternates: f.Alternates,
				Paraphrases: ps[f.ID], Answer: f.Answer, Category: f.Category})
		}
	}
	return faq.NewIndex(entries), all, ps, nil
}

func itemOf(f storage.FAQ, ps map[int64][]string) faqItem {
	it := faqItem{ID: f.ID, Question: f.Question, Alternates: f.Alternates, Paraphrases: ps[f.ID], Answer: f.Answer,
		Category: f.Category, Enabled: f.Enabled, UpdatedAt: f.UpdatedAt}
	if it.Alternates == nil {
		it.Alternates = []string{}
	}
	if it.Paraphrases == nil {
		it.Paraphrases = []string{}
	}
	return it
}

func (s *Server) apiListFAQs(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ReadFAQ, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	_, all, ps, err := s.knowledgeIndex(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]faqItem, 0, len(all))
	for _, f := range all {
		items = append(items, itemOf(f, ps))
	}
	web.JSON(w, http.StatusOK, map[string]any{"items": items, "next": ""})
}

// decodeFAQ reads an entry from a JSON request body.
func decodeFAQ(r *http.Request) (storage.FAQ, error) {
	var b faqBody
	if err := decodeBody(r, &b); err != nil {
		return storage.FAQ{}, err
	}
	return faqFromBody(b)
}

func faqFromBody(b faqBody) (storage.FAQ, error) {
	f := storage.FAQ{Question: strings.TrimSpace(b.Question), Answer: strings.TrimSpace(b.Answer),
		Category: strings.TrimSpace(b.Category), Enabled: b.Enabled == nil || *b.Enabled}
	for _, a := range b.Alternates {
		if a = strings.TrimSpace(a); a != "" {
			f.Alternates = append(f.Alternates, a)
		}
	}
	switch {
	case f.Question == "":
		return f, userErr(http.StatusUnprocessableEntity, "question_required", "请填写问题。")
	case f.Answer == "":
		return f, userErr(http.StatusUnprocessableEntity, "answer_required", "请填写答案。")
	case utf8.RuneCountInString(f.Question) > 200 || utf8.RuneCountInString(f.Answer) > 5000 || len(f.Alternates) > 50:
		return f, userErr(http.StatusUnprocessableEntity, "too_long", "问题不超过 200 字，答案不超过 5000 字，其他问法不超过 50 条。")
	}
	return f, nil
}

// saveFAQ creates (id 0) or replaces an entry and scores the built-in sets before and after.
func (s *Server) saveFAQ(r *http.Request, p auth.Principal, f storage.FAQ) (faqWriteResult, error) {
	before, _, _, err := s.knowledgeIndex(r)
	if err != nil {
		return faqWriteResult{}, err
	}
	id, err := s.db.SaveFAQ(r.Context(), f, s.auditFor(r, p))
	if err != nil {
		return faqWriteResult{}, err
	}
	return s.writeResult(r, before, id)
}

func (s *Server) writeResult(r *http.Request, before *faq.Index, id int64) (faqWriteResult, error) {
	after, all, ps, err := s.knowledgeIndex(r)
	if err != nil {
		return faqWriteResult{}, err
	}
	res := faqWriteResult{EvalBefore: figures(faq.EvaluateBuiltin(before)), EvalAfter: figures(faq.EvaluateBuiltin(after))}
	res.Worse = res.EvalAfter.Direct < res.EvalBefore.Direct-1e-9 || res.EvalAfter.Wrong > res.EvalBefore.Wrong+1e-9
	for _, f := range all {
		if f.ID == id {
			res.FAQ = itemOf(f, ps)
		}
	}
	return res, nil
}

func (s *Server) apiCreateFAQ(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageFAQ, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := decodeFAQ(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.saveFAQ(r, p, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusCreated, res)
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound
	}
	return id, nil
}

func (s *Server) apiUpdateFAQ(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageFAQ, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := decodeFAQ(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f.ID = id
	res, err := s.saveFAQ(r, p, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, res)
}

func (s *Server) apiRetireFAQ(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	_, res, err := s.retireFAQ(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, res)
}

// retireFAQ retires the entry the path names, for the API and the console
// alike: the evaluation before and after comes back with the result.
func (s *Server) retireFAQ(r *http.Request, p auth.Principal) (int64, faqWriteResult, error) {
	if err := auth.Authorize(p, auth.ManageFAQ, auth.NoRecord); err != nil {
		return 0, faqWriteResult{}, err
	}
	id, err := pathID(r)
	if err != nil {
		return 0, faqWriteResult{}, err
	}
	before, _, _, err := s.knowledgeIndex(r)
	if err != nil {
		return id, faqWriteResult{}, err
	}
	if err := s.db.RetireFAQ(r.Context(), id, s.auditFor(r, p)); err != nil {
		return id, faqWriteResult{}, err
	}
	res, err := s.writeResult(r, before, id)
	return id, res, err
}

// unansweredGroup is one group of similar unanswered questions.
type unansweredGroup struct {
	ID        int64            `json:"id"` // the id of its first question: attach by it
	Count     int              `json:"count"`
	Questions []string         `json:"questions"` // distinct texts, most frequent first
	IDs       []int64          `json:"question_ids"`
	LastAsked time.Time        `json:"last_asked_at"`
	Picks     []unansweredPick `json:"picks"`   // what members picked from the list
	Suggest   []faqGuess       `json:"suggest"` // the matcher's top 3 for the group's first text
}

type unansweredPick struct {
	FAQID    int64  `json:"faq_id"`
	Question string `json:"question"`
	Count    int    `json:"count"`
}

type faqGuess struct {
	FAQID    int64   `json:"faq_id"`
	Question string  `json:"question"`
	Score    float64 `json:"score"`
}

// unansweredGroups groups the pending questions of the last days days.
func (s *Server) unansweredGroups(r *http.Request, days int) ([]unansweredGroup, error) {
	qs, err := s.db.UnansweredQuestions(r.Context(), time.Now().Add(-time.Duration(days)*24*time.Hour), 5000)
	if err != nil {
		return nil, err
	}
	ix, _, _, err := s.knowledgeIndex(r)
	if err != nil {
		return nil, err
	}
	norm := make([]string, len(qs))
	for i, q := range qs {
		norm[i] = q.Normalized
		if norm[i] == "" {
			norm[i] = faq.Normalize(q.Question)
		}
	}
	var out []unansweredGroup
	for _, members := range faq.Group(norm) {
		g := unansweredGroup{ID: qs[members[0]].ID, Count: len(members)}
		texts := map[string]int{}
		picks := map[int64]int{}
		for _, i := range members {
			q := qs[i]
			g.IDs = append(g.IDs, q.ID)
			texts[q.Question]++
			if q.PickedFAQ != 0 {
				picks[q.PickedFAQ]++
			}
			if q.AskedAt.After(g.LastAsked) {
				g.LastAsked = q.AskedAt
			}
			if q.ID < g.ID {
				g.ID = q.ID
			}
		}
		for t := range texts {
			g.Questions = append(g.Questions, t)
		}
		sort.Slice(g.Questions, func(i, j int) bool {
			a, b := g.Questions[i], g.Questions[j]
			return texts[a] > texts[b] || texts[a] == texts[b] && a < b
		})
		for id, n := range picks {
			e, _ := ix.Entry(id)
			g.Picks = append(g.Picks, unansweredPick{FAQID: id, Question: e.Question, Count: n})
		}
		sort.Slice(g.Picks, func(i, j int) bool { return g.Picks[i].Count > g.Picks[j].Count })
		for _, res := range ix.Search(g.Questions[0], 3) {
			e, _ := ix.Entry(res.ID)
			g.Suggest = append(g.Suggest, faqGuess{FAQID: res.ID, Question: e.Question, Score: res.Score})
		}
		if g.Picks == nil {
			g.Picks = []unansweredPick{}
		}
		if g.Suggest == nil {
			g.Suggest = []faqGuess{}
		}
		out = append(out, g)
	}
	return out, nil
}

func (s *Server) apiUnanswered(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ReadFAQ, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	days := 90
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			s.fail(w, r, userErr(http.StatusBadRequest, "bad_days", "days 应为 1 到 3650 的整数。"))
			return
		}
		days = n
	}
	groups, err := s.unansweredGroups(r, days)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if groups == nil {
		groups = []unansweredGroup{}
	}
	web.JSON(w, http.StatusOK, map[string]any{"items": groups, "next": ""})
}

// groupOf returns the pending group containing question id (ErrNotFound-like 404 if none).
func (s *Server) groupOf(r *http.Request, id int64) (unansweredGroup, error) {
	groups, err := s.unansweredGroups(r, 3650)
	if err != nil {
		return unansweredGroup{}, err
	}
	for _, g := range groups {
		for _, q := range g.IDs {
			if q == id {
				return g, nil
			}
		}
	}
	return unansweredGroup{}, userErr(http.StatusNotFound, "not_found", "没有这个待处理的问题（可能已被处理）。")
}

func (s *Server) apiAttachUnanswered(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageFAQ, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b struct {
		FAQID int64 `json:"faq_id"`
	}
	if err := decodeBody(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	if b.FAQID <= 0 {
		s.fail(w, r, userErr(http.StatusUnprocessableEntity, "faq_required", "请选择要归入的常见问题。"))
		return
	}
	g, err := s.groupOf(r, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	before, _, _, err := s.knowledgeIndex(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	added, err := s.db.AttachParaphrases(r.Context(), b.FAQID, g.IDs, s.auditFor(r, p))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.writeResult(r, before, b.FAQID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, map[string]any{"attached": len(g.IDs), "paraphrases_added": added,
		"faq": res.FAQ, "eval_before": res.EvalBefore, "eval_after": res.EvalAfter, "worse": res.Worse})
}
