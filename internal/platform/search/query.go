package search

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
)

// Query is a search request.
type Query struct {
	Text    string              // what the user typed; "" (or only spaces) lists by Boost, and then Region or Filters is required
	Region  string              // only documents in this region or its descendants (authz.RegionPrefix); "" means everywhere
	Filters map[string][]string // facet → accepted values: any value of one facet, all facets
	Facets  []string            // facets to count over the matches (disjunctively, see the package doc)
	Offset  int                 // hits to skip
	Limit   int                 // hits to return: 0 means DefaultLimit, at most MaxLimit
	Exact   bool                // count every match, Total and facets, past CountCap: a pass over all matches, for pages that show whole-category counts and can cache them
}

// Page sizes for Query.Limit.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Result is the answer to a Query.
type Result struct {
	Total       int                     // matches in all, within Region and Filters, when TotalExact; else there are more than Total (= CountCap)
	TotalExact  bool                    // Total is exact: the query matched at most CountCap documents
	Hits        []Hit                   // the requested page, best first
	Facets      map[string][]FacetCount // counts for each facet asked for, largest first
	FacetsExact bool                    // every facet count is over all matches; false when some are over the first CountCap matches only (see the package doc)
	Terms       []string                // the folded query terms (see ParseQuery), nil when listing
}

// Hit is one matching document.
type Hit struct {
	ID         string
	Score      float64           // BM25F relevance, higher is better; 0 when listing
	Highlights map[string]string // field → HTML-escaped text with matches wrapped in <mark>…</mark>; only fields that matched
}

// FacetCount is how many matches carry one facet value.
type FacetCount struct {
	Value string
	Count int
}

// BM25F parameters.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// CountCap is the most matches Search counts. Beyond it Result.Total is
// CountCap and TotalExact is false: there are more. Counting every match of
// a broad query (社保 over 590,000 names) costs a pass over all of them,
// many times the rest of the search; estimating the total from the first
// matches proved unreliable, because documents are numbered by popularity
// and popularity is not independent of the text.
const CountCap = 100

// facetSample is how many of the first matches (in document-number, that
// is popularity, order) of a query broader than CountCap its facets are
// counted over.
const facetSample = CountCap

// unknown is the size of a ranking tier that was not counted: it has at
// least as many matches as the page needs.
const unknown = math.MaxInt32

// Search runs q. Bad input (text too long or without anything searchable,
// unknown facets, empty text without Region or Filters) is an Invalid error.
func (ix *Index) Search(ctx context.Context, q Query) (Result, error) {
	const op = "search.Index.Search"
	sel := selection{ix: ix, cap: ix.countCap}
	if q.Exact {
		sel.cap = math.MaxInt32
	}
	// Searches read the attributes in memory, and a write changes them
	// only as it commits, under the write lock: taking the read lock before
	// the read transaction starts keeps the two on one snapshot.
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	sel.mem = ix.mem
	var prefix string // the region filter's prefix, "" for none
	if q.Region != "" {
		prefix = authz.RegionPrefix(strings.ToValidUTF8(q.Region, ""))
		sel.region = "tags : " + quote(regionTag(prefix))
	}
	combined := prefix != "" && !ix.noCombined && slices.Contains(combinedLens[:], len(prefix))
	for _, facet := range sortedKeys(q.Filters) {
		pos, ok := ix.facetPos[facet]
		if !ok {
			return Result{}, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "筛选条件无效", Fields: map[string]string{facet: "没有这个筛选项"}}
		}
		var tags, quoted, cquoted []string
		var ids []uint32
		for _, v := range q.Filters[facet] {
			if t := facetTag(pos, strings.ToValidUTF8(v, "")); !slices.Contains(tags, t) {
				tags, quoted = append(tags, t), append(quoted, quote(t))
				if combined {
					cquoted = append(cquoted, quote(combinedTag(prefix, t)))
				}
				if id, ok := sel.mem.tagIDs[t]; ok {
					ids = append(ids, id)
				}
			}
		}
		if len(tags) > 0 {
			f := filter{facet: facet, ids: ids, expr: "tags : (" + strings.Join(quoted, " OR ") + ")"}
			if combined {
				f.cexpr = "tags : (" + strings.Join(cquoted, " OR ") + ")"
			}
			sel.filters = append(sel.filters, f)
		}
	}
	var facets []string
	for _, f := range q.Facets {
		if _, ok := ix.facetPos[f]; !ok {
			return Result{}, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "筛选条件无效", Fields: map[string]string{f: "没有这个筛选项"}}
		}
		if !slices.Contains(facets, f) {
			facets = append(facets, f)
		}
	}
	var res Result
	if strings.TrimSpace(q.Text) != "" || (sel.region == "" && len(sel.filters) == 0) {
		terms, err := ParseQuery(q.Text)
		if err != nil {
			return Result{}, err
		}
		res.Terms = terms
		sel.match = matchExpr(terms, ix.fieldCols, !ix.noTri)
		qruns := runs(q.Text)
		sel.qkey = key(qruns)
		sel.prefix, sel.exact, sel.implied = tierExprs(qruns)
		sel.m = newMatcher(terms)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	offset := max(q.Offset, 0)

	// One read transaction: hits, total and facet counts from one snapshot,
	// even while a Rebuild commits.
	tx, err := ix.r.BeginTx(ctx, nil)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	rt := &readTx{ctx: ctx, ix: ix, tx: tx}
	// Most queries match few documents: fetch them all and rank them here.
	// Only a broad query pays for ranking tiers in windows, and one broader
	// than CountCap is not counted to the end.
	//
	// A query that counts a facet it filters on first reads its selection
	// without the facet filters: when that has at most CountCap documents,
	// the hits and every facet count follow from it in one pass, instead of
	// one pass for the hits and one per filtered facet.
	// Otherwise the filtered facets are counted over the first matches read,
	// so that pass is not lost.
	var first []int64
	var pre, own map[string][]FacetCount
	if slices.ContainsFunc(facets, sel.filtered) {
		if first, pre, own, err = sel.unfiltered(rt, facets); err != nil {
			return Result{}, fmt.Errorf("%s(%q): %w", op, q.Text, err)
		}
	}
	if pre == nil {
		if first, err = sel.scan(rt, sel.base(""), check{}, 0, sel.firstLimit()); err != nil {
			return Result{}, fmt.Errorf("%s(%q): %w", op, q.Text, err)
		}
	}
	res.FacetsExact = true
	res.Total, res.TotalExact = total(first, sel.firstLimit())
	if len(first) <= ix.narrow {
		cs, err := sel.load(rt, first)
		if err != nil {
			return Result{}, fmt.Errorf("%s(%q): %w", op, q.Text, err)
		}
		sel.rank(cs)
		res.Hits = sel.hits(cs[min(offset, len(cs)):min(offset+limit, len(cs))])
	} else {
		tiers, err := sel.tiers(rt, first, res.Total, res.TotalExact, offset+limit)
		if err != nil {
			return Result{}, fmt.Errorf("%s(%q): count: %w", op, q.Text, err)
		}
		if res.Hits, err = sel.page(rt, tiers, offset, limit); err != nil {
			return Result{}, fmt.Errorf("%s(%q): hits: %w", op, q.Text, err)
		}
	}
	// Facets without a filter of their own are counted over the query's
	// matches, all in one pass; each filtered facet over its own base.
	var shared []string
	for _, f := range facets {
		if !sel.filtered(f) {
			shared = append(shared, f)
		}
	}
	if pre != nil {
		res.Facets = pre
		return res, nil
	}
	if len(facets) > 0 {
		res.Facets = make(map[string][]FacetCount)
	}
	if len(shared) > 0 {
		res.FacetsExact = sel.facetCounts(shared, first, res.TotalExact, res.Facets) && res.FacetsExact
	}
	for _, f := range facets {
		if !sel.filtered(f) {
			continue
		}
		if counts, ok := own[f]; ok {
			res.Facets[f], res.FacetsExact = counts, false
			continue
		}
		exact, err := sel.ownFacetCounts(rt, f, res.Facets)
		if err != nil {
			return Result{}, fmt.Errorf("%s(%q): facet %s: %w", op, q.Text, f, err)
		}
		res.FacetsExact = res.FacetsExact && exact
	}
	return res, nil
}

// sample is how many of the first matches of a broad query its facets are
// counted over: never more than it counts.
func (s *selection) sample() int { return min(s.ix.sampleSize, s.cap) }

// firstLimit is how many matches of a query Search reads first: one more
// than it counts exactly or loads whole.
func (s *selection) firstLimit() int { return max(s.cap, s.ix.narrow) + 1 }

// total returns the number of matches of a query whose first matches
// (up to limit of them) are first, and whether it is exact: when limit
// were read, there are more than limit-1.
func total(first []int64, limit int) (int, bool) {
	if len(first) < limit {
		return len(first), true
	}
	return limit - 1, false
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// readTx is one search's read transaction. Its statements are prepared
// once per reader connection and reused, which saves SQLite's parser a good
// part of a short search.
type readTx struct {
	ctx     context.Context
	ix      *Index
	tx      *sql.Tx
	streams map[string]*stream // the matches read so far, by FTS5 expression
}

func (rt *readTx) stmt(query string) (*sql.Stmt, error) {
	if st, ok := rt.ix.stmts.Load(query); ok {
		return rt.tx.StmtContext(rt.ctx, st.(*sql.Stmt)), nil
	}
	st, err := rt.ix.r.PrepareContext(rt.ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := rt.ix.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		st = prev.(*sql.Stmt)
	}
	return rt.tx.StmtContext(rt.ctx, st), nil
}

func (rt *readTx) query(query string, args ...any) (*sql.Rows, error) {
	st, err := rt.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(rt.ctx, args...)
}

// queryRow is QueryRowContext with a prepared statement.
func (rt *readTx) queryRow(query string, args ...any) *row {
	st, err := rt.stmt(query)
	if err != nil {
		return &row{err: err}
	}
	return &row{row: st.QueryRowContext(rt.ctx, args...)}
}

// row is a *sql.Row or the error that kept it from being made.
type row struct {
	row *sql.Row
	err error
}

func (r *row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.row.Scan(dest...)
}

// selection is what a query matches, as FTS5 expressions.
type selection struct {
	ix            *Index
	cap           int      // the most matches counted: ix.countCap, or all for Query.Exact
	match         string   // the text terms; "" when listing
	qkey          string   // the query's key, for the tiers of a narrow query
	prefix, exact string   // expressions for the ranking tiers
	implied       bool     // a prefix match implies a match of the terms
	m             *matcher // the text terms, for scoring and highlighting
	region        string   // the region filter's expression, "" for none
	filters       []filter
	mem           *attrs // the documents' facet tags, for counts
}

type filter struct {
	facet string
	ids   []uint32 // the accepted values' tag ids (in mem), any of them
	expr  string
	cexpr string // the same values combined with the region filter (combinedTag), "" when the region's prefix has none
}

// check is what a scan checks here on each match of its FTS5 expression.
type check struct {
	not func(int64) bool // documents to leave out (nil: none)
}

// and joins FTS5 expressions with AND, leaving out empty ones.
func and(exprs ...string) string {
	var parts []string
	for _, e := range exprs {
		if e != "" {
			parts = append(parts, "("+e+")")
		}
	}
	return strings.Join(parts, " AND ")
}

// base is the selection without the filter on facet skip.
func (s *selection) base(skip string) string {
	return and(append([]string{s.match}, s.filterExprs(skip)...)...)
}

// filterExprs returns the expressions of the region and facet filters, but
// skip's. A facet filter with a combined expression stands for the region
// filter too, which then needs no doclist of its own.
func (s *selection) filterExprs(skip string) []string {
	var out []string
	region := s.region
	for _, f := range s.filters {
		switch {
		case f.facet == skip:
		case f.cexpr != "":
			out, region = append(out, f.cexpr), ""
		default:
			out = append(out, f.expr)
		}
	}
	return append([]string{region}, out...)
}

// scan returns the matches [offset, offset+limit) of expr that pass c, in
// document-number order. The matches of expr are read once per search, in
// batches, into a stream that later scans of the same expression read
// again from memory: the first matches, a page of the rest tier and a
// facet count often walk the same selection.
func (s *selection) scan(rt *readTx, expr string, c check, offset, limit int) ([]int64, error) {
	if limit <= 0 {
		return nil, nil
	}
	need := offset + limit
	var out []int64
	read, kept := 0, 0
	st := rt.stream(expr)
	for i := 0; ; {
		for ; i < len(st.ns); i++ {
			n := st.ns[i]
			read++
			if c.not != nil && c.not(n) {
				continue
			}
			if kept++; kept > offset {
				out = append(out, n)
				if kept == need {
					return out, nil
				}
			}
		}
		if st.done {
			return out, nil
		}
		// Enough for what is missing at the part kept so far, with a margin.
		batch := float64(need - kept)
		if c.not != nil {
			batch = batch*float64(max(read, 1))/float64(max(kept, 1))*1.25 + 16
		}
		if err := st.more(rt, expr, int(min(batch, maxBatch))); err != nil {
			return nil, err
		}
	}
}

// maxBatch is the most matches a stream reads at once.
const maxBatch = 1 << 15

// stream is the matches of one FTS5 expression that a search has read so
// far, in document-number order.
type stream struct {
	ns   []int64
	last int64 // every match numbered up to last is in ns (math.MinInt64 before the first read)
	done bool  // ns holds every match
}

// stream returns the stream of expr in this search.
func (rt *readTx) stream(expr string) *stream {
	if st, ok := rt.streams[expr]; ok {
		return st
	}
	if rt.streams == nil {
		rt.streams = map[string]*stream{}
	}
	st := &stream{last: math.MinInt64}
	rt.streams[expr] = st
	return st
}

// more reads up to batch further matches of expr into st.
func (st *stream) more(rt *readTx, expr string, batch int) error {
	batch = max(batch, 1)
	ns, err := matchesAfter(rt, expr, st.last, batch)
	if err != nil {
		return err
	}
	st.ns = append(st.ns, ns...)
	if len(ns) > 0 {
		st.last = ns[len(ns)-1]
	}
	st.done = len(ns) < batch
	return nil
}

// filtered reports whether the query filters on facet.
func (s *selection) filtered(facet string) bool {
	return slices.ContainsFunc(s.filters, func(f filter) bool { return f.facet == facet })
}

// matchesAfter returns the numbers of the first limit matches of expr
// numbered above after, in document-number order. They come back as one
// row (group_concat): reading a row per match would cost several times
// FTS5's own walk, and FTS5 seeks to the first rowid above after.
func matchesAfter(rt *readTx, expr string, after int64, limit int) ([]int64, error) {
	var list sql.NullString
	if err := rt.queryRow(`SELECT group_concat(n) FROM (SELECT rowid AS n FROM fts WHERE fts MATCH ? AND rowid > ? ORDER BY rowid LIMIT ?)`, expr, after, limit).Scan(&list); err != nil {
		return nil, err
	}
	return parseList(list.String)
}

// count counts the matches of expr that pass c, stopping at limit: a
// count of limit means "limit or more".
func (s *selection) count(rt *readTx, expr string, c check, limit int) (int, error) {
	ns, err := s.scan(rt, expr, c, 0, limit)
	return len(ns), err
}

// tier is a part of the matches that ranks wholly above the next part.
type tier struct {
	expr  string
	check check // what scans of expr check here
	n     int
	whole bool    // small enough to load whole and split into exact and prefix here (ns holds it)
	ns    []int64 // the tier's first matches in document-number order, when already read
}

// tiers splits the selection of a broad query into ranking tiers with their
// sizes: names equal to the query, names starting with it, the rest. total
// is the selection's size (exact or not) and first its first matches, in
// document-number order; the first two tiers are counted
// up to what a page ending at need requires, so a tier may be of unknown
// size when the page ends inside it.
func (s *selection) tiers(rt *readTx, first []int64, total int, exact bool, need int) ([]tier, error) {
	rest := unknown
	if exact {
		rest = total
	}
	base := s.base("")
	if s.match == "" {
		return []tier{{expr: base, n: rest}}, nil
	}
	// The prefix and exact expressions are single tokens of the keys column,
	// so they cost what the names starting with the query cost, not what the
	// whole match costs, unless they must be ANDed with the text match: FTS5
	// then walks the text's phrases.
	filters := and(s.filterExprs("")...)
	exactExpr := and(s.exact, filters)
	prefix := and(s.prefix, filters)
	if !s.implied {
		prefix = and(s.prefix, base)
	}
	// Counted up to the page's end, or to narrowMax+1 to tell whether the
	// prefix tier may be ranked whole; a count of total was exact anyway.
	limit := max(s.ix.narrow, need) + 1
	if exact {
		limit = max(limit, total+1)
	}
	pm, err := s.scan(rt, prefix, check{}, 0, limit)
	if err != nil {
		return nil, err
	}
	ne, err := s.count(rt, exactExpr, check{}, limit)
	if err != nil {
		return nil, err
	}
	np := len(pm)
	if exact {
		rest = total - np // np <= total < limit
	}
	// The rest tier is the selection without the prefix matches. The page
	// reaches it only when the prefix tier was counted whole (np < limit):
	// then it is pm that the scan leaves out.
	restTier := tier{expr: base, n: rest}
	restTier.check.not = func(n int64) bool {
		_, found := slices.BinarySearch(pm, n)
		return found
	}
	if np < limit {
		// Every prefix match is known, so the query's first matches that
		// are not among them are the rest tier's first matches.
		restTier.ns = slices.DeleteFunc(slices.Clone(first), func(n int64) bool {
			_, found := slices.BinarySearch(pm, n)
			return found
		})
	}
	if np <= s.ix.narrow {
		return []tier{{expr: prefix, n: np, whole: true, ns: pm}, restTier}, nil
	}
	// A count that reached limit is "at least limit": the page ends inside
	// that tier and never needs its size.
	if ne >= limit {
		ne = unknown
	}
	prefixTier := tier{expr: "(" + prefix + ") NOT (" + s.exact + ")", n: np - ne}
	if np >= limit {
		prefixTier.n = unknown
	}
	if ne == 0 {
		prefixTier.ns = pm // no exact match: the prefix tier's first matches are pm
	}
	return []tier{{expr: exactExpr, n: ne}, prefixTier, restTier}, nil
}

// page returns hits [offset, offset+limit) of the tiers in rank order.
func (s *selection) page(rt *readTx, tiers []tier, offset, limit int) ([]Hit, error) {
	var hits []Hit
	pos := 0
	for _, t := range tiers {
		from, to := max(offset-pos, 0), min(offset+limit-pos, t.n)
		if from < to {
			hs, err := s.window(rt, t, from, to)
			if err != nil {
				return nil, err
			}
			hits = append(hits, hs...)
		}
		pos += t.n
		if pos >= offset+limit {
			break
		}
	}
	return hits, nil
}

// candidate is a matching document being ranked.
type candidate struct {
	n     int64
	id    string
	boost float64
	texts []string
	tier  int // 0 exact, 1 prefix, 2 other (narrow queries only)
	score float64
}

// load reads the documents numbered ns, in that order, and scores them.
// The documents come back in one row, the texts hex-encoded: a row per
// document would cost more than the lookups.
func (s *selection) load(rt *readTx, ns []int64) ([]candidate, error) {
	if len(ns) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ns)
	if err != nil {
		return nil, err
	}
	var all sql.NullString
	if err := rt.queryRow(`SELECT group_concat(d.n || ' ' || hex(d.id) || ' ' || printf('%!.17g', d.boost) || ' ' || `+s.ix.hexTexts+`, char(10))
		FROM json_each(?) j CROSS JOIN docs d ON d.n = j.value`, string(list)).Scan(&all); err != nil {
		return nil, err
	}
	at := make(map[int64]int, len(ns))
	for i, n := range ns {
		at[n] = i
	}
	cs := make([]candidate, len(ns))
	nf := len(s.ix.schema.Fields)
	avg := *s.ix.avg.Load()
	tf := make([]int, 0, 8)
	var fw []float64
	if s.m != nil {
		fw = make([]float64, len(s.m.terms))
	}
	for line := range strings.SplitSeq(all.String, "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, " ")
		if len(f) != 3+nf {
			return nil, fmt.Errorf("document list: %d fields, want %d", len(f), 3+nf)
		}
		var c candidate
		var errs [3]error
		c.n, errs[0] = strconv.ParseInt(f[0], 10, 64)
		id, err := hex.DecodeString(f[1])
		c.id, errs[1] = string(id), err
		c.boost, errs[2] = strconv.ParseFloat(f[2], 64)
		if err := errors.Join(errs[:]...); err != nil {
			return nil, fmt.Errorf("document list: %w", err)
		}
		c.texts = make([]string, nf)
		for k := range nf {
			t, err := hex.DecodeString(f[3+k])
			if err != nil {
				return nil, fmt.Errorf("document list: %w", err)
			}
			c.texts[k] = string(t)
		}
		if s.m != nil {
			c.score = s.score(c.texts, avg, tf, fw)
		}
		if i, ok := at[c.n]; ok {
			cs[i] = c
		}
	}
	// A document deleted between the two reads of one transaction cannot
	// happen, but a zero candidate must never be shown.
	return slices.DeleteFunc(cs, func(c candidate) bool { return c.id == "" }), nil
}

// rank sorts the candidates of a narrow query: tier, then score, Boost, ID.
func (s *selection) rank(cs []candidate) {
	for i := range cs {
		cs[i].tier = 2
		if s.m == nil || len(cs[i].texts) == 0 {
			continue
		}
		switch name := key(runs(cs[i].texts[0])); { // as the keys column does
		case name == s.qkey:
			cs[i].tier = 0
		case strings.HasPrefix(name, s.qkey):
			cs[i].tier = 1
		}
	}
	slices.SortFunc(cs, func(a, b candidate) int {
		if c := cmp.Compare(a.tier, b.tier); c != 0 {
			return c
		}
		return byScore(a, b)
	})
}

func byScore(a, b candidate) int {
	if c := cmp.Compare(b.score, a.score); c != 0 {
		return c
	}
	if c := cmp.Compare(b.boost, a.boost); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// hits turns ranked candidates into hits with highlights.
func (s *selection) hits(cs []candidate) []Hit {
	hits := make([]Hit, len(cs))
	for i, c := range cs {
		hits[i] = Hit{ID: c.id, Score: c.score}
		if s.m == nil {
			continue
		}
		for f, text := range c.texts {
			if m, ok := s.m.highlight(text); ok {
				if hits[i].Highlights == nil {
					hits[i].Highlights = make(map[string]string)
				}
				hits[i].Highlights[s.ix.schema.Fields[f].Name] = m
			}
		}
	}
	return hits
}

// window returns hits [from, to) of tier t of a broad query. The tier's
// matches are taken in document-number order (descending Boost as of the
// last Rebuild) in windows of ix.window; each window is sorted by score,
// then Boost, then ID. A page thus costs the windows it touches, not the
// whole tier, and pages never overlap.
func (s *selection) window(rt *readTx, t tier, from, to int) ([]Hit, error) {
	if t.whole {
		cs, err := s.load(rt, t.ns)
		if err != nil {
			return nil, err
		}
		s.rank(cs)
		return s.hits(cs[min(from, len(cs)):min(to, len(cs))]), nil
	}
	w := s.ix.window
	start, stop := from/w*w, min((to+w-1)/w*w, t.n)
	var ns []int64
	if stop <= len(t.ns) {
		ns = t.ns[start:stop]
	} else {
		var err error
		if ns, err = s.scan(rt, t.expr, t.check, start, stop-start); err != nil {
			return nil, err
		}
	}
	cs, err := s.load(rt, ns)
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(cs); i += w {
		slices.SortFunc(cs[i:min(i+w, len(cs))], byScore)
	}
	return s.hits(cs[min(from-start, len(cs)):min(to-start, len(cs))]), nil
}

// score is the BM25F relevance of a document's texts to the query terms:
// each term's frequency is summed over the fields, weighted by the field's
// weight and normalised by the field's length against its average, then
// saturated. Every candidate matched every term, so the terms' inverse
// document frequencies would scale all candidates alike and are left out.
func (s *selection) score(texts []string, avg []float64, tf []int, fw []float64) float64 {
	clear(fw)
	for f, text := range texts {
		if text == "" {
			continue
		}
		tf = tf[:0]
		for range s.m.terms {
			tf = append(tf, 0)
		}
		length := float64(s.m.stats(text, tf))
		norm := 1.0
		if f < len(avg) && avg[f] > 0 {
			norm = 1 - bm25B + bm25B*length/avg[f]
		}
		for k, n := range tf {
			fw[k] += s.ix.schema.Fields[f].Weight * float64(n) / norm
		}
	}
	score := 0.0
	for _, x := range fw {
		score += x * (bm25K1 + 1) / (x + bm25K1)
	}
	return score
}

// facetCountsOf counts the values of facets over the documents numbered
// ns into out.
func (s *selection) facetCountsOf(facets []string, ns []int64, out map[string][]FacetCount) {
	s.countTags(facets, ns, func(int64, string) bool { return true }, out)
}

// countTags counts, for each of facets, the values carried by the
// documents ns that keep(n, facet) accepts, from their facet tags in
// memory. The counts go into out.
func (s *selection) countTags(facets []string, ns []int64, keep func(n int64, facet string) bool, out map[string][]FacetCount) {
	for _, f := range facets {
		pos := s.ix.facetPos[f]
		counts := map[uint32]int{}
		for _, n := range ns {
			if !keep(n, f) {
				continue
			}
			for _, t := range s.mem.tags(n) {
				if s.mem.tagFacet[t] == pos {
					counts[t]++
				}
			}
		}
		fc := make([]FacetCount, 0, len(counts))
		for t, c := range counts {
			fc = append(fc, FacetCount{Value: s.mem.tagValue[t], Count: c})
		}
		sortCounts(fc)
		out[f] = fc
	}
}

func scanCounts(rows *sql.Rows) ([]FacetCount, error) {
	defer rows.Close()
	out := []FacetCount{}
	for rows.Next() {
		var c FacetCount
		if err := rows.Scan(&c.Value, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sortCounts(out)
	return out, nil
}

func sortCounts(out []FacetCount) {
	slices.SortFunc(out, func(a, b FacetCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
}

// facetCounts counts facets over a set of matches whose first ones (up to
// firstLimit) are first into out, and reports whether the counts are over
// the whole set: a set of at most countCap matches is counted whole, a
// larger one over its first sampleSize matches.
func (s *selection) facetCounts(facets []string, first []int64, exact bool, out map[string][]FacetCount) bool {
	if exact {
		s.facetCountsOf(facets, first, out)
		return true
	}
	s.facetCountsOf(facets, first[:min(len(first), s.sample())], out)
	return false
}

// ownFacetCounts counts a facet the query filters on, over the selection
// without that filter (disjunctive counts), into out.
func (s *selection) ownFacetCounts(rt *readTx, facet string, out map[string][]FacetCount) (bool, error) {
	base := s.base(facet)
	if base == "" { // only this facet's own filter: count the whole index (a listing checks no filter here)
		rows, err := rt.query(`SELECT value, count(*) FROM facets WHERE facet = ? GROUP BY value`, facet)
		if err != nil {
			return false, err
		}
		out[facet], err = scanCounts(rows)
		return err == nil, err
	}
	first, err := s.scan(rt, base, check{}, 0, s.firstLimit())
	if err != nil {
		return false, err
	}
	_, exact := total(first, s.firstLimit())
	return s.facetCounts([]string{facet}, first, exact, out), nil
}

// unfiltered reads the selection without its facet filters. If it has at
// most twice countCap documents, it returns the matches of the whole selection
// and the exact, disjunctive counts of facets (pre), all from the facet
// values of those documents. Else it returns the counts of the filtered
// facets among facets (own), counted over its first sampleSize matches.
func (s *selection) unfiltered(rt *readTx, facets []string) (first []int64, pre, own map[string][]FacetCount, err error) {
	expr := and(s.match, s.region)
	if expr == "" {
		return nil, nil, nil, nil
	}
	// Reading this selection whole is worth up to twice countCap documents:
	// it saves a second pass over the text, which costs most when the
	// text is a long phrase.
	limit := 2*s.cap + 1
	all, err := s.scan(rt, expr, check{}, 0, limit)
	if err != nil {
		return nil, nil, nil, err
	}
	_, exact := total(all, limit)
	count := facets
	if !exact {
		count = slices.DeleteFunc(slices.Clone(facets), func(f string) bool { return !s.filtered(f) })
	}
	// keep reports whether document n passes every facet filter but skip's.
	keep := func(n int64, skip string) bool {
		tags := s.mem.tags(n)
		for _, f := range s.filters {
			if f.facet != skip && !slices.ContainsFunc(tags, func(t uint32) bool { return slices.Contains(f.ids, t) }) {
				return false
			}
		}
		return true
	}
	out := make(map[string][]FacetCount, len(count))
	if !exact {
		// The selection's first matches, up to the last one read, are
		// those of all that pass the facet filters: its stream need not
		// walk that part again.
		st := rt.stream(s.base(""))
		if len(st.ns) == 0 && !st.done && st.last < all[len(all)-1] {
			for _, n := range all {
				if keep(n, "") {
					st.ns = append(st.ns, n)
				}
			}
			st.last = all[len(all)-1]
		}
		s.countTags(count, all[:min(len(all), s.sample())], keep, out)
		return nil, nil, out, nil
	}
	s.countTags(count, all, keep, out)
	for _, n := range all {
		if keep(n, "") {
			first = append(first, n)
		}
	}
	return first, out, nil, nil
}

// parseList reads a group_concat of document numbers.
func parseList(list string) ([]int64, error) {
	if list == "" {
		return nil, nil
	}
	ns := make([]int64, 0, strings.Count(list, ",")+1)
	for f := range strings.SplitSeq(list, ",") {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("match list: %w", err)
		}
		ns = append(ns, n)
	}
	slices.Sort(ns) // group_concat's order is the subquery's in practice, not by contract
	return ns, nil
}
