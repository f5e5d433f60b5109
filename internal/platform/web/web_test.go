package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
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
	return web.Wrap(mux, web.Options{Log: log, Metrics: web.NewMetrics(prometheus.NewRegistry())})
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
	// An API problem carries its request id and path.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/v1/echo?n=7", nil)
	req.Header.Set("X-Request-ID", "abcdefgh12345678")
	h.ServeHTTP(rec, req)
	var p map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p["request_id"] != "abcdefgh12345678" || p["instance"] != "/api/v1/echo" || p["status"] != float64(409) {
		t.Errorf("problem = %s", rec.Body.String())
	}
	// A malformed request id is replaced, not echoed.
	rec = httptest.NewRecorder()
	req = httptest.NewRequest("GET", "/page", nil)
	req.Header.Set("X-Request-ID", "<script>")
	h.ServeHTTP(rec, req)
	if id := rec.Header().Get("X-Request-ID"); id == "<script>" || len(id) < 8 {
		t.Errorf("request id = %q", id)
	}
}
