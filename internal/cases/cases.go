package cases

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"yiwang/internal/platform/errs"
)

// State is where a case (办件) stands.
type State string

// The states. Correcting and Special stop the clock; the last five are final.
const (
	Draft      State = "draft"      // 草稿：网上申请尚未提交
	Submitted  State = "submitted"  // 已接件，待受理
	Correcting State = "correcting" // 补正中：等待申请人补正（停止计时）
	Accepted   State = "accepted"   // 已受理，办理中
	Special    State = "special"    // 特别程序中（停止计时）
	Approved   State = "approved"   // 办结（通过）
	Denied     State = "denied"     // 办结（不通过）
	Refused    State = "refused"    // 不予受理
	Withdrawn  State = "withdrawn"  // 已撤回
	Revoked    State = "revoked"    // 已撤销
)

// States lists every state, in lifecycle order.
var States = []State{Draft, Submitted, Correcting, Accepted, Special, Approved, Denied, Refused, Withdrawn, Revoked}

// StateLabels names the states in zh-CN.
var StateLabels = map[State]string{Draft: "草稿", Submitted: "待受理", Correcting: "待补正", Accepted: "办理中", Special: "特别程序中",
	Approved: "办结（通过）", Denied: "办结（不予许可）", Refused: "不予受理", Withdrawn: "已撤回", Revoked: "已撤销"}

// Final reports whether nothing more can happen to a case in s, except a
// revocation of an approval.
func (s State) Final() bool {
	return s == Approved || s == Denied || s == Refused || s == Withdrawn || s == Revoked
}

// Open reports whether a case in s waits for someone to act: submitted
// and not final.
func (s State) Open() bool { return s != Draft && !s.Final() }

// Paused reports whether the clock stands still in s.
func (s State) Paused() bool { return s == Correcting || s == Special }

// Action is something someone does to a case.
type Action string

// The actions.
const (
	Submit         Action = "submit"          // 申请人提交
	Accept         Action = "accept"          // 受理
	AcceptTolerant Action = "accept_tolerant" // 容缺受理：缺少非必要材料，限期补齐
	Refuse         Action = "refuse"          // 不予受理（须说明理由）
	RequestFix     Action = "request_fix"     // 一次性告知补正（停止计时）
	Resubmit       Action = "resubmit"        // 申请人补正后重新提交
	Advance        Action = "advance"         // 转下一办理环节
	SpecialStart   Action = "special_start"   // 特别程序开始（听证、检验检测、专家评审等，停止计时）
	SpecialEnd     Action = "special_end"     // 特别程序结束
	Extend         Action = "extend"          // 延期（须经负责人批准）
	Supply         Action = "supply"          // 容缺材料补齐
	Approve        Action = "approve"         // 准予（办结通过）
	Deny           Action = "deny"            // 不予许可（办结不通过，须说明理由）
	Withdraw       Action = "withdraw"        // 申请人撤回
	Revoke         Action = "revoke"          // 撤销已作出的决定
	Deliver        Action = "deliver"         // 送达：办理结果交付申请人（统一窗口出件、邮寄或电子送达）
)

// Actions lists every action.
var Actions = []Action{Submit, Accept, AcceptTolerant, Refuse, RequestFix, Resubmit, Advance, SpecialStart, SpecialEnd, Extend, Supply,
	Approve, Deny, Withdraw, Revoke, Deliver}

// ActionLabels names the actions in zh-CN.
var ActionLabels = map[Action]string{Submit: "提交申请", Accept: "受理", AcceptTolerant: "容缺受理", Refuse: "不予受理", RequestFix: "一次性告知补正",
	Resubmit: "补正后重新提交", Advance: "转下一环节", SpecialStart: "特别程序开始", SpecialEnd: "特别程序结束", Extend: "延期",
	Supply: "容缺材料补齐", Approve: "准予办结", Deny: "不予许可", Withdraw: "撤回申请", Revoke: "撤销决定", Deliver: "送达结果"}

// Role is who acts, as far as the state machine cares.
type Role string

// The roles.
const (
	ByApplicant Role = "applicant" // the applicant (or their 经办人)
	ByIntake    Role = "intake"    // acceptance staff: the comprehensive window (综合窗口) or the department's 收件
	ByHandler   Role = "handler"   // back-office staff of the handling department (审查、决定)
	ByApprover  Role = "approver"  // the department's head (负责人): extensions and revocations
	BySystem    Role = "system"
)

// actionRoles says who may take each action.
var actionRoles = map[Action][]Role{
	Submit: {ByApplicant}, Resubmit: {ByApplicant}, Withdraw: {ByApplicant},
	Accept: {ByIntake}, AcceptTolerant: {ByIntake}, Refuse: {ByIntake},
	RequestFix: {ByIntake, ByHandler},
	// Advance, Approve and Deny belong to the current step's holder (Facts.StepHolder).
	Advance: {ByHandler, ByApprover}, SpecialStart: {ByHandler}, SpecialEnd: {ByHandler}, Supply: {ByIntake, ByHandler},
	Approve: {ByHandler, ByApprover}, Deny: {ByHandler, ByApprover},
	Extend: {ByApprover}, Revoke: {ByApprover},
	// The result goes out at the hall's pickup window (统一窗口出件) or by
	// post from the department that decided.
	Deliver: {ByIntake, ByHandler},
}

// transitions is the state machine: from a state, an action leads to a
// state. Actions missing here are not allowed in that state.
var transitions = map[State]map[Action]State{
	Draft:      {Submit: Submitted, Withdraw: Withdrawn},
	Submitted:  {Accept: Accepted, AcceptTolerant: Accepted, Refuse: Refused, RequestFix: Correcting, Withdraw: Withdrawn},
	Correcting: {Resubmit: Submitted /* or Accepted: see Next */, Withdraw: Withdrawn},
	Accepted: {Advance: Accepted, RequestFix: Correcting, SpecialStart: Special, Extend: Accepted, Supply: Accepted, Approve: Approved,
		Deny: Denied, Withdraw: Withdrawn},
	Special:  {SpecialEnd: Accepted, Extend: Special, Withdraw: Withdrawn},
	Approved: {Revoke: Revoked, Deliver: Approved},
	Denied:   {Deliver: Denied},
}

// Facts are what the machine needs to know about a case beyond its state.
type Facts struct {
	State        State
	FixRequested bool  // a correction notice was already given (it is given once)
	FixedFrom    State // the state a correction interrupted (Submitted or Accepted)
	Step, Steps  int   // the current workflow step (0-based) and how many there are
	Outstanding  bool  // 容缺 materials are still owed
	Extended     bool  // an extension was already granted
	// StepHolder is who works the current step (advance, approve, deny):
	// ByHandler unless the item gives the step to ByApprover.
	StepHolder Role
}

// stepAction reports whether a completes the current workflow step: only
// the step's holder takes it.
func stepAction(a Action) bool { return a == Advance || a == Approve || a == Deny }

func (f Facts) holder() Role { return Step{Role: f.StepHolder}.Holder() }

// AtDecision reports whether the case is at its last workflow step, where
// the decision is made.
func (f Facts) AtDecision() bool { return f.Step >= f.Steps-1 }

// Next returns the state a case moves to when role takes action, or an
// Invalid/Forbidden/Conflict error saying, in zh-CN, why it may not.
func Next(f Facts, a Action, role Role) (State, error) {
	const op = "cases.Next"
	roles, known := actionRoles[a]
	if !known {
		return "", &errs.Error{Kind: errs.Invalid, Op: op, Msg: "未知的办理操作"}
	}
	to, ok := transitions[f.State][a]
	if !ok {
		return "", &errs.Error{Kind: errs.Conflict, Op: op, Msg: fmt.Sprintf("办件当前为“%s”，不能%s", StateLabels[f.State], ActionLabels[a])}
	}
	if !slices.Contains(roles, role) || stepAction(a) && role != f.holder() {
		return "", &errs.Error{Kind: errs.Forbidden, Op: op, Msg: "您无权对该办件执行“" + ActionLabels[a] + "”"}
	}
	switch a {
	case RequestFix:
		if f.FixRequested {
			return "", &errs.Error{Kind: errs.Conflict, Op: op, Msg: "补正告知须一次性告知全部内容，该办件已告知过补正"}
		}
	case Resubmit:
		if f.FixedFrom == Accepted {
			to = Accepted
		}
	case Advance:
		if f.AtDecision() {
			return "", &errs.Error{Kind: errs.Conflict, Op: op, Msg: "已到决定环节，请作出准予或不予许可的决定"}
		}
	case Approve, Deny:
		if !f.AtDecision() {
			return "", &errs.Error{Kind: errs.Conflict, Op: op, Msg: "尚未到决定环节，请先完成审查"}
		}
	case Supply:
		if !f.Outstanding {
			return "", &errs.Error{Kind: errs.Conflict, Op: op, Msg: "该办件没有待补齐的容缺材料"}
		}
	case Extend:
		if f.Extended {
			return "", &errs.Error{Kind: errs.Conflict, Op: op, Msg: "该办件已延期过一次，不能再次延期"}
		}
	}
	return to, nil
}

// Code is a national 办件 status code (domain-rules §11): the event stream
// reported upward. Receiving platforms use other tables; map from these.
type Code int

// The codes.
const (
	CodeReceived       Code = 1  // 已接件
	CodeCancelled      Code = 2  // 已撤件（受理前撤回）
	CodeAccepted       Code = 3  // 已受理
	CodeNotAccepted    Code = 4  // 不受理
	CodeRefused        Code = 5  // 不予受理
	CodeFixStart       Code = 6  // 补正（开始）
	CodeFixEnd         Code = 7  // 补正（结束）
	CodeHandling       Code = 8  // 部门开始办理
	CodeSpecialStart   Code = 9  // 特别程序（开始）
	CodeSpecialEnd     Code = 10 // 特别程序（结束）
	CodeApproved       Code = 11 // 办结（通过）
	CodeApprovedTolert Code = 12 // 办结（容缺通过）
	CodeDenied         Code = 13 // 办结（不通过）
	CodeWithdrawn      Code = 14 // 撤回
	CodeRevoked        Code = 15 // 撤销
)

// CodeLabels names the codes in zh-CN.
var CodeLabels = map[Code]string{1: "已接件", 2: "已撤件", 3: "已受理", 4: "不受理", 5: "不予受理", 6: "补正（开始）", 7: "补正（结束）",
	8: "部门开始办理", 9: "特别程序（开始）", 10: "特别程序（结束）", 11: "办结（通过）", 12: "办结（容缺通过）", 13: "办结（不通过）", 14: "撤回", 15: "撤销"}

// CodeOf returns the status code an action reports (0 for actions that
// have none of their own, such as an extension or the result's delivery),
// given the facts before it.
func CodeOf(f Facts, a Action) Code {
	switch a {
	case Submit:
		return CodeReceived
	case Accept, AcceptTolerant:
		return CodeAccepted
	case Refuse:
		return CodeRefused
	case RequestFix:
		return CodeFixStart
	case Resubmit:
		return CodeFixEnd
	case Advance:
		if f.Step == 0 {
			return CodeHandling
		}
	case SpecialStart:
		return CodeSpecialStart
	case SpecialEnd:
		return CodeSpecialEnd
	case Approve:
		if f.Outstanding {
			return CodeApprovedTolert
		}
		return CodeApproved
	case Deny:
		return CodeDenied
	case Withdraw:
		if f.State == Accepted || f.State == Special || f.FixedFrom == Accepted && f.State == Correcting {
			return CodeWithdrawn
		}
		return CodeCancelled
	case Revoke:
		return CodeRevoked
	}
	return 0
}

// NeedsOpinion reports whether an action must carry a written reason.
func NeedsOpinion(a Action) bool {
	switch a {
	case Refuse, RequestFix, Deny, Revoke, SpecialStart, Extend:
		return true
	}
	return false
}

// Channel is how a case came in.
type Channel string

// The channels.
const (
	Online Channel = "online" // 网上申请
	Window Channel = "window" // 窗口受理
)

// ChannelLabels names the channels in zh-CN.
var ChannelLabels = map[Channel]string{Online: "网上申请", Window: "窗口受理"}

// DeliveryMethod is how a result reaches the applicant (送达方式).
type DeliveryMethod string

// The delivery methods. Electronic delivery (电子送达) waits for the
// license domain: the applicant must be able to fetch the result itself.
const (
	AtWindow DeliveryMethod = "window" // 窗口领取（统一出件窗口）
	ByPost   DeliveryMethod = "post"   // 邮政寄递
)

// DeliveryMethods lists the delivery methods.
var DeliveryMethods = []DeliveryMethod{AtWindow, ByPost}

// DeliveryLabels names the delivery methods in zh-CN.
var DeliveryLabels = map[DeliveryMethod]string{AtWindow: "窗口领取", ByPost: "邮政寄递"}

// Delivery is how a case's result (the license, approval document or
// decision) went out to the applicant (送达), after the decision. A later
// delivery (a corrected record, a returned letter collected at the
// window) replaces it; the events keep every one.
type Delivery struct {
	Method    DeliveryMethod `json:"method,omitempty"`
	Recipient string         `json:"recipient,omitempty"` // 领取人 at the window, 收件人 by post
	Tracking  string         `json:"tracking,omitempty"`  // the postal item number (邮件号)
}

// Label names d's method in zh-CN.
func (d Delivery) Label() string { return DeliveryLabels[d.Method] }

// Text describes d in zh-CN ("" when nothing went out).
func (d Delivery) Text() string {
	switch d.Method {
	case AtWindow:
		return "窗口领取，领取人：" + d.Recipient
	case ByPost:
		return "邮政寄递，收件人：" + d.Recipient + "，邮件号：" + d.Tracking
	}
	return ""
}

// ResultPref is how the applicant asks to receive the result (结果领取方式):
// at the window (the default) or by post to an address. The clerk who
// delivers sees it; the delivery records what was done.
type ResultPref struct {
	Method  DeliveryMethod `json:"method,omitempty"`
	Address string         `json:"address,omitempty"` // 邮寄地址, by post
}

// How is p's method: AtWindow unless the applicant chose otherwise.
func (p ResultPref) How() DeliveryMethod { return cmp.Or(p.Method, AtWindow) }

// Text describes p in zh-CN.
func (p ResultPref) Text() string {
	if p.How() == ByPost {
		return "邮寄至：" + p.Address
	}
	return "窗口领取"
}

// Step is one workflow step of a case after acceptance (办理环节): its
// name, the department that handles it (后台分类审批; empty for the
// implementing department) and who acts at it.
type Step struct {
	Name   string `json:"name"`
	DeptID string `json:"dept_id,omitempty"`
	Role   Role   `json:"role,omitempty"` // ByHandler (the default) or ByApprover
}

// UnmarshalJSON also reads the plain step names stored before steps had
// departments and roles.
func (s *Step) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		*s = Step{}
		return json.Unmarshal(b, &s.Name)
	}
	type plain Step
	return json.Unmarshal(b, (*plain)(s))
}

// Holder is the role that acts at the step.
func (s Step) Holder() Role {
	if s.Role == ByApprover {
		return ByApprover
	}
	return ByHandler
}

// DefaultSteps are the workflow steps of an item that defines none: after
// acceptance, review, then the decision (收件 and 受理 happen before).
var DefaultSteps = []Step{{Name: "审查"}, {Name: "决定"}}

// Number composes a case number (办件编号): the 31-character
// implementation code, the date and a 4-digit daily sequence (domain-rules
// §1.5, §11).
func Number(itemCode string, day time.Time, seq int) string {
	return fmt.Sprintf("%s%s%04d", itemCode, day.Format("20060102"), seq)
}
