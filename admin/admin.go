// Package admin is the officers' console (/admin/, server-rendered templates with their
// assets embedded in the binary) and the officers' JSON API (/api/v1/, DESIGN §11). Both
// authenticate the same way (console session cookie, or an API bearer token), decide with
// the one function auth.Authorize (role × unit), and write every change through storage
// with its audit row in the same transaction.
//
// Capabilities added later (claims, legal aid, notices, the 人工 inbox) add their pages to
// the navigation in nav.go, their routes to routes.go and their actions to auth's policy.
package admin

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"unionbot/handlers"
	"unionbot/roster"
	"unionbot/storage"
	"unionbot/storage/kv"
)

// Deps is what the console and API need.
type Deps struct {
	DB     *storage.DB
	KV     kv.Store // console sessions and login throttles
	Logger *slog.Logger
	// UnionName titles the console (UNIONBOT_UNION_NAME).
	UnionName string
	// PublicURL, when https, makes the session cookie Secure (UNIONBOT_PUBLIC_URL).
	PublicURL string
	// TrustedProxies are believed for X-Forwarded-For (UNIONBOT_TRUSTED_PROXIES).
	TrustedProxies []netip.Prefix
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// HandoffPoll is how often the 人工 inbox page looks for new conversations (15s).
	HandoffPoll time.Duration
	// RosterJobs runs confirmed roster imports (one per replica; its Loop resumes imports
	// a dead replica left). New makes one on DB when nil.
	RosterJobs *roster.Jobs
}

// Server serves the console and the API.
type Server struct {
	db        *storage.DB
	kv        kv.Store
	logger    *slog.Logger
	unionName string
	secure    bool
	trusted   []netip.Prefix
	now       func() time.Time
	cop       *http.CrossOriginProtection
	publicURL string // UNIONBOT_PUBLIC_URL: notices link to their page under it

	handoffPoll time.Duration
	rosterJobs  *roster.Jobs
	claimEntry  *handlers.Claims // 代录: the chat's claim checks and submission (claims_proxy.go)
}

// New builds the console and API server.
func New(d Deps) *Server {
	s := &Server{
		db: d.DB, kv: d.KV, logger: d.Logger, unionName: d.UnionName,
		secure:  strings.HasPrefix(strings.ToLower(d.PublicURL), "https://"),
		trusted: d.TrustedProxies, now: d.Now, publicURL: d.PublicURL,
		cop: http.NewCrossOriginProtection(),
	}
	if d.DB != nil {
		s.claimEntry = handlers.NewClaims(d.DB, func() time.Time { return s.now() })
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.handoffPoll = d.HandoffPoll; s.handoffPoll <= 0 {
		s.handoffPoll = 15 * time.Second
	}
	if s.rosterJobs = d.RosterJobs; s.rosterJobs == nil {
		s.rosterJobs = roster.NewJobs(d.DB, s.logger)
	}
	if s.unionName == "" {
		s.unionName = "工会"
	}
	// Refused cross-origin requests get the API's error shape (the console's forms are
	// same-origin, so a person never meets this).
	s.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, errCrossOrigin)
	}))
	return s
}
