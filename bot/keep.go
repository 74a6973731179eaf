package bot

import "time"

// KeepSessionWhile keeps the session of a member whose session variable name is set for at
// least d, even when the session TTL is shorter: state that lives in the session must last
// as long as what it stands for (a 人工 hand-off that stays open for 48 hours without
// activity). Register it before the router serves.
func (r *Router) KeepSessionWhile(name string, d time.Duration) {
	if r.varKeeps == nil {
		r.varKeeps = map[string]time.Duration{}
	}
	r.varKeeps[name] = d
}

// varKeep is the longest keep of the variables set in s (0: none).
func (r *Router) varKeep(s *Session) time.Duration {
	var keep time.Duration
	for name, d := range r.varKeeps {
		if s.Var(name) != "" {
			keep = max(keep, d)
		}
	}
	return keep
}
