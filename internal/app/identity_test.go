package app_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"yiwang/internal/app/apptest"
	"yiwang/internal/platform/idcode"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// TestCodeCheckAPI is the contract of GET /api/v1/codes/check.
func TestCodeCheckAPI(t *testing.T) {
	e := apptest.New(t, sqldbtest.SQLite(t))
	for _, sc := range []apptest.Scenario{
		{Name: "valid ID number", Path: "/api/v1/codes/check?kind=id&value=11010519491231002X", Status: 200, Contains: []string{`"valid":true`, `"reason":""`}},
		{Name: "wrong check digit", Path: "/api/v1/codes/check?kind=id&value=110105194912310021", Status: 200, Contains: []string{`"valid":false`, "校验"}},
		{Name: "impossible birth date", Path: "/api/v1/codes/check?kind=id&value=110105194902300026", Status: 200, Contains: []string{`"valid":false`, "出生日期"}},
		{Name: "valid credit code", Path: "/api/v1/codes/check?kind=uscc&value=91350100M000100Y43", Status: 200, Contains: []string{`"valid":true`}},
		{Name: "bad credit code", Path: "/api/v1/codes/check?kind=uscc&value=91350100M000100Y44", Status: 200, Contains: []string{`"valid":false`}},
		{Name: "organisation code", Path: "/api/v1/codes/check?kind=org&value=D2143569-X", Status: 200, Contains: []string{`"valid":true`}},
		{Name: "unknown kind", Path: "/api/v1/codes/check?kind=passport&value=E1", Status: 422, Contains: []string{`"code":"invalid"`}},
		{Name: "missing value", Path: "/api/v1/codes/check?kind=id", Status: 422, Contains: []string{`"code":"invalid"`}},
		{Name: "oversized value", Path: "/api/v1/codes/check?kind=id&value=" + strings.Repeat("1", 65), Status: 422, Contains: []string{`"code":"invalid"`}},
		{Name: "documented", Path: "/api/openapi.json", Status: 200, Contains: []string{"/api/v1/codes/check"}},
	} {
		t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
	}
}

// smsCode reads the last verification code queued for phone.
func smsCode(t *testing.T, e *apptest.Env, phone string) string {
	t.Helper()
	var payload string
	if err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT payload FROM outbox WHERE topic = 'identity.sms' AND payload LIKE $1 ORDER BY created_at DESC LIMIT 1`,
		"%"+phone+"%").Scan(&payload); err != nil {
		t.Fatalf("no SMS to %s: %v", phone, err)
	}
	m := regexp.MustCompile(`验证码是(\d{6})`).FindStringSubmatch(payload)
	if m == nil {
		t.Fatalf("no code in %s", payload)
	}
	return m[1]
}

// TestCitizenAccountJourney: a citizen registers with a phone code, signs
// out and in, sees the sign-in history, is refused alike for unknown and
// known names, resets the password, and a clerk verifies them in person.
func TestCitizenAccountJourney(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			c := e.Client()
			id, phone := "15010219950512345X", "13900471234"
			id = id[:17] + string(mustCheck(t, id[:17]))
			reg := url.Values{"kind": {"person"}, "name": {"王小明"}, "id_number": {id}, "phone": {phone}}
			if res := c.Post(t, "/register", with(reg, "action", "send_code")); res.Status != 200 || !strings.Contains(res.Body, "验证码已发送") {
				t.Fatalf("send code: %d", res.Status)
			}
			form := with(reg, "action", "register", "code", smsCode(t, e, phone), "password", "Grass-Land-2026", "password2", "Grass-Land-2026")
			for _, sc := range []apptest.Scenario{
				{Name: "passwords differ", Method: "POST", Path: "/register", Form: with(form, "password2", "x"), Status: 422, Contains: []string{"两次输入的密码不一致", "王小明"}},
				{Name: "bad ID number", Method: "POST", Path: "/register", Form: with(form, "id_number", id[:17]+"Y"), Status: 422, Contains: []string{"公民身份号码"}},
				{Name: "wrong code", Method: "POST", Path: "/register", Form: with(form, "code", "99999"), Status: 422, Contains: []string{"请输入6位验证码"}},
			} {
				t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
			}
			res := c.Post(t, "/register", form)
			if res.Status != 303 || res.Header.Get("Location") != "/account" {
				t.Fatalf("register: %d %s", res.Status, res.Body)
			}
			page := c.Get(t, "/account")
			for _, want := range []string{"王小明", "150102********3455", "一级（手机号验证）", "登录成功", "我的账号（王小明）", "已授权的系统"} {
				if !strings.Contains(page.Body, want) {
					t.Errorf("account page lacks %q", want)
				}
			}
			if strings.Contains(page.Body, id) || strings.Contains(page.Body, "$argon2id") {
				t.Errorf("the account page shows the whole ID number: %s", page.Body)
			}
			if res := c.Post(t, "/logout", nil); res.Status != 303 {
				t.Fatalf("logout: %d", res.Status)
			}
			if res := c.Get(t, "/account"); res.Status != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
				t.Fatalf("account after logout: %d", res.Status)
			}
			// Unknown and known names are refused alike.
			a := e.Client().Post(t, "/login", url.Values{"username": {id}, "password": {"Wrong-Pass-1"}})
			b := e.Client().Post(t, "/login", url.Values{"username": {"110105194912310021"}, "password": {"Wrong-Pass-1"}})
			if a.Status != 401 || b.Status != 401 || !strings.Contains(a.Body, "账号或密码错误") || !strings.Contains(b.Body, "账号或密码错误") {
				t.Fatalf("refusals differ: %d %d", a.Status, b.Status)
			}
			// Sign in by phone; an off-site next is ignored.
			res = c.Post(t, "/login", url.Values{"username": {phone}, "password": {"Grass-Land-2026"}, "next": {"//evil.example/x"}})
			if res.Status != 303 || res.Header.Get("Location") != "/account" {
				t.Fatalf("login by phone: %d %s", res.Status, res.Header.Get("Location"))
			}
			res = c.Post(t, "/login", url.Values{"username": {id}, "password": {"Grass-Land-2026"}, "next": {"/items/x?y=1"}})
			if res.Status != 303 || res.Header.Get("Location") != "/items/x?y=1" {
				t.Fatalf("login with next: %d %s", res.Status, res.Header.Get("Location"))
			}
			if page := c.Get(t, "/account"); !strings.Contains(page.Body, "密码错误") || strings.Count(page.Body, "登录成功") < 3 {
				t.Errorf("history lacks the failed and successful sign-ins")
			}
			// Reset by phone.
			anon := e.Client()
			if res := anon.Post(t, "/password/reset", url.Values{"phone": {phone}, "action": {"send_code"}}); res.Status != 429 {
				// The registration code was sent less than a minute ago.
				t.Fatalf("second code within a minute: %d", res.Status)
			}
			// The demo enterprise resets with its credit code and registered phone.
			const firm, firmPhone = "91150102MA0YW0001D", "13800470001"
			if res := anon.Post(t, "/password/reset", url.Values{"username": {firm}, "phone": {firmPhone}, "action": {"send_code"}}); res.Status != 200 {
				t.Fatalf("enterprise reset code: %d", res.Status)
			}
			reset := url.Values{"username": {firm}, "phone": {firmPhone}, "code": {smsCode(t, e, firmPhone)}, "password": {"Firm-Reset-2026"},
				"password2": {"Firm-Reset-2026"}, "action": {"reset"}}
			if res := anon.Post(t, "/password/reset", reset); res.Status != 303 {
				t.Fatalf("enterprise reset: %d %s", res.Status, res.Body)
			}
			if res := e.Client().Post(t, "/login", url.Values{"username": {firm}, "password": {"Firm-Reset-2026"}}); res.Status != 303 {
				t.Fatalf("enterprise sign-in after reset: %d", res.Status)
			}
			// In-person verification by a clerk; not by a reviewer.
			clerk := e.LoginDemo(t, "clerk")
			if res := clerk.Get(t, "/console/identity?id_number="+id); res.Status != 200 || !strings.Contains(res.Body, "王小明") {
				t.Fatalf("clerk lookup: %d", res.Status)
			}
			var accountID string
			e.App.DB.R.QueryRowContext(t.Context(), `SELECT id FROM identity_accounts WHERE id_number = $1`, id).Scan(&accountID)
			if res := e.LoginDemo(t, "reviewer").Post(t, "/console/identity/"+accountID+"/verify", nil); res.Status != 403 {
				t.Fatalf("reviewer verifying: %d", res.Status)
			}
			if res := clerk.Post(t, "/console/identity/"+accountID+"/verify", url.Values{"note": {"人证一致"}}); res.Status != 303 {
				t.Fatalf("clerk verifying: %d %s", res.Status, res.Body)
			}
			if page := c.Get(t, "/account"); !strings.Contains(page.Body, "四级（窗口现场核验）") {
				t.Error("assurance not raised on the account page")
			}
		})
	}
}

func mustCheck(t *testing.T, body string) byte {
	c, err := idcode.IDCheckChar(body)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCrossOriginOnlyForBackChannel: another origin may call the OIDC
// token endpoint (a browser app's code exchange) but not post our forms.
func TestCrossOriginOnlyForBackChannel(t *testing.T) {
	e := apptest.New(t, sqldbtest.SQLite(t))
	cross := http.Header{"Origin": {"https://app.example.gov.cn"}, "Sec-Fetch-Site": {"cross-site"}}
	for _, sc := range []apptest.Scenario{
		{Name: "token endpoint", Method: "POST", Path: "/oidc/token", Form: url.Values{"grant_type": {"authorization_code"}}, Header: cross, Status: 400, Contains: []string{"invalid"}},
		{Name: "citizen sign-in form", Method: "POST", Path: "/login", Form: url.Values{"username": {"x"}}, Header: cross, Status: 403},
		{Name: "account form", Method: "POST", Path: "/account/password", Header: cross, Status: 403},
	} {
		t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
	}
}
