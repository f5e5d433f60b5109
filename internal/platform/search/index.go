package search

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	_ "modernc.org/sqlite" // registers driver "sqlite"

	"yiwang/internal/platform/errs"
)

// Doc is one searchable record.
type Doc struct {
	ID     string              // stable id, e.g. an item code
	Fields map[string]string   // searchable text by field name; names not in the Schema are ignored
	Facets map[string][]string // filterable values by facet name; names not in the Schema are ignored
	Region string              // region code, filterable by prefix (a region and its descendants)
	Boost  float64             // popularity: higher ranks first among equally relevant hits
}

// Schema names the text fields (in order, with weights) and facets an index
// holds; it is fixed at Open. The first field is the name used for the exact
// and prefix ranking tiers.
type Schema struct {
	Fields []Field
	Facets []string
}

// Field is a searchable text field and its BM25F weight (0 means 1).
type Field struct {
	Name   string
	Weight float64
}

// Index is an open search index. Its methods are safe for concurrent use;
// one process at a time should write to a given file.
type Index struct {
	schema     Schema
	w          *sql.DB // one connection: every write
	r          *sql.DB // readers
	temp       string  // file to remove on Close, for Open("")
	window     int     // see rankWindow
	narrow     int     // see narrowMax
	countCap   int     // see CountCap
	sampleSize int     // see facetSample
	noTri      bool    // match CJK terms by bigrams only (tests compare the two)
	noCombined bool    // filter by separate region and facet tags only (tests compare the two)

	fieldCols string // "{f0 f1 …}", the FTS5 column filter for field terms
	textCols  string // "t0, t1, …", the docs columns holding the original texts
	hexTexts  string // "hex(d.t0) || ' ' || hex(d.t1) …", the same for load
	facetPos  map[string]int
	avg       atomic.Pointer[[]float64] // average folded length of each field, for BM25F
	stmts     sync.Map                  // SQL text → *sql.Stmt prepared on r; the texts come from a small fixed set

	// mu orders searches and commits: a search holds it for reading during
	// its read transaction; a write holds it while it commits and brings mem
	// up to date, so mem always describes the snapshot a search reads.
	mu  sync.RWMutex
	mem *attrs // facet tags by document number; see attrs
}

// rankWindow is how many matches of one ranking tier of a broad query are
// scored together; see the package doc.
const rankWindow = 50

// narrowMax is the most matches a query (or a tier, or the base of a facet
// count) may have to be loaded whole and ranked exactly. Loading costs a few
// microseconds a document, about what the extra FTS5 passes of a broad
// query cost for a hundred.
const narrowMax = 100

// format is bumped whenever the table layout or the tokenisation changes, so
// that Open rebuilds (empty) a file written by an older version.
const format = 5

// tokenizer keeps FTS5 from splitting our tokens further: they are made of
// letters, digits and marks (Cn covers characters newer than SQLite's Unicode
// tables) and the private-use markers (Co); case is already folded and
// diacritics are kept, as in highlighting.
const tokenizer = `unicode61 remove_diacritics 0 categories 'L* N* M* Co Cn'`

// pragmas are sqldb's, plus: memory-map up to 1 GiB of the file, so reads
// skip a copy per page (most of a search is reading FTS5 doclists), and
// truncate the WAL back to 64 MiB after a Rebuild has grown it.
const pragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
	"&_pragma=mmap_size(1073741824)&_pragma=journal_size_limit(67108864)"

// Open opens (creating if needed) the index file at path with schema s. If
// the file was written with a different schema or by an older version of
// this package, its tables are rebuilt empty: the index is derived data and
// the caller refills it with Rebuild. Path "" makes a throwaway index for
// tests, in a temporary file that Close removes (an in-memory database could
// not be shared between the writer and the readers without table locks).
func Open(path string, s Schema) (*Index, error) {
	const op = "search.Open"
	s = Schema{Fields: slices.Clone(s.Fields), Facets: slices.Clone(s.Facets)} // initSchema fills in weights
	ix := &Index{schema: s, window: rankWindow, narrow: narrowMax, countCap: CountCap, sampleSize: facetSample, facetPos: map[string]int{}}
	if err := ix.initSchema(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if path == "" {
		f, err := os.CreateTemp("", "yiwang-search-*.db")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		f.Close()
		path, ix.temp = f.Name(), f.Name()
	} else if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	file := "file:" + (&url.URL{Path: path}).EscapedPath()
	var err error
	if ix.w, err = sql.Open("sqlite", file+"?"+pragmas+"&_txlock=immediate"); err != nil {
		ix.Close()
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	ix.w.SetMaxOpenConns(1)
	ix.w.SetMaxIdleConns(1)
	ix.w.SetConnMaxLifetime(0)
	if ix.r, err = sql.Open("sqlite", file+"?"+pragmas+"&_pragma=query_only(1)"); err != nil {
		ix.Close()
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	n := max(4, 2*runtime.NumCPU())
	ix.r.SetMaxOpenConns(n)
	ix.r.SetMaxIdleConns(n)
	ctx := context.Background()
	if err := ix.prepareFile(ctx); err != nil {
		ix.Close()
		return nil, fmt.Errorf("%s: %s: %w", op, path, err)
	}
	if err := ix.loadAvg(ctx); err != nil {
		ix.Close()
		return nil, fmt.Errorf("%s: %s: %w", op, path, err)
	}
	ix.mem = newAttrs()
	if err := ix.mem.load(ctx, ix.w); err != nil {
		ix.Close()
		return nil, fmt.Errorf("%s: %s: attributes: %w", op, path, err)
	}
	return ix, nil
}

// initSchema checks the schema and derives what depends on it.
func (ix *Index) initSchema() error {
	if len(ix.schema.Fields) == 0 {
		return errors.New("schema has no fields")
	}
	var cols, texts, hexes []string
	seen := map[string]bool{}
	for i, f := range ix.schema.Fields {
		if f.Name == "" || seen[f.Name] {
			return fmt.Errorf("schema field %q is unnamed or repeated", f.Name)
		}
		seen[f.Name] = true
		if f.Weight < 0 || math.IsNaN(f.Weight) || math.IsInf(f.Weight, 0) {
			return fmt.Errorf("field %q has weight %v, want a finite weight >= 0", f.Name, f.Weight)
		}
		if f.Weight == 0 {
			ix.schema.Fields[i].Weight = 1
		}
		cols = append(cols, "f"+strconv.Itoa(i))
		texts = append(texts, "t"+strconv.Itoa(i))
		hexes = append(hexes, "hex(d.t"+strconv.Itoa(i)+")")
	}
	for i, f := range ix.schema.Facets {
		if _, dup := ix.facetPos[f]; f == "" || dup {
			return fmt.Errorf("schema facet %q is unnamed or repeated", f)
		}
		ix.facetPos[f] = i
	}
	ix.fieldCols = "{" + strings.Join(cols, " ") + "}"
	ix.textCols = strings.Join(texts, ", ")
	ix.hexTexts = strings.Join(hexes, " || ' ' || ")
	return nil
}

// signature identifies the table layout for s; a file with another one is rebuilt.
func (ix *Index) signature() string {
	b, _ := json.Marshal(struct {
		Format    int
		Tokenizer string
		Schema    Schema
	}{format, tokenizer, ix.schema})
	return string(b)
}

// prepareFile makes sure the file holds this schema's tables, replacing them
// (empty) when they were made for another schema.
func (ix *Index) prepareFile(ctx context.Context) error {
	var have string
	err := ix.w.QueryRowContext(ctx, `SELECT v FROM meta WHERE k = 'schema'`).Scan(&have)
	if err == nil && have == ix.signature() {
		return nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) && !strings.Contains(err.Error(), "no such table") {
		return err
	}
	return ix.inTx(ctx, func(tx *sql.Tx) error {
		if err := ix.createTables(ctx, tx); err != nil {
			return err
		}
		return ix.finishTables(ctx, tx)
	}, nil)
}

// createTables drops the index tables, if any, and creates them empty,
// without their secondary indexes (finishTables adds those, after a bulk load).
func (ix *Index) createTables(ctx context.Context, tx *sql.Tx) error {
	var cols, texts []string
	for i := range ix.schema.Fields {
		cols = append(cols, "f"+strconv.Itoa(i))
		texts = append(texts, "t"+strconv.Itoa(i)+" TEXT NOT NULL")
	}
	_, err := tx.ExecContext(ctx, `
		DROP TABLE IF EXISTS meta;
		DROP TABLE IF EXISTS fts;
		DROP TABLE IF EXISTS facets;
		DROP TABLE IF EXISTS docs;
		DROP TABLE IF EXISTS lens;
		CREATE TABLE docs (
			n      INTEGER PRIMARY KEY, -- the FTS5 rowid; Rebuild numbers documents by descending Boost
			id     TEXT NOT NULL UNIQUE,
			region TEXT NOT NULL,
			boost  REAL NOT NULL,
			fv     TEXT NOT NULL,       -- the facet tags of the tags column, space-separated, for counting facets over a sample
			`+strings.Join(texts, ", ")+` -- the original field texts, in schema order
		);
		CREATE TABLE facets (
			facet TEXT NOT NULL,
			value TEXT NOT NULL,
			doc   INTEGER NOT NULL,
			PRIMARY KEY (facet, value, doc)
		) WITHOUT ROWID;
		CREATE TABLE lens (
			field INTEGER PRIMARY KEY,  -- schema position; -1 counts documents
			total INTEGER NOT NULL      -- sum of the field's folded lengths
		);
		CREATE VIRTUAL TABLE fts USING fts5(`+strings.Join(cols, ", ")+`, uni, tags, keys, tri,
			content='', contentless_delete=1, tokenize="`+tokenizer+`");`)
	for i := -1; i < len(cols) && err == nil; i++ {
		_, err = tx.ExecContext(ctx, `INSERT INTO lens (field, total) VALUES (?, 0)`, i)
	}
	return err
}

// finishTables adds the secondary indexes and the schema signature.
func (ix *Index) finishTables(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `
		CREATE INDEX facets_doc ON facets (doc);
		CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
		INSERT INTO meta (k, v) VALUES ('schema', ?);`, ix.signature())
	return err
}

// loadAvg reads the average folded length of each field.
func (ix *Index) loadAvg(ctx context.Context) error {
	rows, err := ix.w.QueryContext(ctx, `SELECT field, total FROM lens ORDER BY field`)
	if err != nil {
		return err
	}
	defer rows.Close()
	totals := make([]float64, len(ix.schema.Fields)+1)
	for rows.Next() {
		var f int
		var t float64
		if err := rows.Scan(&f, &t); err != nil {
			return err
		}
		if f+1 >= 0 && f+1 < len(totals) {
			totals[f+1] = t
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	avg := make([]float64, len(ix.schema.Fields))
	for i := range avg {
		if totals[0] > 0 {
			avg[i] = totals[i+1] / totals[0]
		}
	}
	ix.avg.Store(&avg)
	return nil
}

// Close closes the index, and removes its file if Open made a temporary one.
func (ix *Index) Close() error {
	var err error
	ix.stmts.Range(func(_, st any) bool {
		err = errors.Join(err, st.(*sql.Stmt).Close())
		return true
	})
	if ix.r != nil {
		err = errors.Join(err, ix.r.Close())
	}
	if ix.w != nil {
		err = errors.Join(err, ix.w.Close())
	}
	if ix.temp != "" {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if e := os.Remove(ix.temp + suffix); e != nil && !errors.Is(e, os.ErrNotExist) {
				err = errors.Join(err, e)
			}
		}
	}
	return err
}

// regionTag and facetTag are the tokens of the tags column that filters
// match. Hex keeps any value a single FTS5 token.
func regionTag(prefix string) string { return "r" + hex.EncodeToString([]byte(prefix)) }

func facetTag(pos int, value string) string {
	return "t" + strconv.Itoa(pos) + "x" + hex.EncodeToString([]byte(value))
}

// combinedLens are the lengths of the region prefixes that are also
// indexed combined with each facet value (combinedTag): the province, city
// and county levels of GB/T 2260, which are what authz.RegionPrefix makes
// of a six-digit code. A query filtering on one of those prefixes and on a
// facet then ANDs one sparse doclist with the text instead of two dense
// ones (the region's and the value's).
var combinedLens = [...]int{2, 4, 6}

// combinedTag is the token of a document whose region starts with prefix
// and which carries the facet value of facetTag ft.
func combinedTag(prefix, ft string) string { return "c" + hex.EncodeToString([]byte(prefix)) + ft }

// writer writes documents inside one transaction.
type writer struct {
	ix    *Index
	tx    *sql.Tx
	added int     // documents that were new
	fresh bool    // the tables started empty and IDs are distinct: skip the lookup
	lens  []int64 // changes to lens: documents, then each field
	ops   []memOp // changes to ix.mem, applied when the transaction commits
	mem   *attrs  // for a Rebuild: the new attributes, which replace ix.mem on commit

	find, insDoc, updDoc, delFTS, insFTS, delFac, insFac *sql.Stmt
}

func (ix *Index) newWriter(ctx context.Context, tx *sql.Tx) (*writer, error) {
	w := &writer{ix: ix, tx: tx, lens: make([]int64, len(ix.schema.Fields)+1)}
	var cols, marks, sets []string
	for i := range ix.schema.Fields {
		cols, marks = append(cols, "f"+strconv.Itoa(i)), append(marks, "?")
		sets = append(sets, "t"+strconv.Itoa(i)+" = ?")
	}
	var err error
	for _, s := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&w.find, `SELECT n, ` + ix.textCols + ` FROM docs WHERE id = ?`},
		{&w.insDoc, `INSERT INTO docs (id, region, boost, fv, ` + ix.textCols + `) VALUES (?, ?, ?, ?, ` + strings.Join(marks, ", ") + `)`},
		{&w.updDoc, `UPDATE docs SET region = ?, boost = ?, fv = ?, ` + strings.Join(sets, ", ") + ` WHERE n = ?`},
		{&w.delFTS, `DELETE FROM fts WHERE rowid = ?`},
		{&w.insFTS, `INSERT INTO fts (rowid, ` + strings.Join(cols, ", ") + `, uni, tags, keys, tri) VALUES (?, ` + strings.Join(marks, ", ") + `, ?, ?, ?, ?)`},
		{&w.delFac, `DELETE FROM facets WHERE doc = ?`},
		{&w.insFac, `INSERT OR IGNORE INTO facets (facet, value, doc) VALUES (?, ?, ?)`},
	} {
		if *s.st, err = tx.PrepareContext(ctx, s.sql); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

func (w *writer) close() {
	for _, st := range []*sql.Stmt{w.find, w.insDoc, w.updDoc, w.delFTS, w.insFTS, w.delFac, w.insFac} {
		if st != nil {
			st.Close()
		}
	}
}

// count adds (sign 1) or removes (sign -1) a document's lengths from the totals.
func (w *writer) count(texts []string, sign int64) {
	w.lens[0] += sign
	for i, t := range texts {
		if i+1 < len(w.lens) {
			w.lens[i+1] += sign * int64(foldedLen(t))
		}
	}
}

// clean returns d with what the index keeps: the schema's fields and
// facets, invalid UTF-8 dropped (so that Rebuild's JSON staging changes
// nothing) and a Boost that is a finite number.
func (ix *Index) clean(d Doc) Doc {
	c := Doc{ID: d.ID, Fields: map[string]string{}, Facets: map[string][]string{}, Region: strings.ToValidUTF8(d.Region, ""), Boost: d.Boost}
	for _, f := range ix.schema.Fields {
		if t, ok := d.Fields[f.Name]; ok {
			c.Fields[f.Name] = strings.ToValidUTF8(t, "")
		}
	}
	for facet, values := range d.Facets {
		if _, ok := ix.facetPos[facet]; ok {
			for _, v := range values {
				c.Facets[facet] = append(c.Facets[facet], strings.ToValidUTF8(v, ""))
			}
		}
	}
	switch {
	case math.IsNaN(c.Boost):
		c.Boost = 0
	case math.IsInf(c.Boost, 1):
		c.Boost = math.MaxFloat64
	case math.IsInf(c.Boost, -1):
		c.Boost = -math.MaxFloat64
	}
	return c
}

// put inserts d, or replaces the document with d's ID.
func (w *writer) put(ctx context.Context, d Doc) error {
	ix := w.ix
	d = ix.clean(d)
	texts := make([]string, len(ix.schema.Fields))
	args := make([]any, 1, len(texts)+4)
	var uni unigrams
	var tri strings.Builder
	var name string
	for i, f := range ix.schema.Fields {
		texts[i] = d.Fields[f.Name]
		rs := runs(texts[i])
		if i == 0 {
			name = key(rs)
		}
		args = append(args, column(rs, &uni))
		trigrams(rs, &tri)
	}
	var tags, ftags []string
	var dtags []docTag
	for i := 1; i <= len(d.Region); i++ {
		tags = append(tags, regionTag(d.Region[:i]))
	}
	for facet, values := range d.Facets {
		for _, v := range values {
			if t := facetTag(ix.facetPos[facet], v); !slices.Contains(ftags, t) {
				ftags = append(ftags, t)
				dtags = append(dtags, docTag{tag: t, pos: ix.facetPos[facet], value: v})
			}
		}
	}
	fv := strings.Join(ftags, " ")
	tags = append(tags, ftags...)
	for _, l := range combinedLens {
		if l <= len(d.Region) {
			for _, t := range ftags {
				tags = append(tags, combinedTag(d.Region[:l], t))
			}
		}
	}
	args = append(args, uni.String(), strings.Join(tags, " "), keyColumn(name), tri.String())
	region, boost, facets := d.Region, d.Boost, d.Facets
	var n int64
	old := make([]string, len(texts))
	dest := []any{&n}
	for i := range old {
		dest = append(dest, &old[i])
	}
	vals := make([]any, len(texts))
	for i, t := range texts {
		vals[i] = t
	}
	err := sql.ErrNoRows
	if !w.fresh {
		err = w.find.QueryRowContext(ctx, d.ID).Scan(dest...)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		res, err := w.insDoc.ExecContext(ctx, append([]any{d.ID, region, boost, fv}, vals...)...)
		if err != nil {
			return err
		}
		if n, err = res.LastInsertId(); err != nil {
			return err
		}
		w.added++
	case err != nil:
		return err
	default:
		w.count(old, -1)
		if _, err := w.updDoc.ExecContext(ctx, append(append([]any{region, boost, fv}, vals...), n)...); err != nil {
			return err
		}
		if _, err := w.delFTS.ExecContext(ctx, n); err != nil {
			return err
		}
		if _, err := w.delFac.ExecContext(ctx, n); err != nil {
			return err
		}
	}
	w.count(texts, 1)
	if w.mem != nil {
		w.mem.set(n, dtags)
	} else {
		w.ops = append(w.ops, memOp{n: n, tags: dtags})
	}
	args[0] = n
	if _, err := w.insFTS.ExecContext(ctx, args...); err != nil {
		return err
	}
	for facet, values := range facets {
		for _, v := range values {
			if _, err := w.insFac.ExecContext(ctx, facet, v, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// remove deletes the document with the given ID, if any.
func (w *writer) remove(ctx context.Context, id string) error {
	var n int64
	old := make([]string, len(w.ix.schema.Fields))
	dest := []any{&n}
	for i := range old {
		dest = append(dest, &old[i])
	}
	err := w.tx.QueryRowContext(ctx, `DELETE FROM docs WHERE id = ? RETURNING n, `+w.ix.textCols, id).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	w.count(old, -1)
	w.ops = append(w.ops, memOp{n: n, del: true})
	if _, err := w.delFTS.ExecContext(ctx, n); err != nil {
		return err
	}
	_, err = w.delFac.ExecContext(ctx, n)
	return err
}

// flush records the length totals.
func (w *writer) flush(ctx context.Context) error {
	for i, d := range w.lens {
		if d != 0 {
			if _, err := w.tx.ExecContext(ctx, `UPDATE lens SET total = total + ? WHERE field = ?`, d, i-1); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkID rejects an empty ID, or one that is not UTF-8 (Rebuild could not
// stage it unchanged).
func checkID(op string, d Doc) error {
	if d.ID == "" || !utf8.ValidString(d.ID) {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "文档编号无效"}
	}
	return nil
}

// write runs fn with a writer in one transaction, brings the attributes
// in memory up to date as it commits, and refreshes the averages.
func (ix *Index) write(ctx context.Context, prepare func(tx *sql.Tx) error, fn func(w *writer) error) (int, error) {
	var added int
	var w *writer
	err := ix.inTx(ctx, func(tx *sql.Tx) error {
		if prepare != nil {
			if err := prepare(tx); err != nil {
				return err
			}
		}
		var err error
		if w, err = ix.newWriter(ctx, tx); err != nil {
			return err
		}
		defer w.close()
		if err := fn(w); err != nil {
			return err
		}
		added = w.added
		return w.flush(ctx)
	}, func() {
		if w.mem != nil {
			ix.mem = w.mem
		} else {
			ix.mem.apply(w.ops)
		}
	})
	if err != nil {
		return 0, err
	}
	return added, ix.loadAvg(ctx)
}

// Upsert adds docs, replacing any document with the same ID, in one
// transaction. Within the batch a later doc with a repeated ID wins. A new
// document is numbered after all others, so among the matches of a broad
// query it counts as the least popular until the next Rebuild.
func (ix *Index) Upsert(ctx context.Context, docs ...Doc) error {
	const op = "search.Index.Upsert"
	if len(docs) == 0 {
		return nil
	}
	for _, d := range docs {
		if err := checkID(op, d); err != nil {
			return err
		}
	}
	_, err := ix.write(ctx, nil, func(w *writer) error {
		for _, d := range docs {
			if err := w.put(ctx, d); err != nil {
				return fmt.Errorf("doc %q: %w", d.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// Delete removes the documents with the given IDs; unknown IDs are ignored.
func (ix *Index) Delete(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := ix.write(ctx, nil, func(w *writer) error {
		for _, id := range ids {
			if err := w.remove(ctx, id); err != nil {
				return fmt.Errorf("doc %q: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("search.Index.Delete: %w", err)
	}
	return nil
}

// Rebuild replaces the whole index with the documents next yields, until it
// returns false, and returns how many distinct documents the index then
// holds (a repeated ID replaces the earlier doc). Documents are staged, then
// numbered by descending Boost, the order that broad queries and listings
// follow. Everything happens in one write transaction: searches meanwhile
// see the old index, and the new one once it commits; if next fails or ctx
// ends, the old index stays. Upsert and Delete wait while a Rebuild runs.
func (ix *Index) Rebuild(ctx context.Context, next func() (Doc, bool, error)) (int, error) {
	const op = "search.Index.Rebuild"
	n, err := ix.write(ctx, func(tx *sql.Tx) error {
		if err := ix.createTables(ctx, tx); err != nil {
			return err
		}
		// The staging table is TEMP: it lives in a temporary file of the
		// writer connection, not in the index file.
		// While the new tables fill, FTS5 keeps up to 64 MiB of tokens in
		// memory before writing a segment, and does not merge segments
		// (the 'optimize' below merges them all once): merging as it goes
		// was a fifth of a rebuild.
		if _, err := tx.ExecContext(ctx, `
			DROP TABLE IF EXISTS temp.stage;
			CREATE TEMP TABLE stage (id TEXT PRIMARY KEY, boost REAL NOT NULL, doc BLOB NOT NULL) WITHOUT ROWID;
			INSERT INTO fts (fts, rank) VALUES ('automerge', 0);
			INSERT INTO fts (fts, rank) VALUES ('hashsize', 67108864);`); err != nil {
			return err
		}
		ins, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO temp.stage (id, boost, doc) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for {
			d, ok, err := next()
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			if err := checkID(op, d); err != nil {
				return err
			}
			d = ix.clean(d)
			b, err := json.Marshal(d)
			if err != nil {
				return err
			}
			if _, err := ins.ExecContext(ctx, d.ID, d.Boost, b); err != nil {
				return err
			}
		}
	}, func(w *writer) error {
		w.fresh = true // the stage's primary key made the IDs distinct
		w.mem = newAttrs()
		rows, err := w.tx.QueryContext(ctx, `SELECT doc FROM temp.stage ORDER BY boost DESC, id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b []byte
			var d Doc
			if err := rows.Scan(&b); err != nil {
				return err
			}
			if err := json.Unmarshal(b, &d); err != nil {
				return err
			}
			if err := w.put(ctx, d); err != nil {
				return fmt.Errorf("doc %q: %w", d.ID, err)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		_, err = w.tx.ExecContext(ctx, `
			DROP TABLE temp.stage;
			INSERT INTO fts (fts) VALUES ('optimize');
			INSERT INTO fts (fts, rank) VALUES ('automerge', 4);
			INSERT INTO fts (fts, rank) VALUES ('hashsize', 1048576);`)
		if err != nil {
			return err
		}
		if err := ix.finishTables(ctx, w.tx); err != nil {
			return err
		}
		_, err = w.tx.ExecContext(ctx, `INSERT INTO meta (k, v) VALUES ('built', ?)`, time.Now().UTC().Format(time.RFC3339Nano))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	// Move the new index from the WAL into the file, which readers map into
	// memory, without waiting for readers of the old one: reading pages
	// through the WAL costs a lookup and a copy each.
	_, _ = ix.w.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
	return n, nil
}

// inTx runs fn in a write transaction on the one writer connection. If
// committed is not nil, it runs right after the commit, while searches
// wait (see Index.mu).
func (ix *Index) inTx(ctx context.Context, fn func(tx *sql.Tx) error, committed func()) error {
	tx, err := ix.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if committed == nil {
		return tx.Commit()
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if err := tx.Commit(); err != nil {
		return err
	}
	committed()
	return nil
}

// Built reports whether the file holds a completed Rebuild of this schema
// (a file Open has just made, or emptied for a new schema, holds none), and
// when that Rebuild committed. Upsert and Delete since then do not change it.
func (ix *Index) Built(ctx context.Context) (time.Time, bool, error) {
	var v string
	err := ix.r.QueryRowContext(ctx, `SELECT v FROM meta WHERE k = 'built'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("search.Index.Built: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("search.Index.Built: %w", err)
	}
	return t, true, nil
}

// Checkpoint moves the write-ahead log into the file and truncates it, so
// that the file alone holds the index (for a file about to be kept for the
// next start).
func (ix *Index) Checkpoint(ctx context.Context) error {
	if _, err := ix.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("search.Index.Checkpoint: %w", err)
	}
	return nil
}

// Count returns how many documents the index holds.
func (ix *Index) Count(ctx context.Context) (int, error) {
	var n int
	if err := ix.r.QueryRowContext(ctx, `SELECT count(*) FROM docs`).Scan(&n); err != nil {
		return 0, fmt.Errorf("search.Index.Count: %w", err)
	}
	return n, nil
}
