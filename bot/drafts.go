package bot

import (
	"context"
	"fmt"
	"time"

	"unionbot/parse"
)

// DraftStore keeps the answers of durable forms in the database, one draft
// per member and form, sealed (they hold medical and bank details).
// *storage.DB implements it.
type DraftStore interface {
	SaveFormDraft(ctx context.Context, openID, form string, step int, data map[string]string, at time.Time) error
	FormDraft(ctx context.Context, openID, form string) (step int, data map[string]string, updated time.Time, ok bool, err error)
	LatestFormDraft(ctx context.Context, openID string) (form string, ok bool, err error)
	DeleteFormDraft(ctx context.Context, openID, form string) error
}

// FormOptions are the services and settings of forms that need more than the
// session: durable drafts and photo steps.
type FormOptions struct {
	// Drafts keeps durable forms in the database (nil: Durable is ignored).
	Drafts DraftStore
	// Photos fetches and stores the images of photo steps.
	Photos PhotoStore
	// Idle is how long a durable form may rest before the next message
	// asks whether to continue or start over; default 30 minutes.
	Idle time.Duration
	// DraftKeep is how long a draft is kept after its last answer; default
	// 7 days. Sessions of durable forms are kept as long.
	DraftKeep time.Duration
	// StrayPhotoHint is the reply to a photo sent outside any form (what to
	// do with photos); a default is used when empty.
	StrayPhotoHint string
	// Now is the clock (default: the Bot's, or time.Now).
	Now func() time.Time
}

// Defaults of FormOptions.
const (
	DefaultDraftIdle = 30 * time.Minute
	DefaultDraftKeep = 7 * 24 * time.Hour
)

// UseForms sets the services of forms. Call it before serving.
func (r *Router) UseForms(o FormOptions) {
	r.drafts, r.photos, r.strayHint = o.Drafts, o.Photos, o.StrayPhotoHint
	r.idle, r.keep = o.Idle, o.DraftKeep
	if o.Now != nil {
		r.now = o.Now
	}
}

func (r *Router) clock() time.Time {
	if r.now != nil {
		return r.now()
	}
	return time.Now()
}

func (r *Router) draftIdle() time.Duration {
	if r.idle > 0 {
		return r.idle
	}
	return DefaultDraftIdle
}

func (r *Router) draftKeep() time.Duration {
	if r.keep > 0 {
		return r.keep
	}
	return DefaultDraftKeep
}

func (r *Router) durable(f *Form) bool { return f != nil && f.Durable && r.drafts != nil }

// SessionKeep is how long the session of s must be kept in the kv store: a
// durable form's as long as its draft, so a member back after days finds it
// without a database read. 0 means the configured session TTL.
func (r *Router) SessionKeep(s *Session) time.Duration {
	keep := r.varKeep(s)
	if f := r.forms[s.Form]; r.durable(f) {
		keep = max(keep, r.draftKeep())
	}
	return keep
}

// saveDraft writes the draft of a durable form after an accepted answer. A
// failure is logged: the session still holds the answers.
func (r *Router) saveDraft(ctx context.Context, s *Session, f *Form) {
	if !r.durable(f) || s.Form != f.Name {
		return
	}
	if err := r.drafts.SaveFormDraft(ctx, s.OpenID, f.Name, s.Step, s.Data, r.clock()); err != nil {
		r.logger.WarnContext(ctx, "save draft", "open_id", s.OpenID, "form", f.Name, "err", err)
	}
}

// dropDraft removes the draft of a durable form (submitted, abandoned, started
// over).
func (r *Router) dropDraft(ctx context.Context, openID string, f *Form) {
	if !r.durable(f) {
		return
	}
	if err := r.drafts.DeleteFormDraft(ctx, openID, f.Name); err != nil {
		r.logger.WarnContext(ctx, "delete draft", "open_id", openID, "form", f.Name, "err", err)
	}
}

// loadDraft puts a member's kept draft of f (not older than the keep period)
// into the session, asking whether to continue; ok is false when there is
// none.
func (r *Router) loadDraft(ctx context.Context, s *Session, f *Form) (Reply, bool) {
	step, data, updated, ok, err := r.drafts.FormDraft(ctx, s.OpenID, f.Name)
	if err != nil {
		r.logger.WarnContext(ctx, "load draft", "open_id", s.OpenID, "form", f.Name, "err", err)
		return Reply{}, false
	}
	if !ok {
		return Reply{}, false
	}
	if r.clock().Sub(updated) > r.draftKeep() {
		r.dropDraft(ctx, s.OpenID, f)
		return Reply{}, false
	}
	if s.Data == nil {
		s.Data = map[string]string{}
	}
	for k, v := range data { // over what Guard prefilled
		s.Data[k] = v
	}
	s.Form, s.Edit, s.Pending = f.Name, false, pendingResume
	s.Step = f.nextFrom(min(max(step, 0), len(f.Steps)), s.Data)
	return Text(f.prompt(ctx, s)), true
}

// startForm starts f; a durable form with a kept draft offers to continue it.
func (r *Router) startForm(ctx context.Context, s *Session, f *Form) (Reply, error) {
	rep, err := f.start(ctx, s)
	if err != nil || !r.durable(f) {
		return rep, err
	}
	if offer, ok := r.loadDraft(ctx, s, f); ok {
		return offer, nil
	}
	return rep, nil
}

// RestoreDraft is called by the engine for a member with neither a session
// nor a recent message (a new member, one back after days, or a kv store that
// lost its data): when the member has a kept draft, the session takes it up
// and the member is asked whether to continue. ok is false otherwise.
func (r *Router) RestoreDraft(ctx context.Context, s *Session) (Reply, bool) {
	if r.drafts == nil {
		return Reply{}, false
	}
	name, ok, err := r.drafts.LatestFormDraft(ctx, s.OpenID)
	if err != nil {
		r.logger.WarnContext(ctx, "latest draft", "open_id", s.OpenID, "err", err)
		return Reply{}, false
	}
	f := r.forms[name]
	if !ok || !r.durable(f) {
		return Reply{}, false
	}
	s.Data = map[string]string{}
	return r.loadDraft(withClock(ctx, r.clock), s, f)
}

// idleResume asks a member back in a durable form after a pause whether to
// continue or start over.
func (r *Router) idleResume(ctx context.Context, s *Session, f *Form) bool {
	if !r.durable(f) || s.Pending != "" || s.Updated.IsZero() {
		return false
	}
	if r.clock().Sub(s.Updated) < r.draftIdle() {
		return false
	}
	s.Pending = pendingResume
	return true
}

// resumeAnswer handles the reply to "继续 / 重新开始 / 取消".
func (r *Router) resumeAnswer(ctx context.Context, s *Session, f *Form, in Input, cmd string) (Reply, error) {
	yes, isYesNo := parse.YesNo(cmd)
	switch {
	case cmd == "继续" || cmd == "接着填" || cmd == "继续填" || (isYesNo && yes):
		s.Pending = ""
		return Text(msgGoOn + "\n\n" + f.prompt(ctx, s)), nil
	case cmd == "重新开始" || cmd == "从头填" || cmd == "重填" || cmd == "重新填" || cmd == "从头开始":
		s.Pending = ""
		r.dropDraft(ctx, s.OpenID, f)
		rep, err := f.start(ctx, s)
		if err != nil {
			return Reply{}, err
		}
		return Text(msgRestarted + "\n\n" + rep.Text), nil
	case cancelWords[cmd] || (isYesNo && !yes):
		r.dropDraft(ctx, s.OpenID, f)
		f.end(s)
		return Text(fmt.Sprintf(msgCancelled, f.Title)), nil
	}
	if name, ok := r.keywords[cmd]; ok {
		return r.runIntent(ctx, s, f, name, in)
	}
	if r.interrupt != nil {
		if ans, ok := r.interrupt(ctx, s, in); ok {
			return r.resume(ctx, s, f, ans), nil
		}
	}
	return Text(msgResumeChoose + "\n\n" + f.prompt(ctx, s)), nil
}

// DraftReminder is the message for a member whose draft of form expires at
// expires, for the job that sends reminders (storage.DB.DraftsToRemind).
func (r *Router) DraftReminder(form string, expires time.Time) string {
	title := form
	if f := r.forms[form]; f != nil {
		title = f.Title
	}
	return fmt.Sprintf(msgDraftReminder, title, parse.FormatShortDate(expires.In(parse.China)), r.keywordOf(form))
}
