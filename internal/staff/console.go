package staff

import (
	"net/http"
	"runtime"
	"strconv"
	"time"

	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/outbox"
	"yiwang/internal/ui"
)

// ConsoleRoutes registers the audit log and system status pages.
func (h *Handler) ConsoleRoutes(mux *http.ServeMux, started time.Time, version string) {
	mux.Handle("GET /console/audit", h.web.Page(h.auditLog))
	mux.Handle("POST /console/audit/verify", h.web.Page(h.auditVerify))
	mux.Handle("GET /console/system", h.web.Page(func(w http.ResponseWriter, r *http.Request) error { return h.system(w, r, started, version) }))
}

type auditPage struct {
	ui.Base
	Q         audit.Query
	From, To  string
	Entries   []audit.Record
	Pager     ui.Pager
	CanVerify bool
}

// parseDay reads a YYYY-MM-DD date in China time.
func parseDay(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.ParseInLocation("2006-01-02", s, ui.Shanghai)
}

func (h *Handler) auditLog(w http.ResponseWriter, r *http.Request) error {
	const op = "staff.auditLog"
	_, p, err := signedIn(r)
	if err != nil {
		return err
	}
	if !p.CanAny(authz.ViewAudit) {
		return &errs.Error{Kind: errs.Forbidden, Op: op, Msg: "您没有查看审计日志的权限"}
	}
	page, _ := strconv.Atoi(r.FormValue("page"))
	page = max(page, 1)
	q := audit.Query{Actor: r.FormValue("actor"), Action: r.FormValue("action"), TargetID: r.FormValue("target"), Limit: 50, Offset: (page - 1) * 50}
	data := auditPage{Base: ui.ConsoleBase(r, "审计日志"), From: r.FormValue("from"), To: r.FormValue("to"), CanVerify: p.CanAny(authz.Platform)}
	from, err1 := parseDay(data.From)
	to, err2 := parseDay(data.To)
	if err1 != nil || err2 != nil {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "日期格式应为 年-月-日，例如 2026-01-31"}
	}
	q.From = from
	if !to.IsZero() {
		q.To = to.AddDate(0, 0, 1)
	}
	data.Q = q
	// Entries are scoped by the region and department of their target.
	cond, args := p.Filter(authz.ViewAudit, "region_code", "dept_path", 1)
	if p.CanAny(authz.Platform) {
		cond, args = "1 = 1", nil // platform admins also see system-wide entries (sign-in failures, reference data)
	}
	entries, total, err := audit.List(r.Context(), h.svc.db, q, cond, args)
	if err != nil {
		return err
	}
	data.Entries = entries
	data.Pager = ui.NewPager(r, page, max(1, (total+49)/50), total)
	return h.pages.Render(w, http.StatusOK, "audit.html", data)
}

func (h *Handler) auditVerify(w http.ResponseWriter, r *http.Request) error {
	_, p, err := signedIn(r)
	if err != nil {
		return err
	}
	if !p.CanAny(authz.Platform) {
		return &errs.Error{Kind: errs.Forbidden, Op: "staff.auditVerify", Msg: "只有平台管理员可以校验审计链"}
	}
	rep, err := audit.Verify(r.Context(), h.svc.db)
	if err != nil {
		return err
	}
	if rep.OK {
		ui.SetFlash(w, "ok", "审计链完整：已校验 "+strconv.Itoa(rep.Chains)+" 条审计链共 "+strconv.FormatInt(rep.Entries, 10)+" 条记录")
	} else {
		ui.SetFlash(w, "error", "审计链 "+rep.Chain+" 在第 "+strconv.FormatInt(rep.BrokenAt, 10)+" 条记录处被破坏："+rep.Problem)
	}
	http.Redirect(w, r, "/console/audit", http.StatusSeeOther)
	return nil
}

type systemPage struct {
	ui.Base
	Version         string
	GoVersion       string
	Engine          string
	Started         time.Time
	Uptime          string
	Migration       int64
	LatestMigration int64
	Outbox          outbox.Stats
	Regions         int
	Dataset         string
}

func (h *Handler) system(w http.ResponseWriter, r *http.Request, started time.Time, version string) error {
	_, p, err := signedIn(r)
	if err != nil {
		return err
	}
	if !p.CanAny(authz.Platform) {
		return &errs.Error{Kind: errs.Forbidden, Op: "staff.system", Msg: "只有平台管理员可以查看系统运行状态"}
	}
	ctx := r.Context()
	data := systemPage{Base: ui.ConsoleBase(r, "系统运行"), Version: version, GoVersion: runtime.Version(), Engine: string(h.svc.db.Dialect),
		Started: started, Uptime: time.Since(started).Round(time.Second).String()}
	if data.Migration, data.LatestMigration, err = h.svc.db.Versions(ctx); err != nil {
		return err
	}
	if data.Outbox, err = outbox.Count(ctx, h.svc.db); err != nil {
		return err
	}
	if data.Dataset, data.Regions, err = h.orgs.Dataset(ctx); err != nil {
		return err
	}
	return h.pages.Render(w, http.StatusOK, "system.html", data)
}
