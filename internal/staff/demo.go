package staff

import (
	"context"
	"fmt"

	"yiwang/internal/org"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/password"
)

// DemoLogin is one demo account and its generated password.
type DemoLogin struct {
	Username, Password, Name, Role, Scope string
	Citizen                               bool // a portal account (identity), not staff
}

// SeedDemo creates one staff account per role in the demo province, each
// with a freshly generated password (printed once by the caller).
func (s *Service) SeedDemo(ctx context.Context, province string, orgDemo org.DemoResult) ([]DemoLogin, error) {
	city := province[:2] + "0100"
	market := orgDemo.DeptIDs[province+"/市场监督管理局"]
	police := orgDemo.DeptIDs[province+"/公安厅"]
	accounts := []struct {
		in    UserInput
		grant authz.Grant
		scope string
	}{
		{UserInput{Username: "admin", DisplayName: "平台管理员", Region: province}, authz.Grant{Role: authz.PlatformAdmin, Region: province}, "全区（须绑定身份验证器）"},
		{UserInput{Username: "region", DisplayName: "自治区管理员", Region: province}, authz.Grant{Role: authz.RegionAdmin, Region: province}, "全区"},
		{UserInput{Username: "hohhot", DisplayName: "呼和浩特市管理员", Region: city}, authz.Grant{Role: authz.RegionAdmin, Region: city}, "呼和浩特市"},
		{UserInput{Username: "deptadmin", DisplayName: "市场监管局管理员", Region: province, DeptID: market}, authz.Grant{Role: authz.DeptAdmin, Region: province, DeptID: market}, "自治区市场监督管理局"},
		{UserInput{Username: "clerk", DisplayName: "综合窗口受理员", Region: province}, authz.Grant{Role: authz.WindowClerk, Region: province}, "自治区政务服务中心"},
		{UserInput{Username: "reviewer", DisplayName: "公安厅审核员", Region: province, DeptID: police}, authz.Grant{Role: authz.Reviewer, Region: province, DeptID: police}, "自治区公安厅"},
		{UserInput{Username: "supervisor", DisplayName: "效能监督员", Region: province}, authz.Grant{Role: authz.Supervisor, Region: province}, "全区"},
	}
	var out []DemoLogin
	for _, a := range accounts {
		a.in.Password = password.Demo()
		if _, err := s.Bootstrap(ctx, a.in, []authz.Grant{a.grant}); err != nil {
			return nil, fmt.Errorf("staff.SeedDemo: %s: %w", a.in.Username, err)
		}
		out = append(out, DemoLogin{Username: a.in.Username, Password: a.in.Password, Name: a.in.DisplayName, Role: a.grant.Role.Label(), Scope: a.scope})
	}
	return out, nil
}
