package calendar

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/sqldb"
)

// SourceAdmin is the source of special days an administrator added.
const SourceAdmin = "admin"

// RegionNamer names regions (org.Service does); the calendar uses it to
// refuse unknown region codes and to show region names. It is a small
// interface because org shares the calendar's layer.
type RegionNamer interface {
	RegionNames(ctx context.Context, codes []string) (map[string]string, error)
}

// Service is the working-day calendar. Deadline questions are answered
// from an in-memory Schedule, rebuilt after every change made through this
// Service and re-read from the database when older than MaxAge (changes
// made on other nodes).
type Service struct {
	db      *sqldb.DB
	regions RegionNamer // nil: region codes are checked for form only
	// MaxAge is how long a Schedule is used before it is re-read.
	MaxAge time.Duration

	sched atomic.Pointer[Schedule]
	dirty atomic.Bool // a change was made that the Schedule may not show
	mu    sync.Mutex  // one re-read at a time
}

// NewService returns the calendar service; regions may be nil.
func NewService(db *sqldb.DB, regions RegionNamer) *Service {
	return &Service{db: db, regions: regions, MaxAge: time.Minute}
}

// Refresh re-reads the calendar from the database now.
func (s *Service) Refresh(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.refreshLocked(ctx)
	return err
}

func (s *Service) refreshLocked(ctx context.Context) (*Schedule, error) {
	const op = "calendar.Service.Refresh"
	s.dirty.Store(false)
	years, err := readYears(ctx, s.db.R)
	if err != nil {
		s.dirty.Store(true)
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	days, err := readSpecials(ctx, s.db.R)
	if err != nil {
		s.dirty.Store(true)
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	sch := NewSchedule(years, days)
	sch.loadedAt = time.Now()
	s.sched.Store(sch)
	return sch, nil
}

// Schedule returns the current snapshot. A stale one is re-read by one
// caller while the others go on with it; a failed re-read keeps it.
func (s *Service) Schedule(ctx context.Context) (*Schedule, error) {
	cur := s.sched.Load()
	if cur != nil && !s.dirty.Load() && time.Since(cur.loadedAt) < s.MaxAge {
		return cur, nil
	}
	if cur == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if cur = s.sched.Load(); cur != nil {
			return cur, nil
		}
		return s.refreshLocked(ctx)
	}
	if s.mu.TryLock() {
		defer s.mu.Unlock()
		if fresh, err := s.refreshLocked(ctx); err == nil {
			return fresh, nil
		}
	}
	return cur, nil
}

// Day returns what date is in region ("" national).
func (s *Service) Day(ctx context.Context, region string, date time.Time) (Day, error) {
	sch, err := s.Schedule(ctx)
	if err != nil {
		return Day{}, err
	}
	return sch.Day(region, date)
}

// AddWorkdays returns the nth working day after start in region (see
// Schedule.AddWorkdays).
func (s *Service) AddWorkdays(ctx context.Context, region string, start time.Time, n int) (time.Time, error) {
	sch, err := s.Schedule(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return sch.AddWorkdays(region, start, n)
}

// AddNatural returns the date n natural days after start.
func (s *Service) AddNatural(ctx context.Context, start time.Time, n int) (time.Time, error) {
	sch, err := s.Schedule(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return sch.AddNatural(start, n)
}

// Add returns the due date n days of unit after start in region.
func (s *Service) Add(ctx context.Context, region string, start time.Time, n int, unit Unit) (time.Time, error) {
	sch, err := s.Schedule(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return sch.Add(region, start, n, unit)
}

// WorkdaysBetween returns the working days in region after from up to and
// including to (see Schedule.WorkdaysBetween).
func (s *Service) WorkdaysBetween(ctx context.Context, region string, from, to time.Time) (int, error) {
	sch, err := s.Schedule(ctx)
	if err != nil {
		return 0, err
	}
	return sch.WorkdaysBetween(region, from, to)
}

// Years returns the known years.
func (s *Service) Years(ctx context.Context) ([]Year, error) {
	sch, err := s.Schedule(ctx)
	if err != nil {
		return nil, err
	}
	return sch.Years(), nil
}

// YearSpecials returns the special days of year that matter to region (see
// yearSpecials), for the console.
func (s *Service) YearSpecials(ctx context.Context, year int, region string) ([]Special, error) {
	if !ValidRegion(region) {
		return nil, errRegion("calendar.Service.YearSpecials", "region")
	}
	out, err := yearSpecials(ctx, s.db.R, year, region)
	if err != nil {
		return nil, fmt.Errorf("calendar.Service.YearSpecials: %w", err)
	}
	return out, nil
}

// Special returns the current special day with id.
func (s *Service) Special(ctx context.Context, id string) (Special, error) {
	d, err := oneSpecial(ctx, s.db.R, id)
	if err != nil && errs.KindOf(err) == errs.Internal {
		return Special{}, fmt.Errorf("calendar.Service.Special: %w", err)
	}
	return d, err
}

// RegionNames names the given region codes, when a RegionNamer is set.
func (s *Service) RegionNames(ctx context.Context, codes []string) (map[string]string, error) {
	if s.regions == nil {
		return map[string]string{}, nil
	}
	return s.regions.RegionNames(ctx, codes)
}

func mayEdit(p *authz.Principal, region, op string) error {
	if p == nil {
		return &errs.Error{Kind: errs.Unauthenticated, Op: op, Msg: "请先登录"}
	}
	if !MayEdit(p, region) {
		if region == "" {
			return &errs.Error{Kind: errs.Forbidden, Op: op, Msg: "只有平台管理员可以修改全国节假日安排"}
		}
		return &errs.Error{Kind: errs.Forbidden, Op: op, Msg: "您没有修改该地区节假日安排的权限"}
	}
	return nil
}

// changedCalendar marks the Schedule stale after a committed change and
// re-reads it; should that fail, the next question re-reads it.
func (s *Service) changedCalendar(ctx context.Context) {
	s.dirty.Store(true)
	_ = s.Refresh(ctx)
}

func auditDay(d Special) map[string]any {
	return map[string]any{"date": d.Date.Format(DateLayout), "region": d.Region, "kind": d.Kind, "name": d.Name}
}

// CreateSpecial adds a special day for in.Region (national when empty) in
// a known year. A loaded day that was deleted is brought back with the new
// kind and name.
func (s *Service) CreateSpecial(ctx context.Context, p *authz.Principal, in SpecialInput) (Special, error) {
	const op = "calendar.Service.CreateSpecial"
	date, err := in.check(op, false)
	if err != nil {
		return Special{}, err
	}
	if err := mayEdit(p, in.Region, op); err != nil {
		return Special{}, err
	}
	sch, err := s.Schedule(ctx)
	if err != nil {
		return Special{}, err
	}
	if !sch.Known(date.Year()) {
		err := sch.unknownYear(op, "date", date.Year())
		return Special{}, err
	}
	if in.Region != "" && s.regions != nil {
		names, err := s.regions.RegionNames(ctx, []string{in.Region})
		if err != nil {
			return Special{}, fmt.Errorf("%s: %w", op, err)
		}
		if names[in.Region] == "" {
			return Special{}, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "行政区划不存在", Fields: map[string]string{"region": "行政区划不存在"}}
		}
	}
	fresh := Special{ID: sqldb.NewID(), Date: date, Region: in.Region, Kind: in.Kind, Name: in.Name, Source: SourceAdmin, Edited: true, Version: 1}
	var d Special
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		d = fresh // InTx may run this again: start from the same day each time
		now := sqldb.Now()
		d.UpdatedAt = now
		id, deleted, ok, err := existing(ctx, tx, in.Region, date.Format(DateLayout))
		if err != nil {
			return err
		}
		switch {
		case ok && !deleted:
			msg := "该地区在这一天已有安排，请修改原有安排"
			return &errs.Error{Kind: errs.Invalid, Op: op, Msg: msg, Fields: map[string]string{"date": msg}}
		case ok:
			if err := revive(ctx, tx, id, in.Kind, in.Name, now); err != nil {
				return err
			}
			d.ID = id
		default:
			if err := insertSpecial(ctx, tx, d, now); err != nil {
				return err
			}
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "calendar.day.create", TargetType: "calendar_day", TargetID: d.ID,
			Region: d.Region, Detail: auditDay(d)})
	})
	if err != nil {
		if errs.KindOf(err) != errs.Internal {
			return Special{}, err
		}
		return Special{}, fmt.Errorf("%s: %w", op, err)
	}
	s.changedCalendar(ctx)
	return oneSpecialOr(ctx, s, d)
}

// oneSpecialOr re-reads d after a change (its version and source may differ
// from what was written when a tombstone was revived).
func oneSpecialOr(ctx context.Context, s *Service, d Special) (Special, error) {
	got, err := s.Special(ctx, d.ID)
	if err != nil {
		return d, nil // committed; the page reloads it anyway
	}
	return got, nil
}

// UpdateSpecial changes the kind and name of the special day id, if it is
// still at in.Version.
func (s *Service) UpdateSpecial(ctx context.Context, p *authz.Principal, id string, in SpecialInput) (Special, error) {
	const op = "calendar.Service.UpdateSpecial"
	old, err := s.Special(ctx, id)
	if err != nil {
		return Special{}, err
	}
	if err := mayEdit(p, old.Region, op); err != nil {
		return Special{}, err
	}
	if _, err := in.check(op, true); err != nil {
		return Special{}, err
	}
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		if err := updateSpecial(ctx, tx, id, in.Version, in.Kind, in.Name, sqldb.Now()); err != nil {
			return err
		}
		next := old
		next.Kind, next.Name = in.Kind, in.Name
		return audit.Write(ctx, tx, audit.Entry{Action: "calendar.day.update", TargetType: "calendar_day", TargetID: id,
			Region: old.Region, Detail: map[string]any{"before": auditDay(old), "after": auditDay(next)}})
	})
	if err != nil {
		if errs.KindOf(err) != errs.Internal {
			return Special{}, err
		}
		return Special{}, fmt.Errorf("%s: %w", op, err)
	}
	s.changedCalendar(ctx)
	return oneSpecialOr(ctx, s, old)
}

// DeleteSpecial removes the special day id, if it is still at version: the
// date reverts to the weekday rule (or to a wider region's day).
func (s *Service) DeleteSpecial(ctx context.Context, p *authz.Principal, id string, version int) error {
	const op = "calendar.Service.DeleteSpecial"
	old, err := s.Special(ctx, id)
	if err != nil {
		return err
	}
	if err := mayEdit(p, old.Region, op); err != nil {
		return err
	}
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		if err := removeSpecial(ctx, tx, old, version, sqldb.Now()); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "calendar.day.delete", TargetType: "calendar_day", TargetID: id,
			Region: old.Region, Detail: auditDay(old)})
	})
	if err != nil {
		if errs.KindOf(err) != errs.Internal {
			return err
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	s.changedCalendar(ctx)
	return nil
}
