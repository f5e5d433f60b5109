package app_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"yiwang/internal/app/apptest"
	"yiwang/internal/calendar"
	"yiwang/internal/cases"
	"yiwang/internal/identity"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
)

// demoCitizen is the demo's parent in 呼和浩特, as an applicant.
func demoCitizen(t *testing.T, e *apptest.Env) cases.Applicant {
	t.Helper()
	a, err := e.App.Identity.AccountByIDNumber(t.Context(), "150102199003071237")
	if err != nil {
		t.Fatal(err)
	}
	return cases.Applicant{Account: a}
}

// itemCode finds the Hohhot city item with name.
func itemCode(t testing.TB, e *apptest.Env, name string) string {
	t.Helper()
	var code string
	if err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT code FROM catalog_items WHERE name = $1 AND region_code = '150100' AND status = 'published'`,
		name).Scan(&code); err != nil {
		t.Fatalf("item %s: %v", name, err)
	}
	return code
}

// fixedClock sets the cases clock to a moment in China.
func fixedClock(e *apptest.Env, at string) *time.Time {
	now, _ := time.ParseInLocation("2006-01-02 15:04", at, calendar.China)
	e.App.Cases.SetClock(func() time.Time { return now })
	return &now
}

// TestCaseLifecycle is the parent's online case from draft to decision on
// the working-day clock across 春节 2026, with a correction that stops it.
func TestCaseLifecycle(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			now := fixedClock(e, "2026-02-10 09:30")
			ap := demoCitizen(t, e)
			code := itemCode(t, e, "出生医学证明首次签发")
			clerk := &authz.Principal{UserID: "clerk1", Name: "综合窗口", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150000"}}}
			handler := &authz.Principal{UserID: "h1", Name: "卫健委审查员", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150100"}}}

			c, err := e.App.Cases.Draft(ctx, ap, code, map[string]string{"newborn": "王小宝"})
			if err != nil {
				t.Fatal(err)
			}
			if c.State != cases.Draft || c.Number != "" || c.ItemVersion < 1 {
				t.Fatalf("draft: %+v", c)
			}
			if _, err := e.App.Cases.StaffAct(ctx, clerk, c.ID, cases.Accept, cases.Input{}, c.Version); errs.KindOf(err) != errs.NotFound {
				t.Fatalf("staff acting on a draft: %v", err)
			}
			c, err = e.App.Cases.ApplicantAct(ctx, ap, c.ID, cases.Submit, nil, cases.Input{}, c.Version)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Number) != 43 || !strings.HasPrefix(c.Number, code+"20260210") || c.State != cases.Submitted {
				t.Fatalf("submitted: number %q state %s", c.Number, c.State)
			}
			// Roles: the applicant cannot accept, the clerk cannot decide.
			if _, err := e.App.Cases.ApplicantAct(ctx, ap, c.ID, cases.Accept, nil, cases.Input{}, c.Version); errs.KindOf(err) != errs.Forbidden {
				t.Fatalf("applicant accepting: %v", err)
			}
			c, err = e.App.Cases.StaffAct(ctx, clerk, c.ID, cases.Accept, cases.Input{}, c.Version)
			if err != nil {
				t.Fatal(err)
			}
			// 3 working days after Tue 10 Feb: Wed 11, Thu 12, Fri 13.
			if day(c.PromisedDue) != "2026-02-13" || day(c.LegalDue) != "2026-03-16" {
				t.Fatalf("dues after acceptance: promised %s legal %s", day(c.PromisedDue), day(c.LegalDue))
			}
			if _, err := e.App.Cases.StaffAct(ctx, clerk, c.ID, cases.Approve, cases.Input{}, c.Version); errs.KindOf(err) != errs.Forbidden {
				t.Fatalf("clerk deciding: %v", err)
			}
			// Two people at once: one wins, the other is told.
			var wg sync.WaitGroup
			results := make([]error, 2)
			for i := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, results[i] = e.App.Cases.StaffAct(ctx, handler, c.ID, cases.Advance, cases.Input{}, c.Version)
				}()
			}
			wg.Wait()
			if (results[0] == nil) == (results[1] == nil) || errs.KindOf(results[0])+errs.KindOf(results[1]) != errs.Conflict {
				t.Fatalf("concurrent advances: %v / %v, want one success and one conflict", results[0], results[1])
			}
			c, _ = e.App.Cases.Get(ctx, handler, c.ID)
			if c.StepName() != "决定" {
				t.Fatalf("step %q after advancing", c.StepName())
			}
			// Correction on Thu 12 Feb stops the clock; one notice only.
			*now = now.Add(48 * time.Hour)
			if _, err := e.App.Cases.StaffAct(ctx, handler, c.ID, cases.RequestFix, cases.Input{Opinion: "材料不全"}, c.Version); errs.KindOf(err) != errs.Invalid {
				t.Fatalf("correction without the list: %v", err)
			}
			c, err = e.App.Cases.StaffAct(ctx, handler, c.ID, cases.RequestFix, cases.Input{Opinion: "材料不全", Items: []string{"结婚证复印件", "父亲身份证反面"}}, c.Version)
			if err != nil {
				t.Fatal(err)
			}
			if c.State != cases.Correcting || !c.PromisedDue.IsZero() || len(c.FixItems) != 2 {
				t.Fatalf("correcting: %+v", c)
			}
			// Resubmitted on Wed 25 Feb (after 春节): 4 working days come back.
			*now = time.Date(2026, 2, 25, 9, 0, 0, 0, calendar.China)
			c, err = e.App.Cases.ApplicantAct(ctx, ap, c.ID, cases.Resubmit, map[string]string{"newborn": "王小宝", "note": "已补"}, cases.Input{}, c.Version)
			if err != nil {
				t.Fatal(err)
			}
			if c.State != cases.Accepted || day(c.PromisedDue) != "2026-02-26" {
				t.Fatalf("after resubmission: %s due %s, want accepted due 2026-02-26", c.State, day(c.PromisedDue))
			}
			if _, err := e.App.Cases.StaffAct(ctx, handler, c.ID, cases.RequestFix, cases.Input{Opinion: "x", Items: []string{"y"}}, c.Version); errs.KindOf(err) != errs.Conflict {
				t.Fatalf("second correction: %v", err)
			}
			c, err = e.App.Cases.StaffAct(ctx, handler, c.ID, cases.Approve, cases.Input{Opinion: "符合条件，准予签发"}, c.Version)
			if err != nil || c.State != cases.Approved {
				t.Fatalf("approve: %v %s", err, c.State)
			}
			evs, err := e.App.Cases.Events(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, ev := range evs {
				codes = append(codes, fmt.Sprint(ev.Code))
			}
			if got := strings.Join(codes, ","); got != "1,3,8,6,7,11" {
				t.Errorf("event codes %s, want 1,3,8,6,7,11", got)
			}
			var sms int
			e.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE topic = 'identity.sms' AND payload LIKE $1`, "%"+c.Number+"%").Scan(&sms)
			if sms != 4 { // submitted, accepted, correction, decision
				t.Errorf("%d notices to the applicant, want 4", sms)
			}
			// Without a verified address there is no e-mail.
			var mails int
			e.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE topic = 'identity.mail' AND payload LIKE $1`, "%"+c.Number+"%").Scan(&mails)
			if mails != 0 {
				t.Errorf("%d e-mails to an applicant without a verified address", mails)
			}
			if pr, err := e.App.Cases.Progress(ctx, c.Number, "王小明"); err != nil || pr.ID != c.ID {
				t.Errorf("progress lookup: %v", err)
			}
			if _, err := e.App.Cases.Progress(ctx, c.Number, "张三"); errs.KindOf(err) != errs.NotFound {
				t.Errorf("progress lookup with the wrong name: %v", err)
			}
		})
	}
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

// TestCaseNumbersUnderConcurrency: submissions at the same moment get
// distinct numbers, 0001 upwards, on every engine.
func TestCaseNumbersUnderConcurrency(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			fixedClock(e, "2026-03-02 10:00")
			ap := demoCitizen(t, e)
			code := itemCode(t, e, "出生医学证明首次签发")
			const n = 12
			var drafts []cases.Case
			for range n {
				c, err := e.App.Cases.Draft(ctx, ap, code, nil)
				if err != nil {
					t.Fatal(err)
				}
				drafts = append(drafts, c)
			}
			numbers := make([]string, n)
			var wg sync.WaitGroup
			for i, d := range drafts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := e.App.Cases.ApplicantAct(ctx, ap, d.ID, cases.Submit, nil, cases.Input{}, d.Version)
					if err != nil {
						t.Error(err)
						return
					}
					numbers[i] = c.Number
				}()
			}
			wg.Wait()
			seen := map[string]bool{}
			for _, num := range numbers {
				seen[num] = true
			}
			for i := 1; i <= n; i++ {
				if !seen[fmt.Sprintf("%s20260302%04d", code, i)] {
					t.Errorf("number %04d missing: %v", i, numbers)
				}
			}
		})
	}
}

// TestWalkInCase: a clerk registers a walk-in applicant with no account;
// the account is created on the spot, the paper originals recorded, and
// the case can be accepted and handled like an online one.
func TestWalkInCase(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			fixedClock(e, "2026-09-21 10:00")
			clerk := &authz.Principal{UserID: "clerk1", Name: "综合窗口", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150000"}}}
			reviewer := &authz.Principal{UserID: "r", Grants: []authz.Grant{{Role: authz.Reviewer, Region: "150000", DeptID: "x", DeptPath: "/x/"}}}
			in := cases.WalkIn{ItemCode: itemCode(t, e, "出生医学证明补发"), Kind: identity.Person, IDNumber: "11010519491231002X", Name: "张三",
				Phone: "13900001111", Paper: []string{"新生儿父母双方居民身份证", "出生医学证明补发申请表", " "}}
			if _, err := e.App.Cases.RegisterWalkIn(ctx, reviewer, in); errs.KindOf(err) != errs.Forbidden {
				t.Fatalf("a reviewer registering a walk-in: %v", err)
			}
			c, err := e.App.Cases.RegisterWalkIn(ctx, clerk, in)
			if err != nil {
				t.Fatal(err)
			}
			if c.Channel != cases.Window || c.State != cases.Submitted || len(c.Number) != 43 {
				t.Fatalf("walk-in case: %+v", c)
			}
			acct, err := e.App.Identity.AccountByIDNumber(ctx, "11010519491231002X")
			if err != nil || acct.ID != c.ApplicantID {
				t.Fatalf("account created on the spot: %v", err)
			}
			mats, _ := e.App.Cases.Materials(ctx, c.ID)
			if len(mats) != 2 || !mats[0].PaperChecked {
				t.Fatalf("materials %+v", mats)
			}
			// The special procedure over 中秋/国庆 2026 stops the clock.
			c, err = e.App.Cases.StaffAct(ctx, clerk, c.ID, cases.Accept, cases.Input{}, c.Version)
			if err != nil {
				t.Fatal(err)
			}
			if day(c.PromisedDue) != "2026-10-12" { // 10 working days after Mon 21 Sep, over the holidays
				t.Fatalf("due %s", day(c.PromisedDue))
			}
			queue, total, err := e.App.Cases.Queue(ctx, clerk, cases.Query{})
			if err != nil || total < 1 || queue[0].ID != c.ID {
				t.Fatalf("clerk's queue: %d %v", total, err)
			}
		})
	}
}
