package staff

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"yiwang/internal/org"
	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authn"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/password"
	"yiwang/internal/platform/sqldb"
	"yiwang/internal/platform/totp"
	"yiwang/internal/ui"
)

// Service is the staff domain's operations.
type Service struct {
	ghosts authn.Ghosts
	db     *sqldb.DB
	org    *org.Service
	hasher *password.Hasher
	set    Settings
	now    func() time.Time
}

// NewService returns the staff service.
func NewService(db *sqldb.DB, orgs *org.Service, hasher *password.Hasher, set Settings) *Service {
	if set.Issuer == "" {
		set.Issuer = "一网通办"
	}
	return &Service{db: db, org: orgs, hasher: hasher, set: set, now: sqldb.Now}
}

// SetClock replaces the service's clock, for tests of expiry and lockout.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// ---- sign-in ----

// LoginResult says what the browser must do next.
type LoginResult struct {
	Token      string // session cookie value
	User       User
	NeedTOTP   bool // enter a TOTP code next
	NeedEnroll bool // set up TOTP first (platform admins without it)
}

var errBadLogin = &errs.Error{Kind: errs.Unauthenticated, Op: "staff.Service.Login", Msg: "用户名或密码错误"}

// lockedErr tells until when (China time) the account stays locked.
func lockedErr(until time.Time) error {
	return &errs.Error{Kind: errs.TooMany, Op: "staff.Service.Login",
		Msg: "登录失败次数过多，账号已临时锁定，请于 " + until.In(ui.Shanghai).Format("15:04") + " 后再试，或联系管理员解锁"}
}

// Login checks a username and password. Unknown users cost the same hash
// time as known ones, get the same message as a wrong password, and lock
// after the same number of attempts (counted in memory), so neither the
// messages nor the timing tell whether an account exists.
func (s *Service) Login(ctx context.Context, username, plain, ip, userAgent string) (LoginResult, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	if username == "" || plain == "" || len(username) > 64 || len(plain) > password.MaxLen*4 {
		return LoginResult{}, errBadLogin
	}
	u, err := getUser(ctx, s.db.R, "username", username)
	if errs.KindOf(err) == errs.NotFound {
		s.hasher.Dummy(ctx)
		s.auditLogin(ctx, "staff.login.failed", "", username, "unknown user")
		if until := s.ghosts.Fail(username, s.now(), s.set.LockoutThreshold, s.set.LockoutDuration); !until.IsZero() {
			return LoginResult{}, lockedErr(until)
		}
		return LoginResult{}, errBadLogin
	}
	if err != nil {
		return LoginResult{}, err
	}
	now := s.now()
	ok, rehash, err := s.hasher.Verify(ctx, plain, u.PasswordHash)
	if err != nil && !errors.Is(err, password.ErrMalformed) {
		return LoginResult{}, err
	}
	if u.Locked(now) {
		// Checked after hashing so a locked account answers as slowly as any other.
		s.auditLogin(ctx, "staff.login.refused", u.ID, username, "locked")
		return LoginResult{}, lockedErr(u.LockedUntil)
	}
	if !ok {
		return LoginResult{}, s.failed(ctx, u, "wrong password")
	}
	if u.Disabled {
		s.auditLogin(ctx, "staff.login.refused", u.ID, username, "disabled")
		return LoginResult{}, &errs.Error{Kind: errs.Forbidden, Op: "staff.Service.Login", Msg: "该账号已停用，请联系管理员"}
	}
	var newHash string
	if rehash {
		if newHash, err = s.hasher.Hash(ctx, plain); err != nil {
			return LoginResult{}, err
		}
	}
	res := LoginResult{User: u, NeedTOTP: u.NeedsTOTP()}
	res.NeedEnroll = res.NeedTOTP && !u.TOTPEnabled
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		// A lock set by a concurrent failed attempt wins over this success.
		guard, err := tx.ExecContext(ctx, `UPDATE staff_users SET version = version WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2)`, u.ID, now)
		if err != nil {
			return err
		}
		if n, _ := guard.RowsAffected(); n == 0 {
			return lockedErr(now.Add(s.set.LockoutDuration))
		}
		if newHash != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE staff_users SET password_hash = $1 WHERE id = $2`, newHash, u.ID); err != nil {
				return err
			}
		}
		if !res.NeedTOTP {
			// Failures are forgiven only when the whole sign-in succeeds.
			if err := s.signedIn(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		res.Token, err = s.newSession(ctx, tx, u.ID, !res.NeedTOTP, ip, userAgent)
		if err != nil {
			return err
		}
		action := "staff.login"
		if res.NeedTOTP {
			action = "staff.login.password_ok"
		}
		return audit.Write(actorCtx(ctx, u), tx, audit.Entry{Action: action, TargetType: "staff_user", TargetID: u.ID, Region: u.Region, DeptPath: u.DeptPath})
	})
	if errs.KindOf(err) == errs.TooMany {
		return LoginResult{}, err
	}
	if err != nil {
		return LoginResult{}, fmt.Errorf("staff.Service.Login: %w", err)
	}
	return res, nil
}

// signedIn records a completed sign-in: failures forgiven, time noted.
func (s *Service) signedIn(ctx context.Context, tx *sql.Tx, userID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE staff_users SET failed_logins = 0, locked_until = NULL, last_login_at = $1 WHERE id = $2`, s.now(), userID)
	return err
}

// failed counts a failed attempt and locks the account at the threshold.
func (s *Service) failed(ctx context.Context, u User, why string) error {
	now := s.now()
	var locked time.Time
	err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `UPDATE staff_users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins`, u.ID).Scan(&n); err != nil {
			return err
		}
		action := "staff.login.failed"
		if n >= s.set.LockoutThreshold {
			locked = now.Add(s.set.LockoutDuration)
			if _, err := tx.ExecContext(ctx, `UPDATE staff_users SET failed_logins = 0, locked_until = $1 WHERE id = $2`, locked, u.ID); err != nil {
				return err
			}
			action = "staff.user.locked"
		}
		return audit.Write(ctx, tx, audit.Entry{Action: action, TargetType: "staff_user", TargetID: u.ID, Region: u.Region, DeptPath: u.DeptPath,
			Detail: map[string]any{"username": u.Username, "reason": why, "failures": n}})
	})
	if err != nil {
		return fmt.Errorf("staff.Service.failed: %w", err)
	}
	if !locked.IsZero() {
		return lockedErr(locked)
	}
	// No "N attempts left" warning: it would tell a guesser the account exists.
	return errBadLogin
}

// auditLogin records a refused sign-in. For unknown accounts only a digest
// of the typed name is kept: people type passwords into the name field, and
// the audit chain cannot forget.
func (s *Service) auditLogin(ctx context.Context, action, userID, username, why string) {
	detail := map[string]string{"reason": why}
	if userID != "" {
		detail["username"] = username
	} else {
		detail["username_sha256"] = authn.NameDigest(username)
	}
	_ = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		return audit.Write(ctx, tx, audit.Entry{Action: action, TargetType: "staff_user", TargetID: userID, Detail: detail})
	})
}

// actorCtx makes u the actor of ctx (at sign-in, before a session exists).
func actorCtx(ctx context.Context, u User) context.Context {
	a := audit.ActorFrom(ctx)
	a.ID, a.Name = u.ID, u.DisplayName
	return audit.WithActor(ctx, a)
}

func (s *Service) newSession(ctx context.Context, tx *sql.Tx, userID string, mfaOK bool, ip, ua string) (string, error) {
	token, err := authn.NewToken()
	if err != nil {
		return "", err
	}
	now := s.now()
	if len(ua) > 300 {
		ua = ua[:300]
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO staff_sessions (id, user_id, mfa_ok, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES ($1, $2, $3, $4, $4, $5, $6, $7)`, authn.HashToken(token), userID, mfaOK, now, now.Add(s.set.SessionMaxAge), ip, ua)
	return token, err
}

// Authenticate returns the session and user for a cookie token. Expired,
// idle and unknown sessions are Unauthenticated. It refreshes last_seen_at
// at most once a minute.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, User, error) {
	const op = "staff.Service.Authenticate"
	unauth := &errs.Error{Kind: errs.Unauthenticated, Op: op, Msg: "登录已过期，请重新登录"}
	if token == "" || len(token) > 100 {
		return Session{}, User{}, unauth
	}
	var se Session
	err := s.db.R.QueryRowContext(ctx, `SELECT id, user_id, mfa_ok, created_at, last_seen_at, expires_at, ip, user_agent FROM staff_sessions WHERE id = $1`,
		authn.HashToken(token)).Scan(&se.ID, &se.UserID, &se.MFAOK, &se.CreatedAt, &se.LastSeenAt, &se.ExpiresAt, &se.IP, &se.UserAgent)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, User{}, unauth
	}
	if err != nil {
		return Session{}, User{}, fmt.Errorf("%s: %w", op, err)
	}
	now := s.now()
	if !now.Before(se.ExpiresAt) || now.Sub(se.LastSeenAt) > s.set.SessionTTL {
		s.db.W.ExecContext(ctx, `DELETE FROM staff_sessions WHERE id = $1`, se.ID)
		return Session{}, User{}, unauth
	}
	u, err := getUser(ctx, s.db.R, "id", se.UserID)
	if err != nil {
		return Session{}, User{}, err
	}
	if u.Disabled {
		return Session{}, User{}, unauth
	}
	if now.Sub(se.LastSeenAt) > time.Minute {
		if _, err := s.db.W.ExecContext(ctx, `UPDATE staff_sessions SET last_seen_at = $1 WHERE id = $2`, now, se.ID); err != nil {
			return Session{}, User{}, fmt.Errorf("%s: touch: %w", op, err)
		}
	}
	return se, u, nil
}

// Logout ends the session of token.
func (s *Service) Logout(ctx context.Context, token string) error {
	se, u, err := s.Authenticate(ctx, token)
	if err != nil {
		return nil // already gone
	}
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE id = $1`, se.ID); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "staff.logout", TargetType: "staff_user", TargetID: u.ID, Region: u.Region, DeptPath: u.DeptPath})
	})
}

// VerifySecondFactor completes sign-in for a session waiting for TOTP and
// returns the token of a new, fully signed-in session (the half-signed-in
// one ends, so a token seen before the second factor is worth nothing).
// Wrong codes count towards the lockout like wrong passwords.
func (s *Service) VerifySecondFactor(ctx context.Context, token, code string) (string, error) {
	const op = "staff.Service.VerifySecondFactor"
	se, u, err := s.Authenticate(ctx, token)
	if err != nil {
		return "", err
	}
	if se.MFAOK {
		return token, nil
	}
	if !u.TOTPEnabled {
		return "", &errs.Error{Kind: errs.Conflict, Op: op, Msg: "请先绑定身份验证器"}
	}
	if u.Locked(s.now()) {
		s.db.W.ExecContext(ctx, `DELETE FROM staff_sessions WHERE id = $1`, se.ID)
		return "", lockedErr(u.LockedUntil)
	}
	counter, ok := totp.Verify(u.TOTPSecret, strings.TrimSpace(code), s.now())
	if !ok || counter <= u.TOTPCounter {
		if err := s.failed(ctx, u, "wrong totp"); errs.KindOf(err) == errs.TooMany {
			s.db.W.ExecContext(ctx, `DELETE FROM staff_sessions WHERE id = $1`, se.ID)
			return "", err
		}
		return "", &errs.Error{Kind: errs.Invalid, Op: op, Msg: "动态验证码错误或已使用", Fields: map[string]string{"code": "动态验证码错误或已使用"}}
	}
	var fresh string
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE staff_users SET totp_last_counter = $1 WHERE id = $2 AND totp_last_counter < $1`, counter, u.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "动态验证码已使用", Fields: map[string]string{"code": "动态验证码已使用"}}
		}
		if fresh, err = s.upgradeSession(ctx, tx, se); err != nil {
			return err
		}
		if err := s.signedIn(ctx, tx, u.ID); err != nil {
			return err
		}
		return audit.Write(actorCtx(ctx, u), tx, audit.Entry{Action: "staff.login", TargetType: "staff_user", TargetID: u.ID, Region: u.Region, DeptPath: u.DeptPath,
			Detail: map[string]string{"factor": "totp"}})
	})
	return fresh, err
}

// upgradeSession replaces se by a new fully signed-in session and returns
// its token.
func (s *Service) upgradeSession(ctx context.Context, tx *sql.Tx, se Session) (string, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE id = $1`, se.ID); err != nil {
		return "", err
	}
	return s.newSession(ctx, tx, se.UserID, true, se.IP, se.UserAgent)
}

// BeginEnrollment returns a new TOTP secret for u (stored, not yet enabled)
// and its key URI for authenticator apps.
func (s *Service) BeginEnrollment(ctx context.Context, u User) (secret, uri string, err error) {
	if u.TOTPEnabled {
		return "", "", &errs.Error{Kind: errs.Conflict, Op: "staff.Service.BeginEnrollment", Msg: "已绑定身份验证器"}
	}
	secret = u.TOTPSecret
	if secret == "" {
		if secret, err = totp.NewSecret(); err != nil {
			return "", "", err
		}
		if _, err := s.db.W.ExecContext(ctx, `UPDATE staff_users SET totp_secret = $1 WHERE id = $2 AND totp_enabled = $3`, secret, u.ID, false); err != nil {
			return "", "", fmt.Errorf("staff.Service.BeginEnrollment: %w", err)
		}
	}
	return secret, totp.URI(s.set.Issuer, u.Username, secret), nil
}

// ConfirmEnrollment enables TOTP for the session's user when code matches
// the pending secret, completes the sign-in and returns the token of the
// new session that replaces the old one.
func (s *Service) ConfirmEnrollment(ctx context.Context, token, code string) (string, error) {
	const op = "staff.Service.ConfirmEnrollment"
	se, u, err := s.Authenticate(ctx, token)
	if err != nil {
		return "", err
	}
	if u.TOTPEnabled || u.TOTPSecret == "" {
		return "", &errs.Error{Kind: errs.Conflict, Op: op, Msg: "没有待确认的身份验证器绑定"}
	}
	if u.Locked(s.now()) {
		return "", lockedErr(u.LockedUntil)
	}
	counter, ok := totp.Verify(u.TOTPSecret, strings.TrimSpace(code), s.now())
	if !ok {
		if err := s.failed(ctx, u, "wrong totp at enrolment"); errs.KindOf(err) == errs.TooMany {
			s.db.W.ExecContext(ctx, `DELETE FROM staff_sessions WHERE id = $1`, se.ID)
			return "", err
		}
		return "", &errs.Error{Kind: errs.Invalid, Op: op, Msg: "动态验证码错误，请核对身份验证器上的6位数字", Fields: map[string]string{"code": "动态验证码错误"}}
	}
	var fresh string
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE staff_users SET totp_enabled = $1, totp_last_counter = $2, updated_at = $3, version = version + 1 WHERE id = $4`,
			true, counter, s.now(), u.ID); err != nil {
			return err
		}
		if fresh, err = s.upgradeSession(ctx, tx, se); err != nil {
			return err
		}
		if err := s.signedIn(ctx, tx, u.ID); err != nil {
			return err
		}
		return audit.Write(actorCtx(ctx, u), tx, audit.Entry{Action: "staff.totp.enable", TargetType: "staff_user", TargetID: u.ID, Region: u.Region, DeptPath: u.DeptPath})
	})
	return fresh, err
}

// DisableTOTP turns the second factor off for the signed-in user, who must
// confirm with their password. Platform admins cannot turn it off.
func (s *Service) DisableTOTP(ctx context.Context, u User, plain string) error {
	const op = "staff.Service.DisableTOTP"
	if u.Principal().HasRole(authz.PlatformAdmin) {
		return &errs.Error{Kind: errs.Forbidden, Op: op, Msg: "平台管理员必须启用双因素认证"}
	}
	if err := s.confirmPassword(ctx, u, plain, "password", op); err != nil {
		return err
	}
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE staff_users SET totp_enabled = $1, totp_secret = '', updated_at = $2, version = version + 1 WHERE id = $3`, false, s.now(), u.ID); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "staff.totp.disable", TargetType: "staff_user", TargetID: u.ID, Region: u.Region, DeptPath: u.DeptPath})
	})
}

// confirmPassword checks the signed-in user's current password before a
// sensitive change. Wrong answers count towards the lockout like failed
// sign-ins, and a lockout ends every session of the account, so a stolen
// session cannot be used to guess the password.
func (s *Service) confirmPassword(ctx context.Context, u User, plain, field, op string) error {
	if ok, _, _ := s.hasher.Verify(ctx, plain, u.PasswordHash); ok {
		return nil
	}
	if err := s.failed(ctx, u, "wrong current password"); errs.KindOf(err) == errs.TooMany {
		if _, derr := s.db.W.ExecContext(ctx, `DELETE FROM staff_sessions WHERE user_id = $1`, u.ID); derr != nil {
			return derr
		}
		return err
	}
	return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "当前密码错误", Fields: map[string]string{field: "当前密码错误"}}
}

// ChangePassword sets a new password for the signed-in user after checking
// the current one, and ends their other sessions.
func (s *Service) ChangePassword(ctx context.Context, u User, keepSession, current, next string) error {
	const op = "staff.Service.ChangePassword"
	if err := s.confirmPassword(ctx, u, current, "current", op); err != nil {
		return err
	}
	if err := password.Validate(next); err != nil {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: errs.Message(err), Fields: map[string]string{"new": errs.Message(err)}}
	}
	if current == next {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "新密码不能与当前密码相同", Fields: map[string]string{"new": "新密码不能与当前密码相同"}}
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE staff_users SET password_hash = $1, password_changed_at = $2, updated_at = $2, version = version + 1 WHERE id = $3`,
			hash, s.now(), u.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE user_id = $1 AND id <> $2`, u.ID, keepSession); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "staff.password.change", TargetType: "staff_user", TargetID: u.ID, Region: u.Region, DeptPath: u.DeptPath})
	})
}

// Sessions lists u's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, userID string) ([]Session, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, user_id, mfa_ok, created_at, last_seen_at, expires_at, ip, user_agent
		FROM staff_sessions WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC`, userID, s.now())
	if err != nil {
		return nil, fmt.Errorf("staff.Service.Sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var se Session
		if err := rows.Scan(&se.ID, &se.UserID, &se.MFAOK, &se.CreatedAt, &se.LastSeenAt, &se.ExpiresAt, &se.IP, &se.UserAgent); err != nil {
			return nil, err
		}
		out = append(out, se)
	}
	return out, rows.Err()
}

// RevokeSession ends one of u's sessions.
func (s *Service) RevokeSession(ctx context.Context, u User, sessionID string) error {
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE id = $1 AND user_id = $2`, sessionID, u.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &errs.Error{Kind: errs.NotFound, Op: "staff.Service.RevokeSession", Msg: "会话不存在或已结束"}
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "staff.session.revoke", TargetType: "staff_user", TargetID: u.ID, Region: u.Region, DeptPath: u.DeptPath})
	})
}

// PurgeSessions deletes expired sessions and returns how many.
func (s *Service) PurgeSessions(ctx context.Context) (int64, error) {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM staff_sessions WHERE expires_at <= $1 OR last_seen_at < $2`, s.now(), s.now().Add(-s.set.SessionTTL))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
