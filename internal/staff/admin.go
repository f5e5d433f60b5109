package staff

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	"yiwang/internal/org"
	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/outbox"
	"yiwang/internal/platform/password"
	"yiwang/internal/platform/sqldb"
)

// mayManage is ManageableBy as an error: Forbidden, or Unauthenticated
// without a principal.
func mayManage(p *authz.Principal, u User, op string) error {
	if err := p.Require(authz.ManageStaff, u.Target(), op); err != nil {
		return err
	}
	if !u.ManageableBy(p) {
		return &errs.Error{Kind: errs.Forbidden, Op: op, Msg: "该账号拥有您无权授予的角色，只能由更高权限的管理员管理"}
	}
	return nil
}

// UserQuery filters staff lists.
type UserQuery struct {
	Q       string // part of username or name
	Region  string
	Page    int
	PerPage int
}

// Users lists the staff p may see.
func (s *Service) Users(ctx context.Context, p *authz.Principal, q UserQuery) (org.Page[User], error) {
	const op = "staff.Service.Users"
	if p == nil {
		return org.Page[User]{}, &errs.Error{Kind: errs.Unauthenticated, Op: op, Msg: "请先登录"}
	}
	q.Page = min(max(q.Page, 1), 10000)
	if utf8.RuneCountInString(q.Q) > 100 {
		return org.Page[User]{}, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "搜索内容过长", Fields: map[string]string{"q": "搜索内容过长"}}
	}
	if q.PerPage < 1 || q.PerPage > 200 {
		q.PerPage = 50
	}
	w := &sqldb.Where{}
	cond, args := p.Filter(authz.ViewOrg, "u.region_code", "u.dept_path", w.Next())
	w.AddNumbered(cond, args)
	if q.Q = strings.TrimSpace(q.Q); q.Q != "" {
		like := "%" + sqldb.EscapeLike(strings.ToLower(q.Q)) + "%"
		w.Add(`(u.username LIKE ? ESCAPE '\' OR LOWER(u.display_name) LIKE ? ESCAPE '\')`, like, like)
	}
	if q.Region != "" {
		w.Add("u.region_code LIKE ?", authz.RegionPrefix(q.Region)+"%")
	}
	var total int
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*)`+userFrom+w.String(), w.Args...).Scan(&total); err != nil {
		return org.Page[User]{}, fmt.Errorf("%s: %w", op, err)
	}
	page, all := w.Page(q.PerPage, (q.Page-1)*q.PerPage)
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+userColumns+userFrom+w.String()+` ORDER BY u.region_code ASC, u.username ASC`+page, all...)
	if err != nil {
		return org.Page[User]{}, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	out := org.Page[User]{Total: total, Page: q.Page, PerPage: q.PerPage}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return org.Page[User]{}, fmt.Errorf("%s: %w", op, err)
		}
		out.Items = append(out.Items, u)
	}
	if err := rows.Err(); err != nil {
		return org.Page[User]{}, err
	}
	for i := range out.Items {
		if out.Items[i].Grants, err = grantsOf(ctx, s.db.R, out.Items[i].ID); err != nil {
			return org.Page[User]{}, err
		}
	}
	if err := s.name(ctx, out.Items); err != nil {
		return org.Page[User]{}, err
	}
	return out, nil
}

// name fills in region and department names from org.
func (s *Service) name(ctx context.Context, users []User) error {
	var codes, ids []string
	for _, u := range users {
		codes = append(codes, u.Region)
		if u.DeptID != "" {
			ids = append(ids, u.DeptID)
		}
	}
	regions, err := s.org.RegionNames(ctx, codes)
	if err != nil {
		return err
	}
	depts, err := s.org.DepartmentRefs(ctx, ids)
	if err != nil {
		return err
	}
	for i := range users {
		users[i].RegionName = regions[users[i].Region]
		users[i].DeptName = depts[users[i].DeptID].Name
	}
	return nil
}

// User returns one account p may see; out of scope looks like absent.
func (s *Service) User(ctx context.Context, p *authz.Principal, id string) (User, error) {
	u, err := getUser(ctx, s.db.R, "id", id)
	if err != nil {
		return User{}, err
	}
	one := []User{u}
	if err := s.name(ctx, one); err != nil {
		return User{}, err
	}
	u = one[0]
	if p == nil {
		return User{}, &errs.Error{Kind: errs.Unauthenticated, Op: "staff.Service.User", Msg: "请先登录"}
	}
	if !p.Can(authz.ViewOrg, u.Target()) && p.UserID != u.ID {
		return User{}, &errs.Error{Kind: errs.NotFound, Op: "staff.Service.User", Msg: "工作人员不存在"}
	}
	return u, nil
}

// CountUsers returns how many staff accounts exist.
func (s *Service) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM staff_users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("staff.Service.CountUsers: %w", err)
	}
	return n, nil
}

// UserByID returns an account unchecked (the signed-in user's own).
func (s *Service) UserByID(ctx context.Context, id string) (User, error) {
	return getUser(ctx, s.db.R, "id", id)
}

// place resolves the account's region and department and returns its target.
func (s *Service) place(ctx context.Context, p *authz.Principal, in *UserInput) (authz.Target, error) {
	const op = "staff.Service.place"
	r, err := s.org.Region(ctx, in.Region)
	if err != nil {
		return authz.Target{}, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "所属地区不存在", Fields: map[string]string{"region": "所属地区不存在"}}
	}
	in.Region = r.Code
	t := authz.Target{Region: in.Region}
	if in.DeptID != "" {
		d, err := s.dept(ctx, p, in.DeptID)
		if err != nil {
			return t, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "所属部门不存在", Fields: map[string]string{"dept_id": "所属部门不存在"}}
		}
		if !authz.RegionWithin(in.Region, d.Region) && !authz.RegionWithin(d.Region, in.Region) {
			return t, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "所属部门与所属地区不一致", Fields: map[string]string{"dept_id": "所属部门与所属地区不一致"}}
		}
		t.DeptPath = d.Path
	}
	return t, nil
}

// dept returns a department that p (when not nil) manages staff in; one
// out of p's reach is reported as absent, like one that does not exist.
func (s *Service) dept(ctx context.Context, p *authz.Principal, id string) (org.DeptRef, error) {
	d, err := s.org.DepartmentRef(ctx, id)
	if err != nil {
		return d, err
	}
	if p != nil && !p.Can(authz.ManageStaff, authz.Target{Region: d.Region, DeptPath: d.Path}) {
		return org.DeptRef{}, &errs.Error{Kind: errs.NotFound, Op: "staff.Service.dept", Msg: "部门不存在"}
	}
	return d, nil
}

// prepare checks a new account's fields and initial password and resolves
// where it belongs.
func (s *Service) prepare(ctx context.Context, p *authz.Principal, in *UserInput, op string) (authz.Target, error) {
	if err := in.Check(true); err != nil {
		return authz.Target{}, err
	}
	if err := password.Validate(in.Password); err != nil {
		return authz.Target{}, &errs.Error{Kind: errs.Invalid, Op: op, Msg: errs.Message(err), Fields: map[string]string{"password": errs.Message(err)}}
	}
	return s.place(ctx, p, in)
}

// CreateUser adds an account where p manages staff, with an initial password.
func (s *Service) CreateUser(ctx context.Context, p *authz.Principal, in UserInput) (User, error) {
	const op = "staff.Service.CreateUser"
	if !p.CanAny(authz.ManageStaff) {
		return User{}, p.Require(authz.ManageStaff, authz.Target{}, op)
	}
	t, err := s.prepare(ctx, p, &in, op)
	if err != nil {
		return User{}, err
	}
	if err := p.Require(authz.ManageStaff, t, op); err != nil {
		return User{}, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return User{}, err
	}
	id := sqldb.NewID()
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		return s.insertUser(ctx, tx, id, in, hash, t)
	})
	if err != nil {
		return User{}, err
	}
	return s.User(ctx, p, id)
}

func (s *Service) insertUser(ctx context.Context, tx *sql.Tx, id string, in UserInput, hash string, t authz.Target) error {
	const op = "staff.Service.insertUser"
	now := s.now()
	_, err := tx.ExecContext(ctx, `INSERT INTO staff_users (id, username, display_name, phone, region_code, dept_id, dept_path, password_hash, password_changed_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9)`, id, in.Username, in.DisplayName, in.Phone, in.Region, sqldb.NullString(in.DeptID), t.DeptPath, hash, now)
	if sqldb.IsUniqueViolation(err) {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "用户名已被使用", Fields: map[string]string{"username": "用户名已被使用"}, Err: err}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	in.Password = ""
	return audit.Write(ctx, tx, audit.Entry{Action: "staff.user.create", TargetType: "staff_user", TargetID: id, Region: t.Region, DeptPath: t.DeptPath, Detail: in})
}

// UpdateUser changes an account's name, phone and place.
func (s *Service) UpdateUser(ctx context.Context, p *authz.Principal, id string, in UserInput) (User, error) {
	const op = "staff.Service.UpdateUser"
	if err := in.Check(false); err != nil {
		return User{}, err
	}
	old, err := s.User(ctx, p, id)
	if err != nil {
		return User{}, err
	}
	t, err := s.place(ctx, p, &in)
	if err != nil {
		return User{}, err
	}
	if err := mayManage(p, old, op); err != nil {
		return User{}, err
	}
	if err := p.Require(authz.ManageStaff, t, op); err != nil {
		return User{}, err
	}
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE staff_users SET display_name = $1, phone = $2, region_code = $3, dept_id = $4, dept_path = $5,
			updated_at = $6, version = version + 1 WHERE id = $7 AND version = $8`, in.DisplayName, in.Phone, in.Region, sqldb.NullString(in.DeptID), t.DeptPath, s.now(), id, in.Version)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &errs.Error{Kind: errs.Conflict, Op: op, Msg: "该账号已被他人修改，请刷新页面后重试"}
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "staff.user.update", TargetType: "staff_user", TargetID: id, Region: t.Region, DeptPath: t.DeptPath,
			Detail: map[string]any{"before": map[string]string{"display_name": old.DisplayName, "phone": old.Phone, "region": old.Region, "dept_id": old.DeptID}, "after": in}})
	})
	if err != nil {
		return User{}, err
	}
	return s.User(ctx, p, id)
}

// AddGrant gives account id a role at a region and optional department.
func (s *Service) AddGrant(ctx context.Context, p *authz.Principal, id string, role authz.Role, region, deptID string) error {
	const op = "staff.Service.AddGrant"
	u, err := s.User(ctx, p, id)
	if err != nil {
		return err
	}
	if err := mayManage(p, u, op); err != nil {
		return err
	}
	f := map[string]string{}
	if !role.Valid() {
		f["role"] = "请选择角色"
	}
	g := authz.Grant{Role: role, DeptID: strings.TrimSpace(deptID)}
	if r, err := s.org.Region(ctx, strings.TrimSpace(region)); err != nil {
		f["region"] = "授权地区不存在"
	} else {
		g.Region = r.Code
	}
	if g.DeptID != "" {
		d, err := s.dept(ctx, p, g.DeptID)
		switch {
		case err != nil:
			f["dept_id"] = "授权部门不存在"
		case g.Region != "" && !authz.RegionWithin(d.Region, g.Region) && !authz.RegionWithin(g.Region, d.Region):
			f["dept_id"] = "授权部门不在授权地区内"
		default:
			g.DeptPath = d.Path
		}
	} else if role.NeedsDept() {
		f["dept_id"] = role.Label() + "须指定部门"
	}
	if role == authz.PlatformAdmin && g.DeptID != "" {
		f["dept_id"] = "平台管理员不能限定部门"
	}
	if len(f) > 0 {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "请检查授权内容", Fields: f}
	}
	if !p.MayGrant(g) {
		return &errs.Error{Kind: errs.Forbidden, Op: op, Msg: "您不能授予该范围的" + role.Label() + "角色"}
	}
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error { return s.insertGrant(ctx, tx, u, g, p.UserID) })
	if sqldb.IsUniqueViolation(err) {
		return &errs.Error{Kind: errs.Conflict, Op: op, Msg: "该账号已有相同授权", Err: err}
	}
	return err
}

// insertGrant stores g for u and audits it.
func (s *Service) insertGrant(ctx context.Context, tx *sql.Tx, u User, g authz.Grant, by string) error {
	gid := sqldb.NewID()
	if _, err := tx.ExecContext(ctx, `INSERT INTO role_grants (id, user_id, role, region_code, dept_id, dept_path, granted_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, gid, u.ID, string(g.Role), g.Region, sqldb.NullString(g.DeptID), g.DeptPath, by, s.now()); err != nil {
		return fmt.Errorf("staff.Service.insertGrant: %w", err)
	}
	return audit.Write(ctx, tx, audit.Entry{Action: "staff.grant.add", TargetType: "staff_user", TargetID: u.ID, Region: u.Region, DeptPath: u.DeptPath,
		Detail: map[string]string{"grant_id": gid, "role": string(g.Role), "region": g.Region, "dept_id": g.DeptID}})
}

// OnDepartmentMoved is the outbox handler for org.department.moved: every
// account and grant whose department lies in the moved subtree re-reads its
// department's current path from org. Re-reading (rather than applying the
// event's prefixes) makes redelivery and reordering harmless.
func (s *Service) OnDepartmentMoved(ctx context.Context, m outbox.Message) error {
	return s.org.RepathRows(ctx, s.db, m, "staff_users", "role_grants")
}

// RemoveGrant takes a grant away; p must be allowed to give it.
func (s *Service) RemoveGrant(ctx context.Context, p *authz.Principal, id, grantID string) error {
	const op = "staff.Service.RemoveGrant"
	u, err := s.User(ctx, p, id)
	if err != nil {
		return err
	}
	for _, g := range u.Grants {
		if g.ID != grantID {
			continue
		}
		if err := mayManage(p, u, op); err != nil {
			return err
		}
		if !p.MayGrant(g) {
			return &errs.Error{Kind: errs.Forbidden, Op: op, Msg: "您不能撤销该授权"}
		}
		if g.Role == authz.PlatformAdmin && u.ID == p.UserID {
			return &errs.Error{Kind: errs.Conflict, Op: op, Msg: "不能撤销自己的平台管理员角色"}
		}
		return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `DELETE FROM role_grants WHERE id = $1 AND user_id = $2`, g.ID, u.ID); err != nil {
				return err
			}
			return audit.Write(ctx, tx, audit.Entry{Action: "staff.grant.remove", TargetType: "staff_user", TargetID: u.ID, Region: u.Region, DeptPath: u.DeptPath,
				Detail: map[string]string{"grant_id": g.ID, "role": string(g.Role), "region": g.Region, "dept_id": g.DeptID}})
		})
	}
	return &errs.Error{Kind: errs.NotFound, Op: op, Msg: "授权不存在"}
}

// adminAction runs a one-statement change on an account p manages. The
// account is re-read and re-checked inside the transaction, and the change
// bumps its version, so it never acts on a stale view.
func (s *Service) adminAction(ctx context.Context, p *authz.Principal, id, op, action, stmt string, args ...any) error {
	if _, err := s.User(ctx, p, id); err != nil {
		return err
	}
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		u, err := getUser(ctx, tx, "id", id)
		if err != nil {
			return err
		}
		if err := mayManage(p, u, op); err != nil {
			return err
		}
		if u.ID == p.UserID && action == "staff.user.disable" {
			return &errs.Error{Kind: errs.Conflict, Op: op, Msg: "不能停用自己的账号"}
		}
		if _, err := tx.ExecContext(ctx, stmt, append(args, u.ID)...); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE staff_users SET updated_at = $1, version = version + 1 WHERE id = $2`, s.now(), u.ID); err != nil {
			return err
		}
		if action == "staff.user.disable" || action == "staff.password.reset" || action == "staff.totp.reset" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE user_id = $1`, u.ID); err != nil {
				return err
			}
		}
		return audit.Write(ctx, tx, audit.Entry{Action: action, TargetType: "staff_user", TargetID: u.ID, Region: u.Region, DeptPath: u.DeptPath})
	})
}

// Unlock clears a lockout.
func (s *Service) Unlock(ctx context.Context, p *authz.Principal, id string) error {
	return s.adminAction(ctx, p, id, "staff.Service.Unlock", "staff.user.unlock",
		`UPDATE staff_users SET locked_until = NULL, failed_logins = 0 WHERE id = $1`)
}

// SetDisabled disables or re-enables an account; disabling ends its sessions.
func (s *Service) SetDisabled(ctx context.Context, p *authz.Principal, id string, disabled bool) error {
	action := "staff.user.enable"
	if disabled {
		action = "staff.user.disable"
	}
	return s.adminAction(ctx, p, id, "staff.Service.SetDisabled", action,
		`UPDATE staff_users SET disabled = $1 WHERE id = $2`, disabled)
}

// ResetTOTP removes an account's authenticator so it enrols again.
func (s *Service) ResetTOTP(ctx context.Context, p *authz.Principal, id string) error {
	return s.adminAction(ctx, p, id, "staff.Service.ResetTOTP", "staff.totp.reset",
		`UPDATE staff_users SET totp_enabled = $1, totp_secret = '', totp_last_counter = 0 WHERE id = $2`, false)
}

// ResetPassword sets a new password chosen by an administrator and ends
// the account's sessions.
func (s *Service) ResetPassword(ctx context.Context, p *authz.Principal, id, plain string) error {
	const op = "staff.Service.ResetPassword"
	if err := password.Validate(plain); err != nil {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: errs.Message(err), Fields: map[string]string{"password": errs.Message(err)}}
	}
	u, err := s.User(ctx, p, id)
	if err != nil {
		return err
	}
	if err := mayManage(p, u, op); err != nil {
		return err // checked before paying for a hash; adminAction checks again in its transaction
	}
	hash, err := s.hasher.Hash(ctx, plain)
	if err != nil {
		return err
	}
	return s.adminAction(ctx, p, id, op, "staff.password.reset",
		`UPDATE staff_users SET password_hash = $1, password_changed_at = $2, failed_logins = 0, locked_until = NULL WHERE id = $3`, hash, s.now())
}

// Bootstrap creates an account with grants without a principal, for the
// demo seed and `yiwang staff add`: the actor is the system.
func (s *Service) Bootstrap(ctx context.Context, in UserInput, grants []authz.Grant) (User, error) {
	const op = "staff.Service.Bootstrap"
	t, err := s.prepare(ctx, nil, &in, op)
	if err != nil {
		return User{}, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return User{}, err
	}
	id := sqldb.NewID()
	ctx = audit.WithActor(ctx, audit.System)
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		if err := s.insertUser(ctx, tx, id, in, hash, t); err != nil {
			return err
		}
		u := User{ID: id, Region: t.Region, DeptPath: t.DeptPath}
		for _, g := range grants {
			if !g.Role.Valid() {
				return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "未知角色 " + string(g.Role)}
			}
			if g.DeptID != "" {
				d, err := s.org.DepartmentRef(ctx, g.DeptID)
				if err != nil {
					return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "授权部门不存在", Err: err}
				}
				g.DeptPath = d.Path
			}
			if err := s.insertGrant(ctx, tx, u, g, "system"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	return getUser(ctx, s.db.R, "id", id)
}
