package cases

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	stdpng "image/png"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	qrcode "github.com/skip2/go-qrcode"

	"yiwang/internal/calendar"
	"yiwang/internal/catalog"
	"yiwang/internal/identity"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/blob"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/pdfdoc"
	"yiwang/internal/platform/sqldb"
	"yiwang/internal/platform/web"
	"yiwang/internal/ui"
)

// staffRoutes registers the console's case pages.
func (h *Handler) staffRoutes(mux *http.ServeMux) {
	mux.Handle("GET /console/cases", h.web.Page(h.queue))
	mux.Handle("POST /console/cases/batch", h.web.Page(h.batch))
	mux.Handle("GET /console/cases/batch", http.HandlerFunc(backToQueue))
	mux.Handle("GET /console/cases/new", h.web.Page(h.newWalkIn))
	mux.Handle("POST /console/cases/new", h.web.Page(h.registerWalkIn))
	mux.Handle("GET /console/cases/overdue", h.web.Page(h.overdue))
	mux.Handle("GET /console/cases/{id}", h.web.Page(h.showCase))
	mux.Handle("POST /console/cases/{id}/act", h.web.Page(h.act))
	mux.Handle("GET /console/cases/{id}/notice/{kind}", h.web.Page(h.notice))
	mux.Handle("GET /console/cases/{id}/notice/{kind}/pdf", h.web.Page(h.noticePDF))
	if h.blobs != nil {
		mux.Handle("POST /console/cases/{id}/materials", h.web.Page(h.scan))
		mux.Handle("GET /console/cases/{id}/materials/{mid}", h.web.Page(h.staffDownload))
	}
}

var staffCrumbs = []ui.Crumb{{Href: "/console", Label: "工作台"}, {Href: "/console/cases", Label: "办件受理与办理"}}

// staff returns the signed-in staff member, who must hold perm somewhere.
func staff(r *http.Request, perm authz.Perm) (*authz.Principal, error) {
	p, err := authz.SignedIn(r.Context())
	if err != nil {
		return nil, err
	}
	if !p.CanAny(perm) {
		msg := "您没有查看办件的权限"
		if perm == authz.AcceptCases {
			msg = "您没有窗口收件的权限"
		}
		return nil, &errs.Error{Kind: errs.Forbidden, Op: "cases.staff", Msg: msg}
	}
	return p, nil
}

func alertClass(a Alert) string {
	switch a {
	case AlertRed:
		return "badge badge-danger"
	case AlertYellow:
		return "badge badge-warn"
	case AlertNone:
		return "badge badge-ok"
	}
	return "badge badge-off"
}

// alertView is how the alert of c shows: closed cases have none, and a
// case sent back for correction before acceptance has no clock yet.
func alertView(c Case, a Alert) (text, class string) {
	switch {
	case c.State.Final():
		return "—", ""
	case c.AcceptedAt.IsZero() && c.State != Submitted:
		return "未开始计时", "badge badge-off"
	}
	return AlertLabels[a], alertClass(a)
}

// cnDay writes a moment as a China date; cnDue a due date (already a date).
func cnDay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(calendar.China).Format("2006年1月2日")
}

func cnDue(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006年1月2日")
}

// ---- work queue ----

type option struct{ Value, Label string }

type queueRow struct {
	Case
	Alert      Alert
	AlertText  string
	AlertClass string
	Left       int
}

type batchResult struct {
	ID, Number string
	OK         bool
	Msg        string
}

type queuePage struct {
	ui.Base
	Q           Query
	Rows        []queueRow
	Pager       ui.Pager
	States      []option
	Alerts      []option
	Batch       []option
	Pickup      bool // the pickup list (待出件): decided cases, by decision date
	Results     []batchResult
	Done        int
	Failed      int
	Filter      template.URL // the filters as a query string, for the batch form
	Error       string
	CanRegister bool
}

// parseQuery reads the queue's filters; a value the queue does not know is
// Invalid rather than silently dropped.
func parseQuery(v url.Values) (Query, error) {
	const op = "cases.parseQuery"
	page, _ := strconv.Atoi(v.Get("page"))
	q := Query{State: v.Get("state"), Alert: Alert(v.Get("alert")), Q: strings.TrimSpace(v.Get("q")), Page: max(page, 1)}
	if q.State == "" {
		q.State = "open"
	}
	if q.State != "open" && q.State != "all" && q.State != ToDeliverFilter && (!slices.Contains(States, State(q.State)) || q.State == string(Draft)) {
		return q, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "无效的状态筛选"}
	}
	if q.Alert != AlertNone && q.Alert != AlertYellow && q.Alert != AlertRed {
		return q, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "无效的时限筛选"}
	}
	if utf8.RuneCountInString(q.Q) > sqldb.MaxSearch || !utf8.ValidString(q.Q) {
		return q, &errs.Error{Kind: errs.Invalid, Op: op, Msg: fmt.Sprintf("搜索内容不能超过%d个字", sqldb.MaxSearch)}
	}
	return q, nil
}

func (h *Handler) queue(w http.ResponseWriter, r *http.Request) error {
	p, err := staff(r, authz.ViewCases)
	if err != nil {
		return err
	}
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		return err
	}
	return h.renderQueue(w, r, p, q, http.StatusOK, nil, "")
}

func (h *Handler) renderQueue(w http.ResponseWriter, r *http.Request, p *authz.Principal, q Query, status int, results []batchResult, msg string) error {
	ctx := r.Context()
	list, total, err := h.svc.Queue(ctx, p, q)
	if err != nil {
		return err
	}
	page := queuePage{Base: ui.ConsoleBase(r, "办件受理与办理", staffCrumbs[0]), Q: q, Results: results, Error: msg,
		CanRegister: p.CanAny(authz.AcceptCases),
		Pager:       ui.NewPager(r, q.Page, max(1, (total+49)/50), total),
		States:      []option{{"open", "办理中（全部未办结）"}, {ToDeliverFilter, "待出件（已办结待送达）"}, {"all", "全部"}},
		Alerts:      []option{{"", "全部时限"}, {string(AlertYellow), AlertLabels[AlertYellow]}, {string(AlertRed), AlertLabels[AlertRed]}}}
	fv := url.Values{}
	for k, v := range map[string]string{"state": q.State, "alert": string(q.Alert), "q": q.Q} {
		if v != "" {
			fv.Set(k, v)
		}
	}
	page.Filter = template.URL(fv.Encode())
	for _, s := range States[1:] {
		page.States = append(page.States, option{string(s), StateLabels[s]})
	}
	for _, res := range results {
		if res.OK {
			page.Done++
		} else {
			page.Failed++
		}
	}
	page.Pickup = q.State == ToDeliverFilter
	if p.CanAny(authz.AcceptCases) && !page.Pickup {
		page.Batch = append(page.Batch, option{string(Accept), "批量受理"})
	}
	if p.CanAny(authz.HandleCases) && !page.Pickup {
		page.Batch = append(page.Batch, option{string(Advance), "批量转下一环节"})
	}
	for _, c := range list {
		a, left, err := h.svc.AlertOf(ctx, c)
		if err != nil {
			return err
		}
		row := queueRow{Case: c, Alert: a, Left: left}
		row.AlertText, row.AlertClass = alertView(c, a)
		page.Rows = append(page.Rows, row)
	}
	return h.pages.Render(w, status, "staff_queue.html", page)
}

// maxBatch bounds one batch: a page of the queue.
const maxBatch = 50

// batch applies one action to the selected cases, each in its own
// transaction with the version its row showed, and reports every case:
// which succeeded and which did not, and why.
func (h *Handler) batch(w http.ResponseWriter, r *http.Request) error {
	p, err := staff(r, authz.ViewCases)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return &errs.Error{Kind: errs.Invalid, Op: "cases.batch", Msg: "表单无法解析", Err: err}
	}
	q, err := parseQuery(r.URL.Query()) // the queue's filters ride on the form's action URL
	if err != nil {
		return err
	}
	a := Action(r.PostFormValue("action"))
	sel := r.PostForm["sel"]
	switch {
	case !slices.Contains(batchActions, a):
		return h.renderQueue(w, r, p, q, http.StatusUnprocessableEntity, nil, "请选择可以批量执行的操作（受理或转下一环节）")
	case len(sel) == 0:
		return h.renderQueue(w, r, p, q, http.StatusUnprocessableEntity, nil, "请先勾选要处理的办件")
	case len(sel) > maxBatch:
		return h.renderQueue(w, r, p, q, http.StatusUnprocessableEntity, nil, fmt.Sprintf("一次最多批量处理%d件", maxBatch))
	}
	ctx := r.Context()
	var results []batchResult
	seen := map[string]bool{}
	var firstKind errs.Kind
	for _, s := range sel {
		id, v, _ := strings.Cut(s, "@")
		version, verr := strconv.Atoi(v)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		res := batchResult{ID: id}
		var c Case
		if verr != nil {
			err = &errs.Error{Kind: errs.Invalid, Op: "cases.batch", Msg: "办件版本无效，请刷新后重试"}
		} else {
			c, err = h.svc.StaffAct(ctx, p, id, a, Input{}, version)
		}
		if err == nil {
			res.OK, res.Number = true, c.Number
			res.Msg = ActionLabels[a] + "成功"
			if a == Advance {
				res.Msg = "已转入“" + c.StepName() + "”环节"
				if c.AtDeptID != c.DeptID {
					res.Msg += "，由" + c.AtDeptName + "办理"
				}
			}
		} else {
			if errs.KindOf(err) == errs.Internal {
				return err
			}
			if firstKind == errs.Internal {
				firstKind = errs.KindOf(err)
			}
			res.Msg = errs.Message(err)
			if cur, gerr := h.svc.Get(ctx, p, id); gerr == nil {
				res.Number = cur.Number
			} else {
				res.Number = "（无法查看的办件）"
			}
		}
		results = append(results, res)
	}
	status := http.StatusOK
	if len(results) > 0 && !slices.ContainsFunc(results, func(b batchResult) bool { return b.OK }) {
		status = web.StatusOf(firstKind)
	}
	return h.renderQueue(w, r, p, q, status, results, "")
}

// backToQueue sends a reload of the batch report (its pager's links) back
// to the queue with the same filters.
func backToQueue(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/console/cases?"+r.URL.RawQuery, http.StatusSeeOther)
}

// ---- the case page ----

type kv struct{ Key, Value string }

type materialRow struct {
	Material
	SizeText string
}

type actionForm struct {
	Action                  Action
	Label                   string
	Opinion, Items, Days    bool // which inputs the action takes
	By, Delivery            bool
	OpinionRequired         bool
	ItemsLabel, OpinionHint string
	Danger                  bool
	Errors                  map[string]string
	Values                  map[string]string
}

type noticeLink struct {
	Kind  Notice
	Title string
}

type casePage struct {
	ui.Base
	Case          Case
	ApplicantKind string
	Form          []kv
	Materials     []materialRow
	Events        []Event
	Alert         Alert
	AlertText     string
	AlertClass    string
	Left          int
	Actions       []actionForm
	Notices       []noticeLink
	ScanNames     []string // the names a scanned material may have, when p may add one
	SupplyLate    bool     // 容缺 materials are owed past their date
	Error         string
	// DeliveryMethods are the choices of the delivery form.
	DeliveryMethods []option
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d 字节", n)
}

// formFor describes the inputs action a takes.
func formFor(a Action) actionForm {
	f := actionForm{Action: a, Label: ActionLabels[a], Opinion: true, OpinionRequired: NeedsOpinion(a), OpinionHint: "办理意见"}
	switch a {
	case Refuse:
		f.Danger, f.OpinionHint = true, "不予受理的理由（将写入不予受理决定书）"
	case Deny:
		f.Danger, f.OpinionHint = true, "不予许可的理由（将写入办结通知书）"
	case Revoke:
		f.Danger, f.OpinionHint = true, "撤销的理由"
	case RequestFix:
		f.Items, f.ItemsLabel, f.OpinionHint = true, "需要补正的全部内容（每行一项，一次性告知）", "补正说明"
	case AcceptTolerant:
		f.Items, f.By, f.ItemsLabel = true, true, "容缺后补的材料（每行一项）"
	case Extend:
		f.Days, f.OpinionHint = true, "延期理由（经负责人批准）"
	case SpecialStart:
		f.OpinionHint = "特别程序的种类和理由（听证、检验检测、专家评审等）"
	case Approve:
		f.OpinionHint = "办理意见（将写入办结通知书）"
	case Deliver:
		f.Delivery, f.OpinionHint = true, "送达说明"
	}
	return f
}

func (h *Handler) showCase(w http.ResponseWriter, r *http.Request) error {
	p, err := staff(r, authz.ViewCases)
	if err != nil {
		return err
	}
	return h.renderCase(w, r, p, http.StatusOK, "", nil)
}

// scan adds a scanned material to a case (a window clerk scanning what a
// walk-in brought, or a handler adding what arrived on paper).
func (h *Handler) scan(w http.ResponseWriter, r *http.Request) error {
	p, err := staff(r, authz.ViewCases)
	if err != nil {
		return err
	}
	ctx := r.Context()
	c, err := h.svc.Get(ctx, p, r.PathValue("id"))
	if err != nil {
		return err
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	var refuse error
	if !Scannable(p, c) {
		refuse = &errs.Error{Kind: errs.Conflict, Op: "cases.Handler.scan", Msg: fmt.Sprintf("办件当前为“%s”，您不能再为其上传材料", StateLabels[c.State])}
	}
	err = h.putUpload(ctx, c, name, r, refuse, func(b blob.Blob) error {
		_, err := h.svc.ScanMaterial(ctx, p, c.ID, name, b)
		return err
	})
	return uploaded(w, r, name, err, "/console/cases/"+url.PathEscape(c.ID)+"#materials")
}

func (h *Handler) staffDownload(w http.ResponseWriter, r *http.Request) error {
	p, err := staff(r, authz.ViewCases)
	if err != nil {
		return err
	}
	m, err := h.svc.StaffMaterial(r.Context(), p, r.PathValue("id"), r.PathValue("mid"))
	if err != nil {
		return err
	}
	return h.serveMaterial(w, r, m)
}

// renderCase shows case id; failed, if any, is the action form that was
// refused, with its errors and the values entered.
func (h *Handler) renderCase(w http.ResponseWriter, r *http.Request, p *authz.Principal, status int, msg string, failed *actionForm) error {
	ctx := r.Context()
	c, err := h.svc.Get(ctx, p, r.PathValue("id"))
	if err != nil {
		return err
	}
	d, err := h.svc.DetailOf(ctx, c)
	if err != nil {
		return err
	}
	evs, mats, a, left := d.Events, d.Materials, d.Alert, d.Left
	title := c.ItemName
	if c.Number != "" {
		title = "办件 " + c.Number
	}
	page := casePage{Base: ui.ConsoleBase(r, title, staffCrumbs...), Case: c, ApplicantKind: identity.KindLabels[identity.Kind(c.ApplicantKind)],
		Events: evs, Alert: a, Left: left, Error: msg}
	page.AlertText, page.AlertClass = alertView(c, a)
	for _, m := range DeliveryMethods {
		page.DeliveryMethods = append(page.DeliveryMethods, option{string(m), DeliveryLabels[m]})
	}
	page.SupplyLate = len(c.Outstanding) > 0 && !c.SupplyBy.IsZero() && calendar.DateOf(h.svc.now()).After(c.SupplyBy)
	for k, v := range c.Form {
		page.Form = append(page.Form, kv{k, v})
	}
	sort.Slice(page.Form, func(i, j int) bool { return page.Form[i].Key < page.Form[j].Key })
	for _, m := range mats {
		page.Materials = append(page.Materials, materialRow{Material: m, SizeText: humanSize(m.Size)})
	}
	for _, act := range StaffActions(p, c) {
		f := formFor(act)
		if act == Deliver && c.DeliveredAt.IsZero() { // as the applicant asked
			f.Values = map[string]string{"method": string(c.Result.How()), "recipient": c.ApplicantName}
		}
		if failed != nil && failed.Action == act {
			f.Errors, f.Values = failed.Errors, failed.Values
		}
		page.Actions = append(page.Actions, f)
	}
	for _, n := range Notices(c) {
		page.Notices = append(page.Notices, noticeLink{n, NoticeTitles[n]})
	}
	if h.blobs != nil && Scannable(p, c) {
		if page.ScanNames, err = h.svc.uploadNames(ctx, c); err != nil {
			return err
		}
	}
	return h.pages.Render(w, status, "staff_case.html", page)
}

// parseInput reads an action form; problems are returned per field.
func parseInput(r *http.Request) (Input, map[string]string) {
	in := Input{Opinion: r.PostFormValue("opinion"), Deliver: Delivery{Method: DeliveryMethod(r.PostFormValue("method")),
		Recipient: r.PostFormValue("recipient"), Tracking: r.PostFormValue("tracking")}}
	fields := map[string]string{}
	for line := range strings.Lines(r.PostFormValue("items")) {
		if line = strings.TrimSpace(line); line != "" {
			in.Items = append(in.Items, line)
		}
	}
	if d := strings.TrimSpace(r.PostFormValue("days")); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil {
			fields["days"] = "请填写整数天数"
		}
		in.Days = n
	}
	if b := strings.TrimSpace(r.PostFormValue("by")); b != "" {
		t, err := time.ParseInLocation(calendar.DateLayout, b, calendar.China)
		if err != nil {
			fields["by"] = "请按“年-月-日”填写日期"
		}
		in.By = t
	}
	if len(fields) > 0 {
		return in, fields
	}
	return in, nil
}

func (h *Handler) act(w http.ResponseWriter, r *http.Request) error {
	p, err := staff(r, authz.ViewCases)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	a := Action(r.PostFormValue("action"))
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	in, fields := parseInput(r)
	failed := &actionForm{Action: a, Values: map[string]string{}}
	for _, k := range []string{"opinion", "items", "days", "by", "method", "recipient", "tracking"} {
		failed.Values[k] = r.PostFormValue(k)
	}
	if fields != nil {
		failed.Errors = fields
		return h.renderCase(w, r, p, http.StatusUnprocessableEntity, "请按提示修改后重新提交", failed)
	}
	c, err := h.svc.StaffAct(r.Context(), p, id, a, in, version)
	if err != nil {
		switch k := errs.KindOf(err); k {
		case errs.Invalid, errs.Conflict, errs.Forbidden:
			failed.Errors, _ = web.FieldErrors(err)
			msg := errs.Message(err)
			if k == errs.Conflict {
				msg += "（页面已刷新为最新状态）"
			}
			return h.renderCase(w, r, p, web.StatusOf(k), msg, failed)
		}
		return err
	}
	done := "已" + ActionLabels[a] + "，办件当前状态：" + StateLabels[c.State]
	if step := c.StepName(); step != "" {
		done += "（" + step + "）"
		if c.AtDeptID != c.DeptID {
			done += "，由" + c.AtDeptName + "办理"
		}
	}
	ui.SetFlash(w, "ok", done)
	next := "/console/cases/" + c.ID
	if !c.VisibleTo(p) { // handed on to a department the actor cannot see
		next = "/console/cases"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// ---- window registration (综合窗口收件) ----

type materialChoice struct {
	Name, Necessity string
	Checked         bool
}

type walkInPage struct {
	ui.Base
	Search   string
	Found    []catalog.Record
	More     bool // more items matched than shown
	Code     string
	Record   catalog.Record
	Item     *catalog.Item
	Paper    []materialChoice
	Values   map[string]string
	Errors   map[string]string
	Kinds    []option
	Searched bool
}

func (h *Handler) newWalkIn(w http.ResponseWriter, r *http.Request) error {
	p, err := staff(r, authz.AcceptCases)
	if err != nil {
		return err
	}
	return h.renderWalkIn(w, r, p, http.StatusOK, strings.TrimSpace(r.FormValue("item")), map[string]string{"kind": string(identity.Person)}, nil, nil)
}

// renderWalkIn shows the registration form: without an item, a search for
// one (step 1); with one, the applicant, the paper materials and the form.
func (h *Handler) renderWalkIn(w http.ResponseWriter, r *http.Request, p *authz.Principal, status int, code string, values, fields map[string]string,
	checked []string) error {
	page := walkInPage{Base: ui.ConsoleBase(r, "窗口收件登记", staffCrumbs...), Code: code, Values: values, Errors: fields,
		Kinds: []option{{string(identity.Person), "个人"}, {string(identity.Legal), "法人（企业、社会组织等）"}}}
	if page.Errors == nil {
		page.Errors = map[string]string{}
	}
	if code != "" {
		rec, it, err := h.svc.items.Published(r.Context(), code)
		switch {
		case errs.KindOf(err) == errs.NotFound:
			page.Errors["item"] = "未找到该实施编码的已发布事项"
			status = max(status, http.StatusUnprocessableEntity)
			page.Code = ""
		case err != nil:
			return err
		default:
			page.Record, page.Item = rec, &it
			for _, m := range it.Materials {
				page.Paper = append(page.Paper, materialChoice{Name: m.Name, Necessity: catalog.MaterialNecessity[m.Necessity], Checked: slices.Contains(checked, m.Name)})
			}
		}
	}
	if page.Item == nil {
		page.Search = strings.TrimSpace(r.FormValue("q"))
		if page.Search != "" {
			if utf8.RuneCountInString(page.Search) > sqldb.MaxSearch {
				page.Errors["q"] = fmt.Sprintf("搜索内容不能超过%d个字", sqldb.MaxSearch)
				status = max(status, http.StatusUnprocessableEntity)
			} else {
				found, total, err := h.svc.items.Items(r.Context(), p, catalog.ItemQuery{Status: catalog.StatusPublished, Q: page.Search})
				if err != nil {
					return err
				}
				for _, rec := range found {
					if p.Can(authz.AcceptCases, rec.Target()) {
						page.Found = append(page.Found, rec)
					}
				}
				page.Searched, page.More = true, total > len(found)
			}
		}
	}
	return h.pages.Render(w, status, "staff_new.html", page)
}

// parseFormLines reads "名称：内容" lines into form data.
func parseFormLines(s string) (map[string]string, string) {
	out := map[string]string{}
	n := 0
	for line := range strings.Lines(s) {
		n++
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "：")
		if !ok {
			k, v, ok = strings.Cut(line, ":")
		}
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Sprintf("第%d行应写作“名称：内容”", n)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, ""
}

func (h *Handler) registerWalkIn(w http.ResponseWriter, r *http.Request) error {
	p, err := staff(r, authz.AcceptCases)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		return &errs.Error{Kind: errs.Invalid, Op: "cases.registerWalkIn", Msg: "表单无法解析", Err: err}
	}
	values := map[string]string{}
	for _, k := range []string{"item", "kind", "id_number", "uscc", "name", "legal_rep", "phone", "form", "result_method", "result_address"} {
		values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	code := values["item"]
	paper := r.PostForm["paper"]
	rerender := func(status int, fields map[string]string) error {
		return h.renderWalkIn(w, r, p, status, code, values, fields, paper)
	}
	if code == "" {
		return rerender(http.StatusUnprocessableEntity, map[string]string{"item": "请选择事项"})
	}
	rec, it, err := h.svc.items.Published(ctx, code)
	if errs.KindOf(err) == errs.NotFound {
		return rerender(http.StatusUnprocessableEntity, nil) // renderWalkIn names the field
	} else if err != nil {
		return err
	}
	// Checked before anything is written: an applicant's account is created
	// on the spot, which should not happen for a case that cannot be filed.
	if !p.Can(authz.AcceptCases, rec.Target()) {
		return &errs.Error{Kind: errs.Forbidden, Op: "cases.registerWalkIn", Msg: "该事项不在您的受理范围内"}
	}
	if rec.Status != catalog.StatusPublished {
		return rerender(http.StatusConflict, map[string]string{"item": "该事项暂停办理，暂不受理新的申请"})
	}
	fields := map[string]string{}
	kind := identity.Kind(values["kind"])
	if kind != identity.Person && kind != identity.Legal {
		fields["kind"] = "请选择个人或法人"
	}
	form, msg := parseFormLines(r.PostFormValue("form"))
	if msg != "" {
		fields["form"] = msg
	}
	// The paper originals are the item's materials; anything else is dropped.
	var checked []string
	for _, m := range it.Materials {
		if slices.Contains(paper, m.Name) {
			checked = append(checked, m.Name)
		}
	}
	// An applicant already registered must be the one named here.
	var acct identity.Account
	if kind == identity.Legal {
		acct, err = h.ids.AccountByUSCC(ctx, values["uscc"])
	} else if kind == identity.Person {
		acct, err = h.ids.AccountByIDNumber(ctx, values["id_number"])
	}
	if err == nil && acct.ID != "" && acct.Name != values["name"] {
		// The registered name is not shown: a clerk must not learn it from any number typed.
		fields["name"] = "与已登记的" + map[identity.Kind]string{identity.Person: "身份证号", identity.Legal: "统一社会信用代码"}[kind] + "对应的名称不一致，请核对证件"
	} else if err != nil && errs.KindOf(err) != errs.NotFound {
		return err
	}
	if len(fields) > 0 {
		return rerender(http.StatusUnprocessableEntity, fields)
	}
	c, err := h.svc.RegisterWalkIn(ctx, p, WalkIn{ItemCode: code, Kind: kind, IDNumber: values["id_number"], USCC: values["uscc"], Name: values["name"],
		LegalRep: values["legal_rep"], Phone: values["phone"], Form: form, Paper: checked,
		Result: ResultPref{Method: DeliveryMethod(values["result_method"]), Address: values["result_address"]}})
	if err != nil {
		if f, ok := web.FieldErrors(err); ok {
			return rerender(http.StatusUnprocessableEntity, f)
		}
		if e, ok := errors.AsType[*errs.Error](err); ok && e.Kind == errs.Conflict && len(e.Fields) > 0 {
			return rerender(http.StatusConflict, e.Fields)
		}
		return err
	}
	ui.SetFlash(w, "ok", "已收件登记，办件编号 "+c.Number+"；请核对材料后受理")
	http.Redirect(w, r, "/console/cases/"+c.ID, http.StatusSeeOther)
	return nil
}

// ---- overdue dashboard ----

type overduePage struct {
	ui.Base
	Rows          []Overdue
	Open, Overdue int
	Today         string
}

func (h *Handler) overdue(w http.ResponseWriter, r *http.Request) error {
	p, err := staff(r, authz.ViewCases)
	if err != nil {
		return err
	}
	rows, err := h.svc.OverdueByDept(r.Context(), p)
	if err != nil {
		return err
	}
	page := overduePage{Base: ui.ConsoleBase(r, "超期办件统计", staffCrumbs...), Rows: rows, Today: cnDay(h.svc.now())}
	for _, o := range rows {
		page.Open += o.Open
		page.Overdue += o.Overdue
	}
	return h.pages.Render(w, http.StatusOK, "staff_overdue.html", page)
}

// ---- notices (文书) ----

type noticePage struct {
	ui.Base
	Kind          Notice
	Title         string
	Case          Case
	ApplicantKind string
	Permit        bool   // the item is a 行政许可: the 行政许可法 applies
	Submitted     string // the date the application came in
	Issued        string // the date of the act the notice records
	Opinion       string
	Items         []string
	AfterAccept   bool // a correction during review (the clock stopped)
	Approved      bool
	PromisedDue   string
	LegalDue      string
	SupplyBy      string
	URL           string
	QR            template.URL
	PDF           bool // a PDF can be made (a CJK font is configured)
}

// buildNotice gathers notice {kind} of case {id} for the staff member
// signed in, with its QR code (PNG) for the progress page.
func (h *Handler) buildNotice(r *http.Request) (noticePage, []byte, error) {
	p, err := staff(r, authz.ViewCases)
	if err != nil {
		return noticePage{}, nil, err
	}
	ctx := r.Context()
	c, err := h.svc.Get(ctx, p, r.PathValue("id"))
	if err != nil {
		return noticePage{}, nil, err
	}
	kind := Notice(r.PathValue("kind"))
	title, ok := NoticeTitles[kind]
	if !ok {
		return noticePage{}, nil, &errs.Error{Kind: errs.NotFound, Op: "cases.notice", Msg: "没有这种文书"}
	}
	if !slices.Contains(Notices(c), kind) {
		return noticePage{}, nil, &errs.Error{Kind: errs.Conflict, Op: "cases.notice", Msg: "该办件当前为“" + StateLabels[c.State] + "”，不能出具" + title}
	}
	evs, err := h.svc.Events(ctx, c.ID)
	if err != nil {
		return noticePage{}, nil, err
	}
	// last returns the latest event of one of actions.
	last := func(actions ...Action) Event {
		for i := len(evs) - 1; i >= 0; i-- {
			if slices.Contains(actions, evs[i].Action) {
				return evs[i]
			}
		}
		return Event{}
	}
	page := noticePage{Base: ui.ConsoleBase(r, title+" "+c.Number, staffCrumbs...), Kind: kind, Title: title, Case: c,
		ApplicantKind: identity.KindLabels[identity.Kind(c.ApplicantKind)], Submitted: cnDay(c.SubmittedAt),
		PromisedDue: cnDue(c.PromisedDue), LegalDue: cnDue(c.LegalDue)}
	if rec, _, err := h.svc.items.Published(ctx, c.ItemCode); err == nil {
		page.Permit = rec.Type == "XK"
	}
	switch kind {
	case NoticeAccept:
		page.Issued = cnDay(c.AcceptedAt)
		if ev := last(AcceptTolerant); ev.Seq > 0 {
			page.Opinion = ev.Opinion
		}
		page.Items, page.SupplyBy = c.Outstanding, cnDue(c.SupplyBy)
	case NoticeRefuse:
		ev := last(Refuse)
		page.Issued, page.Opinion = cnDay(ev.At), ev.Opinion
	case NoticeFix:
		ev := last(RequestFix)
		page.Issued, page.Opinion, page.Items, page.AfterAccept = cnDay(ev.At), ev.Opinion, c.FixItems, c.FixedFrom == Accepted
	case NoticeDecision:
		ev := last(Approve, Deny)
		page.Issued, page.Opinion, page.Approved = cnDay(ev.At), ev.Opinion, c.State == Approved
	}
	page.URL = web.BaseURL(r, h.baseURL) + "/progress?number=" + url.QueryEscape(c.Number)
	png, err := qrcode.Encode(page.URL, qrcode.Medium, 160)
	if err != nil {
		return noticePage{}, nil, err
	}
	page.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	return page, png, nil
}

func (h *Handler) notice(w http.ResponseWriter, r *http.Request) error {
	page, _, err := h.buildNotice(r)
	if err != nil {
		return err
	}
	page.PDF = h.font != nil
	return h.pages.Render(w, http.StatusOK, "staff_notice.html", page)
}

// capture is a ResponseWriter that keeps what is written, to read a
// rendered template back.
type capture struct {
	bytes.Buffer
	h http.Header
}

func (c *capture) Header() http.Header {
	if c.h == nil {
		c.h = http.Header{}
	}
	return c.h
}

func (c *capture) WriteHeader(int) {}

// noticePDF prints the same notice as PDF: its text is the printable
// page's, read back from the rendered template, so the wording lives once.
func (h *Handler) noticePDF(w http.ResponseWriter, r *http.Request) error {
	page, png, err := h.buildNotice(r)
	if err != nil {
		return err
	}
	if h.font == nil {
		return &errs.Error{Kind: errs.Conflict, Op: "cases.noticePDF", Msg: "服务器未配置中文字体（pdf_font），暂不能生成PDF，请使用打印页面"}
	}
	font, err := h.font()
	if err != nil {
		return fmt.Errorf("cases.noticePDF: font: %w", err)
	}
	var buf capture
	if err := h.pages.Fragment(&buf, http.StatusOK, "staff_notice.html", "content", page); err != nil {
		return err
	}
	blocks, err := pdfdoc.FromHTML(&buf.Buffer)
	if err != nil {
		return err
	}
	qr, err := stdpng.Decode(bytes.NewReader(png))
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := pdfdoc.Write(&out, font, blocks, qr, "扫码查询办理进度 "+page.URL); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="`+string(page.Kind)+`-`+page.Case.Number+`.pdf"`)
	_, err = w.Write(out.Bytes())
	return err
}
