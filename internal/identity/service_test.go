package identity_test

import (
	"context"
	"database/sql"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"yiwang/internal/identity"
	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/idcode"
	"yiwang/internal/platform/password"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

const pw = "Grass-Land-2026"

// inbox is a Sender that keeps what was sent, per phone.
type inbox struct {
	mu   sync.Mutex
	sent map[string][]string
}

func (b *inbox) Send(_ context.Context, _ *sql.Tx, phone, text string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sent == nil {
		b.sent = map[string][]string{}
	}
	b.sent[phone] = append(b.sent[phone], text)
	return nil
}

var codeRE = regexp.MustCompile(`验证码是(\d{6})`)

// code returns the last code sent to phone.
func (b *inbox) code(t *testing.T, phone string) string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	msgs := b.sent[phone]
	if len(msgs) == 0 {
		t.Fatalf("no message to %s", phone)
	}
	m := codeRE.FindStringSubmatch(msgs[len(msgs)-1])
	if m == nil {
		t.Fatalf("no code in %q", msgs[len(msgs)-1])
	}
	return m[1]
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	ctx   context.Context
	eng   sqldbtest.Engine
	svc   *identity.Service
	inbox *inbox
	clock *clock
}

func newEnv(t *testing.T, eng sqldbtest.Engine) *env {
	e := &env{ctx: t.Context(), eng: eng, inbox: &inbox{}, clock: &clock{t: time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)}}
	e.svc = identity.NewService(eng.DB, password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2), e.inbox, identity.Settings{})
	e.svc.SetClock(e.clock.Now)
	return e
}

// idNo completes a 17-digit body with its check character.
func idNo(t *testing.T, body string) string {
	c, err := idcode.IDCheckChar(body)
	if err != nil {
		t.Fatal(err)
	}
	return body + string(c)
}

func uscc(t *testing.T, body string) string {
	c, err := idcode.USCCCheckChar(body)
	if err != nil {
		t.Fatal(err)
	}
	return body + string(c)
}

// register signs up a person through a code sent to phone.
func (e *env) register(t *testing.T, name, id, phone string) (identity.Account, string) {
	t.Helper()
	if err := e.svc.SendCode(e.ctx, identity.PurposeRegister, phone); err != nil {
		t.Fatal(err)
	}
	a, token, err := e.svc.Register(e.ctx, identity.NewAccount{Kind: identity.Person, Name: name, IDNumber: id, Phone: phone, Password: pw},
		e.inbox.code(t, phone), "10.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Minute) // past the resend interval
	return a, token
}

func fields(err error) map[string]string {
	if e, ok := err.(*errs.Error); ok {
		return e.Fields
	}
	return nil
}

func TestRegisterAndSignIn(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := newEnv(t, eng)
			id := idNo(t, "15010219900307123")
			a, token, err := e.registerErr(t, "王小明", id, "13800471234")
			if err != nil {
				t.Fatal(err)
			}
			if a.Kind != identity.Person || a.Assurance != identity.LevelPhone || a.AssuranceMethod != identity.MethodPhone || token == "" {
				t.Fatalf("account %+v token %q", a, token)
			}
			if _, got, err := e.svc.Authenticate(e.ctx, token); err != nil || got.ID != a.ID {
				t.Fatalf("registration session: %v", err)
			}
			// Sign in by ID number (lower-case x too), by phone; not by name.
			for _, name := range []string{id, strings.ToLower(id), "13800471234"} {
				if got, _, err := e.svc.Login(e.ctx, name, pw, "10.0.0.2", "ua"); err != nil || got.ID != a.ID {
					t.Errorf("login as %q: %v", name, err)
				}
			}
			if _, _, err := e.svc.Login(e.ctx, "王小明", pw, "", ""); errs.KindOf(err) != errs.Unauthenticated {
				t.Errorf("login by name: %v", err)
			}
			// Without proof of a phone, nothing tells whether an ID number is registered.
			_, _, err = e.svc.Register(e.ctx, identity.NewAccount{Kind: identity.Person, Name: "王小明", IDNumber: id, Phone: "13700001234", Password: pw}, "123456", "", "")
			if f := fields(err); f["id_number"] != "" || f["code"] == "" {
				t.Errorf("registration with a taken ID number and no code: %v %v", err, f)
			}
			// The same ID number or phone cannot register twice.
			e.clock.Advance(2 * time.Minute)
			e.svc.SendCode(e.ctx, identity.PurposeRegister, "13800471234")
			_, _, err = e.svc.Register(e.ctx, identity.NewAccount{Kind: identity.Person, Name: "王小明", IDNumber: id, Phone: "13800471234", Password: pw},
				e.inbox.code(t, "13800471234"), "", "")
			if f := fields(err); f["id_number"] == "" || f["phone"] == "" {
				t.Errorf("duplicate registration: %v %v", err, f)
			}
			hist, err := e.svc.Logins(e.ctx, a.ID, 10)
			if err != nil || len(hist) != 4 || hist[0].Outcome != "ok" {
				t.Errorf("history %+v %v", hist, err)
			}
		})
	}
}

func (e *env) registerErr(t *testing.T, name, id, phone string) (identity.Account, string, error) {
	if err := e.svc.SendCode(e.ctx, identity.PurposeRegister, phone); err != nil {
		return identity.Account{}, "", err
	}
	return e.svc.Register(e.ctx, identity.NewAccount{Kind: identity.Person, Name: name, IDNumber: id, Phone: phone, Password: pw},
		e.inbox.code(t, phone), "10.0.0.1", "test")
}

func TestRegistrationRefusals(t *testing.T) {
	e := newEnv(t, sqldbtest.SQLite(t))
	good := identity.NewAccount{Kind: identity.Person, Name: "李华", IDNumber: idNo(t, "15010219851111002"), Phone: "13900000001", Password: pw}
	for _, tc := range []struct {
		name  string
		edit  func(*identity.NewAccount)
		field string
	}{
		{"bad check digit", func(a *identity.NewAccount) { a.IDNumber = a.IDNumber[:17] + "0" }, "id_number"},
		{"impossible birth date", func(a *identity.NewAccount) { a.IDNumber = idNo(t, "15010219850230002") }, "id_number"},
		{"bad phone", func(a *identity.NewAccount) { a.Phone = "1234" }, "phone"},
		{"short name", func(a *identity.NewAccount) { a.Name = "李" }, "name"},
		{"weak password", func(a *identity.NewAccount) { a.Password = "12345678" }, "password"},
		{"password with the ID number", func(a *identity.NewAccount) { a.Password = "Aa!" + a.IDNumber }, "password"},
		{"no kind", func(a *identity.NewAccount) { a.Kind = "" }, "kind"},
		{"enterprise without credit code", func(a *identity.NewAccount) { a.Kind = identity.Legal; a.LegalRep = "李华" }, "uscc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := good
			tc.edit(&in)
			_, _, err := e.svc.Register(e.ctx, in, "000000", "", "")
			if f := fields(err); f[tc.field] == "" {
				t.Errorf("error %v fields %v, want one on %s", err, f, tc.field)
			}
		})
	}
	// Codes: none sent, wrong, expired, too many tries; nothing is created.
	if _, _, err := e.svc.Register(e.ctx, good, "123456", "", ""); fields(err)["code"] != "请先获取验证码" {
		t.Errorf("no code: %v", err)
	}
	if err := e.svc.SendCode(e.ctx, identity.PurposeRegister, good.Phone); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SendCode(e.ctx, identity.PurposeRegister, good.Phone); errs.KindOf(err) != errs.TooMany {
		t.Errorf("second code within a minute: %v", err)
	}
	code := e.inbox.code(t, good.Phone)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := range 5 {
		if _, _, err := e.svc.Register(e.ctx, good, wrong, "", ""); fields(err)["code"] != "验证码错误" {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	if _, _, err := e.svc.Register(e.ctx, good, code, "", ""); fields(err)["code"] != "验证码已失效，请重新获取" {
		t.Errorf("right code after 5 wrong ones: %v", err)
	}
	e.clock.Advance(2 * time.Minute)
	e.svc.SendCode(e.ctx, identity.PurposeRegister, good.Phone)
	code = e.inbox.code(t, good.Phone)
	e.clock.Advance(6 * time.Minute)
	if _, _, err := e.svc.Register(e.ctx, good, code, "", ""); fields(err)["code"] != "验证码已失效，请重新获取" {
		t.Errorf("expired code: %v", err)
	}
	var n int
	e.eng.DB.R.QueryRow(`SELECT COUNT(*) FROM identity_accounts`).Scan(&n)
	if n != 0 {
		t.Errorf("%d accounts created by refused registrations", n)
	}
}

func TestLockoutLooksTheSameForUnknownNames(t *testing.T) {
	e := newEnv(t, sqldbtest.SQLite(t))
	id := idNo(t, "15010219900307123")
	a, _ := e.register(t, "王小明", id, "13800471234")
	ghost := idNo(t, "15010219900307999")
	for i := 1; i <= 5; i++ {
		_, _, real := e.svc.Login(e.ctx, id, "Wrong-Pass-1", "1.1.1.1", "ua")
		_, _, fake := e.svc.Login(e.ctx, ghost, "Wrong-Pass-1", "1.1.1.1", "ua")
		if errs.Message(real) != errs.Message(fake) || errs.KindOf(real) != errs.KindOf(fake) {
			t.Fatalf("attempt %d: known %v, unknown %v", i, real, fake)
		}
		if i == 5 && errs.KindOf(real) != errs.TooMany {
			t.Fatalf("fifth failure: %v, want locked", real)
		}
	}
	if _, _, err := e.svc.Login(e.ctx, id, pw, "", ""); errs.KindOf(err) != errs.TooMany {
		t.Fatalf("right password while locked: %v", err)
	}
	hist, _ := e.svc.Logins(e.ctx, a.ID, 50)
	if len(hist) != 1+5+1 || hist[0].Outcome != "locked" || hist[1].Outcome != "bad_password" {
		t.Errorf("history: %+v", hist)
	}
	// A reset through the phone lifts the lock and ends every session.
	if err := e.svc.SendCode(e.ctx, identity.PurposeReset, "13800471234"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ResetPassword(e.ctx, "13800471234", e.inbox.code(t, "13800471234"), "New-Grass-2027"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Login(e.ctx, id, "New-Grass-2027", "", ""); err != nil {
		t.Fatalf("after reset: %v", err)
	}
	if ss, _ := e.svc.Sessions(e.ctx, a.ID); len(ss) != 1 {
		t.Errorf("sessions after reset and a new sign-in: %d", len(ss))
	}
	// A reset for an unknown phone answers alike and sends nothing.
	if err := e.svc.SendCode(e.ctx, identity.PurposeReset, "13700000000"); err != nil {
		t.Errorf("reset for an unknown phone: %v", err)
	}
	if len(e.inbox.sent["13700000000"]) != 0 {
		t.Error("a code was sent to an unregistered phone")
	}
}

func TestSessionsAndPasswordChange(t *testing.T) {
	e := newEnv(t, sqldbtest.SQLite(t))
	a, t1 := e.register(t, "王小明", idNo(t, "15010219900307123"), "13800471234")
	_, t2, _ := e.svc.Login(e.ctx, "13800471234", pw, "10.0.0.9", "phone")
	ss, _ := e.svc.Sessions(e.ctx, a.ID)
	if len(ss) != 2 {
		t.Fatalf("%d sessions", len(ss))
	}
	// Revoking another account's session is not possible.
	other, _ := e.register(t, "张三", idNo(t, "15010219920101456"), "13800479999")
	if err := e.svc.RevokeSession(e.ctx, other, ss[0].ID); errs.KindOf(err) != errs.NotFound {
		t.Errorf("revoke a stranger's session: %v", err)
	}
	se1, _, _ := e.svc.Authenticate(e.ctx, t1)
	if err := e.svc.ChangePassword(e.ctx, a, se1.ID, "wrong", "New-Grass-2027"); fields(err)["current"] == "" {
		t.Errorf("wrong current password: %v", err)
	}
	if err := e.svc.ChangePassword(e.ctx, a, se1.ID, pw, "New-Grass-2027"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Authenticate(e.ctx, t1); err != nil {
		t.Errorf("the changing session ended: %v", err)
	}
	if _, _, err := e.svc.Authenticate(e.ctx, t2); errs.KindOf(err) != errs.Unauthenticated {
		t.Errorf("other session survived a password change: %v", err)
	}
	// Idle sessions end.
	e.clock.Advance(31 * time.Minute)
	if _, _, err := e.svc.Authenticate(e.ctx, t1); errs.KindOf(err) != errs.Unauthenticated {
		t.Errorf("idle session: %v", err)
	}
	e.clock.Advance(25 * time.Hour)
	if n, err := e.svc.PurgeSessions(e.ctx); err != nil || n == 0 {
		t.Errorf("purge: %d %v", n, err)
	}
	if ss, _ := e.svc.Sessions(e.ctx, other.ID); len(ss) != 0 {
		t.Errorf("%d sessions left after the purge", len(ss))
	}
}

func TestAgentsAndAssurance(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := newEnv(t, eng)
			person, token := e.register(t, "王小明", idNo(t, "15010219900307123"), "13800471234")
			code := uscc(t, "91150100MA0N00001")
			e.svc.SendCode(e.ctx, identity.PurposeRegister, "13800470000")
			ent, _, err := e.svc.Register(e.ctx, identity.NewAccount{Kind: identity.Legal, Name: "呼和浩特青城乳业有限公司", USCC: code, LegalRep: "赵大",
				Phone: "13800470000", Password: pw}, e.inbox.code(t, "13800470000"), "", "")
			if err != nil {
				t.Fatal(err)
			}
			if got, _, err := e.svc.Login(e.ctx, strings.ToLower(code), pw, "", ""); err != nil || got.ID != ent.ID {
				t.Fatalf("enterprise sign-in by credit code: %v", err)
			}
			if err := e.svc.ActAs(e.ctx, token, ent.ID); errs.KindOf(err) != errs.Forbidden {
				t.Fatalf("acting without authorisation: %v", err)
			}
			if _, err := e.svc.AddAgent(e.ctx, ent, person.IDNumber, "王大明"); errs.KindOf(err) != errs.Invalid {
				t.Fatalf("agent with the wrong name: %v", err)
			}
			if _, err := e.svc.AddAgent(e.ctx, person, ent.USCC, "x"); errs.KindOf(err) != errs.Forbidden {
				t.Fatalf("a person authorising: %v", err)
			}
			g, err := e.svc.AddAgent(e.ctx, ent, person.IDNumber, "王小明")
			if err != nil {
				t.Fatal(err)
			}
			if emp, _ := e.svc.Employers(e.ctx, person.ID); len(emp) != 1 || emp[0].LegalName != ent.Name {
				t.Fatalf("employers %+v", emp)
			}
			ctx := audit.WithActor(e.ctx, audit.Actor{ID: "account:" + person.ID, Name: person.Name})
			if err := e.svc.ActAs(ctx, token, ent.ID); err != nil {
				t.Fatal(err)
			}
			se, _, _ := e.svc.Authenticate(e.ctx, token)
			if se.ActingFor != ent.ID {
				t.Fatalf("session acting for %q", se.ActingFor)
			}
			var onBehalf string
			eng.DB.R.QueryRow(`SELECT on_behalf_of FROM audit_log WHERE action = 'identity.session.act'`).Scan(&onBehalf)
			if onBehalf != ent.ID {
				t.Errorf("audit on_behalf_of %q, want the enterprise", onBehalf)
			}
			if err := e.svc.RemoveAgent(e.ctx, ent, g.ID); err != nil {
				t.Fatal(err)
			}
			if se, _, _ := e.svc.Authenticate(e.ctx, token); se.ActingFor != "" {
				t.Error("session still acts for the enterprise after the authorisation ended")
			}

			// Assurance: a clerk raises it; a reviewer may not.
			clerk := &authz.Principal{UserID: "clerk1", Name: "窗口", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150000"}}}
			reviewer := &authz.Principal{UserID: "r1", Grants: []authz.Grant{{Role: authz.Reviewer, Region: "150000", DeptID: "d"}}}
			if _, err := e.svc.RaiseAssurance(e.ctx, reviewer, person.ID, ""); errs.KindOf(err) != errs.Forbidden {
				t.Errorf("reviewer raising assurance: %v", err)
			}
			got, err := e.svc.RaiseAssurance(e.ctx, clerk, person.ID, "核验居民身份证原件")
			if err != nil || got.Assurance != identity.LevelCounter || got.AssuranceMethod != identity.MethodCounter {
				t.Fatalf("raise: %+v %v", got, err)
			}
			hist, _ := e.svc.AssuranceHistory(e.ctx, person.ID)
			if len(hist) != 2 || hist[1].StaffID != "clerk1" {
				t.Errorf("assurance history %+v", hist)
			}
		})
	}
}

// TestCodesUnderConcurrency: requests for one phone at once still get one
// code a minute (no SMS bombing past the limit by racing it).
func TestCodesUnderConcurrency(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := newEnv(t, eng)
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					e.svc.SendCode(e.ctx, identity.PurposeRegister, "13800470099")
				}()
			}
			wg.Wait()
			if n := len(e.inbox.sent["13800470099"]); n != 1 {
				t.Fatalf("%d codes sent at once, want 1", n)
			}
		})
	}
}

// TestEnterpriseResetsByCreditCodeAndPhone: an enterprise resets its
// password with its credit code and registered phone; another phone gets
// the same answer and no code.
func TestEnterpriseResetsByCreditCodeAndPhone(t *testing.T) {
	e := newEnv(t, sqldbtest.SQLite(t))
	code := uscc(t, "91150100MA0N00001")
	ent, err := e.svc.CreateAccount(e.ctx, identity.NewAccount{Kind: identity.Legal, Name: "呼和浩特青城乳业有限公司", USCC: code, LegalRep: "赵大",
		Phone: "13800470000", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SendCodeFor(e.ctx, identity.PurposeReset, code, "13800479999"); err != nil {
		t.Fatalf("reset with another phone: %v (must answer like a real one)", err)
	}
	if len(e.inbox.sent["13800479999"]) != 0 {
		t.Fatal("a code went to a phone the enterprise did not register")
	}
	if err := e.svc.SendCodeFor(e.ctx, identity.PurposeReset, strings.ToLower(code), "13800470000"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ResetPasswordOf(e.ctx, code, "13800470000", e.inbox.code(t, "13800470000"), "New-Grass-2027"); err != nil {
		t.Fatal(err)
	}
	if got, _, err := e.svc.Login(e.ctx, code, "New-Grass-2027", "", ""); err != nil || got.ID != ent.ID {
		t.Fatalf("sign-in with the new password: %v", err)
	}
}
