package app_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"yiwang/internal/app/apptest"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// fill types values into the inputs named by the keys of fields, inside form.
func (b *tab) fill(form string, fields map[string]string) {
	b.t.Helper()
	for name, v := range fields {
		sel := chromedp.CSS(form + ` [name="` + name + `"]`)
		b.do("fill "+name, chromedp.WaitVisible(sel), chromedp.Clear(sel), chromedp.SendKeys(sel, v))
	}
}

// TestBrowserCitizenSearchRegisterSignIn is the start of the parent's
// journey in a real browser: search 出生, open the guide, register with an
// SMS code, sign out, sign in again and see the sign-in history.
func TestBrowserCitizenSearchRegisterSignIn(t *testing.T) {
	b := browser(t) // first: skips at once without Chromium
	env := apptest.Demo(t, sqldbtest.SQLite(t))

	b.do("open the portal home", chromedp.Navigate(env.Server.URL+"/"))
	b.fill(`form[action="/search"]`, map[string]string{"q": "出生"})
	b.load("search 出生", chromedp.Submit(chromedp.CSS(`form[action="/search"] input[name="q"]`)))
	if p := b.path(); p != "/search" {
		b.fatalf("after searching: at %s", p)
	}
	first := step(b, "read the first hit", chromedp.Text(chromedp.CSS("#results li h3 a")))
	if !strings.Contains(first, "出生") {
		b.fatalf("first hit %q does not mention 出生", first)
	}
	b.load("open the guide", chromedp.Click(chromedp.CSS("#results li h3 a")))
	if p := b.path(); !strings.HasPrefix(p, "/items/") {
		b.fatalf("guide at %s", p)
	}
	b.do("wait for the guide", chromedp.WaitVisible(chromedp.CSS("#guide")))

	b.load("go to sign in", chromedp.Click(chromedp.CSS("#nav-login")))
	b.load("go to register", chromedp.Click(chromedp.Search(`//a[normalize-space()="注册个人账号"]`)))
	const form = `#register-form`
	id := "150102199505123455"
	b.fill(form, map[string]string{"name": "王小明", "id_number": id, "phone": "13900471234"})
	b.load("ask for a code", chromedp.Click(chromedp.CSS(form+` button[value="send_code"]`)))
	b.do("wait for the code notice", chromedp.WaitVisible(chromedp.CSS("#code-sent")))
	b.fill(form, map[string]string{"code": smsCode(t, env, "13900471234"), "password": "Grass-Land-2026", "password2": "Grass-Land-2026"})
	b.load("register", chromedp.Click(chromedp.CSS(form+` button[value="register"]`)))
	if p := b.path(); p != "/account" {
		b.fatalf("after registering: at %s", p)
	}
	if h := step(b, "read the header", chromedp.Text(chromedp.CSS("#nav-account"))); !strings.Contains(h, "王小明") {
		b.fatalf("header %q does not name the citizen", h)
	}

	b.load("sign out", chromedp.Click(chromedp.Search(`//form[@action="/logout"]/button`)))
	b.load("go to sign in", chromedp.Click(chromedp.CSS("#nav-login")))
	b.fill(`form[action="/login"]`, map[string]string{"username": id, "password": "Grass-Land-2026"})
	b.load("sign in", chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)))
	if p := b.path(); p != "/account" {
		b.fatalf("after signing in: at %s", p)
	}
	hist := step(b, "read the sign-in history", chromedp.Text(chromedp.CSS("#history")))
	if n := strings.Count(hist, "登录成功"); n != 2 {
		b.fatalf("history shows %d successful sign-ins, want 2:\n%s", n, hist)
	}
	b.screenshot("citizen-account")
}
