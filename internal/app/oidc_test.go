package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/client/rs"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"yiwang/internal/app/apptest"
	"yiwang/internal/identity"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/sqldb/sqldbtest"
	"yiwang/internal/platform/totp"
)

// The people and systems of the OIDC tests.
const (
	oidcIDNumber = "11010519491231002X"
	oidcPassword = "Zx-98765432a"
	oidcUSCC     = "91350100M000100Y43"
	oidcSecretA  = "secret-of-system-a-0123456789abcdef"
	oidcSecretB  = "secret-of-system-b-0123456789abcdef"
	rpCallback   = "https://rp.example.gov.cn/callback"
)

// oidcEnv is a running instance with a person (who may act for an
// enterprise) and three registered systems: a (entitled to everything,
// refresh tokens), b (openid and profile only) and spa (a public client).
type oidcEnv struct {
	*apptest.Env
	person, legal identity.Account
}

func newOIDCEnv(t testing.TB, eng sqldbtest.Engine) *oidcEnv {
	t.Helper()
	e := &oidcEnv{Env: apptest.New(t, eng)}
	ctx := context.Background()
	var err error
	e.person, err = e.App.Identity.CreateAccount(ctx, identity.NewAccount{Kind: identity.Person, Name: "张三", IDNumber: oidcIDNumber,
		Phone: "13800138000", Password: oidcPassword})
	if err != nil {
		t.Fatal(err)
	}
	e.legal, err = e.App.Identity.CreateAccount(ctx, identity.NewAccount{Kind: identity.Legal, Name: "呼和浩特示范科技有限公司", USCC: oidcUSCC,
		LegalRep: "李四", Password: oidcPassword})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Identity.AddAgent(ctx, e.legal, oidcIDNumber, "张三"); err != nil {
		t.Fatal(err)
	}
	for _, in := range []identity.ClientInput{
		{ID: "system-a", Name: "不动产登记系统", Secret: oidcSecretA, RedirectURIs: rpCallback, PostLogoutURIs: "https://rp.example.gov.cn/bye",
			Scopes: []string{"profile", "phone", "id_number", "enterprise", "offline_access"}},
		{ID: "system-b", Name: "公积金系统", Secret: oidcSecretB, AuthMethod: identity.AuthPost, RedirectURIs: rpCallback, Scopes: []string{"profile"}},
		{ID: "spa", Name: "掌上办", AuthMethod: identity.AuthNone, RedirectURIs: rpCallback, Scopes: []string{"profile"}},
	} {
		if _, err := e.App.OIDC.AddClient(ctx, nil, in); err != nil {
			t.Fatalf("AddClient(%s): %v", in.ID, err)
		}
	}
	return e
}

// ssoBrowser is a signed-in citizen's ssoBrowser: it keeps cookies and stops at
// every redirect so the test follows them itself.
type ssoBrowser struct {
	t   testing.TB
	e   *oidcEnv
	hc  *http.Client
	url string
}

func (e *oidcEnv) browser(t testing.TB, signIn bool) *ssoBrowser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &ssoBrowser{t: t, e: e, url: e.Server.URL, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if signIn {
		_, token, err := e.App.Identity.Login(context.Background(), oidcIDNumber, oidcPassword, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(e.Server.URL)
		jar.SetCookies(u, []*http.Cookie{{Name: identity.CookieName, Value: token, Path: "/"}})
	}
	return b
}

func (b *ssoBrowser) token() string {
	u, _ := url.Parse(b.url)
	for _, c := range b.hc.Jar.Cookies(u) {
		if c.Name == identity.CookieName {
			return c.Value
		}
	}
	return ""
}

func (b *ssoBrowser) do(method, target string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.url + target
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res, string(data)
}

var consentIDRE = regexp.MustCompile(`name="id" value="([^"]+)"`)

// authorize follows the flow from the client's authorization URL until the
// ssoBrowser is sent back to the client; it answers a consent page with
// answer ("allow" or "deny"; "" fails the test on a consent page) and
// returns the callback's query and whether consent was asked.
func (b *ssoBrowser) authorize(authURL, answer string) (url.Values, bool) {
	b.t.Helper()
	target, method, form, consented := authURL, "GET", url.Values(nil), false
	for range 10 {
		res, body := b.do(method, target, form)
		method, form = "GET", nil
		switch {
		case res.StatusCode == http.StatusOK && strings.Contains(body, `action="/oidc/consent"`):
			if answer == "" {
				b.t.Fatalf("unexpected consent page")
			}
			m := consentIDRE.FindStringSubmatch(body)
			if m == nil {
				b.t.Fatalf("consent page without request id: %.500s", body)
			}
			target, method, form, consented = "/oidc/consent", "POST", url.Values{"id": {m[1]}, "action": {answer}}, true
			continue
		case res.StatusCode == http.StatusFound || res.StatusCode == http.StatusSeeOther:
		default:
			b.t.Fatalf("%s: status %d: %.500s", target, res.StatusCode, body)
		}
		loc := res.Header.Get("Location")
		if strings.HasPrefix(loc, rpCallback) {
			u, _ := url.Parse(loc)
			return u.Query(), consented
		}
		target = loc
	}
	b.t.Fatalf("too many redirects from %s", authURL)
	return nil, false
}

// relyingParty is a real OIDC client library talking to the server.
func (e *oidcEnv) relyingParty(t testing.TB, clientID, secret string, scopes ...string) rp.RelyingParty {
	t.Helper()
	p, err := rp.NewRelyingPartyOIDC(context.Background(), e.Server.URL, clientID, secret, rpCallback, append([]string{"openid"}, scopes...),
		rp.WithHTTPClient(e.Server.Client()))
	if err != nil {
		t.Fatalf("relying party %s: %v", clientID, err)
	}
	return p
}

const verifier = "a-pkce-code-verifier-that-is-long-enough-0123456789"

// signIn runs the code flow with PKCE for p and returns the tokens.
func (b *ssoBrowser) signIn(p rp.RelyingParty, answer string) (*oidc.Tokens[*oidc.IDTokenClaims], string) {
	b.t.Helper()
	q, _ := b.authorize(rp.AuthURL("st-1", p, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier))), answer)
	if q.Get("state") != "st-1" || q.Get("code") == "" {
		b.t.Fatalf("callback without code: %v", q)
	}
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](context.Background(), q.Get("code"), p, rp.WithCodeVerifier(verifier))
	if err != nil {
		b.t.Fatalf("code exchange: %v", err)
	}
	return tokens, q.Get("code")
}

func userinfo(t testing.TB, p rp.RelyingParty, tokens *oidc.Tokens[*oidc.IDTokenClaims]) (*oidc.UserInfo, error) {
	t.Helper()
	return rp.Userinfo[*oidc.UserInfo](context.Background(), tokens.AccessToken, tokens.TokenType, tokens.IDTokenClaims.Subject, p)
}

func TestOIDCFlow(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := newOIDCEnv(t, eng)
			ctx := context.Background()
			a := e.relyingParty(t, "system-a", oidcSecretA, "profile", "phone", "id_number", "offline_access")
			b := e.relyingParty(t, "system-b", oidcSecretB, "profile", "phone", "id_number")
			br := e.browser(t, true)

			// Discovery at the server root names our endpoints and pairwise subjects.
			res, body := br.do("GET", "/.well-known/openid-configuration", nil)
			var d oidc.DiscoveryConfiguration
			if err := json.Unmarshal([]byte(body), &d); err != nil || res.StatusCode != 200 || d.Issuer != e.Server.URL ||
				d.TokenEndpoint != e.Server.URL+"/oidc/token" || !contains(d.SubjectTypesSupported, "pairwise") {
				t.Fatalf("discovery: %d %v %.300s", res.StatusCode, err, body)
			}

			// The whole flow: consent asked once, ID token verified by the
			// library, userinfo with every entitled claim.
			tokA, _ := br.signIn(a, "allow")
			if tokA.IDTokenClaims.AuthenticationContextClassReference != identity.ACR(identity.LevelPhone) {
				t.Errorf("acr = %q", tokA.IDTokenClaims.AuthenticationContextClassReference)
			}
			if tokA.IDTokenClaims.Claims["id_number"] != nil || tokA.IDTokenClaims.Name != "" {
				t.Errorf("ID token carries personal data: %v", tokA.IDTokenClaims.Claims)
			}
			info, err := userinfo(t, a, tokA)
			if err != nil {
				t.Fatalf("userinfo a: %v", err)
			}
			if info.Name != "张三" || info.PhoneNumber != "+8613800138000" || info.Claims["id_number"] != oidcIDNumber ||
				info.Claims["assurance_level"] != float64(1) || info.Subject == e.person.ID {
				t.Errorf("userinfo a = %+v %v", info, info.Claims)
			}
			if info.Claims["enterprise"] != nil {
				t.Errorf("enterprise released while acting for oneself: %v", info.Claims)
			}
			// A second sign-in needs no consent and keeps the subject.
			q, consented := br.authorize(rp.AuthURL("st", a, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier))), "")
			if consented || q.Get("code") == "" {
				t.Fatalf("remembered consent: %v %v", consented, q)
			}

			// System b is not entitled to phone or id_number: it gets neither.
			tokB, _ := br.signIn(b, "allow")
			infoB, err := userinfo(t, b, tokB)
			if err != nil {
				t.Fatalf("userinfo b: %v", err)
			}
			if infoB.Name != "张三" || infoB.PhoneNumber != "" || infoB.Claims["id_number"] != nil {
				t.Errorf("userinfo b = %+v %v", infoB, infoB.Claims)
			}
			// Pairwise subjects: two systems cannot correlate one person.
			if tokB.IDTokenClaims.Subject == tokA.IDTokenClaims.Subject {
				t.Errorf("same sub for two clients: %s", tokA.IDTokenClaims.Subject)
			}

			// Introspection: the client the token was issued to sees it, another does not.
			rsA, err := rs.NewResourceServerClientCredentials(ctx, e.Server.URL, "system-a", oidcSecretA, rs.WithClient(e.Server.Client()))
			if err != nil {
				t.Fatal(err)
			}
			in, err := rs.Introspect[*oidc.IntrospectionResponse](ctx, rsA, tokA.AccessToken)
			if err != nil || !in.Active || in.Subject != tokA.IDTokenClaims.Subject || in.ClientID != "system-a" {
				t.Errorf("introspect a: %v %+v", err, in)
			}
			rsB, _ := rs.NewResourceServerClientCredentials(ctx, e.Server.URL, "system-b", oidcSecretB, rs.WithClient(e.Server.Client()))
			if in, err := rs.Introspect[*oidc.IntrospectionResponse](ctx, rsB, tokA.AccessToken); err != nil || in.Active {
				t.Errorf("introspect a's token as b: %v %+v", err, in)
			}

			// Refresh tokens rotate; presenting a spent one revokes the family.
			if tokA.RefreshToken == "" {
				t.Fatal("no refresh token for offline_access")
			}
			next, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, a, tokA.RefreshToken, "", "")
			if err != nil || next.RefreshToken == "" || next.RefreshToken == tokA.RefreshToken {
				t.Fatalf("refresh: %v %+v", err, next)
			}
			if next.IDTokenClaims == nil || next.IDTokenClaims.Subject != tokA.IDTokenClaims.Subject {
				t.Errorf("refreshed ID token: %+v", next.IDTokenClaims)
			}
			if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, a, tokA.RefreshToken, "", ""); err == nil {
				t.Error("spent refresh token accepted")
			}
			if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, a, next.RefreshToken, "", ""); err == nil {
				t.Error("refresh token of a revoked family accepted")
			}

			// Revocation of an access token.
			tokA2, _ := br.signIn(a, "")
			if _, err := userinfo(t, a, tokA2); err != nil {
				t.Fatalf("userinfo before revocation: %v", err)
			}
			if err := rp.RevokeToken(ctx, a, tokA2.AccessToken, "access_token"); err != nil {
				t.Fatalf("revoke: %v", err)
			}
			if _, err := userinfo(t, a, tokA2); err == nil {
				t.Error("userinfo with a revoked token")
			}
			if in, _ := rs.Introspect[*oidc.IntrospectionResponse](ctx, rsA, tokA2.AccessToken); in != nil && in.Active {
				t.Error("revoked token introspected active")
			}

			// Expired tokens stop working.
			tokA3, _ := br.signIn(a, "")
			e.App.OIDC.SetClock(func() time.Time { return time.Now().UTC().Add(11 * time.Minute) })
			if _, err := userinfo(t, a, tokA3); err == nil {
				t.Error("userinfo with an expired token")
			}
			if in, _ := rs.Introspect[*oidc.IntrospectionResponse](ctx, rsA, tokA3.AccessToken); in != nil && in.Active {
				t.Error("expired token introspected active")
			}
			e.App.OIDC.SetClock(func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) })

			// The account's history and the audit log record every SSO sign-in.
			logins, err := e.App.Identity.Logins(ctx, e.person.ID, 50)
			if err != nil {
				t.Fatal(err)
			}
			var viaA, viaB int
			for _, l := range logins {
				switch l.Via {
				case "sso:system-a":
					viaA++
				case "sso:system-b":
					viaB++
				}
			}
			if viaA != 4 || viaB != 1 {
				t.Errorf("sign-in history: %d via a, %d via b, want 4 and 1", viaA, viaB)
			}
			var audited int
			if err := e.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'identity.sso.login' AND target_id = $1`, e.person.ID).
				Scan(&audited); err != nil || audited != 5 {
				t.Errorf("audited SSO sign-ins: %d (%v), want 5", audited, err)
			}

			// The account page's list: what each system received; revoking
			// forgets the consent and ends the system's tokens.
			systems, err := e.App.OIDC.Systems(ctx, e.person.ID)
			if err != nil || len(systems) != 2 {
				t.Fatalf("Systems = %v, %v", systems, err)
			}
			tokB2, _ := br.signIn(b, "")
			if err := e.App.OIDC.RevokeSystem(ctx, e.person.ID, "system-b"); err != nil {
				t.Fatal(err)
			}
			if _, err := userinfo(t, b, tokB2); err == nil {
				t.Error("token survived revoking the system")
			}
			if _, consented := br.authorize(rp.AuthURL("st", b, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier))), "allow"); !consented {
				t.Error("consent not asked again after revocation")
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestOIDCRefused covers what the provider must refuse.
func TestOIDCRefused(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := newOIDCEnv(t, eng)
			ctx := context.Background()
			a := e.relyingParty(t, "system-a", oidcSecretA, "profile")
			br := e.browser(t, true)

			t.Run("wrong redirect uri", func(t *testing.T) {
				res, _ := br.do("GET", "/oidc/authorize?"+url.Values{"client_id": {"system-a"}, "redirect_uri": {"https://evil.example/cb"},
					"response_type": {"code"}, "scope": {"openid"}, "state": {"x"}}.Encode(), nil)
				if res.StatusCode != http.StatusBadRequest || strings.Contains(res.Header.Get("Location"), "evil") {
					t.Errorf("status %d, location %q", res.StatusCode, res.Header.Get("Location"))
				}
				// Exact match: a prefix or an extra query is another URI.
				res, _ = br.do("GET", "/oidc/authorize?"+url.Values{"client_id": {"system-a"}, "redirect_uri": {rpCallback + "?x=1"},
					"response_type": {"code"}, "scope": {"openid"}}.Encode(), nil)
				if res.StatusCode != http.StatusBadRequest {
					t.Errorf("redirect_uri with a query: status %d", res.StatusCode)
				}
			})

			t.Run("unknown client", func(t *testing.T) {
				res, _ := br.do("GET", "/oidc/authorize?"+url.Values{"client_id": {"nobody"}, "redirect_uri": {rpCallback},
					"response_type": {"code"}, "scope": {"openid"}}.Encode(), nil)
				if res.StatusCode != http.StatusBadRequest {
					t.Errorf("status %d", res.StatusCode)
				}
			})

			t.Run("reused code", func(t *testing.T) {
				tokens, code := br.signIn(a, "allow")
				if _, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, code, a, rp.WithCodeVerifier(verifier)); err == nil {
					t.Fatal("code accepted twice")
				}
				if _, err := userinfo(t, a, tokens); err == nil {
					t.Error("tokens of a reused code still work")
				}
			})

			t.Run("wrong PKCE verifier", func(t *testing.T) {
				q, _ := br.authorize(rp.AuthURL("s", a, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier))), "")
				_, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, q.Get("code"), a, rp.WithCodeVerifier(verifier+"x"))
				if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
					t.Errorf("wrong verifier: %v", err)
				}
			})

			t.Run("wrong secret", func(t *testing.T) {
				bad := e.relyingParty(t, "system-a", "not-the-secret-0123456789abcdef", "profile")
				q, _ := br.authorize(rp.AuthURL("s", bad, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier))), "")
				if _, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, q.Get("code"), bad, rp.WithCodeVerifier(verifier)); err == nil {
					t.Error("wrong client secret accepted")
				}
			})

			t.Run("public client needs PKCE S256", func(t *testing.T) {
				spa := e.relyingParty(t, "spa", "", "profile")
				q, _ := br.authorize(rp.AuthURL("s", spa), "")
				if q.Get("error") != "invalid_request" || q.Get("code") != "" {
					t.Errorf("without PKCE: %v", q)
				}
				tokens, _ := br.signIn(spa, "allow")
				if info, err := userinfo(t, spa, tokens); err != nil || info.Name != "张三" {
					t.Errorf("public client with PKCE: %v %+v", err, info)
				}
			})

			t.Run("denied consent", func(t *testing.T) {
				b := e.relyingParty(t, "system-b", oidcSecretB, "profile")
				q, _ := br.authorize(rp.AuthURL("s", b, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier))), "deny")
				if q.Get("error") != "access_denied" || q.Get("state") != "s" {
					t.Errorf("deny: %v", q)
				}
			})

			t.Run("not signed in goes to the portal login", func(t *testing.T) {
				anon := e.browser(t, false)
				res, _ := anon.do("GET", rp.AuthURL("s", a, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier))), nil)
				res, _ = anon.do("GET", res.Header.Get("Location"), nil)
				loc := res.Header.Get("Location")
				if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=%2Foidc%2Flogin%3Fid%3D") {
					t.Errorf("anonymous: %d %q", res.StatusCode, loc)
				}
				res, _ = anon.do("GET", rp.AuthURL("s", a, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier)), rp.WithPrompt("none")), nil)
				res, _ = anon.do("GET", res.Header.Get("Location"), nil)
				if !strings.Contains(res.Header.Get("Location"), "error=login_required") {
					t.Errorf("prompt=none: %q", res.Header.Get("Location"))
				}
			})

			t.Run("disabled client", func(t *testing.T) {
				tokens, _ := br.signIn(a, "")
				p := adminPrincipal()
				if err := e.App.OIDC.SetClientDisabled(ctx, p, "system-a", true); err != nil {
					t.Fatal(err)
				}
				defer e.App.OIDC.SetClientDisabled(ctx, p, "system-a", false)
				if _, err := userinfo(t, a, tokens); err == nil {
					t.Error("token of a disabled client works")
				}
				res, _ := br.do("GET", rp.AuthURL("s", a, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier))), nil)
				if res.StatusCode != http.StatusBadRequest {
					t.Errorf("authorize with a disabled client: %d", res.StatusCode)
				}
			})
		})
	}
}

// TestOIDCEnterpriseKeysLogout: the enterprise claim for a 经办人, key
// rotation, and RP-initiated logout.
func TestOIDCEnterpriseKeysLogout(t *testing.T) {
	e := newOIDCEnv(t, sqldbtest.SQLite(t))
	ctx := context.Background()
	a := e.relyingParty(t, "system-a", oidcSecretA, "profile", "enterprise")
	br := e.browser(t, true)
	if err := e.App.Identity.ActAs(ctx, br.token(), e.legal.ID); err != nil {
		t.Fatal(err)
	}
	tokens, _ := br.signIn(a, "allow")
	info, err := userinfo(t, a, tokens)
	if err != nil {
		t.Fatal(err)
	}
	ent, _ := info.Claims["enterprise"].(map[string]any)
	if ent["uscc"] != oidcUSCC || ent["name"] != e.legal.Name || info.Name != "张三" {
		t.Errorf("enterprise claim: %+v %v", info, info.Claims)
	}

	// Rotation: the new key is published at once and signs once every node
	// has had time to publish it; the old one stays in the JWKS.
	keys := func() []string {
		_, body := br.do("GET", "/oidc/keys", nil)
		var set struct{ Keys []struct{ Kid string } }
		json.Unmarshal([]byte(body), &set)
		var ids []string
		for _, k := range set.Keys {
			ids = append(ids, k.Kid)
		}
		return ids
	}
	before := keys()
	newKey, err := e.App.OIDC.RotateKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after := keys()
	if len(after) != len(before)+1 || !contains(after, newKey) || !contains(after, before[0]) {
		t.Fatalf("JWKS after rotation: %v (before %v)", after, before)
	}
	e.App.OIDC.SetClock(func() time.Time { return time.Now().UTC().Add(3 * time.Minute) })
	defer e.App.OIDC.SetClock(func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) })
	fresh := e.relyingParty(t, "system-a", oidcSecretA, "profile")
	tok2, _ := br.signIn(fresh, "")
	if kid := keyID(t, tok2.IDToken); kid != newKey {
		t.Errorf("ID token signed by %s, want the new key %s", kid, newKey)
	}

	// RP-initiated logout with an id_token_hint ends the portal session.
	endSession := func(hint, back string) *http.Response {
		res, _ := br.do("GET", "/oidc/end_session?"+url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {back}, "state": {"bye-state"}}.Encode(), nil)
		return res
	}
	// An unregistered post-logout address is refused, and signs no one out.
	if res := endSession(tok2.IDToken, "https://evil.example/"); res.StatusCode < 400 {
		t.Errorf("unregistered post_logout_redirect_uri: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, _, err := e.App.Identity.Authenticate(ctx, br.token()); err != nil {
		t.Fatalf("refused logout ended the session: %v", err)
	}
	res := endSession(tok2.IDToken, "https://rp.example.gov.cn/bye")
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "https://rp.example.gov.cn/bye?state=bye-state") {
		t.Errorf("end_session → %d %q", res.StatusCode, loc)
	}
	if _, _, err := e.App.Identity.Authenticate(ctx, br.token()); err == nil {
		t.Error("portal session survived RP-initiated logout")
	}
	if _, err := userinfo(t, fresh, tok2); err == nil {
		t.Error("tokens survived logout")
	}
}

func keyID(t testing.TB, jwt string) string {
	t.Helper()
	head, _, _ := strings.Cut(jwt, ".")
	b, err := base64URLDecode(head)
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Kid string }
	json.Unmarshal(b, &h)
	return h.Kid
}

func base64URLDecode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func adminPrincipal() *authz.Principal {
	return &authz.Principal{UserID: "test", Name: "测试管理员", Grants: []authz.Grant{{Role: authz.PlatformAdmin, Region: "150000"}}}
}

// TestOIDCConsole: platform admins register, edit, disable and re-key
// systems at /console/oidc/clients; others may not.
func TestOIDCConsole(t *testing.T) {
	e := apptest.Demo(t, sqldbtest.SQLite(t))
	c := e.Client()
	res := c.Post(t, "/console/login", url.Values{"username": {"admin"}, "password": {e.Logins["admin"]}})
	res = c.Get(t, "/console/login/enroll")
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(res.Body)
	if m == nil {
		t.Fatalf("enrol page: %d", res.Status)
	}
	code, _ := totp.Code(m[1], time.Now())
	if res := c.Post(t, "/console/login/enroll", url.Values{"code": {code}}); res.Status != 303 {
		t.Fatalf("enrolment: %d", res.Status)
	}
	form := url.Values{"id": {"bdc"}, "name": {"不动产登记系统"}, "auth_method": {"client_secret_basic"}, "redirect_uris": {"https://bdc.example.gov.cn/cb"},
		"scopes": {"profile", "id_number"}, "subject_type": {"pairwise"}}
	for _, sc := range []struct {
		name     string
		method   string
		path     string
		form     url.Values
		status   int
		contains string
	}{
		{"list", "GET", "/console/oidc/clients", nil, 200, "登记接入系统"},
		{"new form", "GET", "/console/oidc/clients/new", nil, 200, "回调地址"},
		{"bad redirect re-renders", "POST", "/console/oidc/clients", url.Values{"id": {"x1x"}, "name": {"测试系统"}, "redirect_uris": {"ftp://x"}}, 422, "须使用 https"},
		{"create shows the secret once", "POST", "/console/oidc/clients", form, 201, `id="client-secret"`},
		{"duplicate id", "POST", "/console/oidc/clients", form, 422, "已被使用"},
		{"show", "GET", "/console/oidc/clients/bdc", nil, 200, "https://bdc.example.gov.cn/cb"},
		{"edit", "POST", "/console/oidc/clients/bdc", url.Values{"name": {"不动产登记（新）"}, "auth_method": {"client_secret_basic"},
			"redirect_uris": {"https://bdc.example.gov.cn/cb"}, "scopes": {"profile"}, "subject_type": {"pairwise"}, "version": {"1"}}, 303, ""},
		{"stale edit", "POST", "/console/oidc/clients/bdc", url.Values{"name": {"不动产登记"}, "auth_method": {"client_secret_basic"},
			"redirect_uris": {"https://bdc.example.gov.cn/cb"}, "subject_type": {"pairwise"}, "version": {"1"}}, 409, "已被他人修改"},
		{"new secret", "POST", "/console/oidc/clients/bdc/secret", url.Values{}, 200, `id="client-secret"`},
		{"disable", "POST", "/console/oidc/clients/bdc/disable", url.Values{}, 303, ""},
		{"shown disabled", "GET", "/console/oidc/clients", nil, 200, "已停用"},
		{"unknown action", "POST", "/console/oidc/clients/bdc/explode", url.Values{}, 404, ""},
		{"unknown client", "GET", "/console/oidc/clients/nope", nil, 404, ""},
	} {
		t.Run(sc.name, func(t *testing.T) {
			res := c.Do(t, sc.method, sc.path, sc.form, nil)
			if res.Status != sc.status || !strings.Contains(res.Body, sc.contains) {
				t.Errorf("%s %s: %d, want %d containing %q: %.600s", sc.method, sc.path, res.Status, sc.status, sc.contains, res.Body)
			}
		})
	}
	cl, err := e.App.OIDC.Client(context.Background(), "bdc")
	if err != nil || cl.Name != "不动产登记（新）" || !cl.Disabled || contains(cl.Scopes, "id_number") {
		t.Errorf("client after console edits: %+v %v", cl, err)
	}
	for _, sc := range []apptest.Scenario{
		{Name: "region admin refused", As: "region", Path: "/console/oidc/clients", Status: 403},
		{Name: "anonymous to login", Path: "/console/oidc/clients", Status: 303},
	} {
		t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
	}
}
