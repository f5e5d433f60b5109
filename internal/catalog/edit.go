package catalog

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"yiwang/internal/org"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/web"
	"yiwang/internal/ui"
)

// ResultTypes are the kinds of result (审批结果类型).
var ResultTypes = map[string]string{"证照": "证照", "批文": "批文", "证明文件": "证明文件", "鉴定报告": "鉴定报告", "其他": "其他"}

// maxDeptChoices bounds the editor's department list.
const maxDeptChoices = 1000

// editPage is the item editor (事项编辑).
type editPage struct {
	ui.Base
	Title, Action, Cancel string
	Record                *Record // nil for a new item
	Version               int
	Item                  Item
	Errors                map[string]string
	Depts                 []org.Department
	DeptsCut              bool
	Types                 map[string]string
	Audiences             map[Audience]bool
	Channels              map[Channel]bool
	Depth                 map[int]bool

	Levels, MaterialTypes, MaterialSources, MaterialNecessity, MaterialForms, DepthCodes, DepthLevels, AssuranceLevels map[int]string
	AudienceLabels                                                                                                     map[Audience]string
	ChannelLabels                                                                                                      map[Channel]string
	ScopeLabels, CrossModes, ResultTypes, YesNo, StepRoleChoices                                                       map[string]string
	FieldTypes                                                                                                         map[string]string // 办件表单
}

// blankRows gives every repeated element one empty row to fill in, and
// one more for the element the editor asked to add to.
func blankRows(it *Item, add string) {
	for _, name := range []string{"legal_basis", "special", "materials", "form", "steps", "results"} {
		n := 1
		if add == name {
			n = 2
		}
		for range n {
			switch name {
			case "legal_basis":
				it.LegalBasis = append(it.LegalBasis, LegalBasis{})
			case "special":
				it.Special = append(it.Special, Special{Limit: TimeLimit{Unit: Workday}})
			case "materials":
				it.Materials = append(it.Materials, Material{Type: 1, Source: 10, Necessity: 1, Form: 1, Originals: 1})
			case "form": // 办件表单
				it.Form = append(it.Form, FormField{Type: FieldText})
			case "steps":
				it.Steps = append(it.Steps, Step{})
			case "results":
				it.Results = append(it.Results, Result{Type: "证照"})
			}
		}
	}
}

// renderEditor shows the editor for it; rec is nil for a new item.
func (h *Handler) renderEditor(w http.ResponseWriter, r *http.Request, p *authz.Principal, status int, rec *Record, it Item, add string, fields map[string]string) error {
	ctx := r.Context()
	types, err := h.svc.Types(ctx)
	if err != nil {
		return err
	}
	depts, cut, err := h.editableDepts(ctx, p)
	if err != nil {
		return err
	}
	page := editPage{Record: rec, Errors: fields, Depts: depts, DeptsCut: cut, Types: map[string]string{},
		Audiences: map[Audience]bool{}, Channels: map[Channel]bool{}, Depth: map[int]bool{},
		Levels: Levels, MaterialTypes: MaterialTypes, MaterialSources: MaterialSources, MaterialNecessity: MaterialNecessity,
		MaterialForms: MaterialForms, DepthCodes: DepthCodes, DepthLevels: DepthLevels, AssuranceLevels: AssuranceLevels, AudienceLabels: AudienceLabels,
		ChannelLabels: ChannelLabels, ScopeLabels: ScopeLabels, CrossModes: map[string]string{}, ResultTypes: ResultTypes,
		StepRoleChoices: map[string]string{StepApprover: "审批人员（须有审批权限）"},
		YesNo:           map[string]string{"yes": "支持网上支付", "no": "不支持网上支付"}, FieldTypes: FieldTypes}
	for _, t := range types {
		page.Types[t.Code] = t.Name
	}
	for _, m := range CrossProvinceModes {
		page.CrossModes[m] = m
	}
	for _, a := range it.Audiences {
		page.Audiences[a] = true
	}
	for _, c := range it.Channels {
		page.Channels[c] = true
	}
	for _, c := range it.Depth.Codes {
		page.Depth[c] = true
	}
	blankRows(&it, add)
	page.Item = it
	if rec == nil {
		page.Title, page.Action, page.Cancel = "新建事项", "/console/items/new", "/console/items"
		page.Base = ui.ConsoleBase(r, page.Title, crumbs...)
	} else {
		page.Title, page.Action, page.Cancel = "编辑事项："+rec.Name, "/console/items/"+rec.ID+"/edit", "/console/items/"+rec.ID
		page.Version = rec.Version
		if r.Method == http.MethodPost {
			page.Version = version(r) // a stale form stays stale
		}
		page.Base = ui.ConsoleBase(r, "编辑事项", append(crumbs, ui.Crumb{Href: page.Cancel, Label: rec.Name})...)
	}
	return h.pages.Render(w, status, "edit.html", page)
}

// editableDepts lists the departments p may implement items for, in
// path order, at most maxDeptChoices of them.
func (h *Handler) editableDepts(ctx context.Context, p *authz.Principal) ([]org.Department, bool, error) {
	var out []org.Department
	active := true
	for page := 1; ; page++ {
		res, err := h.svc.org.Departments(ctx, p, org.DeptQuery{Active: &active, Page: page, PerPage: 200})
		if err != nil {
			return nil, false, err
		}
		for _, d := range res.Items {
			if p.Can(authz.EditItems, authz.Target{Region: d.Region, DeptPath: d.Path}) {
				out = append(out, d)
			}
		}
		if len(out) >= maxDeptChoices {
			return out[:maxDeptChoices], true, nil
		}
		if page >= res.Pages() {
			return out, false, nil
		}
	}
}

func (h *Handler) newItem(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	if !p.CanAny(authz.EditItems) {
		return &errs.Error{Kind: errs.Forbidden, Op: "catalog.newItem", Msg: "您没有编辑事项的权限"}
	}
	it := Item{Kind: Promised, LegalLimit: TimeLimit{Unit: Workday}, PromisedLimit: TimeLimit{Unit: Workday},
		Audiences: []Audience{Person}, Channels: []Channel{Window}, Scope: "province", Level: 2}
	return h.renderEditor(w, r, p, http.StatusOK, nil, it, "", nil)
}

func (h *Handler) editItem(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	rec, vs, err := h.svc.Versions(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := p.Require(authz.EditItems, rec.Target(), "catalog.editItem"); err != nil {
		return err
	}
	if err := editable(rec, vs); err != nil {
		return err
	}
	return h.renderEditor(w, r, p, http.StatusOK, &rec, vs[0].Item, "", nil)
}

// editable says why an item cannot be edited now, if it cannot.
func editable(rec Record, vs []Version) error {
	switch {
	case rec.Status == StatusRevoked:
		return &errs.Error{Kind: errs.Conflict, Op: "catalog.editItem", Msg: "已撤销的事项不能再修改"}
	case len(vs) == 0:
		return &errs.Error{Kind: errs.NotFound, Op: "catalog.editItem", Msg: "事项不存在"}
	case vs[0].Status == VersionSubmitted:
		return &errs.Error{Kind: errs.Conflict, Op: "catalog.editItem", Msg: "该事项的草稿正在审核，审核完成前不能修改"}
	}
	return nil
}

// saveItem creates (id empty) or updates an item from the posted editor.
func (h *Handler) saveItem(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p, err := authz.SignedIn(ctx)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	var rec *Record
	if id != "" {
		got, vs, err := h.svc.Versions(ctx, p, id)
		if err != nil {
			return err
		}
		if err := editable(got, vs); err != nil {
			return err
		}
		rec = &got
	} else if !p.CanAny(authz.EditItems) {
		return &errs.Error{Kind: errs.Forbidden, Op: "catalog.saveItem", Msg: "您没有编辑事项的权限"}
	}
	f := ParseItemForm(r.PostForm)
	if f.Add != "" {
		return h.renderEditor(w, r, p, http.StatusOK, rec, f.Item, f.Add, nil)
	}
	if len(f.Errors) > 0 {
		return h.renderEditor(w, r, p, http.StatusUnprocessableEntity, rec, f.Item, "", f.Errors)
	}
	it := f.Item
	if strings.TrimSpace(it.Region) == "" && it.DeptID != "" {
		if d, err := h.svc.org.Department(ctx, p, it.DeptID); err == nil {
			it.Region = d.Region
		}
	}
	var saved Record
	if rec == nil {
		saved, err = h.svc.Create(ctx, p, it)
	} else {
		saved, err = h.svc.SaveDraft(ctx, p, rec.ID, it, version(r))
	}
	if err != nil {
		if errs.KindOf(err) == errs.Conflict {
			return h.renderEditor(w, r, p, http.StatusConflict, rec, f.Item, "", map[string]string{"_": errs.Message(err)})
		}
		return web.FormOr(err, func(fields map[string]string) error {
			return h.renderEditor(w, r, p, http.StatusUnprocessableEntity, rec, f.Item, "", fields)
		})
	}
	ui.SetFlash(w, "ok", "草稿已保存（v"+strconv.Itoa(saved.DraftVersion)+"），提交审核通过后发布")
	http.Redirect(w, r, "/console/items/"+saved.ID, http.StatusSeeOther)
	return nil
}
