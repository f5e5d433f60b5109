package catalog

import (
	"context"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	qrcode "github.com/skip2/go-qrcode"

	"yiwang/internal/org"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/search"
	"yiwang/internal/platform/web"
	"yiwang/internal/ui"
)

//go:embed templates/*.html
var templatesFS embed.FS

// Pages parses the catalogue templates.
func Pages() (*ui.Pages, error) {
	return ui.NewPagesDir(templatesFS, "templates", template.FuncMap{
		"mtype":     func(n int) string { return MaterialTypes[n] },
		"msource":   func(n int) string { return MaterialSources[n] },
		"mneed":     func(n int) string { return MaterialNecessity[n] },
		"mform":     func(n int) string { return MaterialForms[n] },
		"audience":  func(a Audience) string { return AudienceLabels[a] },
		"unit":      func(u Unit) string { return UnitLabels[u] },
		"kind":      func(k Kind) string { return KindLabels[k] },
		"channel":   func(c Channel) string { return ChannelLabels[c] },
		"scope":     func(s string) string { return ScopeLabels[s] },
		"status":    func(s string) string { return StatusLabels[s] },
		"depthCode": func(n int) string { return DepthCodes[n] },
		"depthLvl":  func(n int) string { return DepthLevels[n] },
		"level":     func(n int) string { return Levels[n] },
		"inc":       func(n int) int { return n + 1 },
		"assurance": func(n int) string { return AssuranceLevels[n] },
		"join":      func(l []string) string { return strings.Join(l, "\n") },
		// safe shows a search highlight: the index HTML-escapes the text and
		// adds only <mark> tags, so it is trusted; without one, the name is escaped.
		"safe": func(highlight, name string) template.HTML {
			if highlight == "" {
				return template.HTML(template.HTMLEscapeString(name))
			}
			return template.HTML(highlight)
		},
		"query": func(kv ...string) template.URL {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] != "" {
					v.Set(kv[i], kv[i+1])
				}
			}
			return template.URL(v.Encode())
		},
	})
}

// Handler serves the catalogue's pages and API.
type Handler struct {
	svc     *Service
	finder  *Finder
	pages   *ui.Pages
	web     *web.Server
	baseURL string // absolute URL prefix for QR codes; empty: from the request
	themeC  themeCache
}

// NewHandler returns the catalogue handler.
func NewHandler(svc *Service, finder *Finder, pages *ui.Pages, ws *web.Server, baseURL string) *Handler {
	return &Handler{svc: svc, finder: finder, pages: pages, web: ws, baseURL: baseURL}
}

// Routes registers the catalogue routes.
func (h *Handler) Routes(mux *http.ServeMux, api huma.API) {
	h.apiRoutes(api)
	mux.Handle("GET /items/{code}", h.web.Page(h.guide))
	mux.Handle("GET /search", h.web.Page(h.searchPage))
	mux.Handle("GET /search/counties", h.web.Page(h.countyOptions))
	mux.Handle("GET /themes", h.web.Page(h.themes))
	h.transferRoutes(mux)
	mux.Handle("GET /console/items", h.web.Page(h.list))
	mux.Handle("GET /console/items/new", h.web.Page(h.newItem))
	mux.Handle("POST /console/items/new", h.web.Page(h.saveItem))
	mux.Handle("GET /console/items/{id}", h.web.Page(h.show))
	mux.Handle("GET /console/items/{id}/edit", h.web.Page(h.editItem))
	mux.Handle("POST /console/items/{id}/edit", h.web.Page(h.saveItem))
	mux.Handle("POST /console/items/{id}/submit", h.web.Page(h.submit))
	mux.Handle("POST /console/items/{id}/review", h.web.Page(h.review))
	mux.Handle("POST /console/items/{id}/status", h.web.Page(h.setStatus))
}

// ItemJSON is a published item as the API returns it: every element, plus
// its state and version.
type ItemJSON struct {
	Item
	Department string `json:"department" doc:"实施主体名称"`
	Status     string `json:"status" enum:"published,suspended" doc:"事项状态"`
	Version    int    `json:"version" doc:"已发布版本号；办件记录所依据的版本"`
}

type itemInput struct {
	Code string `path:"code" maxLength:"40" doc:"实施编码（31位）"`
}

type itemOutput struct{ Body ItemJSON }

type searchInput struct {
	Q        string `query:"q" maxLength:"500" doc:"搜索词（不超过100个字）；为空时须给出地区或筛选条件"`
	Region   string `query:"region" maxLength:"12" doc:"行政区划代码，含下级"`
	Type     string `query:"type" maxLength:"10" doc:"事项类型代码，如 XK（行政许可）、GG（公共服务）"`
	Audience string `query:"audience" enum:"person,legal," doc:"服务对象"`
	Theme    string `query:"theme" maxLength:"30" doc:"主题"`
	Depth    string `query:"depth" enum:"1,2,3,4," doc:"网上办理深度等级（4 = 全程网办）"`
	Cross    bool   `query:"cross_province" doc:"只看跨省通办事项"`
	OneWin   bool   `query:"one_window" doc:"只看一窗通办事项"`
	Page     int    `query:"page" minimum:"0" maximum:"500" doc:"页码，从1开始"`
}

// ItemHitJSON is one search result.
type ItemHitJSON struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Department string `json:"department"`
	Region     string `json:"region"`
	Type       string `json:"type"`
	Highlight  string `json:"highlight" doc:"事项名称，匹配部分以 <mark> 标出（已做 HTML 转义）"`
}

// FacetJSON is one facet value and its count.
type FacetJSON struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

type searchOutput struct {
	Body struct {
		Total       int                    `json:"total"`
		TotalExact  bool                   `json:"total_exact" doc:"false 表示匹配超过 total 个（只精确统计前 total 个）"`
		Page        int                    `json:"page"`
		FacetsExact bool                   `json:"facets_exact" doc:"false 表示部分分面只统计了前若干个匹配"`
		Items       []ItemHitJSON          `json:"items"`
		Facets      map[string][]FacetJSON `json:"facets"`
	}
}

// query turns the request's filters into an index query, 20 a page.
func (in searchInput) query() search.Query {
	q := search.Query{Text: in.Q, Region: in.Region, Filters: map[string][]string{}, Facets: []string{"type", "audience", "theme"}, Limit: 20}
	if in.Page > 1 {
		q.Offset = (in.Page - 1) * 20
	}
	if in.Type != "" {
		q.Filters["type"] = []string{in.Type}
	}
	if in.Audience != "" {
		q.Filters["audience"] = []string{in.Audience}
	}
	if in.Theme != "" {
		q.Filters["theme"] = []string{in.Theme}
	}
	if in.Depth != "" {
		q.Filters["depth"] = []string{in.Depth}
	}
	if in.Cross {
		q.Filters["cross_province"] = []string{"true"}
	}
	if in.OneWin {
		q.Filters["one_window"] = []string{"true"}
	}
	return q
}

func (h *Handler) apiRoutes(api huma.API) {
	huma.Register(api, huma.Operation{OperationID: "search-items", Method: http.MethodGet, Path: "/api/v1/items",
		Summary: "搜索事项（中文全文检索，含分面统计）", Tags: []string{"事项"}, Errors: []int{422}},
		func(ctx context.Context, in *searchInput) (*searchOutput, error) {
			res, err := h.finder.Search(ctx, in.query())
			if err != nil {
				return nil, err
			}
			out := &searchOutput{}
			out.Body.Total, out.Body.TotalExact, out.Body.FacetsExact, out.Body.Page = res.Total, res.TotalExact, res.FacetsExact, max(in.Page, 1)
			out.Body.Items = make([]ItemHitJSON, 0, len(res.Hits))
			for _, hit := range res.Hits {
				out.Body.Items = append(out.Body.Items, ItemHitJSON{Code: hit.Code, Name: hit.Name, Department: hit.Department, Region: hit.Region, Type: hit.Type, Highlight: hit.Highlight})
			}
			out.Body.Facets = map[string][]FacetJSON{}
			for k, vs := range res.Facets {
				for _, v := range vs {
					out.Body.Facets[k] = append(out.Body.Facets[k], FacetJSON{Value: v.Value, Count: v.Count})
				}
			}
			return out, nil
		})
	huma.Register(api, huma.Operation{OperationID: "get-item", Method: http.MethodGet, Path: "/api/v1/items/{code}",
		Summary: "查询事项办事指南（全部要素）", Tags: []string{"事项"}, Errors: []int{404}},
		func(ctx context.Context, in *itemInput) (*itemOutput, error) {
			r, it, err := h.svc.Published(ctx, in.Code)
			if err != nil {
				return nil, err
			}
			return &itemOutput{Body: ItemJSON{Item: it, Department: it.DeptName, Status: r.Status, Version: r.PublishedVersion}}, nil
		})
}

type searchPage struct {
	ui.Base
	In       searchInput
	Result   SearchResult
	Error    string
	Pager    ui.Pager
	Types    map[string]string
	Cities   []org.Region // the province's 盟市, for the region picker
	Counties []org.Region // the chosen city's 旗县区
	City     string
}

func (h *Handler) searchPage(w http.ResponseWriter, r *http.Request) error {
	page, _ := strconv.Atoi(r.FormValue("page"))
	in := searchInput{Q: r.FormValue("q"), Region: pickRegion(r), Type: r.FormValue("type"), Audience: r.FormValue("audience"), Theme: r.FormValue("theme"),
		Cross: r.FormValue("cross_province") == "true", OneWin: r.FormValue("one_window") == "true", Page: min(max(page, 1), 500)}
	switch d := r.FormValue("depth"); d {
	case "", "1", "2", "3", "4":
		in.Depth = d
	default:
		return &errs.Error{Kind: errs.Invalid, Op: "catalog.searchPage", Msg: "网上办理深度应为1至4级"}
	}
	data := searchPage{Base: ui.NewBase(r, "搜索办事事项"), In: in, Types: map[string]string{}}
	if err := h.regionPicker(r.Context(), &data); err != nil {
		return err
	}
	if types, err := h.svc.Types(r.Context()); err == nil {
		for _, t := range types {
			data.Types[t.Code] = t.Name
		}
	}
	status := http.StatusOK
	if in.Q != "" || in.Region != "" || in.Type != "" || in.Audience != "" || in.Theme != "" || in.Depth != "" || in.Cross || in.OneWin {
		res, err := h.finder.Search(r.Context(), in.query())
		switch {
		case errs.KindOf(err) == errs.Invalid:
			data.Error, status = errs.Message(err), http.StatusUnprocessableEntity
		case err != nil:
			return err
		default:
			data.Result = res
			data.Pager = ui.NewPager(r, in.Page, max(1, (min(res.Total, 10000)+19)/20), res.Total)
		}
	}
	return h.pages.Render(w, status, "search.html", data)
}

type guidePage struct {
	ui.Base
	Record Record
	Item   Item
	URL    string
	QR     template.URL
}

func (h *Handler) guide(w http.ResponseWriter, r *http.Request) error {
	rec, it, err := h.svc.Published(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	url := web.BaseURL(r, h.baseURL) + "/items/" + rec.Code
	png, err := qrcode.Encode(url, qrcode.Medium, 160)
	if err != nil {
		return err
	}
	return h.pages.Render(w, http.StatusOK, "guide.html", guidePage{Base: ui.NewBase(r, it.Name+" 办事指南"), Record: rec, Item: it, URL: url,
		QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))})
}

// ---- console ----

var crumbs = []ui.Crumb{{Href: "/console", Label: "工作台"}, {Href: "/console/items", Label: "事项管理"}}

type listPage struct {
	ui.Base
	Q       ItemQuery
	Items   []Record
	Pager   ui.Pager
	Filters []filter
	CanEdit bool
}

type filter struct{ Value, Label string }

func (h *Handler) list(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	page, _ := strconv.Atoi(r.FormValue("page"))
	q := ItemQuery{Status: r.FormValue("status"), Q: r.FormValue("q"), Page: page}
	items, total, err := h.svc.Items(r.Context(), p, q)
	if err != nil {
		return err
	}
	return h.pages.Render(w, http.StatusOK, "items.html", listPage{Base: ui.ConsoleBase(r, "事项管理"), Q: q, Items: items, CanEdit: p.CanAny(authz.EditItems),
		Pager:   ui.NewPager(r, max(page, 1), max(1, (total+49)/50), total),
		Filters: []filter{{"", "全部"}, {"review", "待审核"}, {StatusDraft, "草稿"}, {StatusPublished, "已发布"}, {StatusSuspended, "暂停办理"}, {StatusRevoked, "已撤销"}}})
}

type versionView struct {
	Version
	Changes []Change
}

type showPage struct {
	ui.Base
	Record    Record
	Versions  []versionView
	CanEdit   bool
	CanReview bool
	Errors    map[string]string
}

func (h *Handler) show(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	return h.renderShow(w, r, p, http.StatusOK, nil)
}

func (h *Handler) renderShow(w http.ResponseWriter, r *http.Request, p *authz.Principal, status int, fields map[string]string) error {
	rec, vs, err := h.svc.Versions(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	page := showPage{Base: ui.ConsoleBase(r, rec.Name, crumbs...), Record: rec, Errors: fields,
		CanEdit: p.Can(authz.EditItems, rec.Target()), CanReview: p.Can(authz.ReviewItems, rec.Target())}
	for i, v := range vs {
		vv := versionView{Version: v}
		if i+1 < len(vs) {
			vv.Changes = Diff(vs[i+1].Item, v.Item)
		}
		page.Versions = append(page.Versions, vv)
	}
	return h.pages.Render(w, status, "item.html", page)
}

func version(r *http.Request) int {
	v, _ := strconv.Atoi(r.PostFormValue("version"))
	return v
}

// act runs a lifecycle action and returns to the item page.
func (h *Handler) act(w http.ResponseWriter, r *http.Request, do func(p *authz.Principal, id string) error, done string) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := do(p, id); err != nil {
		if errs.KindOf(err) == errs.Conflict || errs.KindOf(err) == errs.Invalid {
			f, _ := web.FieldErrors(err)
			if f == nil {
				f = map[string]string{"_": errs.Message(err)}
			}
			return h.renderShow(w, r, p, web.StatusOf(errs.KindOf(err)), f)
		}
		return err
	}
	ui.SetFlash(w, "ok", done)
	http.Redirect(w, r, "/console/items/"+id, http.StatusSeeOther)
	return nil
}

func (h *Handler) submit(w http.ResponseWriter, r *http.Request) error {
	return h.act(w, r, func(p *authz.Principal, id string) error { return h.svc.Submit(r.Context(), p, id, version(r)) }, "已提交审核")
}

func (h *Handler) review(w http.ResponseWriter, r *http.Request) error {
	approve := r.PostFormValue("decision") == "approve"
	done := "已退回修改"
	if approve {
		done = "已审核通过并发布"
	}
	return h.act(w, r, func(p *authz.Principal, id string) error {
		return h.svc.Review(r.Context(), p, id, approve, r.PostFormValue("note"), version(r))
	}, done)
}

func (h *Handler) setStatus(w http.ResponseWriter, r *http.Request) error {
	st := r.PostFormValue("status")
	return h.act(w, r, func(p *authz.Principal, id string) error {
		return h.svc.SetStatus(r.Context(), p, id, st, r.PostFormValue("note"), version(r))
	}, "事项状态已更新为“"+StatusLabels[st]+"”")
}
