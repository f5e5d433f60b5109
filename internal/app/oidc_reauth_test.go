package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"yiwang/internal/identity"
	"yiwang/internal/platform/idcode"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// TestOIDCFreshSignIn: prompt=login and max_age make a signed-in citizen
// sign in again before the system gets a code; prompt=none then says
// (with max_age) login_required instead; a recent sign-in satisfies a generous max_age.
func TestOIDCFreshSignIn(t *testing.T) {
	e := newOIDCEnv(t, sqldbtest.SQLite(t))
	p := e.relyingParty(t, "system-a", oidcSecretA, "profile")
	b := e.browser(t, true)
	b.signIn(p, "allow") // consent remembered from here on
	challenge := rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier))

	for _, tc := range []struct {
		name string
		opts []rp.AuthURLOpt
	}{
		{"prompt=login", []rp.AuthURLOpt{rp.WithPrompt(oidc.PromptLogin)}},
		{"max_age=0", []rp.AuthURLOpt{rp.AuthURLOpt(rp.WithURLParam("max_age", "0"))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := b.token()
			res, _ := b.do("GET", rp.AuthURL("st-r", p, append(tc.opts, challenge)...), nil)
			res, _ = b.do("GET", res.Header.Get("Location"), nil) // → /oidc/login
			loc := res.Header.Get("Location")
			if !strings.HasPrefix(loc, "/login?reauth=1&next=") {
				t.Fatalf("signed-in browser sent to %q, want a fresh sign-in", loc)
			}
			if _, body := b.do("GET", loc, nil); !strings.Contains(body, "重新验证身份") {
				t.Fatal("the sign-in page does not say why")
			}
			u, _ := url.Parse(loc)
			res, body := b.do("POST", "/login", url.Values{"username": {oidcIDNumber}, "password": {oidcPassword}, "next": {u.Query().Get("next")}})
			if res.StatusCode != http.StatusOK || !strings.Contains(body, "正在返回") {
				t.Fatalf("sign-in: %d", res.StatusCode)
			}
			q, consented := b.authorize(u.Query().Get("next"), "")
			if q.Get("code") == "" || q.Get("state") != "st-r" || consented {
				t.Fatalf("after signing in again: %v (consent asked: %v)", q, consented)
			}
			if _, _, err := e.App.Identity.Authenticate(t.Context(), old); err == nil {
				t.Error("the replaced session still works")
			}
		})
	}
	res, _ := b.do("GET", rp.AuthURL("st-n", p, rp.WithPrompt(oidc.PromptNone), rp.AuthURLOpt(rp.WithURLParam("max_age", "0")), challenge), nil)
	res, _ = b.do("GET", res.Header.Get("Location"), nil)
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, rpCallback) || !strings.Contains(loc, "error=login_required") {
		t.Errorf("prompt=none with an old session: %q, want login_required at the callback", loc)
	}
	q, _ := b.authorize(rp.AuthURL("st-m", p, rp.AuthURLOpt(rp.WithURLParam("max_age", "3600")), challenge), "")
	if q.Get("code") == "" {
		t.Errorf("a recent sign-in and max_age=3600: %v", q)
	}
}

// TestOIDCCallbackOnlyForTheSignedInAccount: an attacker who starts an
// authorization request and lures a signed-in citizen through it cannot
// collect the code; only the citizen's browser can.
func TestOIDCCallbackOnlyForTheSignedInAccount(t *testing.T) {
	e := newOIDCEnv(t, sqldbtest.SQLite(t))
	p := e.relyingParty(t, "system-a", oidcSecretA, "profile")
	victim := e.browser(t, true)
	victim.signIn(p, "allow") // consent remembered: the next request completes without a page
	attacker := e.browser(t, false)
	res, _ := attacker.do("GET", rp.AuthURL("st-x", p, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier))), nil)
	login := res.Header.Get("Location")
	if !strings.HasPrefix(login, "/oidc/login?id=") {
		t.Fatalf("authorize: %q", login)
	}
	res, _ = victim.do("GET", login, nil)
	callback := res.Header.Get("Location")
	if !strings.HasPrefix(callback, "/oidc/authorize/callback?id=") {
		t.Fatalf("victim's sign-in step: %d %q", res.StatusCode, callback)
	}
	if res, _ := attacker.do("GET", callback, nil); res.StatusCode != http.StatusForbidden || strings.Contains(res.Header.Get("Location"), "code=") {
		t.Fatalf("attacker at the callback: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = victim.do("GET", callback, nil)
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, rpCallback) || !strings.Contains(loc, "code=") {
		t.Fatalf("victim at the callback: %d %q", res.StatusCode, loc)
	}
}

// TestOIDCConsentNamesTheEnterprise: consent to release an enterprise's
// name and credit code is remembered for that enterprise only; acting for
// another one asks again.
func TestOIDCConsentNamesTheEnterprise(t *testing.T) {
	e := newOIDCEnv(t, sqldbtest.SQLite(t))
	ctx := t.Context()
	other, err := e.App.Identity.CreateAccount(ctx, identity.NewAccount{Kind: identity.Legal, Name: "包头示范商贸有限公司", USCC: uscc15(t, "91150200MA0000002"),
		LegalRep: "王五", Password: oidcPassword})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Identity.AddAgent(ctx, other, oidcIDNumber, "张三"); err != nil {
		t.Fatal(err)
	}
	p := e.relyingParty(t, "system-a", oidcSecretA, "profile", "enterprise")
	b := e.browser(t, true)
	if err := e.App.Identity.ActAs(ctx, b.token(), e.legal.ID); err != nil {
		t.Fatal(err)
	}
	b.signIn(p, "allow")
	challenge := rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier))
	if q, asked := b.authorize(rp.AuthURL("s1", p, challenge), "allow"); q.Get("code") == "" || asked {
		t.Fatalf("same enterprise again: consent asked %v", asked)
	}
	if err := e.App.Identity.ActAs(ctx, b.token(), other.ID); err != nil {
		t.Fatal(err)
	}
	if q, asked := b.authorize(rp.AuthURL("s2", p, challenge), "allow"); q.Get("code") == "" || !asked {
		t.Fatalf("another enterprise: consent asked %v, want asked", asked)
	}
}

func uscc15(t *testing.T, body string) string {
	c, err := idcode.USCCCheckChar(body)
	if err != nil {
		t.Fatal(err)
	}
	return body + string(c)
}
