package calendar

import (
	"context"
	"embed"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/web"
	"yiwang/internal/ui"
)

//go:embed templates/*.html
var templatesFS embed.FS

// Pages parses the calendar templates; a broken template fails start-up.
func Pages() (*ui.Pages, error) {
	return ui.NewPagesDir(templatesFS, "templates", template.FuncMap{
		"kindLabel":    func(k Kind) string { return k.Label() },
		"specialKinds": func() []Kind { return SpecialKinds },
		"ymd":          func(t time.Time) string { return t.Format(DateLayout) },
		"weekday":      weekdayLabel,
	})
}

var weekdays = [...]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}

func weekdayLabel(t time.Time) string { return weekdays[t.Weekday()] }

// Handler serves the calendar API and console pages.
type Handler struct {
	svc   *Service
	pages *ui.Pages
	web   *web.Server
	now   func() time.Time
}

// NewHandler returns the calendar handler.
func NewHandler(svc *Service, pages *ui.Pages, ws *web.Server) *Handler {
	return &Handler{svc: svc, pages: pages, web: ws, now: time.Now}
}

// Routes registers the calendar API and console pages.
func (h *Handler) Routes(mux *http.ServeMux, api huma.API) {
	APIRoutes(api, h.svc)
	mux.Handle("GET /console/calendar", h.web.Page(h.yearPage))
	mux.Handle("GET /console/calendar/days/new", h.web.Page(h.newDay))
	mux.Handle("POST /console/calendar/days", h.web.Page(h.createDay))
	mux.Handle("GET /console/calendar/days/{id}", h.web.Page(h.showDay))
	mux.Handle("POST /console/calendar/days/{id}", h.web.Page(h.updateDay))
	mux.Handle("POST /console/calendar/days/{id}/delete", h.web.Page(h.deleteDay))
}

// ---- JSON API ----

// DayJSON is a date as the API describes it.
type DayJSON struct {
	Date    string `json:"date" example:"2026-02-14" doc:"日期，YYYY-MM-DD"`
	Workday bool   `json:"workday" doc:"是否为工作日（含调休上班日）"`
	Kind    string `json:"kind" enum:"workday,weekend,holiday,makeup_workday" doc:"workday 工作日，weekend 周末，holiday 节假日（放假调休期间的每一天），makeup_workday 调休上班日"`
	Name    string `json:"name" example:"春节" doc:"节假日名称；调休上班日为其所属节日；普通日期为空"`
	Region  string `json:"region,omitempty" doc:"起决定作用的地方性安排所属的行政区划代码；全国安排或普通日期时省略"`
}

// AddJSON is a computed due date.
type AddJSON struct {
	Start  string `json:"start" example:"2026-02-13" doc:"起算日期（不计入）"`
	Days   int    `json:"days" example:"5" doc:"天数"`
	Unit   string `json:"unit" enum:"workday,natural" doc:"workday 工作日，natural 自然日"`
	Due    string `json:"due" example:"2026-02-26" doc:"到期日：起算日期之后的第 days 个工作日（或自然日）"`
	Region string `json:"region,omitempty" doc:"按其地方性安排计算的行政区划代码；全国时省略"`
}

type dayInput struct {
	Date   string `path:"date" maxLength:"10" example:"2026-02-14" doc:"日期，YYYY-MM-DD"`
	Region string `query:"region" maxLength:"9" doc:"行政区划代码（6 位，或 9 位乡级代码）：叠加该地区及其上级的地方性节假日安排；留空为全国安排"`
}

type dayOutput struct{ Body DayJSON }

type addInput struct {
	Start  string `query:"start" required:"true" maxLength:"10" example:"2026-02-13" doc:"起算日期，YYYY-MM-DD；从次日开始计算"`
	Days   int    `query:"days" required:"true" minimum:"0" maximum:"1000" example:"5" doc:"天数，0 到 1000。工作日为 0 时：起算日期是工作日则为当天，否则为其后第一个工作日（即办件）"`
	Unit   string `query:"unit" enum:"workday,natural" default:"workday" doc:"时限单位：workday 工作日（默认），natural 自然日"`
	Region string `query:"region" maxLength:"9" doc:"行政区划代码（6 位，或 9 位乡级代码）：叠加该地区及其上级的地方性节假日安排；留空为全国安排"`
}

type addOutput struct{ Body AddJSON }

func apiRegion(op, region string) error {
	if !ValidRegion(region) {
		return errRegion(op, "region")
	}
	return nil
}

// dateField re-labels a date parse error with the query field it came from.
func dateField(err error, field string) error {
	if e, ok := err.(*errs.Error); ok {
		return &errs.Error{Kind: e.Kind, Op: e.Op, Msg: e.Msg, Fields: map[string]string{field: e.Msg}}
	}
	return err
}

// APIRoutes registers the calendar API operations on api.
func APIRoutes(api huma.API, svc *Service) {
	const desc = "只能查询已载入国务院办公厅节假日安排的年份；其他年份返回 422（code 为 invalid），消息中列出可用的年份。"
	huma.Register(api, huma.Operation{OperationID: "get-calendar-day", Method: http.MethodGet, Path: "/api/v1/calendar/days/{date}",
		Summary: "查询某日是否为工作日", Description: desc, Tags: []string{"工作日历"}, Errors: []int{422}},
		func(ctx context.Context, in *dayInput) (*dayOutput, error) {
			const op = "calendar.api.day"
			date, err := ParseDate(in.Date)
			if err != nil {
				return nil, dateField(err, "date")
			}
			if err := apiRegion(op, in.Region); err != nil {
				return nil, err
			}
			d, err := svc.Day(ctx, in.Region, date)
			if err != nil {
				return nil, err
			}
			return &dayOutput{Body: DayJSON{Date: d.Date.Format(DateLayout), Workday: d.Workday, Kind: string(d.Kind), Name: d.Name, Region: d.Region}}, nil
		})
	huma.Register(api, huma.Operation{OperationID: "calendar-add", Method: http.MethodGet, Path: "/api/v1/calendar/add",
		Summary: "计算到期日（N 个工作日或自然日之后）",
		Description: "从起算日期的次日开始计算，返回第 days 个工作日（unit=workday）或自然日（unit=natural）。" +
			"起算日期与到期日都须在已载入的年份内。" + desc,
		Tags: []string{"工作日历"}, Errors: []int{422}},
		func(ctx context.Context, in *addInput) (*addOutput, error) {
			const op = "calendar.api.add"
			start, err := ParseDate(in.Start)
			if err != nil {
				return nil, dateField(err, "start")
			}
			if err := apiRegion(op, in.Region); err != nil {
				return nil, err
			}
			unit, err := ParseUnit(in.Unit)
			if err != nil {
				return nil, err
			}
			due, err := svc.Add(ctx, in.Region, start, in.Days, unit)
			if err != nil {
				return nil, err
			}
			return &addOutput{Body: AddJSON{Start: in.Start, Days: in.Days, Unit: string(unit), Due: due.Format(DateLayout), Region: in.Region}}, nil
		})
}

// ---- console ----

type cell struct {
	Day   int
	Date  string
	Kind  Kind
	Name  string
	Blank bool
}

type month struct {
	Month    int
	Weeks    [][7]cell
	Workdays int
}

type specialRow struct {
	Special
	RegionName string
	CanEdit    bool
}

type calcView struct {
	Start, Days, Unit string
	Due               string
	DueWeekday        string
	Asked             bool
	Errors            map[string]string
}

type yearPage struct {
	ui.Base
	Year       int
	Region     string
	RegionName string
	Years      []Year
	Info       Year
	Known      bool
	Months     []month
	Workdays   int
	Specials   []specialRow
	CanAdd     bool
	Calc       calcView
	RegionErr  string
}

var calCrumbs = []ui.Crumb{{Href: "/console", Label: "工作台"}, {Href: "/console/calendar", Label: "工作日历"}}

func (h *Handler) yearPage(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	ctx := r.Context()
	sch, err := h.svc.Schedule(ctx)
	if err != nil {
		return err
	}
	page := yearPage{Base: ui.ConsoleBase(r, "工作日历"), Years: sch.Years(), Region: strings.TrimSpace(r.FormValue("region"))}
	page.Year = h.now().In(China).Year()
	if y, err := strconv.Atoi(r.FormValue("year")); err == nil && y >= 1900 && y <= 9999 {
		page.Year = y
	}
	if !ValidRegion(page.Region) {
		page.RegionErr = errs.Message(errRegion("", "region"))
		page.Region = ""
	}
	if page.Region != "" {
		names, err := h.svc.RegionNames(ctx, []string{page.Region})
		if err != nil {
			return err
		}
		page.RegionName = names[page.Region]
	}
	for _, y := range page.Years {
		if y.Year == page.Year {
			page.Info, page.Known = y, true
		}
	}
	page.CanAdd = p.CanAny(authz.Platform) || p.CanAny(authz.ManageCalendar)
	if page.Known {
		page.Months, page.Workdays = buildMonths(sch, page.Year, page.Region)
		specials, err := h.svc.YearSpecials(ctx, page.Year, page.Region)
		if err != nil {
			return err
		}
		var codes []string
		for _, d := range specials {
			if d.Region != "" {
				codes = append(codes, d.Region)
			}
		}
		names, err := h.svc.RegionNames(ctx, codes)
		if err != nil {
			return err
		}
		for _, d := range specials {
			row := specialRow{Special: d, RegionName: "全国", CanEdit: MayEdit(p, d.Region)}
			if d.Region != "" {
				row.RegionName = names[d.Region]
				if row.RegionName == "" {
					row.RegionName = d.Region
				}
			}
			page.Specials = append(page.Specials, row)
		}
	}
	// The due-date calculator, when asked.
	c := calcView{Start: r.FormValue("start"), Days: r.FormValue("days"), Unit: r.FormValue("unit")}
	if c.Start != "" || c.Days != "" {
		c.Asked = true
		q, err := ParseAdd(page.Region, c.Start, c.Days, c.Unit)
		if err == nil {
			var due time.Time
			if due, err = sch.Add(q.Region, q.Start, q.Days, q.Unit); err == nil {
				c.Due, c.DueWeekday = due.Format(DateLayout), weekdayLabel(due)
			}
		}
		if err != nil {
			f, ok := web.FieldErrors(err)
			if !ok {
				return err
			}
			c.Errors = f
		}
	}
	if c.Unit == "" {
		c.Unit = string(WorkdayUnit)
	}
	page.Calc = c
	return h.pages.Render(w, http.StatusOK, "calendar.html", page)
}

// buildMonths lays out year as month grids, Monday first, for region.
func buildMonths(sch *Schedule, year int, region string) ([]month, int) {
	var out []month
	total := 0
	for m := time.January; m <= time.December; m++ {
		first := time.Date(year, m, 1, 0, 0, 0, 0, time.UTC)
		mv := month{Month: int(m)}
		var week [7]cell
		col := (int(first.Weekday()) + 6) % 7 // Monday = 0
		for i := range col {
			week[i] = cell{Blank: true}
		}
		for d := first; d.Month() == m; d = d.AddDate(0, 0, 1) {
			n := toNum(d)
			k, name, _ := sch.lookup(region, n)
			if k.Working() {
				mv.Workdays++
			}
			week[col] = cell{Day: d.Day(), Date: d.Format(DateLayout), Kind: k, Name: name}
			if col++; col == 7 {
				mv.Weeks = append(mv.Weeks, week)
				week, col = [7]cell{}, 0
			}
		}
		if col > 0 {
			for i := col; i < 7; i++ {
				week[i] = cell{Blank: true}
			}
			mv.Weeks = append(mv.Weeks, week)
		}
		total += mv.Workdays
		out = append(out, mv)
	}
	return out, total
}

type dayPage struct {
	ui.Base
	Day     Special // zero when adding
	Form    SpecialInput
	Errors  map[string]string
	CanEdit bool
	Region  string // region name of Day
}

func dayForm(r *http.Request) SpecialInput {
	v, _ := strconv.Atoi(r.PostFormValue("version"))
	return SpecialInput{Date: r.PostFormValue("date"), Region: r.PostFormValue("region"), Kind: Kind(r.PostFormValue("kind")),
		Name: r.PostFormValue("name"), Version: v}
}

func backTo(d Special) string {
	u := "/console/calendar?year=" + strconv.Itoa(d.Date.Year())
	if d.Region != "" {
		u += "&region=" + d.Region
	}
	return u
}

func (h *Handler) newDay(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	if !p.CanAny(authz.Platform) && !p.CanAny(authz.ManageCalendar) {
		return &errs.Error{Kind: errs.Forbidden, Op: "calendar.newDay", Msg: "您没有修改节假日安排的权限"}
	}
	form := SpecialInput{Date: r.FormValue("date"), Region: r.FormValue("region"), Kind: Holiday}
	return h.pages.Render(w, http.StatusOK, "day.html", dayPage{Base: ui.ConsoleBase(r, "添加节假日安排", calCrumbs...), Form: form, CanEdit: true})
}

func (h *Handler) createDay(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	in := dayForm(r)
	d, err := h.svc.CreateSpecial(r.Context(), p, in)
	if err != nil {
		return web.FormOr(err, func(f map[string]string) error {
			return h.pages.Render(w, http.StatusUnprocessableEntity, "day.html", dayPage{Base: ui.ConsoleBase(r, "添加节假日安排", calCrumbs...), Form: in, Errors: f, CanEdit: true})
		})
	}
	ui.SetFlash(w, "ok", "已添加 "+d.Date.Format(DateLayout)+" "+d.Kind.Label()+"（"+d.Name+"）")
	http.Redirect(w, r, backTo(d), http.StatusSeeOther)
	return nil
}

func (h *Handler) dayView(r *http.Request, p *authz.Principal, d Special) (dayPage, error) {
	page := dayPage{Base: ui.ConsoleBase(r, d.Date.Format(DateLayout)+" "+d.Name, calCrumbs...), Day: d,
		Form:    SpecialInput{Date: d.Date.Format(DateLayout), Region: d.Region, Kind: d.Kind, Name: d.Name, Version: d.Version},
		CanEdit: MayEdit(p, d.Region), Region: "全国"}
	if d.Region != "" {
		names, err := h.svc.RegionNames(r.Context(), []string{d.Region})
		if err != nil {
			return dayPage{}, err
		}
		page.Region = d.Region + " " + names[d.Region]
	}
	return page, nil
}

func (h *Handler) showDay(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	d, err := h.svc.Special(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	page, err := h.dayView(r, p, d)
	if err != nil {
		return err
	}
	return h.pages.Render(w, http.StatusOK, "day.html", page)
}

func (h *Handler) updateDay(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	in := dayForm(r)
	d, err := h.svc.UpdateSpecial(r.Context(), p, r.PathValue("id"), in)
	if err != nil {
		return web.FormOr(err, func(f map[string]string) error {
			old, gerr := h.svc.Special(r.Context(), r.PathValue("id"))
			if gerr != nil {
				return gerr
			}
			page, verr := h.dayView(r, p, old)
			if verr != nil {
				return verr
			}
			page.Form.Kind, page.Form.Name, page.Errors = in.Kind, in.Name, f
			return h.pages.Render(w, http.StatusUnprocessableEntity, "day.html", page)
		})
	}
	ui.SetFlash(w, "ok", "已保存 "+d.Date.Format(DateLayout)+" 的安排")
	http.Redirect(w, r, backTo(d), http.StatusSeeOther)
	return nil
}

func (h *Handler) deleteDay(w http.ResponseWriter, r *http.Request) error {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return err
	}
	d, err := h.svc.Special(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	v, _ := strconv.Atoi(r.PostFormValue("version"))
	if err := h.svc.DeleteSpecial(r.Context(), p, d.ID, v); err != nil {
		return err
	}
	ui.SetFlash(w, "ok", "已删除 "+d.Date.Format(DateLayout)+" 的安排")
	http.Redirect(w, r, backTo(d), http.StatusSeeOther)
	return nil
}
