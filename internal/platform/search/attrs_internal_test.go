package search

import (
	"fmt"
	"reflect"
	"testing"
)

// TestAttrsCompact replaces and deletes documents until the arena is
// compacted several times, and checks every document's tags against a
// plain map.
func TestAttrsCompact(t *testing.T) {
	a := newAttrs()
	want := map[int64][]string{}
	const docs = 5000
	for round := range 60 {
		for n := int64(1); n <= docs; n++ {
			if (n+int64(round))%7 == 0 {
				a.del(n)
				delete(want, n)
				continue
			}
			var tags []docTag
			var names []string
			for k := range 1 + (n+int64(round))%4 {
				v := fmt.Sprintf("v%d", (n+k)%9)
				tags = append(tags, docTag{tag: facetTag(int(k), v), pos: int(k), value: v})
				names = append(names, facetTag(int(k), v))
			}
			a.set(n, tags)
			want[n] = names
		}
	}
	if a.unused >= len(a.arena) {
		t.Fatalf("arena never compacted: %d unused of %d", a.unused, len(a.arena))
	}
	if a.docs != len(want) {
		t.Errorf("docs = %d, want %d", a.docs, len(want))
	}
	for n := int64(0); n <= docs+1; n++ {
		w, ok := want[n]
		got := a.tags(n)
		if !ok {
			if got != nil || (int(n) < len(a.live) && a.live[n]) {
				t.Fatalf("doc %d is deleted but has tags %v", n, got)
			}
			continue
		}
		var names []string
		for _, id := range got {
			names = append(names, facetTagOf(a, id))
		}
		if !reflect.DeepEqual(names, w) {
			t.Fatalf("doc %d has tags %v, want %v", n, names, w)
		}
	}
}

func facetTagOf(a *attrs, id uint32) string { return facetTag(a.tagFacet[id], a.tagValue[id]) }
