package catalog

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"yiwang/internal/org"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/search"
	"yiwang/internal/ui"
)

// pickRegion reads the search page's region: the county picked, else the
// city picked, else a region given in a link (?region=).
func pickRegion(r *http.Request) string {
	for _, k := range []string{"county", "city", "region"} {
		if v := strings.TrimSpace(r.FormValue(k)); v != "" {
			return v
		}
	}
	return ""
}

// regionPicker fills the page's city and county choices from the
// province's regions and the region searched in.
func (h *Handler) regionPicker(ctx context.Context, data *searchPage) error {
	province := data.Site.Province
	if province == "" {
		return nil
	}
	cities, err := h.svc.org.Children(ctx, province, false)
	if err != nil {
		return err
	}
	data.Cities = cities
	if reg := data.In.Region; len(reg) >= 4 {
		city := reg[:4] + "00"
		if slices.ContainsFunc(cities, func(c org.Region) bool { return c.Code == city }) {
			data.City = city
			if data.Counties, err = h.svc.org.Children(ctx, city, false); err != nil {
				return err
			}
		}
	}
	return nil
}

type countyOptions struct {
	Counties []org.Region
	Region   string
}

// countyOptions answers the picker's htmx request for a city's counties.
func (h *Handler) countyOptions(w http.ResponseWriter, r *http.Request) error {
	var out countyOptions
	if city := r.FormValue("city"); city != "" {
		site := ui.NewBase(r, "").Site
		if !strings.HasPrefix(city, strings.TrimRight(site.Province, "0")) {
			return &errs.Error{Kind: errs.NotFound, Op: "catalog.countyOptions", Msg: "行政区划不存在"}
		}
		cs, err := h.svc.org.Children(r.Context(), city, false)
		if err != nil {
			return err
		}
		out.Counties = cs
	}
	return h.pages.Fragment(w, http.StatusOK, "search.html", "counties", out)
}

// themeGroup is one audience's themes with their item counts.
type themeGroup struct {
	Audience Audience
	Label    string
	Themes   []search.FacetCount
	Exact    bool // false: some counts are over the first matches only (not with Query.Exact)
}

type themesPage struct {
	ui.Base
	Groups []themeGroup
}

// themeCache keeps the theme pages' exact counts for a while: counting
// every published item of a whole audience is a pass over the index.
type themeCache struct {
	mu     sync.Mutex
	at     time.Time
	groups []themeGroup
}

const themeTTL = 5 * time.Minute

// themes lists the life-event (个人) and enterprise-lifecycle (法人)
// themes of the published catalogue with how many items each has.
func (h *Handler) themes(w http.ResponseWriter, r *http.Request) error {
	page := themesPage{Base: ui.NewBase(r, "主题服务")}
	h.themeC.mu.Lock()
	defer h.themeC.mu.Unlock()
	if h.themeC.groups == nil || time.Since(h.themeC.at) > themeTTL {
		var groups []themeGroup
		for _, g := range []themeGroup{{Audience: Person, Label: "个人办事 · 人生事件"}, {Audience: Legal, Label: "法人办事 · 企业全生命周期"}} {
			q := search.Query{Region: page.Site.Province, Filters: map[string][]string{"audience": {string(g.Audience)}}, Facets: []string{"theme"}, Limit: 1, Exact: true}
			res, err := h.finder.Search(r.Context(), q)
			if err != nil {
				return err
			}
			g.Themes, g.Exact = res.Facets["theme"], res.FacetsExact
			groups = append(groups, g)
		}
		h.themeC.groups, h.themeC.at = groups, time.Now()
	}
	page.Groups = h.themeC.groups
	return h.pages.Render(w, http.StatusOK, "themes.html", page)
}
