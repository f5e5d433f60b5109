package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"yiwang/internal/app/apptest"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// These tests drive a real headless Chromium against the real handler, so
// they catch what the HTTP-level scenario tests cannot: the templates as a
// browser lays them out, the vendored htmx loading under the CSP, the
// lazily loaded console tree, and forms submitted by a browser.

const (
	// browserBudget bounds one test's whole browser session. The browser is
	// started with it, so it outlives every per-step timeout below.
	browserBudget = 60 * time.Second
	// stepTimeout bounds one wait or interaction.
	stepTimeout = 15 * time.Second
)

// cities are the 12 盟市 of 内蒙古自治区 in region-code order.
var cities = []string{"呼和浩特市", "包头市", "乌海市", "赤峰市", "通辽市", "鄂尔多斯市", "呼伦贝尔市", "巴彦淖尔市", "乌兰察布市", "兴安盟", "锡林郭勒盟", "阿拉善盟"}

// chromium returns the browser to run: $YIWANG_CHROMIUM, else /usr/bin/chromium,
// else chromium or chromium-browser on PATH; "" when there is none.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("YIWANG_CHROMIUM"); p != "" {
		full, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("YIWANG_CHROMIUM=%s: %v", p, err)
		}
		return full
	}
	if _, err := exec.LookPath("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// tab is one browser tab of a test.
type tab struct {
	t   *testing.T
	ctx context.Context // the tab; ends with the browser after browserBudget

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// browser starts a fresh headless Chromium for t and returns its tab. It
// skips t when Chromium is missing, except under CI=true where that fails t.
// The browser, its profile and the page's console are cleaned up (and
// checked) when t ends.
func browser(t *testing.T) *tab {
	t.Helper()
	path := chromium(t)
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but Chromium is missing: apt-get install chromium fonts-wqy-zenhei (or set YIWANG_CHROMIUM)")
		}
		t.Skip("needs Chromium: apt-get install chromium fonts-wqy-zenhei")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // we run as root in CI
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.WindowSize(1280, 900),
		// No UserDataDir: without one the allocator gives every browser a
		// fresh temporary profile, and after the browser exits it kills any
		// leftover child processes and deletes the profile. With a folder of
		// our own it would do neither, and t.TempDir's removal could race
		// with Chromium's children still writing into it.
	)
	// The budget comes from context.Background, not from a step: the first
	// action on a context binds the browser's life to that context.
	budget, cancelBudget := context.WithTimeout(context.Background(), browserBudget)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(budget, opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	b := &tab{t: t, ctx: ctx}
	done := make(chan struct{})
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit and removes its profile
		cancelBudget()
		<-done
		b.checkConsole()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser, opens the tab
		close(done)
		t.Fatalf("start %s: %v", path, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	return b
}

// checkConsole logs what the pages wrote to the console and fails t on an
// uncaught exception or a Content-Security-Policy violation: both mean a
// script or style of ours does not work in a real browser.
func (b *tab) checkConsole() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.console {
		line := fmt.Sprintf("browser console %s %s:%d: %s", m.Type, m.URL, m.Line+1, m.Text)
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
			b.t.Error(line)
		} else {
			b.t.Log(line)
		}
	}
}

// step runs a with its own time bound and fails t, with a screenshot of the
// page, when it returns an error.
func step[T any](b *tab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fatalf("%s: %v", what, err)
	}
	return v
}

// do runs actions that return nothing, as one bounded step.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	step(b, what, chromedp.Steps(actions...))
}

// load runs actions that start a navigation (a click on a link or a submit
// button) and waits until the new page has loaded; it returns its response.
func (b *tab) load(what string, actions ...chromedp.Action[chromedp.Void]) *network.Response {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		b.fatalf("%s: %v", what, err)
	}
	return res
}

// waitJS waits until the JavaScript expression expr is truthy.
func (b *tab) waitJS(what, expr string) {
	b.t.Helper()
	step(b, what, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(stepTimeout)))
}

// path returns the path of the current page.
func (b *tab) path() string {
	b.t.Helper()
	loc := step(b, "read location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		b.fatalf("location %q: %v", loc, err)
	}
	return u.Path
}

// fatalf saves a screenshot and the page text for the person reading the
// log, then fails t.
func (b *tab) fatalf(format string, args ...any) {
	b.t.Helper()
	msg := fmt.Sprintf(format, args...)
	if b.ctx.Err() == nil {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer cancel()
		if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
			msg += "\npage: " + loc
		}
		if text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`)); err == nil {
			msg += fmt.Sprintf("\npage text: %.1500s", text)
		}
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			msg += "\nscreenshot: " + strings.Join(b.save("failure", png), ", ")
		}
	} else if errors.Is(context.Cause(b.ctx), context.DeadlineExceeded) {
		msg += fmt.Sprintf("\n(the browser budget of %s is spent)", browserBudget)
	}
	b.t.Fatal(msg)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// save writes a PNG into t's temporary folder and, when YIWANG_SCREENSHOTS
// names a folder, there too; it returns the files written.
func (b *tab) save(name string, png []byte) []string {
	b.t.Helper()
	file := unsafeName.ReplaceAllString(b.t.Name()+"-"+name, "_") + ".png"
	dirs := []string{b.t.TempDir()}
	if d := os.Getenv("YIWANG_SCREENSHOTS"); d != "" {
		dirs = append(dirs, d)
	}
	var out []string
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.t.Errorf("screenshot folder: %v", err)
			continue
		}
		p := filepath.Join(d, file)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			b.t.Errorf("save screenshot: %v", err)
			continue
		}
		out = append(out, p)
	}
	return out
}

// screenshot saves a full-page screenshot of the current page.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	png := step(b, "screenshot", chromedp.FullScreenshot(100))
	b.t.Logf("screenshot %s: %s", name, strings.Join(b.save(name, png), ", "))
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// signIn fills the console's sign-in form on the current page and submits it.
func (b *tab) signIn(username, password string) *network.Response {
	b.t.Helper()
	const form = `form[action="/console/login"]`
	b.do("fill the sign-in form",
		chromedp.WaitVisible(chromedp.CSS(form+` input[name="username"]`)),
		chromedp.Clear(chromedp.CSS(form+` input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(form+` input[name="username"]`), username),
		chromedp.Clear(chromedp.CSS(form+` input[name="password"]`)),
		chromedp.SendKeys(chromedp.CSS(form+` input[name="password"]`), password),
	)
	return b.load("submit the sign-in form", chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)))
}

func TestBrowserConsoleRegionTree(t *testing.T) {
	b := browser(t) // first: skips at once without Chromium
	env := apptest.Demo(t, sqldbtest.SQLite(t))

	b.do("open /console", chromedp.Navigate(env.Server.URL+"/console"))
	if p := b.path(); p != "/console/login" {
		b.fatalf("/console without a session: at %s, want the sign-in form /console/login", p)
	}
	res := b.signIn("region", env.Logins["region"])
	if p := b.path(); p != "/console" || res.Status != 200 {
		b.fatalf("after signing in as region: at %s (status %d), want /console (200)", p, res.Status)
	}

	b.do("wait for the region tree", chromedp.WaitVisible(chromedp.CSS("#region-tree")))
	tree := step(b, "read the region tree", chromedp.Text(chromedp.CSS("#region-tree")))
	for _, name := range append([]string{"内蒙古自治区"}, cities...) {
		if !strings.Contains(tree, name) {
			t.Errorf("region tree lacks %s; it shows:\n%s", name, tree)
		}
	}
	if strings.Contains(tree, "新城区") {
		b.fatalf("region tree shows 新城区 before 呼和浩特市 is expanded; the test cannot prove the lazy load")
	}

	// 呼和浩特市's children are not in the page: opening its <details> fires
	// "toggle", on which htmx fetches /console/regions/150100/children and
	// swaps the fragment in.
	const hohhot = `//ul[@id="region-tree"]//details[summary/span[@class="name" and normalize-space()="呼和浩特市"]]`
	b.do("expand 呼和浩特市", chromedp.Click(chromedp.Search(hohhot+`/summary/span[@class="name"]`)))
	b.waitJS("呼和浩特市's districts to load", `(() => {
		const s = [...document.querySelectorAll("#region-tree details > summary .name")].find(e => e.textContent.trim() === `+js("呼和浩特市")+`);
		const d = s && s.closest("details");
		return !!d && d.open && !d.querySelector(":scope > ul > .htmx-indicator") && d.innerText.includes(`+js("新城区")+`);
	})()`)
	kids := step(b, "read 呼和浩特市's node", chromedp.Text(chromedp.Search(hohhot)))
	for _, name := range []string{"新城区", "回民区", "赛罕区"} {
		if !strings.Contains(kids, name) {
			t.Errorf("expanded 呼和浩特市 lacks %s; it shows:\n%s", name, kids)
		}
	}
	b.screenshot("console-region-tree")
}

func TestBrowserPortalHome(t *testing.T) {
	b := browser(t) // first: skips at once without Chromium
	env := apptest.Demo(t, sqldbtest.SQLite(t))

	b.do("open the portal home", chromedp.Navigate(env.Server.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#cities")))
	// The heading and title are the configured site name (site_name).
	if h1 := step(b, "read the heading", chromedp.Text(chromedp.CSS("h1"))); h1 != env.App.Cfg.SiteName {
		t.Errorf("portal heading %q, want the site name %q", h1, env.App.Cfg.SiteName)
	}
	if title := step(b, "read the title", chromedp.Title()); title != env.App.Cfg.SiteName {
		t.Errorf("portal title %q, want the site name %q", title, env.App.Cfg.SiteName)
	}
	cards := step(b, "read the city cards", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#cities a.card")].map(a => a.querySelector("h3").innerText.trim())`))
	want := append([]string{"内蒙古自治区本级"}, cities...)
	if !slices.Equal(cards, want) {
		t.Errorf("#cities a.card: %d cards %q, want %d: %q", len(cards), cards, len(want), want)
	}
	b.screenshot("portal-home")

	res := b.load("open 呼和浩特市", chromedp.Click(chromedp.Search(`//div[@id="cities"]/a[contains(@class,"card")][h3[normalize-space()="呼和浩特市"]]`)))
	if p := b.path(); p != "/regions/150100" || res.Status != 200 {
		b.fatalf("after clicking 呼和浩特市: at %s (status %d), want /regions/150100 (200)", p, res.Status)
	}
	if h1 := step(b, "read the region heading", chromedp.Text(chromedp.CSS("h1"))); h1 != "呼和浩特市" {
		t.Errorf("region page heading %q, want 呼和浩特市", h1)
	}
	body := step(b, "read the region page", chromedp.Text(chromedp.CSS("main")))
	if !strings.Contains(body, "新城区") {
		t.Errorf("region page of 呼和浩特市 lacks 新城区; it shows:\n%.1500s", body)
	}
	b.screenshot("region-150100")
}

func TestBrowserLoginLockoutMessage(t *testing.T) {
	b := browser(t) // first: skips at once without Chromium
	env := apptest.Demo(t, sqldbtest.SQLite(t))

	b.do("open the sign-in form", chromedp.Navigate(env.Server.URL+"/console/login"))
	// A wrong password is 401; the attempt that locks the account is 429.
	// The status tells the lock apart from the warnings before it, which
	// may say 锁定 too (“再失败 1 次账号将被临时锁定”).
	n := env.App.Cfg.LockoutThreshold // 5 by default
	for i := 1; i <= n; i++ {
		res := b.signIn("hohhot", "wrong-password-"+fmt.Sprint(i))
		if p := b.path(); p != "/console/login" {
			b.fatalf("wrong password %d/%d: at %s, want to stay on /console/login", i, n, p)
		}
		msg := step(b, fmt.Sprintf("read the error of attempt %d", i), chromedp.Text(chromedp.CSS("#login-error")))
		t.Logf("attempt %d: HTTP %d, #login-error: %s", i, res.Status, msg)
		switch {
		case i < n && res.Status != 401:
			b.fatalf("wrong password %d of %d: HTTP %d, #login-error %q; want 401 (not locked yet)", i, n, res.Status, msg)
		case i == n && (res.Status != 429 || !strings.Contains(msg, "锁定")):
			b.fatalf("wrong password %d of %d: HTTP %d, #login-error %q; want 429 and the lockout message (锁定)", i, n, res.Status, msg)
		}
	}
	b.screenshot("login-locked")

	// The right password is refused while the account is locked.
	res := b.signIn("hohhot", env.Logins["hohhot"])
	msg := step(b, "read the error after the right password", chromedp.Text(chromedp.CSS("#login-error")))
	if p := b.path(); p != "/console/login" || res.Status != 429 || !strings.Contains(msg, "锁定") {
		b.fatalf("right password on a locked account: at %s (HTTP %d), #login-error %q; want the lockout message", p, res.Status, msg)
	}
}
