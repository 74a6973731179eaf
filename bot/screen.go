package bot

import (
	"context"
	"strings"
)

// ScreenResult is what a screen hook decided about a message.
type ScreenResult struct {
	// Handled answers the message with Reply instead of the usual route; inside
	// a form the message is not taken as an answer (use FormPrompt to ask the
	// form's question again).
	Handled bool
	Reply   Reply
	// Lead, when not Handled, goes before the reply of the usual route.
	Lead string
}

// Screen sets a hook that sees every text message (and voice with recognition)
// before it is routed, inside a form too: crisis signals must be heard wherever
// they are typed, and a step may collect several messages. It runs on the hot
// path: it must be cheap for ordinary messages.
func (r *Router) Screen(h func(ctx context.Context, s *Session, in Input) ScreenResult) {
	r.screen = h
}

// screenRoute is route behind the screen hook.
func (r *Router) screenRoute(ctx context.Context, s *Session, in Input) (Reply, error) {
	if r.screen == nil || (in.Kind != KindText && (in.Kind != KindVoice || in.Text == "")) {
		return r.route(ctx, s, in)
	}
	res := r.screen(ctx, s, in)
	if res.Handled {
		return res.Reply, nil
	}
	rep, err := r.route(ctx, s, in)
	if err != nil || res.Lead == "" {
		return rep, err
	}
	return Text(strings.TrimSpace(res.Lead + "\n\n" + rep.Text)), nil
}

// FormPrompt is what the member's open form asks now (its current question, the
// summary or its pending yes/no), "" when no form is open.
func (r *Router) FormPrompt(ctx context.Context, s *Session) string {
	f := r.forms[s.Form]
	if f == nil {
		return ""
	}
	return f.prompt(ctx, s)
}

// FormStep is the key of the step the member's open form is at ("" at the
// summary, with a pending question, or without a form).
func (r *Router) FormStep(s *Session) string {
	f := r.forms[s.Form]
	if f == nil || s.Pending != "" || s.Step >= len(f.Steps) {
		return ""
	}
	return f.Steps[s.Step].Key
}

// IsCommand reports whether text is a keyword of an intent or a word that
// steers a form (取消, 返回, 确认, 修改 N…): what a step collecting free text
// must leave to the router.
func (r *Router) IsCommand(text string) bool {
	cmd := NormalizeCommand(text)
	if _, ok := r.keywords[cmd]; ok {
		return true
	}
	return cancelWords[cmd] || backWords[cmd] || confirmWords[cmd] || resumeWords[cmd] || editRe.MatchString(cmd)
}
