package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/sqldb"
)

const deptColumns = `d.id, d.name, d.short_name, COALESCE(d.uscc, ''), d.region_code, r.name, COALESCE(d.parent_id, ''), d.path,
	d.phone, d.address, d.sort, d.active, d.created_at, d.updated_at, d.version`

const deptFrom = ` FROM departments d JOIN regions r ON r.code = d.region_code`

func scanDept(s interface{ Scan(...any) error }) (Department, error) {
	var d Department
	err := s.Scan(&d.ID, &d.Name, &d.ShortName, &d.USCC, &d.Region, &d.RegionName, &d.ParentID, &d.Path,
		&d.Phone, &d.Address, &d.Sort, &d.Active, &d.CreatedAt, &d.UpdatedAt, &d.Version)
	return d, err
}

func getDept(ctx context.Context, q sqldb.Querier, id string) (Department, error) {
	d, err := scanDept(q.QueryRowContext(ctx, `SELECT `+deptColumns+deptFrom+` WHERE d.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Department{}, &errs.Error{Kind: errs.NotFound, Op: "org.getDept", Msg: "部门不存在"}
	}
	if err != nil {
		return Department{}, fmt.Errorf("org.getDept(%q): %w", id, err)
	}
	return d, nil
}

func listDepts(ctx context.Context, q sqldb.Querier, w *sqldb.Where, limit, offset int) ([]Department, int, error) {
	var total int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*)`+deptFrom+w.String(), w.Args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("org.listDepts: count: %w", err)
	}
	page, args := w.Page(limit, offset)
	rows, err := q.QueryContext(ctx, `SELECT `+deptColumns+deptFrom+w.String()+` ORDER BY d.region_code ASC, d.sort ASC, d.name ASC`+page, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("org.listDepts: %w", err)
	}
	defer rows.Close()
	var out []Department
	for rows.Next() {
		d, err := scanDept(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("org.listDepts: %w", err)
		}
		out = append(out, d)
	}
	return out, total, rows.Err()
}

func insertDept(ctx context.Context, tx *sql.Tx, d Department) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO departments (id, name, short_name, uscc, region_code, parent_id, path, phone, address, sort, active, created_at, updated_at, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, 1)`,
		d.ID, d.Name, d.ShortName, sqldb.NullString(d.USCC), d.Region, sqldb.NullString(d.ParentID), d.Path, d.Phone, d.Address, d.Sort, d.Active, d.CreatedAt)
	return deptWriteErr("org.insertDept", err)
}

func deptWriteErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case sqldb.IsUniqueViolation(err):
		msg := "同一地区已有同名部门"
		field := "name"
		if strings.Contains(err.Error(), "uscc") {
			msg, field = "该统一社会信用代码已被其他部门使用", "uscc"
		}
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: msg, Fields: map[string]string{field: msg}, Err: err}
	case sqldb.IsForeignKeyViolation(err):
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "所选行政区划或上级部门不存在",
			Fields: map[string]string{"region": "请确认行政区划代码", "parent_id": "请确认上级部门"}, Err: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// stale is the error for an update that lost to someone else's.
func stale(op string) error {
	return &errs.Error{Kind: errs.Conflict, Op: op, Msg: "该记录已被他人修改，请刷新页面后重试"}
}

const hallColumns = `h.id, h.name, h.region_code, r.name, h.address, h.phone, h.hours, h.active, h.created_at, h.updated_at, h.version,
	(SELECT COUNT(*) FROM hall_windows w WHERE w.hall_id = h.id)`

const hallFrom = ` FROM halls h JOIN regions r ON r.code = h.region_code`

func scanHall(s interface{ Scan(...any) error }) (Hall, error) {
	var h Hall
	err := s.Scan(&h.ID, &h.Name, &h.Region, &h.RegionName, &h.Address, &h.Phone, &h.Hours, &h.Active, &h.CreatedAt, &h.UpdatedAt, &h.Version, &h.Windows)
	return h, err
}

func getHall(ctx context.Context, q sqldb.Querier, id string) (Hall, error) {
	h, err := scanHall(q.QueryRowContext(ctx, `SELECT `+hallColumns+hallFrom+` WHERE h.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Hall{}, &errs.Error{Kind: errs.NotFound, Op: "org.getHall", Msg: "大厅不存在"}
	}
	if err != nil {
		return Hall{}, fmt.Errorf("org.getHall(%q): %w", id, err)
	}
	return h, nil
}

func hallWriteErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case sqldb.IsUniqueViolation(err):
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "同一地区已有同名大厅", Fields: map[string]string{"name": "同一地区已有同名大厅"}, Err: err}
	case sqldb.IsForeignKeyViolation(err):
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "所选行政区划不存在", Fields: map[string]string{"region": "所选行政区划不存在"}, Err: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}

const windowColumns = `w.id, w.hall_id, w.number, w.name, w.kind, COALESCE(w.dept_id, ''), COALESCE(d.name, ''), COALESCE(d.path, ''), w.active, w.version`

const windowFrom = ` FROM hall_windows w LEFT JOIN departments d ON d.id = w.dept_id`

func scanWindow(s interface{ Scan(...any) error }) (Window, error) {
	var w Window
	err := s.Scan(&w.ID, &w.HallID, &w.Number, &w.Name, &w.Kind, &w.DeptID, &w.DeptName, &w.DeptPath, &w.Active, &w.Version)
	return w, err
}

func windowWriteErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case sqldb.IsUniqueViolation(err):
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "该大厅已有相同编号的窗口", Fields: map[string]string{"number": "该大厅已有相同编号的窗口"}, Err: err}
	case sqldb.IsForeignKeyViolation(err):
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "所选部门不存在", Fields: map[string]string{"dept_id": "所选部门不存在"}, Err: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}
