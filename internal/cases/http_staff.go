package cases

import "net/http"

// staffRoutes registers the console's case pages.
func (h *Handler) staffRoutes(mux *http.ServeMux) {}
