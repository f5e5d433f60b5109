package staff

import (
	"context"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"yiwang/internal/org"
	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authn"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/web"
	"yiwang/internal/ui"
)

//go:embed templates/*.html
var templatesFS embed.FS

// Pages parses the staff templates.
func Pages() (*ui.Pages, error) {
	return ui.NewPagesDir(templatesFS, "templates", template.FuncMap{
		"roles":     func() []authz.Role { return authz.Roles },
		"roleLabel": func(r authz.Role) string { return r.Label() },
	})
}

// CookieName is the staff session cookie.
const CookieName = "yw_staff"

// Handler serves sign-in, account and staff administration pages, and the
// middleware that puts the signed-in principal in each request's context.
type Handler struct {
	svc     *Service
	orgs    *org.Service
	pages   *ui.Pages
	web     *web.Server
	secure  bool           // Secure cookies (HTTPS deployments)
	limiter *authn.Limiter // sign-in attempts per client address per minute
}

// NewHandler returns the staff handler.
func NewHandler(svc *Service, orgs *org.Service, pages *ui.Pages, ws *web.Server, secure bool, loginsPerMinute int) *Handler {
	return &Handler{svc: svc, orgs: orgs, pages: pages, web: ws, secure: secure, limiter: authn.NewLimiter(loginsPerMinute)}
}

type sessionKey struct{}

type current struct {
	session Session
	user    User
}

func currentFrom(ctx context.Context) *current {
	c, _ := ctx.Value(sessionKey{}).(*current)
	return c
}

// Middleware reads the session cookie: a fully signed-in session puts its
// principal in the context; every request gets an audit actor (the staff
// member, or anonymous) with its address and request id.
func (h *Handler) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		actor := audit.Actor{ID: "anonymous", Name: "匿名访问", IP: web.ClientIP(ctx), RequestID: web.RequestID(ctx)}
		if c, err := r.Cookie(CookieName); err == nil {
			se, u, err := h.svc.Authenticate(ctx, c.Value)
			switch {
			case err == nil:
				ctx = context.WithValue(ctx, sessionKey{}, &current{session: se, user: u})
				if se.MFAOK {
					ctx = authz.WithPrincipal(ctx, u.Principal())
					actor.ID, actor.Name = u.ID, u.DisplayName
				}
			case errs.KindOf(err) == errs.Unauthenticated:
				h.clearCookie(w)
			default:
				h.web.Log.ErrorContext(ctx, "session lookup failed", "err", err)
			}
		}
		next.ServeHTTP(w, r.WithContext(audit.WithActor(ctx, actor)))
	})
}

// Routes registers the staff routes.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.Handle("GET /console/login", h.web.Page(h.loginForm))
	mux.Handle("POST /console/login", h.web.Page(h.login))
	mux.Handle("GET /console/login/totp", h.web.Page(h.totpForm))
	mux.Handle("POST /console/login/totp", h.web.Page(h.totpSubmit))
	mux.Handle("GET /console/login/enroll", h.web.Page(h.enrollForm))
	mux.Handle("POST /console/login/enroll", h.web.Page(h.enrollSubmit))
	mux.Handle("POST /console/logout", h.web.Page(h.logout))
	mux.Handle("GET /console/account", h.web.Page(h.account))
	mux.Handle("POST /console/account/password", h.web.Page(h.changePassword))
	mux.Handle("POST /console/account/totp", h.web.Page(h.accountTOTP))
	mux.Handle("POST /console/account/sessions/{id}/revoke", h.web.Page(h.revokeSession))
	mux.Handle("GET /console/staff", h.web.Page(h.listStaff))
	mux.Handle("GET /console/staff/new", h.web.Page(h.newStaff))
	mux.Handle("POST /console/staff", h.web.Page(h.createStaff))
	mux.Handle("GET /console/staff/{id}", h.web.Page(h.showStaff))
	mux.Handle("POST /console/staff/{id}", h.web.Page(h.updateStaff))
	mux.Handle("POST /console/staff/{id}/grants", h.web.Page(h.addGrant))
	mux.Handle("POST /console/staff/{id}/grants/{gid}/delete", h.web.Page(h.removeGrant))
	mux.Handle("POST /console/staff/{id}/{action}", h.web.Page(h.staffAction))
}

func (h *Handler) setCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/", HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
}

func (h *Handler) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// allow applies the per-address sign-in rate limit.
func (h *Handler) allow(ip string) bool { return h.limiter.Allow(ip) }

// safeNext keeps redirects after sign-in inside the console.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/console") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return "/console"
}

type loginPage struct {
	ui.Base
	Username string
	Next     string
	Error    string
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) error {
	if authz.PrincipalFrom(r.Context()) != nil {
		http.Redirect(w, r, safeNext(r.FormValue("next")), http.StatusSeeOther)
		return nil
	}
	return h.pages.Render(w, http.StatusOK, "login.html", loginPage{Base: ui.ConsoleBase(r, "工作人员登录"), Next: safeNext(r.FormValue("next"))})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	username, pw, next := r.PostFormValue("username"), r.PostFormValue("password"), safeNext(r.PostFormValue("next"))
	fail := func(status int, msg string) error {
		return h.pages.Render(w, status, "login.html", loginPage{Base: ui.ConsoleBase(r, "工作人员登录"), Username: username, Next: next, Error: msg})
	}
	if !h.allow(web.ClientIP(ctx)) {
		return fail(http.StatusTooManyRequests, "登录尝试过于频繁，请稍后再试")
	}
	res, err := h.svc.Login(ctx, username, pw, web.ClientIP(ctx), r.UserAgent())
	if err != nil {
		switch errs.KindOf(err) {
		case errs.Unauthenticated:
			return fail(http.StatusUnauthorized, errs.Message(err))
		case errs.TooMany:
			return fail(http.StatusTooManyRequests, errs.Message(err))
		case errs.Forbidden:
			return fail(http.StatusForbidden, errs.Message(err))
		}
		return err
	}
	h.setCookie(w, res.Token)
	switch {
	case res.NeedEnroll:
		http.Redirect(w, r, "/console/login/enroll?next="+next, http.StatusSeeOther)
	case res.NeedTOTP:
		http.Redirect(w, r, "/console/login/totp?next="+next, http.StatusSeeOther)
	default:
		http.Redirect(w, r, next, http.StatusSeeOther)
	}
	return nil
}

// pending returns the session that passed the password but not yet TOTP.
func pending(r *http.Request) (*current, error) {
	c := currentFrom(r.Context())
	if c == nil {
		return nil, &errs.Error{Kind: errs.Unauthenticated, Op: "staff.pending", Msg: "请先登录"}
	}
	return c, nil
}

type totpPage struct {
	ui.Base
	Next   string
	Error  string
	Secret string
	URI    string
	QR     template.URL
}

func (h *Handler) totpForm(w http.ResponseWriter, r *http.Request) error {
	c, err := pending(r)
	if err != nil {
		return err
	}
	if c.session.MFAOK {
		http.Redirect(w, r, "/console", http.StatusSeeOther)
		return nil
	}
	return h.pages.Render(w, http.StatusOK, "totp.html", totpPage{Base: ui.ConsoleBase(r, "双因素认证"), Next: safeNext(r.FormValue("next"))})
}

func (h *Handler) totpSubmit(w http.ResponseWriter, r *http.Request) error {
	c, err := pending(r)
	if err != nil {
		return err
	}
	next := safeNext(r.PostFormValue("next"))
	cookie, _ := r.Cookie(CookieName)
	fresh, err := h.svc.VerifySecondFactor(r.Context(), cookie.Value, r.PostFormValue("code"))
	if err != nil {
		switch errs.KindOf(err) {
		case errs.Invalid:
			return h.pages.Render(w, http.StatusUnprocessableEntity, "totp.html", totpPage{Base: ui.ConsoleBase(r, "双因素认证"), Next: next, Error: errs.Message(err)})
		case errs.TooMany:
			h.clearCookie(w)
			return h.pages.Render(w, http.StatusTooManyRequests, "login.html", loginPage{Base: ui.ConsoleBase(r, "工作人员登录"), Username: c.user.Username, Next: next, Error: errs.Message(err)})
		}
		return err
	}
	h.setCookie(w, fresh)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (h *Handler) enrollPage(r *http.Request, u User, msg string) (totpPage, error) {
	secret, uri, err := h.svc.BeginEnrollment(r.Context(), u)
	if err != nil {
		return totpPage{}, err
	}
	png, err := qrcode.Encode(uri, qrcode.Medium, 240)
	if err != nil {
		return totpPage{}, err
	}
	return totpPage{Base: ui.ConsoleBase(r, "绑定身份验证器"), Next: safeNext(r.FormValue("next")), Error: msg, Secret: secret, URI: uri,
		QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))}, nil
}

func (h *Handler) enrollForm(w http.ResponseWriter, r *http.Request) error {
	c, err := pending(r)
	if err != nil {
		return err
	}
	if c.user.TOTPEnabled {
		http.Redirect(w, r, "/console/login/totp", http.StatusSeeOther)
		return nil
	}
	page, err := h.enrollPage(r, c.user, "")
	if err != nil {
		return err
	}
	return h.pages.Render(w, http.StatusOK, "enroll.html", page)
}

func (h *Handler) enrollSubmit(w http.ResponseWriter, r *http.Request) error {
	c, err := pending(r)
	if err != nil {
		return err
	}
	cookie, _ := r.Cookie(CookieName)
	fresh, err := h.svc.ConfirmEnrollment(r.Context(), cookie.Value, r.PostFormValue("code"))
	if err != nil {
		if errs.KindOf(err) == errs.TooMany {
			h.clearCookie(w)
			return h.pages.Render(w, http.StatusTooManyRequests, "login.html", loginPage{Base: ui.ConsoleBase(r, "工作人员登录"), Username: c.user.Username, Error: errs.Message(err)})
		}
		if errs.KindOf(err) != errs.Invalid {
			return err
		}
		u, gerr := h.svc.UserByID(r.Context(), c.user.ID)
		if gerr != nil {
			return gerr
		}
		page, perr := h.enrollPage(r, u, errs.Message(err))
		if perr != nil {
			return perr
		}
		return h.pages.Render(w, http.StatusUnprocessableEntity, "enroll.html", page)
	}
	h.setCookie(w, fresh)
	ui.SetFlash(w, "ok", "已绑定身份验证器，以后登录需输入动态验证码")
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
	return nil
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(CookieName); err == nil {
		if err := h.svc.Logout(r.Context(), c.Value); err != nil {
			return err
		}
	}
	h.clearCookie(w)
	ui.SetFlash(w, "ok", "您已安全退出")
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
	return nil
}

// signedIn returns the fully signed-in staff member.
func signedIn(r *http.Request) (*current, *authz.Principal, error) {
	p := authz.PrincipalFrom(r.Context())
	c := currentFrom(r.Context())
	if p == nil || c == nil {
		return nil, nil, &errs.Error{Kind: errs.Unauthenticated, Op: "staff.signedIn", Msg: "请先登录"}
	}
	return c, p, nil
}

type accountPage struct {
	ui.Base
	User      User
	Sessions  []Session
	CurrentID string
	Errors    map[string]string
}

func (h *Handler) renderAccount(w http.ResponseWriter, r *http.Request, status int, fields map[string]string) error {
	c, _, err := signedIn(r)
	if err != nil {
		return err
	}
	sessions, err := h.svc.Sessions(r.Context(), c.user.ID)
	if err != nil {
		return err
	}
	return h.pages.Render(w, status, "account.html", accountPage{Base: ui.ConsoleBase(r, "账号安全"), User: c.user, Sessions: sessions, CurrentID: c.session.ID, Errors: fields})
}

func (h *Handler) account(w http.ResponseWriter, r *http.Request) error {
	return h.renderAccount(w, r, http.StatusOK, nil)
}

func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request) error {
	c, _, err := signedIn(r)
	if err != nil {
		return err
	}
	next := r.PostFormValue("new")
	if next != r.PostFormValue("confirm") {
		return h.renderAccount(w, r, http.StatusUnprocessableEntity, map[string]string{"confirm": "两次输入的新密码不一致"})
	}
	if err := h.svc.ChangePassword(r.Context(), c.user, c.session.ID, r.PostFormValue("current"), next); err != nil {
		return web.FormOr(err, func(f map[string]string) error { return h.renderAccount(w, r, http.StatusUnprocessableEntity, f) })
	}
	ui.SetFlash(w, "ok", "密码已修改，其他设备上的登录已退出")
	http.Redirect(w, r, "/console/account", http.StatusSeeOther)
	return nil
}

func (h *Handler) accountTOTP(w http.ResponseWriter, r *http.Request) error {
	c, _, err := signedIn(r)
	if err != nil {
		return err
	}
	if r.PostFormValue("enable") == "true" {
		// Re-enter enrolment: the session stays signed in while enrolling.
		page, err := h.enrollPage(r, c.user, "")
		if err != nil {
			return err
		}
		return h.pages.Render(w, http.StatusOK, "enroll.html", page)
	}
	if err := h.svc.DisableTOTP(r.Context(), c.user, r.PostFormValue("password")); err != nil {
		return web.FormOr(err, func(f map[string]string) error { return h.renderAccount(w, r, http.StatusUnprocessableEntity, f) })
	}
	ui.SetFlash(w, "ok", "已关闭双因素认证")
	http.Redirect(w, r, "/console/account", http.StatusSeeOther)
	return nil
}

func (h *Handler) revokeSession(w http.ResponseWriter, r *http.Request) error {
	c, _, err := signedIn(r)
	if err != nil {
		return err
	}
	if err := h.svc.RevokeSession(r.Context(), c.user, r.PathValue("id")); err != nil {
		return err
	}
	ui.SetFlash(w, "ok", "已结束该会话")
	http.Redirect(w, r, "/console/account", http.StatusSeeOther)
	return nil
}

// ---- staff administration ----

var staffCrumbs = []ui.Crumb{{Href: "/console", Label: "工作台"}, {Href: "/console/staff", Label: "工作人员"}}

type staffListPage struct {
	ui.Base
	Q         UserQuery
	Result    org.Page[User]
	Pager     ui.Pager
	CanCreate bool
	Now       time.Time
}

func (h *Handler) listStaff(w http.ResponseWriter, r *http.Request) error {
	_, p, err := signedIn(r)
	if err != nil {
		return err
	}
	page, _ := strconv.Atoi(r.FormValue("page"))
	q := UserQuery{Q: r.FormValue("q"), Region: r.FormValue("region"), Page: page}
	res, err := h.svc.Users(r.Context(), p, q)
	if err != nil {
		return err
	}
	return h.pages.Render(w, http.StatusOK, "staff_list.html", staffListPage{Base: ui.ConsoleBase(r, "工作人员"), Q: q, Result: res,
		Pager: ui.NewPager(r, res.Page, res.Pages(), res.Total), CanCreate: p.CanAny(authz.ManageStaff), Now: h.svc.now()})
}

type staffPage struct {
	ui.Base
	User      User
	Form      UserInput
	Errors    map[string]string
	GrantForm authz.Grant
	GrantErrs map[string]string
	Depts     []org.Department
	CanManage bool
	Now       time.Time
	MayRemove map[string]bool
}

func userForm(r *http.Request) UserInput {
	v, _ := strconv.Atoi(r.PostFormValue("version"))
	return UserInput{Username: r.PostFormValue("username"), DisplayName: r.PostFormValue("display_name"), Phone: r.PostFormValue("phone"),
		Region: r.PostFormValue("region"), DeptID: r.PostFormValue("dept_id"), Password: r.PostFormValue("password"), Version: v}
}

func (h *Handler) depts(ctx context.Context, p *authz.Principal) ([]org.Department, error) {
	active := true
	res, err := h.orgs.Departments(ctx, p, org.DeptQuery{PerPage: 200, Active: &active})
	return res.Items, err
}

func (h *Handler) newStaff(w http.ResponseWriter, r *http.Request) error {
	_, p, err := signedIn(r)
	if err != nil {
		return err
	}
	if !p.CanAny(authz.ManageStaff) {
		return &errs.Error{Kind: errs.Forbidden, Op: "staff.newStaff", Msg: "您没有管理工作人员的权限"}
	}
	depts, err := h.depts(r.Context(), p)
	if err != nil {
		return err
	}
	return h.pages.Render(w, http.StatusOK, "staff_form.html", staffPage{Base: ui.ConsoleBase(r, "新建工作人员", staffCrumbs...), Depts: depts, CanManage: true})
}

func (h *Handler) createStaff(w http.ResponseWriter, r *http.Request) error {
	_, p, err := signedIn(r)
	if err != nil {
		return err
	}
	in := userForm(r)
	u, err := h.svc.CreateUser(r.Context(), p, in)
	if err != nil {
		return web.FormOr(err, func(f map[string]string) error {
			depts, derr := h.depts(r.Context(), p)
			if derr != nil {
				return derr
			}
			in.Password = ""
			return h.pages.Render(w, http.StatusUnprocessableEntity, "staff_form.html", staffPage{Base: ui.ConsoleBase(r, "新建工作人员", staffCrumbs...), Form: in, Errors: f, Depts: depts, CanManage: true})
		})
	}
	ui.SetFlash(w, "ok", "已创建账号 "+u.Username+"，请为其授予角色")
	http.Redirect(w, r, "/console/staff/"+u.ID, http.StatusSeeOther)
	return nil
}

func (h *Handler) staffView(r *http.Request, p *authz.Principal, id string) (staffPage, error) {
	u, err := h.svc.User(r.Context(), p, id)
	if err != nil {
		return staffPage{}, err
	}
	depts, err := h.depts(r.Context(), p)
	if err != nil {
		return staffPage{}, err
	}
	may := map[string]bool{}
	for _, g := range u.Grants {
		may[g.ID] = p.MayGrant(g)
	}
	return staffPage{Base: ui.ConsoleBase(r, u.DisplayName, staffCrumbs...), User: u,
		Form:      UserInput{Username: u.Username, DisplayName: u.DisplayName, Phone: u.Phone, Region: u.Region, DeptID: u.DeptID, Version: u.Version},
		GrantForm: authz.Grant{Role: authz.WindowClerk, Region: u.Region, DeptID: u.DeptID},
		Depts:     depts, CanManage: u.ManageableBy(p), Now: h.svc.now(), MayRemove: may}, nil
}

func (h *Handler) showStaff(w http.ResponseWriter, r *http.Request) error {
	_, p, err := signedIn(r)
	if err != nil {
		return err
	}
	page, err := h.staffView(r, p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.pages.Render(w, http.StatusOK, "staff_show.html", page)
}

func (h *Handler) updateStaff(w http.ResponseWriter, r *http.Request) error {
	_, p, err := signedIn(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	in := userForm(r)
	if _, err := h.svc.UpdateUser(r.Context(), p, id, in); err != nil {
		return web.FormOr(err, func(f map[string]string) error {
			page, verr := h.staffView(r, p, id)
			if verr != nil {
				return verr
			}
			page.Form, page.Errors = in, f
			return h.pages.Render(w, http.StatusUnprocessableEntity, "staff_show.html", page)
		})
	}
	ui.SetFlash(w, "ok", "已保存")
	http.Redirect(w, r, "/console/staff/"+id, http.StatusSeeOther)
	return nil
}

func (h *Handler) addGrant(w http.ResponseWriter, r *http.Request) error {
	_, p, err := signedIn(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	g := authz.Grant{Role: authz.Role(r.PostFormValue("role")), Region: r.PostFormValue("region"), DeptID: r.PostFormValue("dept_id")}
	if err := h.svc.AddGrant(r.Context(), p, id, g.Role, g.Region, g.DeptID); err != nil {
		return web.FormOr(err, func(f map[string]string) error {
			page, verr := h.staffView(r, p, id)
			if verr != nil {
				return verr
			}
			page.GrantForm, page.GrantErrs = g, f
			return h.pages.Render(w, http.StatusUnprocessableEntity, "staff_show.html", page)
		})
	}
	ui.SetFlash(w, "ok", "已授予"+g.Role.Label()+"角色")
	http.Redirect(w, r, "/console/staff/"+id+"#grants", http.StatusSeeOther)
	return nil
}

func (h *Handler) removeGrant(w http.ResponseWriter, r *http.Request) error {
	_, p, err := signedIn(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := h.svc.RemoveGrant(r.Context(), p, id, r.PathValue("gid")); err != nil {
		return err
	}
	ui.SetFlash(w, "ok", "已撤销授权")
	http.Redirect(w, r, "/console/staff/"+id+"#grants", http.StatusSeeOther)
	return nil
}

func (h *Handler) staffAction(w http.ResponseWriter, r *http.Request) error {
	_, p, err := signedIn(r)
	if err != nil {
		return err
	}
	ctx, id := r.Context(), r.PathValue("id")
	var msg string
	switch r.PathValue("action") {
	case "unlock":
		err, msg = h.svc.Unlock(ctx, p, id), "已解除锁定"
	case "disable":
		err, msg = h.svc.SetDisabled(ctx, p, id, true), "已停用账号，其登录已全部退出"
	case "enable":
		err, msg = h.svc.SetDisabled(ctx, p, id, false), "已启用账号"
	case "totp-reset":
		err, msg = h.svc.ResetTOTP(ctx, p, id), "已重置身份验证器，该账号下次登录时需重新绑定"
	case "password":
		if err = h.svc.ResetPassword(ctx, p, id, r.PostFormValue("password")); err != nil {
			return web.FormOr(err, func(f map[string]string) error {
				page, verr := h.staffView(r, p, id)
				if verr != nil {
					return verr
				}
				page.Errors = f
				return h.pages.Render(w, http.StatusUnprocessableEntity, "staff_show.html", page)
			})
		}
		msg = "已重置密码，请通过安全渠道告知本人"
	default:
		return &errs.Error{Kind: errs.NotFound, Op: "staff.staffAction", Msg: "页面不存在"}
	}
	if err != nil {
		return err
	}
	ui.SetFlash(w, "ok", msg)
	http.Redirect(w, r, "/console/staff/"+id, http.StatusSeeOther)
	return nil
}
