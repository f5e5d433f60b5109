package cases

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// apiRoutes registers /api/v1/cases.
func (h *Handler) apiRoutes(api huma.API) {}

// applicantRoutes registers the applicant's pages.
func (h *Handler) applicantRoutes(mux *http.ServeMux) {}
