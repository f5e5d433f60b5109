package search_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/search"
)

var fuzzSeeds = []string{
	"营业执照", "社保", "户口", "A1 护照", "ＡＢＣ１２３", "社保 OR 1", `"`, `*`, "NEAR(", `name:护照^ "x`,
	"护照*", "f0:\"营业\" OR uni:\"办\"", "🎉😀", "营业\xff执照", "\xc0\xaf", strings.Repeat("社保", 60),
	"<script>alert(1)</script>", "Café Straße", "e\u0301", "\u3000\u00a0\t\n", "\ue000营业", "办",
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		terms, err := search.ParseQuery(text)
		if err != nil {
			if errs.KindOf(err) != errs.Invalid {
				t.Fatalf("ParseQuery(%q) error %v is not Invalid", text, err)
			}
			return
		}
		if len(terms) == 0 {
			t.Fatalf("ParseQuery(%q) accepted with no terms", text)
		}
		for _, term := range terms {
			if term == "" || !utf8.ValidString(term) || strings.ContainsAny(term, " \t\"*^:(){}\ue000") {
				t.Fatalf("ParseQuery(%q) term %q is empty, invalid or holds syntax", text, term)
			}
		}
		// The same text indexes without trouble, too.
		search.Tokens(text)
	})
}

func FuzzSearch(f *testing.F) {
	ix, sq := openCorpus(f), openSqueezed(f, 2)
	for _, s := range fuzzSeeds {
		f.Add(s, "150100", "")
	}
	f.Add("登记", "", "法人")
	f.Add("", "15", "自然人")
	f.Fuzz(func(t *testing.T, text, region, audience string) {
		q := search.Query{Text: text, Region: region, Facets: []string{"type", "audience"}, Limit: 50}
		if audience != "" {
			q.Filters = map[string][]string{"audience": {audience}}
		}
		res, err := ix.Search(t.Context(), q)
		if err != nil {
			if errs.KindOf(err) != errs.Invalid {
				t.Fatalf("Search(%+v): %v", q, err)
			}
			return
		}
		// The corpus fits one page, so ranking whole and ranking in tiers
		// and windows must find the same documents and counts.
		alt, err := sq.Search(t.Context(), q)
		if err != nil {
			t.Fatalf("squeezed Search(%+v): %v", q, err)
		}
		if a, b := sorted(ids(res.Hits)), sorted(ids(alt.Hits)); res.Total != alt.Total || !slices.Equal(a, b) || fmt.Sprint(res.Facets) != fmt.Sprint(alt.Facets) {
			t.Fatalf("Search(%+v) = %d %q %v whole, %d %q %v windowed", q, res.Total, a, res.Facets, alt.Total, b, alt.Facets)
		}
		if res.Total < len(res.Hits) {
			t.Fatalf("Search(%+v): Total %d < %d hits", q, res.Total, len(res.Hits))
		}
		for _, h := range res.Hits {
			for field, m := range h.Highlights {
				if !utf8.ValidString(m) || !strings.Contains(m, "<mark>") {
					t.Fatalf("Search(%q) %s.%s highlight %q", text, h.ID, field, m)
				}
				if rest := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(m); strings.ContainsAny(rest, "<>\"'") {
					t.Fatalf("Search(%q) %s.%s highlight not escaped: %q", text, h.ID, field, m)
				}
			}
		}
	})
}
