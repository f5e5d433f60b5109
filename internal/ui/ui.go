package ui

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/platform/authz"
)

//go:embed static
var staticFS embed.FS

//go:embed templates/*.html
var layoutFS embed.FS

// Static serves the stylesheet and vendored scripts under /static/, with
// long caching (file names are stable; the build id query string busts it).
func Static() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fsrv := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || strings.HasSuffix(r.URL.Path, ".md") || strings.HasSuffix(r.URL.Path, "SHA256SUMS") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

// NavItem is one link in the console sidebar, shown to those holding Perm
// somewhere (empty Perm: everyone signed in).
type NavItem struct {
	Path  string
	Label string
	Perm  authz.Perm
}

// ConsoleNav is the console's menu, in order.
var ConsoleNav = []NavItem{
	{Path: "/console", Label: "区域概览"},
	{Path: "/console/departments", Label: "部门管理", Perm: authz.ViewOrg},
	{Path: "/console/halls", Label: "大厅与窗口", Perm: authz.ViewOrg},
	{Path: "/console/items", Label: "事项管理", Perm: authz.EditItems},
	{Path: "/console/cases", Label: "办件受理与办理", Perm: authz.ViewCases},
	{Path: "/console/calendar", Label: "工作日历", Perm: authz.ViewOrg},
	{Path: "/console/staff", Label: "工作人员", Perm: authz.ViewOrg},
	{Path: "/console/identity", Label: "现场核验", Perm: authz.VerifyIdentity},
	{Path: "/console/oidc/clients", Label: "接入系统", Perm: authz.ManageClients},
	{Path: "/console/audit", Label: "审计日志", Perm: authz.ViewAudit},
	{Path: "/console/system", Label: "系统运行", Perm: authz.Platform},
	{Path: "/console/account", Label: "账号安全"},
}

// Flash is a one-time message carried across a redirect.
type Flash struct {
	Kind string // ok, error, warn
	Text string
}

// Crumb is one breadcrumb link.
type Crumb struct{ Href, Label string }

// Site names the portal and who runs it, shown on every page.
type Site struct {
	Name     string // 门户名称
	Operator string // 主办单位
	Province string // code of the province served, the portal's 地区 link
}

type siteKey struct{}

// WithSite returns r carrying the site identity for NewBase.
func WithSite(r *http.Request, s Site) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), siteKey{}, s))
}

// Base is what the layout needs; every page struct embeds it.
type Base struct {
	Site      Site
	Title     string
	Console   bool   // staff console shell instead of the portal shell
	User      string // signed-in staff member
	Citizen   string // signed-in account holder (portal), as shown
	Roles     string
	Nav       []NavLink
	Crumbs    []Crumb
	Flash     *Flash
	RequestID string
	Path      string
}

func (b Base) flashShown() bool { return b.Flash != nil }

// NavLink is a rendered NavItem.
type NavLink struct {
	Href, Label string
	Active      bool
}

type requestIDKey struct{}

type citizenKey struct{}

// WithCitizen returns ctx naming the signed-in account holder for the
// portal header (identity puts it there; ui imports no domain).
func WithCitizen(ctx context.Context, shown string) context.Context {
	return context.WithValue(ctx, citizenKey{}, shown)
}

// WithRequestID returns r's context carrying id, for error pages.
func WithRequestID(r *http.Request, id string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
}

// NewBase returns the portal shell for r.
func NewBase(r *http.Request, title string) Base {
	b := Base{Title: title, Path: r.URL.Path, Flash: TakeFlash(r)}
	b.Site, _ = r.Context().Value(siteKey{}).(Site)
	if b.Site.Name == "" {
		b.Site.Name = "政务服务网"
	}
	b.RequestID, _ = r.Context().Value(requestIDKey{}).(string)
	if p := authz.PrincipalFrom(r.Context()); p != nil {
		b.User = p.Name
	}
	b.Citizen, _ = r.Context().Value(citizenKey{}).(string)
	return b
}

// ConsoleBase returns the console shell for r: the sidebar shows what the
// signed-in staff member may use.
func ConsoleBase(r *http.Request, title string, crumbs ...Crumb) Base {
	b := NewBase(r, title)
	b.Console = true
	b.Crumbs = crumbs
	p := authz.PrincipalFrom(r.Context())
	if p == nil {
		return b
	}
	var roles []string
	seen := map[authz.Role]bool{}
	for _, g := range p.Grants {
		if !seen[g.Role] {
			seen[g.Role] = true
			roles = append(roles, g.Role.Label())
		}
	}
	b.Roles = strings.Join(roles, "、")
	for _, it := range ConsoleNav {
		if it.Perm != "" && !p.CanAny(it.Perm) {
			continue
		}
		active := r.URL.Path == it.Path || (it.Path != "/console" && strings.HasPrefix(r.URL.Path, it.Path+"/"))
		b.Nav = append(b.Nav, NavLink{Href: it.Path, Label: it.Label, Active: active})
	}
	return b
}

const flashCookie = "yw_flash"

// SetFlash stores a message for the next page r's client loads.
func SetFlash(w http.ResponseWriter, kind, text string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(kind + "|" + text), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 60})
}

// TakeFlash returns the pending flash message, if any; rendering a page
// that shows it clears it.
func TakeFlash(r *http.Request) *Flash {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	v, err := url.QueryUnescape(c.Value)
	if err != nil {
		return nil
	}
	kind, text, ok := strings.Cut(v, "|")
	if !ok || text == "" {
		return nil
	}
	switch kind {
	case "ok", "error", "warn":
	default:
		kind = "ok"
	}
	return &Flash{Kind: kind, Text: text}
}

// Funcs are the template functions every page may use.
var Funcs = template.FuncMap{
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(Shanghai).Format("2006-01-02 15:04:05")
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(Shanghai).Format("2006-01-02")
	},
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			k, _ := kv[i].(string)
			m[k] = kv[i+1]
		}
		return m
	},
}

// Shanghai is China Standard Time (UTC+8, no daylight saving), used for
// every date people see. A fixed zone needs no tzdata on the host.
var Shanghai = time.FixedZone("CST", 8*3600)

// Pages renders one domain's page templates inside the shared layout.
type Pages struct {
	set map[string]*template.Template
}

// NewPages parses every *.html file at the top of fsys, each into its own
// copy of the layout, so each page defines "content" (and optionally
// "head") without clashing; files named _*.html hold partials shared by all
// of fsys's pages. extra adds domain template functions. A bad
// template is an error at start-up, never at request time.
func NewPages(fsys fs.FS, extra template.FuncMap) (*Pages, error) {
	base := template.New("layout").Funcs(Funcs)
	if extra != nil {
		base = base.Funcs(extra)
	}
	base, err := base.ParseFS(layoutFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: layout: %w", err)
	}
	partials, err := fs.Glob(fsys, "_*.html")
	if err != nil {
		return nil, err
	}
	if len(partials) > 0 {
		if base, err = base.ParseFS(fsys, partials...); err != nil {
			return nil, fmt.Errorf("ui: partials: %w", err)
		}
	}
	names, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return nil, err
	}
	p := &Pages{set: map[string]*template.Template{}}
	for _, n := range names {
		if strings.HasPrefix(n, "_") {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(fsys, n); err != nil {
			return nil, fmt.Errorf("ui: %s: %w", n, err)
		}
		p.set[path.Base(n)] = t
	}
	return p, nil
}

// NewPagesDir is NewPages over the folder dir of fsys (a domain's embedded
// templates/ folder).
func NewPagesDir(fsys fs.FS, dir string, extra template.FuncMap) (*Pages, error) {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, err
	}
	return NewPages(sub, extra)
}

// Render executes page name (the whole layout, or the named fragment when
// the request comes from htmx and asks for one) into a buffer, then writes
// status and body: a template error never leaves half a page.
func (p *Pages) Render(w http.ResponseWriter, status int, name string, data any) error {
	return p.render(w, status, name, "layout", data)
}

// Fragment executes only the template block tmpl of page name, for htmx swaps.
func (p *Pages) Fragment(w http.ResponseWriter, status int, name, tmpl string, data any) error {
	return p.render(w, status, name, tmpl, data)
}

func (p *Pages) render(w http.ResponseWriter, status int, name, tmpl string, data any) error {
	t, ok := p.set[name]
	if !ok {
		return fmt.Errorf("ui: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, data); err != nil {
		return fmt.Errorf("ui: render %s: %w", name, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if fc, ok := data.(interface{ flashShown() bool }); ok && fc.flashShown() {
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1})
	}
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// Pager is what the "pager" template needs: Prev and Next are the query
// strings (other filters kept) of the neighbouring pages.
type Pager struct {
	Page, Pages, Total int
	Prev, Next         template.URL
}

// NewPager builds a Pager for r's query with page replaced.
func NewPager(r *http.Request, page, pages, total int) Pager {
	q := r.URL.Query()
	at := func(n int) template.URL {
		q.Set("page", strconv.Itoa(n))
		return template.URL(q.Encode())
	}
	return Pager{Page: page, Pages: pages, Total: total, Prev: at(page - 1), Next: at(page + 1)}
}
