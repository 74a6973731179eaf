package admin

// The keyword auto-reply rules (关键词), what `unionbot keywords` does, from the console and
// the API: checked before the FAQ; replicas pick changes up within 30 seconds.

import (
	"net/http"
	"strconv"
	"strings"

	"unionbot/admin/auth"
	"unionbot/storage"
	"unionbot/web"
)

// keywordView is a rule in the API.
type keywordView struct {
	ID       int64  `json:"id"`
	Pattern  string `json:"pattern"`
	Match    string `json:"match"` // exact, contains, regex
	Reply    string `json:"reply"`
	Priority int    `json:"priority"`
	Enabled  bool   `json:"enabled"`
}

func viewKeyword(r storage.KeywordRule) keywordView {
	return keywordView{ID: r.ID, Pattern: r.Pattern, Match: r.Match, Reply: r.Reply, Priority: r.Priority, Enabled: r.Enabled}
}

// MatchLabel is the match kind in Chinese.
func (v keywordView) MatchLabel() string {
	switch v.Match {
	case storage.MatchExact:
		return "完全一致"
	case storage.MatchContains:
		return "包含"
	case storage.MatchRegex:
		return "正则表达式"
	}
	return v.Match
}

// keywordErr says in Chinese what is wrong with a rule.
func keywordErr(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "pattern is empty"):
		return userErr(http.StatusUnprocessableEntity, "invalid_pattern", "关键词不能为空。")
	case strings.Contains(msg, "pattern longer"):
		return userErr(http.StatusUnprocessableEntity, "invalid_pattern", "关键词不能超过500个字。")
	case strings.Contains(msg, "pattern:"):
		return userErr(http.StatusUnprocessableEntity, "invalid_pattern", "正则表达式写法有误，请检查。")
	case strings.Contains(msg, "reply is empty"):
		return userErr(http.StatusUnprocessableEntity, "invalid_reply", "回复内容不能为空。")
	case strings.Contains(msg, "reply longer"):
		return userErr(http.StatusUnprocessableEntity, "invalid_reply", "回复内容不能超过"+strconv.Itoa(storage.MaxKeywordReply)+"个字。")
	case strings.Contains(msg, "match kind"):
		return userErr(http.StatusUnprocessableEntity, "invalid_match", "匹配方式应为 exact（完全一致）、contains（包含）或 regex（正则）。")
	}
	return err
}

// API.

func (s *Server) apiListKeywords(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageKeywords, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	rules, err := s.db.KeywordRules(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := list[keywordView]{Items: make([]keywordView, len(rules))}
	for i, k := range rules {
		out.Items[i] = viewKeyword(k)
	}
	web.JSON(w, http.StatusOK, out)
}

// keywordBody is the body of POST and PUT; enabled defaults to true.
type keywordBody struct {
	Pattern  string `json:"pattern"`
	Match    string `json:"match"`
	Reply    string `json:"reply"`
	Priority int    `json:"priority"`
	Enabled  *bool  `json:"enabled"`
}

func (b keywordBody) rule(id int64) storage.KeywordRule {
	k := storage.KeywordRule{ID: id, Pattern: strings.TrimSpace(b.Pattern), Match: b.Match, Reply: strings.TrimSpace(b.Reply),
		Priority: b.Priority, Enabled: b.Enabled == nil || *b.Enabled}
	if k.Match == "" {
		k.Match = storage.MatchContains
	}
	return k
}

func (s *Server) apiCreateKeyword(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageKeywords, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	var b keywordBody
	if err := decodeBody(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	k, err := s.db.AddKeywordRule(r.Context(), b.rule(0), s.auditFor(r, p))
	if err != nil {
		s.fail(w, r, keywordErr(err))
		return
	}
	web.JSON(w, http.StatusCreated, viewKeyword(k))
}

func (s *Server) apiUpdateKeyword(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageKeywords, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b keywordBody
	if err := decodeBody(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	k, err := s.db.UpdateKeywordRule(r.Context(), b.rule(id), s.auditFor(r, p))
	if err != nil {
		s.fail(w, r, keywordErr(err))
		return
	}
	web.JSON(w, http.StatusOK, viewKeyword(k))
}

func (s *Server) apiDeleteKeyword(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageKeywords, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.db.RemoveKeywordRule(r.Context(), id, s.auditFor(r, p)); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Console.

type keywordsPage struct {
	Rules []keywordView
}

func (s *Server) renderKeywords(w http.ResponseWriter, r *http.Request, status int, errMsg string, form map[string]string) {
	rules, err := s.db.KeywordRules(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &keywordsPage{}
	for _, k := range rules {
		d.Rules = append(d.Rules, viewKeyword(k))
	}
	s.renderStatus(w, r, status, "keywords", &pageData{Title: "关键词回复", Error: errMsg, Form: form, Data: d})
}

func (s *Server) handleKeywords(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageKeywords, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderKeywords(w, r, http.StatusOK, "", nil)
}

func keywordForm(r *http.Request, id int64) (storage.KeywordRule, map[string]string) {
	prio, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue("priority")))
	enabled := r.PostFormValue("enabled") != ""
	b := keywordBody{Pattern: r.PostFormValue("pattern"), Match: r.PostFormValue("match"), Reply: r.PostFormValue("reply"),
		Priority: prio, Enabled: &enabled}
	form := map[string]string{"pattern": b.Pattern, "match": b.Match, "reply": b.Reply, "priority": r.PostFormValue("priority")}
	return b.rule(id), form
}

func (s *Server) keywordResult(w http.ResponseWriter, r *http.Request, err error, form map[string]string, ok string) {
	if he := classify(keywordErr(err)); he != nil && he.status == http.StatusUnprocessableEntity {
		s.renderKeywords(w, r, he.status, he.msg, form)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, ok, "/admin/keywords")
}

func (s *Server) handleCreateKeyword(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageKeywords, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	k, form := keywordForm(r, 0)
	if r.PostFormValue("enabled") == "" && r.PostFormValue("new") != "" {
		k.Enabled = true
	}
	_, err := s.db.AddKeywordRule(r.Context(), k, s.auditFor(r, p))
	s.keywordResult(w, r, err, form, "已新增关键词回复，30秒内生效。")
}

func (s *Server) handleUpdateKeyword(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageKeywords, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	k, form := keywordForm(r, id)
	_, err = s.db.UpdateKeywordRule(r.Context(), k, s.auditFor(r, p))
	s.keywordResult(w, r, err, form, "已保存，30秒内生效。")
}

func (s *Server) handleDeleteKeyword(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.ManageKeywords, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.db.RemoveKeywordRule(r.Context(), id, s.auditFor(r, p)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, "已删除该关键词回复。", "/admin/keywords")
}
