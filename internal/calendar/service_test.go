package calendar_test

import (
	"context"
	"testing"
	"time"

	"yiwang/internal/calendar"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/sqldb"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// fakeRegions knows a few regions of Inner Mongolia.
type fakeRegions map[string]string

func (f fakeRegions) RegionNames(_ context.Context, codes []string) (map[string]string, error) {
	out := map[string]string{}
	for _, c := range codes {
		if n, ok := f[c]; ok {
			out[c] = n
		}
	}
	return out, nil
}

var regions = fakeRegions{"150000": "内蒙古自治区", "150100": "呼和浩特市", "150102": "新城区", "150200": "包头市"}

var (
	platformAdmin = &authz.Principal{UserID: "p", Name: "平台", Grants: []authz.Grant{{Role: authz.PlatformAdmin, Region: "150000"}}}
	hohhotAdmin   = &authz.Principal{UserID: "h", Name: "呼市", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150100"}}}
	clerk         = &authz.Principal{UserID: "c", Name: "窗口", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150100"}}}
)

func loaded(t testing.TB, db *sqldb.DB) *calendar.Service {
	t.Helper()
	if n, err := calendar.LoadSchedule(t.Context(), db); err != nil || n != 3 {
		t.Fatalf("LoadSchedule = %d, %v; want 3 years", n, err)
	}
	svc := calendar.NewService(db, regions)
	if err := svc.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	return svc
}

func count(t testing.TB, db *sqldb.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.R.QueryRowContext(t.Context(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestLoadSchedule(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := t.Context()
			svc := loaded(t, eng.DB)
			if n := count(t, eng.DB, `SELECT COUNT(*) FROM calendar_days`); n != 106 {
				t.Errorf("%d days loaded, want 106", n)
			}
			if n, err := calendar.LoadSchedule(ctx, eng.DB); err != nil || n != 0 {
				t.Errorf("second LoadSchedule = %d, %v; want 0 (nothing to do)", n, err)
			}
			if n := count(t, eng.DB, `SELECT COUNT(*) FROM audit_log WHERE action = 'calendar.year.load'`); n != 3 {
				t.Errorf("%d load audit entries, want 3", n)
			}
			due, err := svc.AddWorkdays(ctx, "", date(t, "2026-02-13"), 2)
			if err != nil || ymd(due) != "2026-02-24" {
				t.Errorf("AddWorkdays = %s, %v", ymd(due), err)
			}

			// An administrator edits one loaded day and deletes another; a
			// loaded day goes stale in the database; the 2026 data version changes.
			id := func(day string) string {
				var id string
				if err := eng.DB.R.QueryRowContext(ctx, `SELECT id FROM calendar_days WHERE region_code = '' AND day = $1`, day).Scan(&id); err != nil {
					t.Fatal(err)
				}
				return id
			}
			edited, removed := id("2026-02-23"), id("2026-02-28")
			d, err := svc.UpdateSpecial(ctx, platformAdmin, edited, calendar.SpecialInput{Kind: calendar.MakeupWorkday, Name: "改为上班", Version: 1})
			if err != nil || d.Kind != calendar.MakeupWorkday || !d.Edited || d.Version != 2 {
				t.Fatalf("UpdateSpecial = %+v, %v", d, err)
			}
			if err := svc.DeleteSpecial(ctx, platformAdmin, removed, 1); err != nil {
				t.Fatal(err)
			}
			mustExec(t, eng.DB, `UPDATE calendar_days SET name = 'stale' WHERE region_code = '' AND day = '2026-02-16'`)
			mustExec(t, eng.DB, `INSERT INTO calendar_days (id, day, region_code, kind, name, source, created_at, updated_at)
				VALUES ($1, '2026-03-02', '', 'holiday', 'gone', 'old', $2, $2)`, sqldb.NewID(), sqldb.Now())
			mustExec(t, eng.DB, `UPDATE calendar_years SET dataset = 'old' WHERE year = 2026`)
			if n, err := calendar.LoadSchedule(ctx, eng.DB); err != nil || n != 1 {
				t.Fatalf("reload = %d, %v; want 1 year", n, err)
			}
			if err := svc.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				day  string
				kind calendar.Kind
				name string
			}{
				{"2026-02-23", calendar.MakeupWorkday, "改为上班"}, // edited: kept
				{"2026-02-28", calendar.Weekend, ""},           // deleted: stays deleted
				{"2026-02-16", calendar.Holiday, "春节"},         // restored from the data
				{"2026-03-02", calendar.Workday, ""},           // no longer in the data: removed
			} {
				got, err := svc.Day(ctx, "", date(t, tc.day))
				if err != nil || got.Kind != tc.kind || got.Name != tc.name {
					t.Errorf("after reload Day(%s) = %+v, %v; want %s %q", tc.day, got, err, tc.kind, tc.name)
				}
			}
		})
	}
}

func mustExec(t testing.TB, db *sqldb.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.W.ExecContext(t.Context(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestEditSpecialDays(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := t.Context()
			svc := loaded(t, eng.DB)
			local := calendar.SpecialInput{Date: "2026-03-03", Region: "150100", Kind: calendar.Holiday, Name: "地方节日"}

			// Who may add what.
			for _, tc := range []struct {
				name string
				p    *authz.Principal
				in   calendar.SpecialInput
				kind errs.Kind
			}{
				{"anonymous", nil, local, errs.Unauthenticated},
				{"clerk", clerk, local, errs.Forbidden},
				{"region admin, national day", hohhotAdmin, calendar.SpecialInput{Date: "2026-03-03", Kind: calendar.Holiday, Name: "x"}, errs.Forbidden},
				{"region admin, other city", hohhotAdmin, calendar.SpecialInput{Date: "2026-03-03", Region: "150200", Kind: calendar.Holiday, Name: "x"}, errs.Forbidden},
				{"unknown region", platformAdmin, calendar.SpecialInput{Date: "2026-03-03", Region: "150999", Kind: calendar.Holiday, Name: "x"}, errs.Invalid},
				{"unknown year", platformAdmin, calendar.SpecialInput{Date: "2028-03-03", Kind: calendar.Holiday, Name: "x"}, errs.Invalid},
				{"bad kind", platformAdmin, calendar.SpecialInput{Date: "2026-03-03", Kind: calendar.Weekend, Name: "x"}, errs.Invalid},
				{"no name", platformAdmin, calendar.SpecialInput{Date: "2026-03-03", Kind: calendar.Holiday}, errs.Invalid},
				{"bad date", platformAdmin, calendar.SpecialInput{Date: "2026-02-30", Kind: calendar.Holiday, Name: "x"}, errs.Invalid},
				{"taken", platformAdmin, calendar.SpecialInput{Date: "2026-02-16", Kind: calendar.Holiday, Name: "x"}, errs.Invalid},
			} {
				if _, err := svc.CreateSpecial(ctx, tc.p, tc.in); errs.KindOf(err) != tc.kind {
					t.Errorf("%s: CreateSpecial error %v, want kind %v", tc.name, err, tc.kind)
				}
			}

			// A city's holiday reaches its districts, not its neighbours,
			// and is visible at once.
			d, err := svc.CreateSpecial(ctx, hohhotAdmin, local)
			if err != nil {
				t.Fatal(err)
			}
			if d.Source != calendar.SourceAdmin || !d.Edited || d.Region != "150100" {
				t.Errorf("created %+v", d)
			}
			for region, want := range map[string]string{"150102": "2026-03-04", "150200": "2026-03-03", "": "2026-03-03"} {
				due, err := svc.AddWorkdays(ctx, region, date(t, "2026-03-02"), 1)
				if err != nil || ymd(due) != want {
					t.Errorf("AddWorkdays(%q) = %s, %v; want %s", region, ymd(due), err, want)
				}
			}
			// Another node sees it once its snapshot is older than MaxAge.
			other := calendar.NewService(eng.DB, regions)
			other.MaxAge = 0
			if got, err := other.Day(ctx, "150102", date(t, "2026-03-03")); err != nil || got.Kind != calendar.Holiday {
				t.Errorf("other node: %+v, %v", got, err)
			}

			// Stale versions conflict; updates and deletes are checked too.
			if _, err := svc.UpdateSpecial(ctx, hohhotAdmin, d.ID, calendar.SpecialInput{Kind: calendar.Holiday, Name: "改名", Version: d.Version + 1}); errs.KindOf(err) != errs.Conflict {
				t.Errorf("stale update: %v, want Conflict", err)
			}
			if _, err := svc.UpdateSpecial(ctx, clerk, d.ID, calendar.SpecialInput{Kind: calendar.Holiday, Name: "改名", Version: d.Version}); errs.KindOf(err) != errs.Forbidden {
				t.Errorf("clerk update: %v, want Forbidden", err)
			}
			if err := svc.DeleteSpecial(ctx, hohhotAdmin, d.ID, d.Version+1); errs.KindOf(err) != errs.Conflict {
				t.Errorf("stale delete: %v, want Conflict", err)
			}
			if err := svc.DeleteSpecial(ctx, hohhotAdmin, d.ID, d.Version); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Special(ctx, d.ID); errs.KindOf(err) != errs.NotFound {
				t.Errorf("deleted day: %v, want NotFound", err)
			}
			if n := count(t, eng.DB, `SELECT COUNT(*) FROM calendar_days WHERE id = $1`, d.ID); n != 0 {
				t.Errorf("an administrator's day should be deleted outright, %d rows left", n)
			}
			if got, _ := svc.Day(ctx, "150102", date(t, "2026-03-03")); got.Kind != calendar.Workday {
				t.Errorf("after delete Day = %+v", got)
			}

			// A loaded national day deleted, then added back: the tombstone revives.
			var id string
			if err := eng.DB.R.QueryRowContext(ctx, `SELECT id FROM calendar_days WHERE region_code = '' AND day = '2026-10-10'`).Scan(&id); err != nil {
				t.Fatal(err)
			}
			if err := svc.DeleteSpecial(ctx, hohhotAdmin, id, 1); errs.KindOf(err) != errs.Forbidden {
				t.Errorf("region admin deleting a national day: %v, want Forbidden", err)
			}
			if err := svc.DeleteSpecial(ctx, platformAdmin, id, 1); err != nil {
				t.Fatal(err)
			}
			if got, _ := svc.Day(ctx, "", date(t, "2026-10-10")); got.Kind != calendar.Weekend {
				t.Errorf("deleted make-up day still %+v", got)
			}
			back, err := svc.CreateSpecial(ctx, platformAdmin, calendar.SpecialInput{Date: "2026-10-10", Kind: calendar.MakeupWorkday, Name: "国庆节"})
			if err != nil || back.ID != id || back.Version != 3 {
				t.Errorf("revive = %+v, %v; want id %s version 3", back, err, id)
			}

			// Every change is audited.
			if n := count(t, eng.DB, `SELECT COUNT(*) FROM audit_log WHERE action LIKE 'calendar.day.%'`); n != 4 {
				t.Errorf("%d calendar.day audit entries, want 4 (create, delete, delete, create)", n)
			}
			list, err := svc.YearSpecials(ctx, 2026, "150102")
			if err != nil || len(list) != 39 {
				t.Errorf("YearSpecials(2026, 150102) = %d days, %v; want the 39 national ones", len(list), err)
			}
		})
	}
}

// TestScheduleRefreshFailure: a failed re-read keeps serving the snapshot.
func TestScheduleRefreshFailure(t *testing.T) {
	eng := sqldbtest.SQLite(t)
	svc := loaded(t, eng.DB)
	svc.MaxAge = time.Nanosecond
	mustExec(t, eng.DB, `ALTER TABLE calendar_days RENAME TO calendar_days_x`)
	if got, err := svc.Day(t.Context(), "", date(t, "2026-02-16")); err != nil || got.Kind != calendar.Holiday {
		t.Errorf("Day with a broken database = %+v, %v; want the cached answer", got, err)
	}
}

// BenchmarkAddWorkdays is the cost of a due date through the Service: 20
// working days across 春节 2026 for a county, answered from the cache.
func BenchmarkAddWorkdays(b *testing.B) {
	eng := sqldbtest.SQLite(b)
	svc := loaded(b, eng.DB)
	ctx := context.Background()
	start := date(b, "2026-02-10")
	for b.Loop() {
		if _, err := svc.AddWorkdays(ctx, "150102", start, 20); err != nil {
			b.Fatal(err)
		}
	}
}
