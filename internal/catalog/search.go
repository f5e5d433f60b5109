package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"yiwang/internal/org"
	"yiwang/internal/platform/outbox"
	"yiwang/internal/platform/search"
	"yiwang/internal/platform/sqldb"
)

// SearchSchema is what the item index holds: text fields by weight, and
// the facets citizens filter on.
var SearchSchema = search.Schema{
	Fields: []search.Field{{Name: "name", Weight: 4}, {Name: "aliases", Weight: 3}, {Name: "keywords", Weight: 2}, {Name: "dept", Weight: 1}},
	Facets: []string{"type", "audience", "theme", "depth", "cross_province", "one_window"},
}

// Finder is the derived search index over published items. It lives in its
// own local file, is rebuilt at start-up from the main database (whatever
// its engine) and kept current by catalog.item.changed events.
type Finder struct {
	svc *Service
	ix  *search.Index
	// Names shown with hits, kept in memory so a search costs one query of
	// the main database: regions are reference data (a new dataset comes
	// with a restart); department names may change, so they are kept for
	// a minute.
	regionNames sync.Map // code → name
	deptNames   sync.Map // id → deptName
}

type deptName struct {
	name string
	at   time.Time
}

// deptNameTTL is how long a department's name is shown from memory.
const deptNameTTL = time.Minute

// names returns the names of depts and regions, from memory where it can.
func (f *Finder) names(ctx context.Context, depts, regions []string) (map[string]string, map[string]string, error) {
	dn, rn := map[string]string{}, map[string]string{}
	var missD, missR []string
	now := time.Now()
	for _, id := range depts {
		if v, ok := f.deptNames.Load(id); ok && now.Sub(v.(deptName).at) < deptNameTTL {
			dn[id] = v.(deptName).name
		} else {
			missD = append(missD, id)
		}
	}
	for _, c := range regions {
		if v, ok := f.regionNames.Load(c); ok {
			rn[c] = v.(string)
		} else {
			missR = append(missR, c)
		}
	}
	// The two look-ups are independent: one round trip of waiting, not two.
	var refs map[string]org.DeptRef
	var names map[string]string
	var refsErr, namesErr error
	var wg sync.WaitGroup
	if len(missD) > 0 {
		wg.Go(func() { refs, refsErr = f.svc.org.DepartmentRefs(ctx, missD) })
	}
	if len(missR) > 0 {
		names, namesErr = f.svc.org.RegionNames(ctx, missR)
	}
	wg.Wait()
	if err := errors.Join(refsErr, namesErr); err != nil {
		return nil, nil, err
	}
	for id, r := range refs {
		dn[id] = r.Name
		f.deptNames.Store(id, deptName{r.Name, now})
	}
	for c, n := range names {
		rn[c] = n
		f.regionNames.Store(c, n)
	}
	return dn, rn, nil
}

// OpenFinder opens (creating if needed) the index file at path.
func OpenFinder(svc *Service, path string) (*Finder, error) {
	ix, err := search.Open(path, SearchSchema)
	if err != nil {
		return nil, fmt.Errorf("catalog.OpenFinder: %w", err)
	}
	return &Finder{svc: svc, ix: ix}, nil
}

// Close closes the index.
func (f *Finder) Close() error { return f.ix.Close() }

// itemDoc turns a published item into its search document, keyed by code.
func itemDoc(code string, popularity int64, it Item) search.Doc {
	join := func(v []string) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	d := search.Doc{ID: code, Region: it.Region, Boost: float64(popularity),
		Fields: map[string]string{"name": it.Name, "aliases": join(it.Aliases), "keywords": join(it.Keywords), "dept": it.DeptName},
		Facets: map[string][]string{"type": {it.Type}, "depth": {strconv.Itoa(it.Depth.Level)}, "theme": it.Themes,
			"one_window": {strconv.FormatBool(it.OneWindow)}, "cross_province": {strconv.FormatBool(it.CrossProvince != "")}},
	}
	for _, a := range it.Audiences {
		d.Facets["audience"] = append(d.Facets["audience"], string(a))
	}
	return d
}

// searchFields is the part of an item's stored elements that its search
// document needs (see itemDoc). Rebuild decodes only these: the materials,
// steps, fees and the rest are most of an item's JSON, and decoding them
// all was a quarter of a rebuild.
type searchFields struct {
	Name          string     `json:"name"`
	Type          string     `json:"type"`
	Region        string     `json:"region"`
	DeptName      string     `json:"dept_name"`
	Audiences     []Audience `json:"audiences"`
	Depth         Depth      `json:"depth"`
	CrossProvince string     `json:"cross_province"`
	OneWindow     bool       `json:"one_window"`
	Themes        []string   `json:"themes"`
	Keywords      []string   `json:"keywords"`
	Aliases       []string   `json:"aliases"`
}

func (f searchFields) item() Item {
	return Item{Name: f.Name, Type: f.Type, Region: f.Region, DeptName: f.DeptName, Audiences: f.Audiences, Depth: f.Depth,
		CrossProvince: f.CrossProvince, OneWindow: f.OneWindow, Themes: f.Themes, Keywords: f.Keywords, Aliases: f.Aliases}
}

// Rebuild replaces the index with every published or suspended item.
func (f *Finder) Rebuild(ctx context.Context) (int, error) {
	rows, err := f.svc.db.R.QueryContext(ctx, `SELECT i.code, i.popularity, v.data FROM catalog_items i
		JOIN catalog_item_versions v ON v.item_id = i.id AND v.version_no = i.published_version
		WHERE i.status IN ($1, $2)`, StatusPublished, StatusSuspended)
	if err != nil {
		return 0, fmt.Errorf("catalog.Finder.Rebuild: %w", err)
	}
	defer rows.Close()
	return f.ix.Rebuild(ctx, func() (search.Doc, bool, error) {
		if !rows.Next() {
			return search.Doc{}, false, rows.Err()
		}
		var code, data string
		var pop int64
		if err := rows.Scan(&code, &pop, &data); err != nil {
			return search.Doc{}, false, err
		}
		var sf searchFields
		if err := json.Unmarshal([]byte(data), &sf); err != nil {
			return search.Doc{}, false, fmt.Errorf("item %s: %w", code, err)
		}
		return itemDoc(code, pop, sf.item()), true, nil
	})
}

// OnItemChanged is the outbox handler for catalog.item.changed: the item's
// document is replaced, or removed when the item is no longer public.
func (f *Finder) OnItemChanged(ctx context.Context, m outbox.Message) error {
	var ev ItemChanged
	if err := m.Decode(&ev); err != nil {
		return fmt.Errorf("catalog.Finder.OnItemChanged: %w", err)
	}
	r, it, err := f.svc.Published(ctx, ev.Code)
	if err != nil {
		return f.ix.Delete(ctx, ev.Code) // revoked, or never published
	}
	return f.ix.Upsert(ctx, itemDoc(r.Code, r.Popularity, it))
}

// Hit is one search result with what lists show.
type Hit struct {
	Code, Name, Department, Region, RegionName, Type string
	Highlight                                        string // HTML: the name with matches marked
}

// SearchResult is one page of results with facet counts.
type SearchResult struct {
	Total       int
	TotalExact  bool // false: there are more than Total (= search.CountCap) matches; show it as "超过 N 条"
	Hits        []Hit
	Facets      map[string][]search.FacetCount
	FacetsExact bool // false: some facet counts are over the first search.CountCap matches only
	Terms       []string
}

// Search runs q on the index and fills in each hit from the database.
func (f *Finder) Search(ctx context.Context, q search.Query) (SearchResult, error) {
	res, err := f.ix.Search(ctx, q)
	if err != nil {
		return SearchResult{}, err
	}
	out := SearchResult{Total: res.Total, TotalExact: res.TotalExact, Facets: res.Facets, FacetsExact: res.FacetsExact, Terms: res.Terms}
	if len(res.Hits) == 0 {
		return out, nil
	}
	codes := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		codes[i] = h.ID
	}
	w := &sqldb.Where{}
	w.AddIn("code", codes)
	rows, err := f.svc.db.R.QueryContext(ctx, `SELECT code, name, type_code, region_code, dept_id FROM catalog_items`+w.String(), w.Args...)
	if err != nil {
		return SearchResult{}, fmt.Errorf("catalog.Finder.Search: %w", err)
	}
	type row struct{ name, typ, region, dept string }
	byCode := map[string]row{}
	var depts, regions []string
	for rows.Next() {
		var code string
		var r row
		if err := rows.Scan(&code, &r.name, &r.typ, &r.region, &r.dept); err != nil {
			rows.Close()
			return SearchResult{}, err
		}
		byCode[code] = r
		if !slices.Contains(depts, r.dept) {
			depts = append(depts, r.dept)
		}
		if !slices.Contains(regions, r.region) {
			regions = append(regions, r.region)
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return SearchResult{}, fmt.Errorf("catalog.Finder.Search: %w", err)
	}
	deptNames, names, err := f.names(ctx, depts, regions)
	if err != nil {
		return SearchResult{}, err
	}
	for _, h := range res.Hits {
		r, ok := byCode[h.ID]
		if !ok {
			continue // removed since the index saw it
		}
		hl := h.Highlights["name"]
		out.Hits = append(out.Hits, Hit{Code: h.ID, Name: r.name, Department: deptNames[r.dept], Region: r.region, RegionName: names[r.region], Type: r.typ, Highlight: hl})
	}
	return out, nil
}
