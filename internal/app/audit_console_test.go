package app_test

import (
	"net/url"
	"regexp"
	"testing"
	"time"

	"yiwang/internal/app/apptest"
	"yiwang/internal/platform/totp"
)

// enrolledAdmin signs the demo's platform admin in, enrolling the second
// factor on the way.
func enrolledAdmin(t *testing.T, e *apptest.Env) *apptest.Client {
	t.Helper()
	c := e.Client()
	c.Post(t, "/console/login", url.Values{"username": {"admin"}, "password": {e.Logins["admin"]}})
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(c.Get(t, "/console/login/enroll").Body)
	if m == nil {
		t.Fatal("no enrolment secret")
	}
	code, err := totp.Code(m[1], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res := c.Post(t, "/console/login/enroll", url.Values{"code": {code}}); res.Status != 303 {
		t.Fatalf("enrolment: %d", res.Status)
	}
	return c
}

// TestAuditVerifyConsole: the platform admin's check of the audit log
// names how many chains and entries it verified, and the chain and entry
// where an edited record breaks it.
func TestAuditVerifyConsole(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			admin := enrolledAdmin(t, e)
			if res := admin.Post(t, "/console/audit/verify", url.Values{}); res.Status != 303 {
				t.Fatalf("verify: %d", res.Status)
			}
			want(t, "intact", admin.Get(t, "/console/audit"), 200, []string{"审计链完整：已校验", "条审计链共"})
			want(t, "a regional admin may not verify", e.LoginDemo(t, "region").Post(t, "/console/audit/verify", url.Values{}), 403, nil)

			var chain string
			var seq int64
			if err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT chain, seq FROM audit_log ORDER BY at DESC, id DESC LIMIT 1`).Scan(&chain, &seq); err != nil {
				t.Fatal(err)
			}
			if _, err := e.App.DB.W.ExecContext(t.Context(), `UPDATE audit_log SET action = 'forged' WHERE chain = $1 AND seq = $2`, chain, seq); err != nil {
				t.Fatal(err)
			}
			admin.Post(t, "/console/audit/verify", url.Values{})
			want(t, "broken", admin.Get(t, "/console/audit"), 200, []string{"审计链 " + chain + " 在第", "被破坏"})
		})
	}
}
