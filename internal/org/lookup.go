package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/outbox"
	"yiwang/internal/platform/sqldb"
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

// SubtreeIDs returns the ids of the department at path and every
// department below it, at most limit of them (ok is false beyond): lists
// scoped to a department subtree can then match a stable department id
// instead of a path prefix.
func (s *Service) SubtreeIDs(ctx context.Context, path string, limit int) (ids []string, ok bool, err error) {
	if path == "" {
		return nil, false, nil
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT id FROM departments WHERE path LIKE $1 ESCAPE '\' ORDER BY id LIMIT $2`, sqldb.EscapeLike(path)+"%", limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("org.Service.SubtreeIDs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, false, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if len(ids) > limit {
		return nil, false, nil
	}
	return ids, true, nil
}

// RepathRows keeps a domain's copies of department paths current after a
// department moved (the org.department.moved message m): in each of the
// caller's tables (with dept_id and dept_path columns), every row under the
// moved department gets its department's current path, all in one
// transaction. Re-reading the paths (rather than applying the event's
// prefixes) makes redelivery and reordering harmless. The tables are the
// caller's own; org only supplies the paths.
func (s *Service) RepathRows(ctx context.Context, db *sqldb.DB, m outbox.Message, tables ...string) error {
	cols := make([]PathColumns, len(tables))
	for i, t := range tables {
		cols[i] = PathColumns{Table: t, ID: "dept_id", Path: "dept_path"}
	}
	return s.RepathColumns(ctx, db, m, cols...)
}

// PathColumns names a table's copy of a department reference: the column
// holding the department id and the one holding its path.
type PathColumns struct{ Table, ID, Path string }

// RepathColumns is RepathRows for tables whose department columns have
// other names (or several pairs of them).
func (s *Service) RepathColumns(ctx context.Context, db *sqldb.DB, m outbox.Message, cols ...PathColumns) error {
	const op = "org.RepathRows"
	var ev DepartmentMoved
	if err := m.Decode(&ev); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	like := "%/" + sqldb.EscapeLike(ev.ID) + "/%"
	return sqldb.InTx(ctx, db, func(tx *sql.Tx) error {
		for _, c := range cols {
			table := c.Table
			rows, err := tx.QueryContext(ctx, `SELECT DISTINCT `+c.ID+` FROM `+table+` WHERE `+c.Path+` LIKE $1 ESCAPE '\'`, like)
			if err != nil {
				return fmt.Errorf("%s(%s): %w", op, table, err)
			}
			var ids []string
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				ids = append(ids, id)
			}
			rows.Close()
			refs, err := s.DepartmentRefs(ctx, ids)
			if err != nil {
				return err
			}
			for _, id := range ids {
				if refs[id].Path == "" {
					// Never write an empty path: that would widen a department grant.
					return fmt.Errorf("%s(%s): department %s not found", op, table, id)
				}
				if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET `+c.Path+` = $1 WHERE `+c.ID+` = $2`, refs[id].Path, id); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
