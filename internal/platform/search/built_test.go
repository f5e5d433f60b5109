package search_test

import (
	"path/filepath"
	"testing"

	"yiwang/internal/platform/search"
)

// TestBuilt checks that only a completed Rebuild marks a file as built,
// that the mark survives reopening, and that a schema change clears it.
func TestBuilt(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "search.db")
	built := func(ix *search.Index, want bool) {
		t.Helper()
		if _, ok, err := ix.Built(ctx); err != nil || ok != want {
			t.Fatalf("Built = %v, %v; want %v", ok, err, want)
		}
	}
	ix, err := search.Open(path, schema)
	if err != nil {
		t.Fatal(err)
	}
	built(ix, false)
	if err := ix.Upsert(ctx, corpus...); err != nil {
		t.Fatal(err)
	}
	built(ix, false)
	i := 0
	if _, err := ix.Rebuild(ctx, func() (search.Doc, bool, error) {
		if i == len(corpus) {
			return search.Doc{}, false, nil
		}
		i++
		return corpus[i-1], true, nil
	}); err != nil {
		t.Fatal(err)
	}
	built(ix, true)
	if err := ix.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	if ix, err = search.Open(path, schema); err != nil {
		t.Fatal(err)
	}
	built(ix, true)
	ix.Close()
	other := search.Schema{Fields: []search.Field{{Name: "name", Weight: 1}}}
	if ix, err = search.Open(path, other); err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	built(ix, false)
}
