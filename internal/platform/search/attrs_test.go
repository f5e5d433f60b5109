package search_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"yiwang/internal/platform/search"
)

// placementQueries is a battery of queries over the corpus: texts broad and
// narrow, regions, facet filters dense and rare, facet counts, pages.
func placementQueries() []search.Query {
	var qs []search.Query
	texts := []string{"", "登记", "社保", "护照", "许可", "证", "营业执照", "公积金提取", "不动产 查询", "ETC"}
	regions := []string{"", "150000", "150100", "150102", "150200", "159900"}
	filters := []map[string][]string{
		nil,
		{"type": {"行政许可"}},
		{"type": {"行政许可", "公共服务"}},
		{"audience": {"法人"}},
		{"theme": {"社会保障"}, "type": {"公共服务"}},
		{"theme": {"出入境"}},
		{"type": {"没有这个类型"}},
	}
	facets := [][]string{nil, {"type", "audience"}, {"theme", "type"}}
	for _, text := range texts {
		for _, region := range regions {
			for _, f := range filters {
				for _, fs := range facets {
					qs = append(qs, search.Query{Text: text, Region: region, Filters: f, Facets: fs, Limit: 100})
					qs = append(qs, search.Query{Text: text, Region: region, Filters: f, Facets: fs, Offset: 2, Limit: 3})
				}
			}
		}
	}
	return qs
}

// results runs every query of qs on ix, errors included.
func results(ctx context.Context, ix *search.Index, qs []search.Query) []string {
	out := make([]string, len(qs))
	for i, q := range qs {
		res, err := ix.Search(ctx, q)
		out[i] = fmt.Sprintf("%+v %v", res, err)
	}
	return out
}

// TestAttrsFollowWrites checks that the facet values held in memory follow
// Upsert and Delete, and that reopening the file loads what the writes
// left.
func TestAttrsFollowWrites(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "search.db")
	ix, err := search.Open(path, schema)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ix.Close() }()
	i := 0
	if _, err := ix.Rebuild(ctx, func() (search.Doc, bool, error) {
		if i == len(corpus) {
			return search.Doc{}, false, nil
		}
		i++
		return corpus[i-1], true, nil
	}); err != nil {
		t.Fatal(err)
	}
	find := func(q search.Query, want ...string) {
		t.Helper()
		res, err := ix.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if got := sorted(ids(res.Hits)); !reflect.DeepEqual(got, sorted(want)) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("Search(%+v) = %q, want %q", q, got, want)
		}
	}
	permits := search.Query{Text: "护照", Filters: map[string][]string{"type": {"行政许可"}}}
	find(permits, "S27", "S29")
	hohhot := search.Query{Text: "护照", Region: "150100"}
	find(hohhot, "S29")

	// S27 changes type and region; S29 is deleted; a new 护照 item arrives.
	s27 := item("S27", "护照签发", "普通护照签发", "出国 护照", "出入境管理局", "公共服务", "自然人", "出入境", "150102", 10)
	s40 := item("S40", "护照加急办理", "", "", "出入境管理局", "行政许可", "法人", "出入境", "150103", 1)
	if err := ix.Upsert(ctx, s27, s40); err != nil {
		t.Fatal(err)
	}
	if err := ix.Delete(ctx, "S29"); err != nil {
		t.Fatal(err)
	}
	find(permits, "S40")
	find(hohhot, "S27", "S40")
	find(search.Query{Text: "护照", Filters: map[string][]string{"type": {"公共服务"}}}, "S27", "S28")
	res, err := ix.Search(ctx, search.Query{Text: "护照", Facets: []string{"type", "audience"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]search.FacetCount{
		"audience": {{"自然人", 2}, {"法人", 1}},
		"type":     {{"公共服务", 2}, {"行政许可", 1}},
	}
	if !reflect.DeepEqual(res.Facets, want) {
		t.Errorf("facets after writes = %v, want %v", res.Facets, want)
	}
	if n := search.MemDocs(ix); n != len(corpus) {
		t.Errorf("attributes hold %d documents, want %d", n, len(corpus))
	}

	// Reopened, the index loads the same attributes from its file.
	qs := placementQueries()
	before := results(ctx, ix, qs)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if ix, err = search.Open(path, schema); err != nil {
		t.Fatal(err)
	}
	after := results(ctx, ix, qs)
	for i := range qs {
		if after[i] != before[i] {
			t.Errorf("after reopening, Search(%+v)\n got %s\nwant %s", qs[i], after[i], before[i])
		}
	}
	if n := search.MemDocs(ix); n != len(corpus) {
		t.Errorf("reopened, attributes hold %d documents, want %d", n, len(corpus))
	}
}
