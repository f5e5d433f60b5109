package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"yiwang/internal/app/apptest"
	"yiwang/internal/cases"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// TestBrowserCaseParentJourney is the parent's case in a real browser: 王小明
// signs in on the way to the online form of 出生医学证明首次签发 and submits
// it; staff accept it and ask, once, for two corrections (driven through the
// service: the console pages are another test's); he reads the correction
// notice, uploads the scan it asks for, resubmits, and after the decision
// sees 办结（通过） and the timeline, in his case list too.
func TestBrowserCaseParentJourney(t *testing.T) {
	b := browser(t) // first: skips at once without Chromium
	env := apptest.Demo(t, sqldbtest.SQLite(t))
	ctx := t.Context()
	fixedClock(env, "2026-03-02 10:00")
	code := itemCode(t, env, "出生医学证明首次签发")
	apply := "/items/" + code + "/apply"

	// The form asks for a sign-in and comes back.
	b.load("open the form", chromedp.Navigate(env.Server.URL+apply))
	if p := b.path(); p != "/login" {
		b.fatalf("the form unsigned: at %s, want /login", p)
	}
	b.fill(`form[action="/login"]`, map[string]string{"username": demoCitizenID, "password": env.Logins[demoCitizenID]})
	b.load("sign in", chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)))
	if p := b.path(); p != apply {
		b.fatalf("after signing in: at %s, want %s", p, apply)
	}
	who := step(b, "read the applicant", chromedp.Text(chromedp.CSS("#applicant")))
	if !strings.Contains(who, "王小明") || strings.Contains(who, demoCitizenID) {
		b.fatalf("applicant box %q", who)
	}
	if m := step(b, "read the materials", chromedp.Text(chromedp.CSS("#materials"))); !strings.Contains(m, "新生儿父母双方居民身份证") {
		b.fatalf("materials %q", m)
	}

	// Submitting without the reason is refused on the page.
	b.load("submit empty", chromedp.Click(chromedp.CSS(`#apply-form button[value="submit"]`)))
	if e := step(b, "read the field error", chromedp.Text(chromedp.CSS("#e-child_name"))); !strings.Contains(e, "请填写新生儿姓名") {
		b.fatalf("field error %q", e)
	}
	b.fillText("#apply-form", map[string]string{"child_name": "王小宝", "mother_id_number": "11010519491231002X", "father_id_number": demoCitizenID,
		"hukou_region": "150102", "address": "呼和浩特市新城区海拉尔东街1号"})
	b.do("pick the birth date and gender", chromedp.SetValue(chromedp.CSS("#f-birth_date"), "2026-02-28"), chromedp.SetValue(chromedp.CSS("#f-gender"), "男"))
	b.load("submit", chromedp.Click(chromedp.CSS(`#apply-form button[value="submit"]`)))
	p := b.path()
	id, ok := strings.CutPrefix(p, "/my/cases/")
	if !ok {
		b.fatalf("after submitting: at %s", p)
	}
	if s := step(b, "read the state", chromedp.Text(chromedp.CSS("#case-state"))); s != "待受理" {
		b.fatalf("state %q after submitting", s)
	}
	number := step(b, "read the number", chromedp.Text(chromedp.CSS("#case-number")))
	if !strings.HasPrefix(number, code+"20260302") {
		b.fatalf("number %q", number)
	}

	// The window accepts; the handler asks for two corrections.
	c, err := env.App.Cases.Mine(ctx, demoCitizen(t, env), id)
	if err != nil {
		t.Fatal(err)
	}
	clerk := &authz.Principal{UserID: "clerk1", Name: "综合窗口", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150000"}}}
	handler := &authz.Principal{UserID: "h1", Name: "卫健委审查员", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150100"}}}
	if c, err = env.App.Cases.StaffAct(ctx, clerk, id, cases.Accept, cases.Input{}, c.Version); err != nil {
		t.Fatal(err)
	}
	if c, err = env.App.Cases.StaffAct(ctx, handler, id, cases.RequestFix, cases.Input{Opinion: "材料不全",
		Items: []string{"父母结婚证复印件", "父亲居民身份证反面"}}, c.Version); err != nil {
		t.Fatal(err)
	}

	b.load("see the correction notice", chromedp.Reload())
	fix := step(b, "read the correction notice", chromedp.Text(chromedp.CSS("#correction")))
	for _, want := range []string{"补正告知", "父母结婚证复印件", "父亲居民身份证反面", "材料不全"} {
		if !strings.Contains(fix, want) {
			b.fatalf("correction notice lacks %q:\n%s", want, fix)
		}
	}
	b.screenshot("case-correction")
	if v := step(b, "read the kept answers", chromedp.Value(chromedp.CSS("#resubmit-form #f-child_name"))); v != "王小宝" {
		b.fatalf("resubmission form holds %q", v)
	}
	// The marriage certificate, scanned, goes up with the correction.
	scan := filepath.Join(t.TempDir(), "结婚证.pdf")
	if err := os.WriteFile(scan, []byte("%PDF-1.4\n% 结婚证复印件\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b.do("choose the scan", chromedp.SetValue(chromedp.CSS("#u-name"), "父母结婚证复印件"), chromedp.SetUploadFiles(chromedp.CSS("#u-file"), []string{scan}))
	b.load("upload the scan", chromedp.Click(chromedp.CSS(`#upload-form button[type="submit"]`)))
	if up := step(b, "read the uploads", chromedp.Text(chromedp.CSS("#uploaded"))); !strings.Contains(up, "父母结婚证复印件") || !strings.Contains(up, "PDF") {
		b.fatalf("uploads %q", up)
	}
	b.fillText("#resubmit-form", map[string]string{"opinion": "已补交结婚证复印件和父亲身份证反面"})
	b.load("resubmit", chromedp.Click(chromedp.CSS(`#resubmit-form button[type="submit"]`)))
	if s := step(b, "read the state", chromedp.Text(chromedp.CSS("#case-state"))); s != "办理中" {
		b.fatalf("state %q after resubmitting", s)
	}

	// The handler reviews and approves.
	if c, err = env.App.Cases.Mine(ctx, demoCitizen(t, env), id); err != nil {
		t.Fatal(err)
	}
	if c, err = env.App.Cases.StaffAct(ctx, handler, id, cases.Advance, cases.Input{}, c.Version); err != nil {
		t.Fatal(err)
	}
	if _, err = env.App.Cases.StaffAct(ctx, handler, id, cases.Approve, cases.Input{Opinion: "符合条件，准予签发"}, c.Version); err != nil {
		t.Fatal(err)
	}
	b.load("see the decision", chromedp.Reload())
	if s := step(b, "read the state", chromedp.Text(chromedp.CSS("#case-state"))); s != "办结（通过）" {
		b.fatalf("state %q after the decision", s)
	}
	tl := step(b, "read the timeline", chromedp.Text(chromedp.CSS("#timeline")))
	for _, want := range []string{"提交申请", "受理", "一次性告知补正", "补正后重新提交", "已补交结婚证复印件", "转下一环节", "准予办结", "符合条件，准予签发"} {
		if !strings.Contains(tl, want) {
			b.fatalf("timeline lacks %q:\n%s", want, tl)
		}
	}
	b.screenshot("case-approved")
	b.load("open my cases", chromedp.Click(chromedp.CSS("#nav-cases")))
	if list := step(b, "read my cases", chromedp.Text(chromedp.CSS("#my-cases"))); !strings.Contains(list, number) || !strings.Contains(list, "办结（通过）") {
		b.fatalf("my cases:\n%s", list)
	}
}

// fillText types values into the empty fields named by the keys of
// fields, inside form (fill's chromedp.Clear fails on an empty textarea).
func (b *tab) fillText(form string, fields map[string]string) {
	b.t.Helper()
	for name, v := range fields {
		sel := chromedp.CSS(form + ` [name="` + name + `"]`)
		b.do("fill "+name, chromedp.WaitVisible(sel), chromedp.SendKeys(sel, v))
	}
}
