package app_test

// Suggested for internal/app (catalog editor 办件表单 rows and the guide list);
// passed on SQLite and PostgreSQL at commit 0eaeab0. Uses birthForm, with and
// deptID from catalog_edit_test.go.

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"yiwang/internal/app/apptest"
	"yiwang/internal/platform/authz"
)

func TestCatalogEditorFormFields(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			dept := deptID(t, e, "呼和浩特市卫生健康委员会")
			c := e.LoginDemo(t, "hohhot")
			form := with(birthForm(dept, "出生医学证明签发（表单）"),
				"form[0].label", "新生儿姓名", "form[0].key", "child_name", "form[0].type", "text", "form[0].required", "yes", "form[0].max", "20",
				"form[1].label", "性别", "form[1].key", "gender", "form[1].type", "choice", "form[1].options", "男\n女", "form[1].required", "yes",
				"form[2].label", "", "form[2].key", "", "form[2].type", "text")
			for _, sc := range []apptest.Scenario{
				{Name: "editor offers a form row", As: "hohhot", Path: "/console/items/new", Status: 200, Contains: []string{"办件表单", `name="form[0].key"`, "公民身份号码"}},
				{Name: "field errors", As: "hohhot", Method: "POST", Path: "/console/items/new", Form: with(form, "form[1].options", "", "form[0].key", "Child"),
					Status: 422, Contains: []string{"单选字段须列出选项，每行一个", "字段标识只能由小写字母", `value="新生儿姓名"`}},
				{Name: "add a field row", As: "hohhot", Method: "POST", Path: "/console/items/new", Form: with(form, "add", "form"),
					Status: 200, Contains: []string{"字段 4", `name="form[3].key"`}, NotContains: []string{"字段 5"}},
			} {
				t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
			}
			res := c.Post(t, "/console/items/new", form)
			loc := res.Header.Get("Location")
			if res.Status != 303 {
				t.Fatalf("create: %d %s", res.Status, res.Body)
			}
			id := strings.TrimPrefix(loc, "/console/items/")
			admin := &authz.Principal{UserID: "t", Grants: []authz.Grant{{Role: authz.PlatformAdmin, Region: "150000"}}}
			rec, vs, err := e.App.Catalog.Versions(t.Context(), admin, id)
			if err != nil {
				t.Fatal(err)
			}
			got := vs[0].Item.Form
			if len(got) != 2 || got[0].Key != "child_name" || got[0].Max != 20 || !got[0].Required || strings.Join(got[1].Options, "|") != "男|女" {
				t.Fatalf("saved form: %+v", got)
			}
			if page := c.Get(t, loc+"/edit"); !strings.Contains(page.Body, `value="child_name"`) || !strings.Contains(page.Body, "男\n女") {
				t.Fatalf("edit page lacks the saved form")
			}
			if res := c.Post(t, loc+"/submit", url.Values{"version": {strconv.Itoa(rec.Version)}}); res.Status != 303 {
				t.Fatalf("submit: %d", res.Status)
			}
			reviewer := &authz.Principal{UserID: "other", Name: "审核人", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150100"}}}
			if err := e.App.Catalog.Review(t.Context(), reviewer, id, true, "", rec.Version+1); err != nil {
				t.Fatal(err)
			}
			guide := e.Client().Get(t, "/items/"+rec.Code)
			for _, want := range []string{"在线申请需填写", "新生儿姓名（必填）", "单选"} {
				if !strings.Contains(guide.Body, want) {
					t.Errorf("guide lacks %q", want)
				}
			}
		})
	}
}
