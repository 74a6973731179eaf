package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"unionbot/bot"
	"unionbot/faq"
	"unionbot/pii"
	"unionbot/storage"
)

const (
	msgAnswerTail  = "回复“菜单”查看更多服务。"
	msgDidYouMean  = "您是想问："
	msgPickChoice  = "回复序号查看答案；都不是的话，可以换个说法再问，或回复“人工”。"
	msgNoSuchFAQ   = "没有第%d条常见问题。请回复列表里问题前的数字，或直接输入您的问题。"
	msgChoiceRange = "请回复1到%d选择上面的问题；都不是的话，可以换个说法再问，或回复“人工”。"
	msgWhatNumber  = `您发的“%d”是指什么呢？
想看常见问题，请先回复“常见问题”，再回复问题前的数字；
也可以直接输入您的问题，或回复“菜单”查看全部服务。`
	msgNotKnown = `抱歉，这个问题我还不会回答。
您可以换个说法再问，
回复“菜单”查看可以办理的服务，
或回复“人工”联系工作人员。`
	msgGreeting    = "您好！我是工会服务助手，可以帮您绑定会员、查询互助保障、解答常见问题。\n请直接输入您的问题，或回复“菜单”查看全部服务。"
	msgThanks      = "不客气！还有其他问题随时发给我，回复“菜单”查看全部服务。"
	msgFAQListHead = "常见问题"
	msgFAQListTail = "回复问题前的数字查看答案，如“%d”；\n回复分类名称查看该类全部问题；\n也可以直接输入您的问题。"
	msgFAQEmpty    = "常见问题正在整理中。您可以直接输入问题，或回复“人工”联系工作人员。"
	msgCategory    = "「%s」类问题："
	msgCatTail     = "回复问题前的数字查看答案。"
)

// Notes for messages that are not text, outside a form.
var msgNonText = map[string]string{
	bot.KindImage:    "收到您的图片。目前我只能看懂文字消息；互助金线上申领开通后，可以在申领时直接发送发票照片。\n请用文字描述您的问题，或回复“菜单”查看服务。",
	bot.KindVoice:    "暂时听不清语音，请发送文字消息。\n回复“菜单”查看可以办理的服务。",
	bot.KindVideo:    "收到您的视频。目前我只能看懂文字消息，请用文字描述您的问题，或回复“菜单”查看服务。",
	bot.KindLocation: "收到您的位置。目前还不能按位置查询服务网点，请用文字描述您的问题，或回复“人工”联系工作人员。",
	bot.KindLink:     "收到您分享的链接。目前我只能看懂文字消息，请用文字描述您的问题，或回复“菜单”查看服务。",
}

const msgOtherKind = "目前我只能看懂文字消息，请用文字描述您的问题，或回复“菜单”查看服务。"

// popularCount is how many questions the FAQ list shows.
const popularCount = 6

// KnowledgeStore is what Knowledge uses.
type KnowledgeStore interface {
	FAQs(ctx context.Context) ([]storage.FAQ, error)
	SeedFAQs(ctx context.Context, faqs []storage.FAQ) (int, error)
	KeywordRules(ctx context.Context) ([]storage.KeywordRule, error)
}

// UnansweredStore is what Knowledge uses, when its store has it, to keep the
// questions it could not answer directly (未答问题) and to pick up officers'
// changes (attached paraphrases, edits) on every replica at once.
type UnansweredStore interface {
	RecordUnanswered(ctx context.Context, q storage.UnansweredQuestion) (int64, error)
	RecordUnansweredPick(ctx context.Context, id, faqID int64) error
	PurgeUnanswered(ctx context.Context, cutoff time.Time) (int64, error)
	FAQParaphrases(ctx context.Context) (map[int64][]string, error)
	FAQVersion(ctx context.Context) (int64, error)
}

// DefaultUnansweredRetention is how long unanswered questions are kept when
// UNIONBOT_UNANSWERED_RETENTION is not set.
const DefaultUnansweredRetention = 90 * 24 * time.Hour

// versionEvery is how often a replica asks the database for the knowledge
// version (one single-row read) between full reloads, so an officer's edit or
// attached paraphrase is used within seconds on every replica.
const versionEvery = 2 * time.Second

// varUnanswered is the session variable holding the id of the unanswered
// question whose guesses were just listed, to record the member's pick.
const varUnanswered = "faq_unanswered"

// Knowledge answers questions: officers' keyword rules, small talk, the FAQ
// (by match, by number from a list just shown, by category), and questions
// typed inside a form. It caches the compiled knowledge base.
type Knowledge struct {
	store   KnowledgeStore
	logger  *slog.Logger
	now     func() time.Time
	refresh time.Duration
	menu    bot.HandlerFunc // answers "菜单" when the fallback gets it
	// run starts another intent (a form a capability offered, offers.go).
	run    func(ctx context.Context, name string, s *bot.Session, in bot.Input) (bot.Reply, error)
	offers []formOffer

	kb        atomic.Pointer[knowledge]
	reloading sync.Mutex // one reload at a time; others keep using the old set

	// Retention is how long unanswered questions are kept (0: the default).
	Retention time.Duration
	lastPurge time.Time // guarded by reloading
}

// learning returns the store's unanswered-question side, if it has one.
func (s *Knowledge) learning() (UnansweredStore, bool) {
	u, ok := s.store.(UnansweredStore)
	return u, ok
}

func (s *Knowledge) register(r *bot.Router, menu bot.HandlerFunc) {
	s.menu, s.run = menu, r.Run
	intent(r, IntentFAQ, s.handleFAQList, "常见问题", "问题")
	r.Fallback(s.handleFallback)
	r.Interrupt(s.interrupt)
}

// knowledge is the compiled FAQ index and keyword rules, as loaded at one time.
type knowledge struct {
	loaded     time.Time
	checked    time.Time // when the version was last compared
	version    int64     // the knowledge version the index was built at
	index      *faq.Index
	rules      *faq.Rules
	entries    map[int64]faq.Entry
	ordered    []faq.Entry // enabled entries by id
	categories []string    // in order of first appearance
}

// SeedDefaults stores the default knowledge base (faq.Seed) in the database.
// The storage decides what "already seeded" means; the cached index is
// dropped so the next message sees the new entries.
func (s *Knowledge) SeedDefaults(ctx context.Context) error {
	entries, err := faq.Seed()
	if err != nil {
		return fmt.Errorf("seed faqs: %w", err)
	}
	rows := make([]storage.FAQ, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, storage.FAQ{
			ID:         e.ID,
			Question:   e.Question,
			Alternates: e.Alternates,
			Answer:     e.Answer,
			Category:   e.Category,
			Enabled:    true,
		})
	}
	n, err := s.store.SeedFAQs(ctx, rows)
	if err != nil {
		return fmt.Errorf("seed faqs: %w", err)
	}
	s.logger.InfoContext(ctx, "seed faqs", "inserted", n, "total", len(rows))
	s.kb.Store(nil)
	return nil
}

// knowledge returns the compiled knowledge base, reloading it when older
// than the refresh interval. While one caller reloads, others use the old
// set; when a reload fails the old set is kept and the error only logged.
func (s *Knowledge) knowledge(ctx context.Context) (*knowledge, error) {
	kb := s.kb.Load()
	if kb != nil && s.now().Sub(kb.loaded) < s.refresh {
		if s.now().Sub(kb.checked) < versionEvery {
			return kb, nil
		}
		return s.checkVersion(ctx, kb), nil
	}
	if kb != nil {
		if !s.reloading.TryLock() {
			return kb, nil
		}
	} else {
		s.reloading.Lock()
	}
	defer s.reloading.Unlock()
	if cur := s.kb.Load(); cur != nil && s.now().Sub(cur.loaded) < s.refresh {
		return cur, nil // reloaded while we waited
	}
	fresh, err := s.loadKnowledge(ctx)
	if err != nil {
		if kb != nil {
			s.logger.WarnContext(ctx, "reload faq, keeping the old set", "err", err)
			return kb, nil
		}
		return nil, err
	}
	s.kb.Store(fresh)
	return fresh, nil
}

// checkVersion compares the database's knowledge version with the one kb was
// built at and reloads when an officer changed something. One caller checks;
// the others keep answering from kb meanwhile.
func (s *Knowledge) checkVersion(ctx context.Context, kb *knowledge) *knowledge {
	u, ok := s.learning()
	if !ok || !s.reloading.TryLock() {
		return kb
	}
	defer s.reloading.Unlock()
	if cur := s.kb.Load(); cur != kb {
		return cur // replaced while we waited
	}
	v, err := u.FAQVersion(ctx)
	if err == nil && v == kb.version {
		fresh := *kb
		fresh.checked = s.now()
		s.kb.Store(&fresh)
		return &fresh
	}
	if err != nil {
		s.logger.WarnContext(ctx, "faq version", "err", err)
		fresh := *kb
		fresh.checked = s.now()
		s.kb.Store(&fresh)
		return &fresh
	}
	fresh, err := s.loadKnowledge(ctx)
	if err != nil {
		s.logger.WarnContext(ctx, "reload faq after an edit, keeping the old set", "err", err)
		return kb
	}
	s.kb.Store(fresh)
	return fresh
}

func (s *Knowledge) loadKnowledge(ctx context.Context) (*knowledge, error) {
	var version int64
	var paraphrases map[int64][]string
	if u, ok := s.learning(); ok {
		// The version first: a change after this read is seen at the next check.
		var err error
		if version, err = u.FAQVersion(ctx); err != nil {
			return nil, fmt.Errorf("load faq version: %w", err)
		}
		if paraphrases, err = u.FAQParaphrases(ctx); err != nil {
			return nil, fmt.Errorf("load faq paraphrases: %w", err)
		}
		s.purgeUnanswered(ctx, u)
	}
	faqs, err := s.store.FAQs(ctx)
	if err != nil {
		return nil, fmt.Errorf("load faqs: %w", err)
	}
	dbRules, err := s.store.KeywordRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("load keyword rules: %w", err)
	}
	kb := &knowledge{loaded: s.now(), checked: s.now(), version: version, entries: map[int64]faq.Entry{}}
	seen := map[string]bool{}
	for _, f := range faqs {
		if !f.Enabled {
			continue
		}
		e := faq.Entry{ID: f.ID, Question: f.Question, Alternates: f.Alternates, Paraphrases: paraphrases[f.ID],
			Answer: f.Answer, Category: f.Category}
		kb.entries[e.ID] = e
		kb.ordered = append(kb.ordered, e)
	}
	sort.Slice(kb.ordered, func(i, j int) bool { return kb.ordered[i].ID < kb.ordered[j].ID })
	for _, e := range kb.ordered {
		if e.Category != "" && !seen[e.Category] {
			seen[e.Category] = true
			kb.categories = append(kb.categories, e.Category)
		}
	}
	kb.index = faq.NewIndex(kb.ordered)

	rules := make([]faq.Rule, 0, len(dbRules))
	for _, r := range dbRules {
		if !r.Enabled {
			continue
		}
		rules = append(rules, faq.Rule{ID: r.ID, Pattern: r.Pattern, Match: r.Match, Reply: r.Reply, Priority: r.Priority})
	}
	compiled, errs := faq.CompileRules(rules)
	for _, e := range errs {
		s.logger.WarnContext(ctx, "skip keyword rule", "err", e)
	}
	kb.rules = compiled
	return kb, nil
}

// handleFallback answers everything no intent claimed: keyword rules, small
// talk, a number answering the number question asked last turn, a category
// name, then the FAQ index.
func (s *Knowledge) handleFallback(ctx context.Context, sess *bot.Session, in bot.Input) (bot.Reply, error) {
	pending := takeNumberQuestion(sess, s.now())
	unanswered := sess.Var(varUnanswered)
	sess.SetVar(varUnanswered, "")
	if in.Kind != bot.KindText {
		if msg, ok := msgNonText[in.Kind]; ok {
			return bot.Text(msg), nil
		}
		return bot.Text(msgOtherKind), nil
	}
	text := strings.TrimSpace(in.Text)
	if bot.NormalizeCommand(text) == "菜单" {
		// The router falls back here with "菜单" for a menu key it does not know.
		return s.menu(ctx, sess, in)
	}
	kb, err := s.knowledge(ctx)
	if err != nil {
		return bot.Reply{}, err
	}
	if rep, ok := s.answerOffer(ctx, sess, kb, text); ok {
		return rep, nil
	}
	if r, ok := kb.rules.Match(text); ok {
		return bot.Text(r.Reply), nil
	}
	if msg, ok := smallTalk[bot.NormalizeCommand(text)]; ok {
		return bot.Text(msg), nil
	}
	if n, ok := faq.ParseShortcut(text); ok {
		s.notePick(ctx, sess, pending, unanswered, n)
		return s.answerNumber(sess, kb, pending, n), nil
	}
	if cat := matchCategory(kb, text); cat != "" {
		askNumber(sess, numberFAQID, s.now(), nil)
		return bot.Text(categoryText(kb, cat)), nil
	}
	return s.answerQuestion(ctx, sess, kb, text), nil
}

// answerQuestion answers a free-text question from the FAQ: the entry when the
// match is confident, else a numbered list of guesses, else "not known". A
// list or "not known" is kept as an unanswered question for the officers.
func (s *Knowledge) answerQuestion(ctx context.Context, sess *bot.Session, kb *knowledge, text string) bot.Reply {
	level, results := kb.index.Match(text)
	if level == faq.Confident && len(results) > 0 {
		if e, ok := kb.entries[results[0].ID]; ok {
			return s.answerEntry(e)
		}
	}
	if level == faq.Middling && len(results) > 0 {
		if msg, ids := s.offerChoices(sess, kb, results); len(ids) > 0 {
			if id := s.recordUnanswered(ctx, text, storage.OutcomeGuesses, ids); id > 0 {
				sess.SetVar(varUnanswered, strconv.FormatInt(id, 10))
			}
			return bot.Text(msg)
		}
	}
	s.recordUnanswered(ctx, text, storage.OutcomeNone, nil)
	return bot.Text(msgNotKnown)
}

// answerEntry is the reply that answers with one entry. A capability that
// also offers to start something from an answer (a legal-aid request) hooks in
// here.
func (s *Knowledge) answerEntry(e faq.Entry) bot.Reply {
	return bot.Text(answerText(e))
}

// recordUnanswered keeps the question (masked by storage) and returns its id,
// 0 when the store does not keep them or the write failed (logged: the member
// still gets the reply).
func (s *Knowledge) recordUnanswered(ctx context.Context, text, outcome string, offered []int64) int64 {
	u, ok := s.learning()
	if !ok {
		return 0
	}
	masked := pii.Redact(text)
	id, err := u.RecordUnanswered(ctx, storage.UnansweredQuestion{Question: masked, Normalized: faq.Normalize(masked),
		Outcome: outcome, Offered: offered, AskedAt: s.now()})
	if err != nil {
		s.logger.WarnContext(ctx, "record unanswered question", "err", err)
		return 0
	}
	return id
}

// notePick records which listed entry a member picked for the unanswered
// question the list was offered for; an out-of-range number keeps the list
// (and the question) open.
func (s *Knowledge) notePick(ctx context.Context, sess *bot.Session, pending numberQuestion, unanswered string, n int64) {
	if pending.kind != numberFAQChoice || unanswered == "" {
		return
	}
	if n < 1 || int(n) > len(pending.ids) {
		sess.SetVar(varUnanswered, unanswered)
		return
	}
	u, ok := s.learning()
	id, err := strconv.ParseInt(unanswered, 10, 64)
	if !ok || err != nil {
		return
	}
	if err := u.RecordUnansweredPick(ctx, id, pending.ids[n-1]); err != nil {
		s.logger.WarnContext(ctx, "record unanswered pick", "err", err)
	}
}

// purgeUnanswered drops unanswered questions past their retention, at most
// once an hour per replica (called under s.reloading).
func (s *Knowledge) purgeUnanswered(ctx context.Context, u UnansweredStore) {
	now := s.now()
	if now.Sub(s.lastPurge) < time.Hour {
		return
	}
	s.lastPurge = now
	keep := s.Retention
	if keep <= 0 {
		keep = DefaultUnansweredRetention
	}
	if n, err := u.PurgeUnanswered(ctx, now.Add(-keep)); err != nil {
		s.logger.WarnContext(ctx, "purge unanswered questions", "err", err)
	} else if n > 0 {
		s.logger.InfoContext(ctx, "purged unanswered questions", "count", n)
	}
}

// smallTalk answers greetings and acknowledgements, which the FAQ would
// otherwise try to match ("好的" shares a character with "好处"). Officers'
// keyword rules come first, so a union can word its own greeting.
var smallTalk = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"你好", "您好", "在吗", "在不在", "hi", "hello", "哈喽", "早上好", "下午好", "晚上好"} {
		m[k] = msgGreeting
	}
	for _, k := range []string{"好的", "好", "嗯", "嗯嗯", "谢谢", "谢谢你", "多谢", "感谢", "知道了", "明白了", "收到", "ok", "好的谢谢"} {
		m[k] = msgThanks
	}
	return m
}()

// interrupt answers a question typed inside a form, when the answer is
// certain: a keyword rule or a confident FAQ match. The engine then asks the
// pending question again.
func (s *Knowledge) interrupt(ctx context.Context, _ *bot.Session, in bot.Input) (bot.Reply, bool) {
	kb, err := s.knowledge(ctx)
	if err != nil {
		s.logger.WarnContext(ctx, "faq for interrupt", "open_id", in.OpenID, "err", err)
		return bot.Reply{}, false
	}
	text := strings.TrimSpace(in.Text)
	if r, ok := kb.rules.Match(text); ok {
		return bot.Text(r.Reply), true // an officer's rule answers whatever the wording
	}
	if !bot.LooksLikeQuestion(text) {
		return bot.Reply{}, false // a mistyped answer, asked again by the form
	}
	level, results := kb.index.Match(text)
	if level == faq.Confident && len(results) > 0 {
		if e, ok := kb.entries[results[0].ID]; ok {
			return bot.Text("【" + e.Question + "】\n" + e.Answer), true
		}
	}
	return bot.Reply{}, false
}

// answerText renders one FAQ answer.
func answerText(e faq.Entry) string {
	return "【" + e.Question + "】\n" + e.Answer + "\n\n" + msgAnswerTail
}

// offerChoices lists up to three close questions and remembers their ids so
// that the next message may pick one by number.
func (s *Knowledge) offerChoices(sess *bot.Session, kb *knowledge, results []faq.Result) (string, []int64) {
	var b strings.Builder
	b.WriteString(msgDidYouMean)
	var ids []int64
	for _, r := range results {
		e, ok := kb.entries[r.ID]
		if !ok {
			continue
		}
		ids = append(ids, r.ID)
		fmt.Fprintf(&b, "\n%d. %s", len(ids), e.Question)
		if len(ids) == 3 {
			break
		}
	}
	if len(ids) == 0 {
		return msgNotKnown, nil
	}
	askNumber(sess, numberFAQChoice, s.now(), ids)
	b.WriteString("\n\n" + msgPickChoice)
	return b.String(), ids
}

// matchCategory returns the category named by text, or "".
func matchCategory(kb *knowledge, text string) string {
	t := bot.NormalizeCommand(text)
	for _, c := range kb.categories {
		if bot.NormalizeCommand(c) == t {
			return c
		}
	}
	return ""
}

// categoryText lists the questions of one category with their numbers.
func categoryText(kb *knowledge, cat string) string {
	var b strings.Builder
	fmt.Fprintf(&b, msgCategory, cat)
	for _, e := range kb.ordered {
		if e.Category == cat {
			fmt.Fprintf(&b, "\n%d. %s", e.ID, e.Question)
		}
	}
	b.WriteString("\n\n" + msgCatTail)
	return b.String()
}

// handleFAQList shows the categories and a few popular questions, numbered
// by their FAQ id (a bare number answers that entry).
func (s *Knowledge) handleFAQList(ctx context.Context, sess *bot.Session, _ bot.Input) (bot.Reply, error) {
	kb, err := s.knowledge(ctx)
	if err != nil {
		return bot.Reply{}, err
	}
	if len(kb.ordered) == 0 {
		return bot.Text(msgFAQEmpty), nil
	}
	var b strings.Builder
	b.WriteString(msgFAQListHead)
	if len(kb.categories) > 0 {
		b.WriteString("\n分类：" + strings.Join(kb.categories, "、"))
	}
	b.WriteString("\n\n热门问题：")
	popular := popularEntries(kb, popularCount)
	for _, e := range popular {
		fmt.Fprintf(&b, "\n%d. %s", e.ID, e.Question)
	}
	b.WriteString("\n\n" + fmt.Sprintf(msgFAQListTail, popular[0].ID))
	askNumber(sess, numberFAQID, s.now(), nil)
	return bot.Text(b.String()), nil
}

// popularEntries picks n entries across categories: the first of each
// category in turn, then the next, so the list shows the breadth of the FAQ.
// The default knowledge base puts the most asked question of a category first.
func popularEntries(kb *knowledge, n int) []faq.Entry {
	byCat := map[string][]faq.Entry{}
	var cats []string
	for _, e := range kb.ordered {
		if _, ok := byCat[e.Category]; !ok {
			cats = append(cats, e.Category)
		}
		byCat[e.Category] = append(byCat[e.Category], e)
	}
	var out []faq.Entry
	for round := 0; len(out) < n; round++ {
		added := false
		for _, c := range cats {
			if round < len(byCat[c]) && len(out) < n {
				out = append(out, byCat[c][round])
				added = true
			}
		}
		if !added {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
