package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"

	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/web"
)

func TestStatusOfEveryKind(t *testing.T) {
	want := map[errs.Kind]int{errs.Internal: 500, errs.Invalid: 422, errs.NotFound: 404, errs.Conflict: 409, errs.Forbidden: 403, errs.Unauthenticated: 401, errs.TooMany: 429}
	for k, status := range want {
		if got := web.StatusOf(k); got != status {
			t.Errorf("StatusOf(%v) = %d, want %d", k, got, status)
		}
	}
}

func TestProblemOfHidesInternalErrors(t *testing.T) {
	p, internal := web.ProblemOf(errors.New("pq: password authentication failed for secret"))
	if !internal || p.Status != 500 || strings.Contains(p.Detail, "secret") || p.Code != "internal" {
		t.Errorf("ProblemOf(plain error) = %+v, internal %v", p, internal)
	}
	p, internal = web.ProblemOf(&errs.Error{Kind: errs.Invalid, Msg: "请检查", Fields: map[string]string{"name": "必填"}})
	if internal || p.Status != 422 || p.Detail != "请检查" || p.Fields["name"] != "必填" || p.Code != "invalid" {
		t.Errorf("ProblemOf(Invalid) = %+v", p)
	}
}

type echoIn struct {
	N int `query:"n" minimum:"1" maximum:"10"`
}

type echoOut struct{ Body struct{ N int } }

func handler(t *testing.T) http.Handler {
	return handlerWith(t, web.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// handlerWith returns the test routes wrapped with o (and fresh metrics when
// o has none).
func handlerWith(t *testing.T, o web.Options) http.Handler {
	log := o.Log
	ws := &web.Server{Log: log}
	mux := http.NewServeMux()
	api := web.NewAPI(mux, "test")
	huma.Register(api, huma.Operation{OperationID: "echo", Method: "GET", Path: "/api/v1/echo"}, func(ctx context.Context, in *echoIn) (*echoOut, error) {
		if in.N == 7 {
			return nil, &errs.Error{Kind: errs.Conflict, Msg: "七不行"}
		}
		if in.N == 8 {
			return nil, errors.New("database on fire")
		}
		out := &echoOut{}
		out.Body.N = in.N
		return out, nil
	})
	mux.Handle("GET /page", ws.Page(func(w http.ResponseWriter, r *http.Request) error {
		return &errs.Error{Kind: errs.Forbidden, Msg: "不许看"}
	}))
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	mux.Handle("POST /form", ws.Page(func(w http.ResponseWriter, r *http.Request) error { w.WriteHeader(204); return nil }))
	echo := func(w http.ResponseWriter, r *http.Request) error {
		_, err := io.WriteString(w, "name="+r.PostFormValue("name"))
		return err
	}
	mux.Handle("POST /echo", ws.Page(echo))
	mux.Handle("POST /api/echo", ws.JSON(echo))
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, web.ClientIP(r.Context())+" "+web.RequestID(r.Context()))
	})
	if o.Metrics == nil {
		o.Metrics = web.NewMetrics(prometheus.NewRegistry())
	}
	return web.Wrap(mux, o)
}

func TestErrorModelAndMiddleware(t *testing.T) {
	h := handler(t)
	tests := []struct {
		name, method, path string
		header             http.Header
		status             int
		ctype, contains    string
	}{
		{"api ok", "GET", "/api/v1/echo?n=3", nil, 200, "application/json", `"N":3`},
		{"api schema failure", "GET", "/api/v1/echo?n=99", nil, 422, "application/problem+json", `"code":"invalid"`},
		{"api domain error", "GET", "/api/v1/echo?n=7", nil, 409, "application/problem+json", "七不行"},
		{"api internal hidden", "GET", "/api/v1/echo?n=8", nil, 500, "application/problem+json", "系统繁忙"},
		{"page error", "GET", "/page", nil, 403, "text/html; charset=utf-8", "不许看"},
		{"panic recovered", "GET", "/panic", nil, 500, "text/html; charset=utf-8", "系统繁忙"},
		{"cross-origin post", "POST", "/form", http.Header{"Origin": {"https://evil.example"}}, 403, "text/html; charset=utf-8", "跨站"},
		{"same-site post", "POST", "/form", http.Header{"Sec-Fetch-Site": {"same-origin"}}, 204, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			for k, v := range tc.header {
				req.Header[k] = v
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status || !strings.HasPrefix(rec.Header().Get("Content-Type"), tc.ctype) || !strings.Contains(rec.Body.String(), tc.contains) {
				t.Errorf("%s %s = %d %q %.300s; want %d %q ∋ %q", tc.method, tc.path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String(), tc.status, tc.ctype, tc.contains)
			}
			if rec.Header().Get("X-Request-ID") == "" {
				t.Error("no X-Request-ID")
			}
		})
	}
	// An API problem carries our request id (the one in the response
	// header, not the client's) and the path.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/v1/echo?n=7", nil)
	req.Header.Set("X-Request-ID", "abcdefgh12345678")
	h.ServeHTTP(rec, req)
	var p map[string]any
	ours := rec.Header().Get("X-Request-ID")
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p["request_id"] != ours || p["instance"] != "/api/v1/echo" || p["status"] != float64(409) {
		t.Errorf("problem = %s, want request_id %q", rec.Body.String(), ours)
	}
	if ours == "abcdefgh12345678" {
		t.Errorf("X-Request-ID = the client's %q, want our own", ours)
	}
}

// TestRequestIDIsOurs checks that a client's X-Request-ID never becomes the
// request's id: ours is generated, echoed in the response and logged as
// request_id; a well-formed client id is logged as client_request_id only.
func TestRequestIDIsOurs(t *testing.T) {
	tests := []struct {
		name, clientID string
		wantLogged     bool // client_request_id in the access log
	}{
		{name: "none sent"},
		{name: "well-formed", clientID: "abcdefgh12345678", wantLogged: true},
		{name: "malformed", clientID: "<script>"},
		{name: "too short", clientID: "abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := handlerWith(t, web.Options{Log: slog.New(slog.NewJSONHandler(&logs, nil))})
			req := httptest.NewRequest("GET", "/whoami", nil)
			if tc.clientID != "" {
				req.Header.Set("X-Request-ID", tc.clientID)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			ours := rec.Header().Get("X-Request-ID")
			if len(ours) < 8 || ours == tc.clientID {
				t.Errorf("X-Request-ID = %q (client sent %q), want a fresh id of ours", ours, tc.clientID)
			}
			if _, seen, _ := strings.Cut(rec.Body.String(), " "); seen != ours {
				t.Errorf("RequestID in the handler = %q, want %q", seen, ours)
			}
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("access log %q: %v", logs.String(), err)
			}
			if line["request_id"] != ours {
				t.Errorf("logged request_id = %v, want %q", line["request_id"], ours)
			}
			got, logged := line["client_request_id"]
			if logged != tc.wantLogged || (logged && got != tc.clientID) {
				t.Errorf("logged client_request_id = %v (present %v), want %q (present %v)", got, logged, tc.clientID, tc.wantLogged)
			}
		})
	}
}

// TestClientIP checks which address is recorded: the peer's, or behind a
// trusted proxy the rightmost X-Forwarded-For entry (the one the proxy
// appended; entries left of it come from the client).
func TestClientIP(t *testing.T) {
	tests := []struct {
		name  string
		trust bool
		xff   []string
		want  string
	}{
		{name: "no proxy trusted", xff: []string{"203.0.113.9"}, want: "192.0.2.1"},
		{name: "trusted, no header", trust: true, want: "192.0.2.1"},
		{name: "trusted, one entry", trust: true, xff: []string{"203.0.113.9"}, want: "203.0.113.9"},
		{name: "client forged the left entries", trust: true, xff: []string{"6.6.6.6, 7.7.7.7, 203.0.113.9"}, want: "203.0.113.9"},
		{name: "spaces around the entry", trust: true, xff: []string{"6.6.6.6 ,  203.0.113.9 "}, want: "203.0.113.9"},
		{name: "several headers: last one's last entry", trust: true, xff: []string{"6.6.6.6", "7.7.7.7, 203.0.113.9"}, want: "203.0.113.9"},
		{name: "IPv6", trust: true, xff: []string{"6.6.6.6, 2001:db8::1"}, want: "2001:db8::1"},
		{name: "garbage falls back to the peer", trust: true, xff: []string{"203.0.113.9, not-an-ip"}, want: "192.0.2.1"},
		{name: "empty last entry falls back to the peer", trust: true, xff: []string{"203.0.113.9,"}, want: "192.0.2.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := handlerWith(t, web.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), TrustProxy: tc.trust})
			req := httptest.NewRequest("GET", "/whoami", nil) // RemoteAddr 192.0.2.1:1234
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if got, _, _ := strings.Cut(rec.Body.String(), " "); got != tc.want {
				t.Errorf("ClientIP with X-Forwarded-For %q (trust %v) = %q, want %q", tc.xff, tc.trust, got, tc.want)
			}
		})
	}
}

// TestRouteLabelSurvivesRequestCopies checks that the access log and the
// metrics name the matched route even when middleware between Wrap and the
// mux passes on a copy of the request (r.WithContext), as the staff
// session middleware does: Routed reports the pattern back to Wrap.
func TestRouteLabelSurvivesRequestCopies(t *testing.T) {
	copying := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), copyKey{}, true)))
		})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	tests := []struct {
		name, path, wantRoute string
		wantCode              string
	}{
		{name: "pattern with a wildcard", path: "/things/42", wantRoute: "GET /things/{id}", wantCode: "2xx"},
		{name: "panicking handler", path: "/boom", wantRoute: "GET /boom", wantCode: "5xx"},
		{name: "no route", path: "/nothing", wantRoute: "unmatched", wantCode: "4xx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			reg := prometheus.NewRegistry()
			h := web.Wrap(copying(web.Routed(mux)), web.Options{Log: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: web.NewMetrics(reg)})
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", tc.path, nil))
			var logged []any
			for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				var line map[string]any
				if err := json.Unmarshal([]byte(l), &line); err != nil {
					t.Fatalf("log line %q: %v", l, err)
				}
				if line["msg"] == "http" {
					logged = append(logged, line["route"])
				}
			}
			if len(logged) != 1 || logged[0] != tc.wantRoute {
				t.Errorf("access log routes = %v, want [%s]", logged, tc.wantRoute)
			}
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			var counted []string
			for _, mf := range mfs {
				if mf.GetName() != "yiwang_http_requests_total" {
					continue
				}
				for _, m := range mf.GetMetric() {
					labels := map[string]string{}
					for _, lp := range m.GetLabel() {
						labels[lp.GetName()] = lp.GetValue()
					}
					counted = append(counted, labels["route"]+" "+labels["code"])
				}
			}
			if want := tc.wantRoute + " " + tc.wantCode; len(counted) != 1 || counted[0] != want {
				t.Errorf("yiwang_http_requests_total series = %q, want [%q]", counted, want)
			}
		})
	}
}

type copyKey struct{}

// TestHSTS checks that Strict-Transport-Security goes out over TLS and,
// when the public URL is https (TLS ending at a proxy), over plain HTTP too.
func TestHSTS(t *testing.T) {
	tests := []struct {
		name       string
		https, tls bool
		want       bool
	}{
		{name: "plain HTTP, http public URL"},
		{name: "TLS to us", tls: true, want: true},
		{name: "TLS ends at the proxy, https public URL", https: true, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := handlerWith(t, web.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), HTTPS: tc.https})
			req := httptest.NewRequest("GET", "/whoami", nil)
			if tc.tls {
				req = httptest.NewRequest("GET", "https://example.test/whoami", nil)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if got := rec.Header().Get("Strict-Transport-Security") != ""; got != tc.want {
				t.Errorf("HSTS sent = %v (%q), want %v", got, rec.Header().Get("Strict-Transport-Security"), tc.want)
			}
		})
	}
}

// TestFormBodies checks that Page and JSON routes parse submitted forms up
// front: a body over the 8 MiB limit is a 413 (an error page or problem
// JSON), not a form whose fields silently read as empty.
func TestFormBodies(t *testing.T) {
	h := handler(t)
	big := strings.Repeat("很长的内容", 9<<20/15+1) // over 9 MiB of UTF-8
	multipartBody := func(value string) (string, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("name", value)
		mw.Close()
		return b.String(), mw.FormDataContentType()
	}
	small, smallType := multipartBody("张三")
	large, largeType := multipartBody(big)
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name, path, ctype, body string
		status                  int
		wantType, contains      string
	}{
		{name: "small form", path: "/echo", ctype: form, body: "name=" + url.QueryEscape("张三"), status: 200, contains: "name=张三"},
		{name: "small multipart form", path: "/echo", ctype: smallType, body: small, status: 200, contains: "name=张三"},
		{name: "9 MiB form", path: "/echo", ctype: form, body: "name=" + url.QueryEscape(big), status: 413, wantType: "text/html", contains: "提交的内容过大"},
		{name: "9 MiB multipart form", path: "/echo", ctype: largeType, body: large, status: 413, wantType: "text/html", contains: "提交的内容过大"},
		{name: "9 MiB form to a JSON route", path: "/api/echo", ctype: form, body: "name=" + url.QueryEscape(big), status: 413, wantType: "application/problem+json", contains: `"detail":"提交的内容过大"`},
		{name: "malformed form", path: "/echo", ctype: form, body: "name=%zz", status: 400, wantType: "text/html", contains: "无法识别"},
		{name: "not a form", path: "/echo", ctype: "text/plain", body: big, status: 200, contains: "name="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ctype)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status || !strings.HasPrefix(rec.Header().Get("Content-Type"), tc.wantType) || !strings.Contains(rec.Body.String(), tc.contains) {
				t.Errorf("POST %s (%d bytes) = %d %q %.200s; want %d %q ∋ %q", tc.path, len(tc.body), rec.Code, rec.Header().Get("Content-Type"), rec.Body.String(), tc.status, tc.wantType, tc.contains)
			}
		})
	}
}
