package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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
//
// A file left by the previous run serves searches at once (Start): the
// rebuild then runs in the background into a new file, which replaces the
// old one when it is complete. Items that change meanwhile are recorded and
// written again to the new index, from the database, before the swap, so no
// change is lost. A pointer file (the index path + ".current") names the
// file in use, so that the next start finds it.
type Finder struct {
	svc  *Service
	path string // the index path given to OpenFinder; its directory holds the files

	// mu guards ix and name: searches and OnItemChanged hold it for reading
	// while they use ix; the swap after a background rebuild holds it for
	// writing, so nobody still uses the old index when it is closed.
	mu   sync.RWMutex
	ix   *search.Index
	name string // ix's file name within the directory

	// pending holds the codes of items changed while a background rebuild
	// runs (nil when none runs).
	pmu     sync.Mutex
	pending map[string]bool

	rebuilding sync.Mutex // one rebuild at a time
	bg         sync.WaitGroup
	stop       context.CancelFunc // ends a background rebuild, on Close
	log        *slog.Logger
	afterBuild func() // tests: runs once a background rebuild has built its file, before changes are replayed

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

// OpenFinder opens (creating if needed) the item index at path: the file
// that path + ".current" names, in path's directory, or else path itself.
// Index files there that are not in use (left by a rebuild that did not
// finish) are removed. Call Start before serving.
func OpenFinder(svc *Service, path string) (*Finder, error) {
	const op = "catalog.OpenFinder"
	f := &Finder{svc: svc, path: path, name: filepath.Base(path), log: slog.New(slog.DiscardHandler)}
	if b, err := os.ReadFile(path + ".current"); err == nil {
		if name := strings.TrimSpace(string(b)); name != "" && name == filepath.Base(name) {
			f.name = name
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	f.removeStale()
	ix, err := search.Open(f.file(f.name), SearchSchema)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	f.ix = ix
	return f, nil
}

// file returns the path of the index file called name.
func (f *Finder) file(name string) string { return filepath.Join(filepath.Dir(f.path), name) }

// rebuildName is the file name of a background rebuild's index.
func (f *Finder) rebuildName() string {
	base := strings.TrimSuffix(filepath.Base(f.path), filepath.Ext(f.path))
	return fmt.Sprintf("%s-%d%s", base, time.Now().UnixNano(), filepath.Ext(f.path))
}

// removeStale removes the index files of the directory that are not f.name:
// path itself and the files background rebuilds made.
func (f *Finder) removeStale() {
	base := strings.TrimSuffix(filepath.Base(f.path), filepath.Ext(f.path))
	names, _ := filepath.Glob(f.file(base + "-*" + filepath.Ext(f.path)))
	names = append(names, f.path)
	for _, p := range names {
		if filepath.Base(p) != f.name {
			removeIndexFile(p)
		}
	}
}

// removeIndexFile removes an SQLite file and its WAL and shared-memory files.
func removeIndexFile(path string) error {
	var err error
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if e := os.Remove(path + suffix); e != nil && !errors.Is(e, os.ErrNotExist) {
			err = errors.Join(err, e)
		}
	}
	return err
}

// Start makes the index ready to serve. If the file holds a complete index
// (from a previous run), Start returns at once and rebuilds in the
// background; else (first start, or a file of an older layout) it rebuilds
// before returning: there is nothing to serve meanwhile. Either way it logs
// how long the rebuild took.
func (f *Finder) Start(ctx context.Context, log *slog.Logger) error {
	if log != nil {
		f.log = log
	}
	built, ok, err := f.ix.Built(ctx)
	if err != nil {
		return err
	}
	if !ok {
		start := time.Now()
		n, err := f.Rebuild(ctx)
		if err != nil {
			return err
		}
		f.log.Info("item search index built", "items", n, "ms", time.Since(start).Milliseconds())
		return nil
	}
	f.log.Info("item search index opened from the previous run; rebuilding in the background", "file", f.name, "built", built)
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	f.stop = stop
	f.bg.Go(func() {
		defer stop()
		start := time.Now()
		n, err := f.rebuildBackground(bg)
		if err != nil {
			f.log.Error("item search index: background rebuild failed; the index from the previous run stays in use", "err", err)
			return
		}
		f.log.Info("item search index rebuilt in the background", "items", n, "ms", time.Since(start).Milliseconds())
	})
	return nil
}

// rebuildBackground builds a new index file from the database while the
// current one serves, writes again the items that changed meanwhile, and
// swaps the new file in.
func (f *Finder) rebuildBackground(ctx context.Context) (int, error) {
	const op = "catalog.Finder.rebuildBackground"
	f.rebuilding.Lock()
	defer f.rebuilding.Unlock()
	f.pmu.Lock()
	f.pending = map[string]bool{}
	f.pmu.Unlock()
	name := f.rebuildName()
	swapped := false
	defer func() {
		if !swapped {
			f.takePending()
			f.pmu.Lock()
			f.pending = nil
			f.pmu.Unlock()
			removeIndexFile(f.file(name))
		}
	}()
	ix, err := search.Open(f.file(name), SearchSchema)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	n, err := f.rebuildIndex(ctx, ix)
	if err == nil && f.afterBuild != nil {
		f.afterBuild()
	}
	// Replay the changes recorded so far without holding up searches, then
	// the last few with the swap, while no change can slip in between.
	for err == nil {
		codes := f.takePending()
		if len(codes) == 0 {
			break
		}
		err = f.applyAll(ctx, ix, codes)
	}
	if err == nil {
		err = ix.Checkpoint(ctx)
	}
	if err != nil {
		ix.Close()
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	f.mu.Lock()
	if err := f.applyAll(ctx, ix, f.takePending()); err != nil {
		f.mu.Unlock()
		ix.Close()
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	f.pmu.Lock()
	f.pending = nil
	f.pmu.Unlock()
	old, oldName := f.ix, f.name
	f.ix, f.name = ix, name
	swapped = true
	f.mu.Unlock()
	// Point the next start at the new file (write, then rename: the pointer
	// is never half written), and drop the old one.
	tmp := f.path + ".current.tmp"
	if err := os.WriteFile(tmp, []byte(name+"\n"), 0o600); err != nil {
		f.log.Error("item search index: cannot record the new index file", "err", err)
	} else if err := os.Rename(tmp, f.path+".current"); err != nil {
		f.log.Error("item search index: cannot record the new index file", "err", err)
	}
	if err := errors.Join(old.Close(), removeIndexFile(f.file(oldName))); err != nil {
		f.log.Warn("item search index: cannot remove the old index file", "file", oldName, "err", err)
	}
	return n, nil
}

// takePending returns and clears the codes recorded during a background rebuild.
func (f *Finder) takePending() []string {
	f.pmu.Lock()
	defer f.pmu.Unlock()
	codes := make([]string, 0, len(f.pending))
	for c := range f.pending {
		codes = append(codes, c)
		delete(f.pending, c)
	}
	return codes
}

// applyAll writes the current state of the items with codes to ix.
func (f *Finder) applyAll(ctx context.Context, ix *search.Index, codes []string) error {
	for _, c := range codes {
		if err := f.apply(ctx, ix, c); err != nil {
			return fmt.Errorf("item %s: %w", c, err)
		}
	}
	return nil
}

// Close ends a background rebuild, if one runs, and closes the index.
func (f *Finder) Close() error {
	if f.stop != nil {
		f.stop()
	}
	f.bg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ix.Close()
}

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

// Rebuild replaces the index in use with every published or suspended
// item, in place: searches see the old index until the new one commits. It
// waits for a background rebuild to finish first.
func (f *Finder) Rebuild(ctx context.Context) (int, error) {
	f.rebuilding.Lock()
	defer f.rebuilding.Unlock()
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.rebuildIndex(ctx, f.ix)
}

// rebuildIndex fills ix with every published or suspended item.
func (f *Finder) rebuildIndex(ctx context.Context, ix *search.Index) (int, error) {
	rows, err := f.svc.db.R.QueryContext(ctx, `SELECT i.code, i.popularity, v.data FROM catalog_items i
		JOIN catalog_item_versions v ON v.item_id = i.id AND v.version_no = i.published_version
		WHERE i.status IN ($1, $2)`, StatusPublished, StatusSuspended)
	if err != nil {
		return 0, fmt.Errorf("catalog.Finder.Rebuild: %w", err)
	}
	defer rows.Close()
	return ix.Rebuild(ctx, func() (search.Doc, bool, error) {
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
// During a background rebuild the code is also recorded, so that the new
// index gets the change too.
func (f *Finder) OnItemChanged(ctx context.Context, m outbox.Message) error {
	var ev ItemChanged
	if err := m.Decode(&ev); err != nil {
		return fmt.Errorf("catalog.Finder.OnItemChanged: %w", err)
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	f.pmu.Lock()
	if f.pending != nil {
		f.pending[ev.Code] = true
	}
	f.pmu.Unlock()
	return f.apply(ctx, f.ix, ev.Code)
}

// apply writes the item's current public state to ix.
func (f *Finder) apply(ctx context.Context, ix *search.Index, code string) error {
	r, it, err := f.svc.Published(ctx, code)
	if err != nil {
		return ix.Delete(ctx, code) // revoked, or never published
	}
	return ix.Upsert(ctx, itemDoc(r.Code, r.Popularity, it))
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
	f.mu.RLock()
	res, err := f.ix.Search(ctx, q)
	f.mu.RUnlock()
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
