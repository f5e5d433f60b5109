package search

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
}

// Page sizes for Query.Limit.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Result is the answer to a Query.
type Result struct {
	Total  int                     // matches in all, within Region and Filters
	Hits   []Hit                   // the requested page, best first
	Facets map[string][]FacetCount // counts for each facet asked for, largest first
	Terms  []string                // the folded query terms (see ParseQuery), nil when listing
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

// perValueMax is the most values a facet may have for Search to count them
// with one FTS5 count each; above it, one pass joins the matches to the
// facets table.
const perValueMax = 16

// Search runs q. Bad input (text too long or without anything searchable,
// unknown facets, empty text without Region or Filters) is an Invalid error.
func (ix *Index) Search(ctx context.Context, q Query) (Result, error) {
	const op = "search.Index.Search"
	sel := selection{ix: ix}
	for _, facet := range sortedKeys(q.Filters) {
		pos, ok := ix.facetPos[facet]
		if !ok {
			return Result{}, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "筛选条件无效", Fields: map[string]string{facet: "没有这个筛选项"}}
		}
		var tags []string
		for _, v := range q.Filters[facet] {
			if t := quote(facetTag(pos, strings.ToValidUTF8(v, ""))); !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
		if len(tags) > 0 {
			sel.filters = append(sel.filters, filter{facet: facet, expr: "tags : (" + strings.Join(tags, " OR ") + ")"})
		}
	}
	if q.Region != "" {
		sel.region = "tags : " + quote(regionTag(authz.RegionPrefix(strings.ToValidUTF8(q.Region, ""))))
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
		sel.match = matchExpr(terms, ix.fieldCols)
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
	// Only a broad query pays for counting and ranking tiers in windows.
	base := sel.base("")
	first, err := rowids(rt, base, ix.narrow+1, 0)
	if err != nil {
		return Result{}, fmt.Errorf("%s(%q): %w", op, q.Text, err)
	}
	narrow := len(first) <= ix.narrow
	if narrow {
		res.Total = len(first)
		cs, err := sel.load(rt, first)
		if err != nil {
			return Result{}, fmt.Errorf("%s(%q): %w", op, q.Text, err)
		}
		sel.rank(cs)
		res.Hits = sel.hits(cs[min(offset, len(cs)):min(offset+limit, len(cs))])
	} else {
		tiers, err := sel.tiers(rt)
		if err != nil {
			return Result{}, fmt.Errorf("%s(%q): count: %w", op, q.Text, err)
		}
		for _, t := range tiers {
			res.Total += t.n
		}
		if res.Hits, err = sel.page(rt, tiers, offset, limit); err != nil {
			return Result{}, fmt.Errorf("%s(%q): hits: %w", op, q.Text, err)
		}
	}
	for _, f := range facets {
		var counts []FacetCount
		if narrow && !sel.filtered(f) {
			counts, err = facetCountsOf(rt, f, first)
		} else {
			counts, err = sel.facetCounts(rt, f)
		}
		if err != nil {
			return Result{}, fmt.Errorf("%s(%q): facet %s: %w", op, q.Text, f, err)
		}
		if res.Facets == nil {
			res.Facets = make(map[string][]FacetCount)
		}
		res.Facets[f] = counts
	}
	return res, nil
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
	ctx context.Context
	ix  *Index
	tx  *sql.Tx
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
	match         string   // the text terms; "" when listing
	qkey          string   // the query's key, for the tiers of a narrow query
	prefix, exact string   // expressions for the ranking tiers
	implied       bool     // a prefix match implies a match of the terms
	m             *matcher // the text terms, for scoring and highlighting
	region        string
	filters       []filter
}

type filter struct {
	facet string
	expr  string
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
	exprs := []string{s.match, s.region}
	for _, f := range s.filters {
		if f.facet != skip {
			exprs = append(exprs, f.expr)
		}
	}
	return and(exprs...)
}

// filterExprs returns the facet filters' expressions.
func (s *selection) filterExprs() []string {
	var out []string
	for _, f := range s.filters {
		out = append(out, f.expr)
	}
	return out
}

// filtered reports whether the query filters on facet.
func (s *selection) filtered(facet string) bool {
	return slices.ContainsFunc(s.filters, func(f filter) bool { return f.facet == facet })
}

// rowids returns the document numbers of matches [offset, offset+limit) of
// expr, in document-number order: FTS5 walks its doclists in that order, so
// it stops after offset+limit matches.
func rowids(rt *readTx, expr string, limit, offset int) ([]int64, error) {
	rows, err := rt.query(`SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rowid LIMIT ? OFFSET ?`, expr, limit, offset)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ns []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		ns = append(ns, n)
	}
	return ns, rows.Err()
}

// counts runs one count(*) per expression in a single statement.
func counts(rt *readTx, exprs []string) ([]int, error) {
	sels := make([]string, len(exprs))
	args := make([]any, len(exprs))
	dest := make([]any, len(exprs))
	ns := make([]int, len(exprs))
	for i, e := range exprs {
		sels[i] = `(SELECT count(*) FROM fts WHERE fts MATCH ?)`
		args[i] = e
		dest[i] = &ns[i]
	}
	err := rt.queryRow(`SELECT `+strings.Join(sels, ", "), args...).Scan(dest...)
	return ns, err
}

// tier is a part of the matches that ranks wholly above the next part.
type tier struct {
	expr  string
	n     int
	whole bool // small enough to load whole and split into exact and prefix here
}

// tiers splits the selection of a broad query into ranking tiers with their
// sizes: names equal to the query, names starting with it, the rest.
func (s *selection) tiers(rt *readTx) ([]tier, error) {
	base := s.base("")
	if s.match == "" {
		ns, err := counts(rt, []string{base})
		if err != nil {
			return nil, err
		}
		return []tier{{expr: base, n: ns[0]}}, nil
	}
	// The prefix and exact expressions are single tokens of the keys column,
	// so they cost what the names starting with the query cost, not what the
	// whole match costs, unless they must be ANDed with the text match: FTS5
	// then walks the text's phrases in full.
	filters := and(append([]string{s.region}, s.filterExprs()...)...)
	exact := and(s.exact, filters)
	prefix := and(s.prefix, filters)
	if !s.implied {
		prefix = and(s.prefix, base)
	}
	rest := "(" + base + ") NOT (" + s.prefix + ")"
	ns, err := counts(rt, []string{base, prefix, exact})
	if err != nil {
		return nil, err
	}
	total, np, ne := ns[0], ns[1], ns[2]
	if np <= s.ix.narrow {
		return []tier{{expr: prefix, n: np, whole: true}, {expr: rest, n: total - np}}, nil
	}
	return []tier{
		{expr: exact, n: ne},
		{expr: "(" + prefix + ") NOT (" + s.exact + ")", n: np - ne},
		{expr: rest, n: total - np},
	}, nil
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
func (s *selection) load(rt *readTx, ns []int64) ([]candidate, error) {
	if len(ns) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ns)
	if err != nil {
		return nil, err
	}
	rows, err := rt.query(`SELECT n, id, boost, `+s.ix.textCols+` FROM docs WHERE n IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	at := make(map[int64]int, len(ns))
	for i, n := range ns {
		at[n] = i
	}
	cs := make([]candidate, len(ns))
	nf := len(s.ix.schema.Fields)
	var c candidate
	dest := []any{&c.n, &c.id, &c.boost}
	texts := make([]string, nf)
	for i := range texts {
		dest = append(dest, &texts[i])
	}
	avg := *s.ix.avg.Load()
	tf := make([]int, 0, 8)
	var fw []float64
	if s.m != nil {
		fw = make([]float64, len(s.m.terms))
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		c.texts = slices.Clone(texts)
		if s.m != nil {
			c.score = s.score(c.texts, avg, tf, fw)
		}
		if i, ok := at[c.n]; ok {
			cs[i] = c
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
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
		ns, err := rowids(rt, t.expr, t.n, 0)
		if err != nil {
			return nil, err
		}
		cs, err := s.load(rt, ns)
		if err != nil {
			return nil, err
		}
		s.rank(cs)
		return s.hits(cs[min(from, len(cs)):min(to, len(cs))]), nil
	}
	w := s.ix.window
	start, stop := from/w*w, min((to+w-1)/w*w, t.n)
	ns, err := rowids(rt, t.expr, stop-start, start)
	if err != nil {
		return nil, err
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

// facetCountsOf counts the values of facet over the documents numbered ns.
func facetCountsOf(rt *readTx, facet string, ns []int64) ([]FacetCount, error) {
	list, err := json.Marshal(ns)
	if err != nil {
		return nil, err
	}
	rows, err := rt.query(`SELECT f.value, count(*) FROM json_each(?) j
		CROSS JOIN facets f ON f.doc = j.value AND f.facet = ? GROUP BY f.value`, string(list), facet)
	if err != nil {
		return nil, err
	}
	return scanCounts(rows)
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

// facetCounts counts the values of facet over the selection without its own
// filter: from the facets table when that selection is narrow, else with one
// FTS5 count per value when the facet has few values, else in one pass
// joining the matches to the facets table.
func (s *selection) facetCounts(rt *readTx, facet string) ([]FacetCount, error) {
	base := s.base(facet)
	if base == "" { // only this facet's own filter: count the whole index
		rows, err := rt.query(`SELECT value, count(*) FROM facets WHERE facet = ? GROUP BY value`, facet)
		if err != nil {
			return nil, err
		}
		return scanCounts(rows)
	}
	// Without its own filter a facet's base may still be narrow: then one
	// pass fetches it and the facets table counts it.
	first, err := rowids(rt, base, s.ix.narrow+1, 0)
	if err != nil {
		return nil, err
	}
	if len(first) <= s.ix.narrow {
		return facetCountsOf(rt, facet, first)
	}
	values, err := facetValues(rt, facet, s.ix.perValueMax+1)
	if err != nil {
		return nil, err
	}
	if len(values) > s.ix.perValueMax {
		rows, err := rt.query(`SELECT f.value, count(*) FROM fts
			CROSS JOIN facets f ON f.doc = fts.rowid AND f.facet = ?
			WHERE fts MATCH ? GROUP BY f.value`, facet, base)
		if err != nil {
			return nil, err
		}
		return scanCounts(rows)
	}
	if len(values) == 0 {
		return []FacetCount{}, nil
	}
	exprs := make([]string, len(values))
	for i, v := range values {
		exprs[i] = and(base, "tags : "+quote(facetTag(s.ix.facetPos[facet], v)))
	}
	ns, err := counts(rt, exprs)
	if err != nil {
		return nil, err
	}
	out := []FacetCount{}
	for i, n := range ns {
		if n > 0 {
			out = append(out, FacetCount{Value: values[i], Count: n})
		}
	}
	sortCounts(out)
	return out, nil
}

// facetValues returns up to max distinct values of facet, skipping through
// the facets primary key one value at a time.
func facetValues(rt *readTx, facet string, max int) ([]string, error) {
	var values []string
	for len(values) < max {
		var v string
		var err error
		if len(values) == 0 {
			err = rt.queryRow(`SELECT value FROM facets WHERE facet = ? ORDER BY value LIMIT 1`, facet).Scan(&v)
		} else {
			err = rt.queryRow(`SELECT value FROM facets WHERE facet = ? AND value > ? ORDER BY value LIMIT 1`, facet, values[len(values)-1]).Scan(&v)
		}
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return nil, err
		}
		values = append(values, v)
	}
	return values, nil
}
