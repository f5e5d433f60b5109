package identity

import (
	"cmp"
	"context"
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authn"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/web"
	"yiwang/internal/ui"
)

// CookieName is the citizen session cookie.
const CookieName = "yiwang_citizen"

//go:embed templates/*.html
var templatesFS embed.FS

// Pages parses identity's templates.
func Pages() (*ui.Pages, error) {
	return ui.NewPagesDir(templatesFS, "templates", template.FuncMap{
		"kindLabel":    func(k Kind) string { return KindLabels[k] },
		"levelLabel":   func(l Level) string { return LevelLabels[l] },
		"methodLabel":  func(m string) string { return MethodLabels[m] },
		"outcomeLabel": func(o string) string { return OutcomeLabels[o] },
		"via": func(v string, names map[string]string) string {
			if c, ok := strings.CutPrefix(v, "sso:"); ok {
				return "单点登录：" + cmp.Or(names[c], c)
			}
			return "账号密码"
		},
	})
}

// Handler serves the citizen's sign-in and account pages.
type Handler struct {
	svc     *Service
	pages   *ui.Pages
	web     *web.Server
	secure  bool
	limiter *authn.Limiter // sign-in and code requests per address
	systems SystemLister   // the SSO provider, once mounted
}

// SetSystems lets the account page list and revoke the systems that
// signed the holder in.
func (h *Handler) SetSystems(s SystemLister) { h.systems = s }

// NewHandler returns identity's handler; perMinute bounds sign-in attempts
// and code requests per client address.
func NewHandler(svc *Service, pages *ui.Pages, ws *web.Server, secure bool, perMinute int) *Handler {
	return &Handler{svc: svc, pages: pages, web: ws, secure: secure, limiter: authn.NewLimiter(perMinute)}
}

// Middleware reads the citizen cookie and puts the Citizen in the context;
// outside the staff console the audit actor becomes the account holder,
// and whom they act for.
func (h *Handler) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(CookieName)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		se, a, err := h.svc.Authenticate(ctx, c.Value)
		switch {
		case err == nil:
			cz := &Citizen{Session: se, Account: a}
			shown := a.Name
			if se.ActingFor != "" {
				if ent, err := h.svc.Account(ctx, se.ActingFor); err == nil {
					cz.Acting = &ent
					shown = a.Name + " · " + ent.Name
				}
			}
			ctx = ui.WithCitizen(WithCitizen(ctx, cz), shown)
			if !strings.HasPrefix(r.URL.Path, "/console") {
				ctx = audit.WithActor(ctx, actorFor(ctx, a, se.ActingFor))
			}
			r = r.WithContext(ctx)
		case errs.KindOf(err) == errs.Unauthenticated:
			h.setCookie(w, "", -1)
		default:
			h.web.Log.ErrorContext(ctx, "citizen session lookup failed", "err", err)
		}
		next.ServeHTTP(w, r)
	})
}

// Routes registers the citizen pages and the staff page for in-person
// verification.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.Handle("GET /login", h.web.Page(h.loginForm))
	mux.Handle("POST /login", h.web.Page(h.login))
	mux.Handle("POST /logout", h.web.Page(h.logout))
	mux.Handle("GET /register", h.web.Page(h.registerForm))
	mux.Handle("POST /register", h.web.Page(h.register))
	mux.Handle("GET /password/reset", h.web.Page(h.resetForm))
	mux.Handle("POST /password/reset", h.web.Page(h.reset))
	mux.Handle("GET /account", h.web.Page(h.account))
	mux.Handle("POST /account/password", h.web.Page(h.changePassword))
	mux.Handle("POST /account/email", h.web.Page(h.setEmail))
	mux.Handle("POST /account/email/verify", h.web.Page(h.verifyEmail))
	mux.Handle("POST /account/email/remove", h.web.Page(h.removeEmail))
	mux.Handle("POST /account/sessions/{id}/revoke", h.web.Page(h.revokeSession))
	mux.Handle("POST /account/act", h.web.Page(h.actAs))
	mux.Handle("POST /account/systems/{client}/revoke", h.web.Page(h.revokeSystem))
	mux.Handle("POST /account/agents", h.web.Page(h.addAgent))
	mux.Handle("POST /account/agents/{id}/remove", h.web.Page(h.removeAgent))
	mux.Handle("GET /console/identity", h.web.Page(h.verifyPage))
	mux.Handle("POST /console/identity/{id}/verify", h.web.Page(h.verify))
}

func (h *Handler) setCookie(w http.ResponseWriter, token string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/", HttpOnly: true, Secure: h.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: maxAge})
}

// SafeNext keeps a post-sign-in redirect on this site: a local path only.
func SafeNext(next string) string {
	if strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n\t") && len(next) < 2000 {
		if u, err := url.Parse(next); err == nil && u.Host == "" && u.Scheme == "" {
			return next
		}
	}
	return "/account"
}

func (h *Handler) tooMany() error {
	return &errs.Error{Kind: errs.TooMany, Op: "identity.Handler", Msg: "操作过于频繁，请稍后再试"}
}

// ---- sign-in ----

type loginPage struct {
	ui.Base
	Username, Next string
	Error, Notice  string
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) error {
	next := SafeNext(r.FormValue("next"))
	reauth := r.FormValue("reauth") != ""
	if _, ok := CitizenFrom(r.Context()); ok && !reauth {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	page := loginPage{Base: ui.NewBase(r, "登录"), Next: next}
	if reauth {
		page.Notice = "该系统要求您重新验证身份，请再次登录。"
	}
	return h.pages.Render(w, http.StatusOK, "login.html", page)
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	page := loginPage{Base: ui.NewBase(r, "登录"), Username: strings.TrimSpace(r.PostFormValue("username")), Next: SafeNext(r.PostFormValue("next"))}
	if !h.limiter.Allow(web.ClientIP(ctx)) {
		page.Error = "登录尝试过于频繁，请稍后再试"
		return h.pages.Render(w, http.StatusTooManyRequests, "login.html", page)
	}
	_, token, err := h.svc.Login(ctx, page.Username, r.PostFormValue("password"), web.ClientIP(ctx), r.UserAgent())
	if err != nil {
		switch errs.KindOf(err) {
		case errs.Unauthenticated, errs.TooMany, errs.Forbidden:
			page.Error = errs.Message(err)
			return h.pages.Render(w, web.StatusOf(errs.KindOf(err)), "login.html", page)
		}
		return err
	}
	if old, err := r.Cookie(CookieName); err == nil {
		// Signing in again (a system asked for a fresh sign-in) ends the session it replaces.
		if err := h.svc.Logout(ctx, old.Value); err != nil {
			h.web.Log.WarnContext(ctx, "ending the replaced session failed", "err", err)
		}
	}
	h.setCookie(w, token, 0)
	if strings.HasPrefix(page.Next, "/oidc/") {
		// Back to a system on another origin: a redirect chain that starts
		// at this form would end there, which the page's CSP (form-action
		// 'self') forbids; a refresh is a fresh navigation.
		return h.pages.Render(w, http.StatusOK, "continue.html", page)
	}
	http.Redirect(w, r, page.Next, http.StatusSeeOther)
	return nil
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(CookieName); err == nil {
		if err := h.svc.Logout(r.Context(), c.Value); err != nil {
			return err
		}
	}
	h.setCookie(w, "", -1)
	ui.SetFlash(w, "ok", "您已安全退出")
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// ---- registration and reset ----

type registerPage struct {
	ui.Base
	Form   NewAccount
	Code   string
	Errors map[string]string
	Sent   bool // a code was just sent
}

func (h *Handler) registerForm(w http.ResponseWriter, r *http.Request) error {
	kind := Kind(r.FormValue("kind"))
	if kind != Legal {
		kind = Person
	}
	return h.pages.Render(w, http.StatusOK, "register.html", registerPage{Base: ui.NewBase(r, "注册账号"), Form: NewAccount{Kind: kind}})
}

func (h *Handler) register(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	f := r.PostForm
	page := registerPage{Base: ui.NewBase(r, "注册账号"), Code: f.Get("code"), Form: NewAccount{Kind: Kind(f.Get("kind")), Name: f.Get("name"),
		IDNumber: f.Get("id_number"), USCC: f.Get("uscc"), Phone: f.Get("phone"), LegalRep: f.Get("legal_rep"), Password: f.Get("password")}}
	render := func(status int, fields map[string]string) error {
		page.Errors, page.Form.Password = fields, ""
		return h.pages.Render(w, status, "register.html", page)
	}
	if !h.limiter.Allow(web.ClientIP(ctx)) {
		return render(http.StatusTooManyRequests, map[string]string{"_": errs.Message(h.tooMany())})
	}
	if f.Get("action") == "send_code" {
		if err := h.svc.SendCode(ctx, PurposeRegister, page.Form.Phone); err != nil {
			return formError(err, render)
		}
		page.Sent = true
		return render(http.StatusOK, nil)
	}
	if f.Get("password") != f.Get("password2") {
		return render(http.StatusUnprocessableEntity, map[string]string{"password2": "两次输入的密码不一致"})
	}
	_, token, err := h.svc.Register(ctx, page.Form, page.Code, web.ClientIP(ctx), r.UserAgent())
	if err != nil {
		return formError(err, render)
	}
	h.setCookie(w, token, 0)
	ui.SetFlash(w, "ok", "注册成功，已为您登录")
	http.Redirect(w, r, "/account", http.StatusSeeOther)
	return nil
}

// formError re-renders a form for errors people can fix (invalid input,
// limits, conflicts) and passes others on to the error page.
func formError(err error, render func(int, map[string]string) error) error {
	switch errs.KindOf(err) {
	case errs.Invalid:
		f, _ := web.FieldErrors(err)
		return render(http.StatusUnprocessableEntity, f)
	case errs.TooMany, errs.Conflict, errs.Forbidden, errs.NotFound:
		return render(web.StatusOf(errs.KindOf(err)), map[string]string{"_": errs.Message(err)})
	}
	return err
}

type resetPage struct {
	ui.Base
	Username    string // the account, for enterprises; "" for a person's own phone
	Phone, Code string
	Errors      map[string]string
	Sent        bool
}

func (h *Handler) resetForm(w http.ResponseWriter, r *http.Request) error {
	return h.pages.Render(w, http.StatusOK, "reset.html", resetPage{Base: ui.NewBase(r, "找回密码")})
}

func (h *Handler) reset(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	page := resetPage{Base: ui.NewBase(r, "找回密码"), Username: strings.TrimSpace(r.PostFormValue("username")), Phone: strings.TrimSpace(r.PostFormValue("phone")),
		Code: r.PostFormValue("code")}
	render := func(status int, fields map[string]string) error {
		page.Errors = fields
		return h.pages.Render(w, status, "reset.html", page)
	}
	if !h.limiter.Allow(web.ClientIP(ctx)) {
		return render(http.StatusTooManyRequests, map[string]string{"_": errs.Message(h.tooMany())})
	}
	if r.PostFormValue("action") == "send_code" {
		if err := h.svc.SendCodeFor(ctx, PurposeReset, page.Username, page.Phone); err != nil {
			return formError(err, render)
		}
		page.Sent = true
		return render(http.StatusOK, nil)
	}
	if r.PostFormValue("password") != r.PostFormValue("password2") {
		return render(http.StatusUnprocessableEntity, map[string]string{"password2": "两次输入的密码不一致"})
	}
	if err := h.svc.ResetPasswordOf(ctx, page.Username, page.Phone, page.Code, r.PostFormValue("password")); err != nil {
		return formError(err, render)
	}
	ui.SetFlash(w, "ok", "密码已重置，请用新密码登录")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// ---- the account page ----

type accountPage struct {
	ui.Base
	Me        *Citizen // not "Citizen": that is the layout's header name
	Sessions  []Session
	Logins    []Login
	Assurance []Assurance
	Employers []Agent // enterprises the person may act for
	Agents    []Agent // people acting for this enterprise
	Systems   []SystemGrant
	Names     map[string]string // system names by client id, for the history
	Errors    map[string]string
	Email     string // the address typed into the e-mail form, kept when it is refused
}

// signedIn returns the citizen, or sends the browser to sign in.
func signedIn(ctx context.Context) (*Citizen, error) {
	c, ok := CitizenFrom(ctx)
	if !ok {
		return nil, &errs.Error{Kind: errs.Unauthenticated, Op: "identity.signedIn", Msg: "请先登录"}
	}
	return c, nil
}

func (h *Handler) account(w http.ResponseWriter, r *http.Request) error {
	c, ok := CitizenFrom(r.Context())
	if !ok {
		http.Redirect(w, r, "/login?next=%2Faccount", http.StatusSeeOther)
		return nil
	}
	return h.renderAccount(w, r, c, http.StatusOK, nil)
}

func (h *Handler) renderAccount(w http.ResponseWriter, r *http.Request, c *Citizen, status int, fields map[string]string) error {
	ctx := r.Context()
	page := accountPage{Base: ui.NewBase(r, "我的账号"), Me: c, Errors: fields, Email: strings.TrimSpace(r.PostFormValue("email"))}
	if page.Email == "" {
		page.Email = c.Account.Email
	}
	var err error
	if page.Sessions, err = h.svc.Sessions(ctx, c.Account.ID); err != nil {
		return err
	}
	if page.Logins, err = h.svc.Logins(ctx, c.Account.ID, 20); err != nil {
		return err
	}
	if page.Assurance, err = h.svc.AssuranceHistory(ctx, c.Account.ID); err != nil {
		return err
	}
	if h.systems != nil {
		if page.Systems, err = h.systems.Systems(ctx, c.Account.ID); err != nil {
			return err
		}
		page.Names = map[string]string{}
		for _, g := range page.Systems {
			page.Names[g.ClientID] = g.ClientName
		}
	}
	if c.Account.Kind == Person {
		page.Employers, err = h.svc.Employers(ctx, c.Account.ID)
	} else {
		page.Agents, err = h.svc.Agents(ctx, c.Account.ID)
	}
	if err != nil {
		return err
	}
	return h.pages.Render(w, status, "account.html", page)
}

// accountAction runs do for the signed-in citizen and returns to the
// account page with done, or re-renders it with the error.
func (h *Handler) accountAction(w http.ResponseWriter, r *http.Request, do func(c *Citizen) error, done string) error {
	c, err := signedIn(r.Context())
	if err != nil {
		return err
	}
	if err := do(c); err != nil {
		return formError(err, func(status int, fields map[string]string) error { return h.renderAccount(w, r, c, status, fields) })
	}
	ui.SetFlash(w, "ok", done)
	http.Redirect(w, r, "/account", http.StatusSeeOther)
	return nil
}

func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request) error {
	return h.accountAction(w, r, func(c *Citizen) error {
		if r.PostFormValue("password") != r.PostFormValue("password2") {
			return &errs.Error{Kind: errs.Invalid, Op: "identity.changePassword", Msg: "两次输入的密码不一致", Fields: map[string]string{"password2": "两次输入的密码不一致"}}
		}
		return h.svc.ChangePassword(r.Context(), c.Account, c.Session.ID, r.PostFormValue("current"), r.PostFormValue("password"))
	}, "密码已修改，其他设备上的登录已退出")
}

func (h *Handler) setEmail(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if !h.limiter.Allow(web.ClientIP(ctx)) {
		return h.accountAction(w, r, func(*Citizen) error { return h.tooMany() }, "")
	}
	return h.accountAction(w, r, func(c *Citizen) error {
		if r.PostFormValue("action") == "resend" {
			return h.svc.ResendEmailCode(ctx, c.Account)
		}
		return h.svc.SetEmail(ctx, c.Account, r.PostFormValue("email"))
	}, "验证码已发送至您的电子邮箱，请查收邮件并在下方输入验证码")
}

func (h *Handler) verifyEmail(w http.ResponseWriter, r *http.Request) error {
	return h.accountAction(w, r, func(c *Citizen) error {
		return h.svc.VerifyEmail(r.Context(), c.Account, r.PostFormValue("email_code"))
	},
		"电子邮箱已验证，办件通知将同时发送到该邮箱")
}

func (h *Handler) removeEmail(w http.ResponseWriter, r *http.Request) error {
	return h.accountAction(w, r, func(c *Citizen) error { return h.svc.RemoveEmail(r.Context(), c.Account) }, "已删除电子邮箱，今后不再向其发送通知")
}

func (h *Handler) revokeSession(w http.ResponseWriter, r *http.Request) error {
	return h.accountAction(w, r, func(c *Citizen) error { return h.svc.RevokeSession(r.Context(), c.Account, r.PathValue("id")) }, "已让该设备退出登录")
}

func (h *Handler) actAs(w http.ResponseWriter, r *http.Request) error {
	legal := r.PostFormValue("legal_id")
	done := "已切换为以本人身份办事"
	if legal != "" {
		done = "已切换为以单位经办人身份办事"
	}
	return h.accountAction(w, r, func(c *Citizen) error {
		cookie, _ := r.Cookie(CookieName)
		return h.svc.ActAs(r.Context(), cookie.Value, legal)
	}, done)
}

func (h *Handler) revokeSystem(w http.ResponseWriter, r *http.Request) error {
	return h.accountAction(w, r, func(c *Citizen) error {
		if h.systems == nil {
			return &errs.Error{Kind: errs.NotFound, Op: "identity.revokeSystem", Msg: "授权不存在"}
		}
		return h.systems.RevokeSystem(r.Context(), c.Account.ID, r.PathValue("client"))
	}, "已取消对该系统的授权")
}

func (h *Handler) addAgent(w http.ResponseWriter, r *http.Request) error {
	return h.accountAction(w, r, func(c *Citizen) error {
		_, err := h.svc.AddAgent(r.Context(), c.Account, r.PostFormValue("id_number"), r.PostFormValue("name"))
		return err
	}, "已授权经办人")
}

func (h *Handler) removeAgent(w http.ResponseWriter, r *http.Request) error {
	return h.accountAction(w, r, func(c *Citizen) error { return h.svc.RemoveAgent(r.Context(), c.Account, r.PathValue("id")) }, "已解除经办人授权")
}

// ---- in-person verification (staff console) ----

type verifyPage struct {
	ui.Base
	IDNumber string
	Account  *Account
	Error    string
}

func (h *Handler) verifyPage(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	if !p.CanAny(authz.VerifyIdentity) {
		return &errs.Error{Kind: errs.Forbidden, Op: "identity.verifyPage", Msg: "您没有现场核验身份的权限"}
	}
	page := verifyPage{Base: ui.ConsoleBase(r, "现场核验身份"), IDNumber: strings.TrimSpace(r.FormValue("id_number"))}
	if page.IDNumber != "" {
		a, err := h.svc.AccountByIDNumber(r.Context(), page.IDNumber)
		switch {
		case errs.KindOf(err) == errs.NotFound:
			page.Error = "未找到该身份证号的账号，请申请人先注册"
		case err != nil:
			return err
		default:
			page.Account = &a
		}
	}
	return h.pages.Render(w, http.StatusOK, "verify.html", page)
}

func (h *Handler) verify(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	a, err := h.svc.RaiseAssurance(r.Context(), p, r.PathValue("id"), r.PostFormValue("note"))
	if err != nil {
		return err
	}
	ui.SetFlash(w, "ok", "已记录现场核验，账号实名等级为"+LevelLabels[a.Assurance])
	http.Redirect(w, r, "/console/identity?id_number="+url.QueryEscape(a.IDNumber), http.StatusSeeOther)
	return nil
}
