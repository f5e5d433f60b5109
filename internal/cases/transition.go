package cases

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"yiwang/internal/calendar"
	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/outbox"
	"yiwang/internal/platform/sqldb"
)

// Actor is who takes an action.
type Actor struct {
	ID, Name string
	Role     Role
	Staff    bool // a staff member (a clerk filing for a walk-in acts as the applicant's hand)
}

// Input is what an action carries.
type Input struct {
	Opinion string    // 办理意见: the reason for refusals, corrections, denials, revocations, special procedures, extensions
	Items   []string  // correction: everything to fix; 容缺受理: the materials still owed
	Days    int       // extension: days granted
	By      time.Time // 容缺受理: the date by which the owed materials must come
	Deliver Delivery  // 送达: how the result went out
}

// tracking is a postal item number: 8 to 30 ASCII letters and digits.
func tracking(s string) bool {
	if len(s) < 8 || len(s) > 30 {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z') {
			return false
		}
	}
	return true
}

func invalid(op, field, msg string) error {
	return &errs.Error{Kind: errs.Invalid, Op: op, Msg: msg, Fields: map[string]string{field: msg}}
}

// control reports a control character other than a tab or line break
// (notices and messages cannot carry them).
func control(r rune) bool { return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' }

// hidden reports a character a name must not hide: a control or an
// invisible format character (bidi overrides, zero-width spaces).
func hidden(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }

// check validates in for action a.
func (in *Input) check(a Action, today time.Time) error {
	const op = "cases.Input.check"
	in.Opinion = strings.TrimSpace(in.Opinion)
	var items []string
	for _, it := range in.Items {
		if it = strings.TrimSpace(it); it != "" {
			items = append(items, it)
		}
	}
	in.Items = items
	switch {
	case NeedsOpinion(a) && in.Opinion == "":
		return invalid(op, "opinion", "请填写办理意见（理由）")
	case utf8.RuneCountInString(in.Opinion) > 1000 || !utf8.ValidString(in.Opinion):
		return invalid(op, "opinion", "办理意见不能超过1000个字")
	case strings.IndexFunc(in.Opinion, control) >= 0:
		return invalid(op, "opinion", "办理意见含有无效字符")
	case len(in.Items) > 50:
		return invalid(op, "items", "所列事项不能超过50项")
	}
	for _, it := range in.Items {
		if utf8.RuneCountInString(it) > 200 || !utf8.ValidString(it) {
			return invalid(op, "items", "每项不能超过200个字")
		}
		if strings.IndexFunc(it, control) >= 0 {
			return invalid(op, "items", "所列事项含有无效字符")
		}
	}
	switch a {
	case RequestFix:
		if len(in.Items) == 0 {
			return invalid(op, "items", "请一次性列明需要补正的全部内容")
		}
	case AcceptTolerant:
		if len(in.Items) == 0 {
			return invalid(op, "items", "请列明容缺后补的材料")
		}
		if in.By.IsZero() || calendar.DateOf(in.By).Before(calendar.DateOf(today)) {
			return invalid(op, "by", "请填写不早于今天的补齐期限")
		}
	case Extend:
		if in.Days < 1 || in.Days > 60 {
			return invalid(op, "days", "延期天数应在1至60之间")
		}
	case Deliver:
		return in.Deliver.check(op)
	}
	return nil
}

// check validates and tidies a result preference: at the window unless
// by post, with an address.
func (p *ResultPref) check(op string) error {
	p.Address = strings.TrimSpace(p.Address)
	switch p.Method {
	case "", AtWindow:
		*p = ResultPref{Method: AtWindow}
		return nil
	case ByPost:
	default:
		return invalid(op, "result_method", "请选择结果领取方式")
	}
	if n := utf8.RuneCountInString(p.Address); n < 5 || n > 200 || !utf8.ValidString(p.Address) || strings.IndexFunc(p.Address, hidden) >= 0 {
		return invalid(op, "result_address", "请填写邮寄地址（5至200个字，不含无效字符）")
	}
	return nil
}

// SetResult records how the applicant asks to receive the result
// (结果领取方式) on case id, seen at version, until the result has gone out.
func (s *Service) SetResult(ctx context.Context, ap Applicant, id string, pref ResultPref, version int) (Case, error) {
	const op = "cases.Service.SetResult"
	if err := pref.check(op); err != nil {
		return Case{}, err
	}
	var out Case
	err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		c, err := s.own(ctx, tx, ap, id)
		if err != nil {
			return err
		}
		if !c.ResultOpen() {
			return &errs.Error{Kind: errs.Conflict, Op: op, Msg: "办理结果已送达或办件已终止，不能再修改领取方式"}
		}
		c.Version, c.Result = version, pref
		if out, err = save(ctx, tx, c, s.now()); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "cases.case.result_pref", TargetType: "case", TargetID: c.ID, Region: c.Region, DeptPath: c.DeptPath,
			Detail: map[string]any{"number": c.Number, "method": pref.Method}})
	})
	return out, err
}

// check validates and tidies a delivery record.
func (d *Delivery) check(op string) error {
	// Full-width letters and digits (typed with a Chinese input method) are
	// the same item number.
	d.Recipient, d.Tracking = strings.TrimSpace(d.Recipient), strings.ToUpper(width.Narrow.String(strings.TrimSpace(d.Tracking)))
	if d.Method != AtWindow && d.Method != ByPost {
		return invalid(op, "method", "请选择送达方式")
	}
	switch {
	case d.Recipient == "":
		return invalid(op, "recipient", map[DeliveryMethod]string{AtWindow: "请填写领取人姓名", ByPost: "请填写收件人姓名"}[d.Method])
	case utf8.RuneCountInString(d.Recipient) > 50 || !utf8.ValidString(d.Recipient) || strings.IndexFunc(d.Recipient, hidden) >= 0:
		return invalid(op, "recipient", "姓名不能超过50个字，且不能含有无效字符")
	case d.Method == AtWindow:
		d.Tracking = ""
	case !tracking(d.Tracking):
		return invalid(op, "tracking", "请填写邮件号（8至30位字母或数字）")
	}
	return nil
}

// transition applies action a by actor to c (loaded in tx, c.Version the
// version the actor saw), records the event, audit entry, outbox message
// and notice, and returns the case as saved.
func (s *Service) transition(ctx context.Context, tx *sql.Tx, c Case, a Action, actor Actor, in Input, now time.Time) (Case, error) {
	const op = "cases.transition"
	facts := c.Facts()
	to, err := Next(facts, a, actor.Role)
	if err != nil {
		return Case{}, err
	}
	if err := in.check(a, now); err != nil {
		return Case{}, err
	}
	redelivery := a == Deliver && !c.DeliveredAt.IsZero()
	if redelivery && in.Opinion == "" {
		return Case{}, invalid(op, "opinion", "已登记过送达，再次送达请说明原因（如更正邮件号、邮件退回后改为窗口领取）")
	}
	code := CodeOf(facts, a)
	from, actedAt := c.State, c.AtDeptName
	switch a {
	case Submit:
		if c.Number, err = nextNumber(ctx, tx, c.ItemCode, calendar.DateOf(now)); err != nil {
			return Case{}, err
		}
		c.SubmittedAt = now
	case Accept, AcceptTolerant:
		c.AcceptedAt = now
		if a == AcceptTolerant {
			c.Outstanding, c.SupplyBy = in.Items, calendar.DateOf(in.By)
		}
	case RequestFix:
		c.FixRequested, c.FixedFrom, c.FixItems = true, c.State, in.Items
		if c.State == Accepted {
			c.Pauses = append(c.Pauses, Pause{From: now})
		}
	case Resubmit, SpecialEnd:
		closePause(&c, now)
	case SpecialStart:
		c.Pauses = append(c.Pauses, Pause{From: now})
	case Advance:
		c.Step++
	case Extend:
		c.Extension = in.Days
	case Supply:
		c.Outstanding, c.SupplyBy = []string{}, time.Time{}
	case Approve, Deny, Refuse:
		c.DecidedAt = now
		c.ToDeliver = a != Refuse
	case Withdraw:
		closePause(&c, now)
	case Deliver:
		c.DeliveredAt, c.Delivery, c.ToDeliver = now, in.Deliver, false
	case Revoke:
		c.ToDeliver = false
	}
	c.State = to
	if a == Accept || a == AcceptTolerant || a == Advance {
		if err := s.place(ctx, &c); err != nil {
			return Case{}, err
		}
	}
	if !c.AcceptedAt.IsZero() && !to.Final() {
		sched, err := s.cal.Schedule(ctx)
		if err != nil {
			return Case{}, err
		}
		d, err := c.Clock().Dues(sched)
		if err != nil {
			return Case{}, err
		}
		c.LegalDue, c.PromisedDue = d.Legal, d.Promised
	}
	if c, err = save(ctx, tx, c, now); err != nil {
		return Case{}, err
	}
	// The case's new version orders its events: it grows with every save
	// and exceeds every earlier event's, without a query for the last one.
	seq := c.Version
	detail := map[string]any{}
	if len(in.Items) > 0 {
		detail["items"] = in.Items
	}
	if in.Days > 0 {
		detail["days"] = in.Days
	}
	if a == Deliver {
		detail["delivery"] = in.Deliver
	}
	dept := ""
	if actor.Staff && actor.Role != ByApplicant {
		dept = actedAt // a clerk filing for a walk-in acts at the hall, not for the department
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO case_events (id, case_id, seq, at, action, code, from_state, to_state, actor_id, actor_name, actor_role,
		dept_name, opinion, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		sqldb.NewID(), c.ID, seq, now, a, code, from, to, actor.ID, actor.Name, actor.Role, dept, in.Opinion, js(detail)); err != nil {
		return Case{}, fmt.Errorf("%s: event: %w", op, err)
	}
	if _, err := outbox.Enqueue(ctx, tx, TopicChanged, Changed{ID: c.ID, Number: c.Number, ItemCode: c.ItemCode, Action: a, Code: code, State: to,
		ApplicantID: c.ApplicantID}); err != nil {
		return Case{}, err
	}
	if text := notice(c, a, in, redelivery); text != "" {
		if err := s.notify.NotifyAccountOr(ctx, tx, c.ApplicantID, c.ApplicantPhone, "办件进度通知（"+c.Number+"）", text); err != nil {
			return Case{}, err
		}
	}
	// Last: the audit chain's head stays locked from here to the commit.
	if err := audit.Write(ctx, tx, audit.Entry{Action: "cases.case." + string(a), TargetType: "case", TargetID: c.ID, Region: c.Region, DeptPath: c.DeptPath,
		Detail: map[string]any{"number": c.Number, "from": from, "to": to, "code": code}}); err != nil {
		return Case{}, err
	}
	return c, nil
}

func closePause(c *Case, now time.Time) {
	if n := len(c.Pauses); n > 0 && c.Pauses[n-1].To.IsZero() {
		c.Pauses[n-1].To = now
	}
}

// notice is the text message an applicant gets for an action ("" for none);
// redelivery says a delivery replaces an earlier one.
func notice(c Case, a Action, in Input, redelivery bool) string {
	head := "【一网通办】您申请的“" + c.ItemName + "”（办件编号" + c.Number + "）"
	switch a {
	case Submit:
		return head + "已提交，请留意受理结果。"
	case Accept, AcceptTolerant:
		msg := head + "已受理"
		if !c.PromisedDue.IsZero() {
			msg += "，承诺于" + c.PromisedDue.Format("2006年1月2日") + "前办结"
		}
		if a == AcceptTolerant {
			msg += "；请于" + c.SupplyBy.Format("2006年1月2日") + "前补齐：" + strings.Join(in.Items, "、")
		}
		return msg + "。"
	case Refuse:
		return head + "不予受理，理由：" + in.Opinion + "。"
	case RequestFix:
		return head + "需要补正材料，请登录查看补正告知书并一次性补正。"
	case Extend:
		return head + "经批准延期" + fmt.Sprint(in.Days) + "天办理。"
	case Approve:
		return head + "已办结（准予），请登录查看结果。"
	case Deny:
		return head + "已办结（不予许可），理由：" + in.Opinion + "。"
	case Revoke:
		return head + "的决定已被撤销，理由：" + in.Opinion + "。"
	case Deliver:
		if redelivery {
			return head + "的办理结果送达记录已更新：" + in.Deliver.Text() + "。"
		}
		return head + "的办理结果已送达：" + in.Deliver.Text() + "。"
	}
	return ""
}

// place puts c with the department of its current step: the one the item
// names for the step, else (or when that department is gone) the
// implementing department.
func (s *Service) place(ctx context.Context, c *Case) error {
	c.AtDeptID, c.AtDeptName, c.AtDeptPath, c.AtRegion = c.DeptID, c.DeptName, c.DeptPath, c.Region
	id := c.step().DeptID
	if id == "" || id == c.DeptID {
		return nil
	}
	refs, err := s.orgs.DepartmentRefs(ctx, []string{id})
	if err != nil {
		return err
	}
	if r := refs[id]; r.Path != "" {
		c.AtDeptID, c.AtDeptName, c.AtDeptPath, c.AtRegion = r.ID, r.Name, r.Path, r.Region
	}
	return nil
}

// staffRole is the role p holds over c for action a, by the permission
// each role needs; System when none (Next then refuses). Intake acts for
// the implementing department; handlers and approvers where the case is
// now, and the current step's holder alone completes the step.
func staffRole(p *authz.Principal, c Case, a Action) Role {
	roles := actionRoles[a]
	if stepAction(a) {
		roles = []Role{c.step().Holder()}
	}
	for _, r := range roles {
		var perm authz.Perm
		switch r {
		case ByIntake:
			perm = authz.AcceptCases
		case ByHandler:
			perm = authz.HandleCases
		case ByApprover:
			perm = authz.ApproveCases
		default:
			continue
		}
		t := c.AtTarget()
		if r == ByIntake {
			t = c.Target()
		}
		if p.Can(perm, t) {
			return r
		}
	}
	return BySystem
}

// StaffAct takes action a on case id for staff member p, who saw the case
// at version.
func (s *Service) StaffAct(ctx context.Context, p *authz.Principal, id string, a Action, in Input, version int) (Case, error) {
	var out Case
	err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		c, err := getCase(ctx, tx, `id = $1`, id)
		if err != nil {
			return err
		}
		if !c.VisibleTo(p) {
			return errNoCase
		}
		c.Version = version
		out, err = s.transition(ctx, tx, c, a, Actor{ID: p.UserID, Name: p.Name, Role: staffRole(p, c, a), Staff: true}, in, s.now())
		return err
	})
	return out, err
}

// ApplicantAct takes action a (submit, resubmit, withdraw) on the
// applicant's case id, seen at version. A resubmission may carry new form
// data (nil keeps the old).
func (s *Service) ApplicantAct(ctx context.Context, ap Applicant, id string, a Action, form map[string]string, in Input, version int) (Case, error) {
	if form != nil {
		var err error
		if form, err = cleanForm(form); err != nil {
			return Case{}, err
		}
	}
	var out Case
	err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		c, err := s.own(ctx, tx, ap, id)
		if err != nil {
			return err
		}
		if form != nil && (c.State == Draft || c.State == Correcting) {
			c.Form = form
		}
		c.Version = version
		out, err = s.transition(ctx, tx, c, a, Actor{ID: "account:" + ap.Account.ID, Name: ap.Account.Name, Role: ByApplicant}, in, s.now())
		return err
	})
	return out, err
}
