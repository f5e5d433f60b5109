package staff_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/staff"
)

// cast is the accounts of the scope tests.
type cast struct {
	padmin    staff.User // platform_admin@150000
	hohhot    staff.User // region_admin@150100
	deptAdmin staff.User // dept_admin of deptA
	hh        staff.User // 150100, no department
	inA       staff.User // 150100, deptA
	inC       staff.User // 150100, deptC
	bt        staff.User // 150200
}

func (e *env) cast(t *testing.T) cast {
	t.Helper()
	return cast{
		padmin:    e.user(t, "padmin", "150000", "", authz.Grant{Role: authz.PlatformAdmin, Region: "150000"}),
		hohhot:    e.user(t, "hohhot", "150100", "", authz.Grant{Role: authz.RegionAdmin, Region: "150100"}),
		deptAdmin: e.user(t, "deptadmin", "150100", e.deptA.ID, authz.Grant{Role: authz.DeptAdmin, Region: "150100", DeptID: e.deptA.ID}),
		hh:        e.user(t, "hh1", "150100", ""),
		inA:       e.user(t, "ina", "150100", e.deptA.ID),
		inC:       e.user(t, "inc", "150100", e.deptC.ID),
		bt:        e.user(t, "bt1", "150200", "", authz.Grant{Role: authz.WindowClerk, Region: "150200"}),
	}
}

func TestCreateUserScope(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		c := e.cast(t)
		tests := []struct {
			name    string
			by      *authz.Principal
			region  string
			dept    string
			pass    string
			wantErr bool
			kind    errs.Kind
		}{
			{name: "region admin in own city", by: c.hohhot.Principal(), region: "150100"},
			{name: "region admin in a county of own city", by: c.hohhot.Principal(), region: "150102"},
			{name: "region admin in a department of own city", by: c.hohhot.Principal(), region: "150100", dept: e.deptA.ID},
			{name: "region admin in another city", by: c.hohhot.Principal(), region: "150200", wantErr: true, kind: errs.Forbidden},
			{name: "region admin at the province", by: c.hohhot.Principal(), region: "150000", wantErr: true, kind: errs.Forbidden},
			{name: "department of another city", by: c.hohhot.Principal(), region: "150100", dept: e.deptB.ID, wantErr: true, kind: errs.Invalid},
			{name: "unknown region", by: c.hohhot.Principal(), region: "159999", wantErr: true, kind: errs.Invalid},
			{name: "weak password", by: c.hohhot.Principal(), region: "150100", pass: "password", wantErr: true, kind: errs.Invalid},
			{name: "dept admin in own department", by: c.deptAdmin.Principal(), region: "150100", dept: e.deptA.ID},
			{name: "dept admin outside departments", by: c.deptAdmin.Principal(), region: "150100", wantErr: true, kind: errs.Forbidden},
			{name: "dept admin in another department", by: c.deptAdmin.Principal(), region: "150100", dept: e.deptC.ID, wantErr: true, kind: errs.Invalid}, // out of reach looks absent
			{name: "clerk", by: c.bt.Principal(), region: "150200", wantErr: true, kind: errs.Forbidden},
			{name: "nobody", by: nil, region: "150100", wantErr: true, kind: errs.Unauthenticated},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				in := staff.UserInput{Username: fmt.Sprintf("new%02d", i), DisplayName: "新用户", Region: tc.region, DeptID: tc.dept, Password: pw}
				if tc.pass != "" {
					in.Password = tc.pass
				}
				u, err := e.svc.CreateUser(e.ctx, tc.by, in)
				call := fmt.Sprintf("CreateUser(%s, %s)", tc.region, tc.dept)
				if tc.wantErr {
					wantKind(t, call, err, tc.kind)
					if _, err := e.svc.Login(e.ctx, in.Username, pw, "", ""); err == nil {
						t.Errorf("refused %s still created %s", call, in.Username)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s: %v", call, err)
				}
				if u.Username != in.Username || u.Region != tc.region || u.DeptID != tc.dept || len(u.Grants) != 0 {
					t.Errorf("%s = %+v", call, u)
				}
				e.login(t, in.Username)
				e.wantAudit(t, u.ID, "staff.user.create")
			})
		}
		_, err := e.svc.CreateUser(e.ctx, c.hohhot.Principal(), staff.UserInput{Username: "hh1", DisplayName: "重名", Region: "150100", Password: pw})
		wantKind(t, "CreateUser(taken username)", err, errs.Invalid)
		e.verifyAudit(t)
	})
}

func TestUsersScope(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		c := e.cast(t)
		names := func(t *testing.T, p *authz.Principal, q staff.UserQuery) []string {
			t.Helper()
			page, err := e.svc.Users(e.ctx, p, q)
			if err != nil {
				t.Fatalf("Users: %v", err)
			}
			var out []string
			for _, u := range page.Items {
				out = append(out, u.Username)
			}
			if page.Total != len(out) {
				t.Errorf("Users total = %d, want %d", page.Total, len(out))
			}
			slices.Sort(out)
			return out
		}
		tests := []struct {
			name string
			by   *authz.Principal
			q    staff.UserQuery
			want []string
		}{
			{"platform admin", c.padmin.Principal(), staff.UserQuery{}, []string{"bt1", "deptadmin", "hh1", "hohhot", "ina", "inc", "padmin"}},
			{"region admin", c.hohhot.Principal(), staff.UserQuery{}, []string{"deptadmin", "hh1", "hohhot", "ina", "inc"}},
			{"region admin asks for another city", c.hohhot.Principal(), staff.UserQuery{Region: "150200"}, nil},
			{"region admin searches another city's account", c.hohhot.Principal(), staff.UserQuery{Q: "bt1"}, nil},
			{"region admin searches, case-insensitive", c.hohhot.Principal(), staff.UserQuery{Q: "IN"}, []string{"deptadmin", "ina", "inc"}},
			{"search treats % literally", c.padmin.Principal(), staff.UserQuery{Q: "%"}, nil},
			{"dept admin", c.deptAdmin.Principal(), staff.UserQuery{}, []string{"deptadmin", "ina"}},
			{"clerk of another city", c.bt.Principal(), staff.UserQuery{}, []string{"bt1"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got := names(t, tc.by, tc.q)
				if !slices.Equal(got, tc.want) {
					t.Errorf("Users(%+v) = %v, want %v", tc.q, got, tc.want)
				}
			})
		}
		_, err := e.svc.Users(e.ctx, nil, staff.UserQuery{})
		wantKind(t, "Users(nobody)", err, errs.Unauthenticated)
	})
}

func TestUserScope(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		c := e.cast(t)
		tests := []struct {
			name    string
			by      *authz.Principal
			id      string
			wantErr bool
			kind    errs.Kind
		}{
			{name: "own city", by: c.hohhot.Principal(), id: c.hh.ID},
			{name: "own account", by: c.hohhot.Principal(), id: c.hohhot.ID},
			{name: "another city is hidden", by: c.hohhot.Principal(), id: c.bt.ID, wantErr: true, kind: errs.NotFound},
			{name: "absent", by: c.hohhot.Principal(), id: "no-such-id", wantErr: true, kind: errs.NotFound},
			{name: "dept admin, own department", by: c.deptAdmin.Principal(), id: c.inA.ID},
			{name: "dept admin, other department is hidden", by: c.deptAdmin.Principal(), id: c.inC.ID, wantErr: true, kind: errs.NotFound},
			{name: "dept admin, no department is hidden", by: c.deptAdmin.Principal(), id: c.hh.ID, wantErr: true, kind: errs.NotFound},
			{name: "clerk sees own account", by: c.bt.Principal(), id: c.bt.ID},
			{name: "nobody", by: nil, id: c.hh.ID, wantErr: true, kind: errs.Unauthenticated},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				u, err := e.svc.User(e.ctx, tc.by, tc.id)
				call := fmt.Sprintf("User(%s)", tc.id)
				if tc.wantErr {
					wantKind(t, call, err, tc.kind)
					return
				}
				if err != nil || u.ID != tc.id {
					t.Errorf("%s = %s, %v; want the account", call, u.ID, err)
				}
			})
		}
	})
}

func TestAddGrantScope(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		c := e.cast(t)
		dup := e.user(t, "dup", "150100", "", authz.Grant{Role: authz.WindowClerk, Region: "150100"})
		tests := []struct {
			name    string
			by      *authz.Principal
			user    string
			role    authz.Role
			region  string
			dept    string
			wantErr bool
			kind    errs.Kind
		}{
			{name: "region admin grants clerk in own city", by: c.hohhot.Principal(), user: c.hh.ID, role: authz.WindowClerk, region: "150100"},
			{name: "region admin grants reviewer in a department", by: c.hohhot.Principal(), user: c.inA.ID, role: authz.Reviewer, region: "150100", dept: e.deptA.ID},
			{name: "region admin grants region admin in own city", by: c.hohhot.Principal(), user: c.hh.ID, role: authz.RegionAdmin, region: "150100"},
			{name: "region admin grants platform admin", by: c.hohhot.Principal(), user: c.hh.ID, role: authz.PlatformAdmin, region: "150100", wantErr: true, kind: errs.Forbidden},
			{name: "region admin grants in another city", by: c.hohhot.Principal(), user: c.hh.ID, role: authz.WindowClerk, region: "150200", wantErr: true, kind: errs.Forbidden},
			{name: "region admin grants at the province", by: c.hohhot.Principal(), user: c.hh.ID, role: authz.Supervisor, region: "150000", wantErr: true, kind: errs.Forbidden},
			{name: "region admin grants to another city's account", by: c.hohhot.Principal(), user: c.bt.ID, role: authz.WindowClerk, region: "150100", wantErr: true, kind: errs.NotFound},
			{name: "reviewer without department", by: c.hohhot.Principal(), user: c.hh.ID, role: authz.Reviewer, region: "150100", wantErr: true, kind: errs.Invalid},
			{name: "dept admin without department", by: c.hohhot.Principal(), user: c.hh.ID, role: authz.DeptAdmin, region: "150100", wantErr: true, kind: errs.Invalid},
			{name: "unknown role", by: c.hohhot.Principal(), user: c.hh.ID, role: "janitor", region: "150100", wantErr: true, kind: errs.Invalid},
			{name: "unknown region", by: c.hohhot.Principal(), user: c.hh.ID, role: authz.WindowClerk, region: "159999", wantErr: true, kind: errs.Invalid},
			{name: "department outside the region", by: c.padmin.Principal(), user: c.hh.ID, role: authz.Reviewer, region: "150100", dept: e.deptB.ID, wantErr: true, kind: errs.Invalid},
			{name: "platform admin bound to a department", by: c.padmin.Principal(), user: c.inA.ID, role: authz.PlatformAdmin, region: "150100", dept: e.deptA.ID, wantErr: true, kind: errs.Invalid},
			{name: "duplicate", by: c.hohhot.Principal(), user: dup.ID, role: authz.WindowClerk, region: "150100", wantErr: true, kind: errs.Conflict},
			{name: "dept admin grants clerk within department", by: c.deptAdmin.Principal(), user: c.inA.ID, role: authz.WindowClerk, region: "150100", dept: e.deptA.ID},
			{name: "dept admin grants region admin", by: c.deptAdmin.Principal(), user: c.inA.ID, role: authz.RegionAdmin, region: "150100", wantErr: true, kind: errs.Forbidden},
			{name: "dept admin grants supervisor within department", by: c.deptAdmin.Principal(), user: c.inA.ID, role: authz.Supervisor, region: "150100", dept: e.deptA.ID, wantErr: true, kind: errs.Forbidden},
			{name: "dept admin grants clerk region-wide", by: c.deptAdmin.Principal(), user: c.inA.ID, role: authz.WindowClerk, region: "150100", wantErr: true, kind: errs.Forbidden},
			{name: "dept admin grants clerk in another department", by: c.deptAdmin.Principal(), user: c.inA.ID, role: authz.WindowClerk, region: "150100", dept: e.deptC.ID, wantErr: true, kind: errs.Invalid}, // out of reach looks absent
			{name: "platform admin grants platform admin", by: c.padmin.Principal(), user: c.bt.ID, role: authz.PlatformAdmin, region: "150200"},
			{name: "nobody", by: nil, user: c.hh.ID, role: authz.WindowClerk, region: "150100", wantErr: true, kind: errs.Unauthenticated},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := len(e.reload(t, tc.user).Grants)
				err := e.svc.AddGrant(e.ctx, tc.by, tc.user, tc.role, tc.region, tc.dept)
				call := fmt.Sprintf("AddGrant(%s@%s/%s)", tc.role, tc.region, tc.dept)
				after := e.reload(t, tc.user).Grants
				if tc.wantErr {
					wantKind(t, call, err, tc.kind)
					if len(after) != before {
						t.Errorf("refused %s changed the grants to %+v", call, after)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s: %v", call, err)
				}
				if !slices.ContainsFunc(after, func(g authz.Grant) bool {
					return g.Role == tc.role && g.Region == tc.region && g.DeptID == tc.dept
				}) {
					t.Errorf("after %s grants = %+v", call, after)
				}
			})
		}
		e.wantAudit(t, c.hh.ID, "staff.grant.add")
		e.verifyAudit(t)
	})
}

func TestRemoveGrant(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		c := e.cast(t)
		if err := e.svc.AddGrant(e.ctx, c.hohhot.Principal(), c.hh.ID, authz.WindowClerk, "150100", ""); err != nil {
			t.Fatalf("AddGrant: %v", err)
		}
		if err := e.svc.AddGrant(e.ctx, c.padmin.Principal(), c.hh.ID, authz.PlatformAdmin, "150100", ""); err != nil {
			t.Fatalf("AddGrant: %v", err)
		}
		grantOf := func(t *testing.T, u staff.User, role authz.Role) string {
			t.Helper()
			for _, g := range e.reload(t, u.ID).Grants {
				if g.Role == role {
					return g.ID
				}
			}
			t.Fatalf("%s has no %s grant", u.Username, role)
			return ""
		}
		if err := e.svc.AddGrant(e.ctx, c.hohhot.Principal(), c.inA.ID, authz.WindowClerk, "150100", ""); err != nil {
			t.Fatalf("AddGrant: %v", err)
		}
		clerkGrant, hhAdminGrant := grantOf(t, c.hh, authz.WindowClerk), grantOf(t, c.hh, authz.PlatformAdmin)
		inAClerk := grantOf(t, c.inA, authz.WindowClerk)
		tests := []struct {
			name    string
			by      *authz.Principal
			user    string
			grant   string
			wantErr bool
			kind    errs.Kind
		}{
			{name: "region admin cannot remove platform admin", by: c.hohhot.Principal(), user: c.hh.ID, grant: hhAdminGrant, wantErr: true, kind: errs.Forbidden},
			{name: "platform admin cannot remove own platform admin", by: c.padmin.Principal(), user: c.padmin.ID, grant: grantOf(t, c.padmin, authz.PlatformAdmin), wantErr: true, kind: errs.Conflict},
			{name: "unknown grant", by: c.hohhot.Principal(), user: c.hh.ID, grant: "no-such-grant", wantErr: true, kind: errs.NotFound},
			{name: "another account's grant", by: c.padmin.Principal(), user: c.inA.ID, grant: clerkGrant, wantErr: true, kind: errs.NotFound},
			{name: "account out of scope", by: c.hohhot.Principal(), user: c.bt.ID, grant: grantOf(t, c.bt, authz.WindowClerk), wantErr: true, kind: errs.NotFound},
			{name: "dept admin cannot remove a region-wide grant", by: c.deptAdmin.Principal(), user: c.inA.ID, grant: inAClerk, wantErr: true, kind: errs.Forbidden},
			{name: "region admin cannot touch a platform admin's account", by: c.hohhot.Principal(), user: c.hh.ID, grant: clerkGrant, wantErr: true, kind: errs.Forbidden},
			{name: "platform admin removes another's platform admin", by: c.padmin.Principal(), user: c.hh.ID, grant: hhAdminGrant},
			{name: "region admin removes clerk", by: c.hohhot.Principal(), user: c.hh.ID, grant: clerkGrant},
			{name: "already removed", by: c.hohhot.Principal(), user: c.hh.ID, grant: clerkGrant, wantErr: true, kind: errs.NotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				err := e.svc.RemoveGrant(e.ctx, tc.by, tc.user, tc.grant)
				has := slices.ContainsFunc(e.reload(t, tc.user).Grants, func(g authz.Grant) bool { return g.ID == tc.grant })
				if tc.wantErr {
					wantKind(t, "RemoveGrant", err, tc.kind)
					return
				}
				if err != nil {
					t.Fatalf("RemoveGrant: %v", err)
				}
				if has {
					t.Errorf("grant %s still there after RemoveGrant", tc.grant)
				}
			})
		}
		e.wantAudit(t, c.hh.ID, "staff.grant.remove")
		e.verifyAudit(t)
	})
}

func TestSetDisabled(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		c := e.cast(t)
		err := e.svc.SetDisabled(e.ctx, c.padmin.Principal(), c.padmin.ID, true)
		wantKind(t, "SetDisabled(self, platform admin)", err, errs.Conflict)
		err = e.svc.SetDisabled(e.ctx, c.hohhot.Principal(), c.hohhot.ID, true)
		wantKind(t, "SetDisabled(self, region admin)", err, errs.Conflict)
		err = e.svc.SetDisabled(e.ctx, c.hohhot.Principal(), c.bt.ID, true)
		wantKind(t, "SetDisabled(another city)", err, errs.NotFound)
		err = e.svc.SetDisabled(e.ctx, c.bt.Principal(), c.bt.ID, true)
		wantKind(t, "SetDisabled(self, clerk)", err, errs.Forbidden)

		tok := e.login(t, "hh1").Token
		if err := e.svc.SetDisabled(e.ctx, c.hohhot.Principal(), c.hh.ID, true); err != nil {
			t.Fatalf("SetDisabled: %v", err)
		}
		_, _, err = e.svc.Authenticate(e.ctx, tok)
		wantKind(t, "Authenticate(session of a disabled account)", err, errs.Unauthenticated)
		if list, err := e.svc.Sessions(e.ctx, c.hh.ID); err != nil || len(list) != 0 {
			t.Errorf("Sessions(disabled) = %d sessions, %v; want none", len(list), err)
		}
		_, err = e.svc.Login(e.ctx, "hh1", pw, "", "")
		wantKind(t, "Login(disabled)", err, errs.Forbidden)
		if err := e.svc.SetDisabled(e.ctx, c.hohhot.Principal(), c.hh.ID, false); err != nil {
			t.Fatalf("SetDisabled(false): %v", err)
		}
		e.login(t, "hh1")
		e.wantAudit(t, c.hh.ID, "staff.user.disable", "staff.user.enable")
		e.verifyAudit(t)
	})
}

func TestUpdateUser(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		c := e.cast(t)
		p := c.hohhot.Principal()
		u, err := e.svc.User(e.ctx, p, c.hh.ID)
		if err != nil {
			t.Fatal(err)
		}
		in := staff.UserInput{DisplayName: "王五", Phone: "0471-1234567", Region: "150102", DeptID: e.deptA.ID, Version: u.Version}
		got, err := e.svc.UpdateUser(e.ctx, p, u.ID, in)
		if err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		if got.DisplayName != "王五" || got.Region != "150102" || got.DeptID != e.deptA.ID || got.Version != u.Version+1 {
			t.Errorf("UpdateUser = %+v, want the new name, place and version %d", got, u.Version+1)
		}
		in.DisplayName = "赵六"
		_, err = e.svc.UpdateUser(e.ctx, p, u.ID, in) // in.Version is now stale
		wantKind(t, "UpdateUser(stale version)", err, errs.Conflict)
		if got := e.reload(t, u.ID); got.DisplayName != "王五" {
			t.Errorf("stale UpdateUser changed the name to %q", got.DisplayName)
		}
		in.Version, in.Region, in.DeptID = got.Version, "150200", ""
		_, err = e.svc.UpdateUser(e.ctx, p, u.ID, in)
		wantKind(t, "UpdateUser(move to another city)", err, errs.Forbidden)
		_, err = e.svc.UpdateUser(e.ctx, p, c.bt.ID, staff.UserInput{DisplayName: "赵六", Region: "150200", Version: c.bt.Version})
		wantKind(t, "UpdateUser(account in another city)", err, errs.NotFound)
		e.wantAudit(t, u.ID, "staff.user.update")
		e.verifyAudit(t)
	})
}

// TestAccountTakeover checks that an administrator cannot take over an
// account holding a role they could not grant: resetting its password or
// authenticator, or disabling it, is as good as holding that role.
func TestAccountTakeover(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		c := e.cast(t)
		province := e.user(t, "region", "150000", "", authz.Grant{Role: authz.RegionAdmin, Region: "150000"})
		// A city region admin whose account sits in deptA, within the dept admin's reach.
		boss := e.user(t, "boss", "150100", e.deptA.ID, authz.Grant{Role: authz.RegionAdmin, Region: "150100"})
		padmin2 := e.user(t, "padmin2", "150000", "", authz.Grant{Role: authz.PlatformAdmin, Region: "150000"})
		const stolen = "Stolen-Horse-42"
		tests := []struct {
			name string
			by   staff.User
			of   staff.User
			do   func(p *authz.Principal, id string) error
		}{
			{"region admin resets platform admin's password", province, c.padmin, func(p *authz.Principal, id string) error { return e.svc.ResetPassword(e.ctx, p, id, stolen) }},
			{"region admin resets platform admin's TOTP", province, c.padmin, func(p *authz.Principal, id string) error { return e.svc.ResetTOTP(e.ctx, p, id) }},
			{"region admin disables platform admin", province, padmin2, func(p *authz.Principal, id string) error { return e.svc.SetDisabled(e.ctx, p, id, true) }},
			{"dept admin resets region admin's password", c.deptAdmin, boss, func(p *authz.Principal, id string) error { return e.svc.ResetPassword(e.ctx, p, id, stolen) }},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.do(tc.by.Principal(), tc.of.ID)
				wantKind(t, fmt.Sprintf("%s on %s (%s)", tc.by.Username, tc.of.Username, tc.of.Grants[0].Role), err, errs.Forbidden)
			})
		}
		// The consequence, spelled out: with both resets the province
		// region admin signs in as the platform admin.
		res, err := e.svc.Login(e.ctx, "padmin", stolen, "", "")
		if err != nil {
			return
		}
		if res.NeedEnroll {
			_, u := e.session(t, res.Token)
			secret, _, err := e.svc.BeginEnrollment(e.ctx, u)
			if err != nil {
				return
			}
			if full, err := e.svc.ConfirmEnrollment(e.ctx, res.Token, code(t, secret, e.clock.Now())); err == nil {
				se, u := e.session(t, full)
				if se.MFAOK && u.Principal().HasRole(authz.PlatformAdmin) {
					t.Errorf("region admin %s obtained a full platform-admin session as %s", province.Username, u.Username)
				}
			}
		}
	})
}

// TestAuditTrail checks that each state change appends one entry naming it.
func TestAuditTrail(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		c := e.cast(t)
		p := c.padmin.Principal()
		var u staff.User
		var tok, secret string
		var other string // a second session's token
		steps := []struct {
			action string
			prep   func(t *testing.T) // runs before the trail is read
			do     func(t *testing.T) error
		}{
			{"staff.user.create", nil, func(t *testing.T) (err error) {
				u, err = e.svc.CreateUser(e.ctx, p, staff.UserInput{Username: "audited", DisplayName: "审计对象", Region: "150100", Password: pw})
				return err
			}},
			{"staff.user.update", nil, func(t *testing.T) error {
				_, err := e.svc.UpdateUser(e.ctx, p, u.ID, staff.UserInput{DisplayName: "审计对象二", Region: "150100", Version: u.Version})
				return err
			}},
			{"staff.grant.add", nil, func(t *testing.T) error {
				return e.svc.AddGrant(e.ctx, p, u.ID, authz.WindowClerk, "150100", "")
			}},
			{"staff.grant.remove", nil, func(t *testing.T) error {
				return e.svc.RemoveGrant(e.ctx, p, u.ID, e.reload(t, u.ID).Grants[0].ID)
			}},
			{"staff.login.failed", nil, func(t *testing.T) error {
				if _, err := e.svc.Login(e.ctx, "audited", "Wrong-Horse-9", "", ""); errs.KindOf(err) != errs.Unauthenticated {
					return fmt.Errorf("Login(wrong) = %v", err)
				}
				return nil
			}},
			{"staff.login", nil, func(t *testing.T) error {
				res, err := e.svc.Login(e.ctx, "audited", pw, "", "")
				tok = res.Token
				return err
			}},
			{"staff.totp.enable", nil, func(t *testing.T) (err error) {
				_, cur := e.session(t, tok)
				if secret, _, err = e.svc.BeginEnrollment(e.ctx, cur); err != nil {
					return err
				}
				tok, err = e.svc.ConfirmEnrollment(e.ctx, tok, code(t, secret, e.clock.Now()))
				return err
			}},
			{"staff.totp.disable", nil, func(t *testing.T) error { return e.svc.DisableTOTP(e.ctx, e.reload(t, u.ID), pw) }},
			{"staff.password.change", nil, func(t *testing.T) error {
				se, cur := e.session(t, tok)
				return e.svc.ChangePassword(e.ctx, cur, se.ID, pw, "Battery-Staple-7")
			}},
			{"staff.session.revoke", func(t *testing.T) {
				res, err := e.svc.Login(e.ctx, "audited", "Battery-Staple-7", "", "")
				if err != nil {
					t.Fatalf("Login(new password): %v", err)
				}
				other = res.Token
			}, func(t *testing.T) error {
				se, cur := e.session(t, other)
				return e.svc.RevokeSession(e.ctx, cur, se.ID)
			}},
			{"staff.logout", nil, func(t *testing.T) error { return e.svc.Logout(e.ctx, tok) }},
			{"staff.password.reset", nil, func(t *testing.T) error { return e.svc.ResetPassword(e.ctx, p, u.ID, pw) }},
			{"staff.totp.reset", nil, func(t *testing.T) error { return e.svc.ResetTOTP(e.ctx, p, u.ID) }},
			{"staff.user.disable", nil, func(t *testing.T) error { return e.svc.SetDisabled(e.ctx, p, u.ID, true) }},
			{"staff.user.enable", nil, func(t *testing.T) error { return e.svc.SetDisabled(e.ctx, p, u.ID, false) }},
			{"staff.user.unlock", nil, func(t *testing.T) error { return e.svc.Unlock(e.ctx, p, u.ID) }},
		}
		for _, st := range steps {
			t.Run(st.action, func(t *testing.T) {
				if st.prep != nil {
					st.prep(t)
				}
				var before []string
				if u.ID != "" {
					before = e.actions(t, u.ID)
				}
				if err := st.do(t); err != nil {
					t.Fatalf("%s: %v", st.action, err)
				}
				after := e.actions(t, u.ID)
				if len(after) != len(before)+1 || after[len(after)-1] != st.action {
					t.Errorf("audit trail grew from %v to %v, want one %q entry", before, after, st.action)
				}
			})
		}

		recs, _, err := audit.List(e.ctx, e.eng.DB, audit.Query{TargetID: u.ID, Limit: 500}, "1 = 1", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			switch {
			case r.Action == "staff.login" && r.ActorID != u.ID:
				t.Errorf("staff.login actor = %q, want the account %s", r.ActorID, u.ID)
			case r.Action == "staff.user.create" && (strings.Contains(r.Detail, pw) || strings.Contains(r.Detail, "argon2")):
				t.Errorf("staff.user.create detail %s holds the password", r.Detail)
			}
		}

		// A failed sign-in to no account is recorded too, by a digest of the
		// typed name only (people type passwords into the name field).
		e.svc.Login(e.ctx, "ghost", pw, "", "")
		ghosts, _, err := audit.List(e.ctx, e.eng.DB, audit.Query{Action: "staff.login.failed", Limit: 500}, "1 = 1", nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(ghosts, func(r audit.Record) bool { return strings.Contains(r.Detail, `"username_sha256"`) }) {
			t.Errorf("no staff.login.failed entry for the unknown user")
		}
		if slices.ContainsFunc(ghosts, func(r audit.Record) bool { return strings.Contains(r.Detail, `"ghost"`) }) {
			t.Errorf("the audit log keeps the raw unknown username")
		}
		e.verifyAudit(t)
	})
}
