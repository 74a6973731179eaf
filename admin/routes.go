package admin

import (
	"net/http"

	"unionbot/admin/auth"
)

// apiRoute is one /api/v1 endpoint; the OpenAPI test walks this list.
type apiRoute struct {
	Method, Pattern string
	handler         func(*Server, http.ResponseWriter, *http.Request, auth.Principal)
}

// apiRoutes lists every /api/v1 route (docs/openapi.yaml documents each one).
var apiRoutes = []apiRoute{
	{"GET", "/api/v1/members", (*Server).apiListMembers},
	{"GET", "/api/v1/members/{member_no}", (*Server).apiMember},
	{"POST", "/api/v1/members/{member_no}/unlock-binding", (*Server).apiUnlockBinding},
	{"POST", "/api/v1/members/{member_no}/binding-code", (*Server).apiBindingCode},
	{"POST", "/api/v1/members/{member_no}/unbind", (*Server).apiUnbind},
	{"GET", "/api/v1/audit", (*Server).apiAudit},
	{"GET", "/api/v1/faqs", (*Server).apiListFAQs},
	{"POST", "/api/v1/faqs", (*Server).apiCreateFAQ},
	{"PUT", "/api/v1/faqs/{id}", (*Server).apiUpdateFAQ},
	{"DELETE", "/api/v1/faqs/{id}", (*Server).apiRetireFAQ},
	{"GET", "/api/v1/unanswered", (*Server).apiUnanswered},
	{"POST", "/api/v1/unanswered/{id}/attach", (*Server).apiAttachUnanswered},
	{"POST", "/api/v1/unanswered/{id}/faq", (*Server).apiCreateFromUnanswered},
	{"GET", "/api/v1/claims", (*Server).apiListClaims},
	{"POST", "/api/v1/claims", (*Server).apiEnterClaim},
	{"GET", "/api/v1/claims/{number}", (*Server).apiClaim},
	{"POST", "/api/v1/claims/{number}/transitions", (*Server).apiClaimTransition},
	{"GET", "/api/v1/claim-rules", (*Server).apiClaimRules},
	{"PUT", "/api/v1/claim-rules", (*Server).apiSaveClaimRules},
	{"POST", "/api/v1/payments/results", (*Server).apiPaymentResults},
	{"GET", "/api/v1/payments/list", (*Server).apiPaymentList},
	{"GET", "/api/v1/stats/yearly", (*Server).apiYearlyStats},
	{"GET", "/api/v1/stats/public-list", (*Server).apiPublicList},
	{"PUT", "/api/v1/premiums", (*Server).apiSetPremium},
	{"POST", "/api/v1/premiums/imports", (*Server).apiImportPremiums},
	{"GET", "/api/v1/legal-cases", (*Server).apiListLegalCases},
	{"GET", "/api/v1/legal-cases/{number}", (*Server).apiLegalCase},
	{"POST", "/api/v1/legal-cases/{number}/assign", (*Server).apiAssignLegalCase},
	{"POST", "/api/v1/legal-cases/{number}/transitions", (*Server).apiTransitionLegalCase},
	{"POST", "/api/v1/legal-cases/{number}/notes", (*Server).apiLegalNote},
	{"POST", "/api/v1/notices", (*Server).apiCreateNotice},
	{"GET", "/api/v1/notices/{id}", (*Server).apiNotice},
	{"POST", "/api/v1/notices/{id}/publish", (*Server).apiPublishNotice},
	{"POST", "/api/v1/notices/{id}/cancel", (*Server).apiCancelNotice},
	{"GET", "/api/v1/activities/{id}/signups", (*Server).apiActivitySignups},
	{"GET", "/api/v1/handoffs", (*Server).apiListHandoffs},
	{"GET", "/api/v1/handoffs/{id}", (*Server).apiHandoff},
	{"POST", "/api/v1/handoffs/{id}/claim", (*Server).apiClaimHandoff},
	{"POST", "/api/v1/handoffs/{id}/replies", (*Server).apiReplyHandoff},
	{"POST", "/api/v1/handoffs/{id}/close", (*Server).apiCloseHandoff},
	{"POST", "/api/v1/roster/imports", (*Server).apiRosterImport},
	{"GET", "/api/v1/roster/imports/{id}", (*Server).apiRosterJob},
	{"GET", "/api/v1/keywords", (*Server).apiListKeywords},
	{"POST", "/api/v1/keywords", (*Server).apiCreateKeyword},
	{"PUT", "/api/v1/keywords/{id}", (*Server).apiUpdateKeyword},
	{"DELETE", "/api/v1/keywords/{id}", (*Server).apiDeleteKeyword},
	{"POST", "/api/v1/members/{member_no}/status", (*Server).apiMemberStatus},
}

// APIRoutes returns "METHOD /pattern" of every API route, for tests and docs.
func APIRoutes() []string {
	out := make([]string, len(apiRoutes))
	for i, r := range apiRoutes {
		out[i] = r.Method + " " + r.Pattern
	}
	return out
}

// Mount registers the console under /admin/ and the API under /api/v1/ on mux: every
// route of both is listed here.
func (s *Server) Mount(mux *http.ServeMux) {
	// Console: pages (GET) and form posts.
	page := func(pattern string, h func(*Server, http.ResponseWriter, *http.Request, auth.Principal)) {
		mux.Handle(pattern, s.protect(s.console(h)))
	}
	mux.Handle("GET /admin/assets/", http.StripPrefix("/admin/assets/", assetHandler()))
	mux.Handle("GET /admin/login", s.protect(http.HandlerFunc(s.handleLoginPage)))
	mux.Handle("POST /admin/login", s.protect(http.HandlerFunc(s.handleLogin)))
	mux.Handle("POST /admin/logout", s.protect(http.HandlerFunc(s.handleLogout)))
	mux.Handle("GET /admin/{$}", s.protect(s.console((*Server).handleDashboard)))
	mux.Handle("GET /admin", http.RedirectHandler("/admin/", http.StatusMovedPermanently))
	page("GET /admin/password", (*Server).handlePasswordPage)
	page("POST /admin/password", (*Server).handlePasswordChange)
	page("GET /admin/members", (*Server).handleMembers)
	page("GET /admin/members/{member_no}", (*Server).handleMember)
	page("POST /admin/members/{member_no}/unlock-binding", (*Server).handleUnlockBinding)
	page("POST /admin/members/{member_no}/binding-code", (*Server).handleBindingCode)
	page("POST /admin/members/{member_no}/unbind", (*Server).handleUnbind)
	page("POST /admin/members/{member_no}/reveal-id", (*Server).handleRevealID)
	page("GET /admin/notices", (*Server).handleNotices)
	page("GET /admin/notices/new", (*Server).handleNoticeEditor)
	page("POST /admin/notices", (*Server).handleCreateNotice)
	page("GET /admin/notices/{id}", (*Server).handleNotice)
	page("POST /admin/notices/{id}/publish", (*Server).handlePublishNotice)
	page("POST /admin/notices/{id}/cancel", (*Server).handleCancelNotice)
	page("POST /admin/notices/{id}/test-send", (*Server).handleTestSendNotice)
	page("GET /admin/notices/{id}/signups", (*Server).handleSignups)
	page("GET /admin/notices/{id}/signups.xlsx", (*Server).handleSignupsXLSX)
	page("POST /admin/notices/{id}/signups/{sid}/checkin", (*Server).handleCheckIn)
	page("GET /admin/audit", (*Server).handleAudit)
	page("GET /admin/handoffs", (*Server).handleHandoffs)
	page("GET /admin/handoffs/{id}", (*Server).handleHandoff)
	page("POST /admin/handoffs/{id}/claim", (*Server).handleClaimHandoff)
	page("POST /admin/handoffs/{id}/reply", (*Server).handleReplyHandoff)
	page("POST /admin/handoffs/{id}/close", (*Server).handleCloseHandoff)
	page("GET /admin/roster", (*Server).handleRosterPage)
	page("POST /admin/roster", (*Server).handleRosterUpload)
	page("POST /admin/roster/apply", (*Server).handleRosterApply)
	page("GET /admin/roster/imports/{id}", (*Server).handleRosterJob)
	page("GET /admin/keywords", (*Server).handleKeywords)
	page("POST /admin/keywords", (*Server).handleCreateKeyword)
	page("POST /admin/keywords/{id}", (*Server).handleUpdateKeyword)
	page("POST /admin/keywords/{id}/delete", (*Server).handleDeleteKeyword)
	page("GET /admin/wechat", (*Server).handleOfficerLink)
	page("POST /admin/wechat/code", (*Server).handleOfficerLinkCode)
	page("POST /admin/wechat/unlink", (*Server).handleOfficerUnlink)
	page("GET /admin/members/{member_no}/status", (*Server).handleMemberStatusPage)
	page("POST /admin/members/{member_no}/status", (*Server).handleMemberStatus)
	page("GET /admin/officers", (*Server).handleOfficers)
	page("POST /admin/officers", (*Server).handleCreateOfficer)
	page("GET /admin/officers/{id}", (*Server).handleOfficer)
	page("POST /admin/officers/{id}", (*Server).handleUpdateOfficer)
	page("POST /admin/officers/{id}/password", (*Server).handleResetPassword)
	page("GET /admin/faqs", (*Server).handleFAQs)
	page("POST /admin/faqs", (*Server).handleCreateFAQ)
	page("GET /admin/faqs/{id}", (*Server).handleFAQ)
	page("POST /admin/faqs/{id}", (*Server).handleUpdateFAQ)
	page("POST /admin/faqs/{id}/retire", (*Server).handleRetireFAQ)
	page("GET /admin/unanswered", (*Server).handleUnanswered)
	page("POST /admin/unanswered/{id}/attach", (*Server).handleAttachUnanswered)
	page("POST /admin/unanswered/{id}/faq", (*Server).handleCreateFromUnanswered)
	page("GET /admin/legal", (*Server).handleLegalCases)
	page("GET /admin/legal/stats", (*Server).handleLegalStats)
	page("GET /admin/legal/{number}", (*Server).handleLegalCase)
	page("GET /admin/legal/{number}/photos/{id}", (*Server).handleLegalPhoto)
	page("POST /admin/legal/{number}/assign", (*Server).handleLegalAssign)
	page("POST /admin/legal/{number}/transitions", (*Server).handleLegalTransition)
	page("POST /admin/legal/{number}/notes", (*Server).handleLegalNote)
	page("GET /admin/claims/new", (*Server).handleClaimNew)
	mux.Handle("POST /admin/claims/new", limitEntry(s.protect(s.console((*Server).handleClaimCreate))))
	page("GET /admin/payments", (*Server).handlePayments)
	page("POST /admin/payments/results", (*Server).handlePaymentResults)
	page("POST /admin/payments/{number}", (*Server).handleMarkPayment)
	page("GET /admin/premiums", (*Server).handlePremiums)
	page("POST /admin/premiums", (*Server).handleSetPremium)
	page("POST /admin/premiums/import", (*Server).handleImportPremiums)
	page("GET /admin/stats", (*Server).handleStats)
	page("GET /admin/stats/public", (*Server).handlePublicList)
	page("GET /admin/claims", (*Server).handleClaims)
	page("GET /admin/claims/{number}", (*Server).handleClaim)
	page("POST /admin/claims/{number}/transitions", (*Server).handleClaimTransition)
	page("GET /admin/claims/{number}/photos/{id}", (*Server).handleClaimPhoto)
	page("GET /admin/claim-rules", (*Server).handleClaimRules)
	page("POST /admin/claim-rules", (*Server).handleSaveClaimRules)
	mux.Handle("/admin/", s.protect(s.console(func(s *Server, w http.ResponseWriter, r *http.Request, _ auth.Principal) {
		s.fail(w, r, errNotFound)
	})))

	// API.
	for _, rt := range apiRoutes {
		h := s.protect(s.api(rt.handler))
		if rt.Method == "POST" && rt.Pattern == "/api/v1/claims" {
			h = limitEntry(h)
		}
		mux.Handle(rt.Method+" "+rt.Pattern, h)
	}
	mux.Handle("/api/v1/", s.protect(s.api(func(s *Server, w http.ResponseWriter, r *http.Request, _ auth.Principal) {
		s.fail(w, r, userErr(http.StatusNotFound, "not_found", "没有这个接口。"))
	})))
}
