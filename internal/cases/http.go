package cases

import (
	"embed"
	"html/template"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"yiwang/internal/calendar"
	"yiwang/internal/identity"
	"yiwang/internal/platform/authn"
	"yiwang/internal/platform/blob"
	"yiwang/internal/platform/web"
	"yiwang/internal/ui"
)

//go:embed templates/*.html
var templatesFS embed.FS

// Pages parses the cases templates.
func Pages() (*ui.Pages, error) {
	return ui.NewPagesDir(templatesFS, "templates", template.FuncMap{
		"stateLabel":   func(s State) string { return StateLabels[s] },
		"actionLabel":  func(a Action) string { return ActionLabels[a] },
		"codeLabel":    func(c Code) string { return CodeLabels[c] },
		"alertLabel":   func(a Alert) string { return AlertLabels[a] },
		"channelLabel": func(c Channel) string { return ChannelLabels[c] },
		"unitLabel":    func(u calendar.Unit) string { return u.Label() },
		// day shows a due date (midnight UTC of a China date) as a date.
		"day": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.Format("2006-01-02")
		},
	})
}

// Handler serves the cases pages (applicant and staff) and API.
type Handler struct {
	svc     *Service
	ids     *identity.Service
	blobs   blob.Store // uploaded materials
	pages   *ui.Pages
	web     *web.Server
	baseURL string         // absolute URL prefix for QR codes on notices; empty: from the request
	limiter *authn.Limiter // public progress lookups per client address
	font    []byte         // CJK TrueType font for PDF notices; nil: no PDF
}

// SetPDFFont gives the handler the font PDF notices are printed in
// (pdfdoc.LoadFont); without one the notices are printable pages only.
func (h *Handler) SetPDFFont(font []byte) { h.font = font }

// NewHandler returns the cases handler.
func NewHandler(svc *Service, ids *identity.Service, blobs blob.Store, pages *ui.Pages, ws *web.Server, baseURL string) *Handler {
	return &Handler{svc: svc, ids: ids, blobs: blobs, pages: pages, web: ws, baseURL: baseURL, limiter: authn.NewLimiter(30)}
}

// Routes registers the cases routes: the JSON API and the applicant's
// pages (http_applicant.go), the staff console (http_staff.go).
func (h *Handler) Routes(mux *http.ServeMux, api huma.API) {
	h.apiRoutes(api)
	h.applicantRoutes(mux)
	h.staffRoutes(mux)
}
