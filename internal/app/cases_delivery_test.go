package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"yiwang/internal/app/apptest"
	"yiwang/internal/cases"
	"yiwang/internal/platform/authz"
)

// TestCaseConsoleDelivery: a decided case waits at the pickup window
// (统一窗口出件, "待出件") until its result goes out; the clerk records the
// delivery, every bad form is refused on its field with nothing saved, a
// later delivery needs its reason, and the applicant is told each time.
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
			if c.State != cases.Approved || !c.ToDeliver {
				t.Fatalf("after the decision: %s, to deliver %v", c.State, c.ToDeliver)
			}

			// The decided case waits at the pickup window.
			want(t, "the pickup list", clerk.Get(t, toDeliver), 200, []string{c.Number, "<th>办结时间</th>", "2026-03-02 10:00"}, "<th>承诺办结</th>", "批量受理")
			want(t, "the pickup list of another department's reviewer", police.Get(t, toDeliver), 200, nil, c.Number)
			want(t, "the pickup list by time left", clerk.Get(t, toDeliver+"&alert=red"), 422, []string{"待出件的办件已办结，不能按时限筛选"})
			want(t, "the clerk's case page", clerk.Get(t, "/console/cases/"+c.ID), 200, []string{"待出件", actionInput(cases.Deliver),
				`name="method" value="window"`, `name="method" value="post"`}, `value="electronic"`)

			// Bad forms: refused on their field, the case unchanged.
			for _, tc := range []struct {
				name   string
				form   []string
				status int
				msg    string
			}{
				{"no method", nil, 422, "请选择送达方式"},
				{"electronically (not offered yet)", []string{"method", "electronic"}, 422, "请选择送达方式"},
				{"a recipient hiding a right-to-left override", []string{"method", "window", "recipient", "张三\u202e"}, 422, "不能含有无效字符"},
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
			if c.State != cases.Approved || c.DeliveredAt.IsZero() || c.Delivery != (cases.Delivery{Method: cases.AtWindow, Recipient: "张三"}) || c.ToDeliver {
				t.Fatalf("after delivery: %s %v %+v", c.State, c.DeliveredAt, c.Delivery)
			}
			want(t, "the case page after delivery", clerk.Get(t, "/console/cases/"+c.ID), 200,
				[]string{"已送达结果", "窗口领取，领取人：张三", "本人持身份证领取"})
			want(t, "the pickup list after delivery", clerk.Get(t, toDeliver), 200, nil, c.Number)
			want(t, "public progress", e.Client().Get(t, "/progress?number="+c.Number+"&name="+url.QueryEscape("张三")), 200,
				[]string{"结果送达", "窗口领取"}, "领取人")

			// A later delivery (a corrected record) needs its reason and replaces the record.
			want(t, "a second delivery without a reason", postAct(t, clerk, c.ID, c.Version, "deliver", "method", "post", "recipient", "张三",
				"tracking", "EJ123456789CN"), 422, []string{"再次送达请说明原因"})
			res = postAct(t, clerk, c.ID, c.Version, "deliver", "method", "post", "recipient", "张三", "tracking", "ＥＪ１２３４５６７８９ＣＮ",
				"opinion", "申请人改为邮寄")
			if res.Status != http.StatusSeeOther {
				t.Fatalf("second delivery: %d %.300s", res.Status, res.Body)
			}
			if c = current(t, e, c.ID); c.Delivery != (cases.Delivery{Method: cases.ByPost, Recipient: "张三", Tracking: "EJ123456789CN"}) || c.ToDeliver {
				t.Fatalf("after the second delivery: %+v", c.Delivery)
			}

			evs, err := e.App.Cases.Events(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			for i, opinion := range []string{"本人持身份证领取", "申请人改为邮寄"} {
				ev := evs[len(evs)-2+i]
				if ev.Action != cases.Deliver || ev.Code != 0 || ev.From != cases.Approved || ev.To != cases.Approved || ev.Opinion != opinion {
					t.Errorf("delivery event %d: %+v", i+1, ev)
				}
			}
			for _, text := range []string{"的办理结果已送达：窗口领取，领取人：张三。", "的办理结果送达记录已更新：邮政寄递，收件人：张三，邮件号：EJ123456789CN。"} {
				var sms int
				e.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE topic = 'identity.sms' AND payload LIKE $1`, "%"+text+"%").Scan(&sms)
				if sms != 1 {
					t.Errorf("%d notices %q, want 1", sms, text)
				}
			}
			var audits int
			e.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'cases.case.deliver' AND target_id = $1`, c.ID).Scan(&audits)
			if audits != 2 {
				t.Errorf("%d audit entries of the deliveries, want 2", audits)
			}
		})
	}
}

// TestCasePickupList: the pickup list (待出件) of a clerk bound to the
// implementing department holds its decided cases, once each, oldest
// decision first, even when the decision was made by another department
// (后台分类审批), within the region of the clerk's grant; a revoked
// decision leaves it; cases decided before deliveries were recorded are
// not in it.
func TestCasePickupList(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			now := fixedClock(e, "2026-03-02 10:00")
			code := itemCode(t, e, "出生医学证明首次签发")
			decided := func() cases.Case {
				*now = now.Add(time.Hour)
				c := walkIn(t, e, code, "11010519491231002X", "张三")
				for _, a := range []cases.Action{cases.Accept, cases.Advance, cases.Approve} {
					var err error
					if c, err = e.App.Cases.StaffAct(ctx, consoleAdmin, c.ID, a, cases.Input{}, c.Version); err != nil {
						t.Fatalf("%s: %v", a, err)
					}
				}
				return c
			}
			routed, revoked := decided(), decided()
			// As if the item had given its decision to another department.
			var police, policePath, policeRegion string
			if err := e.App.DB.R.QueryRowContext(ctx, `SELECT id, path, region_code FROM departments WHERE region_code = '150000' AND name IN ('公安厅', '自治区公安厅', '内蒙古自治区公安厅')`).Scan(&police, &policePath,
				&policeRegion); err != nil {
				t.Fatal(err)
			}
			if _, err := e.App.DB.W.ExecContext(ctx, `UPDATE cases SET at_dept_id = $1, at_dept_path = $2, at_region_code = $3 WHERE id = $4`,
				police, policePath, policeRegion, routed.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := e.App.Cases.StaffAct(ctx, consoleAdmin, revoked.ID, cases.Revoke, cases.Input{Opinion: "申请材料虚假"}, revoked.Version); err != nil {
				t.Fatal(err)
			}
			// A case decided before deliveries were recorded.
			old := decided()
			if _, err := e.App.DB.W.ExecContext(ctx, `UPDATE cases SET to_deliver = FALSE WHERE id = $1`, old.ID); err != nil {
				t.Fatal(err)
			}

			plain := decided() // decided by the implementing department itself
			healthClerk := &authz.Principal{UserID: "hc", Name: "卫健窗口", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150100",
				DeptID: routed.DeptID, DeptPath: routed.DeptPath}}}
			policeReviewer := &authz.Principal{UserID: "pr", Grants: []authz.Grant{{Role: authz.Reviewer, Region: "150000", DeptID: police, DeptPath: policePath}}}
			for _, tc := range []struct {
				name string
				p    *authz.Principal
				text string
				want []string
			}{
				{"the implementing department's clerk", healthClerk, "", []string{routed.Number, plain.Number}},
				{"the implementing department's clerk, by number", healthClerk, plain.Number[31:], []string{plain.Number}},
				{"the implementing department's clerk, by another name", healthClerk, "李四", nil},
				{"the implementing department's clerk at a district hall", &authz.Principal{UserID: "hd", Grants: []authz.Grant{{Role: authz.WindowClerk,
					Region: "150102", DeptID: routed.DeptID, DeptPath: routed.DeptPath}}}, "", nil},
				{"the deciding department's reviewer", policeReviewer, "", []string{routed.Number}},
				{"the deciding department's reviewer, by number", policeReviewer, routed.Number[31:], []string{routed.Number}},
				{"the deciding department's reviewer, by another number", policeReviewer, plain.Number[31:], nil},
				{"a clerk of another city", &authz.Principal{UserID: "bc", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150200"}}}, "", nil},
			} {
				list, total, err := e.App.Cases.Queue(ctx, tc.p, cases.Query{State: cases.ToDeliverFilter, Q: tc.text})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, c := range list {
					got = append(got, c.Number)
				}
				if !slices.Equal(got, tc.want) || total != len(tc.want) {
					t.Errorf("%s: pickup list %v (%d), want %v", tc.name, got, total, tc.want)
				}
			}
			if c, err := e.App.Cases.StaffAct(ctx, healthClerk, routed.ID, cases.Deliver, cases.Input{Deliver: cases.Delivery{Method: cases.AtWindow,
				Recipient: "张三"}}, current(t, e, routed.ID).Version); err != nil || c.ToDeliver {
				t.Fatalf("the implementing department's clerk delivering: %v", err)
			}
		})
	}
}

// TestCaseResultPreference: the applicant says how to receive the result
// (结果领取方式) on the case page — at the window or by post to an address —
// until it has gone out; bad input is refused on its field, nothing saved;
// the pickup list and the delivery form show the choice.
func TestCaseResultPreference(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			fixedClock(e, "2026-03-02 10:00")
			code := itemCode(t, e, "出生医学证明首次签发")
			c, err := e.App.Cases.File(ctx, demoCitizen(t, e), code, birthApplication(), true)
			if err != nil {
				t.Fatal(err)
			}
			me := signIn(t, e, demoCitizenID, e.Logins[demoCitizenID])
			page := "/my/cases/" + c.ID
			wantStatus(t, "the case page", me.get(t, page), 200, `id="result-form"`, `name="result_method" value="window" checked`)
			set := func(v int, kv ...string) apptest.Response {
				form := url.Values{"version": {fmt.Sprint(v)}}
				for i := 0; i+1 < len(kv); i += 2 {
					form.Set(kv[i], kv[i+1])
				}
				return me.post(t, page+"/result", form)
			}
			const address = "内蒙古自治区呼和浩特市新城区新华大街1号 王小明 13900001234"
			wantStatus(t, "by post without an address", set(c.Version, "result_method", "post"), 422, "请填写邮寄地址")
			wantStatus(t, "by post hiding a control character", set(c.Version, "result_method", "post", "result_address", "呼和浩特市\x07新城区"), 422, "请填写邮寄地址")
			wantStatus(t, "an unknown method", set(c.Version, "result_method", "pigeon"), 422, "请选择结果领取方式")
			wantStatus(t, "stale", set(c.Version-1, "result_method", "post", "result_address", address), 409, "已被他人处理或修改")
			wantStatus(t, "someone else's case", otherCitizen(t, e).post(t, page+"/result", url.Values{"version": {fmt.Sprint(c.Version)},
				"result_method": {"window"}}), 404)
			if got := current(t, e, c.ID); got.Version != c.Version || got.Result != (cases.ResultPref{}) {
				t.Fatalf("after refused input: v%d %+v", got.Version, got.Result)
			}
			if res := set(c.Version, "result_method", "post", "result_address", " "+address+" "); res.Status != http.StatusSeeOther {
				t.Fatalf("by post: %d %.300s", res.Status, res.Body)
			}
			wantStatus(t, "the case page after choosing post", me.get(t, page), 200, `name="result_method" value="post" checked`, address)

			// The clerk sees the choice; the delivery form starts from it.
			for _, a := range []cases.Action{cases.Accept, cases.Advance, cases.Approve} {
				cur := current(t, e, c.ID)
				if _, err := e.App.Cases.StaffAct(ctx, consoleAdmin, c.ID, a, cases.Input{}, cur.Version); err != nil {
					t.Fatalf("%s: %v", a, err)
				}
			}
			clerk := e.LoginDemo(t, "clerk")
			want(t, "the pickup list", clerk.Get(t, "/console/cases?state="+cases.ToDeliverFilter), 200, []string{c.Number, "邮寄至：" + address})
			want(t, "the case page", clerk.Get(t, "/console/cases/"+c.ID), 200, []string{"邮寄至：" + address, `name="method" value="post" checked`,
				`name="recipient" maxlength="50" value="王小明"`})
			c = current(t, e, c.ID)
			if _, err := e.App.Cases.StaffAct(ctx, consoleAdmin, c.ID, cases.Deliver, cases.Input{Deliver: cases.Delivery{Method: cases.ByPost,
				Recipient: "王小明", Tracking: "EJ123456789CN"}}, c.Version); err != nil {
				t.Fatal(err)
			}
			c = current(t, e, c.ID)
			wantStatus(t, "after delivery", set(c.Version, "result_method", "window"), 409, "不能再修改领取方式")
			if res := me.get(t, page); strings.Contains(res.Body, `id="result-form"`) || !strings.Contains(res.Body, "邮件号：EJ123456789CN") {
				t.Errorf("the case page after delivery still offers the choice or lacks the delivery:\n%.2000s", res.Body)
			}
		})
	}
}
