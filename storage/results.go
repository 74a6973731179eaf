package storage

import "errors"

// ErrInvalid marks input that storage refuses to store (a missing member number, an unknown
// keyword match kind, …). Callers test it with errors.Is; the wrapped message says which field.
var ErrInvalid = errors.New("invalid")

// Rejected marks a record that UpsertMembers did not store; UpsertOutcome.Err says why.
const Rejected UpsertResult = Unchanged + 1

// String names the result for logs and test messages.
func (r UpsertResult) String() string {
	switch r {
	case Inserted:
		return "inserted"
	case Updated:
		return "updated"
	case Unchanged:
		return "unchanged"
	case Rejected:
		return "rejected"
	}
	return "unknown"
}

// UpsertOutcome is what UpsertMembers did with one record. Err is non-nil exactly when
// Result is Rejected.
type UpsertOutcome struct {
	Result UpsertResult
	Err    error
}
