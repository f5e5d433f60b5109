package calendar_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"yiwang/internal/calendar"
	"yiwang/internal/platform/sqldb/sqldbtest"
	"yiwang/internal/platform/web"
)

// FuzzAPI sends arbitrary dates, numbers, units and regions to both API
// operations: every answer is 200 with a due date not before the start, or
// a 422 problem with code invalid — never a 500 or a panic.
func FuzzAPI(f *testing.F) {
	for _, s := range [][4]string{
		{"2026-02-13", "2", "workday", ""}, {"2026-02-30", "5", "natural", "150100"}, {"2027-12-20", "20", "", ""},
		{"2024-12-31", "-1", "hour", "1501"}, {"9999-99-99", "1e3", "natural", "150102001"}, {"2026-02-13", "99999999999999999999", "workday", ""},
		{"", "", "", ""}, {"2026-02-13\x00", "0x10", "Workday", "%"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	eng := sqldbtest.SQLite(f)
	svc := loaded(f, eng.DB)
	mux := http.NewServeMux()
	calendar.APIRoutes(web.NewAPI(mux, "test"), svc)
	get := func(t *testing.T, target string) (int, map[string]any) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL, _ = url.Parse(target)
		if req.URL == nil {
			return 0, nil
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		var body map[string]any
		if rec.Code != http.StatusNotFound && json.Unmarshal(rec.Body.Bytes(), &body) != nil {
			t.Fatalf("GET %s: %d, body is not JSON: %s", target, rec.Code, rec.Body)
		}
		return rec.Code, body
	}
	f.Fuzz(func(t *testing.T, start, days, unit, region string) {
		q := url.Values{"start": {start}, "days": {days}, "unit": {unit}, "region": {region}}
		status, body := get(t, "/api/v1/calendar/add?"+q.Encode())
		switch status {
		case 200:
			if body["due"].(string) < body["start"].(string) {
				t.Fatalf("due %v before start %v", body["due"], body["start"])
			}
		case 422:
			if body["code"] != "invalid" {
				t.Fatalf("422 with code %v", body["code"])
			}
		default:
			t.Fatalf("add %v: status %d %v", q, status, body)
		}
		status, body = get(t, "/api/v1/calendar/days/"+url.PathEscape(start)+"?"+url.Values{"region": {region}}.Encode())
		switch status {
		case 200, 404: // 404: the escaped date was empty or held a slash the router splits on
		case 422:
			if body["code"] != "invalid" {
				t.Fatalf("422 with code %v", body["code"])
			}
		default:
			t.Fatalf("day %q: status %d %v", start, status, body)
		}
	})
}
