package storage

import (
	"errors"
	"time"
)

// Domain errors. Storage maps driver facts to these (sql.ErrNoRows → ErrNotFound,
// duplicate key → ErrConflict); callers test them with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Member statuses as written in the roster (docs/CONTRACTS.md §3).
const (
	StatusActive      = "在册"
	StatusTransferred = "转出"
	StatusWithdrawn   = "退会"
)

// Unit is a grassroots union (基层工会).
type Unit struct {
	ID   int64
	Name string
}

// Member is one enrolled union member. IDNumber and Phone are plaintext here;
// at rest they are encrypted and only findable by keyed hash.
type Member struct {
	ID             int64
	MemberNo       string
	Name           string
	IDNumber       string
	Phone          string
	UnitID         int64
	UnitName       string
	JoinedOn       time.Time // date only, UTC midnight; zero when unknown
	Status         string
	MutualAidYears []int  // sorted ascending
	OpenID         string // bound WeChat openid, "" when unbound
	BoundAt        time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// MemberRecord is one validated roster row to upsert (keyed by MemberNo).
type MemberRecord struct {
	MemberNo       string
	Name           string
	IDNumber       string
	Phone          string // may be ""
	UnitName       string
	JoinedOn       time.Time // zero when the row had none
	Status         string
	MutualAidYears []int
	// Keep marks optional columns the source file did not have at all: for an
	// existing member their stored values stay as they are (an empty cell in
	// a column that is present still means "none" / the default).
	Keep KeepFields
}

// KeepFields names the optional roster columns a record leaves untouched.
type KeepFields struct {
	Phone, JoinedOn, Status, MutualAidYears bool
}

// UpsertResult says what UpsertMembers did with one record.
type UpsertResult int

const (
	Inserted UpsertResult = iota + 1
	Updated
	Unchanged
)

// Enrollment is one mutual-aid cover year (互助保障参保年度) of a member.
type Enrollment struct {
	MemberID  int64
	Year      int
	CoverFrom time.Time // inclusive, date
	CoverTo   time.Time // inclusive, date
}

// FAQ is one knowledge-base entry.
type FAQ struct {
	ID         int64
	Question   string
	Alternates []string // other phrasings of the question
	Answer     string
	Category   string
	Enabled    bool
	UpdatedAt  time.Time
}

// Keyword rule match kinds.
const (
	MatchExact    = "exact"
	MatchContains = "contains"
	MatchRegex    = "regex"
)

// KeywordRule is an officer-defined auto-reply, checked before the FAQ.
type KeywordRule struct {
	ID       int64
	Pattern  string
	Match    string // MatchExact, MatchContains or MatchRegex
	Reply    string
	Priority int // higher first
	Enabled  bool
}

// Follower is a WeChat user who follows (or followed) the official account.
type Follower struct {
	OpenID         string
	Subscribed     bool
	SubscribedAt   time.Time
	UnsubscribedAt time.Time
}
