package bot

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"unionbot/parse"
	"unionbot/pii"
)

// Router decides what an input means and who answers it, in this order (see
// docs/ARCHITECTURE.md, "The dialog engine"): event, form control word
// (取消/返回/确认), global command typed exactly, active form step, prefix
// command (报名 N), fallback (keyword rules and the FAQ). Menu CLICK keys are
// intent names, so a click and the typed keyword reach the same handler.
type Router struct {
	logger    *slog.Logger
	intents   map[string]HandlerFunc
	keywords  map[string]string // normalised keyword → intent
	forms     map[string]*Form
	prefixes  []prefixRoute
	events    map[string]HandlerFunc
	fallback  HandlerFunc
	interrupt func(ctx context.Context, s *Session, in Input) (Reply, bool)
	screen    func(ctx context.Context, s *Session, in Input) ScreenResult
	safe      map[string]bool // routes answerable without the kv store (degraded.go)

	// Forms that need more than the session (drafts.go, photos.go).
	drafts     DraftStore
	photos     PhotoStore
	strayHint  string
	idle, keep time.Duration
	now        func() time.Time
	varKeeps   map[string]time.Duration // keep.go
}

type prefixRoute struct {
	prefix string
	h      func(ctx context.Context, s *Session, in Input, arg string) (Reply, error)
}

// NewRouter returns an empty router.
func NewRouter(logger *slog.Logger) *Router {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Router{
		logger:   logger,
		intents:  map[string]HandlerFunc{},
		keywords: map[string]string{},
		forms:    map[string]*Form{},
		events:   map[string]HandlerFunc{},
	}
}

// Intent registers a handler under an intent name (the menu key) and the
// keywords a member may type for it.
func (r *Router) Intent(name string, h HandlerFunc, keywords ...string) {
	if _, dup := r.intents[name]; dup {
		panic("bot: intent registered twice: " + name)
	}
	r.intents[name] = h
	for _, k := range keywords {
		if nk := NormalizeCommand(k); nk != "" { // "?" alone normalises to nothing
			r.keywords[nk] = name
		}
	}
}

// Form registers a form as an intent.
func (r *Router) Form(f *Form, keywords ...string) {
	r.forms[f.Name] = f
	r.Intent(f.Name, func(ctx context.Context, s *Session, _ Input) (Reply, error) {
		return r.startForm(ctx, s, f)
	}, keywords...)
}

// Prefix registers a command with an argument, such as "报名 3".
func (r *Router) Prefix(prefix string, h func(ctx context.Context, s *Session, in Input, arg string) (Reply, error)) {
	r.prefixes = append(r.prefixes, prefixRoute{prefix: NormalizeCommand(prefix), h: h})
	// Longest prefix first, so "取消报名" wins over "取消".
	sort.SliceStable(r.prefixes, func(i, j int) bool { return len(r.prefixes[i].prefix) > len(r.prefixes[j].prefix) })
}

// OnEvent registers a handler for a WeChat event (subscribe, unsubscribe, SCAN).
func (r *Router) OnEvent(event string, h HandlerFunc) { r.events[event] = h }

// Fallback sets the handler of everything nothing else claimed.
func (r *Router) Fallback(h HandlerFunc) { r.fallback = h }

// Interrupt sets the hook that may answer an off-topic message typed inside a
// form (a question instead of a name). When it answers, the step is asked again.
func (r *Router) Interrupt(h func(ctx context.Context, s *Session, in Input) (Reply, bool)) {
	r.interrupt = h
}

// HasIntent reports whether name is a registered intent (used to check that
// every menu key routes somewhere).
func (r *Router) HasIntent(name string) bool {
	_, ok := r.intents[name]
	return ok
}

// Run runs the intent name as if the member had typed its keyword.
func (r *Router) Run(ctx context.Context, name string, s *Session, in Input) (Reply, error) {
	h, ok := r.intents[name]
	if !ok {
		return Reply{}, fmt.Errorf("unknown intent %q", name)
	}
	return h(ctx, s, in)
}

// Route answers one input, changing the session as needed. Errors that are not
// UserErrors are logged here and turned into a kind sentence; the session keeps
// whatever the member had entered.
func (r *Router) Route(ctx context.Context, s *Session, in Input) (Reply, error) {
	ctx = withClock(ctx, r.clock)
	before, step, data := s.Form, s.Step, maps.Clone(s.Data)
	rep, err := r.screenRoute(ctx, s, in)
	r.keepDraft(ctx, s, before, step, data)
	if err == nil {
		return rep, nil
	}
	if _, ok := UserMessage(err); !ok {
		r.logger.ErrorContext(ctx, "handle message", "open_id", in.OpenID, "kind", in.Kind, "form", s.Form, "err", err)
	}
	return ReplyFor(err), nil
}

func (r *Router) route(ctx context.Context, s *Session, in Input) (Reply, error) {
	if in.Kind == KindEvent {
		return r.routeEvent(ctx, s, in)
	}
	if in.Kind == KindVoice && in.Text != "" {
		in.Kind = KindText // voice with WeChat's speech recognition reads as text
	}
	f := r.forms[s.Form]
	if s.Form != "" && f == nil {
		s.Form, s.Step, s.Data, s.Edit, s.Pending = "", 0, nil, false, "" // form removed by an upgrade
	}
	cmd := ""
	if in.Kind == KindText {
		cmd = NormalizeCommand(in.Text)
	}
	if f != nil && in.Kind == KindText && r.idleResume(ctx, s, f) {
		// Back after a pause in a durable form: continue or start over?
		if resumeWords[cmd] || cancelWords[cmd] {
			return r.resumeAnswer(ctx, s, f, in, cmd)
		}
		return Text(f.prompt(ctx, s)), nil
	}
	if in.Kind != KindText {
		return r.routeMedia(ctx, s, f, in)
	}
	if f != nil {
		if rep, ok, err := r.formControl(ctx, s, f, in, cmd); ok {
			return rep, err
		}
	}
	if name, ok := r.keywords[cmd]; ok {
		return r.runIntent(ctx, s, f, name, in)
	}
	if f != nil {
		if s.Step >= len(f.Steps) {
			return Text(f.prompt(ctx, s)), nil
		}
		if f.Steps[s.Step].Photos {
			return r.photoText(ctx, s, f, in)
		}
		return r.formAnswer(ctx, s, f, in, pii.HalfWidth(strings.TrimSpace(in.Text)))
	}
	for _, p := range r.prefixes {
		if arg, ok := strings.CutPrefix(cmd, p.prefix); ok {
			return p.h(ctx, s, in, strings.TrimSpace(arg))
		}
	}
	return r.runFallback(ctx, s, in)
}

// Words that steer a form.
var (
	cancelWords  = map[string]bool{"取消": true, "退出": true, "不办了": true, "算了": true}
	backWords    = map[string]bool{"返回": true, "上一步": true}
	confirmWords = map[string]bool{"确认": true, "提交": true, "确定": true}
	resumeWords  = map[string]bool{"继续": true, "接着填": true, "继续填": true, "重新开始": true, "从头填": true,
		"重填": true, "重新填": true, "从头开始": true}
	editRe = regexp.MustCompile(`^(?:修改|改)\s*第?\s*(\d{1,2})\s*(?:项|条|个)?$`)
)

// formControl handles the words that steer a form and the answers to the
// form's own pending questions.
func (r *Router) formControl(ctx context.Context, s *Session, f *Form, in Input, cmd string) (Reply, bool, error) {
	switch s.Pending {
	case pendingResume:
		rep, err := r.resumeAnswer(ctx, s, f, in, cmd)
		return rep, true, err
	case pendingCancel:
		yes, ok := parse.YesNo(cmd)
		switch {
		case (ok && yes) || cancelWords[cmd]:
			f.end(s)
			return Text(fmt.Sprintf(msgCancelled, f.Title)), true, nil
		case ok && !yes:
			s.Pending = ""
			return Text(msgGoOn + "\n\n" + f.prompt(ctx, s)), true, nil
		}
		s.Pending = "" // the member moved on: read the message as usual
	}
	switch {
	case cancelWords[cmd]:
		if !f.askBeforeCancel(s) {
			f.end(s)
			return Text(fmt.Sprintf(msgCancelled, f.Title)), true, nil
		}
		s.Pending = pendingCancel
		return Text(f.prompt(ctx, s)), true, nil
	case backWords[cmd]:
		return f.back(ctx, s), true, nil
	case confirmWords[cmd]:
		if s.Step >= len(f.Steps) {
			rep, err := f.submit(ctx, s)
			return rep, true, err
		}
	}
	if m := editRe.FindStringSubmatch(cmd); m != nil && f.labelled() {
		if s.Step < len(f.Steps) && !s.Edit {
			return Text(msgEditLater + "\n\n" + f.prompt(ctx, s)), true, nil
		}
		n, _ := strconv.Atoi(m[1])
		s.Step, s.Edit = len(f.Steps), false
		return f.edit(ctx, s, n), true, nil
	}
	return Reply{}, false, nil
}

// routeMedia answers an image, a voice note without recognition, a video…:
// a photo step takes images, a Media step its medium; a photo anywhere else
// is kept for a day and the member told what to do with photos.
func (r *Router) routeMedia(ctx context.Context, s *Session, f *Form, in Input) (Reply, error) {
	if f != nil && in.Kind == KindImage {
		s.Pending = "" // a photo answers neither yes/no: the member went on
	}
	if f != nil && s.Pending == "" && s.Step < len(f.Steps) && in.MediaID != "" {
		switch st := &f.Steps[s.Step]; {
		case st.Photos && in.Kind == KindImage:
			return r.photoImage(ctx, s, f, in)
		case st.Media:
			return r.formAnswer(ctx, s, f, in, in.MediaID)
		}
	}
	if in.Kind == KindImage && in.MediaID != "" && r.photos != nil {
		return r.strayPhoto(ctx, s, f, in)
	}
	if f != nil {
		return Text(msgTextPlease + "\n\n" + f.prompt(ctx, s)), nil
	}
	return r.runFallback(ctx, s, in)
}

// keepDraft writes the draft of a durable form when the message changed its
// answers or step, and removes it when the form ended (submitted or
// abandoned; a form left for another one keeps its draft for later).
func (r *Router) keepDraft(ctx context.Context, s *Session, before string, step int, data map[string]string) {
	f := r.forms[before]
	if !r.durable(f) {
		if g := r.forms[s.Form]; r.durable(g) && s.Form != before && s.Pending == "" && g.answered(s) {
			r.saveDraft(ctx, s, g) // a draft taken up again after a lost session
		}
		return
	}
	switch {
	case s.Form == "":
		r.dropDraft(ctx, s.OpenID, f)
	case s.Form != before:
		// Switched to another form: this draft stays for later.
	case s.Step != step || !maps.Equal(s.Data, data):
		if f.answered(s) {
			r.saveDraft(ctx, s, f)
		} else {
			r.dropDraft(ctx, s.OpenID, f)
		}
	}
}

// runIntent runs a command typed (or clicked) by the member. Inside a form, a
// command that starts another form replaces it; any other command is answered
// and the pending question is asked again.
func (r *Router) runIntent(ctx context.Context, s *Session, f *Form, name string, in Input) (Reply, error) {
	if f == nil {
		return r.intents[name](ctx, s, in)
	}
	if name == f.Name {
		return Text(fmt.Sprintf(msgAlreadyInForm, f.Title) + "\n\n" + f.prompt(ctx, s)), nil
	}
	if next, isForm := r.forms[name]; isForm {
		// start replaces the current form only when the new one may begin;
		// a refusal leaves the member where they were.
		rep, err := r.startForm(ctx, s, next)
		if msg, ok := UserMessage(err); ok {
			return r.resume(ctx, s, f, Text(msg)), nil
		}
		if err != nil {
			return Reply{}, err
		}
		return Text(fmt.Sprintf(msgSwitchedForm, f.Title) + "\n\n" + rep.Text), nil
	}
	rep, err := r.intents[name](ctx, s, in)
	if err != nil {
		return Reply{}, err
	}
	return r.resume(ctx, s, f, rep), nil
}

// resume appends the pending question of the form to an off-topic answer.
func (r *Router) resume(ctx context.Context, s *Session, f *Form, rep Reply) Reply {
	if s.Form != f.Name { // the handler ended or switched the form itself
		return rep
	}
	return Text(strings.TrimSpace(rep.Text + "\n\n" + fmt.Sprintf(msgResumeForm, f.Title) + f.prompt(ctx, s)))
}

// questionRe spots a question: typed where a free-text answer was expected ("医院" steps
// accept anything, so the interrupt hook is asked first), or, through LooksLikeQuestion,
// where an answer failed its check. It knows the question words a worker types without a
// question mark ("一年多少钱", "找哪个部门", "咋报销").
var questionRe = regexp.MustCompile(`[?？]|吗$|呢$|怎么|咋|多久|多少|为什么|什么|啥|哪|能不能|可不可以|能否|有没有|是不是|如何|几天`)

// LooksLikeQuestion reports whether text asks something. A fuzzy answer source (the
// FAQ) consulted when a form's answer failed its check uses it, so that a mistyped
// answer ("下个月" for a date) is asked again with the reason instead of answered.
func LooksLikeQuestion(text string) bool { return questionRe.MatchString(text) }

func (r *Router) formAnswer(ctx context.Context, s *Session, f *Form, in Input, value string) (Reply, error) {
	if st := f.Steps[s.Step]; st.Check == nil && !st.Media && r.interrupt != nil && in.Kind == KindText && questionRe.MatchString(value) {
		if ans, ok := r.interrupt(ctx, s, in); ok {
			return r.resume(ctx, s, f, ans), nil
		}
	}
	rep, err := f.answer(ctx, s, value)
	if err == nil {
		return rep, nil
	}
	reason, ok := UserMessage(err)
	if !ok {
		return Reply{}, err
	}
	if r.interrupt != nil && in.Kind == KindText {
		if ans, ok := r.interrupt(ctx, s, in); ok {
			return r.resume(ctx, s, f, ans), nil
		}
	}
	return Text(reason + "\n\n" + f.prompt(ctx, s)), nil
}

func (r *Router) routeEvent(ctx context.Context, s *Session, in Input) (Reply, error) {
	switch in.Event {
	case EventClick:
		name := in.EventKey
		if _, ok := r.intents[name]; !ok {
			r.logger.WarnContext(ctx, "unknown menu key", "key", name)
			return r.runFallback(ctx, s, Input{OpenID: in.OpenID, Kind: KindText, Text: "菜单"})
		}
		return r.runIntent(ctx, s, r.forms[s.Form], name, in)
	}
	if h, ok := r.events[in.Event]; ok {
		return h(ctx, s, in)
	}
	return Reply{}, nil // VIEW, LOCATION, TEMPLATESENDJOBFINISH…: nothing to say
}

func (r *Router) runFallback(ctx context.Context, s *Session, in Input) (Reply, error) {
	if r.fallback == nil {
		return Text(msgNotUnderstood), nil
	}
	return r.fallback(ctx, s, in)
}

// NormalizeCommand folds what a member types into the form keywords are
// registered in: full-width to half-width, lower case, inner spaces folded,
// trailing punctuation and emoji dropped. "  菜单！" and "菜单" are one command.
func NormalizeCommand(s string) string {
	var b strings.Builder
	space := false
	for _, r := range pii.HalfWidth(strings.TrimSpace(s)) {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(unicode.ToLower(r))
	}
	return strings.TrimRightFunc(b.String(), func(r rune) bool {
		return unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r) || r == '~'
	})
}
