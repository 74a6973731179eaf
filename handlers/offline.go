package handlers

import "unionbot/bot"

// markSideEffectFree lists the routes the engine may answer while the kv
// store is down (no session, no lock, no de-duplication, no plain-mode nonce
// check): fixed texts, the menu and the knowledge base, which change nothing
// and reveal nothing about a member when run twice or for a forged sender.
// Member look-ups (my_info, mutual_aid, progress, activities, which depend on
// who asks), binding, unbinding, the forms, 人工 (it opens a conversation)
// and follow events are left out and fail closed with the busy text. A
// capability whose intent gains a side effect must come off this list.
func markSideEffectFree(r *bot.Router) {
	r.SideEffectFree(IntentMenu, IntentFAQ, bot.FallbackRoute)
}
