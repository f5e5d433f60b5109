package catalog_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"yiwang/internal/catalog"
	"yiwang/internal/platform/outbox"
	"yiwang/internal/platform/search"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// publish creates it, submits and approves it, and returns its record.
func publish(t *testing.T, e *env, it catalog.Item) catalog.Record {
	t.Helper()
	r, err := e.svc.Create(e.ctx, e.editor, it)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Submit(e.ctx, e.editor, r.ID, r.Version); err != nil {
		t.Fatal(err)
	}
	r = reload(t, e, r.ID)
	if err := e.svc.Review(e.ctx, e.reviewer, r.ID, true, "", r.Version); err != nil {
		t.Fatal(err)
	}
	return reload(t, e, r.ID)
}

// rename publishes a new version of the item with another name.
func rename(e *env, r catalog.Record, name string) error {
	it := e.item()
	it.Name = name
	r, err := e.svc.SaveDraft(e.ctx, e.editor, r.ID, it, r.Version)
	if err != nil {
		return err
	}
	if err := e.svc.Submit(e.ctx, e.editor, r.ID, r.Version); err != nil {
		return err
	}
	r, _, err = e.svc.Versions(e.ctx, e.reviewer, r.ID)
	if err != nil {
		return err
	}
	return e.svc.Review(e.ctx, e.reviewer, r.ID, true, "", r.Version)
}

// codes returns the codes of the hits for text.
func codes(f *catalog.Finder, e *env, text string) ([]string, error) {
	res, err := f.Search(e.ctx, search.Query{Text: text})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.Code)
	}
	return out, nil
}

// openFinder opens the finder at path and starts it; Close runs at cleanup
// unless the test closed it.
func openFinder(t *testing.T, e *env, path string, afterBuild func()) *catalog.Finder {
	t.Helper()
	f, err := catalog.OpenFinder(e.svc, path)
	if err != nil {
		t.Fatal(err)
	}
	if afterBuild != nil {
		catalog.SetAfterBuild(f, afterBuild)
	}
	if err := f.Start(e.ctx, nil); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestFinderRestart: the first start builds the index before serving; a
// restart serves from the file the first run left while the rebuild runs
// in the background, then from the rebuilt file, which the next start uses.
func TestFinderRestart(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := setup(t, eng)
			r := publish(t, e, e.item())
			path := filepath.Join(t.TempDir(), "items.db")
			want := func(f *catalog.Finder, file string) {
				t.Helper()
				if got := catalog.IndexFile(f); got != file {
					t.Errorf("serving from %s, want %s", got, file)
				}
				if got, err := codes(f, e, "出生"); err != nil || len(got) != 1 || got[0] != r.Code {
					t.Errorf("Search(出生) = %q, %v; want [%s]", got, err, r.Code)
				}
			}

			f := openFinder(t, e, path, nil) // first start: built before Start returns
			want(f, "items.db")
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}

			built, release := make(chan struct{}), make(chan struct{})
			f = openFinder(t, e, path, func() { close(built); <-release })
			want(f, "items.db") // Start returned before the rebuild ended
			<-built
			want(f, "items.db") // the new file is complete but not yet swapped in
			close(release)
			catalog.WaitRebuild(f)
			next := catalog.IndexFile(f)
			if !strings.HasPrefix(next, "items-") || !strings.HasSuffix(next, ".db") {
				t.Fatalf("after the background rebuild, serving from %s, want items-….db", next)
			}
			want(f, next)
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("the old index file is still there: %v", err)
			}
			if b, err := os.ReadFile(path + ".current"); err != nil || strings.TrimSpace(string(b)) != next {
				t.Errorf("pointer file = %q, %v; want %s", b, err, next)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}

			// A rebuild that never finished leaves a file that the next start removes.
			stale := filepath.Join(filepath.Dir(path), "items-1.db")
			if err := os.WriteFile(stale, []byte("partial"), 0o600); err != nil {
				t.Fatal(err)
			}
			f = openFinder(t, e, path, nil)
			want(f, next)
			catalog.WaitRebuild(f)
			if _, err := os.Stat(stale); !os.IsNotExist(err) {
				t.Errorf("the stale file is still there: %v", err)
			}
			want(f, catalog.IndexFile(f))
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestFinderChangeDuringRebuild changes an item after a background rebuild
// has read the database: the old index gets the change at once, and the
// new one when it is swapped in.
func TestFinderChangeDuringRebuild(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := setup(t, eng)
			r := publish(t, e, e.item())
			path := filepath.Join(t.TempDir(), "items.db")
			f := openFinder(t, e, path, nil)
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			w := outbox.NewWorker(e.db, outbox.Options{})
			drain := func() error {
				for {
					n, err := w.RunOnce(e.ctx)
					if err != nil || n == 0 {
						return err
					}
				}
			}
			var during []string
			f = openFinder(t, e, path, func() {
				// The new file holds the item as it was; now it changes.
				if err := rename(e, r, "新生儿出生医学证明换发"); err != nil {
					t.Error(err)
					return
				}
				if err := drain(); err != nil {
					t.Error(err)
					return
				}
				var err error
				if during, err = codes(f, e, "换发"); err != nil {
					t.Error(err)
				}
			})
			defer f.Close()
			w.Handle(catalog.TopicItemChanged, f.OnItemChanged)
			old := catalog.IndexFile(f)
			catalog.WaitRebuild(f)
			if catalog.IndexFile(f) == old {
				t.Fatalf("still serving from %s after the background rebuild", old)
			}
			if len(during) != 1 || during[0] != r.Code {
				t.Errorf("during the rebuild, Search(换发) = %q, want [%s] (from the old index)", during, r.Code)
			}
			if got, err := codes(f, e, "换发"); err != nil || len(got) != 1 || got[0] != r.Code {
				t.Errorf("after the rebuild, Search(换发) = %q, %v; want [%s]", got, err, r.Code)
			}
			if got, err := codes(f, e, "首次签发"); err != nil || len(got) != 0 {
				t.Errorf("after the rebuild, Search(首次签发) = %q, %v; want nothing (the old name)", got, err)
			}
		})
	}
}
