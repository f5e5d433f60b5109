package search_test

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/search"
)

var schema = search.Schema{
	Fields: []search.Field{{Name: "name", Weight: 10}, {Name: "aliases", Weight: 5}, {Name: "keywords", Weight: 2}, {Name: "dept", Weight: 1}},
	Facets: []string{"type", "audience", "theme"},
}

// item makes a Doc of a service item (事项).
func item(id, name, aliases, keywords, dept, typ, audience, theme, region string, boost float64) search.Doc {
	return search.Doc{
		ID:     id,
		Fields: map[string]string{"name": name, "aliases": aliases, "keywords": keywords, "dept": dept},
		Facets: map[string][]string{"type": {typ}, "audience": strings.Split(audience, ","), "theme": {theme}},
		Region: region,
		Boost:  boost,
	}
}

// corpus is a small set of realistic items. The items that contain 社保
// literally (in any field) are S02, S08, S09 and S31; 社会保障卡申领 (S07)
// does not, and a bigram index must not find it for 社保.
var corpus = []search.Doc{
	item("S01", "出生医学证明办理", "出生证", "新生儿 出生", "卫生健康委员会", "行政确认", "自然人", "生育收养", "150000", 50),
	item("S02", "城乡居民基本养老保险参保登记", "居民社保参保", "养老 参保", "人力资源和社会保障局", "公共服务", "自然人", "社会保障", "150100", 80),
	item("S03", "营业执照变更登记", "执照变更", "公司 变更", "市场监督管理局", "行政许可", "法人", "准营准办", "150100", 90),
	item("S04", "营业执照设立登记", "开办企业", "公司 设立 开业", "市场监督管理局", "行政许可", "法人", "准营准办", "150102", 95),
	item("S05", "户口迁移", "迁户口", "落户 迁入", "公安局", "行政确认", "自然人", "户籍办理", "150200", 70),
	item("S06", "医保关系转移", "医疗保险转移接续", "医保 异地", "医疗保障局", "公共服务", "自然人", "社会保障", "150100", 60),
	item("S07", "社会保障卡申领", "社会保障卡办理", "办卡 补卡", "人力资源和社会保障局", "公共服务", "自然人", "社会保障", "150000", 99),
	item("S08", "社保缴费基数申报", "单位社保申报", "缴费基数", "人力资源和社会保障局", "公共服务", "法人", "社会保障", "150100", 40),
	item("S09", "个人社保权益记录查询", "社保查询", "权益单", "人力资源和社会保障局", "公共服务", "自然人", "社会保障", "150200", 30),
	item("S10", "失业保险金申领", "失业金", "失业 保险", "人力资源和社会保障局", "行政给付", "自然人", "社会保障", "150100", 45),
	item("S11", "不动产登记资料查询", "房产查询", "不动产 产权 查档", "自然资源局", "公共服务", "自然人,法人", "住房保障", "150100", 55),
	item("S12", "不动产首次登记", "", "房屋 首登", "自然资源局", "行政确认", "自然人,法人", "住房保障", "150102", 35),
	item("S13", "机动车驾驶证补领", "驾照补办", "驾驶证 遗失", "公安局交通管理支队", "行政许可", "自然人", "交通出行", "150100", 65),
	item("S14", "居民身份证申领", "身份证办理", "身份证", "公安局", "行政确认", "自然人", "户籍办理", "150000", 85),
	item("S15", "结婚登记", "", "婚姻", "民政局", "行政确认", "自然人", "婚姻登记", "150200", 75),
	item("S16", "食品经营许可", "食品许可证", "餐饮", "市场监督管理局", "行政许可", "法人", "准营准办", "150100", 58),
	item("S17", "建筑工程施工许可证核发", "施工许可", "建筑 工程", "住房和城乡建设局", "行政许可", "法人", "工程建设", "150100", 25),
	item("S18", "药品零售企业许可", "药店许可", "药品", "市场监督管理局", "行政许可", "法人", "准营准办", "150200", 20),
	item("S19", "道路运输经营许可证核发", "", "运输 ETC", "交通运输局", "行政许可", "法人", "交通出行", "150000", 15),
	item("S20", "住房公积金提取", "公积金提取", "公积金 提取", "住房公积金管理中心", "公共服务", "自然人", "住房保障", "150100", 88),
	item("S21", "残疾人证办理", "残疾证", "残疾", "残疾人联合会", "行政确认", "自然人", "社会救助", "150100", 33),
	item("S22", "高龄津贴申请", "老年补贴", "高龄 津贴", "民政局", "行政给付", "自然人", "社会救助", "150102", 28),
	item("S23", "医师执业注册", "医生注册", "医师", "卫生健康委员会", "行政许可", "自然人", "医疗卫生", "150100", 22),
	item("S24", "教师资格认定", "教师资格证", "教师", "教育局", "行政确认", "自然人", "教育", "150200", 44),
	item("S25", "企业注销登记", "公司注销", "注销", "市场监督管理局", "行政许可", "法人", "准营准办", "150100", 42),
	item("S26", "个体工商户注册登记", "个体户开业", "个体", "市场监督管理局", "行政许可", "自然人", "准营准办", "150100", 38),
	item("S27", "护照签发", "普通护照签发", "出国 护照", "出入境管理局", "行政许可", "自然人", "出入境", "150000", 10),
	item("S28", "护照签发进度查询", "", "护照 进度", "出入境管理局", "公共服务", "自然人", "出入境", "150000", 5),
	item("S29", "普通护照补发", "护照遗失补办", "护照", "出入境管理局", "行政许可", "自然人", "出入境", "150100", 100),
	item("S30", "<b>危险</b>化学品经营许可 & 备案", "危化品许可", "危化", "应急管理局", "行政许可", "法人", "安全生产", "150100", 12),
	item("S31", "灵活就业人员社保登记", "", "A1 灵活就业", "人力资源和社会保障局", "公共服务", "自然人", "社会保障", "150102", 48),
	item("S32", "ETC通行卡申办", "ETC办理", "高速 通行", "交通运输局", "公共服务", "自然人", "交通出行", "150200", 18),
}

func openCorpus(t testing.TB) *search.Index {
	t.Helper()
	ix, err := search.Open("", schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	if err := ix.Upsert(t.Context(), corpus...); err != nil {
		t.Fatal(err)
	}
	return ix
}

// openSqueezed builds the corpus with Rebuild, which numbers documents by
// Boost, and squeezes the index so that queries take the broad-query paths.
func openSqueezed(t testing.TB, window int) *search.Index {
	t.Helper()
	ix, err := search.Open("", schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	i := 0
	n, err := ix.Rebuild(t.Context(), func() (search.Doc, bool, error) {
		if i == len(corpus) {
			return search.Doc{}, false, nil
		}
		i++
		return corpus[i-1], true, nil
	})
	if err != nil || n != len(corpus) {
		t.Fatalf("Rebuild = %d, %v; want %d", n, err, len(corpus))
	}
	search.Squeeze(ix, window)
	return ix
}

// modes runs test on the corpus ranked whole (as a small index is) and
// ranked in tiers and windows (as broad queries on a large index are).
func modes(t *testing.T, test func(t *testing.T, ix *search.Index)) {
	t.Run("whole", func(t *testing.T) { test(t, openCorpus(t)) })
	t.Run("window2", func(t *testing.T) { test(t, openSqueezed(t, 2)) })
	t.Run("window1", func(t *testing.T) { test(t, openSqueezed(t, 1)) })
}

func ids(hits []search.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestTokens(t *testing.T) {
	tests := []struct {
		text      string
		field     []string
		unigrams  []string
		wantTerms []string // ParseQuery of the same text; nil means Invalid
	}{
		{"营业执照", []string{"营业", "业执", "执照"}, []string{"营", "业", "执", "照"}, []string{"营业执照"}},
		{"社保", []string{"社保"}, []string{"社", "保"}, []string{"社保"}},
		{"户口", []string{"户口"}, []string{"户", "口"}, []string{"户口"}},
		{"办", []string{"办"}, []string{"办"}, []string{"办"}},
		{"A1 护照", []string{"a1", "护照"}, []string{"护", "照"}, []string{"a1", "护照"}},
		{"A1护照", []string{"a1", "护照"}, []string{"护", "照"}, []string{"a1", "护照"}},
		{"ＡＢＣ１２３　营业执照（副本）", []string{"abc123", "营业", "业执", "执照", "|", "副本"}, []string{"营", "业", "执", "照", "副", "本"}, []string{"abc123", "营业执照", "副本"}},
		{"iPhone15维修ＯＫ", []string{"iphone15", "维修", "ok"}, []string{"维", "修"}, []string{"iphone15", "维修", "ok"}},
		{"营业 业务", []string{"营业", "|", "业务"}, []string{"营", "业", "务"}, []string{"营业", "业务"}},
		{"社保🎉卡😀办理", []string{"社保", "|", "卡", "|", "办理"}, []string{"社", "保", "卡", "办", "理"}, []string{"社保", "卡", "办理"}},
		{"营业\xff执照", []string{"营业", "业执", "执照"}, []string{"营", "业", "执", "照"}, []string{"营业执照"}}, // invalid bytes are dropped
		{"\xc0\xaf\xed\xa0\x80", nil, nil, nil},
		{"Café Straße", []string{"café", "straße"}, nil, []string{"café", "straße"}},
		{"…！？", nil, nil, nil},
		{"", nil, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			field, uni := search.Tokens(tc.text)
			if !slices.Equal(field, tc.field) || !slices.Equal(uni, tc.unigrams) {
				t.Errorf("Tokens(%q) = %q, %q; want %q, %q", tc.text, field, uni, tc.field, tc.unigrams)
			}
			terms, err := search.ParseQuery(tc.text)
			if tc.wantTerms == nil {
				if errs.KindOf(err) != errs.Invalid {
					t.Errorf("ParseQuery(%q) = %q, %v; want Invalid", tc.text, terms, err)
				}
			} else if err != nil || !slices.Equal(terms, tc.wantTerms) {
				t.Errorf("ParseQuery(%q) = %q, %v; want %q", tc.text, terms, err, tc.wantTerms)
			}
		})
	}
}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
		msg        string // for Invalid
	}{
		{name: "bigram", text: "社保", want: []string{"社保"}},
		{name: "words anded", text: "  护照　 签发 ", want: []string{"护照", "签发"}},
		{name: "duplicates", text: "护照 护照", want: []string{"护照"}},
		{name: "100 chars", text: strings.Repeat("护", 100), want: []string{strings.Repeat("护", 100)}},
		{name: "too long", text: strings.Repeat("护照", 250), msg: "搜索词过长，请不超过100个字"},
		{name: "too long latin", text: strings.Repeat("a", 101), msg: "搜索词过长，请不超过100个字"},
		{name: "empty", text: "", msg: "请输入要搜索的内容"},
		{name: "spaces", text: " \t　", msg: "请输入要搜索的内容"},
		{name: "punctuation", text: "，。！？《》、——", msg: "请输入要搜索的内容"},
		{name: "quote", text: `"`, msg: "请输入要搜索的内容"},
		{name: "star", text: `*`, msg: "请输入要搜索的内容"},
		{name: "or", text: "社保 OR 1", want: []string{"社保", "or", "1"}},
		{name: "near", text: "NEAR(", want: []string{"near"}},
		{name: "column filter", text: `name:护照^ "x`, want: []string{"name", "护照", "x"}},
		{name: "prefix star", text: `护照*`, want: []string{"护照"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := search.ParseQuery(tc.text)
			if tc.msg != "" {
				var e *errs.Error
				if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Msg != tc.msg {
					t.Fatalf("ParseQuery(%q) = %q, %v; want Invalid %q", tc.text, got, err, tc.msg)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("ParseQuery(%q) = %q, %v; want %q", tc.text, got, err, tc.want)
			}
		})
	}
}

// TestImplied checks when the prefix tier may skip the text match: only if
// a name starting with the query's key must contain every query term.
func TestImplied(t *testing.T) {
	for text, want := range map[string]bool{
		"社保":          true,
		"营业执照 变更":     true,
		"ETC 通行":      true,
		"办":           true,
		"et":          false, // a name starting with "etc" lacks the word "et"
		"护照 A":        false,
		"营业执照变更登记申请表": true,
		"营业执照变更登记申请表格式": false, // 13 characters, cut at maxPrefix
	} {
		if got := search.Implied(text); got != want {
			t.Errorf("Implied(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestMatchExprQuotesEverything(t *testing.T) {
	got := search.MatchExpr([]string{"营业执照", "or", "办", "near", "社保"})
	want := `tri : "营业执 业执照" AND {f0 f1} : "or" AND uni : "办" AND {f0 f1} : "near" AND {f0 f1} : "社保"`
	if got != want {
		t.Errorf("MatchExpr = %s, want %s", got, want)
	}
}

func TestSearch(t *testing.T) { modes(t, testSearch) }

func testSearch(t *testing.T, ix *search.Index) {
	tests := []struct {
		name, text string
		want       []string // exact order
		wantSet    []string // any order
	}{
		{name: "社保 only literal", text: "社保", wantSet: []string{"S02", "S08", "S09", "S31"}},
		{name: "护照 prefix first", text: "护照", want: []string{"S27", "S28", "S29"}},
		{name: "exact name first", text: "护照签发", want: []string{"S27", "S28"}},
		{name: "户口", text: "户口", wantSet: []string{"S05"}},
		{name: "医保", text: "医保", wantSet: []string{"S06"}},
		{name: "4 chars", text: "营业执照", wantSet: []string{"S03", "S04"}},
		{name: "full-width and case", text: "ａ１", wantSet: []string{"S31"}},
		{name: "words anded", text: "营业执照 变更", want: []string{"S03"}},
		{name: "separators split runs", text: "营业执照·变更登记", want: []string{"S03"}},
		{name: "whole words only", text: "et", wantSet: nil},
		{name: "word then CJK", text: "ETC 通行", want: []string{"S32"}},
		{name: "word prefix first", text: "ｅｔｃ", want: []string{"S32", "S19"}},
		{name: "single char", text: "婚", wantSet: []string{"S15"}},
		{name: "no phrase across runs", text: "不动产权", wantSet: nil},
		{name: "no bigram across separator", text: "证明办理出生", wantSet: nil},
		{name: "injection or", text: "社保 OR 1", wantSet: nil},
		{name: "injection near", text: "NEAR(", wantSet: nil},
		{name: "injection column", text: "f0:护照", wantSet: nil},
		{name: "injection caret", text: "^护照", want: []string{"S27", "S28", "S29"}},
		{name: "html text", text: "危险化学品", wantSet: nil},
		{name: "html run", text: "化学品经营", wantSet: []string{"S30"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ix.Search(t.Context(), search.Query{Text: tc.text})
			if err != nil {
				t.Fatalf("Search(%q): %v", tc.text, err)
			}
			got := ids(res.Hits)
			if tc.want != nil {
				if !slices.Equal(got, tc.want) {
					t.Errorf("Search(%q) = %q, want %q", tc.text, got, tc.want)
				}
			} else if !slices.Equal(sorted(got), tc.wantSet) {
				t.Errorf("Search(%q) = %q, want (any order) %q", tc.text, got, tc.wantSet)
			}
			if res.Total != len(got) {
				t.Errorf("Search(%q).Total = %d, want %d", tc.text, res.Total, len(got))
			}
		})
	}
}

// TestSearchBigramsAgreeWithContains checks every 2-character substring of
// the corpus against a plain substring scan: a bigram index must find
// exactly the documents whose fields contain it within one CJK run.
func TestSearchBigramsAgreeWithContains(t *testing.T) { modes(t, testSearchBigramsAgreeWithContains) }

func testSearchBigramsAgreeWithContains(t *testing.T, ix *search.Index) {
	seen := map[string]bool{}
	for _, d := range corpus {
		for _, text := range d.Fields {
			rs := []rune(text)
			for i := 0; i+2 <= len(rs); i++ {
				q := string(rs[i : i+2])
				terms, err := search.ParseQuery(q)
				if err != nil || len(terms) != 1 || utf8.RuneCountInString(terms[0]) != 2 || seen[q] || rs[i] < 0x4e00 || rs[i+1] < 0x4e00 {
					continue
				}
				seen[q] = true
				var want []string
				for _, d := range corpus {
					for _, f := range d.Fields {
						if strings.Contains(f, q) {
							want = append(want, d.ID)
							break
						}
					}
				}
				res, err := ix.Search(t.Context(), search.Query{Text: q, Limit: 100})
				if err != nil {
					t.Fatalf("Search(%q): %v", q, err)
				}
				if got := sorted(ids(res.Hits)); !slices.Equal(got, sorted(want)) {
					t.Errorf("Search(%q) = %q, want %q", q, got, want)
				}
			}
		}
	}
	if len(seen) < 200 {
		t.Fatalf("only %d bigrams checked", len(seen))
	}
}

func TestSearchRegion(t *testing.T) { modes(t, testSearchRegion) }

func testSearchRegion(t *testing.T, ix *search.Index) {
	tests := []struct {
		region string
		want   []string
	}{
		{"", []string{"S02", "S08", "S09", "S31"}},
		{"150000", []string{"S02", "S08", "S09", "S31"}},
		{"150100", []string{"S02", "S08", "S31"}},
		{"150102", []string{"S31"}},
		{"150200", []string{"S09"}},
		{"110000", nil},
	}
	for _, tc := range tests {
		t.Run(tc.region, func(t *testing.T) {
			res, err := ix.Search(t.Context(), search.Query{Text: "社保", Region: tc.region})
			if err != nil {
				t.Fatal(err)
			}
			if got := sorted(ids(res.Hits)); !slices.Equal(got, tc.want) || res.Total != len(tc.want) {
				t.Errorf("Search(社保, region %s) = %q (total %d), want %q", tc.region, got, res.Total, tc.want)
			}
		})
	}
}

func TestSearchFacets(t *testing.T) { modes(t, testSearchFacets) }

func testSearchFacets(t *testing.T, ix *search.Index) {
	ctx := t.Context()
	res, err := ix.Search(ctx, search.Query{Text: "社保", Facets: []string{"audience", "type"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]search.FacetCount{
		"audience": {{"自然人", 3}, {"法人", 1}},
		"type":     {{"公共服务", 4}},
	}
	if fmt.Sprint(res.Facets) != fmt.Sprint(want) {
		t.Errorf("facets = %v, want %v", res.Facets, want)
	}

	// Disjunctive: the audience counts ignore the audience filter, the
	// type counts respect it.
	res, err = ix.Search(ctx, search.Query{Text: "社保", Filters: map[string][]string{"audience": {"法人"}}, Facets: []string{"audience", "type"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(res.Hits); !slices.Equal(got, []string{"S08"}) || res.Total != 1 {
		t.Errorf("hits = %q (total %d), want [S08]", got, res.Total)
	}
	want = map[string][]search.FacetCount{
		"audience": {{"自然人", 3}, {"法人", 1}},
		"type":     {{"公共服务", 1}},
	}
	if fmt.Sprint(res.Facets) != fmt.Sprint(want) {
		t.Errorf("facets = %v, want %v", res.Facets, want)
	}

	// Values of one facet are ORed, facets are ANDed, region applies too.
	res, err = ix.Search(ctx, search.Query{
		Text:    "登记",
		Region:  "150100",
		Filters: map[string][]string{"type": {"行政许可", "行政确认"}, "audience": {"法人"}},
		Facets:  []string{"type"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := sorted(ids(res.Hits)); !slices.Equal(got, []string{"S03", "S04", "S12", "S25"}) {
		t.Errorf("hits = %q, want S03 S04 S12 S25", got)
	}
	// S11 (公共服务, 法人 among its audiences) comes back in the type counts.
	want = map[string][]search.FacetCount{"type": {{"行政许可", 3}, {"公共服务", 1}, {"行政确认", 1}}}
	if fmt.Sprint(res.Facets) != fmt.Sprint(want) {
		t.Errorf("facets = %v, want %v", res.Facets, want)
	}

	// Empty text with filters lists by boost.
	res, err = ix.Search(ctx, search.Query{Filters: map[string][]string{"theme": {"出入境"}}, Facets: []string{"type"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(res.Hits); !slices.Equal(got, []string{"S29", "S27", "S28"}) || res.Total != 3 || res.Terms != nil {
		t.Errorf("listing = %q (total %d, terms %q), want [S29 S27 S28]", got, res.Total, res.Terms)
	}
	want = map[string][]search.FacetCount{"type": {{"行政许可", 2}, {"公共服务", 1}}}
	if fmt.Sprint(res.Facets) != fmt.Sprint(want) {
		t.Errorf("listing facets = %v, want %v", res.Facets, want)
	}
	res, err = ix.Search(ctx, search.Query{Region: "150102"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(res.Hits); !slices.Equal(got, []string{"S04", "S31", "S12", "S22"}) {
		t.Errorf("region listing = %q, want [S04 S31 S12 S22]", got)
	}
}

func TestSearchInvalid(t *testing.T) {
	ix := openCorpus(t)
	for _, q := range []search.Query{
		{},
		{Text: "  "},
		{Text: "！？"},
		{Text: "！？", Region: "150000"},
		{Text: strings.Repeat("社保", 51)},
		{Text: "社保", Filters: map[string][]string{"nope": {"x"}}},
		{Text: "社保", Facets: []string{"nope"}},
	} {
		if _, err := ix.Search(t.Context(), q); errs.KindOf(err) != errs.Invalid {
			t.Errorf("Search(%+v) error = %v, want Invalid", q, err)
		}
	}
}

func TestSearchPagination(t *testing.T) { modes(t, testSearchPagination) }

func testSearchPagination(t *testing.T, ix *search.Index) {
	all, err := ix.Search(t.Context(), search.Query{Text: "登记", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if all.Total < 9 || len(all.Hits) != all.Total {
		t.Fatalf("Search(登记) total %d, hits %d", all.Total, len(all.Hits))
	}
	var paged []string
	for off := 0; off < all.Total+3; off += 4 {
		res, err := ix.Search(t.Context(), search.Query{Text: "登记", Offset: off, Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != all.Total {
			t.Errorf("page at %d: Total = %d, want %d", off, res.Total, all.Total)
		}
		paged = append(paged, ids(res.Hits)...)
	}
	if !slices.Equal(paged, ids(all.Hits)) {
		t.Errorf("pages = %q, want %q", paged, ids(all.Hits))
	}
}

func TestUpsertDelete(t *testing.T) {
	ix := openCorpus(t)
	ctx := t.Context()
	count := func(want int) {
		t.Helper()
		if n, err := ix.Count(ctx); err != nil || n != want {
			t.Fatalf("Count = %d, %v; want %d", n, err, want)
		}
	}
	find := func(text string, want ...string) {
		t.Helper()
		res, err := ix.Search(ctx, search.Query{Text: text, Facets: []string{"theme"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := sorted(ids(res.Hits)); !slices.Equal(got, sorted(want)) {
			t.Fatalf("Search(%q) = %q, want %q", text, got, want)
		}
	}
	count(len(corpus))
	find("结婚", "S15")

	changed := item("S15", "离婚登记", "", "", "民政局", "行政确认", "自然人", "婚姻登记", "150200", 1)
	if err := ix.Upsert(ctx, changed, changed); err != nil {
		t.Fatal(err)
	}
	count(len(corpus))
	find("结婚")
	find("离婚", "S15")

	if err := ix.Delete(ctx, "S15", "S01", "nope"); err != nil {
		t.Fatal(err)
	}
	count(len(corpus) - 2)
	find("离婚")
	find("出生")
	res, err := ix.Search(ctx, search.Query{Filters: map[string][]string{"theme": {"婚姻登记", "生育收养"}}, Facets: []string{"type", "theme"}})
	if err != nil || res.Total != 0 || len(res.Facets["type"]) != 0 {
		t.Fatalf("after Delete, facet listing = %+v, %v; want nothing", res, err)
	}
	for _, c := range res.Facets["theme"] { // counted without the theme filter
		if c.Value == "婚姻登记" || c.Value == "生育收养" {
			t.Errorf("after Delete, theme %s still counts %d", c.Value, c.Count)
		}
	}
	if err := ix.Upsert(ctx, corpus[0]); err != nil {
		t.Fatal(err)
	}
	find("出生", "S01")
	if err := ix.Upsert(ctx, search.Doc{Fields: map[string]string{"name": "x"}}); errs.KindOf(err) != errs.Invalid {
		t.Fatalf("Upsert without ID = %v, want Invalid", err)
	}
}

func TestHighlights(t *testing.T) { modes(t, testHighlights) }

func testHighlights(t *testing.T, ix *search.Index) {
	tests := []struct {
		text string
		id   string
		want map[string]string
	}{
		{"社保", "S02", map[string]string{"aliases": "居民<mark>社保</mark>参保"}},
		{"营业执照 执照变更", "S03", map[string]string{"name": "<mark>营业执照变更</mark>登记", "aliases": "<mark>执照变更</mark>"}},
		{"经营许可", "S30", map[string]string{"name": "&lt;b&gt;危险&lt;/b&gt;化学品<mark>经营许可</mark> &amp; 备案"}},
		{"ａ1", "S31", map[string]string{"keywords": "<mark>A1</mark> 灵活就业"}},
		{"护照 普通", "S29", map[string]string{"name": "<mark>普通护照</mark>补发", "aliases": "<mark>护照</mark>遗失补办", "keywords": "<mark>护照</mark>"}},
		{"保", "S07", map[string]string{"name": "社会<mark>保</mark>障卡申领", "aliases": "社会<mark>保</mark>障卡办理", "dept": "人力资源和社会<mark>保</mark>障局"}},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			res, err := ix.Search(t.Context(), search.Query{Text: tc.text, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range res.Hits {
				if h.ID == tc.id {
					if fmt.Sprint(h.Highlights) != fmt.Sprint(tc.want) {
						t.Errorf("Search(%q) %s highlights = %q, want %q", tc.text, h.ID, h.Highlights, tc.want)
					}
					return
				}
			}
			t.Errorf("Search(%q) = %q, want %s among them", tc.text, ids(res.Hits), tc.id)
		})
	}
}

func TestOpenSchemaChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "search.db")
	ix, err := search.Open(path, schema)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Upsert(t.Context(), corpus...); err != nil {
		t.Fatal(err)
	}
	ix.Close()

	ix, err = search.Open(path, schema)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := ix.Count(t.Context()); n != len(corpus) {
		t.Errorf("reopened with the same schema: Count = %d, want %d", n, len(corpus))
	}
	ix.Close()

	other := search.Schema{Fields: []search.Field{{Name: "name", Weight: 1}}, Facets: []string{"type"}}
	ix, err = search.Open(path, other)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if n, _ := ix.Count(t.Context()); n != 0 {
		t.Errorf("reopened with another schema: Count = %d, want 0", n)
	}
	if err := ix.Upsert(t.Context(), corpus[:3]...); err != nil {
		t.Fatal(err)
	}
	res, err := ix.Search(t.Context(), search.Query{Text: "社保"})
	if err != nil || res.Total != 0 { // S02 has 社保 only in aliases, which this schema lacks
		t.Errorf("Search(社保) = %+v, %v; want no hits", res, err)
	}

	for _, bad := range []search.Schema{{}, {Fields: []search.Field{{Name: "a"}, {Name: "a"}}}, {Fields: []search.Field{{Name: "a", Weight: -1}}}} {
		if ix, err := search.Open("", bad); err == nil {
			ix.Close()
			t.Errorf("Open(%+v) succeeded, want an error", bad)
		}
	}
}

func TestRebuildAtomic(t *testing.T) {
	ix := openCorpus(t)
	search.Cap(ix, 1000, 1000) // count the 666 new 护照 items exactly: this test is about snapshots
	ctx := t.Context()
	const big = 2000
	// The new corpus shares no 护照 items with the old one except 999 of its own.
	next := func() func() (search.Doc, bool, error) {
		i := 0
		return func() (search.Doc, bool, error) {
			if i == big {
				return search.Doc{}, false, nil
			}
			i++
			name := fmt.Sprintf("企业%d号营业执照办理", i)
			if i%3 == 0 {
				name = fmt.Sprintf("第%d批护照签发", i)
			}
			return item(fmt.Sprintf("N%05d", i), name, "", "", "局", "行政许可", "法人", "准营准办", "150100", float64(i)), true, nil
		}
	}
	oldTotal, newTotal := 3, big/3

	var wg sync.WaitGroup
	var stop atomic.Bool
	var searches atomic.Int64
	errc := make(chan error, 8)
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				res, err := ix.Search(ctx, search.Query{Text: "护照", Facets: []string{"type"}, Limit: 5})
				if err == nil && res.Total != oldTotal && res.Total != newTotal {
					err = fmt.Errorf("Search(护照).Total = %d, want %d or %d", res.Total, oldTotal, newTotal)
				}
				if err == nil {
					sum := 0 // every item has one type
					for _, c := range res.Facets["type"] {
						sum += c.Count
					}
					if sum != res.Total {
						err = fmt.Errorf("type counts %v do not add up to total %d", res.Facets, res.Total)
					}
				}
				if err == nil {
					var n int
					if n, err = ix.Count(ctx); err == nil && n != len(corpus) && n != big {
						err = fmt.Errorf("Count = %d, want %d or %d", n, len(corpus), big)
					}
				}
				if err != nil {
					errc <- err
					return
				}
				searches.Add(1)
			}
		})
	}
	for range 3 {
		n, err := ix.Rebuild(ctx, next())
		if err != nil || n != big {
			t.Fatalf("Rebuild = %d, %v; want %d", n, err, big)
		}
	}
	// A failing iterator leaves the index as it was.
	failing := func() (search.Doc, bool, error) { return search.Doc{}, false, errors.New("source broke") }
	if _, err := ix.Rebuild(ctx, failing); err == nil {
		t.Fatal("Rebuild with a failing iterator succeeded")
	}
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if searches.Load() == 0 {
		t.Error("no search ran during Rebuild")
	}
	t.Logf("%d searches during 3 rebuilds", searches.Load())
	if n, err := ix.Count(ctx); err != nil || n != big {
		t.Fatalf("after a failed Rebuild Count = %d, %v; want %d", n, err, big)
	}
	res, err := ix.Search(ctx, search.Query{Text: "护照签发", Limit: 3})
	if err != nil || res.Total != newTotal {
		t.Fatalf("Search(护照签发) = %+v, %v; want total %d", res, err, newTotal)
	}
}

// TestOddInput feeds invalid UTF-8, infinite and NaN boosts through both
// Upsert and Rebuild: either way the document is found by its text, facet
// and region, and sorts by its (cleaned) boost.
func TestOddInput(t *testing.T) {
	ctx := t.Context()
	docs := []search.Doc{
		{ID: "X1", Fields: map[string]string{"name": "户口\xff迁移", "extra": "ignored"}, Facets: map[string][]string{"type": {"行政\xff确认"}, "nope": {"x"}}, Region: "15\xff0100", Boost: math.Inf(1)},
		{ID: "X2", Fields: map[string]string{"name": "户口迁移证明"}, Facets: map[string][]string{"type": {"行政确认"}}, Region: "150100", Boost: math.NaN()},
		{ID: "X3", Fields: map[string]string{"name": "户口迁移查询"}, Facets: map[string][]string{"type": {"行政确认"}}, Region: "150100", Boost: math.Inf(-1)},
	}
	for _, how := range []string{"upsert", "rebuild"} {
		t.Run(how, func(t *testing.T) {
			ix, err := search.Open("", schema)
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			if how == "upsert" {
				err = ix.Upsert(ctx, docs...)
			} else {
				i := 0
				_, err = ix.Rebuild(ctx, func() (search.Doc, bool, error) {
					if i == len(docs) {
						return search.Doc{}, false, nil
					}
					i++
					return docs[i-1], true, nil
				})
			}
			if err != nil {
				t.Fatal(err)
			}
			res, err := ix.Search(ctx, search.Query{Filters: map[string][]string{"type": {"行政\xff确认", "行政确认"}}, Region: "150100"})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(res.Hits); !slices.Equal(got, []string{"X1", "X2", "X3"}) {
				t.Errorf("listing = %q, want [X1 X2 X3] by boost", got)
			}
			res, err = ix.Search(ctx, search.Query{Text: "户口迁移", Filters: map[string][]string{"type": {"行政确认"}}})
			if err != nil {
				t.Fatal(err)
			}
			if got := sorted(ids(res.Hits)); !slices.Equal(got, []string{"X1", "X2", "X3"}) {
				t.Errorf("Search(户口迁移) = %q, want X1 X2 X3", got)
			}
			if err := ix.Upsert(ctx, search.Doc{ID: "bad\xff"}); errs.KindOf(err) != errs.Invalid {
				t.Errorf("Upsert(invalid ID) = %v, want Invalid", err)
			}
		})
	}
}

// TestCapped checks a query broader than the count cap: Total is the cap,
// flagged as a lower bound, facet counts are over the first matches and
// flagged, narrower queries stay exact, and pages are the same as when
// everything is counted.
func TestCapped(t *testing.T) {
	const n = 1200
	types := []string{"行政许可", "行政确认", "公共服务", "行政给付"}
	build := func(countCap int) *search.Index {
		ix, err := search.Open("", schema)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ix.Close() })
		i := 0
		if _, err := ix.Rebuild(t.Context(), func() (search.Doc, bool, error) {
			if i == n {
				return search.Doc{}, false, nil
			}
			i++
			name := fmt.Sprintf("第%d号护照签发", i) // every name matches 护照
			if i%10 == 0 {
				name = "护照签发" // the exact tier: 120 names
			}
			if i%7 == 0 {
				name = fmt.Sprintf("普通护照补发%d", i) // not the prefix tier
			}
			region := "150100"
			if i/4%2 == 0 {
				region = "150200"
			}
			return item(fmt.Sprintf("D%05d", i), name, "", "", "局", types[i%4], "自然人", "出入境", region, float64((i*7919)%n)), true, nil
		}); err != nil {
			t.Fatal(err)
		}
		search.Squeeze(ix, 10)
		search.Cap(ix, countCap, 60)
		return ix
	}
	const countCap = 50
	capped, whole := build(countCap), build(2*n)
	for _, tc := range []struct {
		name        string
		q           search.Query
		want        int  // true total
		exact       bool // expected TotalExact on the capped index
		facetsExact bool // expected FacetsExact on the capped index
	}{
		{"broad", search.Query{Text: "护照"}, n, false, false},
		{"broad, filtered", search.Query{Text: "护照", Region: "150100", Filters: map[string][]string{"type": {"行政许可"}}}, n / 8, false, false},
		// 171 names without the type filter, more than the 2×countCap that
		// Search reads whole to count facets: the type counts are estimated.
		{"narrow, broad without filter", search.Query{Text: "普通护照补发", Filters: map[string][]string{"type": {"公共服务"}}}, 43, true, false},
		{"narrow", search.Query{Text: "普通护照补发", Region: "150100", Filters: map[string][]string{"type": {"公共服务"}}}, 22, true, true},
		{"none", search.Query{Text: "签证", Filters: map[string][]string{"type": {"行政确认"}}}, 0, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Facets = []string{"type", "audience"}
			w, err := whole.Search(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			if !w.TotalExact || !w.FacetsExact || w.Total != tc.want {
				t.Fatalf("uncapped: Total %d, TotalExact %v, FacetsExact %v; want %d, exact", w.Total, w.TotalExact, w.FacetsExact, tc.want)
			}
			// Exact counts everything, whatever the cap.
			qe := q
			qe.Exact = true
			e, err := capped.Search(t.Context(), qe)
			if err != nil {
				t.Fatal(err)
			}
			if e.Total != w.Total || !e.TotalExact || !e.FacetsExact || !reflect.DeepEqual(e.Facets, w.Facets) || !slices.Equal(ids(e.Hits), ids(w.Hits)) {
				t.Errorf("Exact: total %d (exact %v), facets %v (exact %v), hits %q; want %d %v %q", e.Total, e.TotalExact, e.Facets, e.FacetsExact, ids(e.Hits), w.Total, w.Facets, ids(w.Hits))
			}
			c, err := capped.Search(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			if c.TotalExact != tc.exact || c.FacetsExact != tc.facetsExact {
				t.Errorf("TotalExact, FacetsExact = %v, %v; want %v, %v (Total %d)", c.TotalExact, c.FacetsExact, tc.exact, tc.facetsExact, c.Total)
			}
			if tc.exact && c.Total != w.Total {
				t.Errorf("exact Total = %d, want %d", c.Total, w.Total)
			}
			if !tc.exact && (c.Total != countCap || w.Total <= countCap) {
				t.Errorf("capped Total = %d, want %d (a lower bound of %d)", c.Total, countCap, w.Total)
			}
			if tc.facetsExact {
				if !reflect.DeepEqual(c.Facets, w.Facets) {
					t.Errorf("facets %v, want %v", c.Facets, w.Facets)
				}
				return
			}
			// Counts over the first countCap matches: every document has
			// one type and one audience, so a sampled facet's counts add
			// up to countCap, and none exceeds the real count.
			for f, want := range w.Facets {
				if reflect.DeepEqual(c.Facets[f], want) {
					continue // this facet was counted whole
				}
				exact := map[string]int{}
				for _, fc := range want {
					exact[fc.Value] = fc.Count
				}
				sum := 0
				for _, fc := range c.Facets[f] {
					sum += fc.Count
					if fc.Count <= 0 || fc.Count > exact[fc.Value] {
						t.Errorf("facet %s=%s: sampled count %d, want 1..%d", f, fc.Value, fc.Count, exact[fc.Value])
					}
				}
				if sum != countCap {
					t.Errorf("facet %s: sampled counts %v add up to %d, want %d", f, c.Facets[f], sum, countCap)
				}
			}
		})
	}
	// Pages of a capped query are the pages of the fully counted one.
	for _, q := range []search.Query{{Text: "护照"}, {Text: "护照签发", Region: "150100"}, {Text: "护照", Filters: map[string][]string{"type": {"行政许可", "行政确认"}}}} {
		for _, off := range []int{0, 20, 110, 119, 120, 135, 400, n - 5, n + 10} {
			q.Offset, q.Limit = off, 20
			c, err1 := capped.Search(t.Context(), q)
			w, err2 := whole.Search(t.Context(), q)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if !slices.Equal(ids(c.Hits), ids(w.Hits)) {
				t.Errorf("Search(%q %v) at %d: capped %q, counted %q", q.Text, q.Filters, off, ids(c.Hits), ids(w.Hits))
			}
		}
	}
}
