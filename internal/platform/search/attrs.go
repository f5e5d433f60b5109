package search

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// attrs holds each document's facet tags in memory, by document number,
// for facet counts: reading them costs a slice index, where the docs table
// cost a lookup in SQLite per document counted (about a fifth of a search
// that counts facets).
//
// The Index guards it with its RWMutex: a search holds the read lock for
// its whole read transaction, and a write changes attrs only while it holds
// the write lock around its COMMIT, so a search sees the tags of the
// snapshot its transaction reads.
type attrs struct {
	live   []bool   // by document number: the document exists
	tagOff []uint32 // start of the document's tag ids in arena
	tagN   []uint32 // how many tag ids it has
	arena  []uint32 // tag ids of all documents, one run each
	unused int      // arena entries no document refers to any more

	tagIDs   map[string]uint32 // facet tag (facetTag) → id
	tagFacet []int             // id → facet position
	tagValue []string          // id → facet value
	docs     int               // documents held
}

func newAttrs() *attrs { return &attrs{tagIDs: map[string]uint32{}} }

// docTag is one facet tag of a document being written.
type docTag struct {
	tag   string // facetTag(pos, value)
	pos   int
	value string
}

// tagID returns the id of a facet tag, adding it if it is new.
func (a *attrs) tagID(t docTag) uint32 {
	if id, ok := a.tagIDs[t.tag]; ok {
		return id
	}
	id := uint32(len(a.tagValue))
	a.tagIDs[t.tag] = id
	a.tagFacet = append(a.tagFacet, t.pos)
	a.tagValue = append(a.tagValue, t.value)
	return id
}

// set records document n's facet tags, replacing any it had.
func (a *attrs) set(n int64, tags []docTag) {
	if n <= 0 || n >= 1<<32 {
		return // SQLite numbers rows from 1; no index gets near 2³²
	}
	a.del(n)
	if int(n) >= len(a.live) {
		grow := max(int(n)+1, 2*len(a.live), 1024)
		a.live = append(a.live, make([]bool, grow-len(a.live))...)
		a.tagOff = append(a.tagOff, make([]uint32, grow-len(a.tagOff))...)
		a.tagN = append(a.tagN, make([]uint32, grow-len(a.tagN))...)
	}
	if a.unused > 1<<16 && a.unused > len(a.arena)/2 {
		a.compact()
	}
	a.live[n] = true
	a.docs++
	a.tagOff[n], a.tagN[n] = uint32(len(a.arena)), uint32(len(tags))
	for _, t := range tags {
		a.arena = append(a.arena, a.tagID(t))
	}
}

// del forgets document n, if it is held.
func (a *attrs) del(n int64) {
	if n <= 0 || int(n) >= len(a.live) || !a.live[n] {
		return
	}
	a.unused += int(a.tagN[n])
	a.live[n], a.tagN[n] = false, 0
	a.docs--
}

// compact rewrites the arena without the runs of replaced or deleted documents.
func (a *attrs) compact() {
	arena := make([]uint32, 0, len(a.arena)-a.unused)
	for n, live := range a.live {
		if !live {
			continue
		}
		off := uint32(len(arena))
		arena = append(arena, a.arena[a.tagOff[n]:a.tagOff[n]+a.tagN[n]]...)
		a.tagOff[n] = off
	}
	a.arena, a.unused = arena, 0
}

// tags returns the tag ids of document n (nil if it is not held).
func (a *attrs) tags(n int64) []uint32 {
	if n <= 0 || int(n) >= len(a.live) || !a.live[n] {
		return nil
	}
	off := a.tagOff[n]
	return a.arena[off : off+a.tagN[n]]
}

// load reads the facet tags of every document from the docs table.
func (a *attrs) load(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT n, fv FROM docs ORDER BY n`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var tags []docTag
	for rows.Next() {
		var n int64
		var fv string
		if err := rows.Scan(&n, &fv); err != nil {
			return err
		}
		tags = tags[:0]
		for t := range strings.FieldsSeq(fv) {
			if id, ok := a.tagIDs[t]; ok {
				tags = append(tags, docTag{tag: t, pos: a.tagFacet[id], value: a.tagValue[id]})
				continue
			}
			pos, value, err := parseFacetTag(t)
			if err != nil {
				return err
			}
			tags = append(tags, docTag{tag: t, pos: pos, value: value})
		}
		a.set(n, tags)
	}
	return rows.Err()
}

// parseFacetTag is the inverse of facetTag.
func parseFacetTag(t string) (pos int, value string, err error) {
	rest, ok := strings.CutPrefix(t, "t")
	p, h, ok2 := strings.Cut(rest, "x")
	if !ok || !ok2 {
		return 0, "", fmt.Errorf("facet tag %q", t)
	}
	if pos, err = strconv.Atoi(p); err != nil {
		return 0, "", fmt.Errorf("facet tag %q: %w", t, err)
	}
	v, err := hex.DecodeString(h)
	if err != nil {
		return 0, "", fmt.Errorf("facet tag %q: %w", t, err)
	}
	return pos, string(v), nil
}

// memOp is a change to attrs that a write transaction makes, applied when
// it commits.
type memOp struct {
	n    int64
	del  bool
	tags []docTag
}

func (a *attrs) apply(ops []memOp) {
	for _, op := range ops {
		if op.del {
			a.del(op.n)
		} else {
			a.set(op.n, op.tags)
		}
	}
}
