package catalog_test

import (
	"context"
	"testing"

	"yiwang/internal/catalog"
	"yiwang/internal/org"
	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/outbox"
	"yiwang/internal/platform/sqldb"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

type env struct {
	ctx                        context.Context
	db                         *sqldb.DB
	svc                        *catalog.Service
	health, baotou             org.Department
	editor, reviewer, outsider *authz.Principal
}

func setup(t *testing.T, eng sqldbtest.Engine) *env {
	t.Helper()
	ctx := t.Context()
	if _, err := org.LoadRegions(ctx, eng.DB, "2026-11-25"); err != nil {
		t.Fatal(err)
	}
	orgs := org.NewService(eng.DB)
	root := &authz.Principal{UserID: "system", Grants: []authz.Grant{{Role: authz.PlatformAdmin, Region: "150000"}}}
	e := &env{ctx: ctx, db: eng.DB, svc: catalog.NewService(eng.DB, orgs)}
	var err error
	if e.health, err = orgs.CreateDepartment(ctx, root, org.DeptInput{Name: "呼和浩特市卫生健康委员会", Region: "150100", USCC: "91350100M000100Y43"}); err != nil {
		t.Fatal(err)
	}
	if e.baotou, err = orgs.CreateDepartment(ctx, root, org.DeptInput{Name: "包头市卫生健康委员会", Region: "150200"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.LoadTypes(ctx); err != nil {
		t.Fatal(err)
	}
	e.editor = &authz.Principal{UserID: "editor", Name: "编辑", Grants: []authz.Grant{{Role: authz.DeptAdmin, Region: "150100", DeptID: e.health.ID, DeptPath: e.health.Path}}}
	e.reviewer = &authz.Principal{UserID: "reviewer", Name: "审核", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150100"}}}
	e.outsider = &authz.Principal{UserID: "outsider", Name: "包头", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150200"}}}
	return e
}

func (e *env) item() catalog.Item {
	it := birth()
	it.DeptID, it.DeptUSCC = e.health.ID, ""
	return it
}

func TestLifecycleAndVersions(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := setup(t, eng)
			r, err := e.svc.Create(e.ctx, e.editor, e.item())
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != catalog.StatusDraft || r.DraftVersion != 1 || len(r.Code) != 31 {
				t.Fatalf("created %+v", r)
			}
			if _, _, err := e.svc.Published(e.ctx, r.Code); errs.KindOf(err) != errs.NotFound {
				t.Fatalf("draft visible to citizens: %v", err)
			}
			if _, err := e.svc.Create(e.ctx, e.editor, e.item()); errs.KindOf(err) != errs.Invalid {
				t.Fatalf("second item with the same code: %v, want Invalid", err)
			}
			changed := e.item()
			changed.Conditions = "在本市出生"
			if r, err = e.svc.SaveDraft(e.ctx, e.editor, r.ID, changed, r.Version); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.SaveDraft(e.ctx, e.editor, r.ID, changed, r.Version-1); errs.KindOf(err) != errs.Conflict {
				t.Fatalf("stale save: %v, want Conflict", err)
			}
			if err := e.svc.Submit(e.ctx, e.editor, r.ID, r.Version); err != nil {
				t.Fatal(err)
			}
			r = reload(t, e, r.ID)
			if _, err := e.svc.SaveDraft(e.ctx, e.editor, r.ID, changed, r.Version); errs.KindOf(err) != errs.Conflict {
				t.Fatalf("edit while submitted: %v, want Conflict", err)
			}
			if err := e.svc.Review(e.ctx, e.editor, r.ID, true, "", r.Version); errs.KindOf(err) != errs.Forbidden {
				t.Fatalf("editor approves: %v, want Forbidden", err)
			}
			if err := e.svc.Review(e.ctx, e.reviewer, r.ID, false, "", r.Version); errs.KindOf(err) != errs.Invalid {
				t.Fatalf("reject without a reason: %v, want Invalid", err)
			}
			if err := e.svc.Review(e.ctx, e.reviewer, r.ID, true, "同意", r.Version); err != nil {
				t.Fatal(err)
			}
			r = reload(t, e, r.ID)
			_, pub, err := e.svc.Published(e.ctx, r.Code)
			if err != nil || pub.Conditions != "在本市出生" || r.Status != catalog.StatusPublished || r.PublishedVersion != 1 {
				t.Fatalf("published %+v, %v", r, err)
			}
			// Editing a published item makes version 2; version 1 stays as published.
			v2 := e.item()
			v2.Conditions = "在本市助产机构出生"
			if r, err = e.svc.SaveDraft(e.ctx, e.editor, r.ID, v2, r.Version); err != nil {
				t.Fatal(err)
			}
			if r.DraftVersion != 2 {
				t.Fatalf("draft version = %d, want 2", r.DraftVersion)
			}
			if _, pub, _ := e.svc.Published(e.ctx, r.Code); pub.Conditions != "在本市出生" {
				t.Fatalf("published elements changed by a draft: %q", pub.Conditions)
			}
			if err := e.svc.Submit(e.ctx, e.editor, r.ID, r.Version); err != nil {
				t.Fatal(err)
			}
			r = reload(t, e, r.ID)
			if err := e.svc.Review(e.ctx, e.reviewer, r.ID, false, "补充受理条件依据", r.Version); err != nil {
				t.Fatal(err)
			}
			r = reload(t, e, r.ID)
			if err := e.svc.Submit(e.ctx, e.editor, r.ID, r.Version); err != nil {
				t.Fatal(err)
			}
			r = reload(t, e, r.ID)
			if err := e.svc.Review(e.ctx, e.reviewer, r.ID, true, "", r.Version); err != nil {
				t.Fatal(err)
			}
			_, vs, err := e.svc.Versions(e.ctx, e.reviewer, r.ID)
			if err != nil || len(vs) != 2 || vs[0].Status != catalog.VersionPublished || vs[1].Status != catalog.VersionSuperseded || vs[1].Item.Conditions != "在本市出生" {
				t.Fatalf("versions = %+v, %v", vs, err)
			}
			if d := catalog.Diff(vs[1].Item, vs[0].Item); len(d) != 1 || d[0].Field != "conditions" {
				t.Errorf("Diff(v1, v2) = %+v, want one change to conditions", d)
			}
			// Published versions are cached: the new one shows at once, and a
			// caller changing what it got changes nothing for the next.
			_, pub2, err := e.svc.Published(e.ctx, r.Code)
			if err != nil || pub2.Conditions != "在本市助产机构出生" {
				t.Fatalf("published after v2: %q %v", pub2.Conditions, err)
			}
			// A case filed under v1 still reads v1; a draft version is not a published one.
			if v1, err := e.svc.PublishedVersion(e.ctx, r.ID, 1); err != nil || v1.Conditions != "在本市出生" {
				t.Fatalf("superseded v1: %q %v", v1.Conditions, err)
			}
			if _, err := e.svc.PublishedVersion(e.ctx, r.ID, 9); errs.KindOf(err) != errs.NotFound {
				t.Fatalf("missing version: %v", err)
			}
			pub2.Conditions, pub2.Materials[0].Name = "改了", "改了"
			if _, again, _ := e.svc.Published(e.ctx, r.Code); again.Conditions != "在本市助产机构出生" || again.Materials[0].Name == "改了" {
				t.Fatalf("a caller's change reached the cache: %+v", again)
			}
			// Suspend, resume, revoke.
			r = reload(t, e, r.ID)
			if err := e.svc.SetStatus(e.ctx, e.editor, r.ID, catalog.StatusSuspended, "", r.Version); errs.KindOf(err) != errs.Forbidden {
				t.Fatalf("editor suspends: %v, want Forbidden", err)
			}
			for _, st := range []string{catalog.StatusSuspended, catalog.StatusPublished, catalog.StatusRevoked} {
				r = reload(t, e, r.ID)
				if err := e.svc.SetStatus(e.ctx, e.reviewer, r.ID, st, "", r.Version); err != nil {
					t.Fatalf("SetStatus(%s): %v", st, err)
				}
			}
			r = reload(t, e, r.ID)
			if err := e.svc.SetStatus(e.ctx, e.reviewer, r.ID, catalog.StatusPublished, "", r.Version); errs.KindOf(err) != errs.Conflict {
				t.Fatalf("resume a revoked item: %v, want Conflict", err)
			}
			if _, _, err := e.svc.Published(e.ctx, r.Code); errs.KindOf(err) != errs.NotFound {
				t.Fatalf("revoked item visible: %v", err)
			}
			// Out of scope: looks absent.
			if _, _, err := e.svc.Versions(e.ctx, e.outsider, r.ID); errs.KindOf(err) != errs.NotFound {
				t.Fatalf("outsider reads versions: %v, want NotFound", err)
			}
			var events int
			if err := e.db.R.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM outbox WHERE topic = $1`, catalog.TopicItemChanged).Scan(&events); err != nil || events != 5 {
				t.Errorf("item-changed events = %d, %v; want 5 (2 publications, suspend, resume, revoke)", events, err)
			}
			if rep, err := audit.Verify(e.ctx, e.db); err != nil || !rep.OK {
				t.Fatalf("audit = %+v, %v", rep, err)
			}
		})
	}
}

func TestCreateChecksDepartmentAndScope(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := setup(t, eng)
			it := e.item()
			it.DeptID = e.baotou.ID
			if _, err := e.svc.Create(e.ctx, e.editor, it); errs.KindOf(err) != errs.Invalid {
				t.Fatalf("create for an unreachable department: %v, want Invalid (looks absent)", err)
			}
			if _, err := e.svc.Create(e.ctx, e.outsider, e.item()); errs.KindOf(err) != errs.Invalid {
				t.Fatalf("outsider creates for Hohhot: %v, want Invalid", err)
			}
			clerk := &authz.Principal{UserID: "c", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150100"}}}
			if _, err := e.svc.Create(e.ctx, clerk, e.item()); errs.KindOf(err) != errs.Forbidden {
				t.Fatalf("clerk creates: %v, want Forbidden", err)
			}
			it = e.item()
			it.DeptID = e.baotou.ID
			if _, err := e.svc.Create(e.ctx, e.outsider, it); errs.KindOf(err) != errs.Invalid {
				t.Fatalf("department without credit code: %v, want Invalid", err)
			}
		})
	}
}

func TestDepartmentMoveReachesItems(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := setup(t, eng)
			r, err := e.svc.Create(e.ctx, e.editor, e.item())
			if err != nil {
				t.Fatal(err)
			}
			orgs := org.NewService(eng.DB)
			root := &authz.Principal{UserID: "system", Grants: []authz.Grant{{Role: authz.PlatformAdmin, Region: "150000"}}}
			parent, err := orgs.CreateDepartment(e.ctx, root, org.DeptInput{Name: "呼和浩特市人民政府办公室", Region: "150100"})
			if err != nil {
				t.Fatal(err)
			}
			d, _ := orgs.Department(e.ctx, root, e.health.ID)
			moved, err := orgs.UpdateDepartment(e.ctx, root, d.ID, org.DeptInput{Name: d.Name, USCC: d.USCC, Region: d.Region, ParentID: parent.ID, Version: d.Version})
			if err != nil {
				t.Fatal(err)
			}
			w := outbox.NewWorker(eng.DB, outbox.Options{})
			w.Handle(org.TopicDepartmentMoved, e.svc.OnDepartmentMoved)
			if n, err := w.RunOnce(e.ctx); err != nil || n != 1 {
				t.Fatalf("RunOnce = %d, %v", n, err)
			}
			if got := reload(t, e, r.ID); got.DeptPath != moved.Path {
				t.Fatalf("item dept path %q, want %q", got.DeptPath, moved.Path)
			}
		})
	}
}

func reload(t *testing.T, e *env, id string) catalog.Record {
	t.Helper()
	r, _, err := e.svc.Versions(e.ctx, e.reviewer, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTemplatesParse(t *testing.T) {
	if _, err := catalog.Pages(); err != nil {
		t.Fatal(err)
	}
}
