package cases

import (
	"context"
	"fmt"
	"strings"

	"yiwang/internal/calendar"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/sqldb"
)

// Get returns case id for staff member p, who must be able to see it.
func (s *Service) Get(ctx context.Context, p *authz.Principal, id string) (Case, error) {
	c, err := getCase(ctx, s.db.R, `id = $1`, id)
	if err != nil {
		return Case{}, err
	}
	if !c.VisibleTo(p) {
		return Case{}, errNoCase
	}
	return c, nil
}

// Mine returns case id of the applicant's.
func (s *Service) Mine(ctx context.Context, ap Applicant, id string) (Case, error) {
	return s.own(ctx, s.db.R, ap, id)
}

// ByNumber returns the case with a number; the caller decides who may see it.
func (s *Service) ByNumber(ctx context.Context, number string) (Case, error) {
	if number = strings.TrimSpace(number); len(number) != 43 {
		return Case{}, errNoCase
	}
	return getCase(ctx, s.db.R, `number = $1`, number)
}

// Progress is the public progress lookup (办件进度查询): the case with a
// number, if the applicant's name matches (a number alone tells nothing).
func (s *Service) Progress(ctx context.Context, number, name string) (Case, error) {
	c, err := s.ByNumber(ctx, number)
	if err != nil || c.ApplicantName != strings.TrimSpace(name) {
		return Case{}, &errs.Error{Kind: errs.NotFound, Op: "cases.Progress", Msg: "未找到该办件：请核对办件编号和申请人名称"}
	}
	return c, nil
}

// Events returns a case's events in order.
func (s *Service) Events(ctx context.Context, caseID string) ([]Event, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT seq, at, action, code, from_state, to_state, actor_name, actor_role, dept_name, opinion
		FROM case_events WHERE case_id = $1 ORDER BY seq ASC`, caseID)
	if err != nil {
		return nil, fmt.Errorf("cases.Events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.Seq, &e.At, &e.Action, &e.Code, &e.From, &e.To, &e.ActorName, &e.ActorRole, &e.DeptName, &e.Opinion); err != nil {
			return nil, err
		}
		e.Seq = len(out) + 1 // shown as the event's position; stored seq only orders
		out = append(out, e)
	}
	return out, rows.Err()
}

// Materials returns the materials provided with a case.
func (s *Service) Materials(ctx context.Context, caseID string) ([]Material, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, name, blob_key, sha256, size, content_type, paper_checked, added_by, created_at
		FROM case_materials WHERE case_id = $1 ORDER BY created_at ASC, id ASC`, caseID)
	if err != nil {
		return nil, fmt.Errorf("cases.Materials: %w", err)
	}
	defer rows.Close()
	var out []Material
	for rows.Next() {
		var m Material
		if err := rows.Scan(&m.ID, &m.Name, &m.BlobKey, &m.SHA256, &m.Size, &m.ContentType, &m.PaperChecked, &m.AddedBy, &m.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MyCases lists the applicant's cases (of the enterprise, when acting for
// one), newest first.
func (s *Service) MyCases(ctx context.Context, ap Applicant, page int) ([]Case, int, error) {
	w := &sqldb.Where{}
	w.Add("applicant_id = ?", ap.holder().ID)
	return s.list(ctx, w, `created_at DESC`, page)
}

// MaxCount is the most a list counts exactly; beyond, it says MaxCount+1.
const MaxCount = 1000

// Query filters a staff work queue.
type Query struct {
	State string // one state, "open" (not final; the default), ToDeliverFilter or "all"
	Alert Alert  // only cases with this alert (yellow, red), computed today
	Q     string // part of the number, item or applicant name
	Page  int
}

// ToDeliverFilter is the queue's State for decided cases whose result has
// not gone out (待出件), oldest decision first.
const ToDeliverFilter = "to_deliver"

// Queue lists the cases p may see, open ones by time left (paused and
// not yet accepted ones last), at most 50 a page.
func (s *Service) Queue(ctx context.Context, p *authz.Principal, q Query) ([]Case, int, error) {
	w := &sqldb.Where{}
	order := `due_sort ASC, submitted_at ASC`
	switch q.State {
	case "", "open":
		w.Add("is_open = ?", true)
	case ToDeliverFilter:
		if q.Alert != AlertNone {
			return nil, 0, &errs.Error{Kind: errs.Invalid, Op: "cases.Queue", Msg: "待出件的办件已办结，不能按时限筛选"}
		}
		// A literal, not an argument: the pickup list's indexes are partial
		// (WHERE to_deliver = TRUE), and the planner must see the match.
		w.Add("to_deliver = TRUE")
		order = `decided_at ASC, id ASC`
	case "all":
		w.Add("state <> ?", Draft)
	default:
		w.Add("state = ?", q.State)
	}
	today := calendar.DateOf(s.now())
	// Only running cases have a due date in due_sort (paused and
	// not-yet-accepted ones sort after all dates), so alerts are ranges of it.
	switch q.Alert {
	case AlertRed:
		w.Add("is_open = ?", true)
		w.Add("due_sort < ?", today)
	case AlertYellow:
		sched, err := s.cal.Schedule(ctx)
		if err != nil {
			return nil, 0, err
		}
		// Yellow: at most WarnDays working days left, not yet overdue, on the
		// calendar of the staff member's region (its local days included)
		// when they have one; the badges use each case's own region.
		region := ""
		if sc := p.Scopes(authz.ViewCases); len(sc) == 1 {
			region = sc[0].Region
		}
		limit, err := sched.AddWorkdays(region, today, s.set.WarnDays)
		if err != nil {
			return nil, 0, err
		}
		w.Add("is_open = ?", true)
		w.Add("due_sort >= ?", today)
		w.Add("due_sort <= ?", limit)
	}
	if like := likeOf(q.Q); like != "" {
		w.Add(textMatch, like, like, like)
	}
	if q.State == ToDeliverFilter {
		return s.pickup(ctx, p, w, q, order)
	}
	// Staff see the cases that are with their departments now.
	cond, args := p.Filter(authz.ViewCases, "at_region_code", "at_dept_path", w.Next())
	w.AddNumbered(cond, args)
	// A department-bound handler: the cases with the departments of the
	// subtree, by id, read in order from their own index.
	if sc := p.Scopes(authz.ViewCases); len(sc) == 1 && sc[0].DeptPath != "" {
		ids, ok, err := s.orgs.SubtreeIDs(ctx, sc[0].DeptPath, 50)
		if err != nil {
			return nil, 0, err
		}
		if ok {
			w.AddIn("at_dept_id", ids)
		}
	}
	return s.list(ctx, w, order, q.Page)
}

// pickup is the pickup list (待出件) of p, w holding its other conditions:
// intake hands results out for the implementing department, a handler
// where the case is now (as VisibleTo). A department-bound member's is
// read by department id (and the grant's region) from the two small
// partial indexes (pickupOf); anyone else's by the places.
func (s *Service) pickup(ctx context.Context, p *authz.Principal, w *sqldb.Where, q Query, order string) ([]Case, int, error) {
	if sc := p.Scopes(authz.ViewCases); len(sc) == 1 && sc[0].DeptPath != "" && sc[0].Region != "" {
		ids, ok, err := s.orgs.SubtreeIDs(ctx, sc[0].DeptPath, 50)
		if err != nil {
			return nil, 0, err
		}
		if ok {
			return s.pickupOf(ctx, ids, authz.RegionPrefix(sc[0].Region)+"%", q.Q, q.Page)
		}
	}
	n := w.Next()
	own, args := p.Filter(authz.ViewCases, "region_code", "dept_path", n)
	at, atArgs := p.Filter(authz.ViewCases, "at_region_code", "at_dept_path", n+len(args))
	w.AddNumbered("("+own+" OR "+at+")", append(args, atArgs...))
	return s.list(ctx, w, order, q.Page)
}

// textMatch finds a queue's text (a likeOf pattern, given three times)
// in the number, item or applicant. LOWER on both sides: LIKE is
// case-insensitive on SQLite, not on PostgreSQL.
const textMatch = `(LOWER(number) LIKE ? ESCAPE '\' OR LOWER(item_name) LIKE ? ESCAPE '\' OR LOWER(applicant_name) LIKE ? ESCAPE '\')`

// likeOf is the LIKE pattern of a queue's text ("" for none).
func likeOf(text string) string {
	if t := strings.TrimSpace(text); t != "" {
		return "%" + sqldb.EscapeLike(sqldb.LowerASCII(t)) + "%"
	}
	return ""
}

const perPage = 50

func (s *Service) list(ctx context.Context, w *sqldb.Where, order string, page int) ([]Case, int, error) {
	var total int
	// Counted up to MaxCount: a long queue is "1000+" to people.
	if err := s.db.R.QueryRowContext(ctx, fmt.Sprintf(`SELECT COUNT(*) FROM (SELECT 1 FROM cases%s LIMIT %d) t`, w.String(), MaxCount+1), w.Args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("cases.list: %w", err)
	}
	clause, args := w.Page(perPage, (sqldb.ClampPage(page)-1)*perPage)
	out, err := s.read(ctx, `SELECT `+caseColumns+` FROM cases`+w.String()+` ORDER BY `+order+clause, args)
	return out, total, err
}

// read returns the cases a query selects.
func (s *Service) read(ctx context.Context, query string, args []any) ([]Case, error) {
	rows, err := s.db.R.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("cases.read: %w", err)
	}
	defer rows.Close()
	var out []Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// pickupOf is the pickup list (待出件) of a department-bound member: the
// waiting cases implemented by the departments ids (the member's subtree)
// in a region matching regionLike (the grant's), or, failing that, decided
// there — as VisibleTo. The two parts are disjoint and each is read from
// its partial index (department id, decision date, id, regions) alone:
// for a one-department subtree in decision order, merged, stopping at the
// page and at MaxCount+1 for the count; for a larger subtree the waiting
// rows of its departments are sorted. Only the page's rows are read from
// the table.
func (s *Service) pickupOf(ctx context.Context, ids []string, regionLike, text string, page int) ([]Case, int, error) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	like := likeOf(text)
	in := func() string {
		ph := make([]string, len(ids))
		for i, id := range ids {
			ph[i] = arg(id)
		}
		return strings.Join(ph, ", ")
	}
	branch := func(cond string) string {
		q := `SELECT id, decided_at FROM cases WHERE to_deliver = TRUE AND ` + cond
		if like != "" {
			m := textMatch
			for strings.Contains(m, "?") {
				m = strings.Replace(m, "?", arg(like), 1)
			}
			q += " AND " + m
		}
		return q
	}
	// Operands are evaluated left to right: the arguments follow the text.
	waiting := branch(`dept_id IN (`+in()+`) AND region_code LIKE `+arg(regionLike)) + ` UNION ALL ` +
		branch(`at_dept_id IN (`+in()+`) AND at_region_code LIKE `+arg(regionLike)+` AND NOT (dept_id IN (`+in()+`) AND region_code LIKE `+arg(regionLike)+`)`)
	var total int
	if err := s.db.R.QueryRowContext(ctx, fmt.Sprintf(`SELECT COUNT(*) FROM (SELECT 1 FROM (%s) w LIMIT %d) t`, waiting, MaxCount+1), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("cases.pickupOf: %w", err)
	}
	limit, offset := arg(perPage), arg((sqldb.ClampPage(page)-1)*perPage)
	out, err := s.read(ctx, `SELECT `+caseColumns+` FROM cases WHERE id IN (SELECT id FROM (`+waiting+`) w ORDER BY decided_at, id LIMIT `+limit+` OFFSET `+offset+`)
		ORDER BY decided_at ASC, id ASC`, args)
	return out, total, err
}

// Overdue is the count of overdue cases of one department.
type Overdue struct {
	DeptName, Region string
	Open, Overdue    int
}

// OverdueByDept counts, per department p may see, the open cases with it
// and those past their promised due date, worst first.
func (s *Service) OverdueByDept(ctx context.Context, p *authz.Principal) ([]Overdue, error) {
	today := calendar.DateOf(s.now())
	w := &sqldb.Where{}
	w.AddIn("state", []string{string(Accepted), string(Special), string(Correcting)})
	cond, args := p.Filter(authz.ViewCases, "at_region_code", "at_dept_path", w.Next())
	w.AddNumbered(cond, args)
	n := w.Next()
	rows, err := s.db.R.QueryContext(ctx, fmt.Sprintf(`SELECT at_dept_name, at_region_code, COUNT(*),
		SUM(CASE WHEN state = 'accepted' AND promised_due < $%d THEN 1 ELSE 0 END) FROM cases%s
		GROUP BY at_dept_name, at_region_code ORDER BY 4 DESC, 3 DESC LIMIT 200`, n, w.String()), append(w.Args, today)...)
	if err != nil {
		return nil, fmt.Errorf("cases.OverdueByDept: %w", err)
	}
	defer rows.Close()
	var out []Overdue
	for rows.Next() {
		var o Overdue
		if err := rows.Scan(&o.DeptName, &o.Region, &o.Open, &o.Overdue); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Detail is what a case page shows beside the case itself.
type Detail struct {
	Events    []Event
	Materials []Material
	Alert     Alert
	Left      int // working days left to the promised due date
}

// DetailOf loads c's events, materials and alert.
func (s *Service) DetailOf(ctx context.Context, c Case) (Detail, error) {
	var d Detail
	var err error
	if d.Events, err = s.Events(ctx, c.ID); err != nil {
		return Detail{}, err
	}
	if d.Materials, err = s.Materials(ctx, c.ID); err != nil {
		return Detail{}, err
	}
	if d.Alert, d.Left, err = s.AlertOf(ctx, c); err != nil {
		return Detail{}, err
	}
	return d, nil
}

// AlertOf is c's alert today.
func (s *Service) AlertOf(ctx context.Context, c Case) (Alert, int, error) {
	if c.State == Submitted {
		return AlertPending, 0, nil
	}
	if c.State != Accepted && c.State != Special && c.State != Correcting {
		return AlertNone, 0, nil
	}
	sched, err := s.cal.Schedule(ctx)
	if err != nil {
		return AlertNone, 0, err
	}
	return AlertOf(sched, c.Region, Dues{Legal: c.LegalDue, Promised: c.PromisedDue, Paused: c.State.Paused() && !c.AcceptedAt.IsZero()}, s.now(), s.set.WarnDays)
}
