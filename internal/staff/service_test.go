package staff_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yiwang/internal/org"
	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/password"
	"yiwang/internal/platform/sqldb/sqldbtest"
	"yiwang/internal/platform/totp"
	"yiwang/internal/staff"
)

// pw is every fixture account's password.
const pw = "Correct-Horse-9"

// cst is China Standard Time, in which lockout messages name the time.
var cst = time.FixedZone("CST", 8*3600)

// clock is the service's clock in tests: UTC, whole seconds, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// env is one engine's database with regions, departments and a staff service.
type env struct {
	eng   sqldbtest.Engine
	ctx   context.Context
	orgs  *org.Service
	svc   *staff.Service
	clock *clock
	root  *authz.Principal // the system, as platform admin of Inner Mongolia
	deptA org.Department   // 150100
	deptC org.Department   // 150100, a second department
	deptB org.Department   // 150200
}

// forEngines runs fn on a fresh environment per configured engine.
func forEngines(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) { fn(t, setup(t, eng)) })
	}
}

func setup(t *testing.T, eng sqldbtest.Engine) *env {
	t.Helper()
	ctx := t.Context()
	if _, err := org.LoadRegions(ctx, eng.DB, "2026-11-25"); err != nil {
		t.Fatalf("LoadRegions: %v", err)
	}
	e := &env{
		eng:   eng,
		ctx:   ctx,
		orgs:  org.NewService(eng.DB),
		clock: &clock{t: time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)}, // 10:00 in China
		root:  &authz.Principal{UserID: "system", Grants: []authz.Grant{{Role: authz.PlatformAdmin, Region: "150000"}}},
	}
	for _, d := range []struct {
		dst          *org.Department
		name, region string
	}{
		{&e.deptA, "呼和浩特市市场监督管理局", "150100"},
		{&e.deptC, "呼和浩特市公安局", "150100"},
		{&e.deptB, "包头市市场监督管理局", "150200"},
	} {
		dept, err := e.orgs.CreateDepartment(ctx, e.root, org.DeptInput{Name: d.name, Region: d.region})
		if err != nil {
			t.Fatalf("CreateDepartment(%s): %v", d.name, err)
		}
		*d.dst = dept
	}
	hasher := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2)
	e.svc = staff.NewService(eng.DB, e.orgs, hasher, staff.Settings{
		SessionTTL: 30 * time.Minute, SessionMaxAge: 12 * time.Hour, LockoutThreshold: 5, LockoutDuration: 15 * time.Minute,
	})
	e.svc.SetClock(e.clock.Now)
	return e
}

// user bootstraps an account with password pw.
func (e *env) user(t *testing.T, username, region, deptID string, grants ...authz.Grant) staff.User {
	t.Helper()
	u, err := e.svc.Bootstrap(e.ctx, staff.UserInput{Username: username, DisplayName: "用户" + username, Region: region, DeptID: deptID, Password: pw}, grants)
	if err != nil {
		t.Fatalf("Bootstrap(%s): %v", username, err)
	}
	return u
}

// reload reads an account again.
func (e *env) reload(t *testing.T, id string) staff.User {
	t.Helper()
	u, err := e.svc.UserByID(e.ctx, id)
	if err != nil {
		t.Fatalf("UserByID(%s): %v", id, err)
	}
	return u
}

// login signs in with pw and fails t on an error.
func (e *env) login(t *testing.T, username string) staff.LoginResult {
	t.Helper()
	res, err := e.svc.Login(e.ctx, username, pw, "10.0.0.1", "test")
	if err != nil {
		t.Fatalf("Login(%s): %v", username, err)
	}
	return res
}

// session authenticates token and fails t on an error.
func (e *env) session(t *testing.T, token string) (staff.Session, staff.User) {
	t.Helper()
	se, u, err := e.svc.Authenticate(e.ctx, token)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	return se, u
}

// actions returns the audit actions recorded against target, oldest first.
func (e *env) actions(t *testing.T, target string) []string {
	t.Helper()
	recs, _, err := audit.List(e.ctx, e.eng.DB, audit.Query{TargetID: target, Limit: 500}, "1 = 1", nil)
	if err != nil {
		t.Fatalf("audit.List: %v", err)
	}
	var out []string
	for _, r := range slices.Backward(recs) {
		out = append(out, r.Action)
	}
	return out
}

// wantAudit fails t unless target's audit trail has every one of actions.
func (e *env) wantAudit(t *testing.T, target string, actions ...string) {
	t.Helper()
	have := e.actions(t, target)
	for _, a := range actions {
		if !slices.Contains(have, a) {
			t.Errorf("audit trail of %s = %v, want it to contain %q", target, have, a)
		}
	}
}

// verifyAudit fails t unless the audit chain is intact.
func (e *env) verifyAudit(t *testing.T) {
	t.Helper()
	rep, err := audit.Verify(e.ctx, e.eng.DB)
	if err != nil {
		t.Fatalf("audit.Verify: %v", err)
	}
	if !rep.OK {
		t.Errorf("audit.Verify = %+v, want OK", rep)
	}
}

// wantKind fails t unless err is classified as want.
func wantKind(t *testing.T, call string, err error, want errs.Kind) {
	t.Helper()
	if err == nil {
		t.Errorf("%s = nil, want a %s error", call, want.Code())
		return
	}
	if got := errs.KindOf(err); got != want {
		t.Errorf("%s error = %v (%s), want %s", call, err, got.Code(), want.Code())
	}
}

// msgOf returns the user-facing message of err.
func msgOf(err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return ""
}

// code returns secret's TOTP code at now.
func code(t *testing.T, secret string, now time.Time) string {
	t.Helper()
	c, err := totp.Code(secret, now)
	if err != nil {
		t.Fatalf("totp.Code: %v", err)
	}
	return c
}

// wrongCode returns a six-digit code that no step Verify accepts at now matches.
func wrongCode(t *testing.T, secret string, now time.Time) string {
	t.Helper()
	valid := map[string]bool{}
	for _, d := range []time.Duration{-totp.Period, 0, totp.Period} {
		valid[code(t, secret, now.Add(d))] = true
	}
	for i := 0; ; i++ {
		if c := fmt.Sprintf("%06d", (123456+i)%1_000_000); !valid[c] {
			return c
		}
	}
}

func TestLogin(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		clerk := e.user(t, "clerk", "150100", "", authz.Grant{Role: authz.WindowClerk, Region: "150100"})
		e.user(t, "wrongpw", "150100", "")
		off := e.user(t, "off", "150100", "")
		if err := e.svc.SetDisabled(e.ctx, e.root, off.ID, true); err != nil {
			t.Fatalf("SetDisabled: %v", err)
		}
		_, err := e.svc.Login(e.ctx, "wrongpw", "Correct-Horse-8", "", "")
		wantKind(t, "Login(wrong password)", err, errs.Unauthenticated)
		wrongMsg := msgOf(err)

		tests := []struct {
			name, username, password string
			wantErr                  bool
			kind                     errs.Kind
			sameMsg                  bool // Msg equals the wrong-password one
		}{
			{name: "success", username: "clerk", password: pw},
			{name: "username trimmed and case-folded", username: "  CLERK ", password: pw},
			{name: "wrong password", username: "wrongpw", password: "correct-horse-9", wantErr: true, kind: errs.Unauthenticated, sameMsg: true},
			{name: "unknown user", username: "nobody", password: pw, wantErr: true, kind: errs.Unauthenticated, sameMsg: true},
			{name: "empty username", username: "", password: pw, wantErr: true, kind: errs.Unauthenticated, sameMsg: true},
			{name: "blank username", username: "   ", password: pw, wantErr: true, kind: errs.Unauthenticated, sameMsg: true},
			{name: "empty password", username: "clerk", password: "", wantErr: true, kind: errs.Unauthenticated, sameMsg: true},
			{name: "oversized username", username: strings.Repeat("a", 65), password: pw, wantErr: true, kind: errs.Unauthenticated, sameMsg: true},
			{name: "oversized password", username: "clerk", password: strings.Repeat("Aa1-", 129), wantErr: true, kind: errs.Unauthenticated, sameMsg: true},
			{name: "disabled with correct password", username: "off", password: pw, wantErr: true, kind: errs.Forbidden},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				res, err := e.svc.Login(e.ctx, tc.username, tc.password, "10.0.0.1", "test")
				call := fmt.Sprintf("Login(%q)", tc.username)
				if tc.wantErr {
					wantKind(t, call, err, tc.kind)
					if res.Token != "" {
						t.Errorf("%s token = %q, want none", call, res.Token)
					}
					if tc.sameMsg && msgOf(err) != wrongMsg {
						t.Errorf("%s Msg = %q, want %q as for a wrong password", call, msgOf(err), wrongMsg)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s: %v", call, err)
				}
				if res.Token == "" || res.NeedTOTP || res.NeedEnroll {
					t.Fatalf("%s = %+v, want a token and no second factor", call, res)
				}
				se, u := e.session(t, res.Token)
				if !se.MFAOK || se.UserID != clerk.ID || u.ID != clerk.ID {
					t.Errorf("Authenticate = session %+v, user %s; want MFAOK session of %s", se, u.ID, clerk.ID)
				}
				if diff := cmp.Diff(clerk.Grants, u.Grants); diff != "" {
					t.Errorf("Authenticate grants mismatch (-want +got):\n%s", diff)
				}
				if !u.LastLoginAt.Equal(e.clock.Now()) {
					t.Errorf("LastLoginAt = %v, want %v", u.LastLoginAt, e.clock.Now())
				}
			})
		}
		e.wantAudit(t, clerk.ID, "staff.user.create", "staff.grant.add", "staff.login")
		e.wantAudit(t, off.ID, "staff.user.disable", "staff.login.refused")
		e.verifyAudit(t)
	})
}

// TestLoginDoesNotRevealAccounts checks that an unknown username cannot be
// told from a wrong password by its message on any attempt before the lockout.
func TestLoginDoesNotRevealAccounts(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		e.user(t, "known", "150100", "")
		for i := 1; i < 5; i++ {
			_, errKnown := e.svc.Login(e.ctx, "known", "Wrong-Horse-9", "", "")
			_, errGhost := e.svc.Login(e.ctx, "ghost", "Wrong-Horse-9", "", "")
			wantKind(t, "Login(known, wrong)", errKnown, errs.Unauthenticated)
			wantKind(t, "Login(ghost)", errGhost, errs.Unauthenticated)
			if msgOf(errKnown) != msgOf(errGhost) {
				t.Errorf("attempt %d: wrong password says %q but unknown user says %q: the difference reveals that the account exists",
					i, msgOf(errKnown), msgOf(errGhost))
			}
		}
	})
}

func TestLockout(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		u := e.user(t, "locky", "150100", "")
		lockAt := e.clock.Now()
		wantUntil := lockAt.Add(15 * time.Minute)
		wantClock := wantUntil.In(cst).Format("15:04") // "10:15"
		wrong := func(t *testing.T) error {
			t.Helper()
			_, err := e.svc.Login(e.ctx, "locky", "Wrong-Horse-9", "", "")
			return err
		}
		wantLocked := func(t *testing.T, call string, err error) {
			t.Helper()
			wantKind(t, call, err, errs.TooMany)
			if m := msgOf(err); !strings.Contains(m, "锁定") || !strings.Contains(m, wantClock) {
				t.Errorf("%s Msg = %q, want it to mention 锁定 and %s", call, m, wantClock)
			}
		}
		for i := 1; i <= 4; i++ {
			wantKind(t, fmt.Sprintf("wrong password #%d", i), wrong(t), errs.Unauthenticated)
		}
		if got := e.reload(t, u.ID).FailedLogins; got != 4 {
			t.Errorf("FailedLogins after 4 failures = %d, want 4", got)
		}
		wantLocked(t, "wrong password #5", wrong(t))
		if got := e.reload(t, u.ID).LockedUntil; !got.Equal(wantUntil) {
			t.Errorf("LockedUntil = %v, want %v", got, wantUntil)
		}
		_, err := e.svc.Login(e.ctx, "locky", pw, "", "")
		wantLocked(t, "Login(right password) while locked", err)

		e.clock.Advance(15*time.Minute - time.Second)
		_, err = e.svc.Login(e.ctx, "locky", pw, "", "")
		wantLocked(t, "Login(right password) a second before the lock ends", err)

		e.clock.Advance(2 * time.Second)
		wantKind(t, "wrong password after the lock", wrong(t), errs.Unauthenticated)
		if got := e.reload(t, u.ID).FailedLogins; got != 1 {
			t.Errorf("FailedLogins after the lock and one failure = %d, want 1", got)
		}
		e.login(t, "locky")
		if got := e.reload(t, u.ID); got.FailedLogins != 0 || !got.LockedUntil.IsZero() {
			t.Errorf("after sign-in FailedLogins = %d, LockedUntil = %v; want 0 and none", got.FailedLogins, got.LockedUntil)
		}

		// An administrator clears a lock early.
		for range 5 {
			wrong(t)
		}
		_, err = e.svc.Login(e.ctx, "locky", pw, "", "")
		wantKind(t, "Login while locked again", err, errs.TooMany)
		if err := e.svc.Unlock(e.ctx, e.root, u.ID); err != nil {
			t.Fatalf("Unlock: %v", err)
		}
		e.login(t, "locky")

		e.wantAudit(t, u.ID, "staff.login.failed", "staff.user.locked", "staff.login.refused", "staff.user.unlock", "staff.login")
		e.verifyAudit(t)
	})
}

func TestTOTP(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		admin := e.user(t, "padmin", "150000", "", authz.Grant{Role: authz.PlatformAdmin, Region: "150000"})

		// First sign-in: a platform admin must enrol before anything else.
		res := e.login(t, "padmin")
		if !res.NeedTOTP || !res.NeedEnroll {
			t.Fatalf("Login(platform admin) = NeedTOTP %v, NeedEnroll %v; want both", res.NeedTOTP, res.NeedEnroll)
		}
		se, u := e.session(t, res.Token)
		if se.MFAOK {
			t.Fatal("session before enrolment has MFAOK, want false")
		}
		secret, uri, err := e.svc.BeginEnrollment(e.ctx, u)
		if err != nil {
			t.Fatalf("BeginEnrollment: %v", err)
		}
		if secret == "" || !strings.HasPrefix(uri, "otpauth://totp/") || !strings.Contains(uri, "padmin") {
			t.Fatalf("BeginEnrollment = %q, %q; want a secret and an otpauth URI", secret, uri)
		}
		if again, _, err := e.svc.BeginEnrollment(e.ctx, e.reload(t, admin.ID)); err != nil || again != secret {
			t.Errorf("BeginEnrollment again = %q, %v; want the pending secret %q", again, err, secret)
		}
		_, err = e.svc.ConfirmEnrollment(e.ctx, res.Token, wrongCode(t, secret, e.clock.Now()))
		wantKind(t, "ConfirmEnrollment(wrong code)", err, errs.Invalid)
		if se, _ := e.session(t, res.Token); se.MFAOK {
			t.Error("session has MFAOK after a wrong enrolment code")
		}
		enrolled, err := e.svc.ConfirmEnrollment(e.ctx, res.Token, code(t, secret, e.clock.Now()))
		if err != nil {
			t.Fatalf("ConfirmEnrollment: %v", err)
		}
		if se, u := e.session(t, enrolled); !se.MFAOK || !u.TOTPEnabled {
			t.Errorf("after enrolment MFAOK = %v, TOTPEnabled = %v; want both", se.MFAOK, u.TOTPEnabled)
		}
		_, _, err = e.svc.Authenticate(e.ctx, res.Token)
		wantKind(t, "Authenticate(token from before enrolment)", err, errs.Unauthenticated)
		_, _, err = e.svc.BeginEnrollment(e.ctx, e.reload(t, admin.ID))
		wantKind(t, "BeginEnrollment when enabled", err, errs.Conflict)

		// Later sign-ins need a code; each code works once.
		e.clock.Advance(2 * time.Minute)
		first := e.login(t, "padmin")
		if !first.NeedTOTP || first.NeedEnroll {
			t.Fatalf("Login after enrolment = NeedTOTP %v, NeedEnroll %v; want true, false", first.NeedTOTP, first.NeedEnroll)
		}
		if se, _ := e.session(t, first.Token); se.MFAOK {
			t.Fatal("session before the second factor has MFAOK")
		}
		c := code(t, secret, e.clock.Now())
		full, err := e.svc.VerifySecondFactor(e.ctx, first.Token, c)
		if err != nil {
			t.Fatalf("VerifySecondFactor: %v", err)
		}
		if se, _ := e.session(t, full); !se.MFAOK {
			t.Error("session after the second factor lacks MFAOK")
		}
		_, _, err = e.svc.Authenticate(e.ctx, first.Token)
		wantKind(t, "Authenticate(half-signed-in token after the second factor)", err, errs.Unauthenticated)
		second := e.login(t, "padmin")
		_, err = e.svc.VerifySecondFactor(e.ctx, second.Token, c)
		wantKind(t, "VerifySecondFactor(replayed code)", err, errs.Invalid)
		if se, _ := e.session(t, second.Token); se.MFAOK {
			t.Error("a replayed code completed the sign-in")
		}

		// Wrong codes count towards the lockout; the replay was the first.
		if got := e.reload(t, admin.ID).FailedLogins; got != 1 {
			t.Errorf("FailedLogins after the replay = %d, want 1", got)
		}
		for i := 2; i <= 4; i++ {
			_, err := e.svc.VerifySecondFactor(e.ctx, second.Token, wrongCode(t, secret, e.clock.Now()))
			wantKind(t, fmt.Sprintf("VerifySecondFactor(wrong code #%d)", i), err, errs.Invalid)
		}
		_, err = e.svc.VerifySecondFactor(e.ctx, second.Token, wrongCode(t, secret, e.clock.Now()))
		wantKind(t, "VerifySecondFactor(wrong code #5)", err, errs.TooMany)
		if !strings.Contains(msgOf(err), "锁定") {
			t.Errorf("lockout Msg = %q, want it to mention 锁定", msgOf(err))
		}
		_, _, err = e.svc.Authenticate(e.ctx, second.Token)
		wantKind(t, "Authenticate(session that hit the lockout)", err, errs.Unauthenticated)
		_, err = e.svc.Login(e.ctx, "padmin", pw, "", "")
		wantKind(t, "Login after TOTP lockout", err, errs.TooMany)

		e.wantAudit(t, admin.ID, "staff.login.password_ok", "staff.totp.enable", "staff.login", "staff.login.failed", "staff.user.locked")
		e.verifyAudit(t)
	})
}

func TestDisableTOTP(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		clerk := e.user(t, "clerk", "150100", "", authz.Grant{Role: authz.WindowClerk, Region: "150100"})
		res := e.login(t, "clerk")
		if res.NeedTOTP {
			t.Fatal("Login(regular user without TOTP) needs TOTP")
		}
		_, u := e.session(t, res.Token)
		secret, _, err := e.svc.BeginEnrollment(e.ctx, u)
		if err != nil {
			t.Fatalf("BeginEnrollment: %v", err)
		}
		if _, err := e.svc.ConfirmEnrollment(e.ctx, res.Token, code(t, secret, e.clock.Now())); err != nil {
			t.Fatalf("ConfirmEnrollment: %v", err)
		}
		e.clock.Advance(2 * time.Minute)
		if res := e.login(t, "clerk"); !res.NeedTOTP || res.NeedEnroll {
			t.Errorf("Login with TOTP on = NeedTOTP %v, NeedEnroll %v; want true, false", res.NeedTOTP, res.NeedEnroll)
		}

		err = e.svc.DisableTOTP(e.ctx, e.reload(t, clerk.ID), "Wrong-Horse-9")
		wantKind(t, "DisableTOTP(wrong password)", err, errs.Invalid)
		if !e.reload(t, clerk.ID).TOTPEnabled {
			t.Fatal("a wrong password turned TOTP off")
		}
		if err := e.svc.DisableTOTP(e.ctx, e.reload(t, clerk.ID), pw); err != nil {
			t.Fatalf("DisableTOTP: %v", err)
		}
		if got := e.reload(t, clerk.ID); got.TOTPEnabled || got.TOTPSecret != "" {
			t.Errorf("after DisableTOTP TOTPEnabled = %v, secret %q; want off and empty", got.TOTPEnabled, got.TOTPSecret)
		}
		if res := e.login(t, "clerk"); res.NeedTOTP {
			t.Error("Login after DisableTOTP still needs TOTP")
		}
		e.wantAudit(t, clerk.ID, "staff.totp.enable", "staff.totp.disable")

		admin := e.user(t, "padmin", "150000", "", authz.Grant{Role: authz.PlatformAdmin, Region: "150000"})
		err = e.svc.DisableTOTP(e.ctx, admin, pw)
		wantKind(t, "DisableTOTP(platform admin)", err, errs.Forbidden)
		e.verifyAudit(t)
	})
}

func TestSessions(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		t.Run("idle timeout", func(t *testing.T) {
			e.user(t, "idle", "150100", "")
			tok := e.login(t, "idle").Token
			for range 3 { // activity keeps the session alive past one TTL
				e.clock.Advance(29 * time.Minute)
				e.session(t, tok)
			}
			e.clock.Advance(31 * time.Minute)
			_, _, err := e.svc.Authenticate(e.ctx, tok)
			wantKind(t, "Authenticate after 31 idle minutes", err, errs.Unauthenticated)
		})
		t.Run("maximum age", func(t *testing.T) {
			e.user(t, "busy", "150100", "")
			start := e.clock.Now()
			tok := e.login(t, "busy").Token
			for e.clock.Now().Sub(start) < 12*time.Hour-25*time.Minute {
				e.clock.Advance(25 * time.Minute)
				e.session(t, tok)
			}
			e.clock.Set(start.Add(12 * time.Hour))
			_, _, err := e.svc.Authenticate(e.ctx, tok)
			wantKind(t, "Authenticate of an active session after 12 hours", err, errs.Unauthenticated)
		})
		t.Run("logout", func(t *testing.T) {
			u := e.user(t, "leaver", "150100", "")
			tok := e.login(t, "leaver").Token
			if err := e.svc.Logout(e.ctx, tok); err != nil {
				t.Fatalf("Logout: %v", err)
			}
			_, _, err := e.svc.Authenticate(e.ctx, tok)
			wantKind(t, "Authenticate after Logout", err, errs.Unauthenticated)
			if err := e.svc.Logout(e.ctx, tok); err != nil {
				t.Errorf("Logout of an ended session = %v, want nil", err)
			}
			e.wantAudit(t, u.ID, "staff.logout")
		})
		t.Run("list and revoke", func(t *testing.T) {
			u := e.user(t, "multi", "150100", "")
			e.user(t, "other", "150100", "")
			older := e.login(t, "multi").Token
			e.clock.Advance(time.Minute)
			newer := e.login(t, "multi").Token
			otherTok := e.login(t, "other").Token
			seOld, _ := e.session(t, older)
			seNew, _ := e.session(t, newer)
			seOther, other := e.session(t, otherTok)
			list, err := e.svc.Sessions(e.ctx, u.ID)
			if err != nil {
				t.Fatalf("Sessions: %v", err)
			}
			var ids []string
			for _, se := range list {
				ids = append(ids, se.ID)
			}
			if diff := cmp.Diff([]string{seNew.ID, seOld.ID}, ids); diff != "" {
				t.Errorf("Sessions mismatch (-want +got):\n%s", diff)
			}
			err = e.svc.RevokeSession(e.ctx, e.reload(t, u.ID), seOther.ID)
			wantKind(t, "RevokeSession(another user's session)", err, errs.NotFound)
			e.session(t, otherTok)
			if err := e.svc.RevokeSession(e.ctx, e.reload(t, u.ID), seOld.ID); err != nil {
				t.Fatalf("RevokeSession: %v", err)
			}
			_, _, err = e.svc.Authenticate(e.ctx, older)
			wantKind(t, "Authenticate(revoked)", err, errs.Unauthenticated)
			e.session(t, newer)
			e.wantAudit(t, u.ID, "staff.session.revoke")
			if got := e.actions(t, other.ID); slices.Contains(got, "staff.session.revoke") {
				t.Errorf("audit of %s = %v, want no revocation", other.ID, got)
			}
		})
		t.Run("purge", func(t *testing.T) {
			e.user(t, "stale", "150100", "")
			e.login(t, "stale")
			e.clock.Advance(31 * time.Minute)
			n, err := e.svc.PurgeSessions(e.ctx)
			if err != nil || n < 1 {
				t.Errorf("PurgeSessions = %d, %v; want at least the idle session", n, err)
			}
		})
		e.verifyAudit(t)
	})
}

func TestChangePassword(t *testing.T) {
	const next = "Battery-Staple-7"
	forEngines(t, func(t *testing.T, e *env) {
		u := e.user(t, "changer", "150100", "")
		keep := e.login(t, "changer").Token
		others := []string{e.login(t, "changer").Token, e.login(t, "changer").Token}
		se, cur := e.session(t, keep)

		tests := []struct {
			name, current, next string
		}{
			{"wrong current", "Wrong-Horse-9", next},
			{"weak new", pw, "password"},
			{"too short", pw, "Ab1-"},
			{"same as current", pw, pw},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				err := e.svc.ChangePassword(e.ctx, cur, se.ID, tc.current, tc.next)
				wantKind(t, "ChangePassword", err, errs.Invalid)
			})
		}
		for _, tok := range others {
			e.session(t, tok) // failures end nothing
		}
		if err := e.svc.ChangePassword(e.ctx, cur, se.ID, pw, next); err != nil {
			t.Fatalf("ChangePassword: %v", err)
		}
		e.session(t, keep)
		for i, tok := range others {
			_, _, err := e.svc.Authenticate(e.ctx, tok)
			wantKind(t, fmt.Sprintf("Authenticate(other session %d)", i), err, errs.Unauthenticated)
		}
		_, err := e.svc.Login(e.ctx, "changer", pw, "", "")
		wantKind(t, "Login(old password)", err, errs.Unauthenticated)
		if _, err := e.svc.Login(e.ctx, "changer", next, "", ""); err != nil {
			t.Errorf("Login(new password): %v", err)
		}
		e.wantAudit(t, u.ID, "staff.password.change")
		e.verifyAudit(t)
	})
}

func TestResetPassword(t *testing.T) {
	const next = "Battery-Staple-7"
	forEngines(t, func(t *testing.T, e *env) {
		u := e.user(t, "forgetful", "150100", "")
		toks := []string{e.login(t, "forgetful").Token, e.login(t, "forgetful").Token}
		err := e.svc.ResetPassword(e.ctx, e.root, u.ID, "weak")
		wantKind(t, "ResetPassword(weak)", err, errs.Invalid)
		e.session(t, toks[0])
		if err := e.svc.ResetPassword(e.ctx, e.root, u.ID, next); err != nil {
			t.Fatalf("ResetPassword: %v", err)
		}
		for i, tok := range toks {
			_, _, err := e.svc.Authenticate(e.ctx, tok)
			wantKind(t, fmt.Sprintf("Authenticate(session %d after reset)", i), err, errs.Unauthenticated)
		}
		if _, err := e.svc.Login(e.ctx, "forgetful", next, "", ""); err != nil {
			t.Errorf("Login(reset password): %v", err)
		}
		e.wantAudit(t, u.ID, "staff.password.reset")
		e.verifyAudit(t)
	})
}

// TestWrongCurrentPasswordCountsTowardsLockout: a stolen session cannot be
// used to guess the account's password through the change-password form.
func TestWrongCurrentPasswordCountsTowardsLockout(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		u := e.user(t, "guessed", "150100", "", authz.Grant{Role: authz.WindowClerk, Region: "150100"})
		res, err := e.svc.Login(e.ctx, "guessed", pw, "10.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		se, _, err := e.svc.Authenticate(e.ctx, res.Token)
		if err != nil {
			t.Fatal(err)
		}
		var last error
		for range 5 {
			last = e.svc.ChangePassword(e.ctx, u, se.ID, "Wrong-Guess-1", "New-Password-99")
		}
		if errs.KindOf(last) != errs.TooMany {
			t.Fatalf("5th wrong current password: %v, want the account locked", last)
		}
		if _, _, err := e.svc.Authenticate(e.ctx, res.Token); errs.KindOf(err) != errs.Unauthenticated {
			t.Fatalf("session after lockout: %v, want ended", err)
		}
	})
}

// TestUnknownUsernamesLockLikeRealOnes: after the threshold an unknown
// username gets the same lockout answer as a real account, so the answers
// do not tell which accounts exist.
func TestUnknownUsernamesLockLikeRealOnes(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		e.user(t, "real", "150100", "", authz.Grant{Role: authz.WindowClerk, Region: "150100"})
		for _, name := range []string{"real", "nosuchuser"} {
			var last error
			for i := 1; i <= 5; i++ {
				_, last = e.svc.Login(e.ctx, name, "Wrong-Horse-1", "", "")
				if i < 5 {
					wantKind(t, fmt.Sprintf("Login(%s) #%d", name, i), last, errs.Unauthenticated)
				}
			}
			wantKind(t, "Login("+name+") #5", last, errs.TooMany)
			if !strings.Contains(msgOf(last), "锁定") {
				t.Errorf("Login(%s) #5 message %q lacks 锁定", name, msgOf(last))
			}
			_, again := e.svc.Login(e.ctx, name, pw, "", "")
			wantKind(t, "Login("+name+") while locked", again, errs.TooMany)
		}
	})
}

// TestSecondFactorGuessesSurviveNewPasswordSignIns: a correct password does
// not forgive wrong TOTP codes; only a completed sign-in does.
func TestSecondFactorGuessesSurviveNewPasswordSignIns(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		u := e.user(t, "twofa", "150100", "", authz.Grant{Role: authz.WindowClerk, Region: "150100"})
		res := e.login(t, "twofa")
		secret, _, err := e.svc.BeginEnrollment(e.ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ConfirmEnrollment(e.ctx, res.Token, code(t, secret, e.clock.Now())); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(2 * time.Minute)
		var last error
		for round := range 2 {
			half := e.login(t, "twofa")
			for range 3 {
				_, last = e.svc.VerifySecondFactor(e.ctx, half.Token, wrongCode(t, secret, e.clock.Now()))
				if errs.KindOf(last) == errs.TooMany {
					break
				}
			}
			if round == 0 {
				wantKind(t, "3 wrong codes", last, errs.Invalid)
			}
		}
		wantKind(t, "6th wrong code over two sign-ins", last, errs.TooMany)
	})
}

// TestCannotPlaceStaffInUnreachableDepartments: a city admin cannot put
// accounts or grants into a province department they cannot see.
func TestCannotPlaceStaffInUnreachableDepartments(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		provDept, err := e.orgs.CreateDepartment(e.ctx, e.root, org.DeptInput{Name: "自治区公安厅", Region: "150000"})
		if err != nil {
			t.Fatal(err)
		}
		hohhot := e.user(t, "hohhot", "150100", "", authz.Grant{Role: authz.RegionAdmin, Region: "150100"}).Principal()
		_, err = e.svc.CreateUser(e.ctx, hohhot, staff.UserInput{Username: "planted", DisplayName: "植入", Region: "150100", DeptID: provDept.ID, Password: pw})
		wantKind(t, "CreateUser into a province department", err, errs.Invalid)
		clerk := e.user(t, "clerk2", "150100", "", authz.Grant{Role: authz.WindowClerk, Region: "150100"})
		err = e.svc.AddGrant(e.ctx, hohhot, clerk.ID, authz.Reviewer, "150100", provDept.ID)
		wantKind(t, "AddGrant limited to a province department", err, errs.Invalid)
		if err := e.svc.AddGrant(e.ctx, hohhot, clerk.ID, authz.Reviewer, "150100000000", e.deptA.ID); err == nil {
			t.Error("AddGrant with a 12-digit non-township code succeeded")
		}
		if err := e.svc.AddGrant(e.ctx, hohhot, clerk.ID, authz.Reviewer, "150100", e.deptA.ID); err != nil {
			t.Fatal(err)
		}
		err = e.svc.AddGrant(e.ctx, hohhot, clerk.ID, authz.Reviewer, "150100", e.deptA.ID)
		wantKind(t, "duplicate grant", err, errs.Conflict)
	})
}
