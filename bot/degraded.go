package bot

import (
	"context"
	"strings"
)

// When the kv store is down the engine has no session, no lock and no
// de-duplication, so a WeChat retry could run a handler twice and a form
// answer could land on the wrong step. It still answers what is harmless to
// answer twice and needs no conversation state — the menu, FAQ, small talk,
// keyword rules — and says busy for everything else (forms, binding,
// unbinding). Handlers opt in per route with Router.SideEffectFree; anything
// not marked fails closed.

// FallbackRoute names the fallback handler in SideEffectFree.
const FallbackRoute = "(fallback)"

// noRoute is what an input no handler answers routes to (a VIEW event, say):
// nothing happens and nothing is said, so it is always safe.
const noRoute = "(none)"

// SideEffectFree marks intents (by name) and FallbackRoute as answerable
// without the kv store: running them twice changes nothing and they need no
// session. Forms are never side-effect free; marking one panics.
func (r *Router) SideEffectFree(names ...string) {
	if r.safe == nil {
		r.safe = map[string]bool{}
	}
	for _, n := range names {
		if _, isForm := r.forms[n]; isForm {
			panic("bot: a form cannot be side-effect free: " + n)
		}
		if n != FallbackRoute && !r.HasIntent(n) {
			panic("bot: SideEffectFree: unknown intent " + n)
		}
		r.safe[n] = true
	}
}

// routeName names what would answer in for a member with no conversation
// state: an intent name, FallbackRoute, noRoute, or "" for anything else
// (an event handler, a prefix command), which is never side-effect free.
// It follows route for an idle session.
func (r *Router) routeName(in Input) string {
	if in.Kind == KindEvent {
		if in.Event == EventClick {
			if _, ok := r.intents[in.EventKey]; ok {
				return in.EventKey
			}
			return FallbackRoute // an unknown key shows the menu via the fallback
		}
		if _, ok := r.events[in.Event]; ok {
			return ""
		}
		return noRoute
	}
	if in.Kind == KindVoice && in.Text != "" {
		in.Kind = KindText
	}
	if in.Kind != KindText {
		return FallbackRoute
	}
	cmd := NormalizeCommand(in.Text)
	if name, ok := r.keywords[cmd]; ok {
		return name
	}
	for _, p := range r.prefixes {
		if strings.HasPrefix(cmd, p.prefix) {
			return ""
		}
	}
	return FallbackRoute
}

// RouteStateless answers in without conversation state when its route is
// side-effect free; ok is false when it is not (the caller says busy). A
// fallback answer carries a note that whatever the member was doing cannot go
// on right now: free text might have been meant for a form we cannot see.
func (r *Router) RouteStateless(ctx context.Context, in Input) (rep Reply, ok bool) {
	name := r.routeName(in)
	if name != noRoute && !r.safe[name] {
		return Reply{}, false
	}
	s := Session{OpenID: in.OpenID}
	rep, err := r.Route(ctx, &s, in)
	if err != nil || rep.Text == msgSystemBusy {
		return Reply{}, false
	}
	if name == FallbackRoute && !rep.Empty() {
		rep.Text += "\n\n" + msgDegradedNote
	}
	return rep, true
}
