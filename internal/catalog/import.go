package catalog

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"yiwang/internal/org"
	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/sqldb"
)

// ImportMode says what an import does with a file that has bad rows.
type ImportMode string

// The modes.
const (
	ImportAll   ImportMode = "all"   // 全部导入或全部不导入: any bad row ⇒ nothing is written
	ImportValid ImportMode = "valid" // 仅导入有效行: good rows are written, bad rows reported
)

// Import job states.
const (
	ImportRunning  = "running"
	ImportDone     = "done"     // the good rows were written (maybe none, in valid-rows mode)
	ImportRejected = "rejected" // all-or-nothing with bad rows: nothing was written
	ImportFailed   = "failed"   // unreadable file, or writing failed: nothing was written
	ImportCanceled = "canceled" // cancelled before it committed: nothing was written
)

// Import phases while a job runs.
const (
	PhaseParse = "parse" // reading the file
	PhaseCheck = "check" // validating every row
	PhaseWrite = "write" // writing, in one transaction
)

// Limits on import jobs: one running import per person, a few per node
// (each holds its file in memory and, on SQLite, the single writer while
// it writes), and a deadline after which a job is abandoned.
const (
	maxImportsPerNode = 4
	importTimeout     = 15 * time.Minute
)

// ImportLabels names the states and phases for pages.
var ImportLabels = map[string]string{
	ImportRunning: "正在导入", ImportDone: "导入完成", ImportRejected: "未导入（文件有误）", ImportFailed: "导入失败", ImportCanceled: "已取消",
	PhaseParse: "读取文件", PhaseCheck: "校验数据", PhaseWrite: "写入数据库",
}

// ImportJob is one import (事项导入任务): its file, its progress while it
// runs and its outcome, with every bad row.
type ImportJob struct {
	ID        string
	OwnerID   string
	OwnerName string
	Region    string // scope of the grant the owner imported under
	DeptPath  string
	FileName  string
	Format    Format
	Mode      ImportMode
	Status    string
	Phase     string
	Total     int // data rows in the file
	Done      int // rows through the current phase
	Created   int
	Updated   int
	Errors    []RowError
	Message   string // the outcome, for people
	Notice    string // e.g. an encoding conversion
	Started   time.Time
	Finished  time.Time

	cancel     context.CancelFunc // stops the running job (in memory only)
	committing bool               // past the last point a cancel can stop it
}

// Running reports whether the job has not ended.
func (j ImportJob) Running() bool { return j.Status == ImportRunning }

// Percent is the progress of the current phase, 0–100.
func (j ImportJob) Percent() int {
	if j.Total == 0 {
		return 0
	}
	return min(100, j.Done*100/j.Total)
}

// BadRows counts the distinct rows with errors.
func (j ImportJob) BadRows() int {
	n, last := 0, -1
	for _, e := range j.Errors {
		if e.Row != last {
			n++
			last = e.Row
		}
	}
	return n
}

func (j ImportJob) target() authz.Target { return authz.Target{Region: j.Region, DeptPath: j.DeptPath} }

// importJobs holds the jobs running on this node. Progress lives here, in
// memory, never in the database: on SQLite the import's transaction holds
// the only writer connection, so the job cannot write anything else until
// it commits.
type importJobs struct {
	mu   sync.Mutex
	jobs map[string]*ImportJob
	wg   sync.WaitGroup
	// hook, if set, is called by the job at named points (see
	// SetImportHook); tests use it to hold a job still.
	hook func(ctx context.Context, id, point string)
}

func newImportJobs() *importJobs { return &importJobs{jobs: map[string]*ImportJob{}} }

// update changes the job under the lock.
func (r *importJobs) update(id string, f func(j *ImportJob)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if j := r.jobs[id]; j != nil {
		f(j)
	}
}

func (r *importJobs) get(id string) (ImportJob, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	j := r.jobs[id]
	if j == nil {
		return ImportJob{}, false
	}
	return j.copy(), true
}

// copy is j to hand out: its own Errors, no cancel function.
func (j *ImportJob) copy() ImportJob {
	c := *j
	c.Errors, c.cancel = slices.Clone(j.Errors), nil
	return c
}

// SetImportHook installs f, called by every import job at the points
// "check" (before validating rows), "write" (inside the transaction,
// before the last check for a cancel) and "commit" (after it: the job can
// no longer be cancelled). It is for tests, which use it to hold a job at
// a known point; call it before starting imports.
func (s *Service) SetImportHook(f func(ctx context.Context, id, point string)) { s.imports.hook = f }

func (r *importJobs) at(ctx context.Context, id, point string) {
	if r.hook != nil {
		r.hook(ctx, id, point)
	}
}

// WaitImports waits until the imports running on this node have ended or
// ctx is done; call it on shutdown before closing the database.
func (s *Service) WaitImports(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.imports.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// StartImport checks the upload, records an import job owned by p and runs
// it in the background: parse, validate every row, then write every good
// row in one transaction (see runImport). It returns the job at once; the
// job outlives the request (its context is detached from ctx's
// cancellation but keeps the audit actor).
func (s *Service) StartImport(ctx context.Context, p *authz.Principal, fileName string, data []byte, mode ImportMode) (ImportJob, error) {
	const op = "catalog.Service.StartImport"
	if p == nil || !p.CanAny(authz.EditItems) {
		return ImportJob{}, p.Require(authz.EditItems, authz.Target{}, op)
	}
	if mode != ImportAll && mode != ImportValid {
		return ImportJob{}, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "请选择导入方式", Fields: map[string]string{"mode": "请选择导入方式"}}
	}
	if len(data) > MaxImportBytes {
		return ImportJob{}, fileErr(op, fmt.Sprintf("文件超过%d MB，请分成多个文件导入", MaxImportBytes>>20), nil)
	}
	format, err := DetectFormat(fileName, data)
	if err != nil {
		return ImportJob{}, err
	}
	g := p.Scopes(authz.EditItems)[0]
	job := &ImportJob{ID: sqldb.NewID(), OwnerID: p.UserID, OwnerName: p.Name, Region: g.Region, DeptPath: g.DeptPath,
		FileName: clipName(fileName), Format: format, Mode: mode, Status: ImportRunning, Phase: PhaseParse, Started: s.now()}

	s.imports.mu.Lock()
	running, mine := len(s.imports.jobs), false
	for _, j := range s.imports.jobs {
		mine = mine || (j.OwnerID == p.UserID && j.Running())
	}
	if mine || running >= maxImportsPerNode {
		s.imports.mu.Unlock()
		msg := "您已有一个导入任务正在进行，请等它结束后再导入"
		if !mine {
			msg = "当前导入任务较多，请稍后再试"
		}
		return ImportJob{}, &errs.Error{Kind: errs.TooMany, Op: op, Msg: msg}
	}
	s.imports.jobs[job.ID] = job // reserve the slot before writing
	s.imports.mu.Unlock()

	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO catalog_imports (id, owner_id, owner_name, region_code, dept_path, file_name, format, mode, status, started_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			job.ID, job.OwnerID, job.OwnerName, job.Region, job.DeptPath, job.FileName, string(job.Format), string(job.Mode), job.Status, job.Started)
		return err
	})
	if err != nil {
		s.imports.mu.Lock()
		delete(s.imports.jobs, job.ID)
		s.imports.mu.Unlock()
		return ImportJob{}, fmt.Errorf("%s: %w", op, err)
	}
	snapshot, _ := s.imports.get(job.ID)
	s.imports.wg.Add(1)
	go s.runImport(context.WithoutCancel(ctx), p, job.ID, data)
	return snapshot, nil
}

func clipName(name string) string {
	if r := []rune(name); len(r) > 200 {
		return string(r[:200])
	}
	return name
}

// ImportJob returns a job p may see: their own, or one in the scope of
// their catalog.review grant (administrators).
func (s *Service) ImportJob(ctx context.Context, p *authz.Principal, id string) (ImportJob, error) {
	const op = "catalog.Service.ImportJob"
	if p == nil {
		return ImportJob{}, &errs.Error{Kind: errs.Unauthenticated, Op: op, Msg: "请先登录"}
	}
	j, ok := s.imports.get(id)
	if !ok {
		var err error
		if j, err = s.loadImport(ctx, id); err != nil {
			return ImportJob{}, err
		}
	}
	if j.OwnerID != p.UserID && !p.Can(authz.ReviewItems, j.target()) {
		return ImportJob{}, &errs.Error{Kind: errs.NotFound, Op: op, Msg: "导入任务不存在"}
	}
	return j, nil
}

// errImportCanceled ends a job that was cancelled.
var errImportCanceled = errors.New("import canceled")

// CancelImport cancels a running job p may see (as for ImportJob; others'
// jobs are NotFound). A job running on this node is stopped at once: its
// context is cancelled, so it stops at its next check, and its write
// transaction, if it has begun one, rolls back. A job on another node is
// marked cancelled in catalog_imports; that node notices at its next
// check, and at the latest its commit finds the mark and rolls back. So a
// cancelled job has written nothing. A job that has ended, or is already
// committing, is a Conflict: its items are saved.
func (s *Service) CancelImport(ctx context.Context, p *authz.Principal, id string) (ImportJob, error) {
	const op = "catalog.Service.CancelImport"
	j, err := s.ImportJob(ctx, p, id)
	if err != nil {
		return ImportJob{}, err
	}
	tooLate := func(j ImportJob) error {
		msg := "该导入任务已结束（" + ImportLabels[j.Status] + "），不能取消"
		if j.Status == ImportDone && j.Created+j.Updated > 0 {
			msg = "导入已完成，事项草稿已保存，不能取消"
		}
		return &errs.Error{Kind: errs.Conflict, Op: op, Msg: msg}
	}
	if !j.Running() {
		return ImportJob{}, tooLate(j)
	}
	msg := "导入已由" + p.Name + "取消，未保存任何数据"
	s.imports.mu.Lock()
	if m := s.imports.jobs[id]; m != nil {
		defer s.imports.mu.Unlock()
		switch {
		case m.committing:
			return ImportJob{}, &errs.Error{Kind: errs.Conflict, Op: op, Msg: "导入正在保存，已无法取消"}
		case !m.Running():
			return ImportJob{}, tooLate(*m)
		}
		m.Status, m.Message, m.Finished = ImportCanceled, msg, s.now()
		if m.cancel != nil {
			m.cancel()
		}
		return m.copy(), nil
	}
	s.imports.mu.Unlock()
	// Running on another node, or ended just now.
	var n int64
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE catalog_imports SET status = $1, message = $2, finished_at = $3 WHERE id = $4 AND status = $5`,
			ImportCanceled, msg, s.now(), id, ImportRunning)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return ImportJob{}, fmt.Errorf("%s: %w", op, err)
	}
	if j, err = s.loadImport(ctx, id); err != nil {
		return ImportJob{}, err
	}
	if n == 0 {
		return ImportJob{}, tooLate(j)
	}
	return j, nil
}

// canceledElsewhere reports whether the job was marked cancelled in
// catalog_imports (by another node: see CancelImport).
func (s *Service) canceledElsewhere(ctx context.Context, id string) (bool, error) {
	var status string
	if err := s.db.R.QueryRowContext(ctx, `SELECT status FROM catalog_imports WHERE id = $1`, id).Scan(&status); err != nil {
		return false, err
	}
	return status == ImportCanceled, nil
}

func (s *Service) loadImport(ctx context.Context, id string) (ImportJob, error) {
	const op = "catalog.Service.loadImport"
	var j ImportJob
	var format, mode, rowErrs string
	var finished sql.NullTime
	err := s.db.R.QueryRowContext(ctx, `SELECT id, owner_id, owner_name, region_code, dept_path, file_name, format, mode, status, total_rows,
		created, updated, message, notice, errors, started_at, finished_at FROM catalog_imports WHERE id = $1`, id).
		Scan(&j.ID, &j.OwnerID, &j.OwnerName, &j.Region, &j.DeptPath, &j.FileName, &format, &mode, &j.Status, &j.Total,
			&j.Created, &j.Updated, &j.Message, &j.Notice, &rowErrs, &j.Started, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return ImportJob{}, &errs.Error{Kind: errs.NotFound, Op: op, Msg: "导入任务不存在"}
	}
	if err != nil {
		return ImportJob{}, fmt.Errorf("%s: %w", op, err)
	}
	j.Format, j.Mode, j.Finished = Format(format), ImportMode(mode), finished.Time
	if err := json.Unmarshal([]byte(rowErrs), &j.Errors); err != nil {
		return ImportJob{}, fmt.Errorf("%s: errors: %w", op, err)
	}
	// Running on no node any more: its transaction never committed (a
	// committed import records its outcome in the same transaction).
	// Another node may still be running it until the deadline.
	if j.Running() && s.now().Sub(j.Started) > importTimeout+time.Minute {
		j.Status, j.Message = ImportFailed, "导入已中断（服务曾重启或超时），未保存任何数据，请重新导入"
	}
	return j, nil
}

// rowFailure says which row a write failed on.
type rowFailure struct {
	row int
	err error
}

func (e *rowFailure) Error() string { return fmt.Sprintf("row %d: %v", e.row, e.err) }
func (e *rowFailure) Unwrap() error { return e.err }

// importRow is a validated row, ready to write.
type importRow struct {
	row      int
	item     Item
	dept     org.Department
	existing string // id of the item with the same implementation code, if any
}

// runImport is the job: it never panics and always records an outcome.
func (s *Service) runImport(parent context.Context, p *authz.Principal, id string, data []byte) {
	defer s.imports.wg.Done()
	ctx, cancel := context.WithTimeout(parent, importTimeout)
	defer cancel()
	s.imports.update(id, func(j *ImportJob) { j.cancel = cancel })
	j, _ := s.imports.get(id)
	// outcome ends the job, unless CancelImport already has.
	outcome := func(status, msg string, rowErrs []RowError) {
		s.imports.update(id, func(j *ImportJob) {
			if j.Status == ImportRunning {
				j.Status, j.Message, j.Errors, j.Finished = status, msg, rowErrs, s.now()
			}
		})
	}
	defer func() {
		if v := recover(); v != nil {
			outcome(ImportFailed, "导入时发生内部错误，未保存任何数据", nil)
		}
		// The job's own context may be done (cancelled, or past its
		// deadline); recording the outcome must not be.
		fctx, fcancel := context.WithTimeout(parent, time.Minute)
		defer fcancel()
		s.finishImport(fctx, id)
	}()
	types, err := s.Types(ctx)
	if err != nil {
		outcome(ImportFailed, "系统繁忙，未保存任何数据，请稍后重试", nil)
		return
	}
	sheet, err := Parse(j.FileName, data, types)
	if err != nil {
		outcome(ImportFailed, errs.Message(err), []RowError{{Row: 0, Reason: errs.Message(err)}})
		return
	}
	data = nil
	if ctx.Err() != nil { // cancelled while parsing: outcome already set, unless timed out
		outcome(ImportFailed, "导入超时，未保存任何数据", nil)
		return
	}
	s.imports.update(id, func(j *ImportJob) {
		j.Phase, j.Total, j.Notice = PhaseCheck, len(sheet.Rows), sheet.Notice
	})
	if len(sheet.Rows) == 0 {
		outcome(ImportFailed, "文件中没有事项（只有表头）", nil)
		return
	}
	s.imports.at(ctx, id, "check")
	good, bad, err := s.checkImport(ctx, p, id, sheet, types)
	if errors.Is(err, errImportCanceled) {
		outcome(ImportCanceled, "导入已取消，未保存任何数据", nil)
		return
	}
	if err != nil {
		outcome(ImportFailed, "校验时出错，未保存任何数据，请稍后重试", nil)
		return
	}
	badRows := len(sheet.Rows) - len(good)
	if badRows > 0 && j.Mode == ImportAll {
		outcome(ImportRejected, fmt.Sprintf("共%d行，其中%d行有误，按“全部导入或全部不导入”未导入任何事项。请修改后重新导入，或选择“仅导入有效行”。", len(sheet.Rows), badRows), bad)
		return
	}
	if len(good) == 0 {
		outcome(ImportDone, fmt.Sprintf("共%d行，全部有误，没有导入任何事项。", len(sheet.Rows)), bad)
		return
	}
	s.imports.update(id, func(j *ImportJob) { j.Phase, j.Done, j.Errors = PhaseWrite, 0, bad })
	created, updated, err := s.writeImport(ctx, p, id, good, len(sheet.Rows), bad)
	if errors.Is(err, errImportCanceled) {
		outcome(ImportCanceled, "导入已取消，未保存任何数据", bad)
		return
	}
	if err != nil {
		var rowErrs []RowError
		msg := "写入时出错，未保存任何数据，请稍后重试"
		if rf, ok := errors.AsType[*rowFailure](err); ok && errs.KindOf(err) != errs.Internal {
			rowErrs = FieldErrors(rf.row, rf.err, "dept_id")
			msg = fmt.Sprintf("写入第%d行时发现冲突（数据可能刚被他人修改），未保存任何数据，请重新导入", rf.row)
		}
		outcome(ImportFailed, msg, append(bad, rowErrs...))
		return
	}
	s.imports.update(id, func(j *ImportJob) {
		j.Status, j.Created, j.Updated, j.Finished = ImportDone, created, updated, s.now()
		j.Message = importDoneMessage(len(sheet.Rows), created, updated, badRows)
	})
}

func importDoneMessage(total, created, updated, bad int) string {
	msg := fmt.Sprintf("共%d行：新建%d个事项草稿，更新%d个事项草稿", total, created, updated)
	if bad > 0 {
		msg += fmt.Sprintf("，跳过%d行有误的数据", bad)
	}
	return msg + "。草稿须提交审核，发布后才对公众可见。"
}

// checkImport validates every row: the codec's format and element checks,
// then the department (named by credit code, within p's scope), the
// implementation code, duplicates within the file and the state of an
// existing item with the same code. It returns the good rows and the
// errors of the bad ones, in row order.
func (s *Service) checkImport(ctx context.Context, p *authz.Principal, id string, sheet *Sheet, types []ItemType) ([]importRow, []RowError, error) {
	const op = "catalog.Service.Import"
	type deptResult struct {
		d   org.Department
		err error
	}
	depts := map[string]deptResult{}
	// dept looks a department up by credit code once per import; not
	// finding it (or not being allowed to see it) is the row's problem.
	dept := func(uscc string) (deptResult, error) {
		dr, ok := depts[uscc]
		if !ok {
			dr.d, dr.err = s.org.DepartmentByUSCC(ctx, p, uscc)
			if dr.err != nil && errs.KindOf(dr.err) != errs.NotFound {
				return dr, dr.err
			}
			depts[uscc] = dr
		}
		return dr, nil
	}
	seen := map[string]int{}
	var good []importRow
	var bad []RowError
	for i, row := range sheet.Rows {
		if i%100 == 0 {
			s.imports.update(id, func(j *ImportJob) { j.Done = i })
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			if c, err := s.canceledElsewhere(ctx, id); err != nil || c {
				return nil, nil, cmp.Or(err, errImportCanceled)
			}
		}
		if len(row.Errors) > 0 {
			bad = append(bad, row.Errors...)
			continue
		}
		it := row.Item
		fileName, fileCode := it.DeptName, it.Code
		dr, err := dept(it.DeptUSCC)
		if err != nil {
			return nil, nil, err
		}
		var rowErrs []RowError
		uscc := ColumnOf("dept_uscc")
		if dr.err != nil {
			rowErrs = append(rowErrs, RowError{Row: row.Row, Column: uscc, Reason: "找不到该统一社会信用代码对应的部门，或该部门不在您的管理范围内"})
		}
		it.DeptID = dr.d.ID
		// Step departments are named by credit code in the file.
		for i := range it.Steps {
			st := &it.Steps[i]
			if st.DeptUSCC == "" {
				continue
			}
			sr, err := dept(st.DeptUSCC)
			if err != nil {
				return nil, nil, err
			}
			if st.DeptID = sr.d.ID; sr.err != nil {
				st.DeptID = "-" // named on the row below, as stepDepts names a missing department
			}
		}
		if f := s.stepDepts(ctx, p, &it, dr.d); len(f) > 0 {
			rowErrs = append(rowErrs, FieldErrors(row.Row, &errs.Error{Kind: errs.Invalid, Fields: f})...)
		}
		if err := checkWithDept(&it, types, dr.d, dr.err, op); err != nil {
			skip := []string{}
			if dr.err != nil {
				skip = append(skip, "dept_id", "dept_uscc")
			}
			rowErrs = append(rowErrs, FieldErrors(row.Row, err, skip...)...)
		}
		if len(rowErrs) == 0 {
			code := ImplementationCode(it.DeptUSCC, it.Level, it.BasicCode)
			switch {
			case fileName != "" && fileName != dr.d.Name:
				rowErrs = append(rowErrs, RowError{Row: row.Row, Column: "实施主体", Reason: "与统一社会信用代码对应的部门“" + dr.d.Name + "”不一致"})
			case fileCode != "" && fileCode != code:
				rowErrs = append(rowErrs, RowError{Row: row.Row, Column: "实施编码", Reason: "与统一社会信用代码、行使层级和基本编码组成的实施编码（" + code + "）不一致"})
			case !p.Can(authz.EditItems, authz.Target{Region: it.Region, DeptPath: dr.d.Path}):
				rowErrs = append(rowErrs, RowError{Row: row.Row, Column: uscc, Reason: "您没有为该实施主体编辑事项的权限"})
			case seen[code] != 0:
				rowErrs = append(rowErrs, RowError{Row: row.Row, Column: "实施编码", Reason: fmt.Sprintf("与第%d行的实施编码相同（同一实施主体、层级和基本编码只能有一行）", seen[code])})
			}
			it.Code = code
		}
		r := importRow{row: row.Row, item: it, dept: dr.d}
		if len(rowErrs) == 0 {
			seen[it.Code] = row.Row
			reason, existing, err := s.importTarget(ctx, p, it.Code)
			if err != nil {
				return nil, nil, err
			}
			if reason != "" {
				rowErrs = append(rowErrs, RowError{Row: row.Row, Column: "实施编码", Reason: reason})
			}
			r.existing = existing
		}
		if len(rowErrs) > 0 {
			bad = append(bad, rowErrs...)
			continue
		}
		good = append(good, r)
	}
	s.imports.update(id, func(j *ImportJob) { j.Done = len(sheet.Rows) })
	return good, bad, nil
}

// importTarget looks for an item with the code: none means the row
// creates one; otherwise the row becomes its new draft, which needs p to
// edit it and the item to take a draft (SaveDraft's rules). reason says
// why not.
func (s *Service) importTarget(ctx context.Context, p *authz.Principal, code string) (reason, id string, err error) {
	r, err := getRecord(ctx, s.db.R, "code", code)
	if errs.KindOf(err) == errs.NotFound {
		return "", "", nil
	}
	if err != nil {
		return "", "", err
	}
	switch {
	case !p.Can(authz.EditItems, r.Target()):
		return "已有同一实施编码的事项，您无权修改它", "", nil
	case r.Status == StatusRevoked:
		return "同一实施编码的事项已撤销，不能再修改", "", nil
	case r.DraftVersion != 0:
		v, err := getVersion(ctx, s.db.R, r.ID, r.DraftVersion)
		if err != nil {
			return "", "", err
		}
		if v.Status != VersionDraft {
			return "同一实施编码的事项有待审核的版本，审核完成前不能修改", "", nil
		}
	}
	return "", r.ID, nil
}

// writeImport writes every good row in one transaction, reusing Create's
// and SaveDraft's transaction steps (each item audited as they audit it),
// audits the import and records its outcome in the same transaction, so
// that either all of it is saved or nothing is. Nothing in it writes
// outside tx: on SQLite tx holds the only writer connection.
func (s *Service) writeImport(ctx context.Context, p *authz.Principal, id string, rows []importRow, total int, bad []RowError) (created, updated int, err error) {
	const op = "catalog.Service.Import"
	j, _ := s.imports.get(id)
	badJSON, err := json.Marshal(nonNil(bad))
	if err != nil {
		return 0, 0, err
	}
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		// Thousands of entries in one long transaction: on a chain of their
		// own, so the regular writes do not wait for the commit.
		if err := audit.Bulk(ctx, tx); err != nil {
			return err
		}
		created, updated = 0, 0 // InTx may run this again
		for i, r := range rows {
			if r.existing != "" {
				rec, err := getRecord(ctx, tx, "id", r.existing)
				if err == nil {
					err = s.saveDraftTx(ctx, tx, p, rec.ID, r.item, r.dept, rec.Version, op)
				}
				if err != nil {
					return &rowFailure{row: r.row, err: err}
				}
				updated++
			} else {
				if err := s.createTx(ctx, tx, p, sqldb.NewID(), r.item, r.dept, op); err != nil {
					return &rowFailure{row: r.row, err: err}
				}
				created++
			}
			if i%50 == 0 || i == len(rows)-1 {
				s.imports.update(id, func(j *ImportJob) { j.Done = i + 1 })
			}
		}
		// The last point a cancel stops the job: after it, it commits.
		s.imports.at(ctx, id, "write")
		s.imports.mu.Lock()
		m := s.imports.jobs[id]
		canceled := m == nil || m.Status != ImportRunning
		if !canceled {
			m.committing = true
		}
		s.imports.mu.Unlock()
		if canceled {
			return errImportCanceled
		}
		s.imports.at(ctx, id, "commit")
		if err := audit.Write(ctx, tx, audit.Entry{Action: "catalog.items.import", TargetType: "catalog_import", TargetID: id, Region: j.Region, DeptPath: j.DeptPath,
			Detail: map[string]any{"file": j.FileName, "mode": j.Mode, "rows": total, "created": created, "updated": updated, "skipped": total - len(rows)}}); err != nil {
			return err
		}
		// Another node may have marked the job cancelled (CancelImport).
		res, err := tx.ExecContext(ctx, `UPDATE catalog_imports SET status = $1, total_rows = $2, created = $3, updated = $4, message = $5, notice = $6, errors = $7, finished_at = $8 WHERE id = $9 AND status = $10`,
			ImportDone, total, created, updated, importDoneMessage(total, created, updated, total-len(rows)), j.Notice, string(badJSON), s.now(), id, ImportRunning)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmp.Or(err, errImportCanceled)
		}
		return nil
	})
	if err != nil {
		s.imports.update(id, func(j *ImportJob) { j.committing = false })
	}
	return created, updated, err
}

func nonNil(e []RowError) []RowError {
	if e == nil {
		return []RowError{}
	}
	return e
}

// finishImport records an outcome that wrote no items (a written import
// recorded its own in its transaction) and lets the job go from memory.
// If recording fails, the job stays in memory so its owner still sees it
// on this node.
func (s *Service) finishImport(ctx context.Context, id string) {
	j, ok := s.imports.get(id)
	if !ok {
		return
	}
	if j.Running() { // cannot happen: every path sets an outcome
		j.Status, j.Message = ImportFailed, "导入时发生内部错误，未保存任何数据"
	}
	if j.Status != ImportDone || j.Created+j.Updated == 0 {
		errJSON, _ := json.Marshal(nonNil(j.Errors))
		err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
			// A job cancelled from another node keeps that node's record.
			_, err := tx.ExecContext(ctx, `UPDATE catalog_imports SET status = $1, total_rows = $2, created = 0, updated = 0, message = $3, notice = $4, errors = $5, finished_at = $6 WHERE id = $7 AND status = $8`,
				j.Status, j.Total, j.Message, j.Notice, string(errJSON), s.now(), id, ImportRunning)
			return err
		})
		if err != nil {
			s.imports.update(id, func(m *ImportJob) { m.Status, m.Message = j.Status, j.Message })
			return
		}
	}
	s.imports.mu.Lock()
	delete(s.imports.jobs, id)
	s.imports.mu.Unlock()
}

// ExportItems calls fn for each item p may see that matches q (status and
// name as for Items; the page is ignored), in implementation-code order,
// with its latest elements: the draft version if there is one, else the
// published one. Items are read 500 at a time, so memory stays flat.
func (s *Service) ExportItems(ctx context.Context, p *authz.Principal, q ItemQuery, fn func(Record, Item) error) error {
	const op = "catalog.Service.ExportItems"
	last := ""
	for {
		w, err := itemFilter(p, q, op)
		if err != nil {
			return err
		}
		w.Add("i.code > ?", last)
		lim, args := w.Page(500, 0)
		rows, err := s.db.R.QueryContext(ctx, `SELECT `+prefixed("i.", recordColumns)+`, v.data FROM catalog_items i
			JOIN catalog_item_versions v ON v.item_id = i.id AND v.version_no = CASE WHEN i.draft_version > 0 THEN i.draft_version ELSE i.published_version END`+
			w.String()+` ORDER BY i.code ASC`+lim, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		type rec struct {
			r    Record
			data string
		}
		var batch []rec
		for rows.Next() {
			var x rec
			var sc scanFunc = func(dest ...any) error { return rows.Scan(append(dest, &x.data)...) }
			if x.r, err = scanRecord(sc); err != nil {
				rows.Close()
				return fmt.Errorf("%s: %w", op, err)
			}
			batch = append(batch, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		for _, x := range batch {
			var it Item
			if err := json.Unmarshal([]byte(x.data), &it); err != nil {
				return fmt.Errorf("%s: stored elements of %s: %w", op, x.r.Code, err)
			}
			if err := fn(x.r, it); err != nil {
				return err
			}
		}
		if len(batch) < 500 {
			return nil
		}
		last = batch[len(batch)-1].r.Code
	}
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }
