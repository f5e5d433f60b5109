package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"yiwang/internal/app/apptest"
	"yiwang/internal/cases"
	"yiwang/internal/identity"
	"yiwang/internal/platform/authz"
)

// demoCitizenID is the demo parent 王小明's ID number (his sign-in name).
const demoCitizenID = "150102199003071237"

// citizenClient is a signed-in portal user: it keeps cookies, does not
// follow redirects, and sends forms or JSON.
type citizenClient struct {
	base string // the server's URL
	hc   *http.Client
}

func newCitizenClient(e *apptest.Env) *citizenClient { return clientOf(e.Server.URL) }

func clientOf(base string) *citizenClient {
	jar, _ := cookiejar.New(nil)
	return &citizenClient{base: base, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signIn returns a client signed in on the portal as username.
func signIn(t *testing.T, e *apptest.Env, username, password string) *citizenClient {
	t.Helper()
	return signInAt(t, newCitizenClient(e), username, password)
}

// signInAt signs c in as username.
func signInAt(t *testing.T, c *citizenClient, username, password string) *citizenClient {
	t.Helper()
	if res := c.do(t, "POST", "/login", "application/x-www-form-urlencoded",
		url.Values{"username": {username}, "password": {password}}.Encode()); res.Status != http.StatusSeeOther {
		t.Fatalf("sign in %s: %d %.300s", username, res.Status, res.Body)
	}
	return c
}

func (c *citizenClient) do(t *testing.T, method, path, contentType, body string) apptest.Response {
	t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return apptest.Response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

func (c *citizenClient) get(t *testing.T, path string) apptest.Response {
	return c.do(t, "GET", path, "", "")
}

func (c *citizenClient) post(t *testing.T, path string, form url.Values) apptest.Response {
	return c.do(t, "POST", path, "application/x-www-form-urlencoded", form.Encode())
}

func (c *citizenClient) postJSON(t *testing.T, path string, v any) apptest.Response {
	t.Helper()
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return c.do(t, "POST", path, "application/json", buf.String())
}

// caseBody is the API's view of a case, as far as the tests read it.
type caseBody struct {
	ID          string          `json:"id"`
	Number      string          `json:"number"`
	Status      cases.State     `json:"status"`
	ItemCode    string          `json:"item_code"`
	ItemName    string          `json:"item_name"`
	AcceptedAt  *string         `json:"accepted_at"`
	LegalDue    *string         `json:"legal_due"`
	PromisedDue *string         `json:"promised_due"`
	Version     int             `json:"version"`
	Events      []cases.Event   `json:"events"`
	Code        string          `json:"code"`   // problems
	Fields      json.RawMessage `json:"fields"` // problems
}

func decodeCase(t *testing.T, res apptest.Response) caseBody {
	t.Helper()
	var b caseBody
	if err := json.Unmarshal([]byte(res.Body), &b); err != nil {
		t.Fatalf("decode %.300s: %v", res.Body, err)
	}
	return b
}

// otherCitizen creates and signs in a second citizen.
func otherCitizen(t *testing.T, e *apptest.Env) *citizenClient {
	t.Helper()
	createOther(t, e)
	return signIn(t, e, "11010519491231002X", otherPassword)
}

const otherPassword = "Grass-Land-2026"

// createOther creates a second citizen, 张三.
func createOther(t *testing.T, e *apptest.Env) {
	t.Helper()
	if _, err := e.App.Identity.CreateAccount(t.Context(), identity.NewAccount{Kind: identity.Person, Name: "张三", IDNumber: "11010519491231002X",
		Phone: "13900001111", Password: otherPassword}); err != nil {
		t.Fatal(err)
	}
}

func wantStatus(t *testing.T, what string, res apptest.Response, status int, contains ...string) {
	t.Helper()
	if res.Status != status {
		t.Errorf("%s: status %d, want %d; body %.600s", what, res.Status, status, res.Body)
	}
	for _, s := range contains {
		if !strings.Contains(res.Body, s) {
			t.Errorf("%s: body lacks %q; body %.600s", what, s, res.Body)
		}
	}
}

// TestCaseAPI: the applicant's JSON API through the real router.
func TestCaseAPI(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			fixedClock(e, "2026-03-02 10:00")
			code := itemCode(t, e, "出生医学证明首次签发")
			me := signIn(t, e, demoCitizenID, e.Logins[demoCitizenID])
			anon := newCitizenClient(e)

			for _, tc := range []struct {
				name     string
				c        *citizenClient
				body     any
				status   int
				contains []string
			}{
				{"not signed in", anon, map[string]any{"item_code": code, "form": birthApplication()}, 401, []string{`"code":"unauthenticated"`, "请先登录"}},
				{"unknown item", me, map[string]any{"item_code": "nope"}, 404, []string{`"code":"not_found"`}},
				{"item not online", me, map[string]any{"item_code": itemCode(t, e, "内地居民离婚登记")}, 409, []string{`"code":"conflict"`, "不支持网上申请"}},
				{"oversized value", me, map[string]any{"item_code": code, "form": withValues(birthApplication(), "address", strings.Repeat("长", 201))}, 422,
					[]string{`"code":"invalid"`, `"body.form.address"`, "联系地址不能超过200个字"}},
				{"huge value", me, map[string]any{"item_code": code, "form": withValues(birthApplication(), "child_name", strings.Repeat("长", 100000))}, 422,
					[]string{`"body.form.child_name"`}},
				{"bad ID number", me, map[string]any{"item_code": code, "form": withValues(birthApplication(), "mother_id_number", "110105194912310021"), "submit": true}, 422,
					[]string{`"body.form.mother_id_number"`, "母亲身份证号"}},
				{"unknown field", me, map[string]any{"item_code": code, "form": withValues(birthApplication(), "salary", "1")}, 422, []string{`"body.form"`, "未定义的字段"}},
				{"missing required on submit", me, map[string]any{"item_code": code, "form": map[string]string{"child_name": "王小宝"}, "submit": true}, 422,
					[]string{"请填写出生日期", "请选择性别"}},
				{"code too long", me, map[string]any{"item_code": strings.Repeat("1", 65)}, 422, []string{`"code":"invalid"`}},
				{"unknown body property", me, map[string]any{"item_code": code, "applicant_id": "someone"}, 422, []string{`"code":"invalid"`}},
				{"by post without an address", me, map[string]any{"item_code": code, "form": birthApplication(), "result": map[string]string{"method": "post"}}, 422,
					[]string{`"body.result"`, "请填写邮寄地址"}},
				{"an unknown way to the result", me, map[string]any{"item_code": code, "form": birthApplication(), "result": map[string]string{"method": "drone"}}, 422,
					[]string{`"body.result"`, "请选择结果领取方式"}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res := tc.c.postJSON(t, "/api/v1/cases", tc.body)
					wantStatus(t, tc.name, res, tc.status, tc.contains...)
					if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
						t.Errorf("content type %q", ct)
					}
				})
			}
			var n int
			e.App.DB.R.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM cases`).Scan(&n)
			if n != 0 {
				t.Fatalf("%d cases after refused requests", n)
			}

			// A draft has no number yet; the result goes by post.
			res := me.postJSON(t, "/api/v1/cases", map[string]any{"item_code": code, "form": map[string]string{"child_name": "王小宝"},
				"result": map[string]string{"method": "post", "address": "呼和浩特市新城区新华大街1号"}})
			wantStatus(t, "draft", res, 201, `"result":{"method":"post","address":"呼和浩特市新城区新华大街1号"}`)
			if d := decodeCase(t, res); d.Status != cases.Draft || d.Number != "" || d.ID == "" || len(d.Events) != 0 {
				t.Errorf("draft: %+v", d)
			}
			// Submitted at once.
			res = me.postJSON(t, "/api/v1/cases", map[string]any{"item_code": code, "form": withValues(birthApplication(), "mother_id_number", "11010519491231002x"), "submit": true})
			wantStatus(t, "submit", res, 201)
			c := decodeCase(t, res)
			if c.Status != cases.Submitted || len(c.Number) != 43 || c.ItemCode != code || c.ItemName != "出生医学证明首次签发" || c.AcceptedAt != nil ||
				len(c.Events) != 1 || c.Events[0].Code != cases.CodeReceived {
				t.Fatalf("submitted: %+v", c)
			}
			if loc := res.Header.Get("Location"); loc != "/api/v1/cases/"+c.Number {
				t.Errorf("Location %q", loc)
			}

			// Accepted by a clerk: the applicant reads the dues and the events.
			clerk := &authz.Principal{UserID: "clerk1", Name: "综合窗口", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150000"}}}
			if _, err := e.App.Cases.StaffAct(t.Context(), clerk, c.ID, cases.Accept, cases.Input{}, c.Version); err != nil {
				t.Fatal(err)
			}
			res = me.get(t, "/api/v1/cases/"+c.Number)
			wantStatus(t, "get", res, 200, `"status":"accepted"`, `"actor":"综合窗口"`, `"department":`, `"result":{"method":"window"}`)
			got := decodeCase(t, res)
			if got.AcceptedAt == nil || got.PromisedDue == nil || *got.PromisedDue != "2026-03-05" || got.LegalDue == nil || len(got.Events) != 2 ||
				got.Events[1].Code != cases.CodeAccepted || got.Events[1].Seq != 2 {
				t.Errorf("after acceptance: %+v", got)
			}
			res = me.get(t, "/api/v1/cases/"+c.Number+"/events")
			wantStatus(t, "events", res, 200, `"number":"`+c.Number+`"`, `"code":1`, `"code":3`, `"exported_at":"2026-03-02T`)

			// Nobody else sees it, and the answer does not say it exists.
			other := otherCitizen(t, e)
			for _, p := range []string{"/api/v1/cases/" + c.Number, "/api/v1/cases/" + c.Number + "/events", "/api/v1/cases/" + code + "202603029999"} {
				wantStatus(t, "other citizen "+p, other.get(t, p), 404, `"code":"not_found"`)
				wantStatus(t, "anonymous "+p, anon.get(t, p), 401, `"code":"unauthenticated"`)
			}
			wantStatus(t, "number too long", me.get(t, "/api/v1/cases/"+strings.Repeat("9", 65)), 422)
		})
	}
}

// TestCaseApplicantPages: applying online, my cases, correction and
// resubmission, a stale page, withdrawal and the public progress lookup,
// through the real router.
func TestCaseApplicantPages(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			fixedClock(e, "2026-03-02 10:00")
			code := itemCode(t, e, "出生医学证明首次签发")
			apply := "/items/" + code + "/apply"
			me := signIn(t, e, demoCitizenID, e.Logins[demoCitizenID])
			anon := newCitizenClient(e)

			// Sign-in first, coming back to the form.
			res := anon.get(t, apply)
			if res.Status != 303 || res.Header.Get("Location") != "/login?next="+url.QueryEscape(apply) {
				t.Fatalf("anonymous apply: %d %q", res.Status, res.Header.Get("Location"))
			}
			if res := anon.post(t, apply, posted(birthApplication(), "action", "submit")); res.Status != 303 ||
				!strings.HasPrefix(res.Header.Get("Location"), "/login?next=") {
				t.Fatalf("anonymous post: %d", res.Status)
			}
			wantStatus(t, "anonymous my cases", anon.get(t, "/my/cases"), 303)
			wantStatus(t, "form", me.get(t, apply), 200, "出生医学证明首次签发", "王小明", "150102********1237", "新生儿姓名", `type="date"`, `<select id="f-gender"`,
				"新生儿父母双方居民身份证", `name="action" value="submit"`, `id="nav-cases"`, "我的办件")
			wantStatus(t, "unknown item", me.get(t, "/items/nope/apply"), 404)
			wantStatus(t, "item not online", me.get(t, "/items/"+itemCode(t, e, "内地居民离婚登记")+"/apply"), 409, "不支持网上申请")

			// Bad input re-renders the form with what was typed.
			if res := me.get(t, apply); strings.Contains(res.Body, "birth_record") {
				t.Error("the form offers an attachment as a typed field")
			}
			wantStatus(t, "missing name", me.post(t, apply, url.Values{"action": {"submit"}, "address": {"呼和浩特市新城区"}}), 422, "请填写新生儿姓名",
				"呼和浩特市新城区")
			wantStatus(t, "oversized name", me.post(t, apply, posted(birthApplication(), "action", "submit", "child_name", strings.Repeat("长", 21))), 422,
				"新生儿姓名不能超过20个字")
			wantStatus(t, "bad choice", me.post(t, apply, posted(birthApplication(), "action", "submit", "gender", "未知")), 422, "性别只能从给定选项中选择")
			wantStatus(t, "no action", me.post(t, apply, posted(birthApplication())), 422, "请选择保存草稿或提交申请")

			// Save a draft, come back to it, submit it.
			res = me.post(t, apply, url.Values{"action": {"save"}, "child_name": {"王小宝"}})
			loc := res.Header.Get("Location")
			if res.Status != 303 || !strings.HasPrefix(loc, apply+"?draft=") {
				t.Fatalf("save: %d %q %.300s", res.Status, loc, res.Body)
			}
			draftID := strings.TrimPrefix(loc, apply+"?draft=")
			d, err := e.App.Cases.Mine(ctx, demoCitizen(t, e), draftID)
			if err != nil || d.State != cases.Draft {
				t.Fatalf("draft: %v %s", err, d.State)
			}
			wantStatus(t, "draft form", me.get(t, loc), 200, `value="王小宝"`, `name="version" value="1"`, "草稿已保存")
			wantStatus(t, "draft from my cases", me.get(t, "/my/cases/"+draftID), 303)
			// A stale draft (saved in another tab) keeps what was typed.
			if _, err := e.App.Cases.SaveDraft(ctx, demoCitizen(t, e), draftID, map[string]string{"child_name": "另一个标签页"}, 1); err != nil {
				t.Fatal(err)
			}
			wantStatus(t, "stale draft", me.post(t, apply, posted(birthApplication(), "action", "submit", "draft", draftID, "version", "1", "child_name", "我的版本")),
				409, "已被他人处理或修改", "我的版本")
			res = me.post(t, apply, posted(birthApplication(), "action", "submit", "draft", draftID, "version", "2"))
			if res.Status != 303 || res.Header.Get("Location") != "/my/cases/"+draftID {
				t.Fatalf("submit: %d %q %.300s", res.Status, res.Header.Get("Location"), res.Body)
			}
			c, _ := e.App.Cases.Mine(ctx, demoCitizen(t, e), draftID)
			if c.State != cases.Submitted || c.Form["child_name"] != "王小宝" || c.Form["hukou_region"] != "150102" {
				t.Fatalf("submitted: %s %v", c.State, c.Form)
			}
			wantStatus(t, "case page", me.get(t, "/my/cases/"+c.ID), 200, c.Number, "待受理", "申请已提交", "提交申请", "撤回申请")
			wantStatus(t, "my cases", me.get(t, "/my/cases"), 200, c.Number, "出生医学证明首次签发", "待受理")

			// Someone else's case is not there.
			other := otherCitizen(t, e)
			wantStatus(t, "another's case", other.get(t, "/my/cases/"+c.ID), 404)
			wantStatus(t, "another's resubmit", other.post(t, "/my/cases/"+c.ID+"/resubmit", posted(birthApplication(), "version", "2")), 404)
			wantStatus(t, "another's withdrawal", other.post(t, "/my/cases/"+c.ID+"/withdraw", url.Values{"version": {"2"}, "confirm": {"yes"}}), 404)
			if res := other.get(t, "/my/cases"); strings.Contains(res.Body, c.Number) {
				t.Error("another citizen's list shows the case")
			}

			// Accepted, then a correction with two items.
			clerk := &authz.Principal{UserID: "clerk1", Name: "综合窗口", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150000"}}}
			handler := &authz.Principal{UserID: "h1", Name: "卫健委审查员", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150100"}}}
			if c, err = e.App.Cases.StaffAct(ctx, clerk, c.ID, cases.Accept, cases.Input{}, c.Version); err != nil {
				t.Fatal(err)
			}
			seen := c.Version
			if c, err = e.App.Cases.StaffAct(ctx, handler, c.ID, cases.RequestFix, cases.Input{Opinion: "材料不全",
				Items: []string{"结婚证复印件", "父亲身份证反面"}}, c.Version); err != nil {
				t.Fatal(err)
			}
			wantStatus(t, "correction notice", me.get(t, "/my/cases/"+c.ID), 200, "补正告知", "结婚证复印件", "父亲身份证反面", "材料不全",
				`action="/my/cases/`+c.ID+`/resubmit"`, "计时暂停")
			// A page from before the correction is stale: 409, nothing changed.
			wantStatus(t, "stale resubmit", me.post(t, "/my/cases/"+c.ID+"/resubmit", posted(birthApplication(), "version", strconv.Itoa(seen), "address", "补好了的地址")), 409,
				"已被他人处理或修改", "补正告知", "补好了的地址")
			wantStatus(t, "bad version", me.post(t, "/my/cases/"+c.ID+"/resubmit", posted(birthApplication(), "version", "abc")), 409)
			wantStatus(t, "resubmit without the name", me.post(t, "/my/cases/"+c.ID+"/resubmit", url.Values{"version": {strconv.Itoa(c.Version)}}), 422,
				"请填写新生儿姓名")
			if now, _ := e.App.Cases.Mine(ctx, demoCitizen(t, e), c.ID); now.Version != c.Version || now.State != cases.Correcting {
				t.Fatalf("refused resubmissions changed the case: %s v%d", now.State, now.Version)
			}
			res = me.post(t, "/my/cases/"+c.ID+"/resubmit", posted(birthApplication(), "version", strconv.Itoa(c.Version), "address", "呼和浩特市赛罕区新地址", "opinion", "已补正"))
			wantStatus(t, "resubmit", res, 303)
			c, _ = e.App.Cases.Mine(ctx, demoCitizen(t, e), c.ID)
			if c.State != cases.Accepted || c.Form["address"] != "呼和浩特市赛罕区新地址" {
				t.Fatalf("after resubmission: %s %v", c.State, c.Form)
			}
			wantStatus(t, "after resubmission", me.get(t, "/my/cases/"+c.ID), 200, "办理中", "补正后重新提交", "已补正", "申请内容", "呼和浩特市赛罕区新地址", "王小宝")

			// Withdrawal needs the confirmation and the current version.
			wantStatus(t, "withdraw unconfirmed", me.post(t, "/my/cases/"+c.ID+"/withdraw", url.Values{"version": {strconv.Itoa(c.Version)}}), 422, "请确认撤回申请")
			wantStatus(t, "withdraw stale", me.post(t, "/my/cases/"+c.ID+"/withdraw", url.Values{"version": {strconv.Itoa(seen)}, "confirm": {"yes"}}), 409)
			wantStatus(t, "withdraw", me.post(t, "/my/cases/"+c.ID+"/withdraw", url.Values{"version": {strconv.Itoa(c.Version)}, "confirm": {"yes"}, "reason": {"不办了"}}), 303)
			page := me.get(t, "/my/cases/"+c.ID)
			wantStatus(t, "withdrawn", page, 200, "已撤回", "不办了")
			if strings.Contains(page.Body, `id="withdraw-form"`) || strings.Contains(page.Body, `id="resubmit-form"`) {
				t.Error("a withdrawn case still offers actions")
			}

			// Public progress: the number and the name, nothing more.
			prog := "/progress?number=" + c.Number + "&name=" + url.QueryEscape("王小明")
			res = anon.get(t, prog)
			wantStatus(t, "progress", res, 200, c.Number, "已撤回", "出生医学证明首次签发", "受理", "撤回申请")
			for _, secret := range []string{demoCitizenID, "150102********1237", "13800471234", "11010519491231002X", "王小宝", "呼和浩特市赛罕区新地址", "不办了", "综合窗口"} {
				if strings.Contains(res.Body, secret) {
					t.Errorf("progress page shows %q", secret)
				}
			}
			wrongName := anon.get(t, "/progress?number="+c.Number+"&name="+url.QueryEscape("张三"))
			wrongNumber := anon.get(t, "/progress?number="+code+"202603029999&name="+url.QueryEscape("王小明"))
			wantStatus(t, "wrong name", wrongName, 404, "未找到该办件")
			wantStatus(t, "wrong number", wrongNumber, 404, "未找到该办件")
			if msg := func(b string) string {
				_, s, _ := strings.Cut(b, `id="progress-message">`)
				m, _, _ := strings.Cut(s, "<")
				return m
			}; msg(wrongName.Body) != msg(wrongNumber.Body) {
				t.Errorf("the refusals differ: %q / %q", msg(wrongName.Body), msg(wrongNumber.Body))
			}
			wantStatus(t, "progress form", anon.get(t, "/progress"), 200, "办件进度查询")
			wantStatus(t, "progress half", anon.get(t, "/progress?number="+c.Number), 422, "请填写办件编号和申请人名称")
			wantStatus(t, "progress oversized", anon.get(t, "/progress?number="+strings.Repeat("1", 5000)+"&name=x"), 404, "未找到该办件")
		})
	}
}

// birthApplication is a complete application form of 出生医学证明首次签发.
func birthApplication() map[string]string {
	return map[string]string{"child_name": "王小宝", "birth_date": "2026-02-28", "gender": "男", "mother_id_number": "11010519491231002X",
		"father_id_number": demoCitizenID, "hukou_region": "150102", "address": "呼和浩特市新城区海拉尔东街1号"}
}

// withValues returns m with the pairs kv set.
func withValues(m map[string]string, kv ...string) map[string]string {
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// posted returns m with the pairs kv set, as a posted form.
func posted(m map[string]string, kv ...string) url.Values {
	v := url.Values{}
	for k, x := range withValues(m, kv...) {
		v.Set(k, x)
	}
	return v
}

// upload posts one file as material name to path.
func (c *citizenClient) upload(t *testing.T, path, name string, content []byte) apptest.Response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("name", name)
	if content != nil {
		fw, _ := mw.CreateFormFile("file", "scan.bin")
		fw.Write(content)
	}
	mw.Close()
	return c.do(t, "POST", path, mw.FormDataContentType(), buf.String())
}

// TestCaseMaterials: uploading, downloading and removing materials through
// the real router; only the applicant's own case, only while it takes
// materials, only the item's (or the correction's) material names, only
// documents under the size limit; each change audited; a required
// attachment field wants its file before the case is submitted.
func TestCaseMaterials(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			fixedClock(e, "2026-03-02 10:00")
			code := itemCode(t, e, "出生医学证明首次签发")
			me := signIn(t, e, demoCitizenID, e.Logins[demoCitizenID])
			other := otherCitizen(t, e)
			d, err := e.App.Cases.Draft(ctx, demoCitizen(t, e), code, birthApplication())
			if err != nil {
				t.Fatal(err)
			}
			form := "/items/" + code + "/apply?draft=" + d.ID
			up := "/my/cases/" + d.ID + "/materials"
			pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 3000)...)
			count := func(action string) int {
				var n int
				e.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = $1 AND target_id = $2`, action, d.ID).Scan(&n)
				return n
			}

			wantStatus(t, "before the first save", me.get(t, "/items/"+code+"/apply"), 200, "保存草稿后即可在此上传电子材料")
			wantStatus(t, "upload box", me.get(t, form), 200, `id="upload-form"`, "<option>新生儿父母双方居民身份证</option>", "<option>出生证明附件</option>")

			for _, tc := range []struct {
				name, material string
				content        []byte
				flash          string
			}{
				{"unknown material", "工资条", pdf, "请选择要上传的是哪一项材料"},
				{"no file", "出生证明附件", nil, "请选择要上传的文件"},
				{"not a document", "出生证明附件", []byte("just text, not a scan"), "不支持的文件类型"},
				{"too large", "出生证明附件", append([]byte("%PDF-1.4\n"), make([]byte, cases.MaxMaterialSize)...), "文件过大"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res := me.upload(t, up, tc.material, tc.content)
					if res.Status != 303 || res.Header.Get("Location") != form {
						t.Fatalf("status %d to %q: %.300s", res.Status, res.Header.Get("Location"), res.Body)
					}
					wantStatus(t, tc.name, me.get(t, form), 200, tc.flash)
				})
			}
			if ms, _ := e.App.Cases.Materials(ctx, d.ID); len(ms) != 0 || count("cases.material.add") != 0 {
				t.Fatalf("refused uploads recorded: %+v", ms)
			}
			wantStatus(t, "another's upload", other.upload(t, up, "出生证明附件", pdf), 404)

			wantStatus(t, "upload", me.upload(t, up, "出生证明附件", pdf), 303)
			wantStatus(t, "listed", me.get(t, form), 200, "已上传材料", `id="uploaded"`, "出生证明附件", "PDF 3 KB")
			ms, _ := e.App.Cases.Materials(ctx, d.ID)
			if len(ms) != 1 || ms[0].ContentType != "application/pdf" || ms[0].Size != int64(len(pdf)) || count("cases.material.add") != 1 {
				t.Fatalf("materials %+v, %d audit entries", ms, count("cases.material.add"))
			}
			file := up + "/" + ms[0].ID
			res := me.get(t, file)
			if res.Status != 200 || res.Body != string(pdf) || res.Header.Get("Content-Type") != "application/pdf" ||
				!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("download: %d %q %q", res.Status, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
			}
			wantStatus(t, "another's download", other.get(t, file), 404)
			wantStatus(t, "another's removal", other.post(t, file+"/remove", url.Values{}), 404)
			wantStatus(t, "remove", me.post(t, file+"/remove", url.Values{}), 303)
			if ms, _ := e.App.Cases.Materials(ctx, d.ID); len(ms) != 0 || count("cases.material.remove") != 1 {
				t.Fatalf("after removal: %+v", ms)
			}
			wantStatus(t, "upload again", me.upload(t, up, "新生儿父母双方居民身份证", pdf), 303)

			// Submitted: no more uploads until a correction asks for one.
			c, err := e.App.Cases.ApplicantAct(ctx, demoCitizen(t, e), d.ID, cases.Submit, nil, cases.Input{}, d.Version)
			if err != nil {
				t.Fatal(err)
			}
			back := "/my/cases/" + c.ID
			wantStatus(t, "upload when submitted", me.upload(t, up, "出生证明附件", pdf), 303)
			wantStatus(t, "refused when submitted", me.get(t, back), 200, "不能再上传材料", "新生儿父母双方居民身份证")
			if page := me.get(t, back); strings.Contains(page.Body, `id="upload-form"`) || strings.Contains(page.Body, "/remove") {
				t.Error("a submitted case offers uploads or removals")
			}
			handler := &authz.Principal{UserID: "h1", Name: "卫健委审查员", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150100"}}}
			if _, err := e.App.Cases.StaffAct(ctx, handler, c.ID, cases.RequestFix, cases.Input{Opinion: "材料不全", Items: []string{"父母结婚证复印件"}},
				c.Version); err != nil {
				t.Fatal(err)
			}
			wantStatus(t, "correction box", me.get(t, back), 200, `id="upload-form"`, "<option>父母结婚证复印件</option>")
			png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 100)...)
			wantStatus(t, "upload the correction", me.upload(t, up, "父母结婚证复印件", png), 303)
			wantStatus(t, "correction uploaded", me.get(t, back), 200, "已上传材料", "父母结婚证复印件", "PNG")
			if count("cases.material.add") != 3 {
				t.Errorf("%d upload audit entries, want 3", count("cases.material.add"))
			}

			// A required attachment: the API, which takes no files, cannot
			// submit; the form asks for the file, then submits with its key.
			fee := itemCode(t, e, "生育医疗费用报销")
			feeForm := func() map[string]string {
				return map[string]string{"delivery_date": "2026-02-28", "hospital": "内蒙古妇幼保健院", "amount": "5800", "bank_account": "6222020200001234567"}
			}
			wantStatus(t, "api without the file", me.postJSON(t, "/api/v1/cases", map[string]any{"item_code": fee, "form": feeForm(), "submit": true}), 422,
				"请上传医疗费用票据")
			res = me.postJSON(t, "/api/v1/cases", map[string]any{"item_code": fee, "form": feeForm()})
			wantStatus(t, "api draft", res, 201)
			draft := decodeCase(t, res)
			feeApply := "/items/" + fee + "/apply"
			wantStatus(t, "form lists the attachment", me.get(t, feeApply+"?draft="+draft.ID), 200, "医疗费用票据（必须上传）", "<option>医疗费用票据</option>")
			wantStatus(t, "submit without the file", me.post(t, feeApply, posted(feeForm(), "action", "submit", "draft", draft.ID, "version", "1")), 422,
				"请上传医疗费用票据")
			wantStatus(t, "upload the bills", me.upload(t, "/my/cases/"+draft.ID+"/materials", "医疗费用票据", pdf), 303)
			res = me.post(t, feeApply, posted(feeForm(), "action", "submit", "draft", draft.ID, "version", "1"))
			wantStatus(t, "submit with the file", res, 303)
			fc, _ := e.App.Cases.Mine(ctx, demoCitizen(t, e), draft.ID)
			if sum := sha256.Sum256(pdf); fc.State != cases.Submitted || fc.Form["bills"] != hex.EncodeToString(sum[:]) || fc.Form["amount"] != "5800" {
				t.Errorf("submitted with the file: %s %v", fc.State, fc.Form)
			}
		})
	}
}

// TestCaseActingForEnterprise: a 经办人 acting for the enterprise files in
// its name; the case is the enterprise's, seen while acting for it.
func TestCaseActingForEnterprise(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			fixedClock(e, "2026-03-02 10:00")
			var uscc string
			for name := range e.Logins {
				if strings.HasPrefix(name, "91150102") {
					uscc = name
				}
			}
			firm, err := e.App.Identity.AccountByUSCC(ctx, uscc)
			if err != nil {
				t.Fatal(err)
			}
			code := itemCode(t, e, "出生医学证明首次签发")
			me := signIn(t, e, demoCitizenID, e.Logins[demoCitizenID])
			wantStatus(t, "act for the firm", me.post(t, "/account/act", url.Values{"legal_id": {firm.ID}}), 303)
			wantStatus(t, "form as agent", me.get(t, "/items/"+code+"/apply"), 200, "以单位名义申请", firm.Name, "经办人：王小明")
			res := me.postJSON(t, "/api/v1/cases", map[string]any{"item_code": code, "form": birthApplication(), "submit": true})
			wantStatus(t, "file for the firm", res, 201)
			c := decodeCase(t, res)
			stored, err := e.App.Cases.ByNumber(ctx, c.Number)
			if err != nil || stored.ApplicantID != firm.ID || stored.AgentName != "王小明" {
				t.Fatalf("case filed for the firm: %v %+v", err, stored)
			}
			wantStatus(t, "seen while acting", me.get(t, "/api/v1/cases/"+c.Number), 200, c.Number)
			wantStatus(t, "listed while acting", me.get(t, "/my/cases"), 200, c.Number, firm.Name)
			wantStatus(t, "back to oneself", me.post(t, "/account/act", url.Values{"legal_id": {""}}), 303)
			wantStatus(t, "not one's own", me.get(t, "/api/v1/cases/"+c.Number), 404)
			if res := me.get(t, "/my/cases"); strings.Contains(res.Body, c.Number) {
				t.Error("the firm's case is listed among one's own")
			}
			// The firm itself, signed in with its credit code, sees it.
			wantStatus(t, "the firm", signIn(t, e, uscc, e.Logins[uscc]).get(t, "/api/v1/cases/"+c.Number), 200, c.Number)
		})
	}
}
