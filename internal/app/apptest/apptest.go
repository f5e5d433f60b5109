// Package apptest runs the real Yiwang handler in tests: a fresh database
// (every configured engine), the demo province, and HTTP clients that keep
// cookies, so scenario tests go through the same router, middleware and
// templates as production.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"yiwang/internal/app"
	"yiwang/internal/config"
	"yiwang/internal/platform/password"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// FastHash is a cheap argon2id setting for tests: real hashing, small cost.
var FastHash = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Env is one running instance.
type Env struct {
	Name   string // engine name
	App    *app.App
	Server *httptest.Server
	Logins map[string]string // demo username → password
}

// New returns an instance on eng without demo data; each configure
// function, if any, adjusts the test configuration first.
func New(t testing.TB, eng sqldbtest.Engine, configure ...func(*config.Config)) *Env {
	t.Helper()
	cfg := config.Default()
	cfg.DB = eng.DSN
	cfg.DataDir = t.TempDir()
	cfg.LoginRate = 100000 // tests sign in often from one address
	for _, f := range configure {
		f(&cfg)
	}
	a, err := app.New(context.Background(), cfg, eng.DB, app.Options{HashParams: &FastHash, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("apptest: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return &Env{Name: eng.Name, App: a, Server: srv, Logins: map[string]string{}}
}

// Demo returns an instance on eng with the demo province seeded; configure
// is as for New.
func Demo(t testing.TB, eng sqldbtest.Engine, configure ...func(*config.Config)) *Env {
	t.Helper()
	e := New(t, eng, configure...)
	logins, err := e.App.SeedDemo(context.Background())
	if err != nil {
		t.Fatalf("apptest: demo: %v", err)
	}
	for _, l := range logins {
		e.Logins[l.Username] = l.Password
	}
	return e
}

// Engines returns a demo instance per configured engine.
func Engines(t testing.TB) []*Env {
	t.Helper()
	var out []*Env
	for _, eng := range sqldbtest.Engines(t) {
		out = append(out, Demo(t, eng))
	}
	return out
}

// Client is a browser-like HTTP client of an Env: it keeps cookies and
// does not follow redirects, so tests see each response.
type Client struct {
	env *Env
	hc  *http.Client
}

// Client returns a new anonymous client.
func (e *Env) Client() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{env: e, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Response is what a request returned.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends a request; form values, when given, are posted as a form.
func (c *Client) Do(t testing.TB, method, path string, form url.Values, header http.Header) Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.env.Server.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	res, err := c.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return Response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

// Get fetches path.
func (c *Client) Get(t testing.TB, path string) Response { return c.Do(t, "GET", path, nil, nil) }

// Post posts a form to path.
func (c *Client) Post(t testing.TB, path string, form url.Values) Response {
	return c.Do(t, "POST", path, form, nil)
}

// Login signs a staff member in with username and password and fails the
// test unless the console accepts them (without a second factor).
func (e *Env) Login(t testing.TB, username, password string) *Client {
	t.Helper()
	c := e.Client()
	res := c.Post(t, "/console/login", url.Values{"username": {username}, "password": {password}})
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/console" {
		t.Fatalf("login %s: status %d, location %q, body %.300s", username, res.Status, res.Header.Get("Location"), res.Body)
	}
	return c
}

// LoginDemo signs in a demo account by name.
func (e *Env) LoginDemo(t testing.TB, username string) *Client {
	t.Helper()
	pw, ok := e.Logins[username]
	if !ok {
		t.Fatalf("no demo account %q", username)
	}
	return e.Login(t, username, pw)
}

// Scenario is one request and what its response must show.
type Scenario struct {
	Name        string
	As          string // demo username to sign in as; empty: anonymous
	Method      string
	Path        string
	Form        url.Values
	Header      http.Header
	Status      int
	Contains    []string
	NotContains []string
}

// Run performs sc against e and checks the response.
func (sc Scenario) Run(t *testing.T, e *Env) Response {
	t.Helper()
	c := e.Client()
	if sc.As != "" {
		c = e.LoginDemo(t, sc.As)
	}
	method := sc.Method
	if method == "" {
		method = "GET"
	}
	res := c.Do(t, method, sc.Path, sc.Form, sc.Header)
	if res.Status != sc.Status {
		t.Errorf("%s %s as %q: status %d, want %d; body: %.500s", method, sc.Path, sc.As, res.Status, sc.Status, res.Body)
	}
	for _, s := range sc.Contains {
		if !strings.Contains(res.Body, s) {
			t.Errorf("%s %s as %q: body lacks %q; body: %.800s", method, sc.Path, sc.As, s, res.Body)
		}
	}
	for _, s := range sc.NotContains {
		if strings.Contains(res.Body, s) {
			t.Errorf("%s %s as %q: body has %q", method, sc.Path, sc.As, s)
		}
	}
	return res
}

// Cookies returns the client's cookies for the server (for requests made
// outside the client, such as benchmarks' parallel ones).
func (c *Client) Cookies() []*http.Cookie {
	u, _ := url.Parse(c.env.Server.URL)
	return c.hc.Jar.Cookies(u)
}
