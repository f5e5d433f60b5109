package catalog_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"yiwang/internal/catalog"
	"yiwang/internal/platform/errs"
)

// birth is a realistic, valid item: 出生医学证明 issuance.
func birth() catalog.Item {
	return catalog.Item{
		BasicCode: catalog.BasicCode("150000", "GG", 123, 0),
		Name:      "出生医学证明首次签发",
		Type:      "GG",
		Level:     3,
		Region:    "150100",
		DeptID:    "dept-1",
		DeptName:  "呼和浩特市卫生健康委员会",
		DeptUSCC:  "91350100M000100Y43",
		Audiences: []catalog.Audience{catalog.Person},
		LegalBasis: []catalog.LegalBasis{{Name: "中华人民共和国母婴保健法", Article: "第二十三条",
			Content: "医疗保健机构和从事家庭接生的人员按照国务院卫生行政部门的规定，出具统一制发的新生儿出生医学证明"}},
		Conditions:    "在本市助产机构出生的新生儿",
		LegalLimit:    catalog.TimeLimit{Days: 20, Unit: catalog.Workday},
		PromisedLimit: catalog.TimeLimit{Days: 5, Unit: catalog.Workday},
		Kind:          catalog.Promised,
		Materials: []catalog.Material{
			{Name: "父母双方居民身份证", Type: 1, Source: 20, Necessity: 1, Form: 3, Originals: 1, Copies: 1},
			{Name: "出生医学证明首次签发登记表", Type: 2, Source: 10, Necessity: 1, Form: 2},
			{Name: "结婚证", Type: 1, Source: 20, Necessity: 3, Form: 3, Copies: 1},
		},
		Steps:    []catalog.Step{{Name: "受理"}, {Name: "审查"}, {Name: "决定"}, {Name: "送达"}},
		Results:  []catalog.Result{{Type: "证照", Name: "出生医学证明", Validity: "长期"}},
		Depth:    catalog.Depth{Codes: []int{5, 1, 2, 3, 4, 6, 7}, Level: 4},
		Visits:   0,
		Channels: []catalog.Channel{catalog.Online, catalog.Window},
		Scope:    "province",
		Themes:   []string{"生育收养", " 生育收养 ", ""},
		Keywords: []string{"出生证", "出生"},
	}
}

func TestCheckAcceptsAndNormalises(t *testing.T) {
	it := birth()
	if err := it.Check(catalog.DefaultTypes); err != nil {
		t.Fatalf("Check(valid item) = %v", err)
	}
	if !slices.Equal(it.Themes, []string{"生育收养"}) {
		t.Errorf("themes not normalised: %q", it.Themes)
	}
	if !slices.IsSorted(it.Depth.Codes) {
		t.Errorf("depth codes not sorted: %v", it.Depth.Codes)
	}
	code := catalog.ImplementationCode(it.DeptUSCC, it.Level, it.BasicCode)
	if len(code) != 31 || !strings.HasPrefix(code, it.DeptUSCC+"3") {
		t.Errorf("ImplementationCode = %q (%d chars), want 31 characters", code, len(code))
	}
	if !it.OnlineApplication() {
		t.Error("OnlineApplication() = false with the online channel")
	}
}

func TestCheckNamesEachProblem(t *testing.T) {
	tests := []struct {
		name   string
		change func(*catalog.Item)
		field  string
	}{
		{"no name", func(it *catalog.Item) { it.Name = " " }, "name"},
		{"unknown type", func(it *catalog.Item) { it.Type = "ZZ" }, "type"},
		{"bad level", func(it *catalog.Item) { it.Level = 9 }, "level"},
		{"bad region", func(it *catalog.Item) { it.Region = "15" }, "region"},
		{"no department", func(it *catalog.Item) { it.DeptID = "" }, "dept_id"},
		{"bad credit code", func(it *catalog.Item) { it.DeptUSCC = "91350100M000100Y44" }, "dept_uscc"},
		{"bad basic code", func(it *catalog.Item) { it.BasicCode = "15GG" }, "basic_code"},
		{"no audience", func(it *catalog.Item) { it.Audiences = nil }, "audiences"},
		{"power without legal basis", func(it *catalog.Item) { it.Type = "XK"; it.LegalBasis = nil }, "legal_basis"},
		{"promised longer than legal", func(it *catalog.Item) { it.PromisedLimit.Days = 30 }, "promised_limit"},
		{"promised without days", func(it *catalog.Item) { it.PromisedLimit.Days = 0 }, "promised_limit"},
		{"immediate with days", func(it *catalog.Item) { it.Kind = catalog.Immediate }, "promised_limit"},
		{"no kind", func(it *catalog.Item) { it.Kind = "" }, "kind"},
		{"limit without unit", func(it *catalog.Item) { it.LegalLimit.Unit = "" }, "legal_limit"},
		{"material without name", func(it *catalog.Item) { it.Materials[1].Name = "" }, "materials[1].name"},
		{"material bad source", func(it *catalog.Item) { it.Materials[2].Source = 30 }, "materials[2].source"},
		{"material bad necessity", func(it *catalog.Item) { it.Materials[0].Necessity = 4 }, "materials[0].necessity"},
		{"charged without basis", func(it *catalog.Item) { it.Fee = catalog.Fee{Charged: true, Items: "工本费", OnlinePay: "yes"} }, "fee.basis"},
		{"charged without items", func(it *catalog.Item) { it.Fee = catalog.Fee{Charged: true, Basis: "价格法", OnlinePay: "no"} }, "fee.items"},
		{"charged without online-pay answer", func(it *catalog.Item) { it.Fee = catalog.Fee{Charged: true, Basis: "价格法", Items: "工本费"} }, "fee.online_pay"},
		{"depth code out of range", func(it *catalog.Item) { it.Depth.Codes = []int{1, 9} }, "depth.codes"},
		{"depth code twice", func(it *catalog.Item) { it.Depth.Codes = []int{2, 2} }, "depth.codes"},
		{"level IV with a visit", func(it *catalog.Item) { it.Visits = 1; it.VisitReason = "核验原件" }, "visits"},
		{"visit without reason", func(it *catalog.Item) { it.Depth.Level = 3; it.Visits = 1 }, "visit_reason"},
		{"zero visits, offline, no mail", func(it *catalog.Item) { it.Depth.Level = 3; it.Channels = []catalog.Channel{catalog.Window} }, "channels"},
		{"unknown channel", func(it *catalog.Item) { it.Channels = []catalog.Channel{"pigeon"} }, "channels"},
		{"unknown scope", func(it *catalog.Item) { it.Scope = "galaxy" }, "scope"},
		{"cross-province mode on a provincial item", func(it *catalog.Item) { it.CrossProvince = "全程网办" }, "cross_province"},
		{"keyword too long", func(it *catalog.Item) { it.Keywords = []string{strings.Repeat("长", 31)} }, "keywords"},
		{"invalid UTF-8 name", func(it *catalog.Item) { it.Name = "出生\xff证明" }, "name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := birth()
			tc.change(&it)
			err := it.Check(catalog.DefaultTypes)
			if errs.KindOf(err) != errs.Invalid {
				t.Fatalf("Check = %v, want Invalid", err)
			}
			e := err.(*errs.Error)
			if e.Fields[tc.field] == "" {
				t.Errorf("Check fields = %v, want a message on %q", e.Fields, tc.field)
			}
		})
	}
}

func TestCheckAllowsConsistentVariants(t *testing.T) {
	tests := []struct {
		name   string
		change func(*catalog.Item)
	}{
		{"zero visits offline with mail", func(it *catalog.Item) {
			it.Depth.Level = 2
			it.Channels = []catalog.Channel{catalog.Window, catalog.Mail}
		}},
		{"one visit with reason", func(it *catalog.Item) {
			it.Depth.Level = 3
			it.Visits, it.VisitReason = 1, "须现场采集指纹"
		}},
		{"immediate item", func(it *catalog.Item) { it.Kind, it.PromisedLimit = catalog.Immediate, catalog.TimeLimit{} }},
		{"charged and complete", func(it *catalog.Item) {
			it.Fee = catalog.Fee{Charged: true, Basis: "国家发展改革委 财政部关于…的通知", Items: "证书工本费", Standard: "10元/本", OnlinePay: "yes"}
		}},
		{"cross-province", func(it *catalog.Item) { it.Scope, it.CrossProvince = "cross_province", "全程网办" }},
		{"promised in natural days longer than legal working days", func(it *catalog.Item) {
			it.PromisedLimit = catalog.TimeLimit{Days: 25, Unit: catalog.Natural}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := birth()
			tc.change(&it)
			if err := it.Check(catalog.DefaultTypes); err != nil {
				t.Fatalf("Check = %v", err)
			}
		})
	}
}

// FuzzCheck feeds arbitrary JSON through the element rules: decoding may
// fail, but Check never panics and only ever answers nil or Invalid.
func FuzzCheck(f *testing.F) {
	b, _ := json.Marshal(birth())
	f.Add(string(b))
	f.Add(`{"name":"x","materials":[{"name":""}],"depth":{"codes":[0,99]}}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, s string) {
		var it catalog.Item
		if json.Unmarshal([]byte(s), &it) != nil {
			return
		}
		if err := it.Check(catalog.DefaultTypes); err != nil && errs.KindOf(err) != errs.Invalid {
			t.Fatalf("Check = %v, want nil or Invalid", err)
		}
	})
}
