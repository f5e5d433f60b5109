package cases

import (
	"slices"
	"testing"
	"time"

	"yiwang/internal/platform/authz"
)

func TestStaffActions(t *testing.T) {
	health := "/h/"
	c := Case{Region: "150100", AtRegion: "150100", DeptPath: health, AtDeptPath: health, Steps: DefaultSteps}
	clerk := &authz.Principal{Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150000"}}}
	reviewer := &authz.Principal{Grants: []authz.Grant{{Role: authz.Reviewer, Region: "150000", DeptID: "h", DeptPath: health}}}
	police := &authz.Principal{Grants: []authz.Grant{{Role: authz.Reviewer, Region: "150000", DeptID: "p", DeptPath: "/p/"}}}
	head := &authz.Principal{Grants: []authz.Grant{{Role: authz.DeptAdmin, Region: "150000", DeptID: "h", DeptPath: health}}}
	at := func(s State, step int) Case { x := c; x.State, x.Step = s, step; return x }
	policeHead := &authz.Principal{Grants: []authz.Grant{{Role: authz.DeptAdmin, Region: "150000", DeptID: "p", DeptPath: "/p/"}}}
	// The decision step given to the police's approvers (后台分类审批).
	routed := Case{Region: "150100", AtRegion: "150100", DeptPath: health, AtDeptPath: "/p/", State: Accepted, Step: 1,
		Steps: []Step{{Name: "审查"}, {Name: "决定", DeptID: "p", Role: ByApprover}}}
	tests := []struct {
		name string
		p    *authz.Principal
		c    Case
		want []Action
	}{
		{"clerk, submitted", clerk, at(Submitted, 0), []Action{Accept, AcceptTolerant, Refuse, RequestFix}},
		{"reviewer, submitted", reviewer, at(Submitted, 0), []Action{RequestFix}},
		{"reviewer, reviewing", reviewer, at(Accepted, 0), []Action{RequestFix, Advance, SpecialStart}},
		{"reviewer, deciding", reviewer, at(Accepted, 1), []Action{RequestFix, SpecialStart, Approve, Deny}},
		{"department head, deciding", head, at(Accepted, 1), []Action{RequestFix, SpecialStart, Extend, Approve, Deny}},
		{"clerk, reviewing", clerk, at(Accepted, 0), []Action{RequestFix}},
		{"other department", police, at(Submitted, 0), nil},
		{"draft", clerk, at(Draft, 0), nil},
		{"approved, head", head, at(Approved, 1), []Action{Revoke, Deliver}},
		{"approved, the pickup window hands the result out", clerk, at(Approved, 1), []Action{Deliver}},
		{"denied, the reviewer posts the decision", reviewer, at(Denied, 1), []Action{Deliver}},
		{"approved, another department", police, at(Approved, 1), nil},
		{"refused", head, at(Refused, 0), nil},
		{"routed: the implementing department's reviewer sees it, cannot act", reviewer, routed, nil},
		{"routed: the step's department reviewer is not its approver", police, routed, []Action{RequestFix, SpecialStart}},
		{"routed: the step's department head decides", policeHead, routed, []Action{RequestFix, SpecialStart, Extend, Approve, Deny}},
		{"routed: the implementing department's head no longer decides", head, routed, []Action{RequestFix}}, // as intake
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := StaffActions(tc.p, tc.c); !slices.Equal(got, tc.want) {
				t.Errorf("StaffActions = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNotices(t *testing.T) {
	now := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		c    Case
		want []Notice
	}{
		{"submitted", Case{State: Submitted}, nil},
		{"correcting", Case{State: Correcting, FixRequested: true, FixItems: []string{"a"}}, []Notice{NoticeFix}},
		{"accepted after a correction", Case{State: Accepted, FixRequested: true, FixItems: []string{"a"}, AcceptedAt: now}, []Notice{NoticeFix, NoticeAccept}},
		{"refused", Case{State: Refused}, []Notice{NoticeRefuse}},
		{"denied", Case{State: Denied, AcceptedAt: now}, []Notice{NoticeAccept, NoticeDecision}},
		{"revoked", Case{State: Revoked, AcceptedAt: now}, []Notice{NoticeAccept}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Notices(tc.c); !slices.Equal(got, tc.want) {
				t.Errorf("Notices = %v, want %v", got, tc.want)
			}
		})
	}
}
