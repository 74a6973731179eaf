package admin

// The knowledge-base pages of the console (issue 8): 未答问题 (unanswered questions grouped
// by similarity, most frequent first, with what members picked for each phrasing; attach a
// group to an entry or make a new entry of it) and 常见问题 (list, add, edit, retire, a
// "try a question" box, and the built-in evaluation before and after every change). They
// use the same storage calls and the same evaluation as /api/v1/faqs and /api/v1/unanswered.

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"unionbot/admin/auth"
	"unionbot/faq"
	"unionbot/storage"
	"unionbot/web"
)

// createFromUnanswered makes entry f with the whole group of unanswered question id as its
// first paraphrases, and scores the built-in sets before and after.
func (s *Server) createFromUnanswered(r *http.Request, p auth.Principal, id int64, f storage.FAQ) (faqWriteResult, int, error) {
	g, err := s.groupOf(r, id)
	if err != nil {
		return faqWriteResult{}, 0, err
	}
	before, _, _, err := s.knowledgeIndex(r)
	if err != nil {
		return faqWriteResult{}, 0, err
	}
	newID, err := s.db.CreateFAQFromUnanswered(r.Context(), f, g.IDs, s.auditFor(r, p))
	if err != nil {
		return faqWriteResult{}, 0, err
	}
	res, err := s.writeResult(r, before, newID)
	return res, len(g.IDs), err
}

// apiCreateFromUnanswered: POST /api/v1/unanswered/{id}/faq.
func (s *Server) apiCreateFromUnanswered(w http.ResponseWriter, r *http.Request, p auth.Principal) {
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
	res, n, err := s.createFromUnanswered(r, p, id, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusCreated, map[string]any{"attached": n, "faq": res.FAQ,
		"eval_before": res.EvalBefore, "eval_after": res.EvalAfter, "worse": res.Worse})
}

// ---- pages ----

// evalView is the evaluation shown after a change: before, after, and whether it is worse.
type evalView struct {
	Before, After evalFigures
	Worse         bool
	Hint          string // what to check when worse; the default suits an edit
}

// evalQuery carries a write's evaluation to the page the officer is redirected to (the
// figures are not secret; a forged link only misleads the one who forges it).
func evalQuery(res faqWriteResult) string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }
	v := url.Values{}
	v.Set("eb", f(res.EvalBefore.Direct)+","+f(res.EvalBefore.Wrong)+","+f(res.EvalBefore.Top1))
	v.Set("ea", f(res.EvalAfter.Direct)+","+f(res.EvalAfter.Wrong)+","+f(res.EvalAfter.Top1))
	return v.Encode()
}

func parseEval(q url.Values) *evalView {
	parse := func(s string) (evalFigures, bool) {
		parts := strings.Split(s, ",")
		if len(parts) != 3 {
			return evalFigures{}, false
		}
		var x [3]float64
		for i, p := range parts {
			v, err := strconv.ParseFloat(p, 64)
			if err != nil || v < 0 || v > 1 {
				return evalFigures{}, false
			}
			x[i] = v
		}
		return evalFigures{Direct: x[0], Wrong: x[1], Top1: x[2]}, true
	}
	b, ok1 := parse(q.Get("eb"))
	a, ok2 := parse(q.Get("ea"))
	if !ok1 || !ok2 {
		return nil
	}
	return &evalView{Before: b, After: a,
		Worse: a.Direct < b.Direct-1e-9 || a.Wrong > b.Wrong+1e-9}
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", x*100) }

// DirectPct, WrongPct and Top1Pct are the figures as the pages show them.
func (e evalFigures) DirectPct() string { return pct(e.Direct) }
func (e evalFigures) WrongPct() string  { return pct(e.Wrong) }
func (e evalFigures) Top1Pct() string   { return pct(e.Top1) }

// ScoreText is a match's score with two decimals.
func (m tryMatch) ScoreText() string { return strconv.FormatFloat(m.Score, 'f', 2, 64) }

// ScoreText is a suggestion's score with two decimals.
func (g faqGuess) ScoreText() string { return strconv.FormatFloat(g.Score, 'f', 2, 64) }

// tryMatch is one of the top 3 matches of the "try a question" box.
type tryMatch struct {
	ID       int64
	Question string
	Score    float64
}

type faqListPage struct {
	Items   []faqItem
	Enabled int
	Manage  bool
	Try     string
	Tried   bool
	Level   string // what the chat would do: 直接回答 / 给出选项 / 无法回答
	Matches []tryMatch
	Eval    *evalView
	Current evalFigures
	Fields  faqFields
}

func levelLabel(l faq.Level) string {
	switch l {
	case faq.Confident:
		return "会直接回答第 1 条"
	case faq.Middling:
		return "会列出这几条让会员选"
	default:
		return "找不到相关问题（会提示转人工）"
	}
}

func (s *Server) faqListData(r *http.Request, p auth.Principal) (*faqListPage, error) {
	if err := auth.Authorize(p, auth.ReadFAQ, auth.NoRecord); err != nil {
		return nil, err
	}
	ix, all, ps, err := s.knowledgeIndex(r)
	if err != nil {
		return nil, err
	}
	d := &faqListPage{Manage: auth.Can(p, auth.ManageFAQ), Eval: parseEval(r.URL.Query()),
		Current: figures(faq.EvaluateBuiltin(ix))}
	for _, f := range all {
		d.Items = append(d.Items, itemOf(f, ps))
		if f.Enabled {
			d.Enabled++
		}
	}
	cs := categories(all)
	sort.Strings(cs)
	d.Fields = fieldsFor(r, "", faqFields{Prefix: "new-", Categories: cs})
	// Retired entries last, then by id.
	sort.SliceStable(d.Items, func(i, j int) bool { return d.Items[i].Enabled && !d.Items[j].Enabled })
	if q := strings.TrimSpace(r.URL.Query().Get("try")); q != "" {
		d.Try, d.Tried = q, true
		level, top := ix.Match(q)
		d.Level = levelLabel(level)
		for _, m := range top {
			e, _ := ix.Entry(m.ID)
			d.Matches = append(d.Matches, tryMatch{ID: m.ID, Question: e.Question, Score: m.Score})
		}
	}
	return d, nil
}

func (s *Server) handleFAQs(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	d, err := s.faqListData(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "faqs", &pageData{Title: "常见问题", Data: d})
}

// faqFromForm reads the entry form: other phrasings one a line.
func faqFromForm(r *http.Request) (storage.FAQ, error) {
	b := faqBody{Question: r.PostFormValue("question"), Answer: r.PostFormValue("answer"),
		Category: r.PostFormValue("category"), Alternates: strings.Split(r.PostFormValue("alternates"), "\n")}
	return faqFromBody(b)
}

// formFailure renders page again with the officer's input and the message of a user error,
// or fails the request for anything else.
func (s *Server) formFailure(w http.ResponseWriter, r *http.Request, err error, page, title string, data any) {
	he := classify(err)
	if he == nil || he.status >= 500 {
		s.fail(w, r, err)
		return
	}
	s.renderStatus(w, r, he.status, page, &pageData{Title: title, Error: he.msg, Data: data})
}

func (s *Server) handleCreateFAQ(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageFAQ, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := faqFromForm(r)
	if err == nil {
		var res faqWriteResult
		if res, err = s.saveFAQ(r, p, f); err == nil {
			s.flashRedirect(w, r, "已新增常见问题“"+res.FAQ.Question+"”。", fmt.Sprintf("/admin/faqs/%d?%s", res.FAQ.ID, evalQuery(res)))
			return
		}
	}
	d, derr := s.faqListData(r, p)
	if derr != nil {
		s.fail(w, r, derr)
		return
	}
	s.formFailure(w, r, err, "faqs", "常见问题", d)
}

// categories lists the entries' categories, for the form's suggestions.
func categories(all []storage.FAQ) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range all {
		if f.Category != "" && !seen[f.Category] {
			seen[f.Category] = true
			out = append(out, f.Category)
		}
	}
	sort.Strings(out)
	return out
}

type faqEditPage struct {
	Item    faqItem
	Fields  faqFields
	Manage  bool
	Eval    *evalView
	Current evalFigures
}

func (s *Server) faqEditData(r *http.Request, p auth.Principal) (*faqEditPage, error) {
	if err := auth.Authorize(p, auth.ReadFAQ, auth.NoRecord); err != nil {
		return nil, err
	}
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	ix, all, ps, err := s.knowledgeIndex(r)
	if err != nil {
		return nil, err
	}
	for _, f := range all {
		if f.ID == id {
			it := itemOf(f, ps)
			fields := fieldsFor(r, "", faqFields{Question: it.Question, Alternates: strings.Join(it.Alternates, "\n"),
				Answer: it.Answer, Category: it.Category, Categories: categories(all)})
			return &faqEditPage{Item: it, Fields: fields, Manage: auth.Can(p, auth.ManageFAQ),
				Eval: parseEval(r.URL.Query()), Current: figures(faq.EvaluateBuiltin(ix))}, nil
		}
	}
	return nil, errNotFound
}

func (s *Server) handleFAQ(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	d, err := s.faqEditData(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "faq", &pageData{Title: "常见问题 · " + d.Item.Question, Data: d})
}

func (s *Server) handleUpdateFAQ(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageFAQ, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.faqEditData(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := faqFromForm(r)
	if err == nil {
		f.ID = d.Item.ID
		f.Enabled = d.Item.Enabled || r.PostFormValue("enable") == "1"
		var res faqWriteResult
		if res, err = s.saveFAQ(r, p, f); err == nil {
			msg := "已保存。"
			if f.Enabled && !d.Item.Enabled {
				msg = "已保存并重新启用。"
			}
			s.flashRedirect(w, r, msg, fmt.Sprintf("/admin/faqs/%d?%s", f.ID, evalQuery(res)))
			return
		}
	}
	s.formFailure(w, r, err, "faq", "常见问题", d)
}

func (s *Server) handleRetireFAQ(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	id, res, err := s.retireFAQ(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, "已停用，机器人不再用这条回答。", fmt.Sprintf("/admin/faqs/%d?%s", id, evalQuery(res)))
}

// phrasingView is one distinct phrasing of a group: how often it was asked and what
// members picked from the list after asking it.
type phrasingView struct {
	Text  string
	Count int
	Picks []unansweredPick
}

// preselectScore is the matcher's score from which its first suggestion is preselected in a
// group's attach form; below it the officer chooses (a one-click attach must not default to
// an unrelated entry).
const preselectScore = 0.35

type groupView struct {
	unansweredGroup
	Fields    faqFields // the new-entry form
	Phrasings []phrasingView
	Best      int64 // preselected entry: the most picked, else the matcher's first
}

type unansweredPage struct {
	Groups    []groupView
	Questions int
	Entries   []faqItem // enabled entries to attach to
	Manage    bool
	Days      int
	Eval      *evalView // after an attach
}

func (s *Server) handleUnanswered(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	d, err := s.unansweredData(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "unanswered", &pageData{Title: "未答问题", Data: d})
}

func (s *Server) unansweredData(r *http.Request, p auth.Principal) (*unansweredPage, error) {
	if err := auth.Authorize(p, auth.ReadFAQ, auth.NoRecord); err != nil {
		return nil, err
	}
	d := &unansweredPage{Manage: auth.Can(p, auth.ManageFAQ), Days: 90, Eval: parseEval(r.URL.Query())}
	if d.Eval != nil {
		d.Eval.Hint = "刚归入的问法可能和别的常见问题相近，请在“常见问题”页用“试一试”核对几种问法是否答对。"
	}
	if v := r.URL.Query().Get("days"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= 3650 {
			d.Days = n
		}
	}
	groups, err := s.unansweredGroups(r, d.Days)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, g := range groups {
		ids = append(ids, g.IDs...)
	}
	qs, err := s.db.UnansweredByIDs(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	byID := map[int64]storage.UnansweredQuestion{}
	for _, q := range qs {
		byID[q.ID] = q
	}
	_, all, ps, err := s.knowledgeIndex(r)
	if err != nil {
		return nil, err
	}
	cs := categories(all)
	names := map[int64]string{}
	for _, f := range all {
		names[f.ID] = f.Question
		if f.Enabled {
			d.Entries = append(d.Entries, itemOf(f, ps))
		}
	}
	for _, g := range groups {
		gid := strconv.FormatInt(g.ID, 10)
		gv := groupView{unansweredGroup: g, Fields: fieldsFor(r, gid,
			faqFields{Prefix: "g" + gid + "-", Question: g.Questions[0], Categories: cs})}
		d.Questions += g.Count
		count := map[string]int{}
		picks := map[string]map[int64]int{}
		for _, id := range g.IDs {
			q := byID[id]
			count[q.Question]++
			if q.PickedFAQ != 0 {
				if picks[q.Question] == nil {
					picks[q.Question] = map[int64]int{}
				}
				picks[q.Question][q.PickedFAQ]++
			}
		}
		for _, t := range g.Questions {
			pv := phrasingView{Text: t, Count: count[t]}
			for id, n := range picks[t] {
				pv.Picks = append(pv.Picks, unansweredPick{FAQID: id, Question: names[id], Count: n})
			}
			sort.Slice(pv.Picks, func(i, j int) bool {
				return pv.Picks[i].Count > pv.Picks[j].Count || pv.Picks[i].Count == pv.Picks[j].Count && pv.Picks[i].FAQID < pv.Picks[j].FAQID
			})
			gv.Phrasings = append(gv.Phrasings, pv)
		}
		switch {
		case len(g.Picks) > 0:
			gv.Best = g.Picks[0].FAQID
		case len(g.Suggest) > 0 && g.Suggest[0].Score >= preselectScore:
			gv.Best = g.Suggest[0].FAQID
		}
		d.Groups = append(d.Groups, gv)
	}
	return d, nil
}

func (s *Server) handleAttachUnanswered(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageFAQ, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	faqID, _ := strconv.ParseInt(r.PostFormValue("faq_id"), 10, 64)
	fail := func(err error) {
		d, derr := s.unansweredData(r, p)
		if derr != nil {
			s.fail(w, r, derr)
			return
		}
		s.formFailure(w, r, err, "unanswered", "未答问题", d)
	}
	if faqID <= 0 {
		fail(userErr(http.StatusUnprocessableEntity, "faq_required", "请选择要归入的常见问题。"))
		return
	}
	g, err := s.groupOf(r, id)
	if err != nil {
		fail(err)
		return
	}
	before, _, _, err := s.knowledgeIndex(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	added, err := s.db.AttachParaphrases(r.Context(), faqID, g.IDs, s.auditFor(r, p))
	if err != nil {
		fail(err)
		return
	}
	res, err := s.writeResult(r, before, faqID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msg := fmt.Sprintf("已把 %d 条提问归入“%s”（新增 %d 种问法），机器人马上就能直接回答这些问法。",
		len(g.IDs), res.FAQ.Question, added)
	s.flashRedirect(w, r, msg, "/admin/unanswered?"+evalQuery(res))
}

func (s *Server) handleCreateFromUnanswered(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageFAQ, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := faqFromForm(r)
	if err == nil {
		var res faqWriteResult
		var n int
		if res, n, err = s.createFromUnanswered(r, p, id, f); err == nil {
			s.flashRedirect(w, r, fmt.Sprintf("已新建常见问题“%s”，并把这 %d 条提问作为它的问法。", res.FAQ.Question, n),
				fmt.Sprintf("/admin/faqs/%d?%s", res.FAQ.ID, evalQuery(res)))
			return
		}
	}
	d, derr := s.unansweredData(r, p)
	if derr != nil {
		s.fail(w, r, derr)
		return
	}
	s.formFailure(w, r, err, "unanswered", "未答问题", d)
}

// faqFields fills the entry form: what the officer posted if this form was the one posted
// (so a rejected form keeps its input), else the defaults.
type faqFields struct {
	Prefix                                 string // element ids of this form start with it
	Question, Alternates, Answer, Category string
	Categories                             []string
}

func fieldsFor(r *http.Request, group string, def faqFields) faqFields {
	if r.Method == http.MethodPost && r.PostFormValue("group") == group {
		def.Question, def.Alternates = r.PostFormValue("question"), r.PostFormValue("alternates")
		def.Answer, def.Category = r.PostFormValue("answer"), r.PostFormValue("category")
	}
	return def
}
