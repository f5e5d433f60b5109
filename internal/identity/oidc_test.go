package identity_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"yiwang/internal/identity"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/password"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

var cheap = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

var admin = &authz.Principal{UserID: "u1", Name: "管理员", Grants: []authz.Grant{{Role: authz.PlatformAdmin, Region: "150000"}}}

func TestOIDCStore(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			ids := identity.NewService(eng.DB, password.NewHasher(cheap, 2), nil, identity.Settings{})
			o, err := identity.NewOIDC(ctx, eng.DB, ids, identity.OIDCSettings{Secret: "k1"})
			if err != nil {
				t.Fatal(err)
			}
			add := func(in identity.ClientInput) identity.Client {
				t.Helper()
				c, err := o.AddClient(ctx, admin, in)
				if err != nil {
					t.Fatalf("AddClient(%s): %v", in.ID, err)
				}
				return c
			}
			secret := strings.Repeat("s", identity.MinSecretLen)
			a := add(identity.ClientInput{ID: "sys-a", Name: "系统甲", Secret: secret, RedirectURIs: "https://a.example/cb", Scopes: []string{"profile", "offline_access"}})
			b := add(identity.ClientInput{ID: "sys-b", Name: "系统乙", Secret: secret, RedirectURIs: "https://b.example/cb"})
			s1 := add(identity.ClientInput{ID: "sys-c", Name: "系统丙", Secret: secret, RedirectURIs: "https://c.example/cb", SectorID: "sector-x"})
			s2 := add(identity.ClientInput{ID: "sys-d", Name: "系统丁", Secret: secret, RedirectURIs: "https://d.example/cb", SectorID: "sector-x"})
			pub := add(identity.ClientInput{ID: "sys-p", Name: "系统戊", Secret: secret, RedirectURIs: "https://p.example/cb", SubjectType: identity.SubjectPublic})
			if !a.Refresh || !slices.Equal(a.Scopes, []string{"openid", "profile"}) || a.SubjectType != identity.SubjectPairwise || a.SecretHash == secret {
				t.Errorf("client a = %+v", a)
			}

			// Subjects: per client by default, shared within a sector, the
			// account id for public clients, stable across restarts.
			const acc = "0198-account"
			if o.Subject(a, acc) == o.Subject(b, acc) || o.Subject(s1, acc) != o.Subject(s2, acc) || o.Subject(pub, acc) != acc {
				t.Errorf("subjects: a %s b %s c %s d %s p %s", o.Subject(a, acc), o.Subject(b, acc), o.Subject(s1, acc), o.Subject(s2, acc), o.Subject(pub, acc))
			}
			o2, err := identity.NewOIDC(ctx, eng.DB, ids, identity.OIDCSettings{Secret: "k1"})
			if err != nil {
				t.Fatal(err)
			}
			if o2.Subject(a, acc) != o.Subject(a, acc) {
				t.Error("pairwise subject changed across restarts")
			}

			// Keys are sealed under the secret: a node with another secret
			// cannot use them and makes its own, publishing both.
			var enc, priv string
			if err := eng.DB.R.QueryRowContext(ctx, `SELECT enc, private_key FROM oidc_keys ORDER BY created_at LIMIT 1`).Scan(&enc, &priv); err != nil {
				t.Fatal(err)
			}
			if enc != "aes-gcm" || strings.Contains(priv, "MII") {
				t.Errorf("stored key: enc %q, %.20s…", enc, priv)
			}
			if _, err := identity.NewOIDC(ctx, eng.DB, ids, identity.OIDCSettings{Secret: "other"}); err != nil {
				t.Fatal(err)
			}
			var n int
			eng.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM oidc_keys`).Scan(&n)
			if n != 2 {
				t.Errorf("%d keys, want 2", n)
			}

			// Registration is checked.
			for _, tc := range []struct {
				name  string
				in    identity.ClientInput
				field string
			}{
				{"duplicate id", identity.ClientInput{ID: "sys-a", Name: "重复", Secret: secret, RedirectURIs: "https://a.example/cb"}, "id"},
				{"bad id", identity.ClientInput{ID: "A!", Name: "坏标识", Secret: secret, RedirectURIs: "https://a.example/cb"}, "id"},
				{"short secret", identity.ClientInput{ID: "sys-z", Name: "短密钥", Secret: "x", RedirectURIs: "https://a.example/cb"}, "secret"},
				{"no redirect", identity.ClientInput{ID: "sys-z", Name: "无回调", Secret: secret}, "redirect_uris"},
				{"public over http", identity.ClientInput{ID: "sys-z", Name: "公开", AuthMethod: identity.AuthNone, RedirectURIs: "http://a.example/cb"}, "redirect_uris"},
				{"unknown scope", identity.ClientInput{ID: "sys-z", Name: "范围", Secret: secret, RedirectURIs: "https://a.example/cb", Scopes: []string{"email"}}, "scopes"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := o.AddClient(ctx, admin, tc.in)
					e, ok := errors.AsType[*errs.Error](err)
					if errs.KindOf(err) != errs.Invalid || !ok || e.Fields[tc.field] == "" {
						t.Errorf("AddClient = %v, want Invalid on %s", err, tc.field)
					}
				})
			}
			if _, err := o.AddClient(ctx, &authz.Principal{UserID: "u2", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150000"}}},
				identity.ClientInput{ID: "sys-y", Name: "越权", Secret: secret, RedirectURIs: "https://y.example/cb"}); errs.KindOf(err) != errs.Forbidden {
				t.Errorf("region admin AddClient = %v, want Forbidden", err)
			}
			// Stale edits are refused.
			in := identity.ClientInput{Name: "系统甲二", RedirectURIs: "https://a.example/cb", Version: a.Version}
			if _, err := o.UpdateClient(ctx, admin, "sys-a", in); err != nil {
				t.Fatal(err)
			}
			if _, err := o.UpdateClient(ctx, admin, "sys-a", in); errs.KindOf(err) != errs.Conflict {
				t.Errorf("stale UpdateClient = %v, want Conflict", err)
			}
			cs, err := o.Clients(ctx)
			if err != nil || len(cs) != 5 {
				t.Errorf("Clients = %d, %v", len(cs), err)
			}
		})
	}
}

func TestParseURIs(t *testing.T) {
	for _, tc := range []struct {
		text   string
		httpOK bool
		want   []string
		bad    bool
	}{
		{text: "https://a.example/cb\nhttps://b.example/cb, https://a.example/cb", want: []string{"https://a.example/cb", "https://b.example/cb"}},
		{text: "http://intranet.example/cb", httpOK: true, want: []string{"http://intranet.example/cb"}},
		{text: "http://intranet.example/cb", bad: true},
		{text: "http://127.0.0.1:8080/cb", want: []string{"http://127.0.0.1:8080/cb"}},
		{text: "https://a.example/cb#x", bad: true},
		{text: "https://*.example/cb", bad: true},
		{text: "https://user:pw@a.example/cb", bad: true},
		{text: "javascript:alert(1)", bad: true},
		{text: "/relative", bad: true},
		{text: "", want: nil},
	} {
		got, err := identity.ParseURIs(tc.text, tc.httpOK)
		if (err != nil) != tc.bad || !slices.Equal(got, tc.want) {
			t.Errorf("ParseURIs(%q, %v) = %v, %v", tc.text, tc.httpOK, got, err)
		}
	}
}

// FuzzParseURIs: any text either fails with Invalid or yields absolute
// http(s) URIs without fragments, wildcards or credentials.
func FuzzParseURIs(f *testing.F) {
	for _, s := range []string{"https://a.example/cb", "http://127.0.0.1/x,https://b/y", "https://a/#", "\xff", "https://[::1]:80/", "https://a b"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, text string, httpOK bool) {
		got, err := identity.ParseURIs(text, httpOK)
		if err != nil {
			if errs.KindOf(err) != errs.Invalid {
				t.Fatalf("ParseURIs(%q) error kind %v", text, errs.KindOf(err))
			}
			return
		}
		for _, s := range got {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(s, "#*") || u.User != nil {
				t.Fatalf("ParseURIs(%q) accepted %q", text, s)
			}
			if u.Scheme == "http" && !httpOK && u.Hostname() != "localhost" && u.Hostname() != "127.0.0.1" && u.Hostname() != "::1" {
				t.Fatalf("ParseURIs(%q, false) accepted http %q", text, s)
			}
		}
	})
}

// FuzzParseScopes: only known scopes come out, openid first, no repeats.
func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{"openid,profile", "phone id_number", "email", "", ",,,", "profile,profile"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, err := identity.ParseScopes(text)
		if err != nil {
			return
		}
		if len(got) == 0 || got[0] != "openid" {
			t.Fatalf("ParseScopes(%q) = %v", text, got)
		}
		for i, s := range got {
			if !slices.Contains(identity.Scopes, s) || slices.Index(got, s) != i {
				t.Fatalf("ParseScopes(%q) = %v", text, got)
			}
		}
	})
}
