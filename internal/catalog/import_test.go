package catalog_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"yiwang/internal/catalog"
	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// importCSV exports items (as the console would) into a CSV, with edit
// applied to each row's cells by header.
func importCSV(t testing.TB, items []catalog.Item, edit func(i int, row map[string]string)) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := catalog.NewCSVWriter(&b, catalog.DefaultTypes)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := w.Write(it); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if edit == nil {
		return b.Bytes()
	}
	recs, err := csv.NewReader(bytes.NewReader(b.Bytes()[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	headers := recs[0]
	var out bytes.Buffer
	cw := csv.NewWriter(&out)
	cw.Write(headers)
	for i, rec := range recs[1:] {
		row := map[string]string{}
		for j, h := range headers {
			row[h] = rec[j]
		}
		edit(i, row)
		for j, h := range headers {
			rec[j] = row[h]
		}
		cw.Write(rec)
	}
	cw.Flush()
	return out.Bytes()
}

var large = flag.Bool("large", false, "TestImportLarge imports catalog.MaxImportRows rows")

// itemsFor makes n valid items for the Hohhot health commission, each
// with its own basic code.
func (e *env) itemsFor(n int) []catalog.Item {
	var out []catalog.Item
	for i := range n {
		it := e.item()
		it.BasicCode = catalog.BasicCode("150000", "GG", 500+i, 0)
		it.Name = fmt.Sprintf("出生医学证明首次签发（第%d类）", i+1)
		it.DeptName, it.DeptUSCC = e.health.Name, e.health.USCC
		out = append(out, it)
	}
	return out
}

// runImport starts an import and waits for it to end.
func runImport(t *testing.T, e *env, p *authz.Principal, data []byte, mode catalog.ImportMode) catalog.ImportJob {
	t.Helper()
	ctx := audit.WithActor(e.ctx, audit.Actor{ID: p.UserID, Name: p.Name})
	job, err := e.svc.StartImport(ctx, p, "items.csv", data, mode)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		j, err := e.svc.ImportJob(e.ctx, p, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !j.Running() {
			// Once done in memory, wait until the outcome is persisted too.
			if err := e.svc.WaitImports(e.ctx); err != nil {
				t.Fatal(err)
			}
			j, err = e.svc.ImportJob(e.ctx, p, job.ID)
			if err != nil {
				t.Fatal(err)
			}
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("import still running: %+v", j)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countItems(t *testing.T, e *env) int {
	t.Helper()
	var n int
	if err := e.db.R.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM catalog_items`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportAllOrNothing(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := setup(t, eng)
			items := e.itemsFor(5)
			data := importCSV(t, items, func(i int, row map[string]string) {
				switch i {
				case 1:
					row["事项名称"] = ""
				case 3:
					row["办件类型"] = "急办件"
					row["到办事现场次数"] = "1" // and Ⅳ级 needs 0 visits: reported once the cell parses
				}
			})
			j := runImport(t, e, e.editor, data, catalog.ImportAll)
			if j.Status != catalog.ImportRejected || j.Created != 0 || j.Total != 5 || j.BadRows() != 2 {
				t.Fatalf("job = %+v", j)
			}
			if got := fmt.Sprint(j.Errors); !strings.Contains(got, "{3 事项名称") || !strings.Contains(got, "{5 办件类型") {
				t.Errorf("errors = %v, want rows 3 and 5 with their columns", j.Errors)
			}
			if n := countItems(t, e); n != 0 {
				t.Fatalf("%d items written by a rejected import", n)
			}
			// The same file, valid rows only: three items, the two bad rows reported.
			j = runImport(t, e, e.editor, data, catalog.ImportValid)
			if j.Status != catalog.ImportDone || j.Created != 3 || j.Updated != 0 || j.BadRows() != 2 {
				t.Fatalf("valid-only job = %+v", j)
			}
			if n := countItems(t, e); n != 3 {
				t.Fatalf("items = %d, want 3", n)
			}
			// A clean file: everything; the three become new drafts of their items.
			j = runImport(t, e, e.editor, importCSV(t, items, nil), catalog.ImportAll)
			if j.Status != catalog.ImportDone || j.Created != 2 || j.Updated != 3 || len(j.Errors) != 0 {
				t.Fatalf("clean job = %+v", j)
			}
			var audits int
			if err := e.db.R.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM audit_log WHERE action IN ('catalog.item.create', 'catalog.item.draft', 'catalog.items.import')`).Scan(&audits); err != nil || audits != 3+1+5+1 {
				t.Errorf("audit entries = %d, %v; want one per item written plus one per import", audits, err)
			}
			if rep, err := audit.Verify(e.ctx, e.db); err != nil || !rep.OK {
				t.Fatalf("audit = %+v, %v", rep, err)
			}
		})
	}
}

func TestImportUpdatesMakeNewDrafts(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := setup(t, eng)
			r, err := e.svc.Create(e.ctx, e.editor, e.item())
			if err != nil {
				t.Fatal(err)
			}
			if err := e.svc.Submit(e.ctx, e.editor, r.ID, r.Version); err != nil {
				t.Fatal(err)
			}
			changed := e.item()
			changed.DeptName, changed.DeptUSCC = e.health.Name, e.health.USCC
			changed.Conditions = "导入修改的受理条件"
			// Waiting for review: the row is refused.
			j := runImport(t, e, e.editor, importCSV(t, []catalog.Item{changed}, nil), catalog.ImportAll)
			if j.Status != catalog.ImportRejected || !strings.Contains(fmt.Sprint(j.Errors), "待审核") {
				t.Fatalf("import over a submitted version = %+v", j)
			}
			r = reload(t, e, r.ID)
			if err := e.svc.Review(e.ctx, e.reviewer, r.ID, true, "", r.Version); err != nil {
				t.Fatal(err)
			}
			j = runImport(t, e, e.editor, importCSV(t, []catalog.Item{changed}, nil), catalog.ImportAll)
			if j.Status != catalog.ImportDone || j.Updated != 1 || j.Created != 0 {
				t.Fatalf("job = %+v", j)
			}
			r = reload(t, e, r.ID)
			_, vs, err := e.svc.Versions(e.ctx, e.reviewer, r.ID)
			if err != nil || r.DraftVersion != 2 || r.PublishedVersion != 1 || vs[0].Item.Conditions != "导入修改的受理条件" || vs[0].Status != catalog.VersionDraft {
				t.Fatalf("after import: %+v, versions %+v, %v", r, vs, err)
			}
			if _, pub, _ := e.svc.Published(e.ctx, r.Code); pub.Conditions == "导入修改的受理条件" {
				t.Fatal("import changed the published version")
			}
		})
	}
}

func TestImportScope(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := setup(t, eng)
			items := e.itemsFor(2)
			// 包头 has no credit code; name a department the editor cannot see
			// by giving the health commission's code to the outsider.
			j := runImport(t, e, e.outsider, importCSV(t, items, nil), catalog.ImportValid)
			if j.Status != catalog.ImportDone || j.Created != 0 || j.BadRows() != 2 || !strings.Contains(fmt.Sprint(j.Errors), "不在您的管理范围内") {
				t.Fatalf("outsider's job = %+v", j)
			}
			// Inconsistent elements: department name and implementation code.
			data := importCSV(t, items, func(i int, row map[string]string) {
				if i == 0 {
					row["实施主体"] = "别的部门"
				} else {
					row["实施编码"] = strings.Repeat("1", 31)
				}
			})
			j = runImport(t, e, e.editor, data, catalog.ImportAll)
			if got := fmt.Sprint(j.Errors); j.Status != catalog.ImportRejected || !strings.Contains(got, "{2 实施主体") || !strings.Contains(got, "{3 实施编码") {
				t.Fatalf("job = %+v", j)
			}
			// Duplicates within the file.
			j = runImport(t, e, e.editor, importCSV(t, append(items, items[0]), nil), catalog.ImportAll)
			if !strings.Contains(fmt.Sprint(j.Errors), "与第2行的实施编码相同") {
				t.Fatalf("duplicate rows: %+v", j)
			}
			// Jobs are their owner's (and reviewers' over the scope).
			if _, err := e.svc.ImportJob(e.ctx, e.outsider, j.ID); errs.KindOf(err) != errs.NotFound {
				t.Errorf("outsider sees the job: %v", err)
			}
			if _, err := e.svc.ImportJob(e.ctx, e.reviewer, j.ID); err != nil {
				t.Errorf("reviewer over the scope: %v", err)
			}
			clerk := &authz.Principal{UserID: "c", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150100"}}}
			if _, err := e.svc.StartImport(e.ctx, clerk, "a.csv", importCSV(t, items, nil), catalog.ImportAll); errs.KindOf(err) != errs.Forbidden {
				t.Errorf("clerk imports: %v, want Forbidden", err)
			}
			if n := countItems(t, e); n != 0 {
				t.Fatalf("%d items written", n)
			}
		})
	}
}

func TestImportBadFiles(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := setup(t, eng)
			if _, err := e.svc.StartImport(e.ctx, e.editor, "a.pdf", []byte("%PDF"), catalog.ImportAll); errs.KindOf(err) != errs.Invalid {
				t.Errorf("pdf: %v, want Invalid at once", err)
			}
			if _, err := e.svc.StartImport(e.ctx, e.editor, "a.csv", []byte("x"), "some"); errs.KindOf(err) != errs.Invalid {
				t.Errorf("bad mode: %v, want Invalid", err)
			}
			j := runImport(t, e, e.editor, []byte("姓名,电话\n张三,1\n"), catalog.ImportAll)
			if j.Status != catalog.ImportFailed || !strings.Contains(j.Message, "无法识别的列") {
				t.Fatalf("wrong headers: %+v", j)
			}
			j = runImport(t, e, e.editor, []byte(strings.Join(catalog.Headers(), ",")+"\n"), catalog.ImportAll)
			if j.Status != catalog.ImportFailed || !strings.Contains(j.Message, "没有事项") {
				t.Fatalf("header only: %+v", j)
			}
		})
	}
}

// TestImportLarge imports 2,000 generated rows (10,000 with -run
// TestImportLarge -large, see the log for times) and checks the job
// reports progress and ends with everything written.
func TestImportLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	n := 2000
	if *large {
		n = catalog.MaxImportRows
	}
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := setup(t, eng)
			items := e.itemsFor(n)
			// xlsx: 10,000 rows of CSV exceed the 8 MiB upload limit.
			x, err := catalog.NewXLSXWriter(catalog.DefaultTypes)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				if err := x.Write(it); err != nil {
					t.Fatal(err)
				}
			}
			var buf bytes.Buffer
			if err := x.Finish(&buf); err != nil {
				t.Fatal(err)
			}
			data := buf.Bytes()
			admin := &authz.Principal{UserID: "admin", Name: "管理员", Grants: []authz.Grant{{Role: authz.PlatformAdmin, Region: "150000"}}}
			start := time.Now()
			job, err := e.svc.StartImport(audit.WithActor(context.Background(), audit.Actor{ID: "admin", Name: "管理员"}), admin, "big.xlsx", data, catalog.ImportAll)
			if err != nil {
				t.Fatal(err)
			}
			phases := map[string]bool{}
			for {
				j, err := e.svc.ImportJob(e.ctx, admin, job.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !j.Running() {
					break
				}
				phases[j.Phase] = true
				time.Sleep(5 * time.Millisecond)
			}
			if err := e.svc.WaitImports(e.ctx); err != nil {
				t.Fatal(err)
			}
			j, _ := e.svc.ImportJob(e.ctx, admin, job.ID)
			t.Logf("%s: imported %d rows (%d KiB xlsx) in %v; phases seen while polling: %v", eng.Name, n, len(data)>>10, time.Since(start).Round(time.Millisecond), phases)
			if j.Status != catalog.ImportDone || j.Created != n {
				t.Fatalf("job = %+v", j)
			}
			if !phases[catalog.PhaseWrite] && !phases[catalog.PhaseCheck] {
				t.Errorf("no progress seen: %v", phases)
			}
			if c := countItems(t, e); c != n {
				t.Fatalf("items = %d, want %d", c, n)
			}
		})
	}
}

func TestExportItems(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := setup(t, eng)
			j := runImport(t, e, e.editor, importCSV(t, e.itemsFor(3), nil), catalog.ImportAll)
			if j.Created != 3 {
				t.Fatalf("job = %+v", j)
			}
			var names []string
			err := e.svc.ExportItems(e.ctx, e.editor, catalog.ItemQuery{Q: "第2类"}, func(r catalog.Record, it catalog.Item) error {
				names = append(names, it.Name)
				return nil
			})
			if err != nil || len(names) != 1 || names[0] != "出生医学证明首次签发（第2类）" {
				t.Fatalf("export = %v, %v", names, err)
			}
			names = nil
			if err := e.svc.ExportItems(e.ctx, e.outsider, catalog.ItemQuery{}, func(catalog.Record, catalog.Item) error { names = append(names, "x"); return nil }); err != nil || len(names) != 0 {
				t.Fatalf("outsider exports %d items, %v", len(names), err)
			}
		})
	}
}

// TestImportCancelFromAnotherNode cancels a job the way a node that is
// not running it does (CancelImport finds it only in catalog_imports): the
// running node notices at its next check and writes nothing; the record
// keeps the other node's outcome. A second cancel is a Conflict.
func TestImportCancelFromAnotherNode(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := setup(t, eng)
			other := catalog.NewService(e.db, nil) // another node: no jobs in memory
			var canceled catalog.ImportJob
			e.svc.SetImportHook(func(ctx context.Context, id, point string) {
				if point != "check" {
					return
				}
				var err error
				if canceled, err = other.CancelImport(ctx, e.editor, id); err != nil {
					t.Errorf("CancelImport on another node: %v", err)
				}
			})
			j := runImport(t, e, e.editor, importCSV(t, e.itemsFor(3), nil), catalog.ImportAll)
			if canceled.Status != catalog.ImportCanceled || j.Status != catalog.ImportCanceled || !strings.Contains(j.Message, "取消") || j.Finished.IsZero() {
				t.Fatalf("cancelled = %+v, job = %+v", canceled, j)
			}
			if n := countItems(t, e); n != 0 {
				t.Fatalf("%d items written by a cancelled import", n)
			}
			if _, err := other.CancelImport(e.ctx, e.editor, j.ID); errs.KindOf(err) != errs.Conflict {
				t.Errorf("second cancel: %v, want a Conflict", err)
			}
			if _, err := other.CancelImport(e.ctx, e.outsider, j.ID); errs.KindOf(err) != errs.NotFound {
				t.Errorf("cancel by an outsider: %v, want NotFound", err)
			}
		})
	}
}
