package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
)

// DepartmentByUSCC returns the department with the 统一社会信用代码 uscc,
// if p may see it; a department out of p's scope is answered like a
// missing one (NotFound). Imports name departments by credit code.
func (s *Service) DepartmentByUSCC(ctx context.Context, p *authz.Principal, uscc string) (Department, error) {
	const op = "org.Service.DepartmentByUSCC"
	uscc = strings.ToUpper(strings.TrimSpace(uscc))
	if uscc == "" {
		return Department{}, &errs.Error{Kind: errs.NotFound, Op: op, Msg: "部门不存在"}
	}
	d, err := scanDept(s.db.R.QueryRowContext(ctx, `SELECT `+deptColumns+deptFrom+` WHERE d.uscc = $1`, uscc))
	if errors.Is(err, sql.ErrNoRows) {
		return Department{}, &errs.Error{Kind: errs.NotFound, Op: op, Msg: "部门不存在"}
	}
	if err != nil {
		return Department{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := visible(p, deptTarget(d), op, "部门"); err != nil {
		return Department{}, err
	}
	return d, nil
}
