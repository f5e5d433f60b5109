package cases

import (
	"time"

	"yiwang/internal/calendar"
)

// Schedule is what the clock needs of the working-day calendar
// (calendar.Schedule has it).
type Schedule interface {
	Add(region string, start time.Time, n int, unit calendar.Unit) (time.Time, error)
	WorkdaysBetween(region string, from, to time.Time) (int, error)
}

// Limit is a time limit of Days in Unit.
type Limit struct {
	Days int
	Unit calendar.Unit
}

// Pause is a stretch during which the clock stands still: a correction
// after acceptance or a special procedure. To is zero while it lasts.
type Pause struct{ From, To time.Time }

// Clock is a case's time limits and what happened to them.
type Clock struct {
	Region          string
	Accepted        time.Time // zero before acceptance: no clock runs yet
	Immediate       bool      // 即办件: due the day it is accepted
	Legal, Promised Limit
	Extension       int // days granted by an extension, in each limit's unit
	Pauses          []Pause
}

// Dues are a case's deadlines; zero when there is none (no legal limit,
// not accepted yet) or while the clock is paused.
type Dues struct {
	Legal, Promised time.Time
	Paused          bool
}

// Dues computes the deadlines: counting starts the day after acceptance
// (calendar.AddWorkdays), the days of closed pauses are added back (a pause
// from D1 to D2 gives back the working days after D1 up to D2), as are the
// days of an extension. A 即办件 is due the day it was accepted.
func (c Clock) Dues(s Schedule) (Dues, error) {
	var d Dues
	if c.Accepted.IsZero() {
		return d, nil
	}
	for _, p := range c.Pauses {
		if p.To.IsZero() {
			d.Paused = true
			return d, nil
		}
	}
	if c.Immediate {
		day := calendar.DateOf(c.Accepted)
		d.Promised = day
		if c.Legal.Days > 0 {
			var err error
			if d.Legal, err = c.due(s, c.Legal); err != nil {
				return Dues{}, err
			}
		} else {
			d.Legal = day
		}
		return d, nil
	}
	var err error
	if c.Legal.Days > 0 {
		if d.Legal, err = c.due(s, c.Legal); err != nil {
			return Dues{}, err
		}
	}
	if c.Promised.Days > 0 {
		if d.Promised, err = c.due(s, c.Promised); err != nil {
			return Dues{}, err
		}
	}
	return d, nil
}

func (c Clock) due(s Schedule, l Limit) (time.Time, error) {
	n := l.Days + c.Extension
	for _, p := range c.Pauses {
		if l.Unit == calendar.NaturalUnit {
			n += int(calendar.DateOf(p.To).Sub(calendar.DateOf(p.From)).Hours() / 24)
			continue
		}
		k, err := s.WorkdaysBetween(c.Region, p.From, p.To)
		if err != nil {
			return time.Time{}, err
		}
		n += k
	}
	return s.Add(c.Region, c.Accepted, n, l.Unit)
}

// Alert is how urgent a running case is.
type Alert string

// The alerts.
const (
	AlertNone    Alert = ""
	AlertYellow  Alert = "yellow" // 预警：临近承诺时限
	AlertRed     Alert = "red"    // 超期：已过承诺时限
	AlertPaused  Alert = "paused" // 计时暂停
	AlertPending Alert = "pending"
)

// AlertLabels names the alerts in zh-CN.
var AlertLabels = map[Alert]string{AlertNone: "正常", AlertYellow: "临近时限", AlertRed: "已超期", AlertPaused: "计时暂停", AlertPending: "待受理"}

// AlertOf says how urgent a running case with dues is on today: red past
// the promised due date, yellow when at most warn working days remain.
func AlertOf(s Schedule, region string, d Dues, today time.Time, warn int) (Alert, int, error) {
	switch {
	case d.Paused:
		return AlertPaused, 0, nil
	case d.Promised.IsZero():
		return AlertNone, 0, nil
	}
	left, err := s.WorkdaysBetween(region, today, d.Promised)
	if err != nil {
		return AlertNone, 0, err
	}
	switch {
	case calendar.DateOf(today).After(d.Promised):
		return AlertRed, left, nil
	case left <= warn:
		return AlertYellow, left, nil
	}
	return AlertNone, left, nil
}
