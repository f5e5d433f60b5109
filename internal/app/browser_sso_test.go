package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"yiwang/internal/app/apptest"
	"yiwang/internal/identity"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// TestBrowserSSO is the vertical-system journey in a real browser: a
// system on another origin sends the citizen to our authorize endpoint;
// they sign in on our page, consent to exactly what the system may get,
// and land back on the system with a code the system exchanges for
// tokens and userinfo. A second visit skips the consent page.
func TestBrowserSSO(t *testing.T) {
	b := browser(t) // first: skips at once without Chromium
	env := apptest.New(t, sqldbtest.SQLite(t))
	ctx := context.Background()
	if _, err := env.App.Identity.CreateAccount(ctx, identity.NewAccount{Kind: identity.Person, Name: "张三", IDNumber: oidcIDNumber,
		Phone: "13800138000", Password: oidcPassword}); err != nil {
		t.Fatal(err)
	}
	// The system: another origin whose callback page just says it got a code.
	system := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>system</title><p id="got">` + url.QueryEscape(r.URL.Query().Get("code")) + `</p>`))
	}))
	t.Cleanup(system.Close)
	callback := system.URL + "/callback"
	if _, err := env.App.OIDC.AddClient(ctx, nil, identity.ClientInput{ID: "bdc", Name: "不动产登记系统", Secret: oidcSecretA, RedirectURIs: callback,
		Scopes: []string{"profile", "phone"}}); err != nil {
		t.Fatal(err)
	}
	p, err := rp.NewRelyingPartyOIDC(ctx, env.Server.URL, "bdc", oidcSecretA, callback, []string{"openid", "profile", "phone", "id_number"},
		rp.WithHTTPClient(env.Server.Client()))
	if err != nil {
		t.Fatal(err)
	}
	authURL := rp.AuthURL("st-b", p, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier)))

	b.do("open the system's sign-in link", chromedp.Navigate(authURL))
	if path := b.path(); path != "/login" {
		b.fatalf("authorize without a session: at %s, want /login", path)
	}
	b.fill(`form[action="/login"]`, map[string]string{"username": oidcIDNumber, "password": oidcPassword})
	b.load("sign in", chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)))
	b.do("wait for the consent page", chromedp.WaitVisible(chromedp.CSS("#consent")))
	claims := step(b, "read the consent list", chromedp.Text(chromedp.CSS(".consent-claims")))
	if !strings.Contains(claims, "手机") || strings.Contains(claims, "身份证") {
		b.fatalf("consent lists %q: want the phone, and no ID number (the system is not entitled to it)", claims)
	}
	b.load("consent", chromedp.Click(chromedp.CSS(`button[value="allow"]`)))
	b.do("wait for the system's page", chromedp.WaitVisible(chromedp.CSS("#got")))
	loc := step(b, "read location", chromedp.Location())
	u, _ := url.Parse(loc)
	code := u.Query().Get("code")
	if !strings.HasPrefix(loc, callback) || code == "" || u.Query().Get("state") != "st-b" {
		b.fatalf("landed at %s, want %s with a code and the state", loc, callback)
	}
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, code, p, rp.WithCodeVerifier(verifier))
	if err != nil {
		t.Fatalf("the system's code exchange: %v", err)
	}
	info, err := rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, tokens.TokenType, tokens.IDTokenClaims.Subject, p)
	if err != nil || info.Name != "张三" || info.PhoneNumber != "+8613800138000" || info.Claims["id_number"] != nil {
		t.Fatalf("userinfo %+v %v", info, err)
	}

	// Again: signed in and consented, the browser goes straight back.
	b.do("sign in again", chromedp.Navigate(rp.AuthURL("st-c", p, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier)))),
		chromedp.WaitVisible(chromedp.CSS("#got")))
	if loc := step(b, "read location", chromedp.Location()); !strings.HasPrefix(loc, callback) || !strings.Contains(loc, "state=st-c") {
		b.fatalf("second visit landed at %s", loc)
	}
	b.do("open the account page", chromedp.Navigate(env.Server.URL+"/account"), chromedp.WaitVisible(chromedp.CSS("#systems")))
	if s := step(b, "read the systems", chromedp.Text(chromedp.CSS("#systems"))); !strings.Contains(s, "不动产登记系统") {
		b.fatalf("account page systems: %q", s)
	}
	if h := step(b, "read the history", chromedp.Text(chromedp.CSS("#history"))); !strings.Contains(h, "单点登录：不动产登记系统") {
		b.fatalf("sign-in history does not name the system: %q", h)
	}

	// Signed out, consent remembered: the sign-in form's redirects end on
	// the system's origin (the form-action CSP must allow that last hop).
	b.load("sign out", chromedp.Click(chromedp.Search(`//form[@action="/logout"]/button`)))
	b.do("open the system's link signed out", chromedp.Navigate(rp.AuthURL("st-d", p, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier)))),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)))
	b.fill(`form[action="/login"]`, map[string]string{"username": oidcIDNumber, "password": oidcPassword})
	b.do("sign in", chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("#got")))
	if loc := step(b, "read location", chromedp.Location()); !strings.HasPrefix(loc, callback) || !strings.Contains(loc, "state=st-d") {
		b.fatalf("after signing in with consent remembered: at %s", loc)
	}
}
