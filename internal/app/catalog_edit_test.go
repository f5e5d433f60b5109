package app_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"yiwang/internal/app/apptest"
	"yiwang/internal/catalog"
	"yiwang/internal/platform/authz"
)

// birthForm is a complete editor form for a new item of dept.
func birthForm(dept, name string) url.Values {
	return url.Values{
		"name": {name}, "type": {"GG"}, "basic_code": {"15GG00777000"}, "level": {"3"}, "dept_id": {dept},
		"audiences": {"person"}, "conditions": {"新生儿在本市医疗机构出生"}, "kind": {"promised"},
		"legal_limit.days": {"20"}, "legal_limit.unit": {"workday"}, "promised_limit.days": {"5"}, "promised_limit.unit": {"workday"},
		"materials[0].name": {"父母双方居民身份证"}, "materials[0].type": {"1"}, "materials[0].source": {"20"}, "materials[0].necessity": {"1"},
		"materials[0].form": {"3"}, "materials[0].originals": {"1"}, "materials[0].copies": {"0"},
		// A blank row, as the editor always offers one: dropped.
		"materials[1].name": {""}, "materials[1].type": {"1"}, "materials[1].source": {"10"},
		"steps[0].name": {"受理"}, "steps[1].name": {"审查"}, "results[0].type": {"证照"}, "results[0].name": {"出生医学证明"},
		"depth.codes": {"1", "2", "3", "4", "5", "6"}, "depth.level": {"4"}, "visits": {"0"},
		"channels": {"online", "window"}, "scope": {"province"}, "min_assurance": {"2"}, "themes": {"出生\n生育"}, "aliases": {"出生证、办出生证"},
	}
}

func with(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// TestCatalogEditor drives the console's item editor: create, field errors,
// add a row, edit a draft in place, edit a published item into a new
// version while citizens keep seeing the published one, and refusals.
func TestCatalogEditor(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			dept := deptID(t, e, "呼和浩特市卫生健康委员会")
			c := e.LoginDemo(t, "hohhot")
			res := c.Get(t, "/console/items/new")
			if res.Status != 200 || !strings.Contains(res.Body, "呼和浩特市卫生健康委员会") || strings.Contains(res.Body, "自治区公安厅") {
				t.Fatalf("new item form: %d, want the editor's departments only", res.Status)
			}
			form := birthForm(dept, "出生医学证明签发（编辑器）")
			for _, sc := range []apptest.Scenario{
				{Name: "missing elements", As: "hohhot", Method: "POST", Path: "/console/items/new", Form: with(form, "type", "", "channels", "", "depth.level", ""),
					Status: 422, Contains: []string{"请选择事项类型", "请选择网上办理深度等级", "出生医学证明签发（编辑器）", "父母双方居民身份证"}},
				{Name: "inconsistent elements", As: "hohhot", Method: "POST", Path: "/console/items/new", Form: with(form, "visits", "1", "promised_limit.days", "30"),
					Status: 422, Contains: []string{"全程网办（Ⅳ级）事项的到现场次数必须为0", "承诺办结时限不能长于法定办结时限"}},
				{Name: "assurance out of range", As: "hohhot", Method: "POST", Path: "/console/items/new", Form: with(form, "min_assurance", "7"),
					Status: 422, Contains: []string{"实名等级要求应为不限或一至四级"}},
				{Name: "not a number", As: "hohhot", Method: "POST", Path: "/console/items/new", Form: with(form, "visits", "两次", "materials[0].copies", "x"),
					Status: 422, Contains: []string{"到办事现场次数应为整数", "复印件份数应为整数"}},
				{Name: "add a material row", As: "hohhot", Method: "POST", Path: "/console/items/new", Form: with(form, "add", "materials"),
					Status: 200, Contains: []string{"材料 3", `name="materials[2].name"`}, NotContains: []string{"材料 4"}},
				{Name: "a department out of scope", As: "deptadmin", Method: "POST", Path: "/console/items/new", Form: form,
					Status: 422, Contains: []string{"实施主体不存在"}},
				{Name: "no permission", As: "clerk", Path: "/console/items/new", Status: 403},
			} {
				t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
			}
			if n := countItems(t, e, "出生医学证明签发（编辑器）"); n != 0 {
				t.Fatalf("refused forms saved %d items", n)
			}

			res = c.Post(t, "/console/items/new", form)
			loc := res.Header.Get("Location")
			if res.Status != 303 || !strings.HasPrefix(loc, "/console/items/") {
				t.Fatalf("create: %d %s %s", res.Status, loc, res.Body)
			}
			id := strings.TrimPrefix(loc, "/console/items/")
			rec, vs, err := e.App.Catalog.Versions(t.Context(), &authz.Principal{UserID: "t", Grants: []authz.Grant{{Role: authz.PlatformAdmin, Region: "150000"}}}, id)
			if err != nil {
				t.Fatal(err)
			}
			got := vs[0].Item
			if rec.Status != catalog.StatusDraft || len(got.Materials) != 1 || len(got.Steps) != 2 || got.Region != "150100" ||
				strings.Join(got.Aliases, "|") != "出生证|办出生证" || strings.Join(got.Themes, "|") != "出生|生育" || got.Depth.Level != 4 {
				t.Fatalf("saved item: %+v %+v", rec, got)
			}
			if page := c.Get(t, loc); !strings.Contains(page.Body, "草稿已保存") || !strings.Contains(page.Body, "编辑草稿") {
				t.Errorf("item page after create lacks the flash or the edit link: %s", page.Body)
			}

			// Editing the draft changes it in place.
			edit := with(form, "name", "出生医学证明签发", "version", strconv.Itoa(rec.Version))
			if res := c.Post(t, loc+"/edit", edit); res.Status != 303 {
				t.Fatalf("edit draft: %d %s", res.Status, res.Body)
			}
			if res := c.Post(t, loc+"/edit", edit); res.Status != 409 || !strings.Contains(res.Body, "已被他人修改") {
				t.Fatalf("stale edit: %d, want 409", res.Status)
			}
			rec, vs, _ = e.App.Catalog.Versions(t.Context(), &authz.Principal{UserID: "t", Grants: []authz.Grant{{Role: authz.PlatformAdmin, Region: "150000"}}}, id)
			if len(vs) != 1 || vs[0].Item.Name != "出生医学证明签发" {
				t.Fatalf("draft edit made %d versions, name %q", len(vs), vs[0].Item.Name)
			}

			// Submitted: frozen. Published: an edit is a new draft version.
			if res := c.Post(t, loc+"/submit", url.Values{"version": {strconv.Itoa(rec.Version)}}); res.Status != 303 {
				t.Fatalf("submit: %d %s", res.Status, res.Body)
			}
			if res := c.Get(t, loc+"/edit"); res.Status != 409 || !strings.Contains(res.Body, "正在审核") {
				t.Fatalf("edit while in review: %d", res.Status)
			}
			reviewer := &authz.Principal{UserID: "other", Name: "审核人", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150100"}}}
			if err := e.App.Catalog.Review(t.Context(), reviewer, id, true, "", rec.Version+1); err != nil {
				t.Fatal(err)
			}
			res = c.Get(t, loc+"/edit")
			if res.Status != 200 || !strings.Contains(res.Body, `value="出生医学证明签发"`) {
				t.Fatalf("edit published: %d", res.Status)
			}
			rec, _, _ = e.App.Catalog.Versions(t.Context(), reviewer, id)
			if res := c.Post(t, loc+"/edit", with(form, "name", "出生医学证明签发（新版）", "version", strconv.Itoa(rec.Version))); res.Status != 303 {
				t.Fatalf("edit published: %d %s", res.Status, res.Body)
			}
			_, vs, _ = e.App.Catalog.Versions(t.Context(), reviewer, id)
			if len(vs) != 2 || vs[0].Status != catalog.VersionDraft || vs[1].Status != catalog.VersionPublished {
				t.Fatalf("versions after editing the published item: %+v", vs)
			}
			guide := e.Client().Get(t, "/items/"+rec.Code)
			if guide.Status != 200 || !strings.Contains(guide.Body, "出生医学证明签发") || strings.Contains(guide.Body, "（新版）") || !strings.Contains(guide.Body, "二级及以上") {
				t.Fatalf("citizens must see the published version until the new one is approved: %d", guide.Status)
			}
			// Basic code, level and department make the code: fixed once made.
			if res := c.Post(t, loc+"/edit", with(form, "basic_code", "15GG00778000", "version", strconv.Itoa(rec.Version+1))); res.Status != 422 || !strings.Contains(res.Body, "不能更改实施编码") {
				t.Fatalf("changing the code: %d", res.Status)
			}
		})
	}
}

func countItems(t *testing.T, e *apptest.Env, name string) int {
	t.Helper()
	var n int
	if err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM catalog_items WHERE name = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
