package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/outbox"
	"yiwang/internal/platform/sqldb"
)

// TopicDepartmentMoved is the outbox topic of DepartmentMoved events.
const TopicDepartmentMoved = "org.department.moved"

// DepartmentMoved says a department (and so its whole subtree) got a new
// ancestry path. Receivers re-read the paths they keep.
type DepartmentMoved struct {
	ID      string `json:"id"`
	OldPath string `json:"old_path"`
	NewPath string `json:"new_path"`
}

// Service is the org domain's operations. Every method that takes a
// principal checks it; methods without one serve public reference data.
type Service struct {
	db *sqldb.DB
}

// NewService returns the org service on db.
func NewService(db *sqldb.DB) *Service { return &Service{db: db} }

// visible hides what p may not see: absent and out of scope look the same.
func visible(p *authz.Principal, t authz.Target, op, what string) error {
	if p == nil {
		return &errs.Error{Kind: errs.Unauthenticated, Op: op, Msg: "请先登录"}
	}
	if !p.Can(authz.ViewOrg, t) {
		return &errs.Error{Kind: errs.NotFound, Op: op, Msg: what + "不存在"}
	}
	return nil
}

// Page is one page of a list.
type Page[T any] struct {
	Items   []T
	Total   int
	Page    int
	PerPage int
}

// Pages returns the number of pages.
func (p Page[T]) Pages() int { return max(1, (p.Total+p.PerPage-1)/p.PerPage) }

// DeptQuery filters department lists.
type DeptQuery struct {
	Region   string // within this region (and below)
	Q        string // part of the name; ASCII letters match either case
	ParentID string // direct children of this department
	Active   *bool
	Page     int
	PerPage  int
}

// norm puts the page within 1..sqldb.MaxPage and the page size within
// 1..200 (else 50), and returns the LIMIT and OFFSET.
func (q *DeptQuery) norm() (limit, offset int) {
	q.Page = sqldb.ClampPage(q.Page)
	if q.PerPage < 1 || q.PerPage > 200 {
		q.PerPage = 50
	}
	return q.PerPage, (q.Page - 1) * q.PerPage
}

// Departments lists the departments p may see that match q.
func (s *Service) Departments(ctx context.Context, p *authz.Principal, q DeptQuery) (Page[Department], error) {
	if p == nil {
		return Page[Department]{}, &errs.Error{Kind: errs.Unauthenticated, Op: "org.Service.Departments", Msg: "请先登录"}
	}
	w := &sqldb.Where{}
	cond, args := p.Filter(authz.ViewOrg, "d.region_code", "d.path", w.Next())
	w.AddNumbered(cond, args)
	return s.departments(ctx, w, q)
}

// PublicDepartments lists one page of the active departments of exactly one
// region, for the portal and the public API (department names and contacts
// are public information). Pages are as for Departments: page within
// 1..sqldb.MaxPage, perPage within 1..200 (else 50).
func (s *Service) PublicDepartments(ctx context.Context, region string, page, perPage int) (Page[Department], error) {
	w := &sqldb.Where{}
	w.Add("d.region_code = ?", region)
	active := true
	return s.departments(ctx, w, DeptQuery{Active: &active, Page: page, PerPage: perPage})
}

func (s *Service) departments(ctx context.Context, w *sqldb.Where, q DeptQuery) (Page[Department], error) {
	limit, offset := q.norm()
	if q.Region != "" {
		w.Add("d.region_code LIKE ?", authz.RegionPrefix(q.Region)+"%")
	}
	if q.Q = strings.TrimSpace(q.Q); utf8.RuneCountInString(q.Q) > sqldb.MaxSearch {
		return Page[Department]{}, &errs.Error{Kind: errs.Invalid, Op: "org.Service.departments", Msg: "搜索内容过长", Fields: map[string]string{"q": "搜索内容过长"}}
	}
	if q.Q != "" {
		// Portable rule 2: LIKE ignores case on SQLite only, so compare
		// lower-cased values (ASCII letters; see sqldb.LowerASCII).
		w.Add(`LOWER(d.name) LIKE ? ESCAPE '\'`, "%"+sqldb.EscapeLike(sqldb.LowerASCII(q.Q))+"%")
	}
	if q.ParentID != "" {
		w.Add("d.parent_id = ?", q.ParentID)
	}
	if q.Active != nil {
		w.Add("d.active = ?", *q.Active)
	}
	items, total, err := listDepts(ctx, s.db.R, w, limit, offset)
	if err != nil {
		return Page[Department]{}, err
	}
	return Page[Department]{Items: items, Total: total, Page: q.Page, PerPage: q.PerPage}, nil
}

// CountDepartments returns how many departments exist, active or not,
// unchecked: it serves start-up decisions (is this a fresh install?), never
// a person.
func (s *Service) CountDepartments(ctx context.Context) (int, error) {
	var n int
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM departments`).Scan(&n); err != nil {
		return 0, fmt.Errorf("org.Service.CountDepartments: %w", err)
	}
	return n, nil
}

// Department returns one department p may see.
func (s *Service) Department(ctx context.Context, p *authz.Principal, id string) (Department, error) {
	d, err := getDept(ctx, s.db.R, id)
	if err != nil {
		return Department{}, err
	}
	if err := visible(p, deptTarget(d), "org.Service.Department", "部门"); err != nil {
		return Department{}, err
	}
	return d, nil
}

// DeptRef is what other domains need to know about a department.
type DeptRef struct {
	ID, Name, Region, Path string
	Active                 bool
}

// DepartmentRef returns a department's identity and place, unchecked: the
// caller decides what the principal may do with it.
func (s *Service) DepartmentRef(ctx context.Context, id string) (DeptRef, error) {
	d, err := getDept(ctx, s.db.R, id)
	if err != nil {
		return DeptRef{}, err
	}
	return DeptRef{ID: d.ID, Name: d.Name, Region: d.Region, Path: d.Path, Active: d.Active}, nil
}

// DepartmentRefs returns the departments with the given ids, unchecked, by id.
func (s *Service) DepartmentRefs(ctx context.Context, ids []string) (map[string]DeptRef, error) {
	out := map[string]DeptRef{}
	if len(ids) == 0 {
		return out, nil
	}
	w := &sqldb.Where{}
	w.AddIn("d.id", ids)
	rows, err := s.db.R.QueryContext(ctx, `SELECT d.id, d.name, d.region_code, d.path, d.active FROM departments d`+w.String(), w.Args...)
	if err != nil {
		return nil, fmt.Errorf("org.Service.DepartmentRefs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d DeptRef
		if err := rows.Scan(&d.ID, &d.Name, &d.Region, &d.Path, &d.Active); err != nil {
			return nil, err
		}
		out[d.ID] = d
	}
	return out, rows.Err()
}

// RegionNames returns the names of the given region codes, by code.
func (s *Service) RegionNames(ctx context.Context, codes []string) (map[string]string, error) {
	out := map[string]string{}
	if len(codes) == 0 {
		return out, nil
	}
	w := &sqldb.Where{}
	w.AddIn("code", codes)
	rows, err := s.db.R.QueryContext(ctx, `SELECT code, name FROM regions`+w.String(), w.Args...)
	if err != nil {
		return nil, fmt.Errorf("org.Service.RegionNames: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var code, name string
		if err := rows.Scan(&code, &name); err != nil {
			return nil, err
		}
		out[code] = name
	}
	return out, rows.Err()
}

// Dataset returns the version and size of the loaded region data.
func (s *Service) Dataset(ctx context.Context) (version string, rows int, err error) {
	err = s.db.R.QueryRowContext(ctx, `SELECT version, rows FROM reference_datasets WHERE name = 'regions'`).Scan(&version, &rows)
	if err != nil {
		return "", 0, fmt.Errorf("org.Service.Dataset: %w", err)
	}
	return version, rows, nil
}

func deptTarget(d Department) authz.Target { return authz.Target{Region: d.Region, DeptPath: d.Path} }

// placeDept checks that in.Region exists and that the parent (if any)
// exists and is visible to p (reading it through q, after lockPlace), lies in a region containing in.Region and is
// not id itself or below it; it returns the parent. A parent p may not see
// gets the same answer as one that does not exist.
func (s *Service) placeDept(ctx context.Context, q sqldb.Querier, p *authz.Principal, id string, in DeptInput) (parent Department, err error) {
	if _, err := s.Region(ctx, in.Region); err != nil {
		return Department{}, &errs.Error{Kind: errs.Invalid, Op: "org.placeDept", Msg: "所选行政区划不存在", Fields: map[string]string{"region": "所选行政区划不存在"}}
	}
	if in.ParentID == "" {
		return Department{}, nil
	}
	parent, err = getDept(ctx, q, in.ParentID)
	if err == nil && !p.Can(authz.ViewOrg, deptTarget(parent)) {
		err = errors.New("parent outside the caller's scope")
	}
	if err != nil {
		return Department{}, &errs.Error{Kind: errs.Invalid, Op: "org.placeDept", Msg: "上级部门不存在", Fields: map[string]string{"parent_id": "上级部门不存在"}}
	}
	if !authz.RegionWithin(in.Region, parent.Region) {
		return Department{}, &errs.Error{Kind: errs.Invalid, Op: "org.placeDept", Msg: "部门所在地区须在上级部门的地区范围内", Fields: map[string]string{"region": "部门所在地区须在上级部门的地区范围内"}}
	}
	if id != "" && strings.Contains(parent.Path, "/"+id+"/") {
		return Department{}, &errs.Error{Kind: errs.Invalid, Op: "org.placeDept", Msg: "不能把部门设为自己或下级部门的下级", Fields: map[string]string{"parent_id": "不能把部门设为自己或下级部门的下级"}}
	}
	return parent, nil
}

// lockPlace serialises changes to the department tree on every engine.
// It takes the row locks of department id (when not empty) and of the
// chosen parent (when it exists and p may see it) with a guarded no-op
// UPDATE that also checks each still has the path just read; zero rows
// means someone moved it meanwhile, a Conflict. Rows are locked in id
// order, so two moves never wait on each other in a cycle. Once it
// returns, neither row's place can change until the transaction ends, so
// callers re-read both and check the tree on those values. (SQLite
// serialises write transactions anyway; PostgreSQL needs the row locks.)
func lockPlace(ctx context.Context, tx *sql.Tx, p *authz.Principal, op, id, oldPath, parentID string) error {
	paths := map[string]string{}
	if id != "" {
		paths[id] = oldPath
	}
	if parentID != "" && parentID != id {
		parent, err := getDept(ctx, tx, parentID)
		switch {
		case errs.KindOf(err) == errs.NotFound:
			// placeDept reports it.
		case err != nil:
			return err
		case p.Can(authz.ViewOrg, deptTarget(parent)):
			paths[parent.ID] = parent.Path
		}
	}
	for _, lid := range slices.Sorted(maps.Keys(paths)) {
		res, err := tx.ExecContext(ctx, `UPDATE departments SET version = version WHERE id = $1 AND path = $2`, lid, paths[lid])
		if err != nil {
			return fmt.Errorf("%s: lock department: %w", op, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("%s: lock department: %w", op, err)
		} else if n == 0 {
			if lid == id {
				return stale(op)
			}
			return &errs.Error{Kind: errs.Conflict, Op: op, Msg: "上级部门刚被调整，请刷新后重试"}
		}
	}
	return nil
}

// CreateDepartment adds a department where p may manage departments: a
// top-level department needs a region-wide grant, a sub-department a grant
// covering its parent.
func (s *Service) CreateDepartment(ctx context.Context, p *authz.Principal, in DeptInput) (Department, error) {
	const op = "org.Service.CreateDepartment"
	if !p.CanAny(authz.ManageDepts) {
		return Department{}, p.Require(authz.ManageDepts, authz.Target{}, op)
	}
	if err := in.Check(); err != nil {
		return Department{}, err
	}
	var d Department
	err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		// The parent's place is read only once it is locked, so a
		// concurrent move of the parent cannot leave d with a stale path.
		if err := lockPlace(ctx, tx, p, op, "", "", in.ParentID); err != nil {
			return err
		}
		parent, err := s.placeDept(ctx, tx, p, "", in)
		if err != nil {
			return err
		}
		if err := p.Require(authz.ManageDepts, authz.Target{Region: in.Region, DeptPath: parent.Path}, op); err != nil {
			return err
		}
		now := sqldb.Now()
		d = Department{ID: sqldb.NewID(), Name: in.Name, ShortName: in.ShortName, USCC: in.USCC, Region: in.Region,
			ParentID: in.ParentID, Phone: in.Phone, Address: in.Address, Sort: in.Sort, Active: true,
			CreatedAt: now, UpdatedAt: now, Version: 1}
		d.Path = parent.Path
		if d.Path == "" {
			d.Path = "/"
		}
		d.Path += d.ID + "/"
		if err := insertDept(ctx, tx, d); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "org.department.create", TargetType: "department", TargetID: d.ID,
			Region: d.Region, DeptPath: d.Path, Detail: in})
	})
	if err != nil {
		return Department{}, err
	}
	return s.Department(ctx, p, d.ID)
}

// UpdateDepartment changes a department p may manage, if nobody changed it
// since version in.Version. Moving it under another parent moves its whole
// subtree; p must manage both the old and the new place.
func (s *Service) UpdateDepartment(ctx context.Context, p *authz.Principal, id string, in DeptInput) (Department, error) {
	const op = "org.Service.UpdateDepartment"
	if err := in.Check(); err != nil {
		return Department{}, err
	}
	err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		old, err := getDept(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := visible(p, deptTarget(old), op, "部门"); err != nil {
			return err
		}
		if err := p.Require(authz.ManageDepts, deptTarget(old), op); err != nil {
			return err
		}
		// Lock the department and its new parent, then re-read both: the
		// cycle check and the subtree move below then see places nobody
		// else can change until commit (two opposite moves, D under P and
		// P under D, would otherwise both pass the check).
		if err := lockPlace(ctx, tx, p, op, id, old.Path, in.ParentID); err != nil {
			return err
		}
		if old, err = getDept(ctx, tx, id); err != nil {
			return err
		}
		parent, err := s.placeDept(ctx, tx, p, id, in)
		if err != nil {
			return err
		}
		newPath := parent.Path
		if newPath == "" {
			newPath = "/"
		}
		newPath += id + "/"
		if err := p.Require(authz.ManageDepts, authz.Target{Region: in.Region, DeptPath: newPath}, op); err != nil {
			return err
		}
		if in.Region != old.Region {
			if err := subtreeWithin(ctx, tx, old.Path, id, in.Region); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE departments SET name = $1, short_name = $2, uscc = $3, region_code = $4, parent_id = $5,
			path = $6, phone = $7, address = $8, sort = $9, updated_at = $10, version = version + 1 WHERE id = $11 AND version = $12`,
			in.Name, in.ShortName, sqldb.NullString(in.USCC), in.Region, sqldb.NullString(in.ParentID), newPath, in.Phone, in.Address, in.Sort, sqldb.Now(), id, in.Version)
		if err := deptWriteErr(op, err); err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return stale(op)
		}
		if newPath != old.Path {
			// Re-root every descendant: the old prefix becomes the new one.
			_, err := tx.ExecContext(ctx, `UPDATE departments SET path = $1 || SUBSTR(path, $2) WHERE path LIKE $3 AND id <> $4`,
				newPath, len(old.Path)+1, old.Path+"%", id)
			if err != nil {
				return fmt.Errorf("%s: move subtree: %w", op, err)
			}
			// Domains that keep department paths (staff scopes) re-read them.
			if _, err := outbox.Enqueue(ctx, tx, TopicDepartmentMoved, DepartmentMoved{ID: id, OldPath: old.Path, NewPath: newPath}); err != nil {
				return err
			}
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "org.department.update", TargetType: "department", TargetID: id,
			Region: in.Region, DeptPath: newPath, Detail: changes(old, in)})
	})
	if err != nil {
		return Department{}, err
	}
	return s.Department(ctx, p, id)
}

// subtreeWithin checks that every department below path (other than id)
// lies within region, so a department's region change never leaves its
// sub-departments outside it.
func subtreeWithin(ctx context.Context, q sqldb.Querier, path, id, region string) error {
	rows, err := q.QueryContext(ctx, `SELECT name, region_code FROM departments WHERE path LIKE $1 AND id <> $2`, path+"%", id)
	if err != nil {
		return fmt.Errorf("org.subtreeWithin: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, code string
		if err := rows.Scan(&name, &code); err != nil {
			return err
		}
		if !authz.RegionWithin(code, region) {
			msg := "下级部门“" + name + "”不在新的行政区划范围内，请先调整下级部门"
			return &errs.Error{Kind: errs.Invalid, Op: "org.subtreeWithin", Msg: msg, Fields: map[string]string{"region": msg}}
		}
	}
	return rows.Err()
}

func changes(old Department, in DeptInput) map[string][2]any {
	c := map[string][2]any{}
	set := func(k string, a, b any) {
		if a != b {
			c[k] = [2]any{a, b}
		}
	}
	set("name", old.Name, in.Name)
	set("short_name", old.ShortName, in.ShortName)
	set("uscc", old.USCC, in.USCC)
	set("region", old.Region, in.Region)
	set("parent_id", old.ParentID, in.ParentID)
	set("phone", old.Phone, in.Phone)
	set("address", old.Address, in.Address)
	set("sort", old.Sort, in.Sort)
	return c
}

// SetDepartmentActive enables or disables a department (departments are
// never deleted: cases and grants refer to them).
func (s *Service) SetDepartmentActive(ctx context.Context, p *authz.Principal, id string, active bool, version int) error {
	const op = "org.Service.SetDepartmentActive"
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		d, err := getDept(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := visible(p, deptTarget(d), op, "部门"); err != nil {
			return err
		}
		if err := p.Require(authz.ManageDepts, deptTarget(d), op); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE departments SET active = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND version = $4`,
			active, sqldb.Now(), id, version)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return stale(op)
		}
		action := "org.department.disable"
		if active {
			action = "org.department.enable"
		}
		return audit.Write(ctx, tx, audit.Entry{Action: action, TargetType: "department", TargetID: id, Region: d.Region, DeptPath: d.Path})
	})
}

// Halls lists the halls p may see, optionally within region.
func (s *Service) Halls(ctx context.Context, p *authz.Principal, region string) ([]Hall, error) {
	const op = "org.Service.Halls"
	if p == nil {
		return nil, &errs.Error{Kind: errs.Unauthenticated, Op: op, Msg: "请先登录"}
	}
	w := &sqldb.Where{}
	cond, args := p.Filter(authz.ViewOrg, "h.region_code", "", w.Next())
	w.AddNumbered(cond, args)
	if region != "" {
		w.Add("h.region_code LIKE ?", authz.RegionPrefix(region)+"%")
	}
	return s.halls(ctx, w)
}

// PublicHalls lists the active halls within region, for the portal.
func (s *Service) PublicHalls(ctx context.Context, region string) ([]Hall, error) {
	w := &sqldb.Where{}
	w.Add("h.region_code = ?", region)
	w.Add("h.active = ?", true)
	return s.halls(ctx, w)
}

func (s *Service) halls(ctx context.Context, w *sqldb.Where) ([]Hall, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+hallColumns+hallFrom+w.String()+` ORDER BY h.region_code ASC, h.name ASC LIMIT 500`, w.Args...)
	if err != nil {
		return nil, fmt.Errorf("org.Service.halls: %w", err)
	}
	defer rows.Close()
	var out []Hall
	for rows.Next() {
		h, err := scanHall(rows)
		if err != nil {
			return nil, fmt.Errorf("org.Service.halls: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func hallTarget(h Hall) authz.Target { return authz.Target{Region: h.Region} }

// Hall returns one hall p may see.
func (s *Service) Hall(ctx context.Context, p *authz.Principal, id string) (Hall, error) {
	h, err := getHall(ctx, s.db.R, id)
	if err != nil {
		return Hall{}, err
	}
	if err := visible(p, hallTarget(h), "org.Service.Hall", "大厅"); err != nil {
		return Hall{}, err
	}
	return h, nil
}

// CreateHall adds a hall in a region where p manages halls.
func (s *Service) CreateHall(ctx context.Context, p *authz.Principal, in HallInput) (Hall, error) {
	const op = "org.Service.CreateHall"
	if !p.CanAny(authz.ManageHalls) {
		return Hall{}, p.Require(authz.ManageHalls, authz.Target{}, op)
	}
	if err := in.Check(); err != nil {
		return Hall{}, err
	}
	if err := p.Require(authz.ManageHalls, authz.Target{Region: in.Region}, op); err != nil {
		return Hall{}, err
	}
	id := sqldb.NewID()
	err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO halls (id, name, region_code, address, phone, hours, active, created_at, updated_at, version)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1)`, id, in.Name, in.Region, in.Address, in.Phone, in.Hours, true, sqldb.Now())
		if err := hallWriteErr(op, err); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "org.hall.create", TargetType: "hall", TargetID: id, Region: in.Region, Detail: in})
	})
	if err != nil {
		return Hall{}, err
	}
	return s.Hall(ctx, p, id)
}

// UpdateHall changes a hall p manages (and, if the region changes, manages
// the new region too).
func (s *Service) UpdateHall(ctx context.Context, p *authz.Principal, id string, in HallInput, active bool) (Hall, error) {
	const op = "org.Service.UpdateHall"
	if err := in.Check(); err != nil {
		return Hall{}, err
	}
	err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		old, err := getHall(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := visible(p, hallTarget(old), op, "大厅"); err != nil {
			return err
		}
		for _, t := range []authz.Target{hallTarget(old), {Region: in.Region}} {
			if err := p.Require(authz.ManageHalls, t, op); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE halls SET name = $1, region_code = $2, address = $3, phone = $4, hours = $5, active = $6,
			updated_at = $7, version = version + 1 WHERE id = $8 AND version = $9`,
			in.Name, in.Region, in.Address, in.Phone, in.Hours, active, sqldb.Now(), id, in.Version)
		if err := hallWriteErr(op, err); err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return stale(op)
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "org.hall.update", TargetType: "hall", TargetID: id, Region: in.Region,
			Detail: map[string]any{"before": old, "after": in, "active": active}})
	})
	if err != nil {
		return Hall{}, err
	}
	return s.Hall(ctx, p, id)
}

// Windows lists a hall's windows for p.
func (s *Service) Windows(ctx context.Context, p *authz.Principal, hallID string) ([]Window, error) {
	if _, err := s.Hall(ctx, p, hallID); err != nil {
		return nil, err
	}
	return s.windows(ctx, hallID)
}

func (s *Service) windows(ctx context.Context, hallID string) ([]Window, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+windowColumns+windowFrom+` WHERE w.hall_id = $1
		ORDER BY LENGTH(w.number) ASC, w.number ASC`, hallID)
	if err != nil {
		return nil, fmt.Errorf("org.Service.windows: %w", err)
	}
	defer rows.Close()
	var out []Window
	for rows.Next() {
		w, err := scanWindow(rows)
		if err != nil {
			return nil, fmt.Errorf("org.Service.windows: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// checkWindowDept verifies a specialized window's department lies in the
// hall's region (or above it: a region-level department may staff a window
// in a city hall). A newly chosen department (one other than was, the
// window's current department) must also be active and visible to p; one p
// may not see gets the same answer as one that does not exist. Keeping the
// current department needs neither, so a hall manager can still rename a
// window that someone with a wider scope staffed.
func (s *Service) checkWindowDept(ctx context.Context, q sqldb.Querier, p *authz.Principal, h Hall, in WindowInput, was string) error {
	if in.DeptID == "" {
		return nil
	}
	const op = "org.checkWindowDept"
	d, err := getDept(ctx, q, in.DeptID)
	if err == nil && in.DeptID != was && !p.Can(authz.ViewOrg, deptTarget(d)) {
		err = errors.New("department outside the caller's scope")
	}
	if err != nil {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "所选部门不存在", Fields: map[string]string{"dept_id": "所选部门不存在"}, Err: err}
	}
	if in.DeptID != was && !d.Active {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "所选部门已停用", Fields: map[string]string{"dept_id": "所选部门已停用"}}
	}
	if !authz.RegionWithin(h.Region, d.Region) && !authz.RegionWithin(d.Region, h.Region) {
		return &errs.Error{Kind: errs.Invalid, Op: "org.checkWindowDept", Msg: "进驻部门须属于大厅所在地区", Fields: map[string]string{"dept_id": "进驻部门须属于大厅所在地区"}}
	}
	return nil
}

// CreateWindow adds a window to a hall p manages.
func (s *Service) CreateWindow(ctx context.Context, p *authz.Principal, hallID string, in WindowInput) (Window, error) {
	const op = "org.Service.CreateWindow"
	if err := in.Check(); err != nil {
		return Window{}, err
	}
	id := sqldb.NewID()
	err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		h, err := getHall(ctx, tx, hallID)
		if err != nil {
			return err
		}
		if err := visible(p, hallTarget(h), op, "大厅"); err != nil {
			return err
		}
		if err := p.Require(authz.ManageHalls, hallTarget(h), op); err != nil {
			return err
		}
		if err := s.checkWindowDept(ctx, tx, p, h, in, ""); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO hall_windows (id, hall_id, number, name, kind, dept_id, active, created_at, updated_at, version)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1)`, id, hallID, in.Number, in.Name, string(in.Kind), sqldb.NullString(in.DeptID), true, sqldb.Now())
		if err := windowWriteErr(op, err); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "org.window.create", TargetType: "window", TargetID: id, Region: h.Region, Detail: in})
	})
	if err != nil {
		return Window{}, err
	}
	return s.window(ctx, id)
}

func (s *Service) window(ctx context.Context, id string) (Window, error) {
	w, err := scanWindow(s.db.R.QueryRowContext(ctx, `SELECT `+windowColumns+windowFrom+` WHERE w.id = $1`, id))
	if err == sql.ErrNoRows {
		return Window{}, &errs.Error{Kind: errs.NotFound, Op: "org.Service.window", Msg: "窗口不存在"}
	}
	if err != nil {
		return Window{}, fmt.Errorf("org.Service.window: %w", err)
	}
	return w, nil
}

// Window returns one window of a hall p may see.
func (s *Service) Window(ctx context.Context, p *authz.Principal, id string) (Window, Hall, error) {
	w, err := s.window(ctx, id)
	if err != nil {
		return Window{}, Hall{}, err
	}
	h, err := s.Hall(ctx, p, w.HallID)
	if err != nil {
		return Window{}, Hall{}, &errs.Error{Kind: errs.NotFound, Op: "org.Service.Window", Msg: "窗口不存在"}
	}
	return w, h, nil
}

// UpdateWindow changes a window of a hall p manages.
func (s *Service) UpdateWindow(ctx context.Context, p *authz.Principal, id string, in WindowInput, active bool) (Window, error) {
	const op = "org.Service.UpdateWindow"
	if err := in.Check(); err != nil {
		return Window{}, err
	}
	err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		old, err := scanWindow(tx.QueryRowContext(ctx, `SELECT `+windowColumns+windowFrom+` WHERE w.id = $1`, id))
		if err == sql.ErrNoRows {
			return &errs.Error{Kind: errs.NotFound, Op: op, Msg: "窗口不存在"}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		h, err := getHall(ctx, tx, old.HallID)
		if err != nil {
			return err
		}
		if err := visible(p, hallTarget(h), op, "窗口"); err != nil {
			return err
		}
		if err := p.Require(authz.ManageHalls, hallTarget(h), op); err != nil {
			return err
		}
		if err := s.checkWindowDept(ctx, tx, p, h, in, old.DeptID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE hall_windows SET number = $1, name = $2, kind = $3, dept_id = $4, active = $5,
			updated_at = $6, version = version + 1 WHERE id = $7 AND version = $8`,
			in.Number, in.Name, string(in.Kind), sqldb.NullString(in.DeptID), active, sqldb.Now(), id, in.Version)
		if err := windowWriteErr(op, err); err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return stale(op)
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "org.window.update", TargetType: "window", TargetID: id, Region: h.Region,
			Detail: map[string]any{"before": old, "after": in, "active": active}})
	})
	if err != nil {
		return Window{}, err
	}
	return s.window(ctx, id)
}
