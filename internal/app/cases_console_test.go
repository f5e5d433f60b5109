package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"yiwang/internal/app/apptest"
	"yiwang/internal/calendar"
	"yiwang/internal/cases"
	"yiwang/internal/identity"
	"yiwang/internal/platform/authz"
	"yiwang/internal/staff"
)

// consoleAdmin sees every case of the demo province (for reading versions).
var consoleAdmin = &authz.Principal{UserID: "t-admin", Name: "测试管理员", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150000"}}}

// walkIn files a case at the window through the service, as a clerk.
func walkIn(t *testing.T, e *apptest.Env, code, idNumber, name string) cases.Case {
	t.Helper()
	clerk := &authz.Principal{UserID: "t-clerk", Name: "综合窗口", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150000"}}}
	c, err := e.App.Cases.RegisterWalkIn(t.Context(), clerk, cases.WalkIn{ItemCode: code, Kind: identity.Person, IDNumber: idNumber, Name: name,
		Phone: "13900001111"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// current reads case id as it stands.
func current(t *testing.T, e *apptest.Env, id string) cases.Case {
	t.Helper()
	c, err := e.App.Cases.Get(t.Context(), consoleAdmin, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// deptReviewer creates and signs in a reviewer bound to the department of c.
func deptReviewer(t *testing.T, e *apptest.Env, c cases.Case) *apptest.Client {
	t.Helper()
	if _, err := e.App.Staff.Bootstrap(t.Context(), staff.UserInput{Username: "healthrev", DisplayName: "卫健委审查员", Region: "150100", DeptID: c.DeptID,
		Password: "Xy-12345678"}, []authz.Grant{{Role: authz.Reviewer, Region: "150100", DeptID: c.DeptID}}); err != nil {
		t.Fatal(err)
	}
	return e.Login(t, "healthrev", "Xy-12345678")
}

// postAct posts an action form for case c, at version v.
func postAct(t *testing.T, cl *apptest.Client, id string, v int, action string, extra ...string) apptest.Response {
	t.Helper()
	form := url.Values{"action": {action}, "version": {fmt.Sprint(v)}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return cl.Post(t, "/console/cases/"+id+"/act", form)
}

func want(t *testing.T, what string, res apptest.Response, status int, contains []string, lacks ...string) {
	t.Helper()
	if res.Status != status {
		t.Errorf("%s: status %d, want %d; body %.600s", what, res.Status, status, res.Body)
	}
	for _, s := range contains {
		if !strings.Contains(res.Body, s) {
			t.Errorf("%s: body lacks %q", what, s)
		}
	}
	for _, s := range lacks {
		if strings.Contains(res.Body, s) {
			t.Errorf("%s: body has %q", what, s)
		}
	}
}

func actionInput(a cases.Action) string { return `name="action" value="` + string(a) + `"` }

// TestCaseConsoleQueueAndActions: the work queue by scope, the case page's
// actions by role and state, and the refusals of the act form: 403 for a
// role that may not, 409 for a stale page, 422 for a missing reason or list.
func TestCaseConsoleQueueAndActions(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			fixedClock(e, "2026-03-02 10:00")
			code := itemCode(t, e, "出生医学证明首次签发")
			c := walkIn(t, e, code, "11010519491231002X", "张三")
			clerk, police, super := e.LoginDemo(t, "clerk"), e.LoginDemo(t, "reviewer"), e.LoginDemo(t, "supervisor")
			health := deptReviewer(t, e, c)

			// The queue: the clerk (province-wide) and the department's own
			// reviewer see the case; the police-bound reviewer does not.
			want(t, "clerk's queue", clerk.Get(t, "/console/cases"), 200, []string{c.Number, "张三", "待受理", "批量受理", `href="/console/cases/new"`})
			want(t, "health reviewer's queue", health.Get(t, "/console/cases"), 200, []string{c.Number}, "批量受理", `href="/console/cases/new"`)
			want(t, "police reviewer's queue", police.Get(t, "/console/cases"), 200, []string{"没有符合条件的办件"}, c.Number)
			want(t, "police reviewer's case page", police.Get(t, "/console/cases/"+c.ID), 404, nil, c.Number)
			want(t, "queue text filter", clerk.Get(t, "/console/cases?q=李四"), 200, nil, c.Number)
			want(t, "queue state filter", clerk.Get(t, "/console/cases?state=submitted&q=张三"), 200, []string{c.Number})
			want(t, "queue bad filter", clerk.Get(t, "/console/cases?state=bogus"), 422, []string{"无效的状态筛选"})
			want(t, "menu", clerk.Get(t, "/console"), 200, []string{`href="/console/cases"`})

			// The case page offers each role what it may do now, nothing else.
			want(t, "clerk's case page", clerk.Get(t, "/console/cases/"+c.ID), 200,
				[]string{c.Number, "11010519491231002X", "窗口受理", actionInput(cases.Accept), actionInput(cases.AcceptTolerant), actionInput(cases.Refuse),
					actionInput(cases.RequestFix), fmt.Sprintf(`name="version" value="%d"`, c.Version)},
				actionInput(cases.Approve), actionInput(cases.Advance), actionInput(cases.Extend))
			want(t, "health reviewer's case page", health.Get(t, "/console/cases/"+c.ID), 200, []string{actionInput(cases.RequestFix)},
				actionInput(cases.Accept), actionInput(cases.Refuse))
			want(t, "supervisor's case page", super.Get(t, "/console/cases/"+c.ID), 200, []string{`id="no-actions"`}, `name="action"`)

			// Refusals re-render the page with the reason.
			want(t, "supervisor accepting", postAct(t, super, c.ID, c.Version, "accept"), 403, []string{"您无权对该办件执行“受理”", c.Number})
			want(t, "refusal without a reason", postAct(t, clerk, c.ID, c.Version, "refuse"), 422, []string{"请填写办理意见", `id="act-refuse"`})
			want(t, "correction without a list", postAct(t, clerk, c.ID, c.Version, "request_fix", "opinion", "材料不全"), 422,
				[]string{"请一次性列明需要补正的全部内容", "材料不全"})
			want(t, "tolerant acceptance with a bad date", postAct(t, clerk, c.ID, c.Version, "accept_tolerant", "items", "户口簿", "by", "明天"), 422,
				[]string{"请按“年-月-日”填写日期"})
			want(t, "stale page", postAct(t, clerk, c.ID, c.Version-1, "accept"), 409, []string{"该办件已被他人处理或修改，请刷新后查看最新状态"})
			want(t, "unknown action", postAct(t, clerk, c.ID, c.Version, "explode"), 422, []string{"未知的办理操作"})
			if got := current(t, e, c.ID); got.State != cases.Submitted || got.Version != c.Version {
				t.Fatalf("after refused actions: %s v%d, want submitted v%d", got.State, got.Version, c.Version)
			}

			// Acceptance, then the next role's actions.
			res := postAct(t, clerk, c.ID, c.Version, "accept", "opinion", "材料齐全")
			if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/console/cases/"+c.ID {
				t.Fatalf("accept: %d %q %.300s", res.Status, res.Header.Get("Location"), res.Body)
			}
			want(t, "after acceptance", clerk.Get(t, "/console/cases/"+c.ID), 200, []string{"已受理，办件当前状态：办理中（审查）", "材料齐全", "打印受理通知书"},
				actionInput(cases.Accept))
			want(t, "the same accept again", postAct(t, clerk, c.ID, c.Version, "accept"), 409, []string{"办件当前为“办理中”，不能受理"})
			want(t, "clerk advancing", postAct(t, clerk, c.ID, current(t, e, c.ID).Version, "advance"), 403, []string{"您无权对该办件执行“转下一环节”"})
			want(t, "health reviewer's page when accepted", health.Get(t, "/console/cases/"+c.ID), 200,
				[]string{actionInput(cases.Advance), actionInput(cases.RequestFix), actionInput(cases.SpecialStart)},
				actionInput(cases.Approve), actionInput(cases.Extend), actionInput(cases.Accept))
			want(t, "the acceptance notice", clerk.Get(t, "/console/cases/"+c.ID+"/notice/accept"), 200,
				[]string{"受理通知书", c.Number, "data:image/png;base64,", "/progress?number=" + c.Number, "决定予以受理", c.DeptName})
			want(t, "a refusal notice for an accepted case", clerk.Get(t, "/console/cases/"+c.ID+"/notice/refuse"), 409, []string{"不能出具不予受理决定书"})
			want(t, "no such notice", clerk.Get(t, "/console/cases/"+c.ID+"/notice/other"), 404, nil)
		})
	}
}

// TestCaseConsoleBatch: several submitted cases accepted at once, each in
// its own transaction; a stale row is reported, the others go through.
func TestCaseConsoleBatch(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			fixedClock(e, "2026-03-02 10:00")
			code := itemCode(t, e, "出生医学证明首次签发")
			a := walkIn(t, e, code, "11010519491231002X", "张三")
			b := walkIn(t, e, code, "11010519491231002X", "张三")
			c := walkIn(t, e, code, "11010519491231002X", "张三")
			clerk := e.LoginDemo(t, "clerk")
			form := url.Values{"action": {"accept"}, "sel": {
				fmt.Sprintf("%s@%d", a.ID, a.Version), fmt.Sprintf("%s@%d", b.ID, b.Version-1), fmt.Sprintf("%s@%d", c.ID, c.Version)}}
			res := clerk.Post(t, "/console/cases/batch?state=open", form)
			want(t, "batch accept", res, 200, []string{"成功 2 件，未成功 1 件", b.Number, "该办件已被他人处理或修改"})
			for _, x := range []struct {
				c    cases.Case
				want cases.State
			}{{a, cases.Accepted}, {b, cases.Submitted}, {c, cases.Accepted}} {
				if got := current(t, e, x.c.ID).State; got != x.want {
					t.Errorf("%s: %s after the batch, want %s", x.c.Number, got, x.want)
				}
			}
			// Accepting them again: nothing succeeds, every row says why.
			form.Set("sel", fmt.Sprintf("%s@%d", a.ID, a.Version))
			want(t, "batch of only conflicts", clerk.Post(t, "/console/cases/batch", form), 409, []string{"成功 0 件，未成功 1 件", "不能受理"})
			want(t, "batch without a selection", clerk.Post(t, "/console/cases/batch", url.Values{"action": {"accept"}}), 422, []string{"请先勾选"})
			want(t, "batch refusal", clerk.Post(t, "/console/cases/batch", url.Values{"action": {"refuse"}, "sel": {b.ID + "@1"}}), 422,
				[]string{"请选择可以批量执行的操作"})
			// The police reviewer cannot reach the case: reported, not done.
			police := e.LoginDemo(t, "reviewer")
			want(t, "batch out of scope", police.Post(t, "/console/cases/batch", url.Values{"action": {"advance"}, "sel": {fmt.Sprintf("%s@%d", a.ID, a.Version+1)}}),
				404, []string{"办件不存在", "（无法查看的办件）"})
		})
	}
}

// TestCaseConsoleNotices: the correction notice lists every item at once;
// the decision notice carries the reason and, for a denial, the rights of
// appeal.
func TestCaseConsoleNotices(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			fixedClock(e, "2026-03-02 10:00")
			code := itemCode(t, e, "出生医学证明首次签发")
			c := walkIn(t, e, code, "11010519491231002X", "张三")
			clerk := e.LoginDemo(t, "clerk")
			want(t, "correction notice before any", clerk.Get(t, "/console/cases/"+c.ID+"/notice/fix"), 409, nil)
			res := postAct(t, clerk, c.ID, c.Version, "request_fix", "opinion", "请补齐后重新提交", "items", "结婚证复印件\r\n\r\n父亲身份证反面\n")
			if res.Status != http.StatusSeeOther {
				t.Fatalf("correction: %d %.500s", res.Status, res.Body)
			}
			got := current(t, e, c.ID)
			if got.State != cases.Correcting || strings.Join(got.FixItems, "|") != "结婚证复印件|父亲身份证反面" {
				t.Fatalf("after correction: %s %q", got.State, got.FixItems)
			}
			want(t, "correction notice", clerk.Get(t, "/console/cases/"+c.ID+"/notice/fix"), 200,
				[]string{"补正告知书", "一次性告知", "<li>结婚证复印件</li>", "<li>父亲身份证反面</li>", "请补齐后重新提交", "data:image/png;base64,", c.Number})
			// The same notice as PDF, when the Chinese font is there (CI installs it).
			pdf := clerk.Get(t, "/console/cases/"+c.ID+"/notice/fix/pdf")
			if _, err := os.Stat(e.App.Cfg.PDFFont); err == nil {
				if pdf.Status != 200 || pdf.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf.Body, "%PDF-") {
					t.Fatalf("PDF notice: %d %s", pdf.Status, pdf.Header.Get("Content-Type"))
				}
				want(t, "PDF link", clerk.Get(t, "/console/cases/"+c.ID+"/notice/fix"), 200, []string{`id="notice-pdf"`})
			} else if os.Getenv("CI") == "true" {
				t.Fatalf("CI=true but the PDF font %s is missing", e.App.Cfg.PDFFont)
			} else if pdf.Status != 409 {
				t.Fatalf("PDF without a font: %d, want 409", pdf.Status)
			}
			if res := e.Client().Get(t, "/console/cases/"+c.ID+"/notice/fix/pdf"); res.Status == 200 {
				t.Fatal("a PDF notice without signing in")
			}

			// A refused case has its decision with the reason and the rights.
			d := walkIn(t, e, code, "11010519491231002X", "张三")
			if res := postAct(t, clerk, d.ID, d.Version, "refuse", "opinion", "申请人不属于本事项的服务对象"); res.Status != http.StatusSeeOther {
				t.Fatalf("refuse: %d %.500s", res.Status, res.Body)
			}
			want(t, "refusal notice", clerk.Get(t, "/console/cases/"+d.ID+"/notice/refuse"), 200,
				[]string{"不予受理决定书", "申请人不属于本事项的服务对象", "行政复议", "行政诉讼"})

			// A denial at the decision step, by the department's reviewer.
			f := walkIn(t, e, code, "11010519491231002X", "张三")
			health := deptReviewer(t, e, f)
			if res := postAct(t, clerk, f.ID, f.Version, "accept"); res.Status != http.StatusSeeOther {
				t.Fatalf("accept: %d", res.Status)
			}
			if res := postAct(t, health, f.ID, current(t, e, f.ID).Version, "advance"); res.Status != http.StatusSeeOther {
				t.Fatalf("advance: %d %.500s", res.Status, res.Body)
			}
			want(t, "decision step", health.Get(t, "/console/cases/"+f.ID), 200, []string{actionInput(cases.Approve), actionInput(cases.Deny)}, actionInput(cases.Advance))
			if res := postAct(t, health, f.ID, current(t, e, f.ID).Version, "deny", "opinion", "出生医学证明已签发，不能重复首次签发"); res.Status != http.StatusSeeOther {
				t.Fatalf("deny: %d %.500s", res.Status, res.Body)
			}
			want(t, "decision notice", health.Get(t, "/console/cases/"+f.ID+"/notice/decision"), 200,
				[]string{"办结通知书", "不予办理", "出生医学证明已签发，不能重复首次签发", "行政复议", "六个月内"}, "行政许可法")

			// For a 行政许可 the notices cite the law: §38 for a denial.
			var permit string
			if err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT code FROM catalog_items WHERE type_code = 'XK' AND region_code = '150100'
				AND status = 'published' ORDER BY code LIMIT 1`).Scan(&permit); err != nil {
				t.Fatal(err)
			}
			x := walkIn(t, e, permit, "11010519491231002X", "张三")
			hohhot := &authz.Principal{UserID: "t-hohhot", Name: "市审批员", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150100"}}}
			x, err := e.App.Cases.StaffAct(t.Context(), hohhot, x.ID, cases.Accept, cases.Input{}, x.Version)
			for err == nil && !x.Facts().AtDecision() {
				x, err = e.App.Cases.StaffAct(t.Context(), hohhot, x.ID, cases.Advance, cases.Input{}, x.Version)
			}
			if err == nil {
				x, err = e.App.Cases.StaffAct(t.Context(), hohhot, x.ID, cases.Deny, cases.Input{Opinion: "不符合许可条件"}, x.Version)
			}
			if err != nil {
				t.Fatal(err)
			}
			want(t, "permit denial notice", clerk.Get(t, "/console/cases/"+x.ID+"/notice/decision"), 200,
				[]string{"第三十八条第二款", "决定不予行政许可", "不符合许可条件", "行政复议"})
			want(t, "permit acceptance notice", clerk.Get(t, "/console/cases/"+x.ID+"/notice/accept"), 200, []string{"第三十二条第一款第（五）项"})
		})
	}
}

// TestCaseConsoleWalkIn: window registration in two steps, a bad ID number
// refused on its field, then the case page offers acceptance at once.
func TestCaseConsoleWalkIn(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			fixedClock(e, "2026-03-02 10:00")
			code := itemCode(t, e, "出生医学证明首次签发")
			_, it, err := e.App.Catalog.Published(t.Context(), code)
			if err != nil || len(it.Materials) < 1 {
				t.Fatalf("item: %v %d materials", err, len(it.Materials))
			}
			walkIn(t, e, code, "11010519491231002X", "张三")
			clerk := e.LoginDemo(t, "clerk")
			want(t, "police reviewer", e.LoginDemo(t, "reviewer").Get(t, "/console/cases/new"), 403, []string{"您没有窗口收件的权限"})
			want(t, "item search", clerk.Get(t, "/console/cases/new?q="+url.QueryEscape("出生医学证明首次")), 200,
				[]string{"/console/cases/new?item=" + code})
			want(t, "unknown item", clerk.Get(t, "/console/cases/new?item=nonesuch"), 422, []string{"未找到该实施编码的已发布事项"})
			want(t, "step two", clerk.Get(t, "/console/cases/new?item="+code), 200,
				[]string{it.Name, `name="paper" value="` + it.Materials[0].Name + `"`, `name="id_number"`, `name="legal_rep"`})
			form := url.Values{"item": {code}, "kind": {"person"}, "name": {"李四"}, "id_number": {"110105194912310021"}, "phone": {"13900002222"},
				"paper": {it.Materials[0].Name, "伪造的材料"}, "form": {"新生儿姓名：李小宝"}}
			res := clerk.Post(t, "/console/cases/new", form)
			want(t, "bad ID number", res, 422, []string{`id="e-id_number"`, `value="李四"`, "新生儿姓名：李小宝"})
			form.Set("form", "没有冒号的一行")
			want(t, "bad form line", clerk.Post(t, "/console/cases/new", form), 422, []string{"第1行应写作“名称：内容”"})
			form.Set("form", "新生儿姓名：李小宝")
			form.Set("id_number", "11010519491231002X") // 张三's, registered before
			want(t, "someone else's ID number", clerk.Post(t, "/console/cases/new", form), 422, []string{"对应的名称不一致"}, "张三")
			form.Set("name", "张三")
			form.Set("result_method", "post")
			want(t, "by post without an address", clerk.Post(t, "/console/cases/new", form), 422, []string{"请填写邮寄地址", `name="result_method" value="post" checked`})
			form.Set("result_address", "呼和浩特市新城区新华大街1号")
			res = clerk.Post(t, "/console/cases/new", form)
			if res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/console/cases/") {
				t.Fatalf("registration: %d %q %.600s", res.Status, res.Header.Get("Location"), res.Body)
			}
			id := strings.TrimPrefix(res.Header.Get("Location"), "/console/cases/")
			c := current(t, e, id)
			if c.Channel != cases.Window || c.State != cases.Submitted || c.ApplicantName != "张三" || c.Form["新生儿姓名"] != "李小宝" ||
				c.Result != (cases.ResultPref{Method: cases.ByPost, Address: "呼和浩特市新城区新华大街1号"}) {
				t.Fatalf("registered: %+v", c)
			}
			mats, _ := e.App.Cases.Materials(t.Context(), id)
			if len(mats) != 1 || mats[0].Name != it.Materials[0].Name || !mats[0].PaperChecked {
				t.Errorf("materials %+v, want only the item's checked one", mats)
			}
			want(t, "case page after registration", clerk.Get(t, res.Header.Get("Location")), 200,
				[]string{"已收件登记，办件编号 " + c.Number, actionInput(cases.Accept), "纸质原件已核验", "李小宝"})
		})
	}
}

// TestCaseConsoleOverdue: a case past its promised date counts as overdue
// on the dashboard and shows red in the queue.
func TestCaseConsoleOverdue(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			now := fixedClock(e, "2026-03-02 10:00")
			code := itemCode(t, e, "出生医学证明首次签发")
			late := walkIn(t, e, code, "11010519491231002X", "张三")
			clerk := &authz.Principal{UserID: "t-clerk", Name: "综合窗口", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150000"}}}
			late, err := e.App.Cases.StaffAct(t.Context(), clerk, late.ID, cases.Accept, cases.Input{}, late.Version)
			if err != nil {
				t.Fatal(err)
			}
			*now = time.Date(2026, 3, 20, 9, 0, 0, 0, calendar.China)
			fresh := walkIn(t, e, code, "11010519491231002X", "张三")
			if _, err := e.App.Cases.StaffAct(t.Context(), clerk, fresh.ID, cases.Accept, cases.Input{}, fresh.Version); err != nil {
				t.Fatal(err)
			}
			hohhot := e.LoginDemo(t, "hohhot")
			want(t, "dashboard", hohhot.Get(t, "/console/cases/overdue"), 200,
				[]string{late.DeptName, `<span class="badge badge-danger">1</span>`, `<tr id="totals"><th>合计</th><td></td><td class="num">2</td><td class="num">1</td></tr>`})
			want(t, "police dashboard", e.LoginDemo(t, "reviewer").Get(t, "/console/cases/overdue"), 200, []string{"您的范围内没有在办的办件"}, late.DeptName)
			want(t, "red queue", hohhot.Get(t, "/console/cases?alert=red"), 200, []string{late.Number, `data-alert="red"`}, fresh.Number)
			want(t, "late case page", hohhot.Get(t, "/console/cases/"+late.ID), 200, []string{`data-alert="red"`, "已超期"})
		})
	}
}
