package bot

import (
	"context"
	"fmt"
	"strings"
)

// Form is a step-by-step dialog that collects answers one at a time, the way a
// worker on a phone fills a paper form with an officer beside them: each answer
// is checked as it comes, a bad one is re-asked with the reason, 返回 goes back
// a step, 取消 abandons (after a yes/no once something was answered), and
// (when Confirm is set) nothing is submitted until the member says 确认 at the
// summary, where 修改 N changes one field. See docs/ARCHITECTURE.md, "Forms".
type Form struct {
	// Name is the intent name (also the menu key that starts the form).
	Name string
	// Title is how the form is called in replies, e.g. "绑定会员".
	Title string
	// Guard may refuse to start the form (already bound, locked out...). A
	// UserError is shown as is. It runs on the form's fresh state, so it may
	// also prefill s.Data (for example what the summary should show).
	Guard func(ctx context.Context, s *Session) error
	// Intro is shown once before the first prompt.
	Intro string
	Steps []Step
	// Confirm asks for 确认 at a summary before Submit.
	Confirm bool
	// Summary renders the answers for the confirm step. When steps have
	// Labels the engine renders the numbered list itself and Summary, if
	// set, adds lines under it.
	Summary func(data map[string]string) string
	// SummaryNote, when set, adds a line under the summary that needs the
	// context (an estimate from rules kept in the database).
	SummaryNote func(ctx context.Context, s *Session, data map[string]string) string
	// Submit does the work. A UserError ends the form with its message; any
	// other error keeps every answer so the member can retry with 确认. It
	// gets the answers of the steps that apply (and what Guard prefilled).
	Submit func(ctx context.Context, s *Session, data map[string]string) (Reply, error)
	// Durable keeps the answers in the database as well (Router.UseForms
	// with a DraftStore), written whenever an answer is accepted: the form
	// survives a lost kv store and days of silence, and a member idle for a
	// while is asked whether to continue or start over.
	Durable bool
}

// Step is one question of a form.
type Step struct {
	Key    string
	Prompt string
	// PromptFor, when set, builds the prompt from the answers so far.
	PromptFor func(data map[string]string) string
	// Label names the answer in the numbered summary ("医院"); steps without
	// one are not listed (and cannot be changed with 修改 N).
	Label string
	// Show renders the kept value in the summary (a masked card number, a
	// date as 2026年11月3日); default the value itself, "N张" for photos.
	Show func(value string) string
	// When, when set, decides from the answers so far whether the step is
	// asked at all (the claim's plan decides which documents are needed).
	// Answers of steps that no longer apply are dropped before Submit.
	When func(data map[string]string) bool
	// Optional lets the member answer 跳过 / 没有 / 无 (kept as "").
	Optional bool
	// Media marks a step that expects one image rather than text; the value
	// passed to Check is the media id.
	Media bool
	// Photos marks a step that collects images, each fetched and stored as
	// it arrives (Router.UseForms with a PhotoStore), until 好了: at least
	// MinPhotos (default 1; 0 with Optional) and at most MaxPhotos (default
	// 12). The value is the comma-separated list of stored refs (PhotoRefs).
	Photos    bool
	MinPhotos int
	MaxPhotos int
	// Check validates and normalises the answer. A UserError is shown to the
	// member with the prompt again. Nil accepts any non-empty text.
	Check func(ctx context.Context, s *Session, value string) (string, error)
}

// DefaultMaxPhotos is the most images a photo step takes unless it says.
const DefaultMaxPhotos = 12

func (st *Step) maxPhotos() int {
	if st.MaxPhotos > 0 {
		return st.MaxPhotos
	}
	return DefaultMaxPhotos
}

func (st *Step) minPhotos() int {
	if st.MinPhotos > 0 {
		return st.MinPhotos
	}
	if st.Optional {
		return 0
	}
	return 1
}

// PhotoRefs splits a photo step's value into its stored refs.
func PhotoRefs(value string) []string {
	if value == "" {
		return nil
	}
	return strings.Split(value, ",")
}

// Pending questions of a form (Session.Pending).
const (
	pendingCancel = "cancel" // 取消 asked: abandon? yes/no
	pendingResume = "resume" // a durable form taken up again: 继续 / 重新开始
)

func (f *Form) applies(i int, data map[string]string) bool {
	return f.Steps[i].When == nil || f.Steps[i].When(data)
}

// nextFrom is the first step at or after i that applies, or len(Steps).
func (f *Form) nextFrom(i int, data map[string]string) int {
	for ; i < len(f.Steps); i++ {
		if f.applies(i, data) {
			return i
		}
	}
	return len(f.Steps)
}

// prevBefore is the last step before i that applies, or -1.
func (f *Form) prevBefore(i int, data map[string]string) int {
	for i--; i >= 0; i-- {
		if f.applies(i, data) {
			return i
		}
	}
	return -1
}

// firstMissing is the first applicable step without an answer, or len(Steps).
func (f *Form) firstMissing(data map[string]string) int {
	for i, st := range f.Steps {
		if _, ok := data[st.Key]; !ok && f.applies(i, data) {
			return i
		}
	}
	return len(f.Steps)
}

// clean drops the answers of steps that do not apply (any more).
func (f *Form) clean(data map[string]string) {
	for i, st := range f.Steps {
		if !f.applies(i, data) {
			delete(data, st.Key)
		}
	}
}

// answered reports whether the member has given any answer yet.
func (f *Form) answered(s *Session) bool {
	for _, st := range f.Steps {
		if _, ok := s.Data[st.Key]; ok {
			return true
		}
	}
	return false
}

// askBeforeCancel reports whether 取消 should ask first: the member would
// lose something worth keeping (any answer of a durable form, two or more of
// another; retyping one short answer is quicker than a yes/no).
func (f *Form) askBeforeCancel(s *Session) bool {
	n := 0
	for _, st := range f.Steps {
		if _, ok := s.Data[st.Key]; ok {
			n++
		}
	}
	return n >= 2 || (n == 1 && f.Durable)
}

// progress is the position of step i among the steps that apply, and their
// number.
func (f *Form) progress(i int, data map[string]string) (pos, total int) {
	for j := range f.Steps {
		if f.applies(j, data) {
			total++
			if j <= i {
				pos++
			}
		}
	}
	return pos, total
}

// summaryItem is one numbered line of the summary.
type summaryItem struct {
	step  int
	label string
	shown string
}

func (f *Form) items(data map[string]string) []summaryItem {
	var out []summaryItem
	for i, st := range f.Steps {
		if st.Label == "" || !f.applies(i, data) {
			continue
		}
		v, ok := data[st.Key]
		if !ok {
			continue
		}
		shown := v
		switch {
		case st.Show != nil:
			shown = st.Show(v)
		case st.Photos:
			shown = fmt.Sprintf(msgPhotoCount, len(PhotoRefs(v)))
		case v == "":
			shown = msgNotGiven
		}
		out = append(out, summaryItem{step: i, label: st.Label, shown: shown})
	}
	return out
}

// itemNumber is the summary number of step i (0 when it is not listed).
func (f *Form) itemNumber(i int, data map[string]string) int {
	n := 0
	for j, st := range f.Steps {
		if st.Label == "" || !f.applies(j, data) {
			continue
		}
		if _, ok := data[st.Key]; ok || j == i {
			n++
		}
		if j == i {
			return n
		}
	}
	return 0
}

func (f *Form) labelled() bool {
	for _, st := range f.Steps {
		if st.Label != "" {
			return true
		}
	}
	return false
}

// start enters the form.
func (f *Form) start(ctx context.Context, s *Session) (Reply, error) {
	prev := *s
	s.Form, s.Step, s.Data, s.Edit, s.Pending = f.Name, 0, map[string]string{}, false, ""
	if f.Guard != nil {
		if err := f.Guard(ctx, s); err != nil {
			s.Form, s.Step, s.Data, s.Edit, s.Pending = prev.Form, prev.Step, prev.Data, prev.Edit, prev.Pending
			return Reply{}, err
		}
	}
	s.Step = f.nextFrom(0, s.Data)
	var b strings.Builder
	if f.Intro != "" {
		b.WriteString(f.Intro)
		b.WriteString("\n\n")
	}
	b.WriteString(f.prompt(ctx, s))
	return Text(b.String()), nil
}

// prompt is what the member is asked now: the pending yes/no, the question of
// the current step, or the summary.
func (f *Form) prompt(ctx context.Context, s *Session) string {
	switch s.Pending {
	case pendingCancel:
		return fmt.Sprintf(msgCancelAsk, f.Title)
	case pendingResume:
		where := msgResumeAtSummary
		if s.Step < len(f.Steps) {
			pos, _ := f.progress(s.Step, s.Data)
			where = fmt.Sprintf(msgResumeAtStep, pos)
		}
		return fmt.Sprintf(msgResumeAsk, f.Title, where)
	}
	if s.Step >= len(f.Steps) {
		if f.Confirm {
			return f.summary(ctx, s)
		}
		return msgRetrySubmit
	}
	st := &f.Steps[s.Step]
	p := st.Prompt
	if st.PromptFor != nil {
		p = st.PromptFor(s.Data)
	}
	switch pos, total := f.progress(s.Step, s.Data); {
	case s.Edit:
		if n := f.itemNumber(s.Step, s.Data); n > 0 {
			p = fmt.Sprintf(msgEditing, n) + p
		}
	case total > 1:
		p = fmt.Sprintf("（第%d/%d步）%s", pos, total, p)
	}
	if st.Photos {
		if n := len(PhotoRefs(s.Data[st.Key])); n > 0 {
			p += "\n" + fmt.Sprintf(msgPhotoSoFar, n)
		}
		if n := len(strayRefs(ctx, s)); n > 0 {
			p += "\n" + fmt.Sprintf(msgStrayOffer, n)
		}
		return p + "\n" + msgPhotoHint
	}
	switch {
	case s.Edit:
		return p + "\n" + msgEditHint
	case st.Optional:
		return p + "\n" + msgOptionalHint
	}
	return p + "\n" + msgFormHint
}

// summary is the confirm page: the numbered answers (or the form's own
// Summary for forms without labelled steps) and how to go on.
func (f *Form) summary(ctx context.Context, s *Session) string {
	if !f.labelled() {
		sum := ""
		if f.Summary != nil {
			sum = f.Summary(s.Data) + "\n\n"
		}
		return sum + msgConfirmHint
	}
	var b strings.Builder
	b.WriteString(msgSummaryHead)
	for i, it := range f.items(s.Data) {
		fmt.Fprintf(&b, "\n%d %s：%s", i+1, it.label, it.shown)
	}
	if f.Summary != nil {
		if extra := f.Summary(s.Data); extra != "" {
			b.WriteString("\n" + extra)
		}
	}
	if f.SummaryNote != nil {
		if note := f.SummaryNote(ctx, s, s.Data); note != "" {
			b.WriteString("\n" + note)
		}
	}
	b.WriteString("\n" + msgSummaryHint)
	return b.String()
}

// end leaves the form.
func (f *Form) end(s *Session) {
	s.Form, s.Step, s.Data, s.Edit, s.Pending = "", 0, nil, false, ""
}

// back goes to the previous step that applies (from a field chosen with
// 修改 N: back to the summary, unchanged).
func (f *Form) back(ctx context.Context, s *Session) Reply {
	if s.Edit {
		s.Edit, s.Step = false, len(f.Steps)
		if f.firstMissing(s.Data) < len(f.Steps) {
			s.Step = f.firstMissing(s.Data)
		}
		return Text(f.prompt(ctx, s))
	}
	prev := f.prevBefore(s.Step, s.Data)
	if prev < 0 {
		return Text(msgFirstStep + "\n\n" + f.prompt(ctx, s))
	}
	s.Step = prev
	delete(s.Data, f.Steps[prev].Key)
	return Text(f.prompt(ctx, s))
}

// edit jumps to field n of the summary; the answer returns to the summary.
func (f *Form) edit(ctx context.Context, s *Session, n int) Reply {
	items := f.items(s.Data)
	if n < 1 || n > len(items) {
		return Text(fmt.Sprintf(msgEditRange, len(items)) + "\n\n" + f.prompt(ctx, s))
	}
	st := items[n-1].step
	s.Step, s.Edit = st, true
	return Text(f.prompt(ctx, s))
}

// skipWords answer an Optional step.
var skipWords = map[string]bool{"跳过": true, "没有": true, "无": true, "不填": true, "略过": true}

// answer feeds one answer to the current (text) step. It returns a UserError
// when the answer is not accepted; the caller decides how to re-ask.
func (f *Form) answer(ctx context.Context, s *Session, value string) (Reply, error) {
	st := f.Steps[s.Step]
	switch {
	case st.Optional && skipWords[NormalizeCommand(value)]:
		value = ""
	case st.Check != nil:
		v, err := st.Check(ctx, s, value)
		if err != nil {
			return Reply{}, err
		}
		value = v
	case strings.TrimSpace(value) == "":
		return Reply{}, Userf(msgEmptyAnswer)
	}
	if s.Data == nil {
		s.Data = map[string]string{}
	}
	s.Data[st.Key] = value
	return f.advance(ctx, s, "")
}

// advance moves past the step just answered: to the next step that applies,
// or (after 修改 N) to the next applicable step still without an answer and
// then the summary; without Confirm the last answer submits.
func (f *Form) advance(ctx context.Context, s *Session, lead string) (Reply, error) {
	f.clean(s.Data)
	if lead != "" {
		lead += "\n\n"
	}
	if s.Edit {
		if next := f.firstMissing(s.Data); next < len(f.Steps) {
			s.Step = next
			return Text(lead + f.prompt(ctx, s)), nil
		}
		s.Edit, s.Step = false, len(f.Steps)
		return Text(lead + msgEdited + f.prompt(ctx, s)), nil
	}
	s.Step = f.nextFrom(s.Step+1, s.Data)
	if s.Step < len(f.Steps) || f.Confirm {
		return Text(lead + f.prompt(ctx, s)), nil
	}
	rep, err := f.submit(ctx, s)
	if err == nil && lead != "" {
		rep.Text = lead + rep.Text
	}
	return rep, err
}

// submit runs Submit and ends the form unless it failed for a reason that is
// not the member's (then everything collected is kept for a retry).
func (f *Form) submit(ctx context.Context, s *Session) (Reply, error) {
	f.clean(s.Data)
	data := make(map[string]string, len(s.Data))
	for k, v := range s.Data {
		data[k] = v
	}
	r, err := f.Submit(ctx, s, data)
	if err != nil {
		if msg, ok := UserMessage(err); ok {
			f.end(s)
			return Text(msg), nil
		}
		s.Step, s.Edit, s.Pending = len(f.Steps), false, ""
		return Reply{}, &keptError{err: err}
	}
	if s.Form == f.Name {
		f.end(s)
	}
	return r, nil
}

// keptError marks a submit failure after which the answers were kept.
type keptError struct{ err error }

func (e *keptError) Error() string { return e.err.Error() }
func (e *keptError) Unwrap() error { return e.err }
