package app_test

import (
	"strings"
	"testing"

	"yiwang/internal/app/apptest"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// TestCodeCheckAPI is the contract of GET /api/v1/codes/check.
func TestCodeCheckAPI(t *testing.T) {
	e := apptest.New(t, sqldbtest.SQLite(t))
	for _, sc := range []apptest.Scenario{
		{Name: "valid ID number", Path: "/api/v1/codes/check?kind=id&value=11010519491231002X", Status: 200, Contains: []string{`"valid":true`, `"reason":""`}},
		{Name: "wrong check digit", Path: "/api/v1/codes/check?kind=id&value=110105194912310021", Status: 200, Contains: []string{`"valid":false`, "校验"}},
		{Name: "impossible birth date", Path: "/api/v1/codes/check?kind=id&value=110105194902300026", Status: 200, Contains: []string{`"valid":false`, "出生日期"}},
		{Name: "valid credit code", Path: "/api/v1/codes/check?kind=uscc&value=91350100M000100Y43", Status: 200, Contains: []string{`"valid":true`}},
		{Name: "bad credit code", Path: "/api/v1/codes/check?kind=uscc&value=91350100M000100Y44", Status: 200, Contains: []string{`"valid":false`}},
		{Name: "organisation code", Path: "/api/v1/codes/check?kind=org&value=D2143569-X", Status: 200, Contains: []string{`"valid":true`}},
		{Name: "unknown kind", Path: "/api/v1/codes/check?kind=passport&value=E1", Status: 422, Contains: []string{`"code":"invalid"`}},
		{Name: "missing value", Path: "/api/v1/codes/check?kind=id", Status: 422, Contains: []string{`"code":"invalid"`}},
		{Name: "oversized value", Path: "/api/v1/codes/check?kind=id&value=" + strings.Repeat("1", 65), Status: 422, Contains: []string{`"code":"invalid"`}},
		{Name: "documented", Path: "/api/openapi.json", Status: 200, Contains: []string{"/api/v1/codes/check"}},
	} {
		t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
	}
}
