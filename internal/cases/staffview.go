package cases

import (
	"yiwang/internal/platform/authz"
)

// StaffActions returns the actions staff member p may take on c now: for
// each action, the role p holds over c for it (the one StaffAct would use)
// must be allowed by the state machine in c's current facts. The console
// offers only these, so a form shown is a form that can succeed (given
// valid input and an unchanged case).
func StaffActions(p *authz.Principal, c Case) []Action {
	if !c.VisibleTo(p) {
		return nil
	}
	var out []Action
	f := c.Facts()
	for _, a := range Actions {
		if _, err := Next(f, a, staffRole(p, c, a)); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// Notice is a printable notice (文书) given to the applicant.
type Notice string

// The notices.
const (
	NoticeAccept   Notice = "accept"   // 受理通知书
	NoticeRefuse   Notice = "refuse"   // 不予受理决定书
	NoticeFix      Notice = "fix"      // 补正告知书
	NoticeDecision Notice = "decision" // 办结通知书
)

// NoticeTitles names the notices in zh-CN.
var NoticeTitles = map[Notice]string{NoticeAccept: "受理通知书", NoticeRefuse: "不予受理决定书", NoticeFix: "补正告知书", NoticeDecision: "办结通知书"}

// Notices lists the notices c has grounds for: acceptance once accepted,
// the correction notice once one was given (it lists c.FixItems), the
// refusal when refused, the decision when approved or denied.
func Notices(c Case) []Notice {
	var out []Notice
	if c.FixRequested && len(c.FixItems) > 0 {
		out = append(out, NoticeFix)
	}
	if !c.AcceptedAt.IsZero() {
		out = append(out, NoticeAccept)
	}
	switch c.State {
	case Refused:
		out = append(out, NoticeRefuse)
	case Approved, Denied:
		out = append(out, NoticeDecision)
	}
	return out
}

// batchActions are the actions the work queue may apply to several cases
// at once: those that need no opinion, list or date.
var batchActions = []Action{Accept, Advance}
