package cases

import (
	"testing"
	"time"

	"yiwang/internal/calendar"
	"yiwang/internal/platform/errs"
)

// official is the embedded national schedule (2025–2027).
func official(t *testing.T) *calendar.Schedule {
	t.Helper()
	s, err := calendar.EmbeddedSchedule()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// at is a moment of a day in China (10:00).
func at(t *testing.T, date string) time.Time {
	t.Helper()
	d, err := time.ParseInLocation("2006-01-02 15:04", date+" 10:00", calendar.China)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func wd(n int) Limit { return Limit{Days: n, Unit: calendar.WorkdayUnit} }

// TestDuesGolden: deadlines worked out by hand from the official notices.
func TestDuesGolden(t *testing.T) {
	s := official(t)
	for _, tc := range []struct {
		name           string
		c              Clock
		legal, promise string
	}{
		{"春节 2026: 5 and 20 working days over the holiday and both make-up Saturdays",
			Clock{Accepted: at(t, "2026-02-10"), Legal: wd(20), Promised: wd(5)}, "2026-03-16", "2026-02-24"},
		{"春节 2026 with a correction from Thu 12 Feb to Wed 25 Feb",
			Clock{Accepted: at(t, "2026-02-10"), Promised: wd(5), Pauses: []Pause{{at(t, "2026-02-12"), at(t, "2026-02-25")}}}, "", "2026-02-28"},
		{"中秋/国庆 2026 with a special procedure from 23 Sep to 12 Oct",
			Clock{Accepted: at(t, "2026-09-21"), Promised: wd(10), Pauses: []Pause{{at(t, "2026-09-23"), at(t, "2026-10-12")}}}, "", "2026-10-22"},
		{"国庆 2025 make-up Sunday 28 Sep and Saturday 11 Oct",
			Clock{Accepted: at(t, "2025-09-26"), Promised: wd(5)}, "", "2025-10-10"},
		{"国庆 2025 with a 3-day extension",
			Clock{Accepted: at(t, "2025-09-26"), Promised: wd(5), Extension: 3}, "", "2025-10-14"},
		{"over 元旦 2026 into the make-up Sunday",
			Clock{Accepted: at(t, "2025-12-30"), Promised: wd(3)}, "", "2026-01-05"},
		{"即办件 accepted on a make-up Saturday is due that day",
			Clock{Accepted: at(t, "2026-02-14"), Immediate: true}, "2026-02-14", "2026-02-14"},
		{"natural days with a natural-day pause",
			Clock{Accepted: at(t, "2026-02-10"), Promised: Limit{15, calendar.NaturalUnit}, Pauses: []Pause{{at(t, "2026-02-12"), at(t, "2026-02-20")}}}, "", "2026-03-05"},
		{"not accepted yet", Clock{Promised: wd(5)}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := tc.c.Dues(s)
			if err != nil {
				t.Fatal(err)
			}
			if got := day(d.Legal); got != tc.legal {
				t.Errorf("legal due %s, want %s", got, tc.legal)
			}
			if got := day(d.Promised); got != tc.promise {
				t.Errorf("promised due %s, want %s", got, tc.promise)
			}
		})
	}
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

func TestDuesPausedAndUnknownYears(t *testing.T) {
	s := official(t)
	d, err := Clock{Accepted: at(t, "2026-02-10"), Promised: wd(5), Pauses: []Pause{{From: at(t, "2026-02-12")}}}.Dues(s)
	if err != nil || !d.Paused || !d.Promised.IsZero() {
		t.Errorf("open pause: %+v %v", d, err)
	}
	if _, err := (Clock{Accepted: at(t, "2027-12-20"), Promised: wd(20)}).Dues(s); errs.KindOf(err) != errs.Invalid {
		t.Errorf("due beyond the known years: %v, want a clear Invalid error", err)
	}
}

func TestAlertOf(t *testing.T) {
	s := official(t)
	d := Dues{Promised: calendar.DateOf(at(t, "2026-02-24"))}
	for _, tc := range []struct {
		today string
		want  Alert
		left  int
	}{
		{"2026-02-11", AlertNone, 4},
		{"2026-02-13", AlertYellow, 2},
		{"2026-02-24", AlertYellow, 0},
		{"2026-02-25", AlertRed, -1},
	} {
		got, left, err := AlertOf(s, "", d, at(t, tc.today), 2)
		if err != nil || got != tc.want || left != tc.left {
			t.Errorf("%s: %q %d %v, want %q %d", tc.today, got, left, err, tc.want, tc.left)
		}
	}
	if got, _, _ := AlertOf(s, "", Dues{Paused: true}, at(t, "2026-02-25"), 2); got != AlertPaused {
		t.Errorf("paused: %q", got)
	}
}
