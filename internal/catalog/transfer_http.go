package catalog

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"

	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/web"
	"yiwang/internal/ui"
)

// transferRoutes registers the console's import and export pages. A job's
// page is under import/jobs/ because "GET /console/items/import/{id}"
// would clash with "GET /console/items/{id}/edit" (both match
// /console/items/import/edit).
func (h *Handler) transferRoutes(mux *http.ServeMux) {
	mux.Handle("GET /console/items/import", h.web.Page(h.importForm))
	mux.Handle("POST /console/items/import", h.web.Page(h.startImport))
	mux.Handle("GET /console/items/import/jobs/{id}", h.web.Page(h.importStatus))
	mux.Handle("POST /console/items/import/jobs/{id}/cancel", h.web.Page(h.cancelImport))
	mux.Handle("GET /console/items/import/jobs/{id}/errors.csv", h.web.Page(h.importErrors))
	mux.Handle("GET /console/items/export", h.web.Page(h.export))
}

var importCrumbs = append(crumbs[:len(crumbs):len(crumbs)], ui.Crumb{Href: "/console/items/import", Label: "导入事项"})

// importPage is all that import.html sees: the upload form, or a job.
type importPage struct {
	ui.Base
	Mode    ImportMode
	Errors  map[string]string
	Job     *ImportJob
	Headers []string
	Labels  map[string]string
	MaxMB   int
	MaxRows int
}

func (h *Handler) renderImportForm(w http.ResponseWriter, r *http.Request, status int, mode ImportMode, fields map[string]string) error {
	return h.pages.Render(w, status, "import.html", importPage{Base: ui.ConsoleBase(r, "导入事项", crumbs...), Mode: mode, Errors: fields,
		Headers: Headers(), MaxMB: MaxImportBytes >> 20, MaxRows: MaxImportRows})
}

func (h *Handler) importForm(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	if !p.CanAny(authz.EditItems) {
		return p.Require(authz.EditItems, authz.Target{}, "catalog.importForm")
	}
	return h.renderImportForm(w, r, http.StatusOK, ImportAll, nil)
}

func (h *Handler) startImport(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	mode := ImportMode(r.PostFormValue("mode"))
	f, fh, err := r.FormFile("file")
	if err != nil {
		return h.renderImportForm(w, r, http.StatusUnprocessableEntity, mode, map[string]string{"file": "请选择要导入的 .xlsx 或 .csv 文件"})
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxImportBytes+1))
	if err != nil {
		return fmt.Errorf("catalog.startImport: %w", err)
	}
	job, err := h.svc.StartImport(r.Context(), p, fh.Filename, data, mode)
	switch errs.KindOf(err) {
	case errs.Invalid, errs.TooMany:
		fields, _ := web.FieldErrors(err)
		if len(fields) == 0 {
			fields = map[string]string{"_": errs.Message(err)}
		}
		return h.renderImportForm(w, r, web.StatusOf(errs.KindOf(err)), mode, fields)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/items/import/jobs/"+job.ID, http.StatusSeeOther)
	return nil
}

// job is the import job the request names, if the signed-in user may see it.
func (h *Handler) job(r *http.Request) (ImportJob, error) {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return ImportJob{}, err
	}
	return h.svc.ImportJob(r.Context(), p, r.PathValue("id"))
}

func (h *Handler) importStatus(w http.ResponseWriter, r *http.Request) error {
	job, err := h.job(r)
	if err != nil {
		return err
	}
	page := importPage{Base: ui.ConsoleBase(r, "导入结果："+job.FileName, importCrumbs...), Job: &job, Labels: ImportLabels}
	if r.Header.Get("HX-Request") == "true" {
		return h.pages.Fragment(w, http.StatusOK, "import.html", "job", page)
	}
	return h.pages.Render(w, http.StatusOK, "import.html", page)
}

// cancelImport cancels a running job and shows it again; a job that has
// ended is a 409 page saying so. The form is protected from other sites
// like every POST (web.Wrap's cross-origin check).
func (h *Handler) cancelImport(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	job, err := h.svc.CancelImport(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/items/import/jobs/"+job.ID, http.StatusSeeOther)
	return nil
}

// importErrors downloads every bad row of a job p may see as CSV
// (writeRowErrors): 行号, 列, 原因.
func (h *Handler) importErrors(w http.ResponseWriter, r *http.Request) error {
	job, err := h.job(r)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := writeRowErrors(&b, job.Errors); err != nil {
		return fmt.Errorf("catalog.importErrors: %w", err)
	}
	name := "导入有误的行-" + job.Started.In(ui.Shanghai).Format("20060102-150405") + ".csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(b.Bytes())
	return err
}

// export streams the items p may see, filtered like the console list
// (status, q), as .xlsx or .csv. CSV cells starting with = + - @ or a tab
// get an apostrophe in front so that a spreadsheet cannot run them as
// formulas (CSV injection); .xlsx cells are strings, never formulas, and
// import removes the apostrophe. A CSV goes out as it is read; should
// reading fail half-way, the response is aborted rather than left looking
// complete. A workbook is assembled first (excelize keeps large sheets in
// a temporary file), so a failure still gets an error page.
func (h *Handler) export(w http.ResponseWriter, r *http.Request) error {
	const op = "catalog.export"
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	format := Format(r.FormValue("format"))
	if format != CSV && format != XLSX {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "导出格式应为 xlsx 或 csv"}
	}
	q := ItemQuery{Status: r.FormValue("status"), Q: r.FormValue("q")}
	types, err := h.svc.Types(r.Context())
	if err != nil {
		return err
	}
	name := "事项清单-" + h.svc.now().In(ui.Shanghai).Format("20060102-150405") + "." + string(format)
	setHeaders := func() {
		ct := "text/csv; charset=utf-8"
		if format == XLSX {
			ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		w.Header().Set("Cache-Control", "no-store")
	}
	if format == XLSX {
		x, err := NewXLSXWriter(types)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if err := h.svc.ExportItems(r.Context(), p, q, func(_ Record, it Item) error { return x.Write(it) }); err != nil {
			x.Close()
			return err
		}
		setHeaders()
		if err := x.Finish(w); err != nil {
			h.web.Log.ErrorContext(r.Context(), "export failed after headers", "err", err, "request_id", web.RequestID(r.Context()))
			panic(http.ErrAbortHandler)
		}
		return nil
	}
	var cw *CSVWriter
	start := func() error {
		if cw != nil {
			return nil
		}
		setHeaders()
		cw, err = NewCSVWriter(w, types)
		return err
	}
	err = h.svc.ExportItems(r.Context(), p, q, func(_ Record, it Item) error {
		if err := start(); err != nil {
			return err
		}
		return cw.Write(it)
	})
	if err == nil {
		if err = start(); err == nil { // no items: still a header row
			err = cw.Flush()
		}
	}
	if err != nil && cw == nil {
		return err
	}
	if err != nil {
		// Often the client went away; either way the file is incomplete.
		h.web.Log.WarnContext(r.Context(), "export aborted after headers", "err", err, "request_id", web.RequestID(r.Context()))
		panic(http.ErrAbortHandler)
	}
	return nil
}
