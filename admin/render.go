package admin

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"unionbot/admin/auth"
	"unionbot/claims"
	"unionbot/legalaid"
	"unionbot/parse"
	"unionbot/web"
)

//go:embed templates/*.html templates/partials/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// shanghai is the time zone pages show times in (stored times are UTC).
var shanghai = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(shanghai).Format("2006-01-02 15:04")
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.Format("2006-01-02")
	},
	"roleLabel": func(r auth.Role) string { return r.Label() },
	"hasRole": func(roles []string, r auth.Role) bool {
		for _, x := range roles {
			if x == string(r) {
				return true
			}
		}
		return false
	},
	"roleLabels": func(roles []string) string {
		var out []string
		for _, r := range auth.RolesFromStrings(roles) {
			out = append(out, r.Label())
		}
		return strings.Join(out, "、")
	},
	"join":        strings.Join,
	"sub":         func(a, b int) int { return a - b },
	"add":         func(a, b int) int { return a + b },
	"actionLabel": actionLabel,
	// fen shows an amount of money (claims.Fen or *claims.Fen) as 3,500.00; nil is "—".
	"fen": func(v any) string {
		switch f := v.(type) {
		case claims.Fen:
			return parse.FormatFen(int64(f))
		case *claims.Fen:
			if f != nil {
				return parse.FormatFen(int64(*f))
			}
		}
		return "—"
	},
	"payOutcome":  paymentOutcomeLabel,
	"crisisLabel": legalaid.CrisisLabel,
}

// pages are parsed once: each page file with the layout.
var pages = func() map[string]*template.Template {
	// Partials (templates/partials) are shared by the pages that use them.
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		out[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, n))
	}
	return out
}()

func assetHandler() http.Handler {
	sub, _ := fs.Sub(assetFS, "assets")
	fsrv := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fsrv.ServeHTTP(w, r)
	})
}

// navItem is one entry of the console's navigation.
type navItem struct {
	Path, Label string
	Active      bool
	Badge       int    // a count that needs attention (urgent legal-aid cases), 0: none
	BadgeTitle  string // what Badge counts
}

// nav lists the pages p may open. Later capabilities add their pages here.
func nav(p auth.Principal, path string) []navItem {
	items := []struct {
		path, label string
		act         auth.Action
	}{
		{"/admin/", "概览", auth.ViewDashboard},
		{"/admin/members", "会员", auth.ReadMembers},
		{"/admin/claims", "互助金", auth.ReadClaims},
		{"/admin/notices", "通知活动", auth.ReadNotices},
		{"/admin/claims/new", "代录申请", auth.EnterClaims},
		{"/admin/payments", "互助金发放", auth.ViewPayments},
		{"/admin/stats", "互助金统计", auth.ReadClaimStats},
		{"/admin/premiums", "缴费", auth.ManageClaimRules},
		{"/admin/legal", "法律援助", auth.ReadLegalCases},
		{"/admin/unanswered", "未答问题", auth.ReadFAQ},
		{"/admin/faqs", "常见问题", auth.ReadFAQ},
		{"/admin/handoffs", "人工", auth.ReadHandoffs},
		{"/admin/roster", "名册导入", auth.ImportRoster},
		{"/admin/keywords", "关键词", auth.ManageKeywords},
		{"/admin/audit", "审计", auth.ReadAudit},
		{"/admin/officers", "干部", auth.ManageOfficers},
	}
	var out []navItem
	for _, it := range items {
		if !auth.Can(p, it.act) {
			continue
		}
		active := path == it.path || (it.path != "/admin/" && strings.HasPrefix(path, it.path))
		out = append(out, navItem{Path: it.path, Label: it.label, Active: active})
	}
	return out
}

// navBadges puts the number of open urgent legal-aid cases (the principal's unit's) on the
// 法律援助 entry, so an officer on any page sees a crisis waiting. A failed count shows no
// badge rather than failing the page.
func (s *Server) navBadges(r *http.Request, p auth.Principal, items []navItem) {
	for i := range items {
		if items[i].Path != "/admin/legal" {
			continue
		}
		unit, _ := auth.UnitFilter(p, 0)
		counts, err := s.db.LegalCounts(r.Context(), unit)
		if err != nil {
			web.Logger(r.Context(), s.logger).WarnContext(r.Context(), "legal badge", "err", err)
			return
		}
		items[i].Badge, items[i].BadgeTitle = counts.Urgent, "紧急未结案件"
	}
}

// pageData is what every template gets.
type pageData struct {
	Title     string
	UnionName string
	Principal *auth.Principal
	CSRF      string
	Nav       []navItem
	Flash     string
	Error     string
	Form      map[string]string
	Data      any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, page string, d *pageData) {
	s.renderStatus(w, r, http.StatusOK, page, d)
}

func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, status int, page string, d *pageData) {
	t, ok := pages[page]
	if !ok {
		panic("admin: no template " + page)
	}
	d.UnionName = s.unionName
	if st := stateFrom(r.Context()); st != nil && st.principal.Kind == auth.KindOfficer {
		p := st.principal
		d.Principal = &p
		d.CSRF = st.session.CSRF
		d.Nav = nav(p, r.URL.Path)
		s.navBadges(r, p, d.Nav)
		if st.session.Flash != "" {
			d.Flash = st.session.Flash
			st.session.Flash = ""
			_ = s.saveSession(r.Context(), st.sessionID, st.session)
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		web.Logger(r.Context(), s.logger).ErrorContext(r.Context(), "render page", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// flash keeps a notice for the next page of the session, then redirects there (POST,
// redirect, GET: a reload does not repeat the action).
func (s *Server) flashRedirect(w http.ResponseWriter, r *http.Request, msg, target string) {
	if st := stateFrom(r.Context()); st != nil && st.sessionID != "" {
		st.session.Flash = msg
		_ = s.saveSession(r.Context(), st.sessionID, st.session)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}
