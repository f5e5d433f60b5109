package org

import (
	"context"
	"embed"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/web"
	"yiwang/internal/ui"
)

//go:embed templates/*.html
var templatesFS embed.FS

// Pages parses the org templates; a broken template fails start-up.
func Pages() (*ui.Pages, error) {
	return ui.NewPagesDir(templatesFS, "templates", template.FuncMap{
		"levelLabel":  func(l Level) string { return l.Label() },
		"windowKinds": func() []WindowKind { return WindowKinds },
		"kindLabel":   func(k WindowKind) string { return k.Label() },
	})
}

// Handler serves the org pages and API.
type Handler struct {
	svc      *Service
	pages    *ui.Pages
	web      *web.Server
	province string
}

// NewHandler returns the org handler; province is the code of the province
// this platform serves (its portal home).
func NewHandler(svc *Service, pages *ui.Pages, ws *web.Server, province string) *Handler {
	return &Handler{svc: svc, pages: pages, web: ws, province: province}
}

// Routes registers the org routes.
func (h *Handler) Routes(mux *http.ServeMux, api huma.API) {
	h.apiRoutes(api)
	mux.Handle("GET /{$}", h.web.Page(h.home))
	mux.Handle("GET /regions/{code}", h.web.Page(h.regionPage))
	mux.Handle("GET /console", h.web.Page(h.consoleHome))
	mux.Handle("GET /console/regions/{code}/children", h.web.Page(h.treeChildren))
	mux.Handle("GET /console/departments", h.web.Page(h.listDepts))
	mux.Handle("GET /console/departments/new", h.web.Page(h.newDept))
	mux.Handle("POST /console/departments", h.web.Page(h.createDept))
	mux.Handle("GET /console/departments/{id}", h.web.Page(h.showDept))
	mux.Handle("POST /console/departments/{id}", h.web.Page(h.updateDept))
	mux.Handle("POST /console/departments/{id}/active", h.web.Page(h.toggleDept))
	mux.Handle("GET /console/halls", h.web.Page(h.listHalls))
	mux.Handle("GET /console/halls/new", h.web.Page(h.newHall))
	mux.Handle("POST /console/halls", h.web.Page(h.createHall))
	mux.Handle("GET /console/halls/{id}", h.web.Page(h.showHall))
	mux.Handle("POST /console/halls/{id}", h.web.Page(h.updateHall))
	mux.Handle("POST /console/halls/{id}/windows", h.web.Page(h.createWindow))
	mux.Handle("GET /console/windows/{id}", h.web.Page(h.showWindow))
	mux.Handle("POST /console/windows/{id}", h.web.Page(h.updateWindow))
}

// ---- JSON API ----

// RegionJSON is a region as the API returns it.
type RegionJSON struct {
	Code   string  `json:"code" example:"150100" doc:"行政区划代码 (GB/T 2260，乡级为9位统计用区划代码)"`
	Name   string  `json:"name" example:"呼和浩特市"`
	Level  string  `json:"level" enum:"province,city,county,township" doc:"层级"`
	Parent *string `json:"parent" doc:"上级区划代码，省级为 null"`
}

func regionJSON(r Region) RegionJSON {
	out := RegionJSON{Code: r.Code, Name: r.Name, Level: string(r.Level)}
	if r.Parent != "" {
		p := r.Parent
		out.Parent = &p
	}
	return out
}

type regionInput struct {
	Code string `path:"code" maxLength:"12" doc:"行政区划代码"`
}

type regionOutput struct{ Body RegionJSON }

type childrenInput struct {
	Code  string `path:"code" maxLength:"12" doc:"行政区划代码"`
	Zones bool   `query:"zones" doc:"是否包含开发区、管理区等功能区"`
}

type childrenOutput struct{ Body []RegionJSON }

// DeptJSON is a department as the public API returns it.
type DeptJSON struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	USCC   string `json:"uscc,omitempty" doc:"统一社会信用代码"`
	Region string `json:"region"`
	Parent string `json:"parent,omitempty"`
	Phone  string `json:"phone,omitempty"`
}

type deptsInput struct {
	Code    string `path:"code" maxLength:"12" doc:"行政区划代码"`
	Page    int    `query:"page" default:"1" minimum:"1" maximum:"10000" doc:"页码，从 1 开始"`
	PerPage int    `query:"per_page" default:"100" minimum:"1" maximum:"200" doc:"每页条数，最多 200"`
}

type deptsOutput struct {
	Body struct {
		Total   int        `json:"total" doc:"符合条件的部门总数"`
		Page    int        `json:"page"`
		PerPage int        `json:"per_page"`
		Items   []DeptJSON `json:"items"`
	}
}

func (h *Handler) apiRoutes(api huma.API) {
	huma.Register(api, huma.Operation{OperationID: "get-region", Method: http.MethodGet, Path: "/api/v1/regions/{code}",
		Summary: "查询行政区划", Tags: []string{"行政区划"}, Errors: []int{404}},
		func(ctx context.Context, in *regionInput) (*regionOutput, error) {
			r, err := h.svc.Region(ctx, in.Code)
			if err != nil {
				return nil, err
			}
			return &regionOutput{Body: regionJSON(r)}, nil
		})
	huma.Register(api, huma.Operation{OperationID: "list-region-children", Method: http.MethodGet, Path: "/api/v1/regions/{code}/children",
		Summary: "查询下级行政区划", Tags: []string{"行政区划"}, Errors: []int{404}},
		func(ctx context.Context, in *childrenInput) (*childrenOutput, error) {
			rs, err := h.svc.Children(ctx, in.Code, in.Zones)
			if err != nil {
				return nil, err
			}
			out := &childrenOutput{Body: make([]RegionJSON, 0, len(rs))}
			for _, r := range rs {
				out.Body = append(out.Body, regionJSON(r))
			}
			return out, nil
		})
	huma.Register(api, huma.Operation{OperationID: "list-region-departments", Method: http.MethodGet, Path: "/api/v1/regions/{code}/departments",
		Summary: "查询本级政府部门", Description: "按页返回该行政区划本级的在用部门：page 从 1 开始，per_page 最多 200（默认 100）。",
		Tags: []string{"行政区划"}, Errors: []int{404}},
		func(ctx context.Context, in *deptsInput) (*deptsOutput, error) {
			r, err := h.svc.Region(ctx, in.Code)
			if err != nil {
				return nil, err
			}
			page, err := h.svc.PublicDepartments(ctx, r.Code, in.Page, in.PerPage)
			if err != nil {
				return nil, err
			}
			out := &deptsOutput{}
			out.Body.Total, out.Body.Page, out.Body.PerPage = page.Total, page.Page, page.PerPage
			out.Body.Items = make([]DeptJSON, 0, len(page.Items))
			for _, d := range page.Items {
				out.Body.Items = append(out.Body.Items, DeptJSON{ID: d.ID, Name: d.Name, USCC: d.USCC, Region: d.Region, Parent: d.ParentID, Phone: d.Phone})
			}
			return out, nil
		})
}

// ---- portal pages ----

type homePage struct {
	ui.Base
	Province Region
	Cities   []Region
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) error {
	prov, err := h.svc.Region(r.Context(), h.province)
	if err != nil {
		return err
	}
	cities, err := h.svc.Children(r.Context(), prov.Code, false)
	if err != nil {
		return err
	}
	base := ui.NewBase(r, "")
	base.Title = base.Site.Name // the home page is titled with the portal's configured name
	return h.pages.Render(w, http.StatusOK, "home.html", homePage{Base: base, Province: prov, Cities: cities})
}

type regionPage struct {
	ui.Base
	Region   Region
	Ancestry []Region
	Children []Region
	Depts    []Department
	Pager    ui.Pager // of Depts
	Halls    []Hall
}

// portalDeptsPerPage is the size of a page of the region page's departments.
const portalDeptsPerPage = 50

func (h *Handler) regionPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	reg, err := h.svc.Region(ctx, r.PathValue("code"))
	if err != nil {
		return err
	}
	anc, err := h.svc.Ancestry(ctx, reg.Code)
	if err != nil {
		return err
	}
	kids, err := h.svc.Children(ctx, reg.Code, true)
	if err != nil {
		return err
	}
	depts, err := h.svc.PublicDepartments(ctx, reg.Code, atoi(r.FormValue("page")), portalDeptsPerPage)
	if err != nil {
		return err
	}
	halls, err := h.svc.PublicHalls(ctx, reg.Code)
	if err != nil {
		return err
	}
	return h.pages.Render(w, http.StatusOK, "region.html", regionPage{Base: ui.NewBase(r, reg.Name),
		Region: reg, Ancestry: anc[:len(anc)-1], Children: kids, Depts: depts.Items, Halls: halls,
		Pager: ui.NewPager(r, depts.Page, depts.Pages(), depts.Total)})
}

// ---- console: region tree ----

type treeNode struct {
	Region Region
	Open   bool
	Kids   []treeNode
}

type consoleHomePage struct {
	ui.Base
	Roots []treeNode
	Depts int
	Halls int
}

// rootRegions returns the regions of p's grants, dropping those inside another.
func rootRegions(p *authz.Principal) []string {
	var codes []string
	for _, g := range p.Grants {
		codes = append(codes, g.Region)
	}
	sort.Strings(codes)
	var roots []string
	for _, c := range codes {
		covered := false
		for _, r := range roots {
			covered = covered || authz.RegionWithin(c, r)
		}
		if !covered {
			roots = append(roots, c)
		}
	}
	return roots
}

func (h *Handler) consoleHome(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	ctx := r.Context()
	page := consoleHomePage{Base: ui.ConsoleBase(r, "区域概览")}
	for _, code := range rootRegions(p) {
		reg, err := h.svc.Region(ctx, code)
		if err != nil {
			return err
		}
		kids, err := h.svc.Children(ctx, code, true)
		if err != nil {
			return err
		}
		n := treeNode{Region: reg, Open: true}
		for _, k := range kids {
			n.Kids = append(n.Kids, treeNode{Region: k})
		}
		page.Roots = append(page.Roots, n)
	}
	depts, err := h.svc.Departments(ctx, p, DeptQuery{PerPage: 1})
	if err != nil {
		return err
	}
	page.Depts = depts.Total
	halls, err := h.svc.Halls(ctx, p, "")
	if err != nil {
		return err
	}
	page.Halls = len(halls)
	return h.pages.Render(w, http.StatusOK, "console_home.html", page)
}

type treeFragment struct {
	Kids []treeNode
}

func (h *Handler) treeChildren(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	code := r.PathValue("code")
	if !p.CanAny(authz.ViewOrg) || !inScope(p, code) {
		return &errs.Error{Kind: errs.NotFound, Op: "org.treeChildren", Msg: "行政区划不存在"}
	}
	kids, err := h.svc.Children(r.Context(), code, true)
	if err != nil {
		return err
	}
	var f treeFragment
	for _, k := range kids {
		f.Kids = append(f.Kids, treeNode{Region: k})
	}
	return h.pages.Fragment(w, http.StatusOK, "console_home.html", "tree-children", f)
}

// inScope reports whether region code lies within any of p's grants.
func inScope(p *authz.Principal, code string) bool {
	for _, g := range p.Grants {
		if authz.RegionWithin(code, g.Region) {
			return true
		}
	}
	return false
}

// ---- console: departments ----

type deptListPage struct {
	ui.Base
	Q         DeptQuery
	Result    Page[Department]
	Pager     ui.Pager
	CanCreate bool
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}

func (h *Handler) listDepts(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	q := DeptQuery{Region: r.FormValue("region"), Q: r.FormValue("q"), Page: atoi(r.FormValue("page")), PerPage: 50}
	if q.Region != "" {
		if _, _, _, err := ParseRegionCode(q.Region); err != nil {
			return err
		}
	}
	res, err := h.svc.Departments(r.Context(), p, q)
	if err != nil {
		return err
	}
	return h.pages.Render(w, http.StatusOK, "departments.html", deptListPage{
		Base: ui.ConsoleBase(r, "部门管理"), Q: q, Result: res,
		Pager:     ui.NewPager(r, res.Page, res.Pages(), res.Total),
		CanCreate: p.CanAny(authz.ManageDepts),
	})
}

type deptFormPage struct {
	ui.Base
	Dept    Department // zero when creating
	Form    DeptInput
	Errors  map[string]string
	Parents []Department
	CanEdit bool
}

func deptForm(r *http.Request) DeptInput {
	return DeptInput{Name: r.PostFormValue("name"), ShortName: r.PostFormValue("short_name"), USCC: r.PostFormValue("uscc"),
		Region: r.PostFormValue("region"), ParentID: r.PostFormValue("parent_id"), Phone: r.PostFormValue("phone"),
		Address: r.PostFormValue("address"), Sort: atoi(r.PostFormValue("sort")), Version: atoi(r.PostFormValue("version"))}
}

// parentChoices lists departments p may place others under.
func (h *Handler) parentChoices(ctx context.Context, p *authz.Principal) ([]Department, error) {
	res, err := h.svc.Departments(ctx, p, DeptQuery{PerPage: 200})
	if err != nil {
		return nil, err
	}
	var out []Department
	for _, d := range res.Items {
		if p.Can(authz.ManageDepts, deptTarget(d)) {
			out = append(out, d)
		}
	}
	return out, nil
}

var deptCrumbs = []ui.Crumb{{Href: "/console", Label: "工作台"}, {Href: "/console/departments", Label: "部门管理"}}

func (h *Handler) newDept(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	if !p.CanAny(authz.ManageDepts) {
		return &errs.Error{Kind: errs.Forbidden, Op: "org.newDept", Msg: "您没有管理部门的权限"}
	}
	parents, err := h.parentChoices(r.Context(), p)
	if err != nil {
		return err
	}
	form := DeptInput{Region: r.FormValue("region"), ParentID: r.FormValue("parent_id")}
	return h.pages.Render(w, http.StatusOK, "department.html", deptFormPage{Base: ui.ConsoleBase(r, "新建部门", deptCrumbs...), Form: form, Parents: parents, CanEdit: true})
}

func (h *Handler) createDept(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	in := deptForm(r)
	d, err := h.svc.CreateDepartment(r.Context(), p, in)
	if err != nil {
		return web.FormOr(err, func(f map[string]string) error {
			parents, perr := h.parentChoices(r.Context(), p)
			if perr != nil {
				return perr
			}
			return h.pages.Render(w, http.StatusUnprocessableEntity, "department.html", deptFormPage{Base: ui.ConsoleBase(r, "新建部门", deptCrumbs...), Form: in, Errors: f, Parents: parents, CanEdit: true})
		})
	}
	ui.SetFlash(w, "ok", "已创建部门“"+d.Name+"”")
	http.Redirect(w, r, "/console/departments/"+d.ID, http.StatusSeeOther)
	return nil
}

func (h *Handler) showDept(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	d, err := h.svc.Department(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	parents, err := h.parentChoices(r.Context(), p)
	if err != nil {
		return err
	}
	form := DeptInput{Name: d.Name, ShortName: d.ShortName, USCC: d.USCC, Region: d.Region, ParentID: d.ParentID, Phone: d.Phone, Address: d.Address, Sort: d.Sort, Version: d.Version}
	return h.pages.Render(w, http.StatusOK, "department.html", deptFormPage{Base: ui.ConsoleBase(r, d.Name, deptCrumbs...),
		Dept: d, Form: form, Parents: parents, CanEdit: p.Can(authz.ManageDepts, deptTarget(d))})
}

func (h *Handler) updateDept(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	in := deptForm(r)
	d, err := h.svc.UpdateDepartment(r.Context(), p, r.PathValue("id"), in)
	if err != nil {
		return web.FormOr(err, func(f map[string]string) error {
			old, gerr := h.svc.Department(r.Context(), p, r.PathValue("id"))
			if gerr != nil {
				return gerr
			}
			parents, perr := h.parentChoices(r.Context(), p)
			if perr != nil {
				return perr
			}
			return h.pages.Render(w, http.StatusUnprocessableEntity, "department.html", deptFormPage{Base: ui.ConsoleBase(r, old.Name, deptCrumbs...),
				Dept: old, Form: in, Errors: f, Parents: parents, CanEdit: true})
		})
	}
	ui.SetFlash(w, "ok", "已保存")
	http.Redirect(w, r, "/console/departments/"+d.ID, http.StatusSeeOther)
	return nil
}

func (h *Handler) toggleDept(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	active := r.PostFormValue("active") == "true"
	if err := h.svc.SetDepartmentActive(r.Context(), p, id, active, atoi(r.PostFormValue("version"))); err != nil {
		return err
	}
	msg := "已停用该部门"
	if active {
		msg = "已启用该部门"
	}
	ui.SetFlash(w, "ok", msg)
	http.Redirect(w, r, "/console/departments/"+id, http.StatusSeeOther)
	return nil
}

// ---- console: halls and windows ----

type hallListPage struct {
	ui.Base
	Halls     []Hall
	CanCreate bool
}

var hallCrumbs = []ui.Crumb{{Href: "/console", Label: "工作台"}, {Href: "/console/halls", Label: "大厅与窗口"}}

func (h *Handler) listHalls(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	halls, err := h.svc.Halls(r.Context(), p, "")
	if err != nil {
		return err
	}
	return h.pages.Render(w, http.StatusOK, "halls.html", hallListPage{Base: ui.ConsoleBase(r, "大厅与窗口"), Halls: halls, CanCreate: p.CanAny(authz.ManageHalls)})
}

type hallPage struct {
	ui.Base
	Hall       Hall
	Form       HallInput
	Active     bool
	Errors     map[string]string
	Windows    []Window
	WindowForm WindowInput
	WinErrors  map[string]string
	Depts      []Department
	CanEdit    bool
}

func hallForm(r *http.Request) HallInput {
	return HallInput{Name: r.PostFormValue("name"), Region: r.PostFormValue("region"), Address: r.PostFormValue("address"),
		Phone: r.PostFormValue("phone"), Hours: r.PostFormValue("hours"), Version: atoi(r.PostFormValue("version"))}
}

func (h *Handler) newHall(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	if !p.CanAny(authz.ManageHalls) {
		return &errs.Error{Kind: errs.Forbidden, Op: "org.newHall", Msg: "您没有管理大厅的权限"}
	}
	return h.pages.Render(w, http.StatusOK, "hall.html", hallPage{Base: ui.ConsoleBase(r, "新建大厅", hallCrumbs...),
		Form: HallInput{Region: r.FormValue("region"), Hours: "周一至周五 9:00-12:00，13:30-17:00（法定节假日除外）"}, Active: true, CanEdit: true})
}

func (h *Handler) createHall(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	in := hallForm(r)
	hall, err := h.svc.CreateHall(r.Context(), p, in)
	if err != nil {
		return web.FormOr(err, func(f map[string]string) error {
			return h.pages.Render(w, http.StatusUnprocessableEntity, "hall.html", hallPage{Base: ui.ConsoleBase(r, "新建大厅", hallCrumbs...), Form: in, Active: true, Errors: f, CanEdit: true})
		})
	}
	ui.SetFlash(w, "ok", "已创建大厅“"+hall.Name+"”")
	http.Redirect(w, r, "/console/halls/"+hall.ID, http.StatusSeeOther)
	return nil
}

// hallView loads everything the hall page shows.
func (h *Handler) hallView(r *http.Request, p *authz.Principal, id string) (hallPage, error) {
	ctx := r.Context()
	hall, err := h.svc.Hall(ctx, p, id)
	if err != nil {
		return hallPage{}, err
	}
	wins, err := h.svc.Windows(ctx, p, id)
	if err != nil {
		return hallPage{}, err
	}
	depts, err := h.svc.Departments(ctx, p, DeptQuery{PerPage: 200, Active: ptr(true)})
	if err != nil {
		return hallPage{}, err
	}
	return hallPage{Base: ui.ConsoleBase(r, hall.Name, hallCrumbs...), Hall: hall, Active: hall.Active,
		Form:    HallInput{Name: hall.Name, Region: hall.Region, Address: hall.Address, Phone: hall.Phone, Hours: hall.Hours, Version: hall.Version},
		Windows: wins, Depts: depts.Items, WindowForm: WindowInput{Kind: Comprehensive},
		CanEdit: p.Can(authz.ManageHalls, hallTarget(hall))}, nil
}

func ptr[T any](v T) *T { return &v }

func (h *Handler) showHall(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	page, err := h.hallView(r, p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.pages.Render(w, http.StatusOK, "hall.html", page)
}

func (h *Handler) updateHall(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	in := hallForm(r)
	active := r.PostFormValue("active") == "true"
	if _, err := h.svc.UpdateHall(r.Context(), p, id, in, active); err != nil {
		return web.FormOr(err, func(f map[string]string) error {
			page, verr := h.hallView(r, p, id)
			if verr != nil {
				return verr
			}
			page.Form, page.Active, page.Errors = in, active, f
			return h.pages.Render(w, http.StatusUnprocessableEntity, "hall.html", page)
		})
	}
	ui.SetFlash(w, "ok", "已保存大厅信息")
	http.Redirect(w, r, "/console/halls/"+id, http.StatusSeeOther)
	return nil
}

func windowForm(r *http.Request) WindowInput {
	return WindowInput{Number: r.PostFormValue("number"), Name: r.PostFormValue("name"), Kind: WindowKind(r.PostFormValue("kind")),
		DeptID: r.PostFormValue("dept_id"), Version: atoi(r.PostFormValue("version"))}
}

func (h *Handler) createWindow(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	in := windowForm(r)
	if _, err := h.svc.CreateWindow(r.Context(), p, id, in); err != nil {
		return web.FormOr(err, func(f map[string]string) error {
			page, verr := h.hallView(r, p, id)
			if verr != nil {
				return verr
			}
			page.WindowForm, page.WinErrors = in, f
			return h.pages.Render(w, http.StatusUnprocessableEntity, "hall.html", page)
		})
	}
	ui.SetFlash(w, "ok", "已添加窗口 "+in.Number)
	http.Redirect(w, r, "/console/halls/"+id+"#windows", http.StatusSeeOther)
	return nil
}

type windowPage struct {
	ui.Base
	Window  Window
	Hall    Hall
	Form    WindowInput
	Active  bool
	Errors  map[string]string
	Depts   []Department
	CanEdit bool
}

func (h *Handler) windowView(r *http.Request, p *authz.Principal, id string) (windowPage, error) {
	win, hall, err := h.svc.Window(r.Context(), p, id)
	if err != nil {
		return windowPage{}, err
	}
	depts, err := h.svc.Departments(r.Context(), p, DeptQuery{PerPage: 200, Active: ptr(true)})
	if err != nil {
		return windowPage{}, err
	}
	crumbs := append(append([]ui.Crumb(nil), hallCrumbs...), ui.Crumb{Href: "/console/halls/" + hall.ID, Label: hall.Name})
	return windowPage{Base: ui.ConsoleBase(r, "窗口 "+win.Number, crumbs...), Window: win, Hall: hall, Active: win.Active,
		Form:  WindowInput{Number: win.Number, Name: win.Name, Kind: win.Kind, DeptID: win.DeptID, Version: win.Version},
		Depts: depts.Items, CanEdit: p.Can(authz.ManageHalls, hallTarget(hall))}, nil
}

func (h *Handler) showWindow(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	page, err := h.windowView(r, p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.pages.Render(w, http.StatusOK, "window.html", page)
}

func (h *Handler) updateWindow(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	in := windowForm(r)
	active := r.PostFormValue("active") == "true"
	win, err := h.svc.UpdateWindow(r.Context(), p, id, in, active)
	if err != nil {
		return web.FormOr(err, func(f map[string]string) error {
			page, verr := h.windowView(r, p, id)
			if verr != nil {
				return verr
			}
			page.Form, page.Active, page.Errors = in, active, f
			return h.pages.Render(w, http.StatusUnprocessableEntity, "window.html", page)
		})
	}
	ui.SetFlash(w, "ok", "已保存窗口 "+win.Number)
	http.Redirect(w, r, "/console/halls/"+win.HallID+"#windows", http.StatusSeeOther)
	return nil
}
