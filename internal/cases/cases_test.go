package cases

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"yiwang/internal/platform/errs"
)

// allowed is the state machine written out by hand, independently of the
// package's tables: "state action role → state". Everything not listed is
// refused.
var allowed = map[string]State{
	"draft submit applicant":           Submitted,
	"draft withdraw applicant":         Withdrawn,
	"submitted accept intake":          Accepted,
	"submitted accept_tolerant intake": Accepted,
	"submitted refuse intake":          Refused,
	"submitted request_fix intake":     Correcting,
	"submitted request_fix handler":    Correcting,
	"submitted withdraw applicant":     Withdrawn,
	"correcting resubmit applicant":    Submitted, // or accepted, when the fix interrupted review
	"correcting withdraw applicant":    Withdrawn,
	"accepted advance handler":         Accepted,
	"accepted request_fix intake":      Correcting,
	"accepted request_fix handler":     Correcting,
	"accepted special_start handler":   Special,
	"accepted extend approver":         Accepted,
	"accepted supply intake":           Accepted,
	"accepted supply handler":          Accepted,
	"accepted approve handler":         Approved,
	"accepted deny handler":            Denied,
	"accepted withdraw applicant":      Withdrawn,
	"special special_end handler":      Accepted,
	"special extend approver":          Special,
	"special withdraw applicant":       Withdrawn,
	"approved revoke approver":         Revoked,
	"approved deliver intake":          Approved,
	"approved deliver handler":         Approved,
	"denied deliver intake":            Denied,
	"denied deliver handler":           Denied,
}

// approverStep replaces the step actions of allowed when the item gives
// the current step to approvers (审批人员) instead of handlers.
var approverStep = map[string]State{
	"accepted advance approver": Accepted,
	"accepted approve approver": Approved,
	"accepted deny approver":    Denied,
}

var roles = []Role{ByApplicant, ByIntake, ByHandler, ByApprover, BySystem}

// TestNextEveryStateActionRole checks every state × action × role against
// the hand-written table, with facts that satisfy every guard.
func TestNextEveryStateActionRole(t *testing.T) {
	n := 0
	for _, holder := range []Role{ByHandler, ByApprover} {
		for _, s := range States {
			for _, a := range Actions {
				for _, r := range roles {
					n++
					f := Facts{State: s, Steps: 2, Step: 0, Outstanding: true, StepHolder: holder}
					if a == Approve || a == Deny {
						f.Step = 1
					}
					got, err := Next(f, a, r)
					key := fmt.Sprintf("%s %s %s", s, a, r)
					want, ok := allowed[key]
					if holder == ByApprover && (a == Advance || a == Approve || a == Deny) {
						want, ok = approverStep[key]
					}
					switch {
					case ok && err != nil:
						t.Errorf("%s %s by %s (step holder %s): %v, want → %s", s, a, r, holder, err, want)
					case ok && got != want:
						t.Errorf("%s %s by %s (step holder %s) → %s, want %s", s, a, r, holder, got, want)
					case !ok && err == nil:
						t.Errorf("%s %s by %s (step holder %s) allowed (→ %s), want refused", s, a, r, holder, got)
					case !ok && errs.Message(err) == "":
						t.Errorf("%s %s by %s refused without a message", s, a, r)
					}
				}
			}
		}
	}
	if n != 2*len(States)*len(Actions)*len(roles) || n != 1600 {
		t.Fatalf("checked %d combinations", n)
	}
	for k := range allowed {
		if len(strings.Fields(k)) != 3 {
			t.Fatalf("bad table key %q", k)
		}
	}
}

func TestNextGuards(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    Facts
		a    Action
		r    Role
		want State
		kind errs.Kind // 0: allowed
	}{
		{"correction is told once", Facts{State: Accepted, FixRequested: true, Steps: 2}, RequestFix, ByHandler, "", errs.Conflict},
		{"resubmission returns to review when the fix interrupted it", Facts{State: Correcting, FixedFrom: Accepted, Steps: 2}, Resubmit, ByApplicant, Accepted, 0},
		{"resubmission before acceptance waits for acceptance", Facts{State: Correcting, FixedFrom: Submitted, Steps: 2}, Resubmit, ByApplicant, Submitted, 0},
		{"no advancing past the decision", Facts{State: Accepted, Step: 1, Steps: 2}, Advance, ByHandler, "", errs.Conflict},
		{"no decision before the decision step", Facts{State: Accepted, Step: 0, Steps: 2}, Approve, ByHandler, "", errs.Conflict},
		{"a one-step workflow decides at once", Facts{State: Accepted, Step: 0, Steps: 1}, Deny, ByHandler, Denied, 0},
		{"nothing to supply", Facts{State: Accepted, Steps: 2}, Supply, ByHandler, "", errs.Conflict},
		{"one extension", Facts{State: Accepted, Extended: true, Steps: 2}, Extend, ByApprover, "", errs.Conflict},
		{"nothing to deliver before the decision", Facts{State: Accepted, Step: 1, Steps: 2}, Deliver, ByIntake, "", errs.Conflict},
		{"wrong role", Facts{State: Submitted, Steps: 2}, Accept, ByApplicant, "", errs.Forbidden},
		{"wrong state", Facts{State: Approved, Steps: 2}, Accept, ByIntake, "", errs.Conflict},
		{"unknown action", Facts{State: Submitted, Steps: 2}, "fly", ByIntake, "", errs.Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Next(tc.f, tc.a, tc.r)
			if tc.kind == 0 && (err != nil || got != tc.want) || tc.kind != 0 && errs.KindOf(err) != tc.kind {
				t.Errorf("Next = %q, %v; want %q, kind %v", got, err, tc.want, tc.kind)
			}
		})
	}
}

func TestCodes(t *testing.T) {
	for _, tc := range []struct {
		f    Facts
		a    Action
		want Code
	}{
		{Facts{State: Draft}, Submit, CodeReceived},
		{Facts{State: Submitted}, AcceptTolerant, CodeAccepted},
		{Facts{State: Submitted}, Refuse, CodeRefused},
		{Facts{State: Accepted}, RequestFix, CodeFixStart},
		{Facts{State: Correcting}, Resubmit, CodeFixEnd},
		{Facts{State: Accepted, Step: 0}, Advance, CodeHandling},
		{Facts{State: Accepted, Step: 1}, Advance, 0},
		{Facts{State: Accepted}, SpecialStart, CodeSpecialStart},
		{Facts{State: Special}, SpecialEnd, CodeSpecialEnd},
		{Facts{State: Accepted}, Approve, CodeApproved},
		{Facts{State: Accepted, Outstanding: true}, Approve, CodeApprovedTolert},
		{Facts{State: Accepted}, Deny, CodeDenied},
		{Facts{State: Submitted}, Withdraw, CodeCancelled},
		{Facts{State: Correcting, FixedFrom: Submitted}, Withdraw, CodeCancelled},
		{Facts{State: Correcting, FixedFrom: Accepted}, Withdraw, CodeWithdrawn},
		{Facts{State: Special}, Withdraw, CodeWithdrawn},
		{Facts{State: Approved}, Revoke, CodeRevoked},
		{Facts{State: Accepted}, Extend, 0},
		{Facts{State: Approved}, Deliver, 0},
	} {
		if got := CodeOf(tc.f, tc.a); got != tc.want {
			t.Errorf("CodeOf(%s in %s) = %d, want %d", tc.a, tc.f.State, got, tc.want)
		}
	}
	for c := CodeReceived; c <= CodeRevoked; c++ {
		if CodeLabels[c] == "" {
			t.Errorf("code %d has no label", c)
		}
	}
}

func TestInputCheck(t *testing.T) {
	today := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		a     Action
		in    Input
		field string // "" when valid
	}{
		{"plain opinion", Deny, Input{Opinion: "不符合条件\n详见告知书"}, ""},
		{"a refusal needs its reason", Refuse, Input{Opinion: "  "}, "opinion"},
		{"control character in the opinion", Deny, Input{Opinion: "不符合\x00条件"}, "opinion"},
		{"escape sequence in the opinion", Deny, Input{Opinion: "\x1b[31m红字"}, "opinion"},
		{"control character in a listed item", RequestFix, Input{Opinion: "材料不全", Items: []string{"户口簿\x07"}}, "items"},
		{"invalid UTF-8 in a listed item", RequestFix, Input{Opinion: "材料不全", Items: []string{"\xff"}}, "items"},
		{"correction lists something", RequestFix, Input{Opinion: "材料不全", Items: []string{" "}}, "items"},
		{"a tolerant acceptance needs a date not in the past", AcceptTolerant, Input{Items: []string{"户口簿"}, By: today.AddDate(0, 0, -1)}, "by"},
		{"an extension of 61 days", Extend, Input{Opinion: "专家评审", Days: 61}, "days"},
		{"handed out at the window", Deliver, Input{Deliver: Delivery{Method: AtWindow, Recipient: " 张三 "}}, ""},
		{"posted", Deliver, Input{Deliver: Delivery{Method: ByPost, Recipient: "张三", Tracking: "ej123456789cn"}}, ""},
		{"posted with a full-width item number", Deliver, Input{Deliver: Delivery{Method: ByPost, Recipient: "张三", Tracking: "ＥＪ１２３４５６７８９ＣＮ"}}, ""},
		{"electronic delivery is not offered yet", Deliver, Input{Deliver: Delivery{Method: "electronic"}}, "method"},
		{"a recipient with a right-to-left override", Deliver, Input{Deliver: Delivery{Method: AtWindow, Recipient: "张三\u202e"}}, "recipient"},
		{"a recipient with a zero-width space", Deliver, Input{Deliver: Delivery{Method: AtWindow, Recipient: "张\u200b三"}}, "recipient"},
		{"no delivery method", Deliver, Input{}, "method"},
		{"an unknown delivery method", Deliver, Input{Deliver: Delivery{Method: "pigeon", Recipient: "张三"}}, "method"},
		{"handed out to nobody", Deliver, Input{Deliver: Delivery{Method: AtWindow, Recipient: "  "}}, "recipient"},
		{"a recipient with a control character", Deliver, Input{Deliver: Delivery{Method: AtWindow, Recipient: "张\x00三"}}, "recipient"},
		{"a recipient name of 51 characters", Deliver, Input{Deliver: Delivery{Method: AtWindow, Recipient: strings.Repeat("张", 51)}}, "recipient"},
		{"posted without an item number", Deliver, Input{Deliver: Delivery{Method: ByPost, Recipient: "张三"}}, "tracking"},
		{"posted with a short item number", Deliver, Input{Deliver: Delivery{Method: ByPost, Recipient: "张三", Tracking: "EJ123"}}, "tracking"},
		{"posted with punctuation in the item number", Deliver, Input{Deliver: Delivery{Method: ByPost, Recipient: "张三", Tracking: "EJ1234-56789CN"}}, "tracking"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			err := in.check(tc.a, today)
			var field string
			if e, ok := errors.AsType[*errs.Error](err); ok {
				for k := range e.Fields {
					field = k
				}
			} else if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if field != tc.field {
				t.Errorf("field %q (%v), want %q", field, err, tc.field)
			}
		})
	}
}

func TestDeliveryTidiedAndShown(t *testing.T) {
	in := Input{Deliver: Delivery{Method: ByPost, Recipient: " 张三 ", Tracking: " ej123456789cn "}}
	if err := in.check(Deliver, time.Now()); err != nil {
		t.Fatal(err)
	}
	if in.Deliver != (Delivery{Method: ByPost, Recipient: "张三", Tracking: "EJ123456789CN"}) {
		t.Fatalf("tidied %+v", in.Deliver)
	}
	in = Input{Deliver: Delivery{Method: AtWindow, Recipient: "张三", Tracking: "EJ123456789CN"}}
	if err := in.check(Deliver, time.Now()); err != nil || in.Deliver != (Delivery{Method: AtWindow, Recipient: "张三"}) {
		t.Fatalf("at the window: %+v, %v", in.Deliver, err)
	}
	in = Input{Deliver: Delivery{Method: ByPost, Recipient: "张三", Tracking: "ｅｊ１２３４５６７８９ｃｎ"}}
	if err := in.check(Deliver, time.Now()); err != nil || in.Deliver.Tracking != "EJ123456789CN" {
		t.Fatalf("full-width item number: %+v, %v", in.Deliver, err)
	}
	c := Case{State: Approved, ToDeliver: true}
	if j := toJSON(c, nil); j.DeliveredAt != nil || j.Delivery != nil {
		t.Fatalf("not yet delivered: %+v", j)
	}
	c.DeliveredAt, c.Delivery = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC), Delivery{Method: AtWindow, Recipient: "张三"}
	if j := toJSON(c, nil); j.DeliveredAt == nil || *j.Delivery != c.Delivery {
		t.Fatalf("delivered: %+v", j)
	}
	if got := c.Delivery.Text(); got != "窗口领取，领取人：张三" {
		t.Errorf("Text = %q", got)
	}
}
