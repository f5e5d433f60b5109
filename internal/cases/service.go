package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"yiwang/internal/calendar"
	"yiwang/internal/catalog"
	"yiwang/internal/identity"
	"yiwang/internal/org"
	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/outbox"
	"yiwang/internal/platform/password"
	"yiwang/internal/platform/sqldb"
)

// TopicChanged is the outbox topic of every case transition; license
// issuance, evaluation and reporting upward follow it.
const TopicChanged = "cases.case.changed"

// Changed is the payload of TopicChanged.
type Changed struct {
	ID          string `json:"id"`
	Number      string `json:"number"`
	ItemCode    string `json:"item_code"`
	Action      Action `json:"action"`
	Code        Code   `json:"code"`
	State       State  `json:"state"`
	ApplicantID string `json:"applicant_id"`
}

// Notifier tells applicants what happened to their case, inside the
// transaction of the change: identity.Service sends an SMS to the
// account's phone and, when it has a verified address, an e-mail (both
// queued on the outbox, each through its pluggable sender).
type Notifier interface {
	// NotifyAccountOr texts phone when the account has no phone of its own.
	NotifyAccountOr(ctx context.Context, tx *sql.Tx, accountID, phone, subject, text string) error
}

// Settings are the case rules that are local policy.
type Settings struct {
	WarnDays int // working days before the promised due date that a case turns yellow [2]
}

// Service is the cases domain's operations.
type Service struct {
	db     *sqldb.DB
	cal    *calendar.Service
	orgs   *org.Service
	items  *catalog.Service
	ids    *identity.Service
	notify Notifier
	set    Settings
	now    func() time.Time
}

// NewService returns the cases service.
func NewService(db *sqldb.DB, cal *calendar.Service, orgs *org.Service, items *catalog.Service, ids *identity.Service, notify Notifier, set Settings) *Service {
	if set.WarnDays <= 0 {
		set.WarnDays = 2
	}
	if notify == nil {
		notify = ids
	}
	return &Service{db: db, cal: cal, orgs: orgs, items: items, ids: ids, notify: notify, set: set, now: sqldb.Now}
}

// OnDepartmentMoved keeps the cases' copies of department paths current
// (org.department.moved), so scoped lists follow a moved department.
func (s *Service) OnDepartmentMoved(ctx context.Context, m outbox.Message) error {
	return s.orgs.RepathColumns(ctx, s.db, m, org.PathColumns{Table: "cases", ID: "dept_id", Path: "dept_path"},
		org.PathColumns{Table: "cases", ID: "at_dept_id", Path: "at_dept_path"})
}

// SetClock replaces the clock (tests). Its times are kept in UTC, as
// sqldb.Now's: PostgreSQL's TIMESTAMP stores the wall clock as given.
func (s *Service) SetClock(now func() time.Time) { s.now = func() time.Time { return now().UTC() } }

// Case is one application (办件).
type Case struct {
	ID, Number                 string
	ItemID, ItemCode, ItemName string
	ItemVersion                int
	DeptID, DeptName, DeptPath string // the implementing department (实施主体)
	// AtDeptID, AtDeptName, AtDeptPath are the department the case is with
	// now: the implementing one, or the current step's (后台分类审批).
	AtDeptID, AtDeptName, AtDeptPath string
	AtRegion                         string // the region of the department the case is with
	Region                           string
	Channel                          Channel
	State                            State
	Step                             int
	Steps                            []Step
	ApplicantID, ApplicantKind       string
	ApplicantName, ApplicantIDN      string // name and ID number or credit code
	ApplicantPhone                   string
	ActingFor, AgentName             string // the enterprise acted for and the 经办人 who acted
	Immediate                        bool
	Legal, Promised                  Limit
	Extension                        int
	FixRequested                     bool
	FixedFrom                        State
	FixItems                         []string // what the correction notice asked for
	Outstanding                      []string // 容缺 materials still owed
	SupplyBy                         time.Time
	Pauses                           []Pause
	Form                             map[string]string
	SubmittedAt, AcceptedAt          time.Time
	DecidedAt                        time.Time
	DeliveredAt                      time.Time // when the result last went out (送达), zero before
	Delivery                         Delivery
	// ToDeliver: the decision's result waits to go out (待出件). Cases
	// decided before deliveries were recorded have neither.
	ToDeliver bool
	// Result is how the applicant asks to receive the result.
	Result                ResultPref
	LegalDue, PromisedDue time.Time
	CreatedAt, UpdatedAt  time.Time
	Version               int
}

// Target is the implementing department's place, for permission checks.
func (c Case) Target() authz.Target { return authz.Target{Region: c.Region, DeptPath: c.DeptPath} }

// AtTarget is the place of the department the case is with now.
func (c Case) AtTarget() authz.Target {
	return authz.Target{Region: c.AtRegion, DeptPath: c.AtDeptPath}
}

// VisibleTo reports whether staff member p may see c: p may view cases of
// its implementing department or of the department it is with now.
func (c Case) VisibleTo(p *authz.Principal) bool {
	return c.State != Draft && (p.Can(authz.ViewCases, c.Target()) || p.Can(authz.ViewCases, c.AtTarget()))
}

// ResultOpen reports whether the applicant may still say how to receive
// the result: before it has gone out, while the case may still end in one.
func (c Case) ResultOpen() bool {
	return c.DeliveredAt.IsZero() && (c.State == Draft || c.State.Open() || c.ToDeliver)
}

// StepName is the current workflow step's name ("" before acceptance).
func (c Case) StepName() string {
	if c.State != Accepted && c.State != Special || c.Step >= len(c.Steps) {
		return ""
	}
	return c.Steps[c.Step].Name
}

// step is the current workflow step (the zero Step when there is none).
func (c Case) step() Step {
	if c.Step < len(c.Steps) {
		return c.Steps[c.Step]
	}
	return Step{}
}

// Facts are what the state machine needs of c.
func (c Case) Facts() Facts {
	return Facts{State: c.State, FixRequested: c.FixRequested, FixedFrom: c.FixedFrom, Step: c.Step, Steps: len(c.Steps),
		Outstanding: len(c.Outstanding) > 0, Extended: c.Extension > 0, StepHolder: c.step().Holder()}
}

// Clock is c's clock.
func (c Case) Clock() Clock {
	return Clock{Region: c.Region, Accepted: c.AcceptedAt, Immediate: c.Immediate, Legal: c.Legal, Promised: c.Promised,
		Extension: c.Extension, Pauses: c.Pauses}
}

// Event is one transition of a case (办件过程信息).
type Event struct {
	Seq       int       `json:"seq"`
	At        time.Time `json:"at"`
	Action    Action    `json:"action"`
	Code      Code      `json:"code" doc:"国家办件状态代码（1–15；0 表示无对应代码）"`
	From      State     `json:"from"`
	To        State     `json:"to"`
	ActorName string    `json:"actor" doc:"办理人"`
	ActorRole Role      `json:"role"`
	DeptName  string    `json:"department" doc:"办理部门"`
	Opinion   string    `json:"opinion" doc:"办理意见"`
}

// Material is a material provided with a case.
type Material struct {
	ID           string
	Name         string
	BlobKey      string
	SHA256       string
	Size         int64
	ContentType  string
	PaperChecked bool
	AddedBy      string // "account:<id>" for the applicant's uploads, "staff:<id>" for scans
	CreatedAt    time.Time
}

// Applicants reports whether the applicant uploaded m (and may take it back).
func (m Material) Applicants() bool { return strings.HasPrefix(m.AddedBy, "account:") }

// ---- storage ----

const caseColumns = `id, COALESCE(number, ''), item_id, item_code, item_version, item_name, dept_id, dept_name, dept_path,
	at_dept_id, at_dept_name, at_dept_path, at_region_code, region_code, channel,
	state, step, steps, applicant_id, applicant_kind, applicant_name, applicant_idno, applicant_phone, acting_for, agent_name, immediate,
	legal_days, legal_unit, promised_days, promised_unit, extension_days, fix_requested, fixed_from, fix_items, outstanding, supply_by,
	pauses, form_data, submitted_at, accepted_at, decided_at, legal_due, promised_due, created_at, updated_at, version, delivered_at, delivery, to_deliver, result_pref`

func scanCase(sc interface{ Scan(...any) error }) (Case, error) {
	var c Case
	var steps, fixItems, outstanding, pauses, form, delivery, result string
	var supplyBy, submitted, accepted, decided, legalDue, promisedDue, delivered sql.NullTime
	err := sc.Scan(&c.ID, &c.Number, &c.ItemID, &c.ItemCode, &c.ItemVersion, &c.ItemName, &c.DeptID, &c.DeptName, &c.DeptPath,
		&c.AtDeptID, &c.AtDeptName, &c.AtDeptPath, &c.AtRegion, &c.Region,
		&c.Channel, &c.State, &c.Step, &steps, &c.ApplicantID, &c.ApplicantKind, &c.ApplicantName, &c.ApplicantIDN, &c.ApplicantPhone,
		&c.ActingFor, &c.AgentName, &c.Immediate, &c.Legal.Days, &c.Legal.Unit, &c.Promised.Days, &c.Promised.Unit, &c.Extension,
		&c.FixRequested, &c.FixedFrom, &fixItems, &outstanding, &supplyBy, &pauses, &form, &submitted, &accepted, &decided,
		&legalDue, &promisedDue, &c.CreatedAt, &c.UpdatedAt, &c.Version, &delivered, &delivery, &c.ToDeliver, &result)
	if err != nil {
		return Case{}, err
	}
	c.SupplyBy, c.SubmittedAt, c.AcceptedAt, c.DecidedAt = supplyBy.Time, submitted.Time, accepted.Time, decided.Time
	c.LegalDue, c.PromisedDue, c.DeliveredAt = legalDue.Time, promisedDue.Time, delivered.Time
	for _, j := range []struct {
		s string
		v any
	}{{steps, &c.Steps}, {fixItems, &c.FixItems}, {outstanding, &c.Outstanding}, {pauses, &c.Pauses}, {form, &c.Form}, {delivery, &c.Delivery}, {result, &c.Result}} {
		if err := json.Unmarshal([]byte(j.s), j.v); err != nil {
			return Case{}, fmt.Errorf("cases.scanCase: stored JSON: %w", err)
		}
	}
	return c, nil
}

var errNoCase = &errs.Error{Kind: errs.NotFound, Op: "cases.get", Msg: "办件不存在"}

func getCase(ctx context.Context, q sqldb.Querier, where string, args ...any) (Case, error) {
	c, err := scanCase(q.QueryRowContext(ctx, `SELECT `+caseColumns+` FROM cases WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Case{}, errNoCase
	}
	if err != nil {
		return Case{}, fmt.Errorf("cases.get: %w", err)
	}
	return c, nil
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// save writes every mutable field of c, if c.Version is still the stored
// one; a concurrent change is a Conflict.
func save(ctx context.Context, tx *sql.Tx, c Case, now time.Time) (Case, error) {
	res, err := tx.ExecContext(ctx, `UPDATE cases SET number = $1, state = $2, step = $3, extension_days = $4, fix_requested = $5, fixed_from = $6,
		fix_items = $7, outstanding = $8, supply_by = $9, pauses = $10, form_data = $11, submitted_at = $12, accepted_at = $13, decided_at = $14,
		legal_due = $15, promised_due = $16, updated_at = $17, is_open = $18, due_sort = $19, at_dept_id = $20, at_dept_name = $21, at_dept_path = $22,
		at_region_code = $23, delivered_at = $24, delivery = $25, to_deliver = $26, result_pref = $27, version = version + 1 WHERE id = $28 AND version = $29`,
		sqldb.NullString(c.Number), c.State, c.Step, c.Extension, c.FixRequested, c.FixedFrom, js(c.FixItems), js(c.Outstanding), nullTime(c.SupplyBy),
		js(c.Pauses), js(c.Form), nullTime(c.SubmittedAt), nullTime(c.AcceptedAt), nullTime(c.DecidedAt), nullTime(c.LegalDue), nullTime(c.PromisedDue),
		now, c.State.Open(), dueSort(c), c.AtDeptID, c.AtDeptName, c.AtDeptPath, c.AtRegion, nullTime(c.DeliveredAt), js(c.Delivery), c.ToDeliver, js(c.Result),
		c.ID, c.Version)
	if err != nil {
		return Case{}, fmt.Errorf("cases.save: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Case{}, &errs.Error{Kind: errs.Conflict, Op: "cases.save", Msg: "该办件已被他人处理或修改，请刷新后查看最新状态"}
	}
	c.Version++
	c.UpdatedAt = now
	return c, nil
}

// noDue orders cases without a promised due date after all others.
var noDue = time.Date(2999, 12, 31, 0, 0, 0, 0, time.UTC)

func dueSort(c Case) time.Time {
	if c.PromisedDue.IsZero() {
		return noDue
	}
	return c.PromisedDue
}

// nextNumber takes the next daily sequence number for itemCode on day,
// holding its row until tx ends (unique under concurrency on every engine).
func nextNumber(ctx context.Context, tx *sql.Tx, itemCode string, day time.Time) (string, error) {
	d := day.Format("20060102")
	for range 2 {
		var seq int
		err := tx.QueryRowContext(ctx, `UPDATE case_sequences SET seq = seq + 1 WHERE item_code = $1 AND day = $2 RETURNING seq`, itemCode, d).Scan(&seq)
		if err == nil {
			if seq > 9999 {
				return "", &errs.Error{Kind: errs.Conflict, Op: "cases.nextNumber", Msg: "该事项当日办件编号已用尽（每日最多9999件），请明日再试"}
			}
			return Number(itemCode, day, seq), nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO case_sequences (item_code, day, seq) VALUES ($1, $2, 0) ON CONFLICT (item_code, day) DO NOTHING`, itemCode, d); err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("cases.nextNumber: sequence row for %s/%s missing", itemCode, d)
}

// ---- filing ----

// Applicant is who a case is for: an account, and the 经办人 when a person
// acts for an enterprise.
type Applicant struct {
	Account identity.Account
	Acting  *identity.Account // the enterprise, when the account acts for one
}

// holder is the account the case belongs to (the enterprise when acting).
func (a Applicant) holder() identity.Account {
	if a.Acting != nil {
		return *a.Acting
	}
	return a.Account
}

// stepsOf are an item's steps after acceptance, up to its decision, with
// the department and role the item gives each.
func stepsOf(it catalog.Item) []Step {
	var out []Step
	for i, routed := range catalog.RoutedSteps(it.Steps) {
		if !routed {
			continue
		}
		st := it.Steps[i]
		s := Step{Name: st.Name, DeptID: st.DeptID}
		if st.Role == catalog.StepApprover {
			s.Role = ByApprover
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return slices.Clone(DefaultSteps)
	}
	return out
}

func unitOf(u catalog.Unit) calendar.Unit {
	if u == catalog.Natural {
		return calendar.NaturalUnit
	}
	return calendar.WorkdayUnit
}

// newCase builds a case for applicant on the published item with code.
func (s *Service) newCase(ctx context.Context, code string, ap Applicant, channel Channel, form map[string]string) (Case, catalog.Item, error) {
	const op = "cases.newCase"
	rec, it, err := s.items.Published(ctx, code)
	if err != nil {
		return Case{}, it, err
	}
	if rec.Status != catalog.StatusPublished {
		return Case{}, it, &errs.Error{Kind: errs.Conflict, Op: op, Msg: "该事项暂停办理，暂不受理新的申请"}
	}
	if channel == Online && !it.OnlineApplication() {
		return Case{}, it, &errs.Error{Kind: errs.Conflict, Op: op, Msg: "该事项不支持网上申请，请到窗口办理"}
	}
	if channel == Online && it.MinAssurance > int(ap.Account.Assurance) {
		return Case{}, it, &errs.Error{Kind: errs.Forbidden, Op: op,
			Msg: fmt.Sprintf("该事项要求账号实名等级为%s，您的账号为%s；请到政务服务大厅窗口现场核验身份后再申请", catalog.AssuranceLevels[it.MinAssurance],
				identity.LevelLabels[ap.Account.Assurance])}
	}
	h := ap.holder()
	now := s.now()
	c := Case{ID: sqldb.NewID(), ItemID: rec.ID, ItemCode: rec.Code, ItemVersion: rec.PublishedVersion, ItemName: it.Name, DeptID: it.DeptID,
		DeptName: it.DeptName, DeptPath: rec.DeptPath, AtDeptID: it.DeptID, AtDeptName: it.DeptName, AtDeptPath: rec.DeptPath, AtRegion: it.Region, Region: it.Region, Channel: channel, State: Draft, Steps: stepsOf(it),
		ApplicantID: h.ID, ApplicantKind: string(h.Kind), ApplicantName: h.Name, ApplicantIDN: h.Username(), ApplicantPhone: h.Phone,
		Immediate: it.Kind == catalog.Immediate, Legal: Limit{it.LegalLimit.Days, unitOf(it.LegalLimit.Unit)},
		Promised: Limit{it.PromisedLimit.Days, unitOf(it.PromisedLimit.Unit)}, CreatedAt: now, UpdatedAt: now, Version: 1,
		FixItems: []string{}, Outstanding: []string{}, Pauses: []Pause{}}
	if ap.Acting != nil {
		c.ActingFor, c.AgentName = ap.Acting.ID, ap.Account.Name
		if c.ApplicantPhone == "" {
			c.ApplicantPhone = ap.Account.Phone
		}
	}
	if c.Form, err = cleanForm(form); err != nil {
		return Case{}, it, err
	}
	return c, it, nil
}

// cleanForm trims the submitted form values, drops empty ones and bounds
// what a form may hold (the item's own fields are validated against its
// definition by the caller).
func cleanForm(form map[string]string) (map[string]string, error) {
	const op = "cases.cleanForm"
	out := map[string]string{}
	for k, v := range form {
		if v = strings.TrimSpace(v); v != "" {
			out[strings.TrimSpace(k)] = v
		}
	}
	if len(out) > 100 {
		return nil, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "表单内容过多"}
	}
	for k, v := range out {
		if len(k) > 64 || utf8.RuneCountInString(v) > 2000 || !utf8.ValidString(k+v) {
			return nil, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "表单内容过长或含无效字符", Fields: map[string]string{k: "内容过长或含无效字符"}}
		}
	}
	return out, nil
}

func (s *Service) insert(ctx context.Context, tx *sql.Tx, c Case) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO cases (id, item_id, item_code, item_version, item_name, dept_id, dept_name, dept_path, region_code, channel,
		state, steps, applicant_id, applicant_kind, applicant_name, applicant_idno, applicant_phone, acting_for, agent_name, immediate,
		legal_days, legal_unit, promised_days, promised_unit, form_data, created_at, updated_at, at_dept_id, at_dept_name, at_dept_path, at_region_code,
		result_pref)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $26, $6, $7, $8, $9,
		$27)`,
		c.ID, c.ItemID, c.ItemCode, c.ItemVersion, c.ItemName, c.DeptID, c.DeptName, c.DeptPath, c.Region, c.Channel, c.State, js(c.Steps),
		c.ApplicantID, c.ApplicantKind, c.ApplicantName, c.ApplicantIDN, c.ApplicantPhone, c.ActingFor, c.AgentName, c.Immediate,
		c.Legal.Days, c.Legal.Unit, c.Promised.Days, c.Promised.Unit, js(c.Form), c.CreatedAt, js(c.Result))
	if err != nil {
		return fmt.Errorf("cases.insert: %w", err)
	}
	return nil
}

// Draft starts an online application on the published item with code.
func (s *Service) Draft(ctx context.Context, ap Applicant, code string, form map[string]string) (Case, error) {
	return s.File(ctx, ap, code, form, false)
}

// File starts an online application on the published item with code and,
// when submit is set, submits it in the same transaction: a filing is
// never left half done. The caller has checked form against the item's.
func (s *Service) File(ctx context.Context, ap Applicant, code string, form map[string]string, submit bool) (Case, error) {
	c, _, err := s.newCase(ctx, code, ap, Online, form)
	if err != nil {
		return Case{}, err
	}
	return s.file(ctx, ap, c, submit)
}

// file stores c, built by newCase, and submits it when asked.
func (s *Service) file(ctx context.Context, ap Applicant, c Case, submit bool) (Case, error) {
	out := c
	err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error { // may run again: it must not change c
		out = c
		if err := s.insert(ctx, tx, c); err != nil {
			return err
		}
		if submit { // the submission's own audit entry records the filing
			var err error
			out, err = s.transition(ctx, tx, c, Submit, Actor{ID: "account:" + ap.Account.ID, Name: ap.Account.Name, Role: ByApplicant}, Input{}, s.now())
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "cases.case.draft", TargetType: "case", TargetID: c.ID, Region: c.Region, DeptPath: c.DeptPath,
			Detail: map[string]string{"item": c.ItemCode}})
	})
	if err != nil {
		return Case{}, err
	}
	return out, nil
}

// SaveDraft replaces a draft's form data.
func (s *Service) SaveDraft(ctx context.Context, ap Applicant, id string, form map[string]string, version int) (Case, error) {
	form, err := cleanForm(form)
	if err != nil {
		return Case{}, err
	}
	var out Case
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		c, err := s.own(ctx, tx, ap, id)
		if err != nil {
			return err
		}
		if c.State != Draft {
			return &errs.Error{Kind: errs.Conflict, Op: "cases.SaveDraft", Msg: "申请已提交，不能再修改"}
		}
		c.Form, c.Version = form, version
		out, err = save(ctx, tx, c, s.now())
		return err
	})
	return out, err
}

// own loads a case of the applicant's (or of the enterprise they act for).
func (s *Service) own(ctx context.Context, q sqldb.Querier, ap Applicant, id string) (Case, error) {
	c, err := getCase(ctx, q, `id = $1`, id)
	if err != nil {
		return Case{}, err
	}
	if c.ApplicantID != ap.holder().ID {
		return Case{}, errNoCase
	}
	return c, nil
}

// WalkIn is what a clerk registers for an applicant at a window.
type WalkIn struct {
	ItemCode string
	Kind     identity.Kind
	IDNumber string // person: 公民身份号码
	USCC     string // legal: 统一社会信用代码
	Name     string // the person, or the enterprise
	LegalRep string // legal: 法定代表人
	Phone    string
	Form     map[string]string
	Paper    []string   // names of the paper originals the clerk checked
	Result   ResultPref // how the applicant asks to receive the result
}

// RegisterWalkIn files a case for a walk-in applicant at the window
// (综合窗口收件): the applicant's account is found by ID number or credit
// code, or created on the spot (they can set a password later through
// 忘记密码 with their phone); the case is submitted at once with the paper
// materials the clerk checked.
func (s *Service) RegisterWalkIn(ctx context.Context, p *authz.Principal, in WalkIn) (Case, error) {
	const op = "cases.RegisterWalkIn"
	if !p.CanAny(authz.AcceptCases) {
		return Case{}, &errs.Error{Kind: errs.Forbidden, Op: op, Msg: "您没有窗口收件的权限"}
	}
	if err := in.Result.check(op); err != nil {
		return Case{}, err
	}
	// The item and the clerk's scope first: a refused walk-in leaves no account behind.
	rec, _, err := s.items.Published(ctx, in.ItemCode)
	if err != nil {
		return Case{}, err
	}
	if !p.Can(authz.AcceptCases, rec.Target()) {
		return Case{}, &errs.Error{Kind: errs.Forbidden, Op: op, Msg: "该事项不在您的受理范围内"}
	}
	if rec.Status != catalog.StatusPublished {
		return Case{}, &errs.Error{Kind: errs.Conflict, Op: op, Msg: "该事项暂停办理，暂不受理新的申请"}
	}
	acct, err := s.walkInAccount(ctx, in)
	if err != nil {
		return Case{}, err
	}
	c, _, err := s.newCase(ctx, in.ItemCode, Applicant{Account: acct}, Window, in.Form)
	if err != nil {
		return Case{}, err
	}
	c.Result = in.Result
	now := s.now()
	var out Case
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		if err := s.insert(ctx, tx, c); err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, name := range in.Paper {
			if name = strings.TrimSpace(name); name == "" || seen[name] {
				continue
			}
			seen[name] = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO case_materials (id, case_id, name, paper_checked, added_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
				sqldb.NewID(), c.ID, clip(name, 200), true, p.UserID, now); err != nil {
				return err
			}
		}
		var err error
		out, err = s.transition(ctx, tx, c, Submit, Actor{ID: p.UserID, Name: p.Name, Role: ByApplicant, Staff: true}, Input{}, now)
		return err
	})
	return out, err
}

func (s *Service) walkInAccount(ctx context.Context, in WalkIn) (identity.Account, error) {
	var a identity.Account
	var err error
	if in.Kind == identity.Legal {
		a, err = s.ids.AccountByUSCC(ctx, in.USCC)
	} else {
		a, err = s.ids.AccountByIDNumber(ctx, in.IDNumber)
	}
	if err == nil && a.Name != strings.TrimSpace(in.Name) {
		return identity.Account{}, &errs.Error{Kind: errs.Invalid, Op: "cases.walkInAccount", Msg: "申请人名称与该证件号码已登记的账号不一致，请核对",
			Fields: map[string]string{"name": "与该证件号码已登记的名称不一致"}}
	}
	if errs.KindOf(err) != errs.NotFound {
		return a, err
	}
	return s.ids.CreateAccount(ctx, identity.NewAccount{Kind: in.Kind, Name: in.Name, IDNumber: in.IDNumber, USCC: in.USCC, Phone: in.Phone,
		LegalRep: in.LegalRep, Password: password.Demo()})
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
