package staff

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/sqldb"
)

const userColumns = `u.id, u.username, u.display_name, u.phone, u.region_code, COALESCE(u.dept_id, ''), u.dept_path,
	u.password_hash, u.totp_secret, u.totp_enabled, u.totp_last_counter, u.failed_logins, u.locked_until, u.disabled, u.last_login_at,
	u.created_at, u.updated_at, u.version`

const userFrom = ` FROM staff_users u`

func scanUser(s interface{ Scan(...any) error }) (User, error) {
	var u User
	var locked, last sql.NullTime
	err := s.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Phone, &u.Region, &u.DeptID, &u.DeptPath,
		&u.PasswordHash, &u.TOTPSecret, &u.TOTPEnabled, &u.TOTPCounter, &u.FailedLogins, &locked, &u.Disabled, &last,
		&u.CreatedAt, &u.UpdatedAt, &u.Version)
	u.LockedUntil, u.LastLoginAt = locked.Time, last.Time
	return u, err
}

// getUser loads a user and their grants by a unique column.
func getUser(ctx context.Context, q sqldb.Querier, col, v string) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+userFrom+` WHERE u.`+col+` = $1`, v))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, &errs.Error{Kind: errs.NotFound, Op: "staff.getUser", Msg: "工作人员不存在"}
	}
	if err != nil {
		return User{}, fmt.Errorf("staff.getUser: %w", err)
	}
	u.Grants, err = grantsOf(ctx, q, u.ID)
	return u, err
}

func grantsOf(ctx context.Context, q sqldb.Querier, userID string) ([]authz.Grant, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, role, region_code, COALESCE(dept_id, ''), dept_path
		FROM role_grants WHERE user_id = $1 ORDER BY created_at ASC, id ASC`, userID)
	if err != nil {
		return nil, fmt.Errorf("staff.grantsOf: %w", err)
	}
	defer rows.Close()
	var out []authz.Grant
	for rows.Next() {
		var g authz.Grant
		var role string
		if err := rows.Scan(&g.ID, &role, &g.Region, &g.DeptID, &g.DeptPath); err != nil {
			return nil, fmt.Errorf("staff.grantsOf: %w", err)
		}
		g.Role = authz.Role(role)
		out = append(out, g)
	}
	return out, rows.Err()
}
