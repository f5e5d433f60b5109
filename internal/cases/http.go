package cases

import (
	"embed"
	"html/template"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"yiwang/internal/calendar"
	"yiwang/internal/identity"
	"yiwang/internal/platform/authn"
	"yiwang/internal/platform/blob"
	"yiwang/internal/platform/pdfdoc"
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
	baseURL string                 // absolute URL prefix for QR codes on notices; empty: from the request
	limiter *authn.Limiter         // public progress lookups per client address
	font    func() ([]byte, error) // the CJK font PDF notices are printed in, read once when first needed; nil: no PDF
}

// SetPDFFont names the font file PDF notices are printed in (see
// pdfdoc.LoadFont). It is read when the first PDF is asked for, not at
// start-up; without a readable file, notices are printable pages only.
func (h *Handler) SetPDFFont(path string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	h.font = sync.OnceValues(func() ([]byte, error) { return pdfdoc.LoadFont(path) })
	return nil
}

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
