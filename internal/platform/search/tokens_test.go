package search_test

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"

	"yiwang/internal/platform/search"
)

func TestTrigrams(t *testing.T) {
	tests := []struct{ text, want string }{
		{"", ""},
		{"社保", ""},
		{"营业执照", "营业执 业执照"},
		{"营业执照 变更", "营业执 业执照"},
		{"营业执照·变更登记", "营业执 业执照 | 变更登 更登记"},
		{"ETC通行卡申办", "通行卡 行卡申 卡申办"},
		{"护照A护照签发", "护照签 照签发"},
		{"ａｂｃ城乡居民", "城乡居 乡居民"},
	}
	for _, tc := range tests {
		if got := search.Trigrams(tc.text); got != tc.want {
			t.Errorf("Trigrams(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// corpusQueries returns queries for the comparisons below: every 1-, 2-,
// 3-, 4- and 6-character substring of the corpus's fields, substrings that
// span a separator, mixed Latin and CJK queries, and several terms.
func corpusQueries(t *testing.T) []string {
	seen := map[string]bool{}
	var qs []string
	add := func(q string) {
		if !seen[q] {
			seen[q] = true
			qs = append(qs, q)
		}
	}
	for _, d := range corpus {
		for _, f := range []string{"name", "aliases", "keywords", "dept"} {
			rs := []rune(d.Fields[f])
			for _, n := range []int{1, 2, 3, 4, 6} {
				for i := 0; i+n <= len(rs); i++ {
					q := string(rs[i : i+n])
					if _, err := search.ParseQuery(q); err == nil {
						add(q)
					}
				}
			}
		}
	}
	for _, q := range []string{"ETC通行卡", "A1 灵活就业", "运输 ETC", "营业执照 变更", "护照签发 进度", "社会保障卡 申领", "城乡居民基本养老",
		"医疗保险转移接续", "证明办理出生", "不动产权", "登记资料查", "办理办理", "执照执照", "ｅｔｃ办理"} {
		add(q)
	}
	if len(qs) < 1000 {
		t.Fatalf("only %d queries", len(qs))
	}
	return qs
}

// TestTrigramsAgreeWithBigrams checks that matching CJK terms of three or
// more characters by trigrams gives exactly the results of bigram phrases:
// the same matches, ranking, highlights, totals and facet counts.
func TestTrigramsAgreeWithBigrams(t *testing.T) {
	modes(t, func(t *testing.T, ix *search.Index) {
		queries := corpusQueries(t)
		matched := 0
		for _, capped := range []bool{false, true} {
			if capped {
				search.Cap(ix, 2, 2)
			}
			for _, text := range queries {
				q := search.Query{Text: text, Limit: 5, Facets: []string{"type", "theme"}}
				search.Plain(ix, true, false)
				want, err := ix.Search(t.Context(), q)
				if err != nil {
					t.Fatalf("Search(%q), bigrams: %v", text, err)
				}
				search.Plain(ix, false, false)
				got, err := ix.Search(t.Context(), q)
				if err != nil {
					t.Fatalf("Search(%q), trigrams: %v", text, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("Search(%q) with trigrams = %+v, with bigrams %+v", text, got, want)
				}
				if utf8.RuneCountInString(text) >= 3 && len(want.Hits) > 0 {
					matched++
				}
			}
		}
		if matched < 500 {
			t.Errorf("only %d queries of 3+ characters matched", matched)
		}
	})
}

// TestCombinedAgreeWithSeparate checks that filtering through the combined
// region × facet tags gives exactly the results of ANDing the region's and
// the facets' own tags, for every kind of region prefix, one or several
// values and facets, with and without text and facet counts, counted whole
// and capped.
func TestCombinedAgreeWithSeparate(t *testing.T) {
	modes(t, func(t *testing.T, ix *search.Index) {
		regions := []string{"", "150000", "150100", "150102", "150200", "15", "1501", "15010", "110000", "1501020", "x"}
		filters := []map[string][]string{
			nil,
			{"type": {"行政许可"}},
			{"type": {"行政许可", "公共服务"}},
			{"type": {"公共服务"}, "audience": {"自然人"}},
			{"audience": {"法人"}, "theme": {"准营准办", "社会保障"}},
			{"type": {"没有"}},
		}
		texts := []string{"", "社保", "登记", "护照", "营业执照", "许可", "办", "ETC", "城乡居民基本养老"}
		facets := [][]string{nil, {"type"}, {"type", "audience", "theme"}}
		n := 0
		for _, capped := range []bool{false, true} {
			if capped {
				search.Cap(ix, 2, 2)
			}
			for _, region := range regions {
				for _, f := range filters {
					for _, text := range texts {
						for _, fs := range facets {
							if text == "" && region == "" && f == nil {
								continue
							}
							for _, exact := range []bool{false, true} {
								q := search.Query{Text: text, Region: region, Filters: f, Facets: fs, Limit: 3, Exact: exact}
								search.Plain(ix, false, true)
								want, err := ix.Search(t.Context(), q)
								if err != nil {
									t.Fatalf("Search(%+v), separate tags: %v", q, err)
								}
								search.Plain(ix, false, false)
								got, err := ix.Search(t.Context(), q)
								if err != nil {
									t.Fatalf("Search(%+v), combined tags: %v", q, err)
								}
								if !reflect.DeepEqual(got, want) {
									t.Errorf("Search(%s) with combined tags = %+v, with separate tags %+v", fmt.Sprintf("%+v", q), got, want)
								}
								if len(want.Hits) > 0 && region != "" && f != nil {
									n++
								}
							}
						}
					}
				}
			}
		}
		if n < 100 {
			t.Errorf("only %d filtered queries had hits", n)
		}
	})
}

// TestCombinedAfterUpsert checks the combined tags of a document that
// moves to another region and type.
func TestCombinedAfterUpsert(t *testing.T) {
	ix := openCorpus(t)
	d := corpus[1] // S02, 150100, 公共服务
	d.Region = "150200"
	d.Facets = map[string][]string{"type": {"行政许可"}}
	if err := ix.Upsert(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		region, typ string
		want        bool
	}{
		{"150100", "公共服务", false}, {"150100", "行政许可", false}, {"150200", "公共服务", false}, {"150200", "行政许可", true}, {"150000", "行政许可", true},
	} {
		res, err := ix.Search(t.Context(), search.Query{Text: "养老", Region: tc.region, Filters: map[string][]string{"type": {tc.typ}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(ids(res.Hits), "S02"); got != tc.want {
			t.Errorf("Search(养老, %s, %s) finds S02 = %v, want %v", tc.region, tc.typ, got, tc.want)
		}
	}
}
