package app_test

import (
	"strings"
	"testing"

	"yiwang/internal/app/apptest"
	"yiwang/internal/cases"
	"yiwang/internal/identity"
	"yiwang/internal/org"
	"yiwang/internal/platform/authz"
	"yiwang/internal/staff"
)

// TestDepartmentMoveReachesStaffScopes moves a department (which has a
// case) under another and checks that, once the outbox delivers
// org.department.moved, the case and the staff
// domain's copies of the path follow, so the department's admin keeps
// exactly their department.
func TestDepartmentMoveReachesStaffScopes(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			police, parent := deptID(t, e, "呼和浩特市公安局"), deptID(t, e, "呼和浩特市政务服务与数据管理局")
			u, err := e.App.Staff.Bootstrap(ctx, staff.UserInput{Username: "policeadmin", DisplayName: "公安局管理员", Region: "150100", DeptID: police, Password: "Xy-12345678"},
				[]authz.Grant{{Role: authz.DeptAdmin, Region: "150100", DeptID: police}})
			if err != nil {
				t.Fatal(err)
			}
			admin := &authz.Principal{UserID: "t", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150100"}}}
			// A case handled by the department, to follow it too.
			var code string
			if err := e.App.DB.R.QueryRowContext(ctx, `SELECT code FROM catalog_items WHERE dept_id = $1 AND status = 'published' ORDER BY code LIMIT 1`, police).Scan(&code); err != nil {
				t.Fatal(err)
			}
			c, err := e.App.Cases.RegisterWalkIn(ctx, admin, cases.WalkIn{ItemCode: code, Kind: identity.Person, IDNumber: "11010519491231002X", Name: "张三", Phone: "13900001111"})
			if err != nil {
				t.Fatal(err)
			}
			d, err := e.App.Org.Department(ctx, admin, police)
			if err != nil {
				t.Fatal(err)
			}
			moved, err := e.App.Org.UpdateDepartment(ctx, admin, police, org.DeptInput{Name: d.Name, USCC: d.USCC, Region: d.Region, ParentID: parent, Version: d.Version})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(moved.Path, "/"+parent+"/") {
				t.Fatalf("moved path %q lacks parent", moved.Path)
			}
			// Deliver everything queued (the demo catalogue's events and the move).
			for {
				n, err := e.App.Outbox.RunOnce(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
			}
			var pending int
			if err := e.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE topic = 'org.department.moved' AND done_at IS NULL`).Scan(&pending); err != nil || pending != 0 {
				t.Fatalf("move event not delivered: %d pending, %v", pending, err)
			}
			got, err := e.App.Staff.UserByID(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.DeptPath != moved.Path || len(got.Grants) != 1 || got.Grants[0].DeptPath != moved.Path {
				t.Fatalf("after move: user path %q, grant %+v; want %q", got.DeptPath, got.Grants, moved.Path)
			}
			var casePath string
			if err := e.App.DB.R.QueryRowContext(ctx, `SELECT dept_path FROM cases WHERE id = $1`, c.ID).Scan(&casePath); err != nil || casePath != moved.Path {
				t.Fatalf("case dept path %q after the move, want %q (%v)", casePath, moved.Path, err)
			}
			p := got.Principal()
			if !p.Can(authz.ManageDepts, authz.Target{Region: "150100", DeptPath: moved.Path}) {
				t.Error("department admin lost their department after the move")
			}
			if p.Can(authz.ManageDepts, authz.Target{Region: "150100", DeptPath: "/" + parent + "/"}) {
				t.Error("department admin gained the new parent department")
			}
		})
	}
}
