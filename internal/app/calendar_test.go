package app_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"yiwang/internal/app/apptest"
	"yiwang/internal/platform/sqldb/sqldbtest"
	"yiwang/internal/platform/totp"
)

// TestCalendarAPI checks both calendar contracts through the real router on
// every engine, bad input included.
func TestCalendarAPI(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := apptest.New(t, eng)
			c := e.Client()
			for _, tc := range []struct {
				path string
				want map[string]any
			}{
				{"/api/v1/calendar/days/2026-02-14", map[string]any{"date": "2026-02-14", "workday": true, "kind": "makeup_workday", "name": "春节"}},
				{"/api/v1/calendar/days/2026-02-16", map[string]any{"date": "2026-02-16", "workday": false, "kind": "holiday", "name": "春节"}},
				{"/api/v1/calendar/days/2026-03-01", map[string]any{"date": "2026-03-01", "workday": false, "kind": "weekend", "name": ""}},
				{"/api/v1/calendar/days/2026-03-02", map[string]any{"date": "2026-03-02", "workday": true, "kind": "workday", "name": ""}},
				{"/api/v1/calendar/days/2025-10-11?region=150102", map[string]any{"date": "2025-10-11", "workday": true, "kind": "makeup_workday", "name": "国庆节、中秋节"}},
				{"/api/v1/calendar/add?start=2026-02-13&days=2&unit=workday", map[string]any{"start": "2026-02-13", "days": 2.0, "unit": "workday", "due": "2026-02-24"}},
				{"/api/v1/calendar/add?start=2026-02-10&days=20", map[string]any{"start": "2026-02-10", "days": 20.0, "unit": "workday", "due": "2026-03-16"}},
				{"/api/v1/calendar/add?start=2026-09-30&days=1&unit=workday", map[string]any{"start": "2026-09-30", "days": 1.0, "unit": "workday", "due": "2026-10-08"}},
				{"/api/v1/calendar/add?start=2026-02-13&days=10&unit=natural", map[string]any{"start": "2026-02-13", "days": 10.0, "unit": "natural", "due": "2026-02-23"}},
				{"/api/v1/calendar/add?start=2026-02-15&days=0&unit=workday", map[string]any{"start": "2026-02-15", "days": 0.0, "unit": "workday", "due": "2026-02-24"}},
			} {
				res := c.Get(t, tc.path)
				var got map[string]any
				if err := json.Unmarshal([]byte(res.Body), &got); res.Status != 200 || err != nil {
					t.Errorf("GET %s: %d %v %s", tc.path, res.Status, err, res.Body)
					continue
				}
				delete(got, "$schema")
				for k, v := range tc.want {
					if got[k] != v {
						t.Errorf("GET %s: %s = %v, want %v (%s)", tc.path, k, got[k], v, res.Body)
					}
				}
				if len(got) != len(tc.want) {
					t.Errorf("GET %s: fields %v, want exactly %v", tc.path, got, tc.want)
				}
			}
			for _, sc := range []apptest.Scenario{
				{Name: "unknown year", Path: "/api/v1/calendar/days/2024-12-31", Status: 422, Contains: []string{`"code":"invalid"`, "2024年的节假日安排尚未载入", "2025年、2026年、2027年"}},
				{Name: "year after the data", Path: "/api/v1/calendar/days/2028-01-03", Status: 422, Contains: []string{`"code":"invalid"`, "2028年"}},
				{Name: "no such date", Path: "/api/v1/calendar/days/2026-02-30", Status: 422, Contains: []string{`"code":"invalid"`, "YYYY-MM-DD"}},
				{Name: "not a date", Path: "/api/v1/calendar/days/tomorrow", Status: 422, Contains: []string{`"code":"invalid"`}},
				{Name: "bad region", Path: "/api/v1/calendar/days/2026-02-14?region=1501", Status: 422, Contains: []string{`"code":"invalid"`, "行政区划代码"}},
				{Name: "due in an unknown year", Path: "/api/v1/calendar/add?start=2027-12-20&days=20", Status: 422, Contains: []string{`"code":"invalid"`, "2028年的节假日安排尚未载入"}},
				{Name: "start in an unknown year", Path: "/api/v1/calendar/add?start=2024-12-20&days=1&unit=natural", Status: 422, Contains: []string{`"code":"invalid"`, "2024年"}},
				{Name: "negative", Path: "/api/v1/calendar/add?start=2026-02-13&days=-1", Status: 422, Contains: []string{`"code":"invalid"`}},
				{Name: "huge", Path: "/api/v1/calendar/add?start=2026-02-13&days=1001", Status: 422, Contains: []string{`"code":"invalid"`}},
				{Name: "overflow", Path: "/api/v1/calendar/add?start=2026-02-13&days=99999999999999999999", Status: 422, Contains: []string{`"code":"invalid"`}},
				{Name: "not a number", Path: "/api/v1/calendar/add?start=2026-02-13&days=five", Status: 422, Contains: []string{`"code":"invalid"`}},
				{Name: "bad unit", Path: "/api/v1/calendar/add?start=2026-02-13&days=5&unit=hour", Status: 422, Contains: []string{`"code":"invalid"`}},
				{Name: "bad start", Path: "/api/v1/calendar/add?start=2026-2-13&days=5", Status: 422, Contains: []string{`"code":"invalid"`, "YYYY-MM-DD"}},
				{Name: "no start", Path: "/api/v1/calendar/add?days=5", Status: 422, Contains: []string{`"code":"invalid"`}},
				{Name: "documented", Path: "/api/openapi.json", Status: 200, Contains: []string{"/api/v1/calendar/days/{date}", "/api/v1/calendar/add", "makeup_workday"}},
			} {
				t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
			}
		})
	}
}

// adminClient signs in the demo platform admin, enrolling TOTP.
func adminClient(t *testing.T, e *apptest.Env) *apptest.Client {
	t.Helper()
	c := e.Client()
	c.Post(t, "/console/login", url.Values{"username": {"admin"}, "password": {e.Logins["admin"]}})
	res := c.Get(t, "/console/login/enroll")
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(res.Body)
	if m == nil {
		t.Fatalf("enrol page: %d", res.Status)
	}
	code, err := totp.Code(m[1], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res := c.Post(t, "/console/login/enroll", url.Values{"code": {code}}); res.Status != 303 {
		t.Fatalf("enrolment: %d", res.Status)
	}
	return c
}

var dayLink = regexp.MustCompile(`href="/console/calendar/days/([0-9a-f-]{36})">(\d{4}-\d{2}-\d{2})<`)

// dayID finds the edit link of date on a calendar page.
func dayID(t *testing.T, body, date string) string {
	t.Helper()
	for _, m := range dayLink.FindAllStringSubmatch(body, -1) {
		if m[2] == date {
			return m[1]
		}
	}
	t.Fatalf("no edit link for %s", date)
	return ""
}

// TestCalendarConsole: staff read the calendar; region admins keep their
// region's days, platform admins the national ones; the API follows at once.
func TestCalendarConsole(t *testing.T) {
	e := apptest.Demo(t, sqldbtest.SQLite(t))
	for _, sc := range []apptest.Scenario{
		{Name: "anonymous", Path: "/console/calendar", Status: 303},
		{Name: "clerk reads 2026", As: "clerk", Path: "/console/calendar?year=2026", Status: 200,
			Contains: []string{"工作日历 2026年", "全年工作日 248 天", "春节", "调休上班", "国务院办公厅", "2月（工作日 16 天）"}, NotContains: []string{"添加安排", "待核对"}},
		{Name: "2027 is marked unconfirmed", As: "clerk", Path: "/console/calendar?year=2027", Status: 200, Contains: []string{"待核对", "lunar-go"}},
		{Name: "unknown year", As: "clerk", Path: "/console/calendar?year=2030", Status: 200, Contains: []string{"2030年的节假日安排尚未载入"}},
		{Name: "calculator", As: "clerk", Path: "/console/calendar?year=2026&start=2026-02-13&days=2&unit=workday", Status: 200, Contains: []string{`id="calc-due"`, "2026-02-24", "周二"}},
		{Name: "calculator errors", As: "clerk", Path: "/console/calendar?year=2026&start=2026-02-30&days=x", Status: 200, Contains: []string{"YYYY-MM-DD", "天数应为"}},
		{Name: "clerk may not add", As: "clerk", Path: "/console/calendar/days/new", Status: 403},
		{Name: "region admin form", As: "hohhot", Path: "/console/calendar/days/new?region=150102", Status: 200, Contains: []string{`value="150102"`, "调休上班"}},
		{Name: "region admin, national day", As: "hohhot", Method: "POST", Path: "/console/calendar/days",
			Form: url.Values{"date": {"2026-03-03"}, "kind": {"holiday"}, "name": {"某节"}}, Status: 403},
		{Name: "region admin, other city", As: "hohhot", Method: "POST", Path: "/console/calendar/days",
			Form: url.Values{"date": {"2026-03-03"}, "region": {"150200"}, "kind": {"holiday"}, "name": {"某节"}}, Status: 403},
		{Name: "bad form", As: "hohhot", Method: "POST", Path: "/console/calendar/days",
			Form: url.Values{"date": {"2026-02-30"}, "region": {"150102"}, "kind": {"holiday"}}, Status: 422, Contains: []string{"YYYY-MM-DD", "请填写名称"}},
	} {
		t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
	}

	// A region admin adds a district holiday: the district's dates move, the rest do not.
	hohhot := e.LoginDemo(t, "hohhot")
	res := hohhot.Post(t, "/console/calendar/days", url.Values{"date": {"2026-03-03"}, "region": {"150102"}, "kind": {"holiday"}, "name": {"地方节日"}})
	if res.Status != 303 || !strings.Contains(res.Header.Get("Location"), "region=150102") {
		t.Fatalf("add: %d %q %s", res.Status, res.Header.Get("Location"), res.Body)
	}
	anon := e.Client()
	if res := anon.Get(t, "/api/v1/calendar/days/2026-03-03?region=150102"); !strings.Contains(res.Body, `"kind":"holiday"`) || !strings.Contains(res.Body, `"region":"150102"`) {
		t.Errorf("district day after add: %s", res.Body)
	}
	if res := anon.Get(t, "/api/v1/calendar/add?start=2026-03-02&days=1&region=150102"); !strings.Contains(res.Body, `"due":"2026-03-04"`) {
		t.Errorf("district due date: %s", res.Body)
	}
	if res := anon.Get(t, "/api/v1/calendar/days/2026-03-03"); !strings.Contains(res.Body, `"kind":"workday"`) {
		t.Errorf("national day after a district's add: %s", res.Body)
	}
	page := hohhot.Get(t, "/console/calendar?year=2026&region=150102")
	if !strings.Contains(page.Body, "地方节日") || !strings.Contains(page.Body, "新城区") {
		t.Errorf("region view lacks the new day or the region's name")
	}
	id := dayID(t, page.Body, "2026-03-03")
	if strings.Contains(page.Body, `href="/console/calendar/days/`+dayIDOrEmpty(page.Body, "2026-02-16")) {
		t.Errorf("region admin may edit a national day")
	}
	// Edit with a stale version conflicts; with the right one it saves.
	if res := hohhot.Post(t, "/console/calendar/days/"+id, url.Values{"kind": {"holiday"}, "name": {"改名"}, "version": {"9"}}); res.Status != 409 {
		t.Errorf("stale edit: %d", res.Status)
	}
	if res := hohhot.Post(t, "/console/calendar/days/"+id, url.Values{"kind": {"makeup_workday"}, "name": {"地方调休"}, "version": {"1"}}); res.Status != 303 {
		t.Errorf("edit: %d %s", res.Status, res.Body)
	}
	if res := anon.Get(t, "/api/v1/calendar/days/2026-03-03?region=150102"); !strings.Contains(res.Body, `"kind":"makeup_workday"`) {
		t.Errorf("after edit: %s", res.Body)
	}
	if res := hohhot.Post(t, "/console/calendar/days/"+id+"/delete", url.Values{"version": {"2"}}); res.Status != 303 {
		t.Errorf("delete: %d %s", res.Status, res.Body)
	}
	if res := anon.Get(t, "/api/v1/calendar/days/2026-03-03?region=150102"); !strings.Contains(res.Body, `"kind":"workday"`) {
		t.Errorf("after delete: %s", res.Body)
	}

	// The platform admin removes a national make-up day (say the notice
	// was corrected): it becomes an ordinary Saturday everywhere.
	admin := adminClient(t, e)
	page = admin.Get(t, "/console/calendar?year=2026")
	natID := dayID(t, page.Body, "2026-02-28")
	if res := admin.Get(t, "/console/calendar/days/"+natID); res.Status != 200 || !strings.Contains(res.Body, "删除该安排") {
		t.Fatalf("national day page: %d", res.Status)
	}
	if res := admin.Post(t, "/console/calendar/days/"+natID+"/delete", url.Values{"version": {"1"}}); res.Status != 303 {
		t.Fatalf("delete national day: %d %s", res.Status, res.Body)
	}
	if res := anon.Get(t, "/api/v1/calendar/days/2026-02-28?region=150102"); !strings.Contains(res.Body, `"kind":"weekend"`) {
		t.Errorf("deleted national make-up day: %s", res.Body)
	}

	// Every change is in the audit log.
	var n int
	if err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM audit_log WHERE action LIKE 'calendar.day.%'`).Scan(&n); err != nil || n != 4 {
		t.Errorf("%d calendar audit entries, %v; want 4", n, err)
	}
}

func dayIDOrEmpty(body, date string) string {
	for _, m := range dayLink.FindAllStringSubmatch(body, -1) {
		if m[2] == date {
			return m[1]
		}
	}
	return "\x00none"
}
