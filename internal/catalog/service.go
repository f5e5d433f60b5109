package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"yiwang/internal/org"
	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/outbox"
	"yiwang/internal/platform/sqldb"
)

// Item lifecycle states (事项状态).
const (
	StatusDraft     = "draft"     // never published yet
	StatusPublished = "published" // visible to citizens
	StatusSuspended = "suspended" // temporarily not accepting applications
	StatusRevoked   = "revoked"   // withdrawn for good
)

// Version states. Only a draft version can be edited.
const (
	VersionDraft      = "draft"
	VersionSubmitted  = "submitted"
	VersionPublished  = "published"
	VersionSuperseded = "superseded"
)

// TopicItemChanged is the outbox topic announcing that an item's published
// view changed (published, suspended, revoked): the search index and, later,
// other domains follow it.
const TopicItemChanged = "catalog.item.changed"

// ItemChanged is the payload of TopicItemChanged.
type ItemChanged struct {
	ID     string `json:"id"`
	Code   string `json:"code"`
	Status string `json:"status"`
}

// Record is an item's identity and lifecycle state.
type Record struct {
	ID               string
	Code             string
	BasicCode        string
	Name             string
	Type             string
	Level            int
	Region           string
	DeptID           string
	DeptPath         string
	Status           string
	DraftVersion     int
	PublishedVersion int
	Popularity       int64
	CreatedAt        time.Time
	UpdatedAt        time.Time
	Version          int
}

// Target is where the item lives, for permission checks.
func (r Record) Target() authz.Target { return authz.Target{Region: r.Region, DeptPath: r.DeptPath} }

// Version is one version of an item's elements.
type Version struct {
	ItemID      string
	No          int
	Status      string
	Item        Item
	Note        string
	AuthorID    string
	AuthorName  string
	ReviewerID  string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	PublishedAt time.Time
}

// Service is the catalogue's operations.
type Service struct {
	db      *sqldb.DB
	org     *org.Service
	now     func() time.Time
	imports *importJobs // running imports, see import.go
	// published caches published versions' elements by item id and
	// version: a published version never changes, so it never goes stale.
	published sync.Map // versionKey → Item
	cached    atomic.Int64
}

type versionKey struct {
	id string
	no int
}

// maxCachedVersions bounds the published-version cache; past it, the
// cache starts over (a hot catalogue refills it at once).
const maxCachedVersions = 20000

// NewService returns the catalogue service.
func NewService(db *sqldb.DB, orgs *org.Service) *Service {
	return &Service{db: db, org: orgs, now: sqldb.Now, imports: newImportJobs()}
}

// LoadTypes adds the default item types that the table lacks; types an
// administrator changed are left alone.
func (s *Service) LoadTypes(ctx context.Context) error {
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		for i, t := range DefaultTypes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO catalog_types (code, name, sort, active) VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO NOTHING`,
				t.Code, t.Name, i+1, true); err != nil {
				return fmt.Errorf("catalog.LoadTypes: %w", err)
			}
		}
		return nil
	})
}

// Types returns the active item types in display order.
func (s *Service) Types(ctx context.Context) ([]ItemType, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT code, name FROM catalog_types WHERE active = $1 ORDER BY sort ASC, code ASC`, true)
	if err != nil {
		return nil, fmt.Errorf("catalog.Types: %w", err)
	}
	defer rows.Close()
	var out []ItemType
	for rows.Next() {
		var t ItemType
		if err := rows.Scan(&t.Code, &t.Name); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

const recordColumns = `id, code, basic_code, name, type_code, level, region_code, dept_id, dept_path, status,
	draft_version, published_version, popularity, created_at, updated_at, version`

func scanRecord(sc interface{ Scan(...any) error }) (Record, error) {
	var r Record
	err := sc.Scan(&r.ID, &r.Code, &r.BasicCode, &r.Name, &r.Type, &r.Level, &r.Region, &r.DeptID, &r.DeptPath, &r.Status,
		&r.DraftVersion, &r.PublishedVersion, &r.Popularity, &r.CreatedAt, &r.UpdatedAt, &r.Version)
	return r, err
}

func getRecord(ctx context.Context, q sqldb.Querier, col, v string) (Record, error) {
	r, err := scanRecord(q.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM catalog_items WHERE `+col+` = $1`, v))
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, &errs.Error{Kind: errs.NotFound, Op: "catalog.getRecord", Msg: "事项不存在"}
	}
	if err != nil {
		return Record{}, fmt.Errorf("catalog.getRecord: %w", err)
	}
	return r, nil
}

func getVersion(ctx context.Context, q sqldb.Querier, itemID string, no int) (Version, error) {
	var v Version
	var data string
	var published sql.NullTime
	err := q.QueryRowContext(ctx, `SELECT item_id, version_no, status, data, note, author_id, author_name, reviewer_id, created_at, updated_at, published_at
		FROM catalog_item_versions WHERE item_id = $1 AND version_no = $2`, itemID, no).
		Scan(&v.ItemID, &v.No, &v.Status, &data, &v.Note, &v.AuthorID, &v.AuthorName, &v.ReviewerID, &v.CreatedAt, &v.UpdatedAt, &published)
	if errors.Is(err, sql.ErrNoRows) {
		return Version{}, &errs.Error{Kind: errs.NotFound, Op: "catalog.getVersion", Msg: "事项版本不存在"}
	}
	if err != nil {
		return Version{}, fmt.Errorf("catalog.getVersion: %w", err)
	}
	v.PublishedAt = published.Time
	if err := json.Unmarshal([]byte(data), &v.Item); err != nil {
		return Version{}, fmt.Errorf("catalog.getVersion: stored elements: %w", err)
	}
	return v, nil
}

// prepare checks it against the rules and the department that implements
// it, which p must be able to edit items for; it fills in the department's
// name and credit code and the implementation code.
func (s *Service) prepare(ctx context.Context, p *authz.Principal, it *Item, op string) (org.Department, error) {
	types, err := s.Types(ctx)
	if err != nil {
		return org.Department{}, err
	}
	// A department the editor cannot see is answered like a missing one.
	d, derr := s.org.Department(ctx, p, it.DeptID)
	stepErrs := s.stepDepts(ctx, p, it, d)
	if err := checkWithDept(it, types, d, derr, op); err != nil {
		if e, ok := errors.AsType[*errs.Error](err); ok && e.Fields != nil {
			maps.Copy(e.Fields, stepErrs)
		}
		return d, err
	}
	if len(stepErrs) > 0 {
		return d, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "事项要素不完整或不一致，请按提示修改", Fields: stepErrs}
	}
	it.Code = ImplementationCode(it.DeptUSCC, it.Level, it.BasicCode)
	return d, p.Require(authz.EditItems, authz.Target{Region: it.Region, DeptPath: d.Path}, op)
}

// stepDepts checks the departments named on it's steps (each must be an
// active department p can see, in the item's region) and fills in their
// names; it returns the problems by field.
func (s *Service) stepDepts(ctx context.Context, p *authz.Principal, it *Item, d org.Department) map[string]string {
	f := map[string]string{}
	region := it.Region
	if region == "" {
		region = d.Region
	}
	routed := RoutedSteps(it.Steps)
	for i := range it.Steps {
		st := &it.Steps[i]
		st.DeptName, st.DeptUSCC = "", ""
		if !routed[i] && (st.DeptID != "" || st.Role != "") {
			key := fmt.Sprintf("steps[%d].dept_id", i)
			if st.DeptID == "" {
				key = fmt.Sprintf("steps[%d].role", i)
			}
			f[key] = "受理环节由综合窗口办理，决定之后的环节随结果送达，均不能指定办理部门或角色"
			continue
		}
		if st.DeptID == "" {
			continue
		}
		key := fmt.Sprintf("steps[%d].dept_id", i)
		sd, err := s.org.Department(ctx, p, st.DeptID)
		switch {
		case err != nil:
			f[key] = "环节办理部门不存在"
		case !sd.Active:
			f[key] = "环节办理部门已停用"
		case region != "" && !authz.RegionWithin(sd.Region, region) && !authz.RegionWithin(region, sd.Region):
			// Down the region tree or up it (县级受理、市级审批), not across.
			f[key] = "环节办理部门须在实施地区或其上级、下级地区"
		default:
			st.DeptName, st.DeptUSCC = sd.Name, sd.USCC
		}
	}
	return f
}

// checkWithDept checks it against the element rules and the department
// that implements it (derr when it could not be read or seen), filling in
// the department's name and credit code. Import shares it with prepare.
func checkWithDept(it *Item, types []ItemType, d org.Department, derr error, op string) error {
	if derr == nil {
		it.DeptName, it.DeptUSCC = d.Name, d.USCC
	}
	cerr := it.Check(types)
	f := map[string]string{}
	if e, ok := errors.AsType[*errs.Error](cerr); ok {
		f = e.Fields
	} else if cerr != nil {
		return cerr
	}
	switch {
	case derr != nil:
		f["dept_id"] = "实施主体不存在"
	case !d.Active:
		f["dept_id"] = "实施主体已停用"
	case it.Region != "" && !authz.RegionWithin(it.Region, d.Region):
		f["region"] = "实施地区须在实施主体的行政区划范围内"
	case it.DeptUSCC == "":
		f["dept_uscc"] = "实施主体缺少统一社会信用代码，无法生成实施编码"
	}
	if len(f) > 0 {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "事项要素不完整或不一致，请按提示修改", Fields: f}
	}
	return nil
}

// Create adds a new item as a draft (version 1).
func (s *Service) Create(ctx context.Context, p *authz.Principal, it Item) (Record, error) {
	const op = "catalog.Service.Create"
	if !p.CanAny(authz.EditItems) {
		return Record{}, p.Require(authz.EditItems, authz.Target{}, op)
	}
	d, err := s.prepare(ctx, p, &it, op)
	if err != nil {
		return Record{}, err
	}
	id := sqldb.NewID()
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error { return s.createTx(ctx, tx, p, id, it, d, op) })
	if err != nil {
		return Record{}, err
	}
	return getRecord(ctx, s.db.R, "id", id)
}

// createTx writes a prepared item as a new draft item with the given id
// (version 1) and audits it, inside tx.
func (s *Service) createTx(ctx context.Context, tx *sql.Tx, p *authz.Principal, id string, it Item, d org.Department, op string) error {
	data, err := json.Marshal(it)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO catalog_items (id, code, basic_code, name, type_code, level, region_code, dept_id, dept_path, status,
		draft_version, published_version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, 0, $11, $11)`,
		id, it.Code, it.BasicCode, it.Name, it.Type, it.Level, it.Region, d.ID, d.Path, StatusDraft, s.now())
	if sqldb.IsUniqueViolation(err) {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "实施编码已存在：该实施主体已有相同基本编码和层级的事项",
			Fields: map[string]string{"basic_code": "该实施主体已有相同基本编码和层级的事项"}, Err: err}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := s.insertVersion(ctx, tx, p, id, 1, data); err != nil {
		return err
	}
	return audit.Write(ctx, tx, audit.Entry{Action: "catalog.item.create", TargetType: "catalog_item", TargetID: id, Region: it.Region, DeptPath: d.Path,
		Detail: map[string]string{"code": it.Code, "name": it.Name}})
}

func (s *Service) insertVersion(ctx context.Context, tx *sql.Tx, p *authz.Principal, id string, no int, data []byte) error {
	now := s.now()
	_, err := tx.ExecContext(ctx, `INSERT INTO catalog_item_versions (item_id, version_no, status, data, author_id, author_name, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, id, no, VersionDraft, string(data), p.UserID, p.Name, now)
	if err != nil {
		return fmt.Errorf("catalog.insertVersion: %w", err)
	}
	return nil
}

// lock re-reads the item inside tx and checks that nobody changed it since
// the caller saw version, and that p holds perm over it.
func (s *Service) lock(ctx context.Context, tx *sql.Tx, p *authz.Principal, perm authz.Perm, id string, version int, op string) (Record, error) {
	r, err := getRecord(ctx, tx, "id", id)
	if err != nil {
		return Record{}, err
	}
	if !p.Can(authz.ViewOrg, r.Target()) && !p.Can(perm, r.Target()) {
		return Record{}, &errs.Error{Kind: errs.NotFound, Op: op, Msg: "事项不存在"}
	}
	if err := p.Require(perm, r.Target(), op); err != nil {
		return Record{}, err
	}
	res, err := tx.ExecContext(ctx, `UPDATE catalog_items SET version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3`, s.now(), id, version)
	if err != nil {
		return Record{}, fmt.Errorf("%s: %w", op, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Record{}, &errs.Error{Kind: errs.Conflict, Op: op, Msg: "该事项已被他人修改，请刷新页面后重试"}
	}
	return r, nil
}

// SaveDraft stores new elements for an item. A draft version is edited in
// place; an item without one (published, or waiting for review) gets a
// new draft version, leaving published versions untouched.
func (s *Service) SaveDraft(ctx context.Context, p *authz.Principal, id string, it Item, version int) (Record, error) {
	const op = "catalog.Service.SaveDraft"
	d, err := s.prepare(ctx, p, &it, op)
	if err != nil {
		return Record{}, err
	}
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error { return s.saveDraftTx(ctx, tx, p, id, it, d, version, op) })
	if err != nil {
		return Record{}, err
	}
	return getRecord(ctx, s.db.R, "id", id)
}

// saveDraftTx stores prepared elements as the item's draft inside tx, as
// SaveDraft describes: it locks the item at version, edits the draft
// version in place or adds one, and audits the change.
func (s *Service) saveDraftTx(ctx context.Context, tx *sql.Tx, p *authz.Principal, id string, it Item, d org.Department, version int, op string) error {
	data, err := json.Marshal(it)
	if err != nil {
		return err
	}
	r, err := s.lock(ctx, tx, p, authz.EditItems, id, version, op)
	if err != nil {
		return err
	}
	if r.Status == StatusRevoked {
		return &errs.Error{Kind: errs.Conflict, Op: op, Msg: "已撤销的事项不能再修改"}
	}
	if it.Code != r.Code {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "实施主体、层级和基本编码决定实施编码，发布后不能更改；请新建事项",
			Fields: map[string]string{"basic_code": "不能更改实施编码"}}
	}
	no := r.DraftVersion
	if no != 0 {
		cur, err := getVersion(ctx, tx, id, no)
		if err != nil {
			return err
		}
		if cur.Status != VersionDraft {
			return &errs.Error{Kind: errs.Conflict, Op: op, Msg: "该版本已提交审核，审核完成前不能修改"}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE catalog_item_versions SET data = $1, updated_at = $2, author_id = $3, author_name = $4 WHERE item_id = $5 AND version_no = $6`,
			string(data), s.now(), p.UserID, p.Name, id, no); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	} else {
		if err := tx.QueryRowContext(ctx, `SELECT MAX(version_no) FROM catalog_item_versions WHERE item_id = $1`, id).Scan(&no); err != nil {
			return err
		}
		no++
		if err := s.insertVersion(ctx, tx, p, id, no, data); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE catalog_items SET draft_version = $1 WHERE id = $2`, no, id); err != nil {
		return err
	}
	if r.Status == StatusDraft {
		// Never published: the row shows the draft's identity.
		if _, err := tx.ExecContext(ctx, `UPDATE catalog_items SET name = $1, type_code = $2, region_code = $3, dept_path = $4 WHERE id = $5`,
			it.Name, it.Type, it.Region, d.Path, id); err != nil {
			return err
		}
	}
	return audit.Write(ctx, tx, audit.Entry{Action: "catalog.item.draft", TargetType: "catalog_item", TargetID: id, Region: r.Region, DeptPath: r.DeptPath,
		Detail: map[string]any{"version": no}})
}

// Submit sends the item's draft version for review; it is frozen from now.
func (s *Service) Submit(ctx context.Context, p *authz.Principal, id string, version int) error {
	const op = "catalog.Service.Submit"
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		r, err := s.lock(ctx, tx, p, authz.EditItems, id, version, op)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE catalog_item_versions SET status = $1, updated_at = $2 WHERE item_id = $3 AND version_no = $4 AND status = $5`,
			VersionSubmitted, s.now(), id, r.DraftVersion, VersionDraft)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 || r.DraftVersion == 0 {
			return &errs.Error{Kind: errs.Conflict, Op: op, Msg: "没有可提交的草稿"}
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "catalog.item.submit", TargetType: "catalog_item", TargetID: id, Region: r.Region, DeptPath: r.DeptPath,
			Detail: map[string]any{"version": r.DraftVersion}})
	})
}

// Review decides on a submitted version: approving publishes it (the
// previously published version is superseded, never changed); rejecting
// returns it to draft with the reviewer's note. Authors cannot approve
// their own versions.
func (s *Service) Review(ctx context.Context, p *authz.Principal, id string, approve bool, note string, version int) error {
	const op = "catalog.Service.Review"
	if !approve && len([]rune(note)) < 2 {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "退回时须写明退回理由", Fields: map[string]string{"note": "请写明退回理由"}}
	}
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		r, err := s.lock(ctx, tx, p, authz.ReviewItems, id, version, op)
		if err != nil {
			return err
		}
		v, err := getVersion(ctx, tx, id, r.DraftVersion)
		if err != nil || v.Status != VersionSubmitted {
			return &errs.Error{Kind: errs.Conflict, Op: op, Msg: "没有待审核的版本"}
		}
		if v.AuthorID == p.UserID {
			return &errs.Error{Kind: errs.Forbidden, Op: op, Msg: "不能审核自己编辑的版本"}
		}
		now := s.now()
		if !approve {
			if _, err := tx.ExecContext(ctx, `UPDATE catalog_item_versions SET status = $1, note = $2, reviewer_id = $3, updated_at = $4 WHERE item_id = $5 AND version_no = $6`,
				VersionDraft, note, p.UserID, now, id, v.No); err != nil {
				return err
			}
			return audit.Write(ctx, tx, audit.Entry{Action: "catalog.item.reject", TargetType: "catalog_item", TargetID: id, Region: r.Region, DeptPath: r.DeptPath,
				Detail: map[string]any{"version": v.No, "note": note}})
		}
		if _, err := tx.ExecContext(ctx, `UPDATE catalog_item_versions SET status = $1 WHERE item_id = $2 AND status = $3`, VersionSuperseded, id, VersionPublished); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE catalog_item_versions SET status = $1, note = $2, reviewer_id = $3, updated_at = $4, published_at = $4 WHERE item_id = $5 AND version_no = $6`,
			VersionPublished, note, p.UserID, now, id, v.No); err != nil {
			return err
		}
		it := v.Item
		status := r.Status
		if status == StatusDraft {
			status = StatusPublished
		}
		if _, err := tx.ExecContext(ctx, `UPDATE catalog_items SET name = $1, type_code = $2, region_code = $3, status = $4, draft_version = 0, published_version = $5 WHERE id = $6`,
			it.Name, it.Type, it.Region, status, v.No, id); err != nil {
			return err
		}
		if _, err := outbox.Enqueue(ctx, tx, TopicItemChanged, ItemChanged{ID: id, Code: r.Code, Status: status}); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "catalog.item.publish", TargetType: "catalog_item", TargetID: id, Region: r.Region, DeptPath: r.DeptPath,
			Detail: map[string]any{"version": v.No, "note": note}})
	})
}

// SetStatus suspends, resumes or revokes a published item. Revoking is final.
func (s *Service) SetStatus(ctx context.Context, p *authz.Principal, id, status, note string, version int) error {
	const op = "catalog.Service.SetStatus"
	if status != StatusSuspended && status != StatusPublished && status != StatusRevoked {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "无效的事项状态"}
	}
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		r, err := s.lock(ctx, tx, p, authz.ReviewItems, id, version, op)
		if err != nil {
			return err
		}
		allowed := map[string][]string{
			StatusPublished: {StatusSuspended, StatusRevoked},
			StatusSuspended: {StatusPublished, StatusRevoked},
		}[r.Status]
		ok := false
		for _, a := range allowed {
			ok = ok || a == status
		}
		if !ok {
			return &errs.Error{Kind: errs.Conflict, Op: op, Msg: "当前状态不能执行该操作"}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE catalog_items SET status = $1 WHERE id = $2`, status, id); err != nil {
			return err
		}
		if _, err := outbox.Enqueue(ctx, tx, TopicItemChanged, ItemChanged{ID: id, Code: r.Code, Status: status}); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "catalog.item." + status, TargetType: "catalog_item", TargetID: id, Region: r.Region, DeptPath: r.DeptPath,
			Detail: map[string]string{"from": r.Status, "note": note}})
	})
}

// Published returns the published elements of the item with code, for
// citizens; suspended items are shown (with their status), drafts and
// revoked items are not found.
func (s *Service) Published(ctx context.Context, code string) (Record, Item, error) {
	r, err := getRecord(ctx, s.db.R, "code", code)
	if err != nil {
		return Record{}, Item{}, err
	}
	if r.PublishedVersion == 0 || r.Status == StatusRevoked {
		return Record{}, Item{}, &errs.Error{Kind: errs.NotFound, Op: "catalog.Service.Published", Msg: "事项不存在"}
	}
	it, err := s.PublishedVersion(ctx, r.ID, r.PublishedVersion)
	if err != nil {
		return Record{}, Item{}, err
	}
	return r, it, nil
}

// PublishedVersion returns the elements of version no of item itemID, if
// that version was ever published (current or superseded): what a case
// filed under it was filed under, even after the item changed or ended.
func (s *Service) PublishedVersion(ctx context.Context, itemID string, no int) (Item, error) {
	key := versionKey{itemID, no}
	if it, ok := s.published.Load(key); ok {
		return cloneItem(it.(Item)), nil
	}
	v, err := getVersion(ctx, s.db.R, itemID, no)
	if err != nil {
		return Item{}, err
	}
	if v.Status != VersionPublished && v.Status != VersionSuperseded {
		return Item{}, &errs.Error{Kind: errs.NotFound, Op: "catalog.Service.PublishedVersion", Msg: "事项版本不存在"}
	}
	if s.cached.Add(1) > maxCachedVersions {
		s.published.Clear()
		s.cached.Store(1)
	}
	s.published.Store(key, v.Item)
	return cloneItem(v.Item), nil
}

// Versions lists an item's versions, newest first, for someone who may see it.
func (s *Service) Versions(ctx context.Context, p *authz.Principal, id string) (Record, []Version, error) {
	r, err := getRecord(ctx, s.db.R, "id", id)
	if err != nil {
		return Record{}, nil, err
	}
	if !p.Can(authz.ViewOrg, r.Target()) {
		return Record{}, nil, &errs.Error{Kind: errs.NotFound, Op: "catalog.Service.Versions", Msg: "事项不存在"}
	}
	var out []Version
	rows, err := s.db.R.QueryContext(ctx, `SELECT version_no FROM catalog_item_versions WHERE item_id = $1 ORDER BY version_no DESC`, id)
	if err != nil {
		return Record{}, nil, err
	}
	var nos []int
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return Record{}, nil, err
		}
		nos = append(nos, n)
	}
	rows.Close()
	for _, n := range nos {
		v, err := getVersion(ctx, s.db.R, id, n)
		if err != nil {
			return Record{}, nil, err
		}
		out = append(out, v)
	}
	return r, out, nil
}

// OnDepartmentMoved is the outbox handler for org.department.moved: items
// of departments in the moved subtree re-read their department's path.
func (s *Service) OnDepartmentMoved(ctx context.Context, m outbox.Message) error {
	return s.org.RepathRows(ctx, s.db, m, "catalog_items")
}

// ItemQuery filters the staff list of items.
type ItemQuery struct {
	Status string // one of the item states, or "review" for items waiting for review
	Q      string // part of the name
	Page   int
}

// Items lists the items p may see, newest change first, 50 a page.
func (s *Service) Items(ctx context.Context, p *authz.Principal, q ItemQuery) ([]Record, int, error) {
	const op = "catalog.Service.Items"
	w, err := itemFilter(p, q, op)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM catalog_items i`+w.String(), w.Args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	page := min(max(q.Page, 1), 10000)
	lim, all := w.Page(50, (page-1)*50)
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+prefixed("i.", recordColumns)+` FROM catalog_items i`+w.String()+` ORDER BY i.updated_at DESC, i.id ASC`+lim, all...)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// itemFilter turns q's status and name filters, and p's scope, into the
// WHERE clause over catalog_items i shared by Items and ExportItems.
func itemFilter(p *authz.Principal, q ItemQuery, op string) (*sqldb.Where, error) {
	if p == nil {
		return nil, &errs.Error{Kind: errs.Unauthenticated, Op: op, Msg: "请先登录"}
	}
	if len([]rune(q.Q)) > 100 {
		return nil, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "搜索内容过长"}
	}
	w := &sqldb.Where{}
	perm := authz.ViewOrg
	if q.Status == "review" {
		perm = authz.ReviewItems
	}
	cond, args := p.Filter(perm, "i.region_code", "i.dept_path", w.Next())
	w.AddNumbered(cond, args)
	switch q.Status {
	case "":
	case "review":
		w.Add(`EXISTS (SELECT 1 FROM catalog_item_versions v WHERE v.item_id = i.id AND v.version_no = i.draft_version AND v.status = ?)`, VersionSubmitted)
	case StatusDraft, StatusPublished, StatusSuspended, StatusRevoked:
		w.Add("i.status = ?", q.Status)
	default:
		return nil, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "无效的状态筛选"}
	}
	if q.Q != "" {
		w.Add(`i.name LIKE ? ESCAPE '\'`, "%"+sqldb.EscapeLike(q.Q)+"%")
	}
	return w, nil
}

// prefixed qualifies each column of a comma-separated list with p.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
