// Package app is the composition root: configuration → database → services
// → routes → server. It is the only package that knows every domain.
package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"yiwang/internal/calendar"
	"yiwang/internal/cases"
	"yiwang/internal/catalog"
	"yiwang/internal/config"
	"yiwang/internal/identity"
	"yiwang/internal/org"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/blob"
	"yiwang/internal/platform/outbox"
	"yiwang/internal/platform/password"
	"yiwang/internal/platform/sqldb"
	"yiwang/internal/platform/web"
	"yiwang/internal/staff"
	"yiwang/internal/ui"
)

// Version is the build's version, set with -ldflags "-X yiwang/internal/app.Version=…".
var Version = "0.1.0-dev"

// Options are the parts tests replace.
type Options struct {
	HashParams *password.Params // nil: password.Default
	Log        *slog.Logger     // nil: from config
}

// App is a wired Yiwang instance.
type App struct {
	Cfg      config.Config
	Log      *slog.Logger
	DB       *sqldb.DB
	Handler  http.Handler
	Outbox   *outbox.Worker
	Org      *org.Service
	Calendar *calendar.Service // working-day calendar (法定节假日与调休)
	Staff    *staff.Service
	Catalog  *catalog.Service
	Finder   *catalog.Finder
	Identity *identity.Service
	Cases    *cases.Service
	Blobs    *blob.Dir      // uploaded files (申请材料), content-addressed under data_dir/blobs
	OIDC     *identity.OIDC // OpenID Connect provider (SSO for the vertical systems)
	Registry *prometheus.Registry
	started  time.Time
	listen   func(network, addr string) (net.Listener, error) // nil: net.Listen; tests replace it
}

// NewLogger returns the JSON (or text) logger the configuration asks for.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// Open connects to the configured database and brings it to the current
// schema: SQLite migrates itself; PostgreSQL must be migrated with
// `yiwang migrate` (unless migrate is true), so several nodes never race.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, migrate bool) (*sqldb.DB, error) {
	db, err := sqldb.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	if db.Dialect == sqldb.SQLite || migrate {
		n, err := db.Migrate(ctx)
		if err != nil {
			db.Close()
			return nil, err
		}
		if n > 0 {
			log.Info("database migrated", "engine", db.Dialect, "migrations", n)
		}
		return db, nil
	}
	cur, latest, err := db.Versions(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if cur < latest {
		db.Close()
		return nil, fmt.Errorf("database schema is at version %d, this build needs %d: run `yiwang migrate --db …` first", cur, latest)
	}
	return db, nil
}

// New wires an App on an open, migrated database and loads reference data.
func New(ctx context.Context, cfg config.Config, db *sqldb.DB, o Options) (*App, error) {
	log := o.Log
	if log == nil {
		log = NewLogger(cfg, os.Stderr)
	}
	params, citizenParams := password.Default, password.Citizen
	if o.HashParams != nil {
		params, citizenParams = *o.HashParams, *o.HashParams
	}
	if _, err := org.LoadRegions(ctx, db, time.Now().In(ui.Shanghai).Format("2006-01-02")); err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a := &App{Cfg: cfg, Log: log, DB: db, Registry: reg, started: time.Now()}
	a.Org = org.NewService(db)
	// Working-day calendar: the embedded official schedules (a no-op when
	// already loaded), then its in-memory cache.
	if _, err := calendar.LoadSchedule(ctx, db); err != nil {
		return nil, err
	}
	a.Calendar = calendar.NewService(db, a.Org)
	if err := a.Calendar.Refresh(ctx); err != nil {
		return nil, err
	}
	a.Staff = staff.NewService(db, a.Org, password.NewHasher(params, cfg.HashSlots), staff.Settings{
		SessionTTL: cfg.SessionTTL, SessionMaxAge: cfg.SessionMaxAge, LockoutThreshold: cfg.LockoutThreshold, LockoutDuration: cfg.LockoutDuration,
	})
	a.Outbox = outbox.NewWorker(db, outbox.Options{Concurrency: cfg.OutboxWorkers, Poll: cfg.OutboxPoll, Log: log, Registerer: reg})
	a.Catalog = catalog.NewService(db, a.Org)
	if err := a.Catalog.LoadTypes(ctx); err != nil {
		return nil, err
	}
	a.Identity = identity.NewService(db, password.NewHasher(citizenParams, cfg.HashSlots), identity.OutboxSender{}, identity.Settings{
		SessionTTL: cfg.SessionTTL, SessionMaxAge: cfg.SessionMaxAge, LockoutThreshold: cfg.LockoutThreshold, LockoutDuration: cfg.LockoutDuration,
	})
	// Verification codes go through the outbox; without an SMS gateway
	// they are "delivered" to the log (the demo reads them there).
	a.Outbox.Handle(identity.TopicSMS, identity.LogSMS(log))
	mailH, err := MailHandler(cfg, log) // SMTP when smtp_addr is set, else the log
	if err != nil {
		return nil, err
	}
	a.Outbox.Handle(identity.TopicMail, mailH)
	// OIDC provider: single sign-on for the vertical systems (identity/oidc*.go).
	oidcP, err := identity.NewOIDC(ctx, db, a.Identity, identity.OIDCSettings{Issuer: cfg.BaseURL, Secret: cfg.OIDCSecret, KeyRotation: cfg.OIDCKeyRotation})
	if err != nil {
		return nil, err
	}
	a.OIDC = oidcP
	if a.Blobs, err = blob.NewDir(filepath.Join(cfg.DataDir, "blobs")); err != nil {
		return nil, err
	}
	// Cases (办件): notices to applicants go out as SMS through identity's outbox sender.
	a.Cases = cases.NewService(db, a.Calendar, a.Org, a.Catalog, a.Identity, a.Identity, cases.Settings{WarnDays: cfg.CaseWarnDays})
	a.Outbox.Handle(org.TopicDepartmentMoved, a.Staff.OnDepartmentMoved)
	a.Outbox.Handle(org.TopicDepartmentMoved, a.Catalog.OnDepartmentMoved)
	a.Outbox.Handle(org.TopicDepartmentMoved, a.Cases.OnDepartmentMoved)
	// The item search index is derived data in its own file, kept current
	// by item events. The file of the previous run serves at once while a
	// rebuild from the database runs in the background; without one (first
	// start) it is built before serving.
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "search"), 0o750); err != nil {
		return nil, err
	}
	finder, err := catalog.OpenFinder(a.Catalog, filepath.Join(cfg.DataDir, "search", "items.db"))
	if err != nil {
		return nil, err
	}
	a.Finder = finder
	if err := a.Finder.Start(ctx, log); err != nil {
		return nil, err
	}
	a.Outbox.Handle(catalog.TopicItemChanged, a.Finder.OnItemChanged)
	h, err := a.routes()
	if err != nil {
		return nil, err
	}
	a.Handler = h
	return a, nil
}

func (a *App) routes() (http.Handler, error) {
	ws := &web.Server{Log: a.Log}
	mux := http.NewServeMux()
	api := web.NewAPI(mux, Version)

	orgPages, err := org.Pages()
	if err != nil {
		return nil, err
	}
	staffPages, err := staff.Pages()
	if err != nil {
		return nil, err
	}
	staffH := staff.NewHandler(a.Staff, a.Org, staffPages, ws, a.Cfg.SecureCookies(), a.Cfg.LoginRate)
	org.NewHandler(a.Org, orgPages, ws, a.Cfg.Province).Routes(mux, api)
	calendarPages, err := calendar.Pages()
	if err != nil {
		return nil, err
	}
	calendar.NewHandler(a.Calendar, calendarPages, ws).Routes(mux, api)
	catalogPages, err := catalog.Pages()
	if err != nil {
		return nil, err
	}
	catalog.NewHandler(a.Catalog, a.Finder, catalogPages, ws, a.Cfg.BaseURL).Routes(mux, api)
	identity.APIRoutes(api, time.Now)
	identityPages, err := identity.Pages()
	if err != nil {
		return nil, err
	}
	identityH := identity.NewHandler(a.Identity, identityPages, ws, a.Cfg.SecureCookies(), a.Cfg.LoginRate)
	identityH.Routes(mux)
	casesPages, err := cases.Pages()
	if err != nil {
		return nil, err
	}
	casesH := cases.NewHandler(a.Cases, a.Identity, a.Blobs, casesPages, ws, a.Cfg.BaseURL)
	if a.Cfg.PDFFont != "" {
		if err := casesH.SetPDFFont(a.Cfg.PDFFont); err != nil {
			a.Log.Info("no PDF notices: the pdf_font cannot be read", "path", a.Cfg.PDFFont, "err", err)
		}
	}
	casesH.Routes(mux, api)
	// OIDC provider: endpoints, sign-in and consent steps, console client pages.
	oidcPages, err := identity.OIDCPages()
	if err != nil {
		return nil, err
	}
	identity.NewOIDCHandler(a.OIDC, oidcPages, ws).Routes(mux)
	identityH.SetSystems(a.OIDC)
	staffH.Routes(mux)
	staffH.ConsoleRoutes(mux, a.started, Version)

	mux.Handle("GET /static/", ui.Static())
	mux.Handle("GET /api/docs", ws.Page(web.DocsPage(api)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /readyz", ws.JSON(func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.DB.Ping(ctx); err != nil {
			a.Log.ErrorContext(ctx, "readiness check failed", "err", err)
			web.WriteProblem(w, r, &web.Problem{Type: "about:blank", Title: "Service Unavailable", Status: http.StatusServiceUnavailable, Code: "unavailable", Detail: "数据库不可用"})
			return nil
		}
		return web.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready", "database": string(a.DB.Dialect)})
	}))
	metrics := promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{})
	wantAuth := sha256.Sum256([]byte("Bearer " + a.Cfg.MetricsToken))
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		// Compare digests in constant time: neither the token's content nor
		// its length leaks through response timing.
		gotAuth := sha256.Sum256([]byte(r.Header.Get("Authorization")))
		if a.Cfg.MetricsToken != "" && subtle.ConstantTimeCompare(gotAuth[:], wantAuth[:]) != 1 {
			web.Fail(w, r, http.StatusUnauthorized, "需要访问令牌")
			return
		}
		metrics.ServeHTTP(w, r)
	})
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) { web.Fail(w, r, http.StatusNotFound, "接口不存在") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		web.Fail(w, r, http.StatusNotFound, "您访问的页面不存在")
	})

	// Routed sits inside the staff middleware, which passes on a copy of
	// the request, so that logs and metrics still learn the matched route.
	return web.Wrap(staffH.Middleware(identityH.Middleware(web.Routed(mux))), web.Options{Log: a.Log, Metrics: web.NewMetrics(a.Registry), TrustProxy: a.Cfg.TrustProxy,
		HTTPS: a.Cfg.HTTPS(), Site: ui.Site{Name: a.Cfg.SiteName, Operator: a.Cfg.Operator, Province: a.Cfg.Province},
		// Systems call these from their own origins (browser apps too); they authenticate by client or token, never by cookie.
		NoOriginCheck: identity.OIDCBackChannel}), nil
}

// Serve listens on the configured address until ctx ends, then shuts down
// gracefully: no new connections, in-flight requests get ShutdownTimeout.
// ready, if not nil, receives the bound address once listening.
func (a *App) Serve(ctx context.Context, ready func(addr string)) error {
	listen := a.listen
	if listen == nil {
		listen = net.Listen
	}
	ln, err := listen("tcp", a.Cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (config addr): %w", a.Cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	// The outbox worker and housekeeping outlive ctx until the HTTP server
	// has stopped (in-flight requests may still enqueue), and Serve waits
	// for both on every way out, an early srv.Serve failure included, so
	// nothing touches the database once Serve returns.
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var work sync.WaitGroup
	defer func() {
		stopWork()
		work.Wait()
	}()
	work.Go(func() { a.Outbox.Run(workCtx) })
	work.Go(func() { a.housekeeping(workCtx) })

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.Log.Info("listening", "addr", ln.Addr().String(), "engine", a.DB.Dialect, "version", Version)
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down", "grace", a.Cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), a.Cfg.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	// An import still writing finishes (or, past the grace, rolls back) before the database closes.
	if werr := a.Catalog.WaitImports(sctx); werr != nil && err == nil {
		return fmt.Errorf("shutdown: a catalogue import was still writing after %s; it rolls back", a.Cfg.ShutdownTimeout)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: requests still running after %s", a.Cfg.ShutdownTimeout)
	}
	return err
}

// housekeeping purges expired sessions every 10 minutes.
func (a *App) housekeeping(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if n, err := a.Staff.PurgeSessions(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("session purge failed", "err", err)
		} else if n > 0 {
			a.Log.Info("expired sessions purged", "count", n)
		}
		if n, err := a.Identity.PurgeSessions(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("citizen session purge failed", "err", err)
		} else if n > 0 {
			a.Log.Info("expired citizen sessions and codes purged", "count", n)
		}
		if n, err := a.Blobs.PurgeTemp(time.Hour); err != nil && ctx.Err() == nil {
			a.Log.Warn("blob temp purge failed", "err", err)
		} else if n > 0 {
			a.Log.Info("abandoned upload files removed", "count", n)
		}
		if n, err := a.OIDC.Purge(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("oidc purge failed", "err", err)
		} else if n > 0 {
			a.Log.Info("expired oidc requests and tokens purged", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close releases what New opened beyond the database (the search index).
func (a *App) Close() error { return a.Finder.Close() }

// Empty reports whether the database holds no departments and no staff —
// a fresh install that the demo may fill.
func (a *App) Empty(ctx context.Context) (bool, error) {
	depts, err := a.Org.CountDepartments(ctx)
	if err != nil {
		return false, err
	}
	users, err := a.Staff.CountUsers(ctx)
	if err != nil {
		return false, err
	}
	return depts == 0 && users == 0, nil
}

// SeedDemo fills an empty database with the demo province and returns the
// demo logins. It refuses a database that already has data.
func (a *App) SeedDemo(ctx context.Context) ([]staff.DemoLogin, error) {
	empty, err := a.Empty(ctx)
	if err != nil {
		return nil, err
	}
	if !empty {
		return nil, fmt.Errorf("the database already has departments or staff; the demo is only seeded into an empty database")
	}
	res, err := a.Org.SeedDemo(ctx, a.Cfg.Province)
	if err != nil {
		return nil, err
	}
	logins, err := a.Staff.SeedDemo(ctx, a.Cfg.Province, res)
	if err != nil {
		return nil, err
	}
	items, err := a.Catalog.SeedDemo(ctx, a.Cfg.Province, res.DeptIDs)
	if err != nil {
		return nil, err
	}
	citizens, err := a.Identity.SeedDemo(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range citizens {
		logins = append(logins, staff.DemoLogin{Username: c.Username, Password: c.Password, Name: c.Name, Role: identity.KindLabels[c.Kind] + "账号", Scope: c.Note, Citizen: true})
	}
	if _, err := a.Finder.Rebuild(ctx); err != nil {
		return nil, err
	}
	a.Log.Info("demo seeded", "departments", res.Departments, "halls", res.Halls, "windows", res.Windows, "staff", len(logins), "items", items)
	return logins, nil
}

// WriteDemoLogins prints the demo logins to w and saves them, readable by
// the owner only, under the data directory.
func (a *App) WriteDemoLogins(w io.Writer, logins []staff.DemoLogin) (string, error) {
	var b strings.Builder
	b.WriteString("演示账号（仅用于演示，请勿用于生产）:\n")
	for _, l := range logins {
		if !l.Citizen {
			fmt.Fprintf(&b, "  %-11s 密码 %-16s %s（%s，%s）\n", l.Username, l.Password, l.Name, l.Role, l.Scope)
		}
	}
	b.WriteString("工作台: /console/login  平台管理员首次登录需绑定身份验证器（TOTP）。\n")
	b.WriteString("群众和企业（门户 /login）:\n")
	for _, l := range logins {
		if l.Citizen {
			fmt.Fprintf(&b, "  %s 密码 %s %s（%s，%s）\n", l.Username, l.Password, l.Name, l.Role, l.Scope)
		}
	}
	fmt.Fprint(w, b.String())
	if err := os.MkdirAll(a.Cfg.DataDir, 0o750); err != nil {
		return "", err
	}
	path := filepath.Join(a.Cfg.DataDir, "demo-logins.txt")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

// SeedItems generates n realistic published items across the province's
// departments that have a credit code, for benchmarks (yiwang seed --items).
func (a *App) SeedItems(ctx context.Context, n int, seed int64) (int, error) {
	sys := &authz.Principal{UserID: "system", Name: "系统", Grants: []authz.Grant{{Role: authz.PlatformAdmin, Region: a.Cfg.Province}}}
	var depts []catalog.GenDept
	regions := map[string]bool{}
	active := true
	for page := 1; ; page++ {
		res, err := a.Org.Departments(ctx, sys, org.DeptQuery{Active: &active, Page: page, PerPage: 200})
		if err != nil {
			return 0, err
		}
		for _, d := range res.Items {
			if d.USCC != "" {
				depts = append(depts, catalog.GenDept{ID: d.ID, Region: d.Region, USCC: d.USCC})
				regions[d.Region] = true
			}
		}
		if page >= res.Pages() {
			break
		}
	}
	if len(depts) == 0 {
		return 0, fmt.Errorf("no departments with a credit code to implement items: seed the demo (yiwang seed --demo) or add departments first")
	}
	var codes []string
	for c := range regions {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	made, err := a.Catalog.SeedGenerated(ctx, catalog.Generate(n, seed, codes, depts))
	if err != nil {
		return made, err
	}
	_, err = a.Finder.Rebuild(ctx)
	return made, err
}
