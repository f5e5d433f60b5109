package app_test

import (
	"net/http"
	"net/url"
	"testing"

	"yiwang/internal/app/apptest"
	"yiwang/internal/cases"
)

// TestCaseConsoleDelivery: a decided case waits at the pickup window
// (统一窗口出件, "待出件") until its result goes out; the clerk records the
// delivery once, every bad form is refused on its field with nothing
// saved, and the applicant is told.
func TestCaseConsoleDelivery(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			fixedClock(e, "2026-03-02 10:00")
			code := itemCode(t, e, "出生医学证明首次签发")
			c := walkIn(t, e, code, "11010519491231002X", "张三")
			clerk, police := e.LoginDemo(t, "clerk"), e.LoginDemo(t, "reviewer")
			health := deptReviewer(t, e, c)
			const toDeliver = "/console/cases?state=" + cases.ToDeliverFilter

			if res := postAct(t, clerk, c.ID, c.Version, "accept"); res.Status != http.StatusSeeOther {
				t.Fatalf("accept: %d %.300s", res.Status, res.Body)
			}
			want(t, "nothing to deliver while it is handled", postAct(t, clerk, c.ID, current(t, e, c.ID).Version, "deliver", "method", "window",
				"recipient", "张三"), 409, []string{"办件当前为“办理中”，不能送达结果"})
			want(t, "the pickup list before the decision", clerk.Get(t, toDeliver), 200, []string{"没有符合条件的办件"}, c.Number)
			for _, a := range []string{"advance", "approve"} {
				if res := postAct(t, health, c.ID, current(t, e, c.ID).Version, a); res.Status != http.StatusSeeOther {
					t.Fatalf("%s: %d %.300s", a, res.Status, res.Body)
				}
			}
			c = current(t, e, c.ID)
			if c.State != cases.Approved || !c.ToDeliver() {
				t.Fatalf("after the decision: %s, to deliver %v", c.State, c.ToDeliver())
			}

			// The decided case waits at the pickup window.
			want(t, "the pickup list", clerk.Get(t, toDeliver), 200, []string{c.Number, "待出件（已办结待送达）"})
			want(t, "the pickup list of another department's reviewer", police.Get(t, toDeliver), 200, nil, c.Number)
			want(t, "the clerk's case page", clerk.Get(t, "/console/cases/"+c.ID), 200, []string{"待出件", actionInput(cases.Deliver),
				`name="method" value="window"`, `name="method" value="post"`, `name="method" value="electronic"`})

			// Bad forms: refused on their field, the case unchanged.
			for _, tc := range []struct {
				name   string
				form   []string
				status int
				msg    string
			}{
				{"no method", nil, 422, "请选择送达方式"},
				{"an unknown method", []string{"method", "pigeon", "recipient", "张三"}, 422, "请选择送达方式"},
				{"at the window without a recipient", []string{"method", "window"}, 422, "请填写领取人姓名"},
				{"by post without an item number", []string{"method", "post", "recipient", "张三"}, 422, "请填写邮件号"},
				{"by post with a bad item number", []string{"method", "post", "recipient", "张三", "tracking", "EJ-1"}, 422, "请填写邮件号"},
				{"stale", []string{"method", "window", "recipient", "张三", "version", "1"}, 409, "该办件已被他人处理或修改"},
			} {
				v := c.Version
				form := tc.form
				if len(form) >= 2 && form[len(form)-2] == "version" {
					v, form = 1, form[:len(form)-2]
				}
				want(t, tc.name, postAct(t, clerk, c.ID, v, "deliver", form...), tc.status, []string{tc.msg, `id="act-deliver"`})
				if got := current(t, e, c.ID); got.Version != c.Version || !got.DeliveredAt.IsZero() {
					t.Fatalf("%s: the case changed (v%d → v%d)", tc.name, c.Version, got.Version)
				}
			}

			res := postAct(t, clerk, c.ID, c.Version, "deliver", "method", "window", "recipient", " 张三 ", "opinion", "本人持身份证领取")
			if res.Status != http.StatusSeeOther {
				t.Fatalf("deliver: %d %.300s", res.Status, res.Body)
			}
			c = current(t, e, c.ID)
			if c.State != cases.Approved || c.DeliveredAt.IsZero() || c.Delivery != (cases.Delivery{Method: cases.AtWindow, Recipient: "张三"}) || c.ToDeliver() {
				t.Fatalf("after delivery: %s %v %+v", c.State, c.DeliveredAt, c.Delivery)
			}
			want(t, "the case page after delivery", clerk.Get(t, "/console/cases/"+c.ID), 200,
				[]string{"已送达结果", "窗口领取，领取人：张三", "本人持身份证领取"}, actionInput(cases.Deliver))
			want(t, "the pickup list after delivery", clerk.Get(t, toDeliver), 200, nil, c.Number)
			want(t, "a second delivery", postAct(t, clerk, c.ID, c.Version, "deliver", "method", "electronic"), 409, []string{"不能重复送达"})
			want(t, "public progress", e.Client().Get(t, "/progress?number="+c.Number+"&name="+url.QueryEscape("张三")), 200,
				[]string{"结果送达", "窗口领取"}, "领取人")

			evs, err := e.App.Cases.Events(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			last := evs[len(evs)-1]
			if last.Action != cases.Deliver || last.Code != 0 || last.From != cases.Approved || last.To != cases.Approved || last.Opinion != "本人持身份证领取" {
				t.Errorf("the delivery event: %+v", last)
			}
			var sms, audits int
			e.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE topic = 'identity.sms' AND payload LIKE $1`, "%已由张三在窗口领取%").Scan(&sms)
			e.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'cases.case.deliver' AND target_id = $1`, c.ID).Scan(&audits)
			if sms != 1 || audits != 1 {
				t.Errorf("%d notices and %d audit entries of the delivery, want 1 and 1", sms, audits)
			}
		})
	}
}
