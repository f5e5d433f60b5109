package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"yiwang/internal/app/apptest"
	"yiwang/internal/calendar"
	"yiwang/internal/cases"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// TestBrowserWalkInJourney is the walk-in at the region hall in a real
// browser: the comprehensive window (综合窗口) registers 张三's application
// for 出生医学证明首次签发 on Friday 13 February 2026, ticks the paper
// originals, scans one more and accepts it; the promised three working
// days run over the make-up Saturday of 14 February and 春节, to Wednesday
// 25 February. The health commission's reviewer finds it in the back-office
// queue, moves it to the decision and approves it on the 25th: on time.
// The result comes back to the hall (统一窗口出件): the clerk finds it in
// the pickup list and hands it to 张三 at the window.
func TestBrowserWalkInJourney(t *testing.T) {
	b := browser(t) // first: skips at once without Chromium
	env := apptest.Demo(t, sqldbtest.SQLite(t))
	now := fixedClock(env, "2026-02-13 10:00")
	code := itemCode(t, env, "出生医学证明首次签发")
	_, it, err := env.App.Catalog.Published(t.Context(), code)
	if err != nil {
		t.Fatal(err)
	}

	b.do("open the console", chromedp.Navigate(env.Server.URL+"/console/login"))
	b.signIn("clerk", env.Logins["clerk"])
	b.load("open the walk-in form", chromedp.Navigate(env.Server.URL+"/console/cases/new?item="+code))
	b.do("choose a person", chromedp.Click(chromedp.CSS(`#walkin input[name="kind"][value="person"]`)))
	b.fillText("#walkin", map[string]string{"name": "张三", "id_number": "11010519491231002X", "phone": "13900001111"})
	b.do("tick the first paper original", chromedp.Click(chromedp.CSS(`#walkin input[name="paper"]`)))
	b.load("register", chromedp.Click(chromedp.CSS(`#walkin button[type="submit"]`)))
	p := b.path()
	id, ok := strings.CutPrefix(p, "/console/cases/")
	if !ok {
		b.fatalf("after registering: at %s", p)
	}
	if s := step(b, "read the state", chromedp.Text(chromedp.CSS("#state"))); s != "待受理" {
		b.fatalf("state %q after registering", s)
	}

	// A scan of the birth certificate application goes with it.
	scan := filepath.Join(t.TempDir(), "申请表.pdf")
	if err := os.WriteFile(scan, []byte("%PDF-1.4\n% 扫描件\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b.do("choose the scan", chromedp.SetValue(chromedp.CSS("#scan-name"), it.Materials[0].Name),
		chromedp.SetUploadFiles(chromedp.CSS(`#scan input[type="file"]`), []string{scan}))
	b.load("upload the scan", chromedp.Click(chromedp.CSS(`#scan button[type="submit"]`)))
	mats := step(b, "read the materials", chromedp.Text(chromedp.CSS("#materials")))
	if !strings.Contains(mats, "纸质原件已核验") || !strings.Contains(mats, "电子文件") {
		b.fatalf("materials:\n%s", mats)
	}

	b.load("accept", chromedp.Click(chromedp.CSS(`#act-accept button[type="submit"]`)))
	if s := step(b, "read the state", chromedp.Text(chromedp.CSS("#state"))); s != "办理中" {
		b.fatalf("state %q after accepting", s)
	}
	dues := step(b, "read the due dates", chromedp.Text(chromedp.CSS("#dues")))
	if !strings.Contains(dues, "2026-02-25") {
		b.fatalf("due dates after accepting on Fri 13 Feb:\n%s\nwant the promised date 2026-02-25 (Sat 14 Feb is a make-up working day, 15–23 Feb 春节)", dues)
	}
	b.load("sign out", chromedp.Click(chromedp.CSS(`form[action="/console/logout"] button`)))

	// The back office: the health commission's reviewer, on the due date.
	*now = time.Date(2026, 2, 25, 9, 0, 0, 0, calendar.China)
	c := current(t, env, id)
	deptReviewer(t, env, c) // creates healthrev
	b.load("open the console again", chromedp.Navigate(env.Server.URL+"/console/login"))
	b.signIn("healthrev", "Xy-12345678")
	b.load("open the queue", chromedp.Navigate(env.Server.URL+"/console/cases"))
	if q := step(b, "read the queue", chromedp.Text(chromedp.CSS("#cases"))); !strings.Contains(q, c.Number) {
		b.fatalf("the back-office queue lacks %s:\n%s", c.Number, q)
	}
	b.load("open the case", chromedp.Click(chromedp.CSS(`a[href="/console/cases/`+id+`"]`)))
	b.load("move to the decision", chromedp.Click(chromedp.CSS(`#act-advance button[type="submit"]`)))
	b.fillText("#act-approve", map[string]string{"opinion": "材料齐全，准予签发"})
	b.load("approve", chromedp.Click(chromedp.CSS(`#act-approve button[type="submit"]`)))
	if s := step(b, "read the state", chromedp.Text(chromedp.CSS("#state"))); s != "办结（通过）" {
		b.fatalf("state %q after approving", s)
	}
	tl := step(b, "read the timeline", chromedp.Text(chromedp.CSS("#timeline")))
	for _, want := range []string{"受理", "转下一环节", "准予办结", "材料齐全，准予签发", "2026-02-25"} {
		if !strings.Contains(tl, want) {
			b.fatalf("timeline lacks %q:\n%s", want, tl)
		}
	}
	if c = current(t, env, id); c.DecidedAt.After(c.PromisedDue.AddDate(0, 0, 1)) {
		t.Fatalf("decided %s, promised by %s", c.DecidedAt, c.PromisedDue)
	}
	b.load("sign out", chromedp.Click(chromedp.CSS(`form[action="/console/logout"] button`)))

	// Back at the hall's pickup window.
	b.load("open the console at the window", chromedp.Navigate(env.Server.URL+"/console/login"))
	b.signIn("clerk", env.Logins["clerk"])
	b.load("open the queue", chromedp.Navigate(env.Server.URL+"/console/cases"))
	b.do("choose the pickup list", chromedp.SetValue(chromedp.CSS(`select[name="state"]`), cases.ToDeliverFilter))
	b.load("filter", chromedp.Click(chromedp.CSS(`form[action="/console/cases"] button[type="submit"]`)))
	if q := step(b, "read the pickup list", chromedp.Text(chromedp.CSS("#cases"))); !strings.Contains(q, c.Number) {
		b.fatalf("the pickup list lacks %s:\n%s", c.Number, q)
	}
	b.load("open the case", chromedp.Click(chromedp.CSS(`a[href="/console/cases/`+id+`"]`)))
	b.do("hand out at the window", chromedp.Click(chromedp.CSS(`#act-deliver input[name="method"][value="window"]`)))
	b.fillText("#act-deliver", map[string]string{"recipient": "张三"})
	b.load("record the delivery", chromedp.Click(chromedp.CSS(`#act-deliver button[type="submit"]`)))
	if d := step(b, "read the delivery", chromedp.Text(chromedp.CSS("#delivery"))); !strings.Contains(d, "窗口领取，领取人：张三") {
		b.fatalf("delivery %q", d)
	}
}
