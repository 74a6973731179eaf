package bot

import (
	"context"
	"fmt"
	"strings"
)

// Form is a step-by-step dialog that collects answers one at a time, the way a
// worker on a phone fills a paper form with an officer beside them: each answer
// is checked as it comes, a bad one is re-asked with the reason, 返回 goes back
// a step, 取消 abandons, and (when Confirm is set) nothing is submitted until
// the member says 确认 at the summary.
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
	// Summary renders the answers for the confirm step.
	Summary func(data map[string]string) string
	// Submit does the work. A UserError ends the form with its message; any
	// other error keeps every answer so the member can retry with 确认.
	Submit func(ctx context.Context, s *Session, data map[string]string) (Reply, error)
}

// Step is one question of a form.
type Step struct {
	Key    string
	Prompt string
	// Media marks a step that expects an image rather than text; the value
	// passed to Check is the media id.
	Media bool
	// Check validates and normalises the answer. A UserError is shown to the
	// member with the prompt again. Nil accepts any non-empty text.
	Check func(ctx context.Context, s *Session, value string) (string, error)
}

// start enters the form.
func (f *Form) start(ctx context.Context, s *Session) (Reply, error) {
	prevForm, prevStep, prevData := s.Form, s.Step, s.Data
	s.Form, s.Step, s.Data = f.Name, 0, map[string]string{}
	if f.Guard != nil {
		if err := f.Guard(ctx, s); err != nil {
			s.Form, s.Step, s.Data = prevForm, prevStep, prevData
			return Reply{}, err
		}
	}
	var b strings.Builder
	if f.Intro != "" {
		b.WriteString(f.Intro)
		b.WriteString("\n\n")
	}
	b.WriteString(f.prompt(s))
	return Text(b.String()), nil
}

// prompt is the question of the current step, or the summary.
func (f *Form) prompt(s *Session) string {
	if s.Step >= len(f.Steps) {
		if f.Confirm {
			sum := ""
			if f.Summary != nil {
				sum = f.Summary(s.Data) + "\n\n"
			}
			return sum + msgConfirmHint
		}
		return msgRetrySubmit
	}
	p := f.Steps[s.Step].Prompt
	if len(f.Steps) > 1 {
		p = fmt.Sprintf("（第%d/%d步）%s", s.Step+1, len(f.Steps), p)
	}
	return p + "\n" + msgFormHint
}

// end leaves the form.
func (f *Form) end(s *Session) {
	s.Form, s.Step, s.Data = "", 0, nil
}

// back goes one step back.
func (f *Form) back(s *Session) Reply {
	if s.Step == 0 {
		return Text(msgFirstStep + "\n\n" + f.prompt(s))
	}
	s.Step--
	delete(s.Data, f.stepKey(s.Step))
	return Text(f.prompt(s))
}

func (f *Form) stepKey(i int) string {
	if i < len(f.Steps) {
		return f.Steps[i].Key
	}
	return ""
}

// answer feeds one answer to the current step. It returns a UserError when the
// answer is not accepted; the caller decides how to re-ask.
func (f *Form) answer(ctx context.Context, s *Session, value string) (Reply, error) {
	st := f.Steps[s.Step]
	if st.Check != nil {
		v, err := st.Check(ctx, s, value)
		if err != nil {
			return Reply{}, err
		}
		value = v
	} else if strings.TrimSpace(value) == "" {
		return Reply{}, Userf(msgEmptyAnswer)
	}
	if s.Data == nil {
		s.Data = map[string]string{}
	}
	s.Data[st.Key] = value
	s.Step++
	if s.Step < len(f.Steps) || f.Confirm {
		return Text(f.prompt(s)), nil
	}
	return f.submit(ctx, s)
}

// submit runs Submit and ends the form unless it failed for a reason that is
// not the member's (then everything collected is kept for a retry).
func (f *Form) submit(ctx context.Context, s *Session) (Reply, error) {
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
		s.Step = len(f.Steps)
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
