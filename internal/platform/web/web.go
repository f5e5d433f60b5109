// Package web is the HTTP platform: one error model (errs kinds → status;
// a zh-CN page for browsers, RFC 9457 problem JSON for APIs), request ids,
// JSON access logs, Prometheus metrics, security headers, cross-origin
// protection for state-changing requests, panic recovery and the huma API
// that publishes the OpenAPI 3.1 document.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"yiwang/internal/platform/errs"
	"yiwang/internal/ui"
)

// HandlerFunc either writes a response and returns nil, or writes nothing
// and returns an error.
type HandlerFunc func(http.ResponseWriter, *http.Request) error

// StatusOf maps an error kind to its HTTP status. It is the only such table.
func StatusOf(k errs.Kind) int {
	switch k {
	case errs.Invalid:
		return http.StatusUnprocessableEntity
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Conflict:
		return http.StatusConflict
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.Unauthenticated:
		return http.StatusUnauthorized
	case errs.TooMany:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem detail, with Yiwang's machine-readable
// code and per-field messages.
type Problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail"`
	Instance  string            `json:"instance,omitempty"`
	Code      string            `json:"code"`
	Fields    map[string]string `json:"fields,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

// Error makes Problem an error, so huma operations can return it.
func (p *Problem) Error() string { return p.Detail }

// GetStatus tells huma the response status.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType tells huma to send application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" {
		return "application/problem+json"
	}
	return ct
}

// ProblemOf classifies err once: user-facing kinds keep their message and
// fields; anything unclassified becomes a generic 500 whose cause is logged.
func ProblemOf(err error) (p *Problem, internal bool) {
	k := errs.KindOf(err)
	p = &Problem{Type: "about:blank", Status: StatusOf(k), Code: k.Code(), Detail: "系统繁忙，请稍后再试"}
	p.Title = http.StatusText(p.Status)
	if e, ok := errors.AsType[*errs.Error](err); ok && k != errs.Internal {
		p.Detail, p.Fields = e.Msg, e.Fields
		return p, false
	}
	return p, true
}

// Server holds what handlers adapted by it share.
type Server struct {
	Log *slog.Logger
}

// Page adapts h for browser routes: a failure renders the zh-CN error page
// (Unauthenticated on a console page redirects to the login form). A
// submitted form is parsed before h runs; one over the body limit gets 413.
func (s *Server) Page(h HandlerFunc) http.Handler {
	return s.adapt(h, func(w http.ResponseWriter, r *http.Request, p *Problem) {
		if p.Status == http.StatusUnauthorized && strings.HasPrefix(r.URL.Path, "/console") && r.Method == http.MethodGet {
			http.Redirect(w, r, "/console/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if err := ui.RenderError(w, r, p.Status, p.Detail, p.Fields); err != nil {
			s.Log.ErrorContext(r.Context(), "error page failed", "err", err)
			http.Error(w, p.Detail, p.Status)
		}
	})
}

// JSON adapts h for JSON routes outside huma: a failure becomes problem JSON.
// Submitted forms are parsed first, as for Page.
func (s *Server) JSON(h HandlerFunc) http.Handler {
	return s.adapt(h, WriteProblem)
}

func (s *Server) adapt(h HandlerFunc, write func(http.ResponseWriter, *http.Request, *Problem)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := parseForm(r); p != nil {
			write(w, r, p)
			return
		}
		err := h(w, r)
		if err == nil {
			return
		}
		p, internal := ProblemOf(err)
		if internal {
			s.Log.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "request_id", RequestID(r.Context()), "err", err)
		}
		write(w, r, p)
	})
}

// multipartMemory is how much of a multipart form is held in memory; the
// rest of its files goes to temporary files. Wrap's MaxBody bounds the total.
const multipartMemory = 1 << 20

// parseForm parses a submitted form (POST, PUT or PATCH with a form content
// type) once, before the handler runs, and returns the problem to answer
// instead when it cannot: 413 when the body is over Wrap's limit, 400 when
// it is malformed. Otherwise a handler's r.PostFormValue would swallow the
// error and see empty fields.
func parseForm(r *http.Request) *Problem {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch ct {
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case "multipart/form-data":
		err = r.ParseMultipartForm(multipartMemory)
	default:
		return nil
	}
	if err == nil {
		return nil
	}
	status, detail := http.StatusBadRequest, "提交的表单无法识别，请返回重新填写"
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		status, detail = http.StatusRequestEntityTooLarge, "提交的内容过大"
	}
	return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: errs.Invalid.Code(), Detail: detail}
}

// WriteProblem writes p as application/problem+json.
func WriteProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	p.Instance = r.URL.Path
	p.RequestID = RequestID(r.Context())
	b, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	w.Write(b)
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}

// WantsJSON reports whether r is an API request.
func WantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.Contains(r.Header.Get("Accept"), "application/json") && !strings.Contains(r.Header.Get("Accept"), "text/html")
}

// Fail writes the error response for status and a message people read,
// as a page or as problem JSON depending on r.
func Fail(w http.ResponseWriter, r *http.Request, status int, detail string) {
	if WantsJSON(r) {
		k := map[int]errs.Kind{400: errs.Invalid, 401: errs.Unauthenticated, 403: errs.Forbidden, 404: errs.NotFound,
			405: errs.Invalid, 409: errs.Conflict, 413: errs.Invalid, 422: errs.Invalid, 429: errs.TooMany}[status]
		WriteProblem(w, r, &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Code: k.Code()})
		return
	}
	if err := ui.RenderError(w, r, status, detail, nil); err != nil {
		http.Error(w, detail, status)
	}
}

type requestIDKey struct{}

// RequestID returns the id of the request in ctx: always one Wrap made,
// never one a client sent.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

func newRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Metrics are the HTTP metrics of one server.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
}

// NewMetrics registers the HTTP metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yiwang_http_requests_total", Help: "HTTP requests by route and status class."}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "yiwang_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"route", "method"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "yiwang_http_in_flight_requests", Help: "HTTP requests being served."}),
	}
	reg.MustRegister(m.requests, m.duration, m.inflight)
	return m
}

// statusWriter records the status and size written.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Options configure the middleware stack.
type Options struct {
	Log        *slog.Logger
	Metrics    *Metrics
	TrustProxy bool
	HTTPS      bool    // the public URL is https: send HSTS even where TLS ends at a proxy
	MaxBody    int64   // request body limit in bytes [8 MiB]
	Site       ui.Site // portal name and operator for every page
	// NoOriginCheck lists ServeMux patterns exempt from the cross-origin
	// check: endpoints other origins call by design and that act on no
	// cookie (the OIDC token endpoint, say).
	NoOriginCheck []string
}

// Wrap puts the middleware stack around h: request id, client address,
// recovery, access log and metrics, security headers, body limit and
// cross-origin protection.
func Wrap(h http.Handler, o Options) http.Handler {
	if o.MaxBody <= 0 {
		o.MaxBody = 8 << 20
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Fail(w, r, http.StatusForbidden, "跨站请求已被拒绝：请从本站页面提交")
	}))
	for _, p := range o.NoOriginCheck {
		cop.AddInsecureBypassPattern(p)
	}
	inner := cop.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// Our id is always our own: a client's X-Request-ID is only logged
		// beside it (when well-formed), never taken for it, so a client
		// cannot forge or collide ids in logs and audit entries.
		id := newRequestID()
		clientID := r.Header.Get("X-Request-ID")
		if !validRequestID.MatchString(clientID) {
			clientID = ""
		}
		rh := &routeHolder{}
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		ctx = context.WithValue(ctx, routeKey{}, rh)
		ctx = context.WithValue(ctx, clientIPKey{}, clientIP(r, o.TrustProxy))
		r = ui.WithSite(ui.WithRequestID(r.WithContext(ctx), id), o.Site)
		hdr := w.Header()
		hdr.Set("X-Request-ID", id)
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("Referrer-Policy", "same-origin")
		hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
		hdr.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		hdr.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		if r.TLS != nil || o.HTTPS {
			hdr.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, o.MaxBody)
		}
		sw := &statusWriter{ResponseWriter: w}
		if o.Metrics != nil {
			o.Metrics.inflight.Inc()
			defer o.Metrics.inflight.Dec()
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				o.Log.ErrorContext(ctx, "panic serving request", "path", r.URL.Path, "request_id", id, "panic", p)
				if sw.status == 0 {
					Fail(sw, r, http.StatusInternalServerError, "系统繁忙，请稍后再试")
				}
			}
			route := rh.pattern
			if route == "" {
				route = r.Pattern // the router got this very request (no Routed)
			}
			if route == "" {
				route = "unmatched"
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			d := time.Since(start)
			if o.Metrics != nil {
				o.Metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(status/100)+"xx").Inc()
				o.Metrics.duration.WithLabelValues(route, r.Method).Observe(d.Seconds())
			}
			lvl := slog.LevelInfo
			if status >= 500 {
				lvl = slog.LevelError
			}
			attrs := []any{"method", r.Method, "path", r.URL.Path, "route", route, "status", status,
				"bytes", sw.bytes, "duration_ms", float64(d.Microseconds()) / 1000, "ip", ClientIP(ctx), "request_id", id}
			if clientID != "" {
				attrs = append(attrs, "client_request_id", clientID)
			}
			o.Log.Log(ctx, lvl, "http", attrs...)
		}()
		inner.ServeHTTP(sw, r)
	})
}

type routeKey struct{}

// routeHolder carries the matched route pattern from Routed, deep inside
// the handler chain, back out to Wrap's access log and metrics.
type routeHolder struct{ pattern string }

// Routed wraps the router h (a ServeMux) so that Wrap logs and counts the
// route pattern it matched, such as "GET /regions/{code}". The mux sets
// Pattern on the *http.Request it is given; middleware between Wrap and the
// mux that calls r.WithContext hands it a copy, so Wrap's own request never
// learns the pattern. Routed copies it into a holder Wrap put in the
// context, also when the handler panics.
func Routed(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if rh, ok := r.Context().Value(routeKey{}).(*routeHolder); ok {
				rh.pattern = r.Pattern
			}
		}()
		h.ServeHTTP(w, r)
	})
}

type clientIPKey struct{}

// BaseURL is the public URL prefix for absolute links (QR codes, the OIDC
// issuer): configured when set (base_url), else the scheme and host of r,
// which only development should rely on. It has no trailing slash.
func BaseURL(r *http.Request, configured string) string {
	if configured != "" {
		return strings.TrimRight(configured, "/")
	}
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// ClientIP returns the client address recorded for the request in ctx.
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

// clientIP returns the address of r's client. Behind a trusted proxy that
// is the rightmost X-Forwarded-For entry, the one our proxy appended: every
// entry left of it came from the client and may be forged.
func clientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if vs := r.Header.Values("X-Forwarded-For"); len(vs) > 0 {
			last := vs[len(vs)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if ip := net.ParseIP(strings.TrimSpace(last)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// FieldErrors returns the messages of an Invalid error by form field ("_"
// carries the message when no field is named) and reports whether err was
// Invalid, so form handlers re-render the form instead of an error page.
func FieldErrors(err error) (map[string]string, bool) {
	e, ok := errors.AsType[*errs.Error](err)
	if !ok || e.Kind != errs.Invalid {
		return nil, false
	}
	if len(e.Fields) == 0 {
		return map[string]string{"_": e.Msg}, true
	}
	return e.Fields, true
}

// FormOr re-renders a form through render when err is Invalid and returns
// err unchanged otherwise (for the error page).
func FormOr(err error, render func(fields map[string]string) error) error {
	if f, ok := FieldErrors(err); ok {
		return render(f)
	}
	return err
}
