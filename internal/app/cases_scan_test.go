package app_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"yiwang/internal/app/apptest"
	"yiwang/internal/cases"
	"yiwang/internal/platform/blob"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// staffUploader is a raw client holding staff member cl's session, for
// multipart posts.
func staffUploader(e *apptest.Env, cl *apptest.Client) *citizenClient {
	c := clientOf(e.Server.URL)
	u, _ := url.Parse(e.Server.URL)
	c.hc.Jar.SetCookies(u, cl.Cookies())
	return c
}

// TestCaseConsoleScans: the window clerk adds a scanned material to a
// walk-in's case and the back office downloads it; only the item's
// material names, only documents, only while the case is open, only staff
// who act on the case; each scan audited.
func TestCaseConsoleScans(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			fixedClock(e, "2026-03-02 10:00")
			code := itemCode(t, e, "出生医学证明首次签发")
			_, it, err := e.App.Catalog.Published(t.Context(), code)
			if err != nil {
				t.Fatal(err)
			}
			c := walkIn(t, e, code, "11010519491231002X", "张三")
			clerk := e.LoginDemo(t, "clerk")
			up := staffUploader(e, clerk)
			page := "/console/cases/" + c.ID
			want(t, "case page offers the scan form", clerk.Get(t, page), 200, []string{`id="scan"`, `<option>` + it.Materials[0].Name + `</option>`})

			pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("s"), 2000)...)
			for _, tc := range []struct {
				what, name string
				content    []byte
				flash      string
			}{
				{"not a material of the item", "伪造的材料", pdf, "请选择要上传的是哪一项材料"},
				{"not a document", it.Materials[0].Name, []byte("MZ\x90\x00 an executable"), "文件类型"},
				{"no file", it.Materials[0].Name, nil, "请选择要上传的文件"},
			} {
				res := up.upload(t, page+"/materials", tc.name, tc.content)
				if res.Status != http.StatusSeeOther {
					t.Fatalf("%s: %d %.300s", tc.what, res.Status, res.Body)
				}
				want(t, tc.what, up.do(t, "GET", page, "", ""), 200, []string{tc.flash}) // the flash is in up's cookies
			}
			if mats, _ := e.App.Cases.Materials(t.Context(), c.ID); len(mats) != 0 {
				t.Fatalf("refused scans stored %d materials", len(mats))
			}

			res := up.upload(t, page+"/materials", it.Materials[0].Name, pdf)
			if res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), page) {
				t.Fatalf("scan: %d %q", res.Status, res.Header.Get("Location"))
			}
			mats, _ := e.App.Cases.Materials(t.Context(), c.ID)
			if len(mats) != 1 || mats[0].BlobKey == "" || mats[0].Size != int64(len(pdf)) {
				t.Fatalf("materials after the scan: %+v", mats)
			}
			var n int
			if err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM audit_log WHERE action = 'cases.material.add' AND target_id = $1`, c.ID).
				Scan(&n); err != nil || n != 1 {
				t.Fatalf("audit entries: %d %v", n, err)
			}
			want(t, "case page lists the scan", up.do(t, "GET", page, "", ""), 200, []string{"已上传材料", page + "/materials/" + mats[0].ID})

			// The department's reviewer downloads it; another department's cannot.
			rev := deptReviewer(t, e, c)
			dl := rev.Get(t, page+"/materials/"+mats[0].ID)
			if dl.Status != 200 || dl.Body != string(pdf) || dl.Header.Get("Content-Type") != "application/pdf" {
				t.Fatalf("download: %d %q", dl.Status, dl.Header.Get("Content-Type"))
			}
			want(t, "other department's reviewer", e.LoginDemo(t, "reviewer").Get(t, page+"/materials/"+mats[0].ID), 404, nil)
			want(t, "unknown material", rev.Get(t, page+"/materials/nope"), 404, nil)

			// A refused case takes no more scans, and its page offers none.
			cur := current(t, e, c.ID)
			if _, err := e.App.Cases.StaffAct(t.Context(), consoleAdmin, c.ID, cases.Refuse, cases.Input{Opinion: "不属于本部门职权范围"}, cur.Version); err != nil {
				t.Fatal(err)
			}
			want(t, "refused case page", clerk.Get(t, page), 200, nil, `id="scan"`)
			up.upload(t, page+"/materials", it.Materials[0].Name, pdf)
			want(t, "scan after refusal", up.do(t, "GET", page, "", ""), 200, []string{"不能再为其上传材料"})
			if mats, _ := e.App.Cases.Materials(t.Context(), c.ID); len(mats) != 1 {
				t.Fatalf("a scan after refusal was stored: %d materials", len(mats))
			}
		})
	}
}

// TestCaseConsoleSupplyLate: 容缺 materials owed past their date are
// flagged on the case page, not before.
func TestCaseConsoleSupplyLate(t *testing.T) {
	e := apptest.Demo(t, sqldbtest.SQLite(t))
	now := fixedClock(e, "2026-03-02 10:00")
	c := walkIn(t, e, itemCode(t, e, "出生医学证明首次签发"), "11010519491231002X", "张三")
	by := now.AddDate(0, 0, 3)
	c, err := e.App.Cases.StaffAct(t.Context(), consoleAdmin, c.ID, cases.AcceptTolerant, cases.Input{Items: []string{"户口簿"}, By: by}, c.Version)
	if err != nil {
		t.Fatal(err)
	}
	clerk := e.LoginDemo(t, "clerk")
	want(t, "owed, in time", clerk.Get(t, "/console/cases/"+c.ID), 200, []string{`id="outstanding"`, "2026-03-05"}, `id="supply-late"`)
	*now = now.AddDate(0, 0, 4)
	want(t, "owed, late", clerk.Get(t, "/console/cases/"+c.ID), 200, []string{`id="supply-late"`})
}

// TestCaseNoticesByEmail: an applicant with a verified e-mail address gets
// each notice by e-mail as well as by SMS; an unverified address gets none.
func TestCaseNoticesByEmail(t *testing.T) {
	e := apptest.Demo(t, sqldbtest.SQLite(t))
	ctx := t.Context()
	fixedClock(e, "2026-03-02 10:00")
	ap := demoCitizen(t, e)
	code := itemCode(t, e, "出生医学证明首次签发")
	count := func(topic, number string) int {
		t.Helper()
		var n int
		if err := e.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE topic = $1 AND payload LIKE $2`, topic, "%"+number+"%").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	file := func() cases.Case {
		t.Helper()
		c, err := e.App.Cases.Draft(ctx, ap, code, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c, err = e.App.Cases.ApplicantAct(ctx, ap, c.ID, cases.Submit, nil, cases.Input{}, c.Version); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := e.App.DB.W.ExecContext(ctx, `UPDATE identity_accounts SET email = $1 WHERE id = $2`, "wxm@example.cn", ap.Account.ID); err != nil {
		t.Fatal(err)
	}
	c := file()
	if count("identity.sms", c.Number) != 1 || count("identity.mail", c.Number) != 0 {
		t.Fatalf("unverified address: %d SMS, %d e-mails", count("identity.sms", c.Number), count("identity.mail", c.Number))
	}
	if _, err := e.App.DB.W.ExecContext(ctx, `UPDATE identity_accounts SET email_verified_at = $1 WHERE id = $2`, time.Now().UTC(), ap.Account.ID); err != nil {
		t.Fatal(err)
	}
	c = file()
	if _, err := e.App.Cases.StaffAct(ctx, consoleAdmin, c.ID, cases.Accept, cases.Input{}, c.Version); err != nil {
		t.Fatal(err)
	}
	if count("identity.sms", c.Number) != 2 || count("identity.mail", c.Number) != 2 {
		t.Fatalf("verified address: %d SMS, %d e-mails, want 2 and 2", count("identity.sms", c.Number), count("identity.mail", c.Number))
	}
}

// TestCaseRemoveMaterialRules: an applicant takes back only their own
// uploads — never a staff scan — and, once the case is under review, only
// files for the owed 容缺 materials.
func TestCaseRemoveMaterialRules(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			fixedClock(e, "2026-03-02 10:00")
			code := itemCode(t, e, "出生医学证明首次签发")
			_, it, err := e.App.Catalog.Published(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			c := walkIn(t, e, code, "11010519491231002X", "张三")
			acct, err := e.App.Identity.AccountByIDNumber(ctx, "11010519491231002X")
			if err != nil {
				t.Fatal(err)
			}
			ap := cases.Applicant{Account: acct}
			file := func(n byte) blob.Blob {
				k := strings.Repeat(string("0123456789abcdef"[n%16]), 64)
				return blob.Blob{Key: k, SHA256: k, Size: 100, ContentType: blob.PDF}
			}
			scan, err := e.App.Cases.ScanMaterial(ctx, consoleAdmin, c.ID, it.Materials[0].Name, file(1))
			if err != nil {
				t.Fatal(err)
			}
			act := func(a cases.Action, in cases.Input) {
				t.Helper()
				cur := current(t, e, c.ID)
				if _, err := e.App.Cases.StaffAct(ctx, consoleAdmin, c.ID, a, in, cur.Version); err != nil {
					t.Fatal(err)
				}
			}
			act(cases.RequestFix, cases.Input{Opinion: "缺户口簿", Items: []string{"户口簿"}})
			mine, err := e.App.Cases.AttachMaterial(ctx, ap, c.ID, "户口簿", file(2))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.App.Cases.RemoveMaterial(ctx, ap, c.ID, scan.ID); errs.KindOf(err) != errs.Forbidden {
				t.Fatalf("the applicant removing a staff scan: %v", err)
			}
			if err := e.App.Cases.RemoveMaterial(ctx, ap, c.ID, mine.ID); err != nil {
				t.Fatalf("the applicant removing their own upload during the correction: %v", err)
			}
			cur := current(t, e, c.ID)
			if _, err := e.App.Cases.ApplicantAct(ctx, ap, c.ID, cases.Resubmit, nil, cases.Input{}, cur.Version); err != nil {
				t.Fatal(err)
			}
			act(cases.AcceptTolerant, cases.Input{Items: []string{"户口簿"}, By: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)})
			owed, err := e.App.Cases.AttachMaterial(ctx, ap, c.ID, "户口簿", file(3))
			if err != nil {
				t.Fatal(err)
			}
			other, err := e.App.Cases.AttachMaterial(ctx, ap, c.ID, it.Materials[0].Name, file(4))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.App.Cases.RemoveMaterial(ctx, ap, c.ID, other.ID); errs.KindOf(err) != errs.Conflict {
				t.Fatalf("removing a reviewed material under review: %v", err)
			}
			if err := e.App.Cases.RemoveMaterial(ctx, ap, c.ID, owed.ID); err != nil {
				t.Fatalf("removing a file for an owed material: %v", err)
			}
			mats, _ := e.App.Cases.Materials(ctx, c.ID)
			if len(mats) != 2 || mats[0].ID != scan.ID || mats[1].ID != other.ID {
				t.Fatalf("materials left %+v", mats)
			}
		})
	}
}

// TestCaseNoticesForEnterprise: an enterprise without a phone of its own,
// whose 经办人 filed the case, is told through the 经办人's phone.
func TestCaseNoticesForEnterprise(t *testing.T) {
	e := apptest.Demo(t, sqldbtest.SQLite(t))
	ctx := t.Context()
	fixedClock(e, "2026-03-02 10:00")
	ent, err := e.App.Identity.AccountByUSCC(ctx, "91150102MA0YW0001D")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.DB.W.ExecContext(ctx, `UPDATE identity_accounts SET phone = NULL WHERE id = $1`, ent.ID); err != nil {
		t.Fatal(err)
	}
	ent.Phone = ""
	agent := demoCitizen(t, e)
	ap := cases.Applicant{Account: agent.Account, Acting: &ent}
	var code string
	if err := e.App.DB.R.QueryRowContext(ctx, `SELECT code FROM catalog_items WHERE status = 'published' AND name LIKE $1 ORDER BY code LIMIT 1`, "%设立登记%").
		Scan(&code); err != nil {
		t.Fatal(err)
	}
	c, err := e.App.Cases.Draft(ctx, ap, code, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c, err = e.App.Cases.ApplicantAct(ctx, ap, c.ID, cases.Submit, nil, cases.Input{}, c.Version); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := e.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE topic = 'identity.sms' AND payload LIKE $1 AND payload LIKE $2`,
		"%"+c.Number+"%", "%"+agent.Account.Phone+"%").Scan(&n); err != nil || n != 1 {
		t.Fatalf("SMS to the 经办人's phone: %d (%v)", n, err)
	}
}
