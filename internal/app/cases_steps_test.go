package app_test

import (
	"errors"
	"slices"
	"testing"

	"yiwang/internal/app/apptest"
	"yiwang/internal/cases"
	"yiwang/internal/catalog"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
)

// hohhotDept is the id and path of the Hohhot city department with name.
func hohhotDept(t *testing.T, e *apptest.Env, name string) (string, string) {
	t.Helper()
	var id, path string
	if err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT id, path FROM departments WHERE name = $1 AND region_code = '150100'`, name).
		Scan(&id, &path); err != nil {
		t.Fatalf("department %s: %v", name, err)
	}
	return id, path
}

// TestCaseRoutedSteps: an item gives its decision to another department's
// approvers (前台综合受理、后台分类审批); the case goes there after review,
// shows in that department's queue and only its approver decides.
func TestCaseRoutedSteps(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			fixedClock(e, "2026-03-02 09:30")
			editor := &authz.Principal{UserID: "editor", Name: "编辑", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150100"}}}
			code := itemCode(t, e, "出生医学证明首次签发")
			rec, it, err := e.App.Catalog.Published(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			healthID, healthPath := hohhotDept(t, e, "呼和浩特市卫生健康委员会")
			policeID, policePath := hohhotDept(t, e, "呼和浩特市公安局")
			if it.DeptID != healthID {
				t.Fatalf("item department %s, want the health commission", it.DeptName)
			}

			// Bad steps are named on their fields and save nothing.
			bad := it
			bad.Steps = []catalog.Step{{Name: "受理", DeptID: policeID}, {Name: "审查", DeptID: "no-such-dept"}, {Name: "决定", Role: "boss"},
				{Name: "送达", Role: catalog.StepApprover}}
			_, err = e.App.Catalog.SaveDraft(ctx, editor, rec.ID, bad, rec.Version)
			if e, ok := errors.AsType[*errs.Error](err); !ok || e.Kind != errs.Invalid || e.Fields["steps[0].dept_id"] == "" || e.Fields["steps[1].dept_id"] == "" ||
				e.Fields["steps[2].role"] == "" || e.Fields["steps[3].role"] == "" {
				t.Fatalf("bad steps: %v", err)
			}
			if r, _, _ := e.App.Catalog.Versions(ctx, editor, rec.ID); r.Version != rec.Version {
				t.Fatalf("a refused draft changed the item: version %d → %d", rec.Version, r.Version)
			}

			republish(t, e, code, []catalog.Step{{Name: "受理"}, {Name: "审查"}, {Name: "决定", DeptID: policeID, Role: catalog.StepApprover}})
			if _, pub, _ := e.App.Catalog.Published(ctx, code); pub.Steps[2].DeptName != "呼和浩特市公安局" {
				t.Fatalf("published steps %+v", pub.Steps)
			}
			apptest.Scenario{Name: "guide", Path: "/items/" + code, Status: 200, Contains: []string{"<strong>决定</strong>（呼和浩特市公安局）"}}.Run(t, e)
			apptest.Scenario{Name: "editor", As: "hohhot", Path: "/console/items/" + rec.ID + "/edit", Status: 200,
				Contains: []string{`name="steps[2].dept_id"`, `value="` + policeID + `" selected`, `name="steps[2].role"`, `value="approve" selected`}}.Run(t, e)

			clerk := &authz.Principal{UserID: "clerk1", Name: "综合窗口", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150000"}}}
			healthReviewer := &authz.Principal{UserID: "hr", Name: "卫健审查", Grants: []authz.Grant{{Role: authz.Reviewer, Region: "150100", DeptID: healthID, DeptPath: healthPath}}}
			policeReviewer := &authz.Principal{UserID: "pr", Name: "公安审查", Grants: []authz.Grant{{Role: authz.Reviewer, Region: "150100", DeptID: policeID, DeptPath: policePath}}}
			policeHead := &authz.Principal{UserID: "ph", Name: "公安负责人", Grants: []authz.Grant{{Role: authz.DeptAdmin, Region: "150100", DeptID: policeID, DeptPath: policePath}}}

			ap := demoCitizen(t, e)
			c, err := e.App.Cases.Draft(ctx, ap, code, map[string]string{"newborn": "王小宝"})
			if err != nil {
				t.Fatal(err)
			}
			if c, err = e.App.Cases.ApplicantAct(ctx, ap, c.ID, cases.Submit, nil, cases.Input{}, c.Version); err != nil {
				t.Fatal(err)
			}
			if c, err = e.App.Cases.StaffAct(ctx, clerk, c.ID, cases.Accept, cases.Input{}, c.Version); err != nil {
				t.Fatal(err)
			}
			if c.AtDeptID != healthID || c.StepName() != "审查" {
				t.Fatalf("accepted: at %s, step %q", c.AtDeptName, c.StepName())
			}
			inQueue := func(p *authz.Principal) bool {
				t.Helper()
				q, _, err := e.App.Cases.Queue(ctx, p, cases.Query{})
				if err != nil {
					t.Fatal(err)
				}
				return slices.ContainsFunc(q, func(x cases.Case) bool { return x.ID == c.ID })
			}
			if !inQueue(healthReviewer) || inQueue(policeReviewer) {
				t.Fatalf("under review: health queue %v, police queue %v", inQueue(healthReviewer), inQueue(policeReviewer))
			}
			if _, err := e.App.Cases.StaffAct(ctx, policeReviewer, c.ID, cases.Advance, cases.Input{}, c.Version); errs.KindOf(err) != errs.NotFound {
				t.Fatalf("the police acting on a case still with health: %v", err)
			}
			if c, err = e.App.Cases.StaffAct(ctx, healthReviewer, c.ID, cases.Advance, cases.Input{}, c.Version); err != nil {
				t.Fatal(err)
			}
			if c.AtDeptID != policeID || c.AtDeptName != "呼和浩特市公安局" || c.StepName() != "决定" {
				t.Fatalf("advanced: at %s, step %q", c.AtDeptName, c.StepName())
			}
			if inQueue(healthReviewer) || !inQueue(policeReviewer) || !inQueue(clerk) {
				t.Fatalf("at the decision: health queue %v, police queue %v, clerk %v", inQueue(healthReviewer), inQueue(policeReviewer), inQueue(clerk))
			}
			// The implementing department still sees the case but no longer decides.
			if _, err := e.App.Cases.Get(ctx, healthReviewer, c.ID); err != nil {
				t.Fatalf("implementing department viewing: %v", err)
			}
			for _, p := range []*authz.Principal{healthReviewer, policeReviewer} {
				if _, err := e.App.Cases.StaffAct(ctx, p, c.ID, cases.Approve, cases.Input{}, c.Version); errs.KindOf(err) != errs.Forbidden {
					t.Fatalf("%s approving an approver's step: %v", p.Name, err)
				}
			}
			if c, err = e.App.Cases.StaffAct(ctx, policeHead, c.ID, cases.Approve, cases.Input{Opinion: "准予"}, c.Version); err != nil {
				t.Fatal(err)
			}
			if c.State != cases.Approved {
				t.Fatalf("state %s", c.State)
			}
			evs, err := e.App.Cases.Events(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			last := evs[len(evs)-1]
			if last.Action != cases.Approve || last.DeptName != "呼和浩特市公安局" || evs[len(evs)-2].DeptName != "呼和浩特市卫生健康委员会" {
				t.Fatalf("events: %+v", evs)
			}
		})
	}
}

// republish gives the published item with code the steps and publishes it.
func republish(t *testing.T, e *apptest.Env, code string, steps []catalog.Step) {
	t.Helper()
	ctx := t.Context()
	editor := &authz.Principal{UserID: "editor", Name: "编辑", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150000"}}}
	reviewer := &authz.Principal{UserID: "reviewer", Name: "审核", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150000"}}}
	rec, it, err := e.App.Catalog.Published(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	it.Steps = steps
	saved, err := e.App.Catalog.SaveDraft(ctx, editor, rec.ID, it, rec.Version)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.App.Catalog.Submit(ctx, editor, rec.ID, saved.Version); err != nil {
		t.Fatal(err)
	}
	if err := e.App.Catalog.Review(ctx, reviewer, rec.ID, true, "", saved.Version+1); err != nil {
		t.Fatal(err)
	}
}

// TestCaseStepsAcrossLevels: a step sent up or down the region tree is
// worked where its department is (县级受理、市级审批, or a city item reviewed
// by a district department), by that department's staff, not by the
// item's region's.
func TestCaseStepsAcrossLevels(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			fixedClock(e, "2026-03-02 09:30")
			clerk := &authz.Principal{UserID: "clerk1", Name: "综合窗口", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150000"}}}
			policeID, policePath := hohhotDept(t, e, "呼和浩特市公安局")
			var districtID, districtPath string
			if err := e.App.DB.R.QueryRowContext(ctx, `SELECT id, path FROM departments WHERE region_code = '150102' AND active = $1 ORDER BY path LIMIT 1`, true).
				Scan(&districtID, &districtPath); err != nil {
				t.Fatal(err)
			}
			file := func(code string) cases.Case {
				t.Helper()
				c := walkIn(t, e, code, "11010519491231002X", "张三")
				c, err := e.App.Cases.StaffAct(ctx, clerk, c.ID, cases.Accept, cases.Input{}, c.Version)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			inQueue := func(p *authz.Principal, id string) bool {
				t.Helper()
				q, _, err := e.App.Cases.Queue(ctx, p, cases.Query{})
				if err != nil {
					t.Fatal(err)
				}
				return slices.ContainsFunc(q, func(x cases.Case) bool { return x.ID == id })
			}

			// Up: a district item decided by the city police's approver.
			var countyCode string
			if err := e.App.DB.R.QueryRowContext(ctx, `SELECT code FROM catalog_items WHERE region_code = '150102' AND status = 'published' ORDER BY code LIMIT 1`).
				Scan(&countyCode); err != nil {
				t.Fatal(err)
			}
			republish(t, e, countyCode, []catalog.Step{{Name: "审查"}, {Name: "决定", DeptID: policeID, Role: catalog.StepApprover}})
			c := file(countyCode)
			countyAdmin := &authz.Principal{UserID: "ca", Name: "新城区管理员", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150102"}}}
			if c, _ = e.App.Cases.StaffAct(ctx, countyAdmin, c.ID, cases.Advance, cases.Input{}, c.Version); c.AtDeptID != policeID || c.AtRegion != "150100" {
				t.Fatalf("advanced to %s in %s", c.AtDeptName, c.AtRegion)
			}
			if _, err := e.App.Cases.StaffAct(ctx, countyAdmin, c.ID, cases.Approve, cases.Input{}, c.Version); errs.KindOf(err) != errs.Forbidden {
				t.Fatalf("the district deciding the city police's step: %v", err)
			}
			if inQueue(countyAdmin, c.ID) {
				t.Fatal("the case with the city police is in the district's queue")
			}
			policeHead := &authz.Principal{UserID: "ph", Name: "公安负责人", Grants: []authz.Grant{{Role: authz.DeptAdmin, Region: "150100", DeptID: policeID, DeptPath: policePath}}}
			if !inQueue(policeHead, c.ID) {
				t.Fatal("the city police's queue lacks the case")
			}
			if _, err := e.App.Cases.StaffAct(ctx, policeHead, c.ID, cases.Approve, cases.Input{}, c.Version); err != nil {
				t.Fatalf("the city police deciding: %v", err)
			}

			// Down: a city item reviewed by a district department.
			cityCode := itemCode(t, e, "出生医学证明首次签发")
			republish(t, e, cityCode, []catalog.Step{{Name: "审查", DeptID: districtID}, {Name: "决定"}})
			c = file(cityCode)
			if c.AtDeptID != districtID || c.AtRegion != "150102" {
				t.Fatalf("accepted into %s in %s", c.AtDeptName, c.AtRegion)
			}
			districtReviewer := &authz.Principal{UserID: "dr", Name: "区审查员", Grants: []authz.Grant{{Role: authz.Reviewer, Region: "150102", DeptID: districtID, DeptPath: districtPath}}}
			if !inQueue(districtReviewer, c.ID) {
				t.Fatal("the district department's queue lacks the case sent down to it")
			}
			if c, err := e.App.Cases.StaffAct(ctx, districtReviewer, c.ID, cases.Advance, cases.Input{}, c.Version); err != nil || c.AtDeptID != c.DeptID || c.AtRegion != "150100" {
				t.Fatalf("the district reviewing: %v, now at %s", err, c.AtDeptName)
			}
		})
	}
}
