package calendar

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
)

// Kind is what a date is for counting working days.
type Kind string

// The kinds of day. Only Holiday and MakeupWorkday are stored; the others
// follow from the weekday.
const (
	Workday       Kind = "workday"        // 工作日
	Weekend       Kind = "weekend"        // 休息日（周六、周日）
	Holiday       Kind = "holiday"        // 节假日（放假调休期间的每一天）
	MakeupWorkday Kind = "makeup_workday" // 调休上班日
)

// SpecialKinds are the kinds a stored special day may have.
var SpecialKinds = []Kind{Holiday, MakeupWorkday}

// Label returns the zh-CN name of k.
func (k Kind) Label() string {
	switch k {
	case Workday:
		return "工作日"
	case Weekend:
		return "休息日"
	case Holiday:
		return "节假日"
	case MakeupWorkday:
		return "调休上班"
	}
	return string(k)
}

// Working reports whether a day of kind k is a working day.
func (k Kind) Working() bool { return k == Workday || k == MakeupWorkday }

// Unit is the unit of a time limit (时限单位).
type Unit string

// The units of a time limit.
const (
	WorkdayUnit Unit = "workday" // 工作日
	NaturalUnit Unit = "natural" // 自然日
)

// Label returns the zh-CN name of u.
func (u Unit) Label() string {
	if u == NaturalUnit {
		return "自然日"
	}
	return "工作日"
}

// MaxDays is the largest N that Add accepts: far beyond any statutory or
// promised limit, small enough that a request costs microseconds.
const MaxDays = 1000

// China is China Standard Time (UTC+8, no daylight saving). A time.Time's
// date, for this package, is its date in China.
var China = time.FixedZone("CST", 8*3600)

// DateLayout is how dates are written in the API, forms and data files.
const DateLayout = "2006-01-02"

// Day is what the calendar says about one date.
type Day struct {
	Date    time.Time // midnight UTC of the date
	Workday bool
	Kind    Kind
	Name    string // the holiday's name (春节) for holidays and make-up days
	Region  string // region of the special day that decided; "" national or none
}

// Special is one stored special day: a holiday or a make-up working day,
// national (Region "") or for a region and the regions nested in it.
type Special struct {
	ID        string
	Date      time.Time // midnight UTC
	Region    string    // "" national, else a GB/T 2260 code
	Kind      Kind
	Name      string
	Source    string // dataset version it was loaded from, or "admin"
	Edited    bool   // changed by an administrator: loads leave it alone
	Version   int
	UpdatedAt time.Time
}

// Year is one year whose national schedule is loaded.
type Year struct {
	Year      int
	Dataset   string // version of the embedded data, or "admin"
	Confirmed bool   // checked against the official notice
	Source    string // the notice (or other source), for people
	LoadedAt  time.Time
}

// dnum is a date as days since 1970-01-01.
type dnum int32

func toNum(t time.Time) dnum {
	y, m, d := t.In(China).Date()
	return dnum(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func (n dnum) time() time.Time { return time.Unix(int64(n)*86400, 0).UTC() }

func (n dnum) weekend() bool {
	wd := (int(n)%7 + 7 + 4) % 7 // 1970-01-01 was a Thursday
	return wd == 0 || wd == 6
}

func yearStart(y int) dnum { return dnum(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Unix() / 86400) }

// DateOf returns t's date in China as midnight UTC, the form every date
// this package returns has.
func DateOf(t time.Time) time.Time { return toNum(t).time() }

// entry is a special day in a Schedule.
type entry struct {
	prefix string // authz.RegionPrefix of the region; "" national
	region string
	kind   Kind
	name   string
}

// span is a run of consecutive known years, as inclusive day numbers.
type span struct{ lo, hi dnum }

// Schedule is an immutable snapshot of the calendar: the known years and
// the special days. Its methods are the deadline rules; they touch no
// database, so a due date costs a few map lookups per day counted.
type Schedule struct {
	years    []Year // by year
	spans    []span
	days     map[dnum][]entry
	loadedAt time.Time
}

// NewSchedule builds a Schedule from the known years and the special days
// (days outside the known years are kept but never consulted).
func NewSchedule(years []Year, days []Special) *Schedule {
	s := &Schedule{years: slices.Clone(years), days: make(map[dnum][]entry, len(days))}
	slices.SortFunc(s.years, func(a, b Year) int { return a.Year - b.Year })
	s.years = slices.CompactFunc(s.years, func(a, b Year) bool { return a.Year == b.Year })
	for _, y := range s.years {
		lo, hi := yearStart(y.Year), yearStart(y.Year+1)-1
		if n := len(s.spans); n > 0 && s.spans[n-1].hi+1 == lo {
			s.spans[n-1].hi = hi
		} else {
			s.spans = append(s.spans, span{lo, hi})
		}
	}
	for _, d := range days {
		prefix := ""
		if d.Region != "" {
			prefix = authz.RegionPrefix(d.Region)
		}
		n := toNum(d.Date)
		s.days[n] = append(s.days[n], entry{prefix: prefix, region: d.Region, kind: d.Kind, name: d.Name})
	}
	return s
}

// Years returns the known years in order.
func (s *Schedule) Years() []Year { return slices.Clone(s.years) }

// Known reports whether year's national schedule is loaded.
func (s *Schedule) Known(year int) bool {
	_, ok := slices.BinarySearchFunc(s.years, year, func(y Year, v int) int { return y.Year - v })
	return ok
}

func (s *Schedule) spanOf(n dnum) (span, bool) {
	for _, sp := range s.spans {
		if n >= sp.lo && n <= sp.hi {
			return sp, true
		}
	}
	return span{}, false
}

// yearList is "2025年、2026年" for messages.
func (s *Schedule) yearList() string {
	if len(s.years) == 0 {
		return "（无）"
	}
	parts := make([]string, len(s.years))
	for i, y := range s.years {
		parts[i] = strconv.Itoa(y.Year) + "年"
	}
	return strings.Join(parts, "、")
}

// unknownYear is the error for a date in a year whose schedule is not loaded.
func (s *Schedule) unknownYear(op, field string, year int) error {
	msg := fmt.Sprintf("%d年的节假日安排尚未载入，无法计算工作日；目前可用的年份：%s", year, s.yearList())
	return &errs.Error{Kind: errs.Invalid, Op: op, Msg: msg, Fields: map[string]string{field: msg}}
}

// lookup returns what date n is in region: the most specific special day
// whose region contains region, else the weekday rule.
func (s *Schedule) lookup(region string, n dnum) (Kind, string, string) {
	if es, ok := s.days[n]; ok {
		best := -1
		for i, e := range es {
			if strings.HasPrefix(region, e.prefix) && (best < 0 || len(e.prefix) > len(es[best].prefix)) {
				best = i
			}
		}
		if best >= 0 {
			return es[best].kind, es[best].name, es[best].region
		}
	}
	if n.weekend() {
		return Weekend, "", ""
	}
	return Workday, "", ""
}

func (s *Schedule) working(region string, n dnum) bool {
	k, _, _ := s.lookup(region, n)
	return k.Working()
}

// Day returns what date is in region ("" for the national calendar).
func (s *Schedule) Day(region string, date time.Time) (Day, error) {
	const op = "calendar.Schedule.Day"
	n := toNum(date)
	if _, ok := s.spanOf(n); !ok {
		return Day{}, s.unknownYear(op, "date", n.time().Year())
	}
	k, name, reg := s.lookup(region, n)
	return Day{Date: n.time(), Workday: k.Working(), Kind: k, Name: name, Region: reg}, nil
}

func checkDays(op string, n int) error {
	if n < 0 || n > MaxDays {
		msg := fmt.Sprintf("天数应为 0 到 %d 之间的整数", MaxDays)
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: msg, Fields: map[string]string{"days": msg}}
	}
	return nil
}

func (s *Schedule) beyond(op string, sp span) error {
	next := (sp.hi + 1).time().Year()
	msg := fmt.Sprintf("计算结果超出已载入的年份：%d年的节假日安排尚未载入；目前可用的年份：%s", next, s.yearList())
	return &errs.Error{Kind: errs.Invalid, Op: op, Msg: msg, Fields: map[string]string{"days": msg}}
}

// AddWorkdays returns the nth working day after start in region, counting
// from the day after start. n = 0 returns start when it is a working day,
// else the next working day. Every day counted must lie in a known year.
func (s *Schedule) AddWorkdays(region string, start time.Time, n int) (time.Time, error) {
	const op = "calendar.Schedule.AddWorkdays"
	if err := checkDays(op, n); err != nil {
		return time.Time{}, err
	}
	d := toNum(start)
	sp, ok := s.spanOf(d)
	if !ok {
		return time.Time{}, s.unknownYear(op, "start", d.time().Year())
	}
	if n == 0 {
		for !s.working(region, d) {
			if d++; d > sp.hi {
				return time.Time{}, s.beyond(op, sp)
			}
		}
		return d.time(), nil
	}
	for n > 0 {
		if d++; d > sp.hi {
			return time.Time{}, s.beyond(op, sp)
		}
		if s.working(region, d) {
			n--
		}
	}
	return d.time(), nil
}

// AddNatural returns the date n natural days after start. Natural days do
// not depend on the schedule, but start and the result must still lie in
// known years, so that every answer the calendar gives obeys one rule.
func (s *Schedule) AddNatural(start time.Time, n int) (time.Time, error) {
	const op = "calendar.Schedule.AddNatural"
	if err := checkDays(op, n); err != nil {
		return time.Time{}, err
	}
	d := toNum(start)
	sp, ok := s.spanOf(d)
	if !ok {
		return time.Time{}, s.unknownYear(op, "start", d.time().Year())
	}
	due := d + dnum(n)
	if _, ok := s.spanOf(due); !ok {
		return time.Time{}, s.beyond(op, sp)
	}
	return due.time(), nil
}

// Add is AddWorkdays or AddNatural, as unit says.
func (s *Schedule) Add(region string, start time.Time, n int, unit Unit) (time.Time, error) {
	switch unit {
	case WorkdayUnit:
		return s.AddWorkdays(region, start, n)
	case NaturalUnit:
		return s.AddNatural(start, n)
	}
	return time.Time{}, errUnit("calendar.Schedule.Add")
}

func errUnit(op string) error {
	msg := "时限单位应为 workday（工作日）或 natural（自然日）"
	return &errs.Error{Kind: errs.Invalid, Op: op, Msg: msg, Fields: map[string]string{"unit": msg}}
}

// WorkdaysBetween returns the number of working days in region after from
// up to and including to: AddWorkdays(from, n) = d gives n for every n ≥ 1,
// and counts add up (from→mid plus mid→to is from→to), so a case clock
// subtracts its pauses by subtracting their counts. When to is before from
// the count is negative. Both dates and every day between must lie in
// known years.
func (s *Schedule) WorkdaysBetween(region string, from, to time.Time) (int, error) {
	const op = "calendar.Schedule.WorkdaysBetween"
	a, b := toNum(from), toNum(to)
	sign := 1
	if b < a {
		a, b, sign = b, a, -1
	}
	sp, ok := s.spanOf(a)
	if !ok {
		return 0, s.unknownYear(op, "from", a.time().Year())
	}
	if b > sp.hi {
		if _, ok := s.spanOf(b); !ok {
			return 0, s.unknownYear(op, "to", b.time().Year())
		}
		return 0, s.unknownYear(op, "to", (sp.hi + 1).time().Year())
	}
	count := 0
	for d := a + 1; d <= b; d++ {
		if s.working(region, d) {
			count++
		}
	}
	return sign * count, nil
}

// ---- parsing outside input ----

// ParseDate parses a date written YYYY-MM-DD (exactly: ten characters, a
// real calendar date), as midnight UTC.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil || len(s) != len(DateLayout) || t.Format(DateLayout) != s {
		return time.Time{}, &errs.Error{Kind: errs.Invalid, Op: "calendar.ParseDate", Msg: "日期格式应为 YYYY-MM-DD，例如 2026-02-14"}
	}
	return t, nil
}

// ParseDays parses a number of days, 0 to MaxDays.
func ParseDays(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		n = -1
	}
	return n, checkDays("calendar.ParseDays", n)
}

// ParseUnit parses a time-limit unit; empty means working days.
func ParseUnit(s string) (Unit, error) {
	switch u := Unit(strings.TrimSpace(s)); u {
	case "", WorkdayUnit:
		return WorkdayUnit, nil
	case NaturalUnit:
		return u, nil
	}
	return "", errUnit("calendar.ParseUnit")
}

// ValidRegion reports whether code is "" (national) or a 6-digit GB/T 2260
// or 9-digit township code.
func ValidRegion(code string) bool {
	if code == "" {
		return true
	}
	if len(code) != 6 && len(code) != 9 {
		return false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return false
		}
	}
	return code[:2] != "00"
}

func errRegion(op, field string) error {
	msg := "地区应为 6 位行政区划代码（或 9 位乡级代码），全国留空"
	return &errs.Error{Kind: errs.Invalid, Op: op, Msg: msg, Fields: map[string]string{field: msg}}
}

// AddQuery is a parsed due-date question.
type AddQuery struct {
	Region string
	Start  time.Time
	Days   int
	Unit   Unit
}

// ParseAdd parses a due-date question from form or query text, collecting
// a message per bad field.
func ParseAdd(region, start, days, unit string) (AddQuery, error) {
	q := AddQuery{Region: strings.TrimSpace(region)}
	fields := map[string]string{}
	var err error
	if !ValidRegion(q.Region) {
		fields["region"] = errs.Message(errRegion("", "region"))
	}
	if q.Start, err = ParseDate(strings.TrimSpace(start)); err != nil {
		fields["start"] = errs.Message(err)
	}
	if q.Days, err = ParseDays(days); err != nil {
		fields["days"] = errs.Message(err)
	}
	if q.Unit, err = ParseUnit(unit); err != nil {
		fields["unit"] = errs.Message(err)
	}
	if len(fields) > 0 {
		return AddQuery{}, &errs.Error{Kind: errs.Invalid, Op: "calendar.ParseAdd", Msg: "请检查填写的内容", Fields: fields}
	}
	return q, nil
}

// ---- editing special days ----

// SpecialInput is what an administrator submits for a special day.
type SpecialInput struct {
	Date    string // YYYY-MM-DD; ignored on update
	Region  string // "" national; ignored on update
	Kind    Kind
	Name    string
	Version int // on update: the version edited
}

// maxName is the longest holiday name, in characters.
const maxName = 20

// check validates in and returns its date; onUpdate skips date and region,
// which a change never moves (delete and add instead).
func (in *SpecialInput) check(op string, onUpdate bool) (time.Time, error) {
	fields := map[string]string{}
	var date time.Time
	in.Name = strings.TrimSpace(in.Name)
	in.Region = strings.TrimSpace(in.Region)
	if !onUpdate {
		var err error
		if date, err = ParseDate(strings.TrimSpace(in.Date)); err != nil {
			fields["date"] = errs.Message(err)
		}
		if !ValidRegion(in.Region) {
			fields["region"] = errs.Message(errRegion(op, "region"))
		}
	}
	if !slices.Contains(SpecialKinds, in.Kind) {
		fields["kind"] = "请选择“节假日”或“调休上班”"
	}
	switch {
	case in.Name == "":
		fields["name"] = "请填写名称，例如 春节"
	case utf8.RuneCountInString(in.Name) > maxName:
		fields["name"] = fmt.Sprintf("名称最多 %d 个字", maxName)
	case strings.ContainsFunc(in.Name, unicode.IsControl):
		fields["name"] = "名称不能含控制字符"
	}
	if len(fields) > 0 {
		return time.Time{}, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "请检查填写的内容", Fields: fields}
	}
	return date, nil
}

// MayEdit reports whether p may change the special days of region: national
// days need the platform permission, a region's days calendar.manage over it.
func MayEdit(p *authz.Principal, region string) bool {
	if region == "" {
		return p.CanAny(authz.Platform)
	}
	return p.Can(authz.ManageCalendar, authz.Target{Region: region})
}
