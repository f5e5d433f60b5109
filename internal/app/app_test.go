package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yiwang/internal/app/apptest"
	"yiwang/internal/config"
	"yiwang/internal/org"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/sqldb/sqldbtest"
	"yiwang/internal/platform/totp"
)

// deptID returns the id of the department named name.
func deptID(t *testing.T, e *apptest.Env, name string) string {
	t.Helper()
	var id string
	if err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT id FROM departments WHERE name = $1`, name).Scan(&id); err != nil {
		t.Fatalf("department %s: %v", name, err)
	}
	return id
}

func TestRegionAPIContract(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			c := e.Client()
			res := c.Get(t, "/api/v1/regions/150000")
			if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("GET region: %d %s %s", res.Status, res.Header.Get("Content-Type"), res.Body)
			}
			var one map[string]any
			if err := json.Unmarshal([]byte(res.Body), &one); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"code": "150000", "name": "内蒙古自治区", "level": "province", "parent": nil}
			if diff := cmp.Diff(want, one); diff != "" {
				t.Errorf("region 150000 (-want +got):\n%s", diff)
			}
			res = c.Get(t, "/api/v1/regions/150000/children")
			var kids []map[string]any
			if err := json.Unmarshal([]byte(res.Body), &kids); err != nil || res.Status != 200 {
				t.Fatalf("children: %d %v %s", res.Status, err, res.Body)
			}
			var codes []string
			for _, k := range kids {
				if len(k) != 4 || k["parent"] != "150000" || k["level"] != "city" {
					t.Errorf("child object %v: want exactly code, name, level=city, parent=150000", k)
				}
				codes = append(codes, k["code"].(string))
			}
			wantCodes := []string{"150100", "150200", "150300", "150400", "150500", "150600", "150700", "150800", "150900", "152200", "152500", "152900"}
			if diff := cmp.Diff(wantCodes, codes); diff != "" {
				t.Errorf("children of 150000 (-want +got):\n%s", diff)
			}
			res = c.Get(t, "/api/v1/regions/150102")
			if !strings.Contains(res.Body, `"parent":"150100"`) || !strings.Contains(res.Body, `"level":"county"`) {
				t.Errorf("county 150102: %s", res.Body)
			}
			for _, path := range []string{"/api/v1/regions/999999", "/api/v1/regions/abc", "/api/v1/regions/999999/children", "/api/v1/nothing"} {
				res = c.Get(t, path)
				if res.Status != 404 || res.Header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("GET %s: %d %q, want 404 problem JSON", path, res.Status, res.Header.Get("Content-Type"))
				}
				var p map[string]any
				if err := json.Unmarshal([]byte(res.Body), &p); err != nil || p["status"] != float64(404) || p["code"] != "not_found" || p["detail"] == "" {
					t.Errorf("GET %s problem body: %s", path, res.Body)
				}
			}
		})
	}
}

func TestPlatformRoutes(t *testing.T) {
	e := apptest.Demo(t, sqldbtest.SQLite(t))
	for _, sc := range []apptest.Scenario{
		{Name: "healthz", Path: "/healthz", Status: 200, Contains: []string{"ok"}},
		{Name: "readyz", Path: "/readyz", Status: 200, Contains: []string{`"status":"ready"`}},
		{Name: "openapi", Path: "/api/openapi.json", Status: 200, Contains: []string{`"openapi":"3.1.0"`, `/api/v1/regions/{code}`, `/api/v1/regions/{code}/children`}},
		{Name: "api docs", Path: "/api/docs", Status: 200, Contains: []string{"开放接口", "/api/v1/regions/{code}/children"}},
		{Name: "portal home", Path: "/", Status: 200, Contains: []string{"内蒙古自治区", "呼和浩特市", "阿拉善盟", "/static/vendor/htmx.min.js"}},
		{Name: "region page", Path: "/regions/150100", Status: 200, Contains: []string{"呼和浩特市", "新城区", "呼和浩特市公安局"}},
		{Name: "unknown region page", Path: "/regions/159999", Status: 404, Contains: []string{"行政区划不存在"}},
		{Name: "unknown page", Path: "/no/such/page", Status: 404, Contains: []string{"页面不存在", `lang="zh-CN"`}},
		{Name: "stylesheet", Path: "/static/app.css", Status: 200},
		{Name: "htmx", Path: "/static/vendor/htmx.min.js", Status: 200, Contains: []string{"htmx"}},
		{Name: "no directory listing", Path: "/static/vendor/", Status: 404},
		{Name: "console needs login", Path: "/console", Status: 303},
		{Name: "cross-site post refused", Method: "POST", Path: "/console/login", Form: url.Values{"username": {"region"}}, Header: http.Header{"Sec-Fetch-Site": {"cross-site"}}, Status: 403, Contains: []string{"跨站请求"}},
		{Name: "same-origin post passes", Method: "POST", Path: "/console/login", Form: url.Values{"username": {"region"}, "password": {"wrong"}}, Header: http.Header{"Sec-Fetch-Site": {"same-origin"}}, Status: 401, Contains: []string{"用户名或密码错误"}},
		{Name: "unknown user same message", Method: "POST", Path: "/console/login", Form: url.Values{"username": {"nobody"}, "password": {"wrong"}}, Status: 401, Contains: []string{"用户名或密码错误"}},
		{Name: "metrics", Path: "/metrics", Status: 200, Contains: []string{"yiwang_http_requests_total", "go_goroutines"}},
		{Name: "oversized form", Method: "POST", Path: "/console/login", Form: url.Values{"username": {"region"}, "password": {strings.Repeat("长", 3<<20)}}, Status: 413, Contains: []string{"提交的内容过大"}},
	} {
		t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
	}
	res := e.Client().Do(t, "GET", "/", nil, http.Header{"X-Request-ID": {"test-request-0001"}})
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	// The request id is always ours, never the client's; the page shows it.
	if id := res.Header.Get("X-Request-ID"); len(id) < 8 || id == "test-request-0001" || !strings.Contains(res.Body, "请求编号 "+id) {
		t.Errorf("X-Request-ID = %q, want our own id, shown on the page", id)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	if res := e.Client().Get(t, "/console/departments"); res.Status != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/console/login?next=") {
		t.Errorf("anonymous console page: %d → %q, want redirect to login", res.Status, res.Header.Get("Location"))
	}
}

// TestCookieSecurity checks cookie_secure and HSTS against base_url: the
// staff session cookie is Secure when cookie_secure says so (auto: when
// base_url is https), and an https base_url sends HSTS even though TLS ends
// before Yiwang (the test server speaks plain HTTP).
func TestCookieSecurity(t *testing.T) {
	eng := sqldbtest.SQLite(t)
	password := apptest.Demo(t, eng).Logins["region"] // seeds the database every case shares
	tests := []struct {
		name, baseURL, cookieSecure string
		wantSecure, wantHSTS        bool
	}{
		{name: "defaults", cookieSecure: "auto"},
		{name: "https base URL", baseURL: "https://zwfw.example.gov.cn", cookieSecure: "auto", wantSecure: true, wantHSTS: true},
		{name: "forced on", baseURL: "http://10.0.0.8:8080", cookieSecure: "true", wantSecure: true},
		{name: "forced off", baseURL: "https://zwfw.example.gov.cn", cookieSecure: "false", wantHSTS: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := apptest.New(t, eng, func(c *config.Config) { c.BaseURL, c.CookieSecure = tc.baseURL, tc.cookieSecure })
			res := e.Client().Post(t, "/console/login", url.Values{"username": {"region"}, "password": {password}})
			var session *http.Cookie
			for _, c := range (&http.Response{Header: res.Header}).Cookies() {
				if c.Name == "yw_staff" {
					session = c
				}
			}
			if res.Status != http.StatusSeeOther || session == nil {
				t.Fatalf("login: %d, cookies %q", res.Status, res.Header.Values("Set-Cookie"))
			}
			if session.Secure != tc.wantSecure {
				t.Errorf("session cookie Secure = %v, want %v (%q)", session.Secure, tc.wantSecure, res.Header.Values("Set-Cookie"))
			}
			if got := res.Header.Get("Strict-Transport-Security") != ""; got != tc.wantHSTS {
				t.Errorf("HSTS sent = %v, want %v", got, tc.wantHSTS)
			}
		})
	}
}

// TestMetricsToken checks that /metrics wants the configured bearer token
// exactly (the comparison itself is constant-time).
func TestMetricsToken(t *testing.T) {
	e := apptest.New(t, sqldbtest.SQLite(t), func(c *config.Config) { c.MetricsToken = "s3cret-metrics-token" })
	for _, tc := range []struct {
		name, auth string
		status     int
	}{
		{name: "no header", status: 401},
		{name: "wrong token", auth: "Bearer wrong", status: 401},
		{name: "token prefix", auth: "Bearer s3cret", status: 401},
		{name: "token with more", auth: "Bearer s3cret-metrics-token2", status: 401},
		{name: "bare token", auth: "s3cret-metrics-token", status: 401},
		{name: "right token", auth: "Bearer s3cret-metrics-token", status: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.auth != "" {
				h.Set("Authorization", tc.auth)
			}
			if res := e.Client().Do(t, "GET", "/metrics", nil, h); res.Status != tc.status {
				t.Errorf("GET /metrics with %q = %d, want %d", tc.auth, res.Status, tc.status)
			}
		})
	}
}

// TestMetricsNameRoutes checks that HTTP metrics carry the matched route
// pattern, not "unmatched", through the whole middleware stack.
func TestMetricsNameRoutes(t *testing.T) {
	e := apptest.Demo(t, sqldbtest.SQLite(t))
	c := e.Client()
	for _, path := range []string{"/api/v1/regions/150100", "/regions/150100", "/no/such/page"} {
		c.Get(t, path)
	}
	res := c.Get(t, "/metrics")
	for _, want := range []string{
		`route="GET /api/v1/regions/{code}"`,
		`route="GET /regions/{code}"`,
		`route="/"`, // the catch-all not-found route
	} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(res.Body, `route="unmatched"`) {
		t.Errorf("/metrics counts requests as unmatched")
	}
}

// TestConsoleScopeMatrix signs in as each demo role and checks what each may
// see and do across regions and departments, through the real router.
func TestConsoleScopeMatrix(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			baotouPolice := deptID(t, e, "包头市公安局")
			hohhotPolice := deptID(t, e, "呼和浩特市公安局")
			marketSub := deptID(t, e, "自治区市场监督管理局登记注册局")
			police := deptID(t, e, "自治区公安厅")
			for _, sc := range []apptest.Scenario{
				{Name: "region admin sees tree", As: "region", Path: "/console", Status: 200, Contains: []string{"region-tree", "呼和浩特市", "阿拉善盟"}},
				{Name: "hohhot admin tree is hohhot", As: "hohhot", Path: "/console", Status: 200, Contains: []string{"呼和浩特市", "新城区"}, NotContains: []string{"阿拉善盟"}},
				{Name: "hohhot lists own", As: "hohhot", Path: "/console/departments?q=公安", Status: 200, Contains: []string{"呼和浩特市公安局"}, NotContains: []string{"包头市公安局", "自治区公安厅"}},
				{Name: "hohhot cannot read baotou", As: "hohhot", Path: "/console/departments/" + baotouPolice, Status: 404},
				{Name: "hohhot reads own", As: "hohhot", Path: "/console/departments/" + hohhotPolice, Status: 200, Contains: []string{"呼和浩特市公安局"}},
				{Name: "hohhot cannot edit baotou", As: "hohhot", Method: "POST", Path: "/console/departments/" + baotouPolice, Form: url.Values{"name": {"包头市公安局X"}, "region": {"150200"}, "version": {"1"}}, Status: 404},
				{Name: "hohhot cannot create in baotou", As: "hohhot", Method: "POST", Path: "/console/departments", Form: url.Values{"name": {"包头市新设局"}, "region": {"150200"}}, Status: 403},
				{Name: "hohhot creates in hohhot", As: "hohhot", Method: "POST", Path: "/console/departments", Form: url.Values{"name": {"呼和浩特市新设局"}, "region": {"150100"}}, Status: 303},
				{Name: "bad credit code re-renders form", As: "hohhot", Method: "POST", Path: "/console/departments", Form: url.Values{"name": {"呼和浩特市数据局"}, "region": {"150100"}, "uscc": {"91350100M000100Y44"}}, Status: 422, Contains: []string{"校验位", "field-error"}},
				{Name: "hohhot staff list scoped", As: "hohhot", Path: "/console/staff", Status: 200, Contains: []string{"hohhot"}, NotContains: []string{">region<", ">admin<"}},
				{Name: "dept admin sees own subtree", As: "deptadmin", Path: "/console/departments", Status: 200, Contains: []string{"自治区市场监督管理局", "登记注册局"}, NotContains: []string{"自治区公安厅", "呼和浩特市"}},
				{Name: "dept admin cannot read police", As: "deptadmin", Path: "/console/departments/" + police, Status: 404},
				{Name: "dept admin reads sub-department", As: "deptadmin", Path: "/console/departments/" + marketSub, Status: 200},
				{Name: "dept admin cannot create top level", As: "deptadmin", Method: "POST", Path: "/console/departments", Form: url.Values{"name": {"自治区新设厅"}, "region": {"150000"}}, Status: 403},
				{Name: "dept admin sees no halls", As: "deptadmin", Path: "/console/halls", Status: 200, NotContains: []string{"政务服务中心"}},
				{Name: "clerk cannot audit", As: "clerk", Path: "/console/audit", Status: 403},
				{Name: "clerk cannot create staff", As: "clerk", Method: "POST", Path: "/console/staff", Form: url.Values{"username": {"x1"}, "display_name": {"某某"}, "region": {"150000"}, "password": {"Abcdefgh-123"}}, Status: 403},
				{Name: "supervisor reads audit", As: "supervisor", Path: "/console/audit", Status: 200, Contains: []string{"审计日志"}},
				{Name: "region admin no system page", As: "region", Path: "/console/system", Status: 403},
				{Name: "reviewer sees own dept only", As: "reviewer", Path: "/console/departments", Status: 200, Contains: []string{"自治区公安厅"}, NotContains: []string{"市场监督管理局"}},
			} {
				t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
			}
		})
	}
}

func TestPlatformAdminMustEnrollTOTP(t *testing.T) {
	e := apptest.Demo(t, sqldbtest.SQLite(t))
	c := e.Client()
	res := c.Post(t, "/console/login", url.Values{"username": {"admin"}, "password": {e.Logins["admin"]}})
	if res.Status != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/console/login/enroll") {
		t.Fatalf("platform admin login → %d %q, want enrolment", res.Status, res.Header.Get("Location"))
	}
	if res := c.Get(t, "/console/departments"); res.Status != 303 {
		t.Fatalf("console before second factor: %d, want redirect to login", res.Status)
	}
	res = c.Get(t, "/console/login/enroll")
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(res.Body)
	if res.Status != 200 || m == nil || !strings.Contains(res.Body, "data:image/png;base64,") {
		t.Fatalf("enrol page: %d, secret found %v", res.Status, m != nil)
	}
	if res := c.Post(t, "/console/login/enroll", url.Values{"code": {"000000"}}); res.Status != 422 {
		t.Fatalf("wrong enrolment code: %d, want 422", res.Status)
	}
	code, err := totp.Code(m[1], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res := c.Post(t, "/console/login/enroll", url.Values{"code": {code}}); res.Status != 303 {
		t.Fatalf("enrolment: %d %s", res.Status, res.Body)
	}
	if res := c.Get(t, "/console/system"); res.Status != 200 || !strings.Contains(res.Body, "迁移版本") {
		t.Fatalf("system page after enrolment: %d", res.Status)
	}
	// Logging out ends the session for good.
	if res := c.Post(t, "/console/logout", url.Values{}); res.Status != 303 {
		t.Fatalf("logout: %d", res.Status)
	}
	if res := c.Get(t, "/console/system"); res.Status != 303 {
		t.Fatalf("after logout: %d, want redirect to login", res.Status)
	}
	// Next sign-in asks for the code, not for enrolment.
	c = e.Client()
	res = c.Post(t, "/console/login", url.Values{"username": {"admin"}, "password": {e.Logins["admin"]}})
	if !strings.HasPrefix(res.Header.Get("Location"), "/console/login/totp") {
		t.Fatalf("second login → %q, want TOTP form", res.Header.Get("Location"))
	}
	if res := c.Post(t, "/console/login/totp", url.Values{"code": {code}}); res.Status != 422 || !strings.Contains(res.Body, "已使用") {
		t.Fatalf("replayed code: %d, want 422 mentioning reuse", res.Status)
	}
}

func TestAuditRecordsConsoleChanges(t *testing.T) {
	e := apptest.Demo(t, sqldbtest.SQLite(t))
	c := e.LoginDemo(t, "hohhot")
	res := c.Post(t, "/console/departments", url.Values{"name": {"呼和浩特市审计测试局"}, "region": {"150100"}})
	if res.Status != 303 {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	var actor, action, ip string
	err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT actor_name, action, ip FROM audit_log WHERE target_type = 'department' ORDER BY seq DESC LIMIT 1`).Scan(&actor, &action, &ip)
	if err != nil || actor != "呼和浩特市管理员" || action != "org.department.create" || ip == "" {
		t.Fatalf("last audit entry = %q %q %q, %v", actor, action, ip, err)
	}
	sup := e.LoginDemo(t, "region")
	if res := sup.Get(t, "/console/audit?action=org.department.create"); !strings.Contains(res.Body, "呼和浩特市管理员") {
		t.Fatalf("audit page lacks the entry: %.500s", res.Body)
	}
}

// TestPublicDepartmentPaging checks that the public department lists page
// through every department of a region: the API with page and per_page
// (at most 200), the portal region page with its pager.
func TestPublicDepartmentPaging(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			// 17 demo departments in Hohhot, plus 40: two portal pages of 50.
			admin := &authz.Principal{UserID: "test", Name: "测试", Grants: []authz.Grant{{Role: authz.PlatformAdmin, Region: "150000"}}}
			for i := range 40 {
				if _, err := e.App.Org.CreateDepartment(t.Context(), admin, org.DeptInput{Name: fmt.Sprintf("呼和浩特市第%02d测试局", i), Region: "150100"}); err != nil {
					t.Fatal(err)
				}
			}
			c := e.Client()
			type page struct {
				Total, Page int
				PerPage     int `json:"per_page"`
				Items       []struct{ ID, Name, Region string }
			}
			get := func(path string) page {
				t.Helper()
				res := c.Get(t, path)
				var p page
				if err := json.Unmarshal([]byte(res.Body), &p); err != nil || res.Status != 200 {
					t.Fatalf("GET %s: %d %v %.300s", path, res.Status, err, res.Body)
				}
				return p
			}
			first := get("/api/v1/regions/150100/departments")
			if first.Total != 57 || first.Page != 1 || first.PerPage != 100 || len(first.Items) != 57 {
				t.Fatalf("default page: total %d, page %d, per_page %d, %d items; want 57, 1, 100, 57", first.Total, first.Page, first.PerPage, len(first.Items))
			}
			seen := map[string]bool{}
			for n := 1; ; n++ {
				p := get(fmt.Sprintf("/api/v1/regions/150100/departments?per_page=10&page=%d", n))
				if p.Total != 57 || p.Page != n || len(p.Items) > 10 {
					t.Fatalf("page %d: total %d, page %d, %d items", n, p.Total, p.Page, len(p.Items))
				}
				if len(p.Items) == 0 {
					break
				}
				for _, it := range p.Items {
					if seen[it.ID] || it.Region != "150100" {
						t.Errorf("page %d: %s %s repeated or outside 150100", n, it.Name, it.Region)
					}
					seen[it.ID] = true
				}
			}
			if len(seen) != 57 {
				t.Errorf("paged through %d departments, want 57", len(seen))
			}
			for _, q := range []string{"per_page=201", "per_page=0", "page=0", "page=10001", "page=x"} {
				if res := c.Get(t, "/api/v1/regions/150100/departments?"+q); res.Status != 422 || !strings.Contains(res.Body, `"code":"invalid"`) {
					t.Errorf("GET departments?%s = %d %.200s, want 422 problem", q, res.Status, res.Body)
				}
			}
			for _, sc := range []apptest.Scenario{
				{Name: "portal first page", Path: "/regions/150100", Status: 200, Contains: []string{"第 1 / 2 页，共 57 条", "page=2", "呼和浩特市公安局"}},
				{Name: "portal second page", Path: "/regions/150100?page=2", Status: 200, Contains: []string{"第 2 / 2 页，共 57 条", "page=1"}, NotContains: []string{"呼和浩特市公安局"}},
				{Name: "portal page out of range", Path: "/regions/150100?page=-4", Status: 200, Contains: []string{"第 1 / 2 页"}},
				{Name: "portal one page", Path: "/regions/150000", Status: 200, Contains: []string{"共 27 条"}, NotContains: []string{"下一页"}},
			} {
				t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
			}
		})
	}
}

// TestPortalUsesConfiguredSite checks that the portal shell follows the
// configuration: the 地区 link goes to the configured province and the home
// page is titled with the site name, with nothing left of the defaults.
func TestPortalUsesConfiguredSite(t *testing.T) {
	e := apptest.New(t, sqldbtest.SQLite(t), func(c *config.Config) {
		c.Province, c.SiteName, c.Operator = "110000", "首都之窗政务服务", "北京市政务服务和数据管理局"
	})
	for _, sc := range []apptest.Scenario{
		{Name: "home", Path: "/", Status: 200,
			Contains:    []string{"<title>首都之窗政务服务</title>", "<h1>首都之窗政务服务</h1>", `<a href="/regions/110000">地区</a>`, "北京市政务服务和数据管理局 主办"},
			NotContains: []string{"/regions/150000", "内蒙古", "自治区"}},
		{Name: "region page", Path: "/regions/110000", Status: 200,
			Contains: []string{"<title>北京市 - 首都之窗政务服务</title>", `<a href="/regions/110000">地区</a>`}, NotContains: []string{"/regions/150000"}},
		{Name: "error page", Path: "/no/such/page", Status: 404, Contains: []string{`<a href="/regions/110000">地区</a>`}},
	} {
		t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
	}
}

// TestEmpty checks what counts as a fresh install: no departments and no
// staff; either one makes the database non-empty.
func TestEmpty(t *testing.T) {
	admin := &authz.Principal{UserID: "test", Name: "测试", Grants: []authz.Grant{{Role: authz.PlatformAdmin, Region: "150000"}}}
	tests := []struct {
		name      string
		fill      func(t *testing.T, e *apptest.Env)
		wantEmpty bool
	}{
		{name: "fresh", fill: func(*testing.T, *apptest.Env) {}, wantEmpty: true},
		{name: "a department", fill: func(t *testing.T, e *apptest.Env) {
			if _, err := e.App.Org.CreateDepartment(t.Context(), admin, org.DeptInput{Name: "自治区数据局", Region: "150000"}); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "demo", fill: func(t *testing.T, e *apptest.Env) {
			if _, err := e.App.SeedDemo(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := apptest.New(t, sqldbtest.SQLite(t))
			tc.fill(t, e)
			if empty, err := e.App.Empty(t.Context()); err != nil || empty != tc.wantEmpty {
				t.Errorf("Empty = %v, %v; want %v", empty, err, tc.wantEmpty)
			}
		})
	}
}
