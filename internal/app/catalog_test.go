package app_test

import (
	"encoding/json"
	"strings"
	"testing"

	"yiwang/internal/app/apptest"
	"yiwang/internal/catalog"
	"yiwang/internal/platform/authz"
)

// TestCatalogGuideAndAPI publishes an item through the service and reads it
// as a citizen (guide page, JSON API) and as staff (console list, versions).
func TestCatalogGuideAndAPI(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			dept := deptID(t, e, "呼和浩特市卫生健康委员会")
			editor := &authz.Principal{UserID: "editor", Name: "编辑", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150100"}}}
			reviewer := &authz.Principal{UserID: "reviewer", Name: "审核", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150100"}}}
			it := catalog.Item{
				BasicCode: catalog.BasicCode("150000", "GG", 1, 0), Name: "出生医学证明首次签发", Type: "GG", Level: 3, Region: "150100", DeptID: dept,
				Audiences:     []catalog.Audience{catalog.Person},
				LegalLimit:    catalog.TimeLimit{Days: 20, Unit: catalog.Workday},
				PromisedLimit: catalog.TimeLimit{Days: 5, Unit: catalog.Workday}, Kind: catalog.Promised,
				Materials: []catalog.Material{{Name: "父母双方居民身份证", Type: 1, Source: 20, Necessity: 1, Form: 3, Originals: 1}},
				Depth:     catalog.Depth{Codes: []int{1, 2, 3, 4, 5, 6}, Level: 4}, Channels: []catalog.Channel{catalog.Online, catalog.Window},
				Scope: "province",
			}
			r, err := e.App.Catalog.Create(ctx, editor, it)
			if err != nil {
				t.Fatal(err)
			}
			anon := e.Client()
			if res := anon.Get(t, "/items/"+r.Code); res.Status != 404 {
				t.Fatalf("draft guide page: %d, want 404", res.Status)
			}
			if err := e.App.Catalog.Submit(ctx, editor, r.ID, r.Version); err != nil {
				t.Fatal(err)
			}
			if err := e.App.Catalog.Review(ctx, reviewer, r.ID, true, "", r.Version+1); err != nil {
				t.Fatal(err)
			}
			for _, sc := range []apptest.Scenario{
				{Name: "guide", Path: "/items/" + r.Code, Status: 200, Contains: []string{"出生医学证明首次签发", "父母双方居民身份证", "5个工作日", "data:image/png;base64,", "呼和浩特市卫生健康委员会"}},
				{Name: "unknown item page", Path: "/items/nope", Status: 404, Contains: []string{"事项不存在"}},
				{Name: "unknown item API", Path: "/api/v1/items/nope", Status: 404, Contains: []string{`"code":"not_found"`}},
				{Name: "console list", As: "hohhot", Path: "/console/items", Status: 200, Contains: []string{"出生医学证明首次签发"}},
				{Name: "console list out of scope", As: "deptadmin", Path: "/console/items", Status: 200, NotContains: []string{"出生医学证明首次签发"}},
				{Name: "console item", As: "hohhot", Path: "/console/items/" + r.ID, Status: 200, Contains: []string{"版本历史", "v1", "已发布"}},
				{Name: "console item hidden", As: "deptadmin", Path: "/console/items/" + r.ID, Status: 404},
			} {
				t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
			}
			res := anon.Get(t, "/api/v1/items/"+r.Code)
			var body map[string]any
			if err := json.Unmarshal([]byte(res.Body), &body); err != nil || res.Status != 200 {
				t.Fatalf("API item: %d %v %s", res.Status, err, res.Body)
			}
			for _, k := range []string{"code", "name", "department", "region", "type", "materials", "legal_limit", "promised_limit", "depth", "channels", "status", "version"} {
				if _, ok := body[k]; !ok {
					t.Errorf("API item lacks %q: %s", k, res.Body)
				}
			}
			if body["code"] != r.Code || body["status"] != "published" || !strings.Contains(res.Body, "父母双方居民身份证") {
				t.Errorf("API item body: %s", res.Body)
			}
		})
	}
}

// TestSearchJourney is the first step of the citizen journey: a parent in
// 呼和浩特 searches 出生 and finds the birth items of the demo catalogue.
func TestSearchJourney(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			for _, sc := range []apptest.Scenario{
				{Name: "search page", Path: "/search?q=" + "出生" + "&region=150100", Status: 200, Contains: []string{"<mark>出生</mark>医学证明首次签发", "新生儿"}},
				{Name: "two-character alias", Path: "/search?q=社保", Status: 200, Contains: []string{"社会保障卡"}},
				{Name: "punctuation only", Path: "/search?q=%EF%BC%81%EF%BC%81", Status: 422, Contains: []string{"请输入要搜索的内容"}},
				{Name: "too long", Path: "/search?q=" + strings.Repeat("社", 500), Status: 422, Contains: []string{"搜索词过长"}},
				{Name: "api too long", Path: "/api/v1/items?q=" + strings.Repeat("社", 200), Status: 422, Contains: []string{`"code":"invalid"`}},
				{Name: "full online only", Path: "/search?q=%E5%87%BA%E7%94%9F&depth=4", Status: 200, Contains: []string{"医学证明首次签发"}},
				{Name: "bad depth", Path: "/search?q=x&depth=9", Status: 422, Contains: []string{"网上办理深度"}},
				{Name: "api bad depth", Path: "/api/v1/items?q=x&depth=9", Status: 422, Contains: []string{`"code":"invalid"`}},
				{Name: "api cross-province filter", Path: "/api/v1/items?q=%E5%87%BA%E7%94%9F&cross_province=true", Status: 200, Contains: []string{`"total"`}},
				{Name: "region picker: a city lists its counties", Path: "/search?q=%E5%87%BA%E7%94%9F&city=150100", Status: 200,
					Contains: []string{`<option value="150100" selected>呼和浩特市</option>`, `<option value="150102">新城区</option>`, "医学证明首次签发"}},
				{Name: "region picker: a county", Path: "/search?q=%E5%87%BA%E7%94%9F&city=150100&county=150105", Status: 200,
					Contains: []string{`<option value="150105" selected>赛罕区</option>`}},
				{Name: "region picker: a link's region", Path: "/search?q=%E5%87%BA%E7%94%9F&region=150203", Status: 200,
					Contains: []string{`<option value="150200" selected>包头市</option>`, `<option value="150203" selected>昆都仑区</option>`}},
				{Name: "counties of a city", Path: "/search/counties?city=150200", Status: 200, Contains: []string{"全部旗县区", "昆都仑区"}, NotContains: []string{"<html"}},
				{Name: "counties of another province", Path: "/search/counties?city=110100", Status: 404},
				{Name: "theme pages", Path: "/themes", Status: 200, Contains: []string{"人生事件", "企业全生命周期", "/search?audience=person&amp;theme=%E5%87%BA%E7%94%9F", "企业开办"}},
				{Name: "api injection is inert", Path: "/api/v1/items?q=%E5%87%BA%E7%94%9F%20OR%20*", Status: 200, Contains: []string{`"total"`}},
			} {
				t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
			}
			res := e.Client().Get(t, "/api/v1/items?q=%E5%87%BA%E7%94%9F&region=150100")
			var body struct {
				Total int `json:"total"`
				Items []struct {
					Code, Name, Department, Region, Type string
				} `json:"items"`
				Facets map[string][]struct {
					Value string
					Count int
				} `json:"facets"`
			}
			if err := json.Unmarshal([]byte(res.Body), &body); err != nil || res.Status != 200 {
				t.Fatalf("API search: %d %v %s", res.Status, err, res.Body)
			}
			if body.Total < 3 || len(body.Items) == 0 || len(body.Facets["type"]) == 0 {
				t.Fatalf("API search 出生 in 150100: %+v", body)
			}
			for _, it := range body.Items {
				if !strings.HasPrefix(it.Region, "1501") || it.Code == "" || it.Department == "" || it.Type == "" {
					t.Errorf("hit %+v: want a Hohhot item with code, department and type", it)
				}
			}
			if res := e.Client().Get(t, "/items/"+body.Items[0].Code); res.Status != 200 {
				t.Errorf("guide of the first hit: %d", res.Status)
			}
		})
	}
}
