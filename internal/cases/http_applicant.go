package cases

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"yiwang/internal/catalog"
	"yiwang/internal/identity"
	"yiwang/internal/platform/blob"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/web"
	"yiwang/internal/ui"
)

// This file is the applicant's side of cases: the JSON API for a signed-in
// citizen (/api/v1/cases), the online application form with drafts, "my
// cases" with correction, resubmission and withdrawal, uploaded materials
// (materials.go), and the public progress lookup.

// ---- the application form ----

// formField is one field of an item's online application form (办件表单).
type formField = catalog.FormField

// genericForm is the form of an item that defines none: the reason for
// applying and a note.
var genericForm = []formField{
	{Key: "reason", Label: "申请事由", Type: catalog.FieldText, Required: true, Max: 500, Hint: "简要说明申请的原因和需求"},
	{Key: "note", Label: "备注", Type: catalog.FieldText, Max: 500, Hint: "其他需要说明的情况（选填）"},
}

// formOf is what an applicant types in online for item it: its form, or
// genericForm when it defines none. Attachment fields are uploaded as
// materials under their label instead (attachmentsOf).
func formOf(it catalog.Item) []formField {
	if len(it.Form) == 0 {
		return genericForm
	}
	var out []formField
	for _, f := range it.Form {
		if f.Type != catalog.FieldAttachment {
			out = append(out, f)
		}
	}
	return out
}

// validateForm checks values against fields (catalog.ValidateForm): it
// returns the normalised values filled in correctly and a zh-CN message
// per field key for the others ("_" for keys no field defines). For a
// draft, required fields may still be empty.
func validateForm(fields []formField, values map[string]string, draft bool, now time.Time) (map[string]string, map[string]string) {
	out, bad := catalog.ValidateForm(fields, values, now)
	if draft {
		for k := range bad {
			if k != "_" && strings.TrimSpace(values[k]) == "" {
				delete(bad, k)
			}
		}
	}
	return out, bad
}

// itemOf is the item as published in the version case c was filed under,
// whatever became of the item since (a zero Item if that version is gone).
func (h *Handler) itemOf(ctx context.Context, c Case) (catalog.Item, error) {
	it, err := h.svc.items.PublishedVersion(ctx, c.ItemID, c.ItemVersion) // the version the case was filed under
	if errs.KindOf(err) == errs.NotFound {
		return catalog.Item{}, nil
	}
	return it, err
}

// attachmentsOf puts into form, for each attachment field of it, the key of
// the latest file uploaded under the field's label to case id ("" before
// a draft is saved), and reports the required ones without a file under
// "_" of bad. Without a blob store nothing can be uploaded: the materials
// are then handed in at acceptance and nothing is required here.
func (h *Handler) attachmentsOf(ctx context.Context, it catalog.Item, id string, form, bad map[string]string) error {
	if h.blobs == nil {
		return nil
	}
	var ms []Material
	if id != "" {
		var err error
		if ms, err = h.svc.Materials(ctx, id); err != nil {
			return err
		}
	}
	var missing []string
	for _, f := range it.Form {
		if f.Type != catalog.FieldAttachment {
			continue
		}
		key := ""
		for _, m := range ms { // oldest first: the latest wins
			if m.Name == f.Label && m.BlobKey != "" {
				key = m.BlobKey
			}
		}
		switch {
		case key != "":
			form[f.Key] = key
		case f.Required:
			missing = append(missing, f.Label)
		}
	}
	if len(missing) > 0 {
		msg := "请上传" + strings.Join(missing, "、")
		if id == "" {
			msg += "（保存草稿后即可上传）"
		}
		bad["_"] = msg
	}
	return nil
}

// formValues reads the fields' values from a posted form.
func formValues(fields []formField, r *http.Request) map[string]string {
	out := map[string]string{}
	for _, f := range fields {
		if v, ok := r.PostForm[f.Key]; ok && len(v) > 0 {
			out[f.Key] = v[0]
		}
	}
	return out
}

// formError is the Invalid error of a form with field messages bad.
func formError(op string, bad map[string]string) error {
	msg := "申请表填写有误，请按提示修改"
	if m, ok := bad["_"]; ok && len(bad) == 1 {
		msg = m
	}
	return &errs.Error{Kind: errs.Invalid, Op: op, Msg: msg, Fields: bad}
}

// ---- who is applying ----

// sees reports whether the signed-in applicant may see c: it is theirs, or
// the enterprise's they act for.
func (ap Applicant) sees(c Case) bool {
	return c.ApplicantID == ap.Account.ID || ap.Acting != nil && c.ApplicantID == ap.Acting.ID
}

// applicantOf returns the signed-in citizen of ctx as an applicant.
func applicantOf(ctx context.Context) (Applicant, bool) {
	cz, ok := identity.CitizenFrom(ctx)
	if !ok {
		return Applicant{}, false
	}
	return Applicant{Account: cz.Account, Acting: cz.Acting}, true
}

var errSignIn = &errs.Error{Kind: errs.Unauthenticated, Op: "cases.api", Msg: "请先登录"}

// signedIn returns the signed-in applicant, or redirects r to the sign-in
// page (to come back to target, r's own page when "") and reports false.
func signedIn(w http.ResponseWriter, r *http.Request, target string) (Applicant, bool) {
	ap, ok := applicantOf(r.Context())
	if !ok {
		if target == "" {
			target = r.URL.RequestURI()
		}
		http.Redirect(w, r, "/login?next="+url.QueryEscape(identity.SafeNext(target)), http.StatusSeeOther)
	}
	return ap, ok
}

// whoView is the applicant as the application form shows them.
type whoView struct {
	Name, IDNumber   string // the person, ID number masked
	Enterprise, USCC string // the enterprise acted for, if any
}

func whoOf(ap Applicant) whoView {
	v := whoView{Name: ap.Account.Name, IDNumber: ap.Account.MaskedIDNumber()}
	if ap.Account.Kind == identity.Legal {
		v = whoView{Enterprise: ap.Account.Name, USCC: ap.Account.USCC}
	}
	if ap.Acting != nil {
		v.Enterprise, v.USCC = ap.Acting.Name, ap.Acting.USCC
	}
	return v
}

// ---- JSON API ----

// caseJSON is a case as its applicant reads it through the API.
type caseJSON struct {
	ID          string     `json:"id" doc:"办件标识"`
	Number      string     `json:"number" doc:"办件编号（提交后生成，草稿为空）"`
	Status      State      `json:"status" enum:"draft,submitted,correcting,accepted,special,approved,denied,refused,withdrawn,revoked" doc:"办件状态"`
	StatusLabel string     `json:"status_label" doc:"办件状态（中文）"`
	ItemCode    string     `json:"item_code" doc:"事项实施编码"`
	ItemName    string     `json:"item_name" doc:"事项名称"`
	Department  string     `json:"department" doc:"办理部门"`
	Channel     Channel    `json:"channel" enum:"online,window" doc:"申请渠道"`
	SubmittedAt *time.Time `json:"submitted_at" doc:"提交时间"`
	AcceptedAt  *time.Time `json:"accepted_at" doc:"受理时间"`
	DecidedAt   *time.Time `json:"decided_at" doc:"办结时间"`
	Result      ResultPref `json:"result" doc:"申请人选择的结果领取方式：window 窗口领取、post 邮寄（含 address）"`
	DeliveredAt *time.Time `json:"delivered_at" doc:"结果送达时间（尚未送达为空）"`
	Delivery    *Delivery  `json:"delivery" doc:"结果送达方式：window 窗口领取（含领取人）、post 邮政寄递（含收件人、邮件号）"`
	LegalDue    *string    `json:"legal_due" format:"date" doc:"法定办结日期（受理后计算，计时暂停时为空）"`
	PromisedDue *string    `json:"promised_due" format:"date" doc:"承诺办结日期（受理后计算，计时暂停时为空）"`
	FixItems    []string   `json:"fix_items" doc:"补正告知要求补正的内容"`
	Outstanding []string   `json:"outstanding" doc:"容缺受理后尚待补齐的材料"`
	SupplyBy    *string    `json:"supply_by" format:"date" doc:"容缺材料补齐期限"`
	Version     int        `json:"version" doc:"版本号（乐观并发控制）"`
	Events      []Event    `json:"events" doc:"办件过程信息"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func dayPtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	d := t.Format(time.DateOnly)
	return &d
}

func toJSON(c Case, evs []Event) caseJSON {
	if evs == nil {
		evs = []Event{}
	}
	out := caseJSON{ID: c.ID, Number: c.Number, Status: c.State, StatusLabel: StateLabels[c.State], ItemCode: c.ItemCode, ItemName: c.ItemName,
		Department: c.DeptName, Channel: c.Channel, SubmittedAt: timePtr(c.SubmittedAt), AcceptedAt: timePtr(c.AcceptedAt),
		DecidedAt: timePtr(c.DecidedAt), LegalDue: dayPtr(c.LegalDue), PromisedDue: dayPtr(c.PromisedDue), FixItems: nonNil(c.FixItems),
		Outstanding: nonNil(c.Outstanding), SupplyBy: dayPtr(c.SupplyBy), Version: c.Version, Events: evs}
	out.Result = ResultPref{Method: c.Result.How(), Address: c.Result.Address}
	if !c.DeliveredAt.IsZero() {
		d := c.Delivery
		out.DeliveredAt, out.Delivery = timePtr(c.DeliveredAt), &d
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type createCaseInput struct {
	Body struct {
		ItemCode string            `json:"item_code" minLength:"1" maxLength:"64" doc:"事项实施编码"`
		Form     map[string]string `json:"form,omitempty" maxProperties:"100" doc:"申请表：字段标识 → 填写内容（通用表单为 reason 申请事由、note 备注）"`
		Submit   bool              `json:"submit,omitempty" doc:"true：保存后立即提交；false：只保存草稿"`
		Result   *ResultPref       `json:"result,omitempty" doc:"结果领取方式：method 为 window（窗口领取，默认）或 post（邮寄，须填 address 邮寄地址）"`
	}
}

type createCaseOutput struct {
	Location string `header:"Location" doc:"提交后为办件的接口地址"`
	Body     caseJSON
}

type caseNumberInput struct {
	Number string `path:"number" minLength:"1" maxLength:"64" doc:"办件编号"`
}

type caseOutput struct{ Body caseJSON }

type caseEventsOutput struct {
	Body struct {
		Number     string    `json:"number" doc:"办件编号"`
		ItemCode   string    `json:"item_code" doc:"事项实施编码"`
		Status     State     `json:"status" doc:"办件状态"`
		ExportedAt time.Time `json:"exported_at" doc:"导出时间"`
		Events     []Event   `json:"events" doc:"办件过程信息，按顺序"`
	}
}

// apiRoutes registers /api/v1/cases: a signed-in citizen (the portal's
// session cookie) files and follows their own cases.
func (h *Handler) apiRoutes(api huma.API) {
	tags := []string{"办件"}
	huma.Register(api, huma.Operation{OperationID: "create-case", Method: http.MethodPost, Path: "/api/v1/cases",
		Summary: "网上申请：保存草稿或提交", Description: "以当前登录的账号（或其正在代办的单位）为申请人。submit 为 true 时保存后立即提交并生成办件编号。",
		Tags: tags, DefaultStatus: http.StatusCreated, Errors: []int{401, 403, 404, 409, 422}}, h.apiCreate)
	huma.Register(api, huma.Operation{OperationID: "get-case", Method: http.MethodGet, Path: "/api/v1/cases/{number}",
		Summary: "查看本人办件", Description: "只有申请人本人（或其代办的单位）可以查看；其他人得到 404。", Tags: tags, Errors: []int{401, 404}}, h.apiGet)
	huma.Register(api, huma.Operation{OperationID: "get-case-events", Method: http.MethodGet, Path: "/api/v1/cases/{number}/events",
		Summary: "导出办件过程信息", Description: "按国家办件状态代码导出办件的全部过程信息，供上报使用。", Tags: tags, Errors: []int{401, 404}}, h.apiEvents)
}

func (h *Handler) apiCreate(ctx context.Context, in *createCaseInput) (*createCaseOutput, error) {
	const op = "cases.apiCreate"
	ap, ok := applicantOf(ctx)
	if !ok {
		return nil, errSignIn
	}
	code := strings.TrimSpace(in.Body.ItemCode)
	c, it, err := h.svc.newCase(ctx, code, ap, Online, nil)
	if err != nil {
		return nil, err
	}
	if in.Body.Result != nil {
		c.Result = *in.Body.Result
		if err := c.Result.check(op); err != nil {
			return nil, &errs.Error{Kind: errs.Invalid, Op: op, Msg: errs.Message(err), Fields: map[string]string{"body.result": errs.Message(err)}}
		}
	}
	form, bad := validateForm(formOf(it), in.Body.Form, !in.Body.Submit, h.svc.now())
	if in.Body.Submit && len(bad) == 0 {
		// The API takes no files: an item that requires one is applied for on the page.
		if err := h.attachmentsOf(ctx, it, "", form, bad); err != nil {
			return nil, err
		}
	}
	if len(bad) > 0 {
		fields := map[string]string{}
		for k, v := range bad {
			if k == "_" {
				fields["body.form"] = v
			} else {
				fields["body.form."+k] = v
			}
		}
		return nil, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "申请表填写有误", Fields: fields}
	}
	if c.Form, err = cleanForm(form); err != nil {
		return nil, err
	}
	if c, err = h.svc.file(ctx, ap, c, in.Body.Submit); err != nil {
		return nil, err
	}
	out := &createCaseOutput{}
	if in.Body.Submit {
		out.Location = "/api/v1/cases/" + c.Number
	}
	evs, err := h.svc.Events(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	out.Body = toJSON(c, evs)
	return out, nil
}

// visible returns the case with number if the signed-in citizen may see it.
func (h *Handler) visible(ctx context.Context, number string) (Case, error) {
	ap, ok := applicantOf(ctx)
	if !ok {
		return Case{}, errSignIn
	}
	c, err := h.svc.ByNumber(ctx, number)
	if err != nil {
		return Case{}, err
	}
	if !ap.sees(c) {
		return Case{}, errNoCase
	}
	return c, nil
}

func (h *Handler) apiGet(ctx context.Context, in *caseNumberInput) (*caseOutput, error) {
	c, err := h.visible(ctx, in.Number)
	if err != nil {
		return nil, err
	}
	evs, err := h.svc.Events(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	return &caseOutput{Body: toJSON(c, evs)}, nil
}

func (h *Handler) apiEvents(ctx context.Context, in *caseNumberInput) (*caseEventsOutput, error) {
	c, err := h.visible(ctx, in.Number)
	if err != nil {
		return nil, err
	}
	evs, err := h.svc.Events(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	out := &caseEventsOutput{}
	out.Body.Number, out.Body.ItemCode, out.Body.Status, out.Body.ExportedAt, out.Body.Events = c.Number, c.ItemCode, c.State, h.svc.now(), nonNilEvents(evs)
	return out, nil
}

func nonNilEvents(evs []Event) []Event {
	if evs == nil {
		return []Event{}
	}
	return evs
}

// ---- pages ----

// applicantRoutes registers the applicant's pages.
func (h *Handler) applicantRoutes(mux *http.ServeMux) {
	mux.Handle("GET /items/{code}/apply", h.web.Page(h.applyForm))
	mux.Handle("POST /items/{code}/apply", h.web.Page(h.apply))
	mux.Handle("GET /my/cases", h.web.Page(h.myCases))
	mux.Handle("GET /my/cases/{id}", h.web.Page(h.myCase))
	mux.Handle("POST /my/cases/{id}/resubmit", h.web.Page(h.resubmit))
	mux.Handle("POST /my/cases/{id}/withdraw", h.web.Page(h.withdraw))
	mux.Handle("POST /my/cases/{id}/result", h.web.Page(h.result))
	mux.Handle("GET /progress", h.web.Page(h.progress))
	if h.blobs != nil {
		mux.Handle("POST /my/cases/{id}/materials", h.web.Page(h.upload))
		mux.Handle("GET /my/cases/{id}/materials/{mid}", h.web.Page(h.download))
		mux.Handle("POST /my/cases/{id}/materials/{mid}/remove", h.web.Page(h.removeMaterial))
	}
}

// uploadedView is one uploaded material as the pages list it.
type uploadedView struct {
	ID, Name, Type, Size string
	Paper                bool // a paper original checked at the window
	Fixed                bool // not the applicant's to remove: a paper original or a staff scan
}

var typeNames = map[string]string{blob.PDF: "PDF", blob.OFD: "OFD", blob.JPEG: "JPG", blob.PNG: "PNG"}

func uploadedOf(ms []Material) []uploadedView {
	var out []uploadedView
	for _, m := range ms {
		v := uploadedView{ID: m.ID, Name: m.Name, Type: typeNames[m.ContentType], Paper: m.PaperChecked, Fixed: m.PaperChecked || !m.Applicants()}
		switch {
		case m.Size >= 1<<20:
			v.Size = fmt.Sprintf("%.1f MB", float64(m.Size)/(1<<20))
		case m.Size > 0:
			v.Size = fmt.Sprintf("%d KB", (m.Size+1023)/1024)
		}
		out = append(out, v)
	}
	return out
}

// uploadsView is what the "apply_uploads" partial needs.
type uploadsView struct {
	On       bool // uploads are wired
	CaseID   string
	Names    []string // what may be uploaded now; none: the case takes no uploads
	Uploaded []uploadedView
}

func (h *Handler) uploadsOf(r *http.Request, c Case, ms []Material) (uploadsView, error) {
	v := uploadsView{On: h.blobs != nil, CaseID: c.ID, Uploaded: uploadedOf(ms)}
	if !v.On || c.ID == "" || !c.Uploadable() {
		return v, nil
	}
	var err error
	v.Names, err = h.svc.uploadNames(r.Context(), c)
	return v, err
}

// draftUploads is the uploads box of the application form: for a saved
// draft d, its files; before the first save, none yet.
func (h *Handler) draftUploads(r *http.Request, d Case) (uploadsView, error) {
	if d.ID == "" {
		return uploadsView{On: h.blobs != nil}, nil
	}
	ms, err := h.svc.Materials(r.Context(), d.ID)
	if err != nil {
		return uploadsView{}, err
	}
	return h.uploadsOf(r, d, ms)
}

// appCase is the signed-in applicant's case {id}; ok is false (and the
// browser sent to sign in) without an applicant.
func (h *Handler) appCase(w http.ResponseWriter, r *http.Request) (Applicant, Case, bool, error) {
	id := r.PathValue("id")
	ap, ok := signedIn(w, r, "/my/cases/"+url.PathEscape(id))
	if !ok {
		return Applicant{}, Case{}, false, nil
	}
	c, err := h.svc.Mine(r.Context(), ap, id)
	return ap, c, err == nil, err
}

func (h *Handler) upload(w http.ResponseWriter, r *http.Request) error {
	ap, c, ok, err := h.appCase(w, r)
	if !ok || err != nil {
		return err
	}
	ctx := r.Context()
	name := strings.TrimSpace(r.PostFormValue("name"))
	return uploaded(w, r, name, h.attach(ctx, ap, c, name, r), backTo(c))
}

// uploaded tells the uploader how the upload of material name went (err)
// and sends them back to page; errors other than refusals are returned.
func uploaded(w http.ResponseWriter, r *http.Request, name string, err error, page string) error {
	switch k := errs.KindOf(err); {
	case err == nil:
		ui.SetFlash(w, "ok", "已上传材料：“"+name+"”")
	case k == errs.Invalid || k == errs.Conflict:
		ui.SetFlash(w, "error", "上传未成功："+errs.Message(err))
	default:
		return err
	}
	http.Redirect(w, r, page, http.StatusSeeOther)
	return nil
}

// attach stores the posted file and records it as material name of the
// applicant's case c.
func (h *Handler) attach(ctx context.Context, ap Applicant, c Case, name string, r *http.Request) error {
	var refuse error
	if !c.Uploadable() {
		refuse = &errs.Error{Kind: errs.Conflict, Op: "cases.Handler.attach", Msg: fmt.Sprintf("办件当前为“%s”，不能再上传材料", StateLabels[c.State])}
	}
	return h.putUpload(ctx, c, name, r, refuse, func(b blob.Blob) error {
		_, err := h.svc.AttachMaterial(ctx, ap, c.ID, name, b)
		return err
	})
}

// putUpload stores the file posted as "file" and has record note it as
// material name of c; refuse (the state's objection, if any) and the name
// are checked first, so a refused upload stores nothing.
func (h *Handler) putUpload(ctx context.Context, c Case, name string, r *http.Request, refuse error, record func(blob.Blob) error) error {
	const op = "cases.Handler.putUpload"
	if refuse != nil {
		return refuse
	}
	names, err := h.svc.uploadNames(ctx, c)
	if err != nil {
		return err
	}
	if !slices.Contains(names, name) {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "请选择要上传的是哪一项材料"}
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "请选择要上传的文件", Err: err}
	}
	defer f.Close()
	b, err := h.blobs.Put(ctx, f, MaxMaterialSize, blob.Documents)
	if err != nil {
		return err
	}
	return record(b)
}

// backTo is the page the applicant works on c from: the form of a draft,
// else the case page.
func backTo(c Case) string {
	if c.State == Draft {
		return "/items/" + url.PathEscape(c.ItemCode) + "/apply?draft=" + url.QueryEscape(c.ID)
	}
	return "/my/cases/" + url.PathEscape(c.ID)
}

func (h *Handler) removeMaterial(w http.ResponseWriter, r *http.Request) error {
	ap, c, ok, err := h.appCase(w, r)
	if !ok || err != nil {
		return err
	}
	ctx, id := r.Context(), c.ID
	switch err := h.svc.RemoveMaterial(ctx, ap, id, r.PathValue("mid")); {
	case err == nil:
		ui.SetFlash(w, "ok", "已删除该材料文件")
	case errs.KindOf(err) == errs.Conflict || errs.KindOf(err) == errs.Forbidden:
		ui.SetFlash(w, "error", errs.Message(err))
	default:
		return err
	}
	http.Redirect(w, r, backTo(c), http.StatusSeeOther)
	return nil
}

// download sends one of the applicant's uploaded files back to them.
func (h *Handler) download(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	ap, ok := signedIn(w, r, "")
	if !ok {
		return nil
	}
	m, err := h.svc.Material(r.Context(), ap, id, r.PathValue("mid"))
	if err != nil {
		return err
	}
	return h.serveMaterial(w, r, m)
}

// serveMaterial sends m's file as a download.
func (h *Handler) serveMaterial(w http.ResponseWriter, r *http.Request, m Material) error {
	if m.BlobKey == "" {
		return &errs.Error{Kind: errs.NotFound, Op: "cases.Handler.download", Msg: "该材料为纸质原件，没有电子文件"}
	}
	rc, b, err := h.blobs.Open(r.Context(), m.BlobKey)
	if err != nil {
		return err
	}
	defer rc.Close()
	ext := map[string]string{blob.PDF: ".pdf", blob.OFD: ".ofd", blob.JPEG: ".jpg", blob.PNG: ".png"}[b.ContentType]
	w.Header().Set("Content-Type", b.ContentType)
	w.Header().Set("Content-Length", strconv.FormatInt(b.Size, 10))
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(m.Name+ext))
	w.Header().Set("Cache-Control", "private, no-store")
	_, err = io.Copy(w, rc)
	if err != nil {
		h.web.Log.WarnContext(r.Context(), "material download interrupted", "err", err)
	}
	return nil
}

// materialView is one material of the item as the form lists it.
type materialView struct {
	Name, Necessity, Form, Notes string
	Originals, Copies            int
}

// applyPage is what apply.html sees.
type applyPage struct {
	ui.Base
	Code        string
	Item        catalog.Item
	Who         whoView
	Materials   []materialView
	Fields      []formField
	Values      map[string]string
	Errors      map[string]string
	Draft       Case        // the draft being edited; ID "" for a new application
	Uploads     uploadsView // the draft's files
	Attachments []formField // the form's attachment fields, uploaded as materials
}

// attachmentFields are it's attachment fields.
func attachmentFields(it catalog.Item) []formField {
	var out []formField
	for _, f := range it.Form {
		if f.Type == catalog.FieldAttachment {
			out = append(out, f)
		}
	}
	return out
}

func (h *Handler) applyPage(r *http.Request, ap Applicant, code string, it catalog.Item) applyPage {
	p := applyPage{Base: ui.NewBase(r, "在线申请："+it.Name), Code: code, Item: it, Who: whoOf(ap), Fields: formOf(it), Attachments: attachmentFields(it),
		Values: map[string]string{}, Errors: map[string]string{}}
	for _, m := range it.Materials {
		p.Materials = append(p.Materials, materialView{Name: m.Name, Necessity: catalog.MaterialNecessity[m.Necessity],
			Form: catalog.MaterialForms[m.Form], Notes: m.Notes, Originals: m.Originals, Copies: m.Copies})
	}
	return p
}

// draftOf loads the applicant's draft id of the item with code.
func (h *Handler) draftOf(ctx context.Context, ap Applicant, id, code string) (Case, error) {
	d, err := h.svc.Mine(ctx, ap, id)
	if err != nil {
		return Case{}, err
	}
	if d.ItemCode != code {
		return Case{}, errNoCase
	}
	return d, nil
}

func (h *Handler) applyForm(w http.ResponseWriter, r *http.Request) error {
	ap, ok := signedIn(w, r, "")
	if !ok {
		return nil
	}
	ctx, code := r.Context(), r.PathValue("code")
	_, it, err := h.svc.newCase(ctx, code, ap, Online, nil)
	if err != nil {
		return err
	}
	page := h.applyPage(r, ap, code, it)
	if id := r.FormValue("draft"); id != "" {
		if page.Draft, err = h.draftOf(ctx, ap, id, code); err != nil {
			return err
		}
		if page.Draft.State != Draft {
			http.Redirect(w, r, "/my/cases/"+url.PathEscape(id), http.StatusSeeOther)
			return nil
		}
		page.Values = page.Draft.Form
	}
	if page.Uploads, err = h.draftUploads(r, page.Draft); err != nil {
		return err
	}
	return h.pages.Render(w, http.StatusOK, "apply.html", page)
}

func (h *Handler) apply(w http.ResponseWriter, r *http.Request) error {
	const op = "cases.Handler.apply"
	ctx, code := r.Context(), r.PathValue("code")
	ap, ok := signedIn(w, r, "/items/"+url.PathEscape(code)+"/apply")
	if !ok {
		return nil
	}
	_, it, err := h.svc.newCase(ctx, code, ap, Online, nil)
	if err != nil {
		return err
	}
	page := h.applyPage(r, ap, code, it)
	page.Values = formValues(page.Fields, r)
	action := r.PostFormValue("action")
	if id := r.PostFormValue("draft"); id != "" {
		if page.Draft, err = h.draftOf(ctx, ap, id, code); err != nil {
			return err
		}
		page.Draft.Version, _ = strconv.Atoi(r.PostFormValue("version")) // what the applicant saw; a stale one is refused
	}
	render := func(status int, bad map[string]string) error {
		page.Errors = bad
		var err error
		if page.Uploads, err = h.draftUploads(r, page.Draft); err != nil {
			return err
		}
		return h.pages.Render(w, status, "apply.html", page)
	}
	if action != "save" && action != "submit" {
		return render(http.StatusUnprocessableEntity, map[string]string{"_": "请选择保存草稿或提交申请"})
	}
	form, bad := validateForm(page.Fields, page.Values, action == "save", h.svc.now())
	if action == "submit" && len(bad) == 0 {
		if err := h.attachmentsOf(ctx, it, page.Draft.ID, form, bad); err != nil {
			return err
		}
	}
	if len(bad) > 0 {
		return render(http.StatusUnprocessableEntity, bad)
	}
	// Each button is one transaction: a submission that fails saves nothing.
	var c Case
	switch {
	case page.Draft.ID == "":
		c, err = h.svc.File(ctx, ap, code, form, action == "submit")
	case action == "submit":
		c, err = h.svc.ApplicantAct(ctx, ap, page.Draft.ID, Submit, form, Input{}, page.Draft.Version)
	default:
		c, err = h.svc.SaveDraft(ctx, ap, page.Draft.ID, form, page.Draft.Version)
	}
	switch errs.KindOf(err) {
	case errs.Invalid:
		f, _ := web.FieldErrors(err)
		return render(http.StatusUnprocessableEntity, f)
	case errs.Conflict:
		// Saved elsewhere meanwhile (another tab): keep what was typed, say so.
		return render(http.StatusConflict, map[string]string{"_": errs.Message(err) + "。您填写的内容尚未保存；请复制留存后刷新页面。"})
	}
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if action == "save" {
		ui.SetFlash(w, "ok", "草稿已保存，可以稍后继续填写")
		http.Redirect(w, r, "/items/"+url.PathEscape(code)+"/apply?draft="+url.QueryEscape(c.ID), http.StatusSeeOther)
		return nil
	}
	ui.SetFlash(w, "ok", "申请已提交，办件编号 "+c.Number+"，请留意受理结果")
	http.Redirect(w, r, "/my/cases/"+url.PathEscape(c.ID), http.StatusSeeOther)
	return nil
}

// myCasesPage is what my_cases.html sees.
type myCasesPage struct {
	ui.Base
	Who   whoView
	Cases []Case
	Pager ui.Pager
}

func (h *Handler) myCases(w http.ResponseWriter, r *http.Request) error {
	ap, ok := signedIn(w, r, "")
	if !ok {
		return nil
	}
	page, _ := strconv.Atoi(r.FormValue("page"))
	if page < 1 {
		page = 1
	}
	list, total, err := h.svc.MyCases(r.Context(), ap, page)
	if err != nil {
		return err
	}
	pages := max(1, (total+49)/50)
	return h.pages.Render(w, http.StatusOK, "my_cases.html", myCasesPage{Base: ui.NewBase(r, "我的办件"), Who: whoOf(ap), Cases: list,
		Pager: ui.NewPager(r, page, pages, total)})
}

// myCasePage is what my_case.html sees.
type myCasePage struct {
	ui.Base
	Case        Case
	Events      []Event
	Materials   []Material
	FixOpinion  string // the correction notice's reason
	FixAt       time.Time
	Alert       Alert
	CanWithdraw bool
	Fields      []formField // the resubmission form
	Values      map[string]string
	Errors      map[string]string
	Problem     string // a refused action (stale page, state changed)
	Filled      []filled
	Uploads     uploadsView
	ResultForm  ResultPref // what the 结果领取方式 form shows
}

// filled is one answer of the application form, as the case page lists it.
type filled struct{ Label, Value string }

// filledOf lists form's answers in the order of fields, then any others
// (a window clerk's keys) by key.
func filledOf(fields []formField, form map[string]string) []filled {
	var out []filled
	for _, f := range fields {
		if v, ok := form[f.Key]; ok {
			out = append(out, filled{f.Label, v})
		}
	}
	var rest []string
	for k := range form {
		if !slices.ContainsFunc(fields, func(f formField) bool { return f.Key == k }) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		out = append(out, filled{k, form[k]})
	}
	return out
}

func (h *Handler) renderMyCase(w http.ResponseWriter, r *http.Request, ap Applicant, id string, status int, edit func(*myCasePage)) error {
	ctx := r.Context()
	c, err := h.svc.Mine(ctx, ap, id)
	if err != nil {
		return err
	}
	d, err := h.svc.DetailOf(ctx, c)
	if err != nil {
		return err
	}
	evs, mats, alert := d.Events, d.Materials, d.Alert
	title := c.ItemName
	if c.Number != "" {
		title += "（" + c.Number + "）"
	}
	it, err := h.itemOf(ctx, c)
	if err != nil {
		return err
	}
	fields := formOf(it)
	p := myCasePage{Base: ui.NewBase(r, title), Case: c, Events: evs, Materials: mats, Alert: alert, Values: c.Form, Errors: map[string]string{}, ResultForm: c.Result,
		Filled: filledOf(fields, c.Form)}
	if p.Values == nil {
		p.Values = map[string]string{}
	}
	if _, err := Next(c.Facts(), Withdraw, ByApplicant); err == nil {
		p.CanWithdraw = true
	}
	for _, e := range evs {
		if e.Action == RequestFix {
			p.FixOpinion, p.FixAt = e.Opinion, e.At
		}
	}
	if c.State == Correcting {
		p.Fields = fields
	}
	if p.Uploads, err = h.uploadsOf(r, c, mats); err != nil {
		return err
	}
	if edit != nil {
		edit(&p)
	}
	return h.pages.Render(w, status, "my_case.html", p)
}

func (h *Handler) myCase(w http.ResponseWriter, r *http.Request) error {
	ap, ok := signedIn(w, r, "")
	if !ok {
		return nil
	}
	id := r.PathValue("id")
	c, err := h.svc.Mine(r.Context(), ap, id)
	if err != nil {
		return err
	}
	if c.State == Draft {
		// A draft is edited on the application form.
		http.Redirect(w, r, "/items/"+url.PathEscape(c.ItemCode)+"/apply?draft="+url.QueryEscape(c.ID), http.StatusSeeOther)
		return nil
	}
	return h.renderMyCase(w, r, ap, id, http.StatusOK, nil)
}

// caseAction runs an applicant's action on case id from a posted page:
// act gets the version the page showed; a refusal shows the case as it is
// now, with 409 (stale page, changed state) or 422 (bad input).
func (h *Handler) caseAction(w http.ResponseWriter, r *http.Request, done string, act func(ap Applicant, id string, version int) error,
	keep func(*myCasePage)) error {
	id := r.PathValue("id")
	ap, ok := signedIn(w, r, "/my/cases/"+url.PathEscape(id))
	if !ok {
		return nil
	}
	version, err := strconv.Atoi(r.PostFormValue("version"))
	if err != nil {
		version = 0 // never a stored version: refused as stale
	}
	err = act(ap, id, version)
	switch k := errs.KindOf(err); {
	case err == nil:
		ui.SetFlash(w, "ok", done)
		http.Redirect(w, r, "/my/cases/"+url.PathEscape(id), http.StatusSeeOther)
		return nil
	case k == errs.Conflict || k == errs.Invalid:
		status := web.StatusOf(k)
		return h.renderMyCase(w, r, ap, id, status, func(p *myCasePage) {
			if k == errs.Conflict {
				p.Problem = errs.Message(err) + "。页面已更新为办件的最新状态，请核对后再操作。"
			} else {
				p.Errors, _ = web.FieldErrors(err)
				p.Problem = errs.Message(err)
			}
			if keep != nil {
				keep(p)
			}
		})
	}
	return err
}

func (h *Handler) resubmit(w http.ResponseWriter, r *http.Request) error {
	var values map[string]string
	return h.caseAction(w, r, "已重新提交补正材料，请留意办理进度", func(ap Applicant, id string, version int) error {
		ctx := r.Context()
		c, err := h.svc.Mine(ctx, ap, id)
		if err != nil {
			return err
		}
		it, err := h.itemOf(ctx, c)
		if err != nil {
			return err
		}
		fields := formOf(it)
		values = formValues(fields, r)
		form, bad := validateForm(fields, values, false, h.svc.now())
		if len(bad) == 0 {
			// Values typed on no form field (attachments, a clerk's) are kept, attachments refreshed.
			for k, v := range c.Form {
				if !slices.ContainsFunc(fields, func(f formField) bool { return f.Key == k }) {
					form[k] = v
				}
			}
			if err := h.attachmentsOf(ctx, it, c.ID, form, bad); err != nil {
				return err
			}
		}
		if len(bad) > 0 {
			return formError("cases.Handler.resubmit", bad)
		}
		_, err = h.svc.ApplicantAct(ctx, ap, id, Resubmit, form, Input{Opinion: r.PostFormValue("opinion")}, version)
		return err
	}, func(p *myCasePage) {
		if values != nil && p.Case.State == Correcting {
			p.Values = values
		}
	})
}

// result records how the applicant asks to receive the result.
func (h *Handler) result(w http.ResponseWriter, r *http.Request) error {
	pref := ResultPref{Method: DeliveryMethod(r.PostFormValue("result_method")), Address: r.PostFormValue("result_address")}
	return h.caseAction(w, r, "结果领取方式已保存", func(ap Applicant, id string, version int) error {
		_, err := h.svc.SetResult(r.Context(), ap, id, pref, version)
		return err
	}, func(p *myCasePage) { p.ResultForm = pref })
}

func (h *Handler) withdraw(w http.ResponseWriter, r *http.Request) error {
	return h.caseAction(w, r, "申请已撤回", func(ap Applicant, id string, version int) error {
		if r.PostFormValue("confirm") != "yes" {
			return &errs.Error{Kind: errs.Invalid, Op: "cases.Handler.withdraw", Msg: "请确认撤回申请", Fields: map[string]string{"confirm": "请确认撤回申请"}}
		}
		_, err := h.svc.ApplicantAct(r.Context(), ap, id, Withdraw, nil, Input{Opinion: r.PostFormValue("reason")}, version)
		return err
	}, nil)
}

// progressPage is what progress.html sees: a case found by number and
// applicant name shows only its state, dates and public timeline.
type progressPage struct {
	ui.Base
	Number, Name string
	Message      string
	Found        bool
	Case         Case
	Events       []Event
}

// progressNotFound is the one answer to a wrong number, a wrong name or both.
const progressNotFound = "未找到该办件，请核对办件编号和申请人名称后重新查询"

func (h *Handler) progress(w http.ResponseWriter, r *http.Request) error {
	p := progressPage{Base: ui.NewBase(r, "办件进度查询"), Number: strings.TrimSpace(r.FormValue("number")), Name: strings.TrimSpace(r.FormValue("name"))}
	if utf8.RuneCountInString(p.Number) > 64 || utf8.RuneCountInString(p.Name) > 100 {
		p.Number, p.Name = clip(p.Number, 64), clip(p.Name, 100)
		p.Message = progressNotFound
		return h.pages.Render(w, http.StatusNotFound, "progress.html", p)
	}
	switch {
	case p.Number == "" && p.Name == "":
		return h.pages.Render(w, http.StatusOK, "progress.html", p)
	case p.Number == "" || p.Name == "":
		p.Message = "请填写办件编号和申请人名称"
		return h.pages.Render(w, http.StatusUnprocessableEntity, "progress.html", p)
	}
	// Lookups are limited per address: a known number must not let anyone
	// try names until one fits.
	if !h.limiter.Allow(web.ClientIP(r.Context())) {
		p.Message = "查询过于频繁，请稍后再试"
		return h.pages.Render(w, http.StatusTooManyRequests, "progress.html", p)
	}
	c, err := h.svc.Progress(r.Context(), p.Number, p.Name)
	if errs.KindOf(err) == errs.NotFound {
		p.Message = progressNotFound
		return h.pages.Render(w, http.StatusNotFound, "progress.html", p)
	}
	if err != nil {
		return err
	}
	evs, err := h.svc.Events(r.Context(), c.ID)
	if err != nil {
		return err
	}
	p.Found, p.Case, p.Events = true, c, evs
	return h.pages.Render(w, http.StatusOK, "progress.html", p)
}
