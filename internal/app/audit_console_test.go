package app_test

import (
	"net/url"
	"testing"

	"yiwang/internal/app/apptest"
)

// TestAuditVerifyConsole: the platform admin's check of the audit log
// names how many chains and entries it verified, and the chain and entry
// where an edited record breaks it.
func TestAuditVerifyConsole(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			admin := adminClient(t, e)
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
