package handlers

// Answer and offer: a message asking about something a form does (how to claim 互助金, what
// to do about unpaid wages) gets a short answer and the offer to start that form with one
// reply, "是", besides its keyword. One mechanism for every capability that offers a form:
// each declares what it hears (its trigger words are data in its own package) and what it
// says; the knowledge fallback answers and keeps the offer for the next message, which the
// screen hook takes (offerScreen).

import (
	"context"
	"strconv"
	"strings"
	"time"

	"unionbot/bot"
	"unionbot/faq"
	"unionbot/parse"
)

// formOffer is one capability's answer and offer.
type formOffer struct {
	form string // the form's intent
	// asks reports whether text asks about it, and the short answer to give when neither a
	// keyword rule nor a confident FAQ entry answers it.
	asks func(text string) (advice string, ok bool)
	// offer is the line that offers the form, naming the one reply.
	offer string
	// fromFAQ: the FAQ's confident entry answers instead of the short answer, and close
	// guesses are left to the FAQ's numbered list (legal questions, which the FAQ covers by
	// topic). Without it the short answer is the answer (how to claim: the form is).
	fromFAQ bool
}

// varOffer is the session variable holding the offer just made: "<form>|<unix seconds>".
const varOffer = "offer"

// offerTTL is how long the offer stays open for its one reply: a reply "just shown".
const offerTTL = numberQuestionTTL

const msgOfferDeclined = "好的。还有其他问题随时发给我，回复“菜单”查看全部服务。"

// addOffer adds a capability's offer; offers are tried in the order added.
func (s *Knowledge) addOffer(o formOffer) { s.offers = append(s.offers, o) }

// answerOffer answers a message one of the offers hears: an officers' keyword rule, the FAQ's
// confident entry (fromFAQ) or the offer's short answer, then the offer, kept for the next
// message.
func (s *Knowledge) answerOffer(ctx context.Context, sess *bot.Session, kb *knowledge, text string) (bot.Reply, bool) {
	for _, o := range s.offers {
		advice, ok := o.asks(text)
		if !ok {
			continue
		}
		answer, tail := advice, ""
		if r, ok := kb.rules.Match(text); ok {
			answer = r.Reply // the officers' own wording, as they wrote it
		} else if o.fromFAQ {
			tail = "\n" + msgAnswerTail // as the FAQ's answers end
			switch level, results := kb.index.Match(text); {
			case level == faq.Confident && len(results) > 0:
				if e, ok := kb.entries[results[0].ID]; ok {
					answer = "【" + e.Question + "】\n" + e.Answer
				}
			case level == faq.Middling && len(results) > 0:
				return bot.Reply{}, false
			}
		}
		sess.SetVar(varOffer, o.form+"|"+strconv.FormatInt(s.now().Unix(), 10))
		return bot.Text(answer + "\n\n" + o.offer + tail), true
	}
	return bot.Reply{}, false
}

// offerScreen answers the message right after an offer (a screen hook, so that any message
// takes the offer, whoever answers it): a yes starts the form, a no is acknowledged; anything
// else is answered as usual, the offer gone.
func (s *Knowledge) offerScreen(ctx context.Context, sess *bot.Session, in bot.Input) bot.ScreenResult {
	v := sess.Var(varOffer)
	if v == "" {
		return bot.ScreenResult{}
	}
	sess.SetVar(varOffer, "")
	form, at, _ := strings.Cut(v, "|")
	secs, err := strconv.ParseInt(at, 10, 64)
	if sess.Form != "" || err != nil || s.now().Sub(time.Unix(secs, 0)) > offerTTL || s.run == nil {
		return bot.ScreenResult{}
	}
	cmd := bot.NormalizeCommand(in.Text)
	yes, ok := parse.YesNo(cmd)
	switch {
	case (ok && yes) || cmd == "开始" || cmd == "申请" || cmd == "马上申请" || cmd == "现在申请":
		rep, err := s.run(ctx, form, sess, in)
		if _, isUser := bot.UserMessage(err); err != nil && !isUser {
			s.logger.ErrorContext(ctx, "start the offered form", "open_id", in.OpenID, "form", form, "err", err)
		}
		if err != nil {
			rep = bot.ReplyFor(err)
		}
		return bot.ScreenResult{Handled: true, Reply: rep}
	case ok:
		return bot.ScreenResult{Handled: true, Reply: bot.Text(msgOfferDeclined)}
	}
	return bot.ScreenResult{}
}

// chainScreens is one screen hook made of several: the first that handles a message answers
// it; the leads of the others go before the answer.
func chainScreens(hooks ...func(ctx context.Context, s *bot.Session, in bot.Input) bot.ScreenResult) func(ctx context.Context, s *bot.Session, in bot.Input) bot.ScreenResult {
	return func(ctx context.Context, s *bot.Session, in bot.Input) bot.ScreenResult {
		var leads []string
		for _, h := range hooks {
			res := h(ctx, s, in)
			if res.Handled {
				if len(leads) > 0 {
					res.Reply.Text = strings.Join(append(leads, res.Reply.Text), "\n\n")
				}
				return res
			}
			if res.Lead != "" {
				leads = append(leads, res.Lead)
			}
		}
		return bot.ScreenResult{Lead: strings.Join(leads, "\n\n")}
	}
}
