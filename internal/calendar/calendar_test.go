package calendar_test

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yiwang/internal/calendar"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
)

// embedded returns the Schedule of the embedded data alone, plus extra days.
func embedded(t testing.TB, extra ...calendar.Special) *calendar.Schedule {
	t.Helper()
	s, err := calendar.EmbeddedSchedule(extra...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func date(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		t.Fatalf("ParseDate(%q): %v", s, err)
	}
	return d
}

func ymd(d time.Time) string { return d.Format(calendar.DateLayout) }

func TestEmbeddedYears(t *testing.T) {
	sch := embedded(t)
	var got []int
	for _, y := range sch.Years() {
		got = append(got, y.Year)
		if y.Source == "" || y.Dataset == "" {
			t.Errorf("year %d lacks source or dataset: %+v", y.Year, y)
		}
	}
	if diff := cmp.Diff([]int{2025, 2026, 2027}, got); diff != "" {
		t.Errorf("years (-want +got):\n%s", diff)
	}
	for _, y := range sch.Years() {
		// 2027 comes from lunar-go, not yet from the notice itself.
		if want := y.Year != 2027; y.Confirmed != want {
			t.Errorf("year %d confirmed = %v, want %v", y.Year, y.Confirmed, want)
		}
	}
}

// TestWorkdaysPerYear: domain-rules §10 counted 248 working days in 2025 and
// 2026 with "Mon–Fri, minus holidays, plus make-up days"; 2027 gives 248 too.
func TestWorkdaysPerYear(t *testing.T) {
	sch := embedded(t)
	for _, y := range []int{2025, 2026, 2027} {
		from := time.Date(y-1, 12, 31, 0, 0, 0, 0, time.UTC)
		to := time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC)
		var n int
		if y == 2025 { // Dec 31 2024 lies in an unknown year: count Jan 1 by hand
			n1, err := sch.WorkdaysBetween("", date(t, "2025-01-01"), to)
			if err != nil {
				t.Fatal(err)
			}
			d, _ := sch.Day("", date(t, "2025-01-01"))
			n = n1
			if d.Workday {
				n++
			}
		} else {
			var err error
			if n, err = sch.WorkdaysBetween("", from, to); err != nil {
				t.Fatal(err)
			}
		}
		if n != 248 {
			t.Errorf("%d has %d working days, want 248", y, n)
		}
	}
}

// TestEmbeddedMatchesLunarGo cross-checks our table against the records of
// github.com/6tail/lunar-go v1.4.7 (testdata, copied verbatim): the same
// days, each a day off or a make-up working day alike.
func TestEmbeddedMatchesLunarGo(t *testing.T) {
	f, err := os.Open("testdata/lunar-go-v1.4.7-holidays.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lunar := map[string]calendar.Kind{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(line) != 18 {
			t.Fatalf("bad record %q", line)
		}
		day := line[0:4] + "-" + line[4:6] + "-" + line[6:8]
		kind := calendar.Holiday
		if line[9] == '0' {
			kind = calendar.MakeupWorkday
		}
		lunar[day] = kind
	}
	ours := map[string]calendar.Kind{}
	eys, err := calendar.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, ey := range eys {
		for _, d := range ey.Days {
			ours[ymd(d.Date)] = d.Kind
		}
	}
	if diff := cmp.Diff(lunar, ours); diff != "" {
		t.Errorf("embedded data differs from lunar-go v1.4.7 (-lunar +ours):\n%s", diff)
	}
}

func TestDay(t *testing.T) {
	sch := embedded(t)
	tests := []struct {
		date string
		want calendar.Day
	}{
		{"2026-02-13", calendar.Day{Workday: true, Kind: calendar.Workday}},
		{"2026-02-14", calendar.Day{Workday: true, Kind: calendar.MakeupWorkday, Name: "春节"}}, // Saturday
		{"2026-02-15", calendar.Day{Kind: calendar.Holiday, Name: "春节"}},
		{"2026-02-21", calendar.Day{Kind: calendar.Holiday, Name: "春节"}}, // Saturday inside the holiday
		{"2026-02-23", calendar.Day{Kind: calendar.Holiday, Name: "春节"}},
		{"2026-02-24", calendar.Day{Workday: true, Kind: calendar.Workday}},
		{"2026-02-28", calendar.Day{Workday: true, Kind: calendar.MakeupWorkday, Name: "春节"}},
		{"2026-03-01", calendar.Day{Kind: calendar.Weekend}},
		{"2026-01-04", calendar.Day{Workday: true, Kind: calendar.MakeupWorkday, Name: "元旦"}}, // Sunday
		{"2026-09-20", calendar.Day{Workday: true, Kind: calendar.MakeupWorkday, Name: "国庆节"}},
		{"2026-09-25", calendar.Day{Kind: calendar.Holiday, Name: "中秋节"}},
		{"2026-10-07", calendar.Day{Kind: calendar.Holiday, Name: "国庆节"}},
		{"2026-10-10", calendar.Day{Workday: true, Kind: calendar.MakeupWorkday, Name: "国庆节"}},
		{"2025-01-26", calendar.Day{Workday: true, Kind: calendar.MakeupWorkday, Name: "春节"}},
		{"2025-02-08", calendar.Day{Workday: true, Kind: calendar.MakeupWorkday, Name: "春节"}},
		{"2025-04-27", calendar.Day{Workday: true, Kind: calendar.MakeupWorkday, Name: "劳动节"}},
		{"2025-09-28", calendar.Day{Workday: true, Kind: calendar.MakeupWorkday, Name: "国庆节、中秋节"}},
		{"2025-10-06", calendar.Day{Kind: calendar.Holiday, Name: "国庆节、中秋节"}},
		{"2025-10-11", calendar.Day{Workday: true, Kind: calendar.MakeupWorkday, Name: "国庆节、中秋节"}},
		{"2027-12-31", calendar.Day{Workday: true, Kind: calendar.Workday}},
	}
	for _, tc := range tests {
		t.Run(tc.date, func(t *testing.T) {
			got, err := sch.Day("", date(t, tc.date))
			if err != nil {
				t.Fatalf("Day(%s): %v", tc.date, err)
			}
			tc.want.Date = date(t, tc.date)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Day(%s) mismatch (-want +got):\n%s", tc.date, diff)
			}
		})
	}
}

// TestAddWorkdaysGolden: due dates across 春节 2026 (with its make-up
// Saturdays 02-14 and 02-28), 中秋/国庆 2026 (make-up Sunday 09-20 and
// Saturday 10-10), the 2025 make-up days and the turn of 2025/2026.
// Computed independently (a Python count over the same table) and checked
// by hand for the long ones.
func TestAddWorkdaysGolden(t *testing.T) {
	sch := embedded(t)
	tests := []struct {
		start string
		n     int
		want  string
	}{
		// 春节 2026: 02-15 … 02-23 off; 02-14 (Sat) and 02-28 (Sat) worked.
		{"2026-02-12", 1, "2026-02-13"},
		{"2026-02-13", 1, "2026-02-14"}, // Friday → the make-up Saturday
		{"2026-02-13", 2, "2026-02-24"}, // then over the whole holiday
		{"2026-02-12", 5, "2026-02-26"},
		{"2026-02-14", 1, "2026-02-24"},
		{"2026-02-23", 1, "2026-02-24"},
		{"2026-02-27", 1, "2026-02-28"}, // the second make-up Saturday
		{"2026-02-27", 2, "2026-03-02"},
		{"2026-02-10", 20, "2026-03-16"}, // 行政许可法 20 working days
		{"2026-02-13", 20, "2026-03-19"},
		// 中秋 09-25 … 09-27, 国庆 10-01 … 10-07; 09-20 (Sun) and 10-10 (Sat) worked.
		{"2026-09-18", 1, "2026-09-20"},
		{"2026-09-19", 1, "2026-09-20"},
		{"2026-09-24", 1, "2026-09-28"},
		{"2026-09-24", 3, "2026-09-30"},
		{"2026-09-30", 1, "2026-10-08"},
		{"2026-09-30", 2, "2026-10-09"},
		{"2026-10-09", 1, "2026-10-10"},
		{"2026-09-15", 20, "2026-10-19"},
		// 2025 make-up days: 01-26 (Sun), 02-08 (Sat), 04-27 (Sun), 09-28 (Sun), 10-11 (Sat).
		{"2025-01-24", 1, "2025-01-26"},
		{"2025-01-25", 1, "2025-01-26"},
		{"2025-01-27", 1, "2025-02-05"},
		{"2025-02-07", 1, "2025-02-08"},
		{"2025-04-25", 1, "2025-04-27"},
		{"2025-04-26", 1, "2025-04-27"},
		{"2025-04-30", 20, "2025-06-03"},
		{"2025-09-26", 1, "2025-09-28"},
		{"2025-09-27", 1, "2025-09-28"},
		{"2025-10-10", 1, "2025-10-11"},
		// Across the new year: 2026-01-01 … 01-03 off, 01-04 (Sun) worked.
		{"2025-12-25", 10, "2026-01-09"},
		{"2025-12-31", 1, "2026-01-04"},
		// n = 0 (即办件): the day itself when it is a working day, else the next one.
		{"2026-02-13", 0, "2026-02-13"},
		{"2026-02-14", 0, "2026-02-14"},
		{"2026-02-15", 0, "2026-02-24"},
		{"2026-01-03", 0, "2026-01-04"},
		{"2026-03-01", 0, "2026-03-02"},
	}
	for _, tc := range tests {
		got, err := sch.AddWorkdays("", date(t, tc.start), tc.n)
		if err != nil {
			t.Errorf("AddWorkdays(%s, %d): %v", tc.start, tc.n, err)
			continue
		}
		if ymd(got) != tc.want {
			t.Errorf("AddWorkdays(%s, %d) = %s, want %s", tc.start, tc.n, ymd(got), tc.want)
		}
		if tc.n > 0 {
			// The inverse: as many working days lie after start up to the due date.
			if n, err := sch.WorkdaysBetween("", date(t, tc.start), got); err != nil || n != tc.n {
				t.Errorf("WorkdaysBetween(%s, %s) = %d, %v; want %d", tc.start, ymd(got), n, err, tc.n)
			}
		}
	}
}

func TestAddNatural(t *testing.T) {
	sch := embedded(t)
	for _, tc := range []struct {
		start string
		n     int
		want  string
	}{
		{"2026-02-13", 0, "2026-02-13"},
		{"2026-02-13", 10, "2026-02-23"}, // natural days ignore holidays
		{"2025-12-25", 10, "2026-01-04"},
		{"2026-09-30", 45, "2026-11-14"}, // 联合办理 45 days
		{"2027-12-21", 10, "2027-12-31"},
	} {
		got, err := sch.Add("", date(t, tc.start), tc.n, calendar.NaturalUnit)
		if err != nil || ymd(got) != tc.want {
			t.Errorf("Add(%s, %d, natural) = %s, %v; want %s", tc.start, tc.n, ymd(got), err, tc.want)
		}
	}
}

// TestUnknownYears: a date outside the loaded years is an Invalid error
// naming the known years, never a date from the weekday rule.
func TestUnknownYears(t *testing.T) {
	sch := embedded(t)
	check := func(name string, err error, field, year string) {
		t.Helper()
		if errs.KindOf(err) != errs.Invalid {
			t.Errorf("%s: error %v, want Invalid", name, err)
			return
		}
		e, _ := err.(*errs.Error)
		if e == nil || !strings.Contains(e.Msg, year+"年的节假日安排尚未载入") || !strings.Contains(e.Msg, "2025年、2026年、2027年") {
			t.Errorf("%s: message %q should name %s and the known years", name, errs.Message(err), year)
		}
		if e != nil && e.Fields[field] == "" {
			t.Errorf("%s: no message for field %q: %v", name, field, e.Fields)
		}
	}
	_, err := sch.Day("", date(t, "2024-12-31"))
	check("Day 2024-12-31", err, "date", "2024")
	_, err = sch.Day("", date(t, "2028-01-01"))
	check("Day 2028-01-01", err, "date", "2028")
	_, err = sch.AddWorkdays("", date(t, "2024-12-20"), 5)
	check("AddWorkdays from 2024", err, "start", "2024")
	_, err = sch.AddWorkdays("", date(t, "2027-12-20"), 20)
	check("AddWorkdays into 2028", err, "days", "2028")
	_, err = sch.AddWorkdays("", date(t, "2027-12-31"), 0) // a working day: fine
	if err != nil {
		t.Errorf("AddWorkdays(2027-12-31, 0): %v", err)
	}
	_, err = sch.Add("", date(t, "2027-12-25"), 10, calendar.NaturalUnit)
	check("AddNatural into 2028", err, "days", "2028")
	_, err = sch.WorkdaysBetween("", date(t, "2027-12-01"), date(t, "2028-01-10"))
	check("WorkdaysBetween into 2028", err, "to", "2028")
	_, err = sch.WorkdaysBetween("", date(t, "2024-12-01"), date(t, "2025-01-10"))
	check("WorkdaysBetween from 2024", err, "from", "2024")

	// A gap between known years stops the count too.
	eys, _ := calendar.Embedded()
	gap := calendar.NewSchedule([]calendar.Year{eys[0].Year, eys[2].Year}, append(eys[0].Days, eys[2].Days...))
	_, err = gap.AddWorkdays("", date(t, "2025-12-20"), 20)
	if errs.KindOf(err) != errs.Invalid || !strings.Contains(errs.Message(err), "2026年") {
		t.Errorf("AddWorkdays across a missing 2026: %v, want Invalid naming 2026", err)
	}
	_, err = gap.WorkdaysBetween("", date(t, "2025-12-20"), date(t, "2027-01-10"))
	if errs.KindOf(err) != errs.Invalid || !strings.Contains(errs.Message(err), "2026年") {
		t.Errorf("WorkdaysBetween across a missing 2026: %v, want Invalid naming 2026", err)
	}
	if _, err := calendar.NewSchedule(nil, nil).Day("", date(t, "2026-01-05")); errs.KindOf(err) != errs.Invalid {
		t.Errorf("empty schedule: %v, want Invalid", err)
	}
}

func TestBadDays(t *testing.T) {
	sch := embedded(t)
	for _, n := range []int{-1, calendar.MaxDays + 1, 1 << 40} {
		if _, err := sch.AddWorkdays("", date(t, "2026-01-05"), n); errs.KindOf(err) != errs.Invalid {
			t.Errorf("AddWorkdays(n=%d) error %v, want Invalid", n, err)
		}
		if _, err := sch.AddNatural(date(t, "2026-01-05"), n); errs.KindOf(err) != errs.Invalid {
			t.Errorf("AddNatural(n=%d) error %v, want Invalid", n, err)
		}
	}
	if _, err := sch.Add("", date(t, "2026-01-05"), 1, calendar.Unit("hour")); errs.KindOf(err) != errs.Invalid {
		t.Errorf("Add(unit=hour) error %v, want Invalid", err)
	}
}

// TestRegionSpecific: a region's days apply to it and the regions inside
// it, on top of the national days; the most specific region wins.
func TestRegionSpecific(t *testing.T) {
	sch := embedded(t,
		calendar.Special{Date: date(t, "2026-03-03"), Region: "150100", Kind: calendar.Holiday, Name: "地方节日"},
		calendar.Special{Date: date(t, "2026-06-01"), Region: "150000", Kind: calendar.Holiday, Name: "自治区节日"},
		calendar.Special{Date: date(t, "2026-06-01"), Region: "150100", Kind: calendar.MakeupWorkday, Name: "市调休"},
		calendar.Special{Date: date(t, "2026-02-23"), Region: "150102", Kind: calendar.MakeupWorkday, Name: "区调休"},
	)
	tests := []struct {
		region, date string
		kind         calendar.Kind
		from         string
	}{
		{"", "2026-03-03", calendar.Workday, ""},
		{"150000", "2026-03-03", calendar.Workday, ""}, // the province is not inside 呼和浩特
		{"150100", "2026-03-03", calendar.Holiday, "150100"},
		{"150102", "2026-03-03", calendar.Holiday, "150100"},
		{"150102001", "2026-03-03", calendar.Holiday, "150100"},
		{"150200", "2026-03-03", calendar.Workday, ""}, // 包头
		{"110000", "2026-03-03", calendar.Workday, ""},
		{"150200", "2026-06-01", calendar.Holiday, "150000"},
		{"150102", "2026-06-01", calendar.MakeupWorkday, "150100"},
		{"", "2026-06-01", calendar.Workday, ""},
		{"150102", "2026-02-23", calendar.MakeupWorkday, "150102"}, // overrides the national 春节
		{"150103", "2026-02-23", calendar.Holiday, ""},
	}
	for _, tc := range tests {
		got, err := sch.Day(tc.region, date(t, tc.date))
		if err != nil {
			t.Fatal(err)
		}
		if got.Kind != tc.kind || got.Region != tc.from {
			t.Errorf("Day(%q, %s) = %s from %q, want %s from %q", tc.region, tc.date, got.Kind, got.Region, tc.kind, tc.from)
		}
	}
	// The region's holiday moves its due dates and no one else's.
	for _, tc := range []struct{ region, want string }{{"150102", "2026-03-04"}, {"150200", "2026-03-03"}, {"", "2026-03-03"}} {
		got, err := sch.AddWorkdays(tc.region, date(t, "2026-03-02"), 1)
		if err != nil || ymd(got) != tc.want {
			t.Errorf("AddWorkdays(%q, 2026-03-02, 1) = %s, %v; want %s", tc.region, ymd(got), err, tc.want)
		}
	}
}

// TestWorkdaysBetweenAdds: counts over adjacent intervals add up, reversed
// intervals count negative, and the count inverts AddWorkdays.
func TestWorkdaysBetweenAdds(t *testing.T) {
	sch := embedded(t)
	base := date(t, "2025-01-01")
	for i := 0; i < 1000; i += 7 {
		a := base.AddDate(0, 0, i)
		b := a.AddDate(0, 0, i%41)
		c := b.AddDate(0, 0, i%53)
		ab, err1 := sch.WorkdaysBetween("", a, b)
		bc, err2 := sch.WorkdaysBetween("", b, c)
		ac, err3 := sch.WorkdaysBetween("", a, c)
		ca, err4 := sch.WorkdaysBetween("", c, a)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			t.Fatalf("errors at %s: %v %v %v %v", ymd(a), err1, err2, err3, err4)
		}
		if ab+bc != ac || ca != -ac {
			t.Errorf("%s→%s→%s: %d + %d ≠ %d (reverse %d)", ymd(a), ymd(b), ymd(c), ab, bc, ac, ca)
		}
		n := i%30 + 1
		due, err := sch.AddWorkdays("", a, n)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := sch.WorkdaysBetween("", a, due); got != n {
			t.Errorf("WorkdaysBetween(%s, AddWorkdays(%d) = %s) = %d", ymd(a), n, ymd(due), got)
		}
	}
}

// TestDateOf: a time's date is its date in China.
func TestDateOf(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 2, 13, 23, 30, 0, 0, calendar.China), "2026-02-13"},
		{time.Date(2026, 2, 13, 16, 0, 0, 0, time.UTC), "2026-02-14"}, // 00:00 in China
		{time.Date(2026, 2, 13, 15, 59, 0, 0, time.UTC), "2026-02-13"},
		{time.Date(2026, 2, 13, 0, 0, 0, 0, time.UTC), "2026-02-13"},
	} {
		if got := ymd(calendar.DateOf(tc.in)); got != tc.want {
			t.Errorf("DateOf(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
	// A case accepted on Friday 13 February 2026 at 17:30 China time, due
	// in 1 working day: the make-up Saturday.
	sch := embedded(t)
	due, err := sch.AddWorkdays("", time.Date(2026, 2, 13, 9, 30, 0, 0, time.UTC), 1)
	if err != nil || ymd(due) != "2026-02-14" {
		t.Errorf("AddWorkdays(17:30 CST Friday, 1) = %s, %v", ymd(due), err)
	}
}

func TestParseDate(t *testing.T) {
	for _, s := range []string{"2026-02-14", "2025-01-01", "2027-12-31", "2024-02-29"} {
		if _, err := calendar.ParseDate(s); err != nil {
			t.Errorf("ParseDate(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "2026-2-14", "2026-02-30", "2025-02-29", "20260214", "2026/02/14", " 2026-02-14", "2026-02-14T00:00:00Z", "+026-02-14", "2026-13-01", "２０２６-02-14"} {
		if _, err := calendar.ParseDate(s); errs.KindOf(err) != errs.Invalid {
			t.Errorf("ParseDate(%q) error %v, want Invalid", s, err)
		}
	}
}

func TestParseAdd(t *testing.T) {
	q, err := calendar.ParseAdd("150100", "2026-02-13", " 5 ", "natural")
	if err != nil {
		t.Fatal(err)
	}
	if want := (calendar.AddQuery{Region: "150100", Start: date(t, "2026-02-13"), Days: 5, Unit: calendar.NaturalUnit}); q != want {
		t.Errorf("ParseAdd = %+v, want %+v", q, want)
	}
	if q, err := calendar.ParseAdd("", "2026-02-13", "0", ""); err != nil || q.Unit != calendar.WorkdayUnit {
		t.Errorf("empty unit: %+v, %v; want workday", q, err)
	}
	_, err = calendar.ParseAdd("15", "2026-02-31", "-1", "week")
	e, ok := err.(*errs.Error)
	if !ok || e.Kind != errs.Invalid {
		t.Fatalf("ParseAdd(bad) = %v, want Invalid", err)
	}
	for _, f := range []string{"region", "start", "days", "unit"} {
		if e.Fields[f] == "" {
			t.Errorf("no message for %s: %v", f, e.Fields)
		}
	}
}

func TestSpecialInputChecked(t *testing.T) {
	// Through MayEdit's sibling rules: the table of who may edit what.
	platform := &authz.Principal{UserID: "p", Grants: []authz.Grant{{Role: authz.PlatformAdmin, Region: "150000"}}}
	regionHohhot := &authz.Principal{UserID: "r", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150100"}}}
	clerk := &authz.Principal{UserID: "c", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150100"}}}
	dept := &authz.Principal{UserID: "d", Grants: []authz.Grant{{Role: authz.DeptAdmin, Region: "150100", DeptID: "x", DeptPath: "/x/"}}}
	tests := []struct {
		name   string
		p      *authz.Principal
		region string
		want   bool
	}{
		{"platform national", platform, "", true},
		{"platform own province", platform, "150102", true},
		{"region admin national", regionHohhot, "", false},
		{"region admin own city", regionHohhot, "150100", true},
		{"region admin own county", regionHohhot, "150102", true},
		{"region admin other city", regionHohhot, "150200", false},
		{"region admin own province", regionHohhot, "150000", false},
		{"clerk", clerk, "150100", false},
		{"dept admin", dept, "150100", false},
		{"nobody", nil, "150100", false},
		{"nobody national", nil, "", false},
	}
	for _, tc := range tests {
		if got := calendar.MayEdit(tc.p, tc.region); got != tc.want {
			t.Errorf("%s: MayEdit(%q) = %v, want %v", tc.name, tc.region, got, tc.want)
		}
	}
}

func TestValidRegion(t *testing.T) {
	for _, c := range []string{"", "150000", "150102", "150102001"} {
		if !calendar.ValidRegion(c) {
			t.Errorf("ValidRegion(%q) = false", c)
		}
	}
	for _, c := range []string{"15", "1501", "15010", "1501020011", "000000", "15010a", "１５００００"} {
		if calendar.ValidRegion(c) {
			t.Errorf("ValidRegion(%q) = true", c)
		}
	}
}

// FuzzParseAdd: outside input never panics; what parses is in range and
// formats back to itself.
func FuzzParseAdd(f *testing.F) {
	for _, s := range [][4]string{{"", "2026-02-13", "5", "workday"}, {"150100", "2026-02-30", "-1", "natural"},
		{"x", "9999-12-31", "1000", ""}, {"", "0000-01-01", "99999999999999999999", "hour"}, {"", "2026-02-13", "+5", " natural "}} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	sch := embedded(f)
	f.Fuzz(func(t *testing.T, region, start, days, unit string) {
		q, err := calendar.ParseAdd(region, start, days, unit)
		if err != nil {
			if errs.KindOf(err) != errs.Invalid {
				t.Fatalf("ParseAdd error kind %v: %v", errs.KindOf(err), err)
			}
			return
		}
		if q.Days < 0 || q.Days > calendar.MaxDays || !calendar.ValidRegion(q.Region) {
			t.Fatalf("ParseAdd accepted %+v", q)
		}
		if ymd(q.Start) != strings.TrimSpace(start) {
			t.Fatalf("ParseAdd start %q → %s", start, ymd(q.Start))
		}
		due, err := sch.Add(q.Region, q.Start, q.Days, q.Unit)
		if err != nil {
			if errs.KindOf(err) != errs.Invalid {
				t.Fatalf("Add error kind %v: %v", errs.KindOf(err), err)
			}
			return
		}
		if due.Before(q.Start) {
			t.Fatalf("due %s before start %s", ymd(due), ymd(q.Start))
		}
	})
}

func BenchmarkScheduleAddWorkdays(b *testing.B) {
	sch := embedded(b)
	start := date(b, "2026-02-10")
	for b.Loop() {
		if _, err := sch.AddWorkdays("150102", start, 20); err != nil {
			b.Fatal(err)
		}
	}
}
