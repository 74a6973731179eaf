package handlers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"unionbot/bot"
)

// A bare number ("3", "第三个") answers a question only when the last reply
// asked for one: a list of FAQ guesses (1–3 pick one of them) or the FAQ list
// or a category (the number is an FAQ id). Otherwise the bot asks what it
// means, rather than opening an unrelated FAQ entry long after the list that
// numbered it. The question lasts one turn and at most numberQuestionTTL.

// varNumberQ is the session variable holding the pending number question:
// "<kind>|<unix seconds asked>|<ids, comma-joined>".
const varNumberQ = "number_q"

// legacyVarChoices held offered FAQ ids before varNumberQ; it is dropped.
const legacyVarChoices = "faq_choices"

// Kinds of number question.
const (
	numberFAQChoice = "choice" // n picks the n-th of the ids offered
	numberFAQID     = "faq_id" // n is an FAQ id from the list shown
)

// numberQuestionTTL is how long a number question stays answerable: a reply
// "just shown", not one from the morning.
const numberQuestionTTL = 30 * time.Minute

// numberQuestion is a pending question that asked for a number.
type numberQuestion struct {
	kind string // "" when none is pending
	ids  []int64
}

// askNumber records that the reply being sent asks for a number.
func askNumber(sess *bot.Session, kind string, now time.Time, ids []int64) {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	sess.SetVar(varNumberQ, fmt.Sprintf("%s|%d|%s", kind, now.Unix(), strings.Join(parts, ",")))
}

// forgetNumberQuestion drops the pending number question.
func forgetNumberQuestion(sess *bot.Session) {
	sess.SetVar(varNumberQ, "")
	sess.SetVar(legacyVarChoices, "")
}

// takeNumberQuestion returns the pending number question, if it is still
// fresh, and forgets it: it is answered by this turn or not at all.
func takeNumberQuestion(sess *bot.Session, now time.Time) numberQuestion {
	v := sess.Var(varNumberQ)
	forgetNumberQuestion(sess)
	kind, rest, ok := strings.Cut(v, "|")
	if !ok {
		return numberQuestion{}
	}
	at, list, _ := strings.Cut(rest, "|")
	secs, err := strconv.ParseInt(at, 10, 64)
	if err != nil || now.Sub(time.Unix(secs, 0)) > numberQuestionTTL {
		return numberQuestion{}
	}
	q := numberQuestion{kind: kind}
	for _, p := range strings.Split(list, ",") {
		if id, err := strconv.ParseInt(p, 10, 64); err == nil {
			q.ids = append(q.ids, id)
		}
	}
	if kind == numberFAQChoice && len(q.ids) == 0 {
		return numberQuestion{}
	}
	return q
}

// answerNumber answers a bare number n given the pending question q.
func (s *Knowledge) answerNumber(sess *bot.Session, kb *knowledge, q numberQuestion, n int64) bot.Reply {
	switch q.kind {
	case numberFAQChoice:
		if n >= 1 && int(n) <= len(q.ids) {
			if e, ok := kb.entries[q.ids[n-1]]; ok {
				return bot.Text(answerText(e))
			}
		}
		// Out of range: ask again, with the same choices still open.
		askNumber(sess, numberFAQChoice, s.now(), q.ids)
		return bot.Text(fmt.Sprintf(msgChoiceRange, len(q.ids)))
	case numberFAQID:
		if e, ok := kb.entries[n]; ok {
			return bot.Text(answerText(e))
		}
		askNumber(sess, numberFAQID, s.now(), nil)
		return bot.Text(fmt.Sprintf(msgNoSuchFAQ, n))
	}
	return bot.Text(fmt.Sprintf(msgWhatNumber, n))
}
