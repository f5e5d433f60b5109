package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authn"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/password"
	"yiwang/internal/platform/sqldb"
)

// Service is unified identity's operations.
type Service struct {
	db     *sqldb.DB
	hasher *password.Hasher
	sender Sender
	mailer Mailer
	set    Settings
	ghosts authn.Ghosts
	now    func() time.Time
}

// NewService returns the identity service; sender delivers verification
// codes (OutboxSender when nil).
func NewService(db *sqldb.DB, hasher *password.Hasher, sender Sender, set Settings) *Service {
	if sender == nil {
		sender = OutboxSender{}
	}
	return &Service{db: db, hasher: hasher, sender: sender, mailer: OutboxMailer{}, set: set.withDefaults(), now: sqldb.Now}
}

// SetMailer replaces how e-mail is queued (OutboxMailer by default).
func (s *Service) SetMailer(m Mailer) { s.mailer = m }

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

const accountColumns = `id, kind, name, COALESCE(id_number, ''), COALESCE(uscc, ''), COALESCE(phone, ''), legal_rep, COALESCE(email, ''), email_verified_at,
	assurance, assurance_method, assurance_at, password_hash, failed_logins, locked_until, disabled, last_login_at, created_at, updated_at, version`

func scanAccount(sc interface{ Scan(...any) error }) (Account, error) {
	var a Account
	var locked, last, verified sql.NullTime
	err := sc.Scan(&a.ID, &a.Kind, &a.Name, &a.IDNumber, &a.USCC, &a.Phone, &a.LegalRep, &a.Email, &verified, &a.Assurance, &a.AssuranceMethod,
		&a.AssuranceAt, &a.PasswordHash, &a.FailedLogins, &locked, &a.Disabled, &last, &a.CreatedAt, &a.UpdatedAt, &a.Version)
	a.LockedUntil, a.LastLoginAt, a.EmailVerifiedAt = locked.Time, last.Time, verified.Time
	return a, err
}

var errNoAccount = &errs.Error{Kind: errs.NotFound, Op: "identity.Service.Account", Msg: "账号不存在"}

func getAccount(ctx context.Context, q sqldb.Querier, where string, args ...any) (Account, error) {
	a, err := scanAccount(q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM identity_accounts WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, errNoAccount
	}
	if err != nil {
		return Account{}, fmt.Errorf("identity.getAccount: %w", err)
	}
	return a, nil
}

// Account returns the account with id.
func (s *Service) Account(ctx context.Context, id string) (Account, error) {
	return getAccount(ctx, s.db.R, `id = $1`, id)
}

// AccountByIDNumber returns the person account with a 公民身份号码.
func (s *Service) AccountByIDNumber(ctx context.Context, idNumber string) (Account, error) {
	return getAccount(ctx, s.db.R, `id_number = $1`, strings.ToUpper(strings.TrimSpace(idNumber)))
}

// AccountByUSCC returns the legal-person account with a 统一社会信用代码.
func (s *Service) AccountByUSCC(ctx context.Context, uscc string) (Account, error) {
	return getAccount(ctx, s.db.R, `uscc = $1`, strings.ToUpper(strings.TrimSpace(uscc)))
}

// lookup finds the account a sign-in name names: an ID number, a credit
// code or a person's phone.
func lookup(ctx context.Context, q sqldb.Querier, name string) (Account, error) {
	name = strings.ToUpper(strings.TrimSpace(name))
	switch {
	case ValidPhone(name):
		return getAccount(ctx, q, `phone = $1 AND kind = $2`, name, Person)
	case len(name) == 18:
		return getAccount(ctx, q, `id_number = $1 OR uscc = $1`, name)
	}
	return Account{}, errNoAccount
}

// ---- registration ----

// duplicates reports which of in's identifiers are taken, on their fields.
func (s *Service) duplicates(ctx context.Context, q sqldb.Querier, in NewAccount) (map[string]string, error) {
	f := map[string]string{}
	for _, c := range []struct{ field, where, v, msg string }{
		{"id_number", `id_number = $1`, in.IDNumber, "该身份证号已注册，请直接登录或找回密码"},
		{"uscc", `uscc = $1`, in.USCC, "该统一社会信用代码已注册，请直接登录或找回密码"},
		{"phone", `phone = $1 AND kind = 'person'`, in.Phone, "该手机号已被其他个人账号使用"},
	} {
		if c.v == "" || (c.field == "phone" && in.Kind != Person) {
			continue
		}
		var n int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM identity_accounts WHERE `+c.where, c.v).Scan(&n); err != nil {
			return nil, fmt.Errorf("identity.duplicates: %w", err)
		}
		if n > 0 {
			f[c.field] = c.msg
		}
	}
	return f, nil
}

// Register creates an account whose phone was proven by code, at assurance
// level 1, and signs it in. Nothing is written unless everything holds.
func (s *Service) Register(ctx context.Context, in NewAccount, code, ip, ua string) (Account, string, error) {
	const op = "identity.Service.Register"
	if err := in.Check(s.now()); err != nil {
		return Account{}, "", err
	}
	if in.Phone == "" {
		return Account{}, "", &errs.Error{Kind: errs.Invalid, Op: op, Msg: "请填写手机号码", Fields: map[string]string{"phone": "请填写11位手机号码"}}
	}
	// The code first: without proof of the phone, the answer must not tell
	// whether an ID number or credit code is registered.
	if err := s.consumeCode(ctx, PurposeRegister, in.Phone, code); err != nil {
		return Account{}, "", err
	}
	if f, err := s.duplicates(ctx, s.db.R, in); err != nil || len(f) > 0 {
		if err == nil {
			err = &errs.Error{Kind: errs.Invalid, Op: op, Msg: "请按提示修改注册信息（验证码已使用，请重新获取）", Fields: f}
		}
		return Account{}, "", err
	}
	a, token, err := s.create(ctx, in, LevelPhone, MethodPhone, ip, ua, true)
	return a, token, err
}

// CreateAccount adds an account without a verification code (operators'
// onboarding and the CLI); it is recorded as entered by an operator.
func (s *Service) CreateAccount(ctx context.Context, in NewAccount) (Account, error) {
	if err := in.Check(s.now()); err != nil {
		return Account{}, err
	}
	if f, err := s.duplicates(ctx, s.db.R, in); err != nil || len(f) > 0 {
		if err == nil {
			err = &errs.Error{Kind: errs.Conflict, Op: "identity.Service.CreateAccount", Msg: "账号已存在", Fields: f}
		}
		return Account{}, err
	}
	a, _, err := s.create(ctx, in, LevelPhone, MethodImport, "", "", false)
	return a, err
}

func (s *Service) create(ctx context.Context, in NewAccount, level Level, method, ip, ua string, signIn bool) (Account, string, error) {
	const op = "identity.Service.create"
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return Account{}, "", err
	}
	id, now := sqldb.NewID(), s.now()
	var token string
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO identity_accounts (id, kind, name, id_number, uscc, phone, legal_rep, assurance, assurance_method,
			assurance_at, password_hash, password_changed_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10, $10, $10)`,
			id, in.Kind, in.Name, sqldb.NullString(in.IDNumber), sqldb.NullString(in.USCC), sqldb.NullString(in.Phone), in.LegalRep, level, method, now, hash)
		if sqldb.IsUniqueViolation(err) {
			return &errs.Error{Kind: errs.Conflict, Op: op, Msg: "账号已存在，请直接登录或找回密码", Err: err}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO identity_assurance (id, account_id, level, method, at) VALUES ($1, $2, $3, $4, $5)`,
			sqldb.NewID(), id, level, method, now); err != nil {
			return err
		}
		actx := ctx
		if signIn {
			actx = audit.WithActor(ctx, actorFor(ctx, Account{ID: id, Name: in.Name}, ""))
			if token, err = s.newSession(ctx, tx, id, ip, ua); err != nil {
				return err
			}
			if err := s.history(ctx, tx, id, "ok", "password", ip, ua); err != nil {
				return err
			}
		}
		return audit.Write(actx, tx, audit.Entry{Action: "identity.account.create", TargetType: "identity_account", TargetID: id,
			Detail: map[string]any{"kind": in.Kind, "assurance": level, "method": method}})
	})
	if err != nil {
		return Account{}, "", err
	}
	a, err := s.Account(ctx, id)
	return a, token, err
}

// actorFor is the audit actor of a signed-in account (acting for actingFor).
func actorFor(ctx context.Context, a Account, actingFor string) audit.Actor {
	act := audit.ActorFrom(ctx)
	act.ID, act.Name, act.OnBehalfOf = "account:"+a.ID, a.Name, actingFor
	return act
}

// ---- sign-in ----

var errBadLogin = &errs.Error{Kind: errs.Unauthenticated, Op: "identity.Service.Login", Msg: "账号或密码错误"}

func lockedErr(until time.Time) error {
	return &errs.Error{Kind: errs.TooMany, Op: "identity.Service.Login", Msg: lockedMsg(until)}
}

// Login checks a sign-in name (ID number, credit code or phone) and a
// password and opens a session. Unknown names cost the same hash time, get
// the same message and lock after the same number of attempts as real
// accounts, so nothing tells whether an account exists.
func (s *Service) Login(ctx context.Context, name, plain, ip, ua string) (Account, string, error) {
	if name = strings.TrimSpace(name); name == "" || plain == "" || len(name) > 64 || len(plain) > password.MaxLen*4 {
		return Account{}, "", errBadLogin
	}
	a, err := lookup(ctx, s.db.R, name)
	if errs.KindOf(err) == errs.NotFound {
		s.hasher.Dummy(ctx)
		if until := s.ghosts.Fail(strings.ToUpper(name), s.now(), s.set.LockoutThreshold, s.set.LockoutDuration); !until.IsZero() {
			return Account{}, "", lockedErr(until)
		}
		return Account{}, "", errBadLogin
	}
	if err != nil {
		return Account{}, "", err
	}
	ok, rehash, err := s.hasher.Verify(ctx, plain, a.PasswordHash)
	if err != nil && !errors.Is(err, password.ErrMalformed) {
		return Account{}, "", err
	}
	now := s.now()
	if a.Locked(now) {
		s.record(ctx, a.ID, "locked", "password", ip, ua)
		return Account{}, "", lockedErr(a.LockedUntil)
	}
	if !ok {
		return Account{}, "", s.failed(ctx, a, ip, ua)
	}
	if a.Disabled {
		return Account{}, "", &errs.Error{Kind: errs.Forbidden, Op: "identity.Service.Login", Msg: "该账号已停用，请联系12345政务服务便民热线"}
	}
	var newHash string
	if rehash {
		if newHash, err = s.hasher.Hash(ctx, plain); err != nil {
			return Account{}, "", err
		}
	}
	var token string
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		// A lock set by a concurrent failed attempt wins over this success.
		res, err := tx.ExecContext(ctx, `UPDATE identity_accounts SET failed_logins = 0, last_login_at = $1 WHERE id = $2 AND (locked_until IS NULL OR locked_until <= $1)`, now, a.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return lockedErr(now.Add(s.set.LockoutDuration))
		}
		if newHash != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE identity_accounts SET password_hash = $1 WHERE id = $2`, newHash, a.ID); err != nil {
				return err
			}
		}
		if token, err = s.newSession(ctx, tx, a.ID, ip, ua); err != nil {
			return err
		}
		if err := s.history(ctx, tx, a.ID, "ok", "password", ip, ua); err != nil {
			return err
		}
		return audit.Write(audit.WithActor(ctx, actorFor(ctx, a, "")), tx, audit.Entry{Action: "identity.login", TargetType: "identity_account", TargetID: a.ID})
	})
	if err != nil {
		if errs.KindOf(err) == errs.TooMany {
			return Account{}, "", err
		}
		return Account{}, "", fmt.Errorf("identity.Service.Login: %w", err)
	}
	return a, token, nil
}

// failed counts a wrong password and locks the account at the threshold.
func (s *Service) failed(ctx context.Context, a Account, ip, ua string) error {
	now := s.now()
	var locked time.Time
	err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `UPDATE identity_accounts SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins`, a.ID).Scan(&n); err != nil {
			return err
		}
		if n >= s.set.LockoutThreshold {
			locked = now.Add(s.set.LockoutDuration)
			if _, err := tx.ExecContext(ctx, `UPDATE identity_accounts SET failed_logins = 0, locked_until = $1 WHERE id = $2`, locked, a.ID); err != nil {
				return err
			}
			if err := audit.Write(ctx, tx, audit.Entry{Action: "identity.account.locked", TargetType: "identity_account", TargetID: a.ID,
				Detail: map[string]any{"failures": n}}); err != nil {
				return err
			}
		}
		return s.history(ctx, tx, a.ID, "bad_password", "password", ip, ua)
	})
	if err != nil {
		return fmt.Errorf("identity.Service.failed: %w", err)
	}
	if !locked.IsZero() {
		return lockedErr(locked)
	}
	return errBadLogin
}

// history adds a sign-in history entry.
func (s *Service) history(ctx context.Context, tx *sql.Tx, accountID, outcome, via, ip, ua string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO identity_logins (id, account_id, at, outcome, via, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		sqldb.NewID(), accountID, s.now(), outcome, via, ip, clip(ua, 300))
	return err
}

// record adds a history entry in its own transaction.
func (s *Service) record(ctx context.Context, accountID, outcome, via, ip, ua string) {
	_ = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error { return s.history(ctx, tx, accountID, outcome, via, ip, ua) })
}

func clip(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "")
	}
	return s
}

func (s *Service) newSession(ctx context.Context, tx *sql.Tx, accountID, ip, ua string) (string, error) {
	token, err := authn.NewToken()
	if err != nil {
		return "", err
	}
	now := s.now()
	_, err = tx.ExecContext(ctx, `INSERT INTO identity_sessions (id, account_id, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES ($1, $2, $3, $3, $4, $5, $6)`, authn.HashToken(token), accountID, now, now.Add(s.set.SessionMaxAge), ip, clip(ua, 300))
	return token, err
}

const sessionColumns = `id, account_id, acting_for, created_at, last_seen_at, expires_at, ip, user_agent`

func scanSession(sc interface{ Scan(...any) error }) (Session, error) {
	var se Session
	err := sc.Scan(&se.ID, &se.AccountID, &se.ActingFor, &se.CreatedAt, &se.LastSeenAt, &se.ExpiresAt, &se.IP, &se.UserAgent)
	return se, err
}

// Authenticate returns the session and account of a cookie token. Expired,
// idle and unknown sessions are Unauthenticated.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, Account, error) {
	const op = "identity.Service.Authenticate"
	unauth := &errs.Error{Kind: errs.Unauthenticated, Op: op, Msg: "登录已过期，请重新登录"}
	if token == "" || len(token) > 100 {
		return Session{}, Account{}, unauth
	}
	se, err := scanSession(s.db.R.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM identity_sessions WHERE id = $1`, authn.HashToken(token)))
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, Account{}, unauth
	}
	if err != nil {
		return Session{}, Account{}, fmt.Errorf("%s: %w", op, err)
	}
	now := s.now()
	if !now.Before(se.ExpiresAt) || now.Sub(se.LastSeenAt) > s.set.SessionTTL {
		s.db.W.ExecContext(ctx, `DELETE FROM identity_sessions WHERE id = $1`, se.ID)
		return Session{}, Account{}, unauth
	}
	a, err := s.Account(ctx, se.AccountID)
	if err != nil || a.Disabled {
		return Session{}, Account{}, unauth
	}
	if now.Sub(se.LastSeenAt) > time.Minute {
		if _, err := s.db.W.ExecContext(ctx, `UPDATE identity_sessions SET last_seen_at = $1 WHERE id = $2`, now, se.ID); err != nil {
			return Session{}, Account{}, fmt.Errorf("%s: touch: %w", op, err)
		}
	}
	return se, a, nil
}

// Logout ends the session of token.
func (s *Service) Logout(ctx context.Context, token string) error {
	se, a, err := s.Authenticate(ctx, token)
	if err != nil {
		return nil // already gone
	}
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM identity_sessions WHERE id = $1`, se.ID); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "identity.logout", TargetType: "identity_account", TargetID: a.ID})
	})
}

// Sessions lists an account's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, accountID string) ([]Session, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+sessionColumns+` FROM identity_sessions WHERE account_id = $1 AND expires_at > $2 ORDER BY created_at DESC`,
		accountID, s.now())
	if err != nil {
		return nil, fmt.Errorf("identity.Service.Sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		se, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, se)
	}
	return out, rows.Err()
}

// RevokeSession ends one of a's sessions.
func (s *Service) RevokeSession(ctx context.Context, a Account, sessionID string) error {
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM identity_sessions WHERE id = $1 AND account_id = $2`, sessionID, a.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &errs.Error{Kind: errs.NotFound, Op: "identity.Service.RevokeSession", Msg: "该登录设备已退出"}
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "identity.session.revoke", TargetType: "identity_account", TargetID: a.ID})
	})
}

// PurgeSessions deletes expired and idle sessions and spent or stale
// verification codes (housekeeping).
func (s *Service) PurgeSessions(ctx context.Context) (int64, error) {
	now := s.now()
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM identity_sessions WHERE expires_at <= $1 OR last_seen_at < $2`, now, now.Add(-s.set.SessionTTL))
	if err != nil {
		return 0, fmt.Errorf("identity.Service.PurgeSessions: %w", err)
	}
	n, _ := res.RowsAffected()
	// Codes count towards the daily limit for 24 hours; keep them that long.
	if res, err = s.db.W.ExecContext(ctx, `DELETE FROM identity_codes WHERE created_at < $1`, now.Add(-25*time.Hour)); err != nil {
		return n, fmt.Errorf("identity.Service.PurgeSessions: codes: %w", err)
	}
	m, _ := res.RowsAffected()
	return n + m, nil
}

// Logins returns an account's latest sign-in history, newest first.
func (s *Service) Logins(ctx context.Context, accountID string, limit int) ([]Login, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT at, outcome, via, ip, user_agent FROM identity_logins WHERE account_id = $1 ORDER BY at DESC LIMIT $2`,
		accountID, min(max(limit, 1), 200))
	if err != nil {
		return nil, fmt.Errorf("identity.Service.Logins: %w", err)
	}
	defer rows.Close()
	var out []Login
	for rows.Next() {
		var l Login
		if err := rows.Scan(&l.At, &l.Outcome, &l.Via, &l.IP, &l.UserAgent); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// ---- passwords ----

// ChangePassword sets a new password after checking the current one; every
// other session of the account ends.
func (s *Service) ChangePassword(ctx context.Context, a Account, keepSession, current, next string) error {
	const op = "identity.Service.ChangePassword"
	ok, _, err := s.hasher.Verify(ctx, current, a.PasswordHash)
	if err != nil && !errors.Is(err, password.ErrMalformed) {
		return err
	}
	if !ok {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "当前密码不正确", Fields: map[string]string{"current": "当前密码不正确"}}
	}
	return s.setPassword(ctx, a, keepSession, next, "identity.password.change")
}

func (s *Service) setPassword(ctx context.Context, a Account, keepSession, next, action string) error {
	const op = "identity.Service.setPassword"
	if err := checkPassword(next, a.IDNumber, a.USCC, a.Phone); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE identity_accounts SET password_hash = $1, password_changed_at = $2, updated_at = $2,
			failed_logins = 0, locked_until = NULL, version = version + 1 WHERE id = $3`, hash, now, a.ID); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM identity_sessions WHERE account_id = $1 AND id <> $2`, a.ID, keepSession); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Action: action, TargetType: "identity_account", TargetID: a.ID})
	})
}

// checkPassword applies the password policy and refuses a password that
// contains the holder's own identifiers.
func checkPassword(plain string, ids ...string) error {
	if err := password.Validate(plain); err != nil {
		return &errs.Error{Kind: errs.Invalid, Op: "identity.checkPassword", Msg: errs.Message(err), Fields: map[string]string{"password": errs.Message(err)}}
	}
	up := strings.ToUpper(plain)
	for _, id := range ids {
		if len(id) >= 6 && strings.Contains(up, strings.ToUpper(id[len(id)-6:])) {
			return &errs.Error{Kind: errs.Invalid, Op: "identity.checkPassword", Msg: "密码不能包含证件号码或手机号码",
				Fields: map[string]string{"password": "密码不能包含证件号码或手机号码"}}
		}
	}
	return nil
}

// ResetPassword sets a new password for the person account of phone once
// the code sent to it is entered; all sessions end and any lock lifts.
func (s *Service) ResetPassword(ctx context.Context, phone, code, next string) error {
	return s.ResetPasswordOf(ctx, "", phone, code, next)
}

// ResetPasswordOf is ResetPassword for the account named by username (ID
// number, credit code or phone; "" for the person whose phone it is) whose
// registered phone is phone: enterprises reset theirs this way.
func (s *Service) ResetPasswordOf(ctx context.Context, username, phone, code, next string) error {
	const op = "identity.Service.ResetPassword"
	phone = strings.TrimSpace(phone)
	if err := checkPassword(next); err != nil {
		return err
	}
	if err := s.consumeCode(ctx, PurposeReset, phone, code); err != nil {
		return err
	}
	a, err := s.resetAccount(ctx, username, phone)
	if err != nil {
		// A code was sent only to a registered phone, so this is a race with deletion.
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "验证码错误或已失效", Fields: map[string]string{"code": "验证码错误或已失效"}}
	}
	return s.setPassword(ctx, a, "", next, "identity.password.reset")
}

// resetAccount is the account a reset is for: the person whose phone it
// is, or the account username names if its registered phone is phone.
func (s *Service) resetAccount(ctx context.Context, username, phone string) (Account, error) {
	if username = strings.TrimSpace(username); username == "" {
		return lookup(ctx, s.db.R, phone)
	}
	a, err := lookup(ctx, s.db.R, username)
	if err != nil {
		return Account{}, err
	}
	if a.Phone != phone {
		return Account{}, errNoAccount
	}
	return a, nil
}

// ---- verification codes ----

// Purposes of verification codes.
const (
	PurposeRegister = "register"
	PurposeReset    = "reset"
)

// SendCode sends a 6-digit verification code to phone. For a reset, a code
// goes only to a registered phone, but the answer is the same either way.
func (s *Service) SendCode(ctx context.Context, purpose, phone string) error {
	return s.SendCodeFor(ctx, purpose, "", phone)
}

// SendCodeFor is SendCode for a reset of the account username names (see
// ResetPasswordOf); the answer is the same whether it exists or not.
func (s *Service) SendCodeFor(ctx context.Context, purpose, username, phone string) error {
	const op = "identity.Service.SendCode"
	phone = strings.TrimSpace(phone)
	if !ValidPhone(phone) {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "请填写11位手机号码", Fields: map[string]string{"phone": "请填写11位手机号码"}}
	}
	if purpose != PurposeRegister && purpose != PurposeReset {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "验证码用途无效"}
	}
	registered := true
	if purpose == PurposeReset {
		if _, err := s.resetAccount(ctx, username, phone); errs.KindOf(err) == errs.NotFound {
			registered = false // counted like a real send, so the limits say nothing either
		} else if err != nil {
			return err
		}
	}
	code, err := newCode()
	if err != nil {
		return err
	}
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		now := s.now()
		// Lock the phone's row: concurrent requests for one phone take turns.
		if _, err := tx.ExecContext(ctx, `INSERT INTO identity_code_locks (target, locked_at) VALUES ($1, $2)
			ON CONFLICT (target) DO UPDATE SET locked_at = $2`, phone, now); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		var today int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM identity_codes WHERE target = $1 AND created_at > $2`,
			phone, now.Add(-24*time.Hour)).Scan(&today); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		// (MAX(created_at) would lose its type on SQLite.)
		var last sql.NullTime
		err := tx.QueryRowContext(ctx, `SELECT created_at FROM identity_codes WHERE target = $1 ORDER BY created_at DESC LIMIT 1`, phone).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", op, err)
		}
		if today >= s.set.CodesPerDay {
			return &errs.Error{Kind: errs.TooMany, Op: op, Msg: "该手机号今日获取验证码次数已达上限，请明天再试"}
		}
		if wait := last.Time.Add(s.set.CodeInterval).Sub(now); last.Valid && wait > 0 {
			return &errs.Error{Kind: errs.TooMany, Op: op, Msg: fmt.Sprintf("验证码发送过于频繁，请 %d 秒后再试", int(wait.Seconds())+1)}
		}
		if !registered {
			return s.insertCode(ctx, tx, purpose, phone, "")
		}
		if err := s.insertCode(ctx, tx, purpose, phone, code); err != nil {
			return err
		}
		return s.sender.Send(ctx, tx, phone, fmt.Sprintf("【一网通办】您的验证码是%s，%d分钟内有效。如非本人操作，请忽略。", code, int(s.set.CodeTTL.Minutes())))
	})
}

// insertCode stores code's digest; an empty code stores a digest nothing matches.
func (s *Service) insertCode(ctx context.Context, tx *sql.Tx, purpose, phone, code string) error {
	id, now := sqldb.NewID(), s.now()
	digest := "-"
	if code != "" {
		digest = authn.HashToken(id + ":" + code)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO identity_codes (id, purpose, target, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, purpose, phone, digest, now, now.Add(s.set.CodeTTL))
	return err
}

func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// consumeCode checks the latest code sent to phone for purpose and spends
// it; a wrong entry counts, and too many spend the code.
func (s *Service) consumeCode(ctx context.Context, purpose, phone, code string) error {
	var result error
	err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		var err error
		result, err = s.checkCode(ctx, tx, purpose, phone, code)
		return err
	})
	if err != nil {
		return fmt.Errorf("identity.Service.consumeCode: %w", err)
	}
	return result
}

// checkCode is consumeCode inside tx: result is the verdict for the person
// (nil: the code was right and is now spent), err a failure of the
// database. tx must commit even when result is not nil, so that the wrong
// attempt counts.
func (s *Service) checkCode(ctx context.Context, tx *sql.Tx, purpose, target, code string) (result, err error) {
	const op = "identity.Service.checkCode"
	bad := func(msg string) error {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: msg, Fields: map[string]string{"code": msg}}
	}
	code = strings.TrimSpace(code)
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return bad("请输入6位验证码"), nil
	}
	var id, digest string
	var expires time.Time
	err = tx.QueryRowContext(ctx, `SELECT id, code_hash, expires_at FROM identity_codes
		WHERE target = $1 AND purpose = $2 AND used_at IS NULL ORDER BY created_at DESC LIMIT 1`, target, purpose).Scan(&id, &digest, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return bad("请先获取验证码"), nil
	}
	if err != nil {
		return nil, err
	}
	// Claim one attempt before comparing: the update locks the row, so
	// guesses made at once are counted one by one on every engine.
	res, err := tx.ExecContext(ctx, `UPDATE identity_codes SET attempts = attempts + 1 WHERE id = $1 AND attempts < $2`, id, s.set.CodeAttempts)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if n, _ := res.RowsAffected(); n == 0 || !now.Before(expires) {
		return bad("验证码已失效，请重新获取"), nil
	}
	if subtle.ConstantTimeCompare([]byte(digest), []byte(authn.HashToken(id+":"+code))) != 1 {
		return bad("验证码错误"), nil
	}
	_, err = tx.ExecContext(ctx, `UPDATE identity_codes SET used_at = $1 WHERE id = $2`, now, id)
	return nil, err
}
