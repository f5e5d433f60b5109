// Package authz decides who may do what where. Roles are constants; a grant
// gives a role at a region (covering every region whose code nests inside it:
// 150000 ⊃ 150100 ⊃ 150102 ⊃ 150102001) and optionally only within one
// department and its sub-departments. Checks are prefix comparisons, in Go for
// single targets and in SQL (Filter) for lists, so both always agree.
package authz

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"yiwang/internal/platform/errs"
)

// Role is a staff role (岗位角色).
type Role string

// The staff roles.
const (
	PlatformAdmin Role = "platform_admin" // 平台管理员
	RegionAdmin   Role = "region_admin"   // 区域管理员
	DeptAdmin     Role = "dept_admin"     // 部门管理员
	WindowClerk   Role = "window_clerk"   // 窗口受理人员
	Reviewer      Role = "reviewer"       // 审核人员
	Supervisor    Role = "supervisor"     // 监督人员
)

// Roles lists every role, most powerful first.
var Roles = []Role{PlatformAdmin, RegionAdmin, DeptAdmin, WindowClerk, Reviewer, Supervisor}

// Label returns the zh-CN name of r.
func (r Role) Label() string {
	switch r {
	case PlatformAdmin:
		return "平台管理员"
	case RegionAdmin:
		return "区域管理员"
	case DeptAdmin:
		return "部门管理员"
	case WindowClerk:
		return "窗口受理人员"
	case Reviewer:
		return "审核人员"
	case Supervisor:
		return "监督人员"
	}
	return string(r)
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// NeedsDept reports whether grants of r must name a department.
func (r Role) NeedsDept() bool { return r == DeptAdmin || r == Reviewer }

// Perm is one permission that handlers check.
type Perm string

// The permissions.
const (
	ViewOrg     Perm = "org.view"       // see departments, halls, windows, staff
	ManageDepts Perm = "org.depts"      // create and edit departments
	ManageHalls Perm = "org.halls"      // create and edit halls and windows
	ManageStaff Perm = "staff.manage"   // create staff, grant roles, unlock
	ViewAudit   Perm = "audit.view"     // browse the audit log
	Platform    Perm = "platform"       // platform operations: reference data, outbox
	EditItems   Perm = "catalog.edit"   // draft and submit service items (事项)
	ReviewItems Perm = "catalog.review" // publish, reject, suspend and revoke items
	// VerifyIdentity lets window staff verify an account holder in person
	// (窗口现场核验), raising the account's assurance level.
	VerifyIdentity Perm = "identity.verify"
	ManageClients  Perm = "identity.clients" // register the systems that sign in through our SSO
	// ManageCalendar lets region admins add and edit their region's special
	// days (地方性节假日) in the working-day calendar; national days need Platform.
	ManageCalendar Perm = "calendar.manage"
	// Cases (办件): see them; accept them at a window (受理); handle them in
	// the back office (审查、决定); approve extensions and revocations (负责人).
	ViewCases    Perm = "cases.view"
	AcceptCases  Perm = "cases.accept"
	HandleCases  Perm = "cases.handle"
	ApproveCases Perm = "cases.approve"
)

var rolePerms = map[Role][]Perm{
	PlatformAdmin: {ViewOrg, ManageDepts, ManageHalls, ManageStaff, ViewAudit, Platform, EditItems, ReviewItems, VerifyIdentity, ManageClients, ManageCalendar,
		ViewCases, AcceptCases, HandleCases, ApproveCases},
	RegionAdmin: {ViewOrg, ManageDepts, ManageHalls, ManageStaff, ViewAudit, EditItems, ReviewItems, VerifyIdentity, ManageCalendar,
		ViewCases, AcceptCases, HandleCases, ApproveCases},
	DeptAdmin:   {ViewOrg, ManageDepts, ManageStaff, EditItems, ViewCases, AcceptCases, HandleCases, ApproveCases},
	WindowClerk: {ViewOrg, VerifyIdentity, ViewCases, AcceptCases},
	Reviewer:    {ViewOrg, ViewCases, HandleCases},
	Supervisor:  {ViewOrg, ViewAudit, ViewCases},
}

// Has reports whether role r carries permission p.
func (r Role) Has(p Perm) bool { return slices.Contains(rolePerms[r], p) }

// Grant is one role held at a region and optionally a department.
type Grant struct {
	ID       string
	Role     Role
	Region   string // region code
	DeptID   string // empty: every department in the region
	DeptPath string // the department's ancestry path "/…/id/", empty with DeptID
}

// Target is where a resource lives: its region and, for departmental
// resources, its department's ancestry path.
type Target struct {
	Region   string
	DeptPath string
}

// Principal is a signed-in staff member and their grants.
type Principal struct {
	UserID string
	Name   string
	Grants []Grant
}

// RegionPrefix returns the part of a region code that every descendant
// shares: 150000 → 15, 150100 → 1501, 150102 → 150102, 150102001 → 150102001.
func RegionPrefix(code string) string {
	switch {
	case len(code) == 6 && code[2:] == "0000":
		return code[:2]
	case len(code) == 6 && code[4:] == "00":
		return code[:4]
	}
	return code
}

// RegionWithin reports whether region code lies within (or is) ancestor.
func RegionWithin(code, ancestor string) bool {
	return ancestor != "" && strings.HasPrefix(code, RegionPrefix(ancestor))
}

// Covers reports whether g reaches t. A grant that names a department but
// lost its path covers nothing: it fails closed, never region-wide.
func (g Grant) Covers(t Target) bool {
	if !RegionWithin(t.Region, g.Region) || (g.DeptID != "" && g.DeptPath == "") {
		return false
	}
	if g.DeptPath == "" {
		return true
	}
	return t.DeptPath != "" && strings.HasPrefix(t.DeptPath, g.DeptPath)
}

// Can reports whether p holds perm over t through any grant.
func (p *Principal) Can(perm Perm, t Target) bool {
	if p == nil {
		return false
	}
	for _, g := range p.Grants {
		if g.Role.Has(perm) && g.Covers(t) {
			return true
		}
	}
	return false
}

// CanAny reports whether p holds perm anywhere (to decide what to show in
// navigation; each action still checks its target).
func (p *Principal) CanAny(perm Perm) bool {
	if p == nil {
		return false
	}
	for _, g := range p.Grants {
		if g.Role.Has(perm) {
			return true
		}
	}
	return false
}

// HasRole reports whether p holds role r anywhere.
func (p *Principal) HasRole(r Role) bool {
	if p == nil {
		return false
	}
	for _, g := range p.Grants {
		if g.Role == r {
			return true
		}
	}
	return false
}

// Scopes returns the grants through which p holds perm.
func (p *Principal) Scopes(perm Perm) []Grant {
	if p == nil {
		return nil
	}
	var out []Grant
	for _, g := range p.Grants {
		if g.Role.Has(perm) {
			out = append(out, g)
		}
	}
	return out
}

// Filter returns an SQL condition that keeps the rows p may reach with perm,
// and its arguments numbered from $next. regionCol is the column holding a
// row's region code; deptPathCol the expression holding its department path
// (empty string or NULL when the row has no department), or "" when rows
// never have one. Without any grant the condition is false.
func (p *Principal) Filter(perm Perm, regionCol, deptPathCol string, next int) (string, []any) {
	var conds []string
	var args []any
	arg := func(v string) string {
		args = append(args, v)
		s := "$" + strconv.Itoa(next)
		next++
		return s
	}
	for _, g := range p.Scopes(perm) {
		if g.Region == "" || (g.DeptID != "" && g.DeptPath == "") {
			continue // covers nothing, as in Covers
		}
		if g.DeptPath != "" && deptPathCol == "" {
			continue // a department grant never reaches rows without a department
		}
		c := regionCol + " LIKE " + arg(RegionPrefix(g.Region)+"%")
		if g.DeptPath != "" {
			c += " AND " + deptPathCol + " LIKE " + arg(g.DeptPath+"%")
		}
		conds = append(conds, "("+c+")")
	}
	if len(conds) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}

// MayGrant reports whether p may give (or take away) grant g: p must manage
// staff where g applies, only a platform admin hands out platform admin,
// only platform and region admins hand out region-wide admin roles, and a
// department-bound granter can only grant within their department.
func (p *Principal) MayGrant(g Grant) bool {
	t := Target{Region: g.Region, DeptPath: g.DeptPath}
	// byOne reports whether one of p's grants with one of roles covers t.
	byOne := func(roles ...Role) bool {
		for _, own := range p.Scopes(ManageStaff) {
			if slices.Contains(roles, own.Role) && own.Covers(t) {
				return true
			}
		}
		return false
	}
	switch g.Role {
	case PlatformAdmin:
		return byOne(PlatformAdmin)
	case RegionAdmin, Supervisor:
		return byOne(PlatformAdmin, RegionAdmin)
	}
	return p.Can(ManageStaff, t)
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, or nil when nobody is signed in.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Require returns nil when p holds perm over t, an Unauthenticated error
// when nobody is signed in, and a Forbidden error otherwise. op names the
// operation for logs.
func (p *Principal) Require(perm Perm, t Target, op string) error {
	if p == nil {
		return &errs.Error{Kind: errs.Unauthenticated, Op: op, Msg: "请先登录"}
	}
	if !p.Can(perm, t) {
		return &errs.Error{Kind: errs.Forbidden, Op: op, Msg: "您没有在该范围内执行此操作的权限"}
	}
	return nil
}

// SignedIn returns the principal in ctx, or an Unauthenticated error.
func SignedIn(ctx context.Context) (*Principal, error) {
	if p := PrincipalFrom(ctx); p != nil {
		return p, nil
	}
	return nil, &errs.Error{Kind: errs.Unauthenticated, Op: "authz.SignedIn", Msg: "请先登录"}
}
