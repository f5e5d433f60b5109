package identity

import (
	"context"
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/web"
	"yiwang/internal/ui"
)

// The provider's endpoints, all under /oidc/ except discovery, which
// lives at the issuer's root.
const (
	oidcLoginPath    = "/oidc/login"
	oidcConsentPath  = "/oidc/consent"
	oidcCallbackPath = "/oidc/authorize/callback"
)

// OIDCBackChannel are the endpoints systems call from their own origins
// (browser apps included): exempt from the cross-origin check, as they act
// on no cookie — the client or the token authenticates each call.
var OIDCBackChannel = []string{"POST /oidc/token", "POST /oidc/userinfo", "POST /oidc/introspect", "POST /oidc/revoke"}

var oidcEndpoints = []string{"/oidc/authorize", oidcCallbackPath, "/oidc/token", "/oidc/userinfo", "/oidc/introspect", "/oidc/revoke", "/oidc/keys"}

func (o *OIDC) loginURL(id string) string { return oidcLoginPath + "?id=" + url.QueryEscape(id) }

// issuerFunc returns the issuer: the configured base URL, or (development)
// the scheme and host of each request.
func (o *OIDC) issuerFunc(bool) (op.IssuerFromRequest, error) {
	if o.set.Issuer != "" {
		if err := op.ValidateIssuer(o.set.Issuer, true); err != nil {
			return nil, err
		}
		return func(*http.Request) string { return o.set.Issuer }, nil
	}
	return func(r *http.Request) string { return web.BaseURL(r, "") }, nil
}

func (o *OIDC) newProvider() error {
	o.storage = &opStorage{o: o}
	cfg := &op.Config{
		CryptoKey:                o.sealKey,
		DefaultLogoutRedirectURI: "/",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.SimplifiedChinese},
		SupportedScopes:          Scopes,
		SupportedClaims: []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "at_hash", "c_hash", "azp",
			"name", "phone_number", "phone_number_verified", "id_number", "enterprise", "assurance_level"},
	}
	e := op.NewEndpoint
	opts := []op.Option{
		op.WithCustomEndpoints(e("oidc/authorize"), e("oidc/token"), e("oidc/userinfo"), e("oidc/revoke"), e("oidc/end_session"), e("oidc/keys")),
		op.WithCustomIntrospectionEndpoint(e("oidc/introspect")),
		// Token, userinfo and revocation calls carry no cookies: no credentials
		// in CORS, any origin (browser apps of public clients).
		op.WithCORSOptions(&cors.Options{AllowOriginFunc: func(string) bool { return true }, AllowedMethods: []string{"GET", "HEAD", "POST"},
			AllowedHeaders: []string{"Authorization", "Content-Type", "Accept"}}),
		op.WithAllowInsecure(), // only matters without base_url, or with an http base_url
	}
	p, err := op.NewProvider(cfg, o.storage, o.issuerFunc, opts...)
	if err != nil {
		return err
	}
	o.provider = p
	return nil
}

//go:embed oidctemplates/*.html
var oidcTemplatesFS embed.FS

// OIDCPages parses the provider's templates (consent and console pages).
func OIDCPages() (*ui.Pages, error) {
	return ui.NewPagesDir(oidcTemplatesFS, "oidctemplates", template.FuncMap{
		"scopeLabel": func(s string) string { return ScopeLabels[s] },
		"allScopes":  func() []string { return Scopes },
		"has":        func(list []string, s string) bool { return slices.Contains(list, s) },
		"lines":      func(l []string) string { return strings.Join(l, "\n") },
	})
}

// OIDCHandler serves the provider's endpoints, the sign-in and consent
// steps, and the console's client pages.
type OIDCHandler struct {
	o     *OIDC
	pages *ui.Pages
	web   *web.Server
}

// NewOIDCHandler returns the handler.
func NewOIDCHandler(o *OIDC, pages *ui.Pages, ws *web.Server) *OIDCHandler {
	return &OIDCHandler{o: o, pages: pages, web: ws}
}

// Routes registers the provider on mux.
func (h *OIDCHandler) Routes(mux *http.ServeMux) {
	for _, p := range oidcEndpoints {
		if p == oidcCallbackPath {
			mux.Handle(p, h.callbackGuard(h.o.provider))
			continue
		}
		mux.Handle(p, h.o.provider)
	}
	mux.Handle("/oidc/end_session", h.endSession(h.o.provider))
	mux.HandleFunc("GET /.well-known/openid-configuration", h.discovery)
	mux.Handle("GET "+oidcLoginPath, h.web.Page(h.login))
	mux.Handle("POST "+oidcConsentPath, h.web.Page(h.consent))
	mux.Handle("GET /console/oidc/clients", h.web.Page(h.listClients))
	mux.Handle("GET /console/oidc/clients/new", h.web.Page(h.newClient))
	mux.Handle("POST /console/oidc/clients", h.web.Page(h.createClient))
	mux.Handle("GET /console/oidc/clients/{id}", h.web.Page(h.showClient))
	mux.Handle("POST /console/oidc/clients/{id}", h.web.Page(h.updateClient))
	mux.Handle("POST /console/oidc/clients/{id}/secret", h.web.Page(h.newClientSecret))
	mux.Handle("POST /console/oidc/clients/{id}/{action}", h.web.Page(h.clientAction))
}

// callbackGuard lets only the browser that completed an authorization
// request collect its code: the signed-in account must be the one the
// request was completed for. Without it, anyone who learned a request's
// id could fetch the code the victim's sign-in produced.
func (h *OIDCHandler) callbackGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ar, err := h.o.authRequest(r.Context(), r.URL.Query().Get("id"))
		cz, ok := CitizenFrom(r.Context())
		if err != nil || !ok || ar.AccountID == "" || cz.Account.ID != ar.AccountID {
			web.Fail(w, r, http.StatusForbidden, "授权请求与当前登录账号不符，请回到原系统重新登录")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// endSession hands the op the citizen's cookie token so that logout can
// end the portal session as well.
func (h *OIDCHandler) endSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(CookieName); err == nil {
			r = r.WithContext(context.WithValue(r.Context(), logoutKey{}, c.Value))
		}
		next.ServeHTTP(w, r)
	})
}

// discovery serves the provider metadata, corrected where op's defaults
// say more than we do (subject types, grants, PKCE methods).
func (h *OIDCHandler) discovery(w http.ResponseWriter, r *http.Request) {
	iss, _ := h.o.issuerFunc(true)
	ctx := op.ContextWithIssuer(r.Context(), iss(r))
	d := op.CreateDiscoveryConfig(ctx, h.o.provider, h.o.storage)
	d.SubjectTypesSupported = []string{SubjectPairwise, SubjectPublic}
	d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	d.ResponseModesSupported = []string{string(oidc.ResponseModeQuery), string(oidc.ResponseModeFormPost)}
	d.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	d.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	d.RevocationEndpointAuthMethodsSupported = d.TokenEndpointAuthMethodsSupported
	d.IntrospectionEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost}
	d.TokenEndpointAuthSigningAlgValuesSupported, d.RevocationEndpointAuthSigningAlgValuesSupported = nil, nil
	d.IntrospectionEndpointAuthSigningAlgValuesSupported, d.RequestObjectSigningAlgValuesSupported = nil, nil
	d.DeviceAuthorizationEndpoint = ""
	d.ACRValuesSupported = []string{ACR(LevelPhone), ACR(LevelRegistry), ACR(LevelFace), ACR(LevelCounter)}
	b, err := json.Marshal(d)
	if err != nil {
		web.Fail(w, r, http.StatusInternalServerError, "系统繁忙，请稍后再试")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Write(b)
}

// ---- sign-in and consent ----

type consentPage struct {
	ui.Base
	RequestID string
	Client    Client
	Scopes    []string
	Citizen   *Citizen
	ReturnTo  string // host the browser goes back to
}

// login is where the op sends the browser with an authorization request:
// sign in (the portal's /login, coming back here), consent when needed,
// then back to the op's callback.
func (h *OIDCHandler) login(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	ar, err := h.o.authRequest(ctx, r.FormValue("id"))
	if err != nil {
		return err
	}
	if ar.IsDone {
		http.Redirect(w, r, oidcCallbackPath+"?id="+url.QueryEscape(ar.ID), http.StatusFound)
		return nil
	}
	c, err := h.o.Client(ctx, ar.ClientID)
	if err != nil || c.Disabled {
		return &errs.Error{Kind: errs.NotFound, Op: "identity.OIDCHandler.login", Msg: "该系统已停止接入统一身份认证"}
	}
	cz, ok := CitizenFrom(ctx)
	if !ok {
		if slices.Contains(ar.Prompt, oidc.PromptNone) {
			op.AuthRequestError(w, r, ar, oidc.ErrLoginRequired(), h.o.provider)
			return nil
		}
		http.Redirect(w, r, h.o.set.LoginPath+"?next="+url.QueryEscape(h.o.loginURL(ar.ID)), http.StatusSeeOther)
		return nil
	}
	if ar.needsFreshSignIn(cz.Session.CreatedAt, h.o.clock()) {
		if slices.Contains(ar.Prompt, oidc.PromptNone) {
			op.AuthRequestError(w, r, ar, oidc.ErrLoginRequired(), h.o.provider)
			return nil
		}
		http.Redirect(w, r, h.o.set.LoginPath+"?reauth=1&next="+url.QueryEscape(h.o.loginURL(ar.ID)), http.StatusSeeOther)
		return nil
	}
	scopes := grantable(c, ar.Scopes, cz)
	prev, err := h.o.consented(ctx, cz.Account.ID, c.ID)
	if err != nil {
		return err
	}
	if prev != nil && subset(consentTokens(scopes, cz), prev) && !slices.Contains(ar.Prompt, oidc.PromptConsent) {
		return h.finish(w, r, ar, c, cz, scopes)
	}
	if slices.Contains(ar.Prompt, oidc.PromptNone) {
		op.AuthRequestError(w, r, ar, oidc.ErrInteractionRequired().WithDescription("consent_required"), h.o.provider)
		return nil
	}
	return h.renderConsent(w, r, ar, c, cz, scopes)
}

func (h *OIDCHandler) renderConsent(w http.ResponseWriter, r *http.Request, ar *authRequest, c Client, cz *Citizen, scopes []string) error {
	u, _ := url.Parse(ar.RedirectURI)
	page := consentPage{Base: ui.NewBase(r, "授权登录"), RequestID: ar.ID, Client: c, Scopes: scopes, Citizen: cz}
	if u != nil {
		page.ReturnTo = u.Scheme + "://" + u.Host
		// The form's answer redirects (through the callback) to the client:
		// browsers apply form-action to those redirects too.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "+
			"frame-ancestors 'none'; base-uri 'self'; form-action 'self' "+page.ReturnTo)
	}
	return h.pages.Render(w, http.StatusOK, "oidc_consent.html", page)
}

// consent takes the holder's answer on the consent page.
func (h *OIDCHandler) consent(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	ar, err := h.o.authRequest(ctx, r.PostFormValue("id"))
	if err != nil {
		return err
	}
	cz, ok := CitizenFrom(ctx)
	if !ok {
		http.Redirect(w, r, h.o.set.LoginPath+"?next="+url.QueryEscape(h.o.loginURL(ar.ID)), http.StatusSeeOther)
		return nil
	}
	c, err := h.o.Client(ctx, ar.ClientID)
	if err != nil || c.Disabled {
		return &errs.Error{Kind: errs.NotFound, Op: "identity.OIDCHandler.consent", Msg: "该系统已停止接入统一身份认证"}
	}
	if r.PostFormValue("action") != "allow" {
		op.AuthRequestError(w, r, ar, oidc.ErrAccessDenied().WithDescription("the user declined"), h.o.provider)
		return nil
	}
	return h.finish(w, r, ar, c, cz, grantable(c, ar.Scopes, cz))
}

// finish completes the request and sends the browser to the op's callback,
// which issues the code and redirects to the client.
func (h *OIDCHandler) finish(w http.ResponseWriter, r *http.Request, ar *authRequest, c Client, cz *Citizen, scopes []string) error {
	if err := h.o.complete(r.Context(), ar, c, cz, append([]string{ScopeOpenID}, without(scopes, ScopeOpenID)...), web.ClientIP(r.Context()), r.UserAgent()); err != nil {
		return err
	}
	http.Redirect(w, r, oidcCallbackPath+"?id="+url.QueryEscape(ar.ID), http.StatusSeeOther)
	return nil
}

func without(list []string, s string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(x string) bool { return x == s })
}

// ---- console: clients ----

var clientCrumbs = []ui.Crumb{{Href: "/console/oidc/clients", Label: "接入系统"}}

type clientListPage struct {
	ui.Base
	Clients []Client
}

type clientFormPage struct {
	ui.Base
	Client Client
	Form   ClientInput
	Errors map[string]string
	New    bool
	Secret string // shown once, after creation or regeneration
}

func principal(r *http.Request) (*authz.Principal, error) {
	p := authz.PrincipalFrom(r.Context())
	if p == nil {
		return nil, &errs.Error{Kind: errs.Unauthenticated, Op: "identity.principal", Msg: "请先登录工作台"}
	}
	if err := mayManage(p, "identity.OIDCHandler"); err != nil {
		return nil, err
	}
	return p, nil
}

func (h *OIDCHandler) listClients(w http.ResponseWriter, r *http.Request) error {
	if _, err := principal(r); err != nil {
		return err
	}
	cs, err := h.o.Clients(r.Context())
	if err != nil {
		return err
	}
	return h.pages.Render(w, http.StatusOK, "oidc_clients.html", clientListPage{Base: ui.ConsoleBase(r, "接入系统"), Clients: cs})
}

func clientForm(r *http.Request) ClientInput {
	v, _ := strconv.Atoi(r.PostFormValue("version"))
	return ClientInput{ID: r.PostFormValue("id"), Name: r.PostFormValue("name"), AuthMethod: r.PostFormValue("auth_method"),
		RedirectURIs: r.PostFormValue("redirect_uris"), PostLogoutURIs: r.PostFormValue("post_logout_uris"), Scopes: r.PostForm["scopes"],
		SubjectType: r.PostFormValue("subject_type"), SectorID: r.PostFormValue("sector_id"), Version: v}
}

func (h *OIDCHandler) newClient(w http.ResponseWriter, r *http.Request) error {
	if _, err := principal(r); err != nil {
		return err
	}
	return h.pages.Render(w, http.StatusOK, "oidc_client_form.html", clientFormPage{Base: ui.ConsoleBase(r, "登记接入系统", clientCrumbs...), New: true,
		Form: ClientInput{AuthMethod: AuthBasic, SubjectType: SubjectPairwise, Scopes: []string{ScopeOpenID, ScopeProfile}}})
}

func (h *OIDCHandler) createClient(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	in := clientForm(r)
	if in.AuthMethod != AuthNone {
		in.Secret = NewSecret()
	}
	c, err := h.o.AddClient(r.Context(), p, in)
	if err != nil {
		return web.FormOr(err, func(f map[string]string) error {
			return h.pages.Render(w, http.StatusUnprocessableEntity, "oidc_client_form.html", clientFormPage{Base: ui.ConsoleBase(r, "登记接入系统", clientCrumbs...),
				New: true, Form: in, Errors: f})
		})
	}
	return h.renderClient(w, r, c, in.Secret, http.StatusCreated)
}

func (h *OIDCHandler) renderClient(w http.ResponseWriter, r *http.Request, c Client, secret string, status int) error {
	in := ClientInput{ID: c.ID, Name: c.Name, AuthMethod: c.AuthMethod, RedirectURIs: strings.Join(c.RedirectURIs, "\n"),
		PostLogoutURIs: strings.Join(c.PostLogoutURIs, "\n"), Scopes: c.Scopes, SubjectType: c.SubjectType, SectorID: c.SectorID,
		Refresh: c.Refresh, Version: c.Version}
	if c.Refresh {
		in.Scopes = append(slices.Clone(in.Scopes), ScopeOffline)
	}
	return h.pages.Render(w, status, "oidc_client_form.html", clientFormPage{Base: ui.ConsoleBase(r, c.Name, clientCrumbs...), Client: c, Form: in, Secret: secret})
}

func (h *OIDCHandler) showClient(w http.ResponseWriter, r *http.Request) error {
	if _, err := principal(r); err != nil {
		return err
	}
	c, err := h.o.Client(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.renderClient(w, r, c, "", http.StatusOK)
}

func (h *OIDCHandler) updateClient(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	in := clientForm(r)
	old, err := h.o.Client(r.Context(), id)
	if err != nil {
		return err
	}
	secret := ""
	if old.Public() && in.AuthMethod != AuthNone {
		secret = NewSecret()
		in.Secret = secret
	}
	c, err := h.o.UpdateClient(r.Context(), p, id, in)
	if err != nil {
		return web.FormOr(err, func(f map[string]string) error {
			in.ID = id
			return h.pages.Render(w, http.StatusUnprocessableEntity, "oidc_client_form.html", clientFormPage{Base: ui.ConsoleBase(r, old.Name, clientCrumbs...),
				Client: old, Form: in, Errors: f})
		})
	}
	if secret != "" {
		return h.renderClient(w, r, c, secret, http.StatusOK)
	}
	ui.SetFlash(w, "ok", "已保存")
	http.Redirect(w, r, "/console/oidc/clients/"+url.PathEscape(id), http.StatusSeeOther)
	return nil
}

// newClientSecret replaces a confidential client's secret and shows the new
// one once.
func (h *OIDCHandler) newClientSecret(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	c, err := h.o.Client(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if c.Public() {
		return &errs.Error{Kind: errs.Conflict, Op: "identity.OIDCHandler.newClientSecret", Msg: "公开客户端没有密钥"}
	}
	secret := NewSecret()
	in := ClientInput{Name: c.Name, AuthMethod: c.AuthMethod, RedirectURIs: strings.Join(c.RedirectURIs, "\n"), PostLogoutURIs: strings.Join(c.PostLogoutURIs, "\n"),
		Scopes: c.Scopes, SubjectType: c.SubjectType, SectorID: c.SectorID, Refresh: c.Refresh, Secret: secret, Version: c.Version}
	if c.Refresh {
		in.Scopes = append(slices.Clone(in.Scopes), ScopeOffline)
	}
	if c, err = h.o.UpdateClient(r.Context(), p, c.ID, in); err != nil {
		return err
	}
	return h.renderClient(w, r, c, secret, http.StatusOK)
}

func (h *OIDCHandler) clientAction(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	var done string
	switch r.PathValue("action") {
	case "disable":
		err, done = h.o.SetClientDisabled(r.Context(), p, id, true), "已停用，该系统持有的令牌均已作废"
	case "enable":
		err, done = h.o.SetClientDisabled(r.Context(), p, id, false), "已启用"
	default:
		return &errs.Error{Kind: errs.NotFound, Op: "identity.OIDCHandler.clientAction", Msg: "操作不存在"}
	}
	if err != nil {
		return err
	}
	ui.SetFlash(w, "ok", done)
	http.Redirect(w, r, "/console/oidc/clients/"+url.PathEscape(id), http.StatusSeeOther)
	return nil
}
