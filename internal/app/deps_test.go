package app_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
)

// depLayers declares each domain's layer as the domains it may import. A domain
// may import only domains on lower layers (their exported types and
// services); news flowing upward or sideways travels as outbox events. Keep
// this table and the layer list in docs/architecture.md in step.
//
// Adding a domain is one line here. The planned ones, for when they arrive
// (a domain lists only the lower domains it actually uses):
//
//	// layer 0, beside org
//	"calendar": {},
//	// layer 2: catalog, identity, license and exchange share a layer,
//	// so none of them imports another
//	"catalog":  {"org", "calendar", "staff"},
//	"identity": {"org", "calendar", "staff"},
//	"license":  {"org", "calendar", "staff"},
//	"exchange": {"org", "calendar", "staff"},
//	// layer 3
//	"cases": {"org", "calendar", "staff", "catalog", "identity", "license", "exchange"},
//	// layer 4
//	"evaluation": {"org", "calendar", "staff", "catalog", "identity", "license", "exchange", "cases"},
var depLayers = map[string][]string{
	"org":      {}, // bottom layer
	"calendar": {}, // bottom layer, beside org
	"staff":    {"org"},
	// layer 2
	"catalog":  {"org", "staff"},
	"identity": {},
	// layer 3
	"cases": {"org", "calendar", "catalog", "identity"},
}

const (
	depModule   = "yiwang"
	depInternal = depModule + "/internal/"
	depApp      = depInternal + "app"
	depUI       = depInternal + "ui"
	depWeb      = depInternal + "platform/web"
	depCmd      = depModule + "/cmd/yiwang"
)

// depNotDomains are the folders under internal/ that are not domains.
var depNotDomains = []string{"app", "config", "platform", "ui"}

// depPkg is what `go list -json` reports of one package.
type depPkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// TestDepsRule checks the dependency rule of docs/architecture.md:
// cmd → app → domains → platform, ui; domains only import lower layers.
func TestDepsRule(t *testing.T) {
	pkgs := depList(t)
	for _, p := range pkgs {
		for _, imp := range p.Imports {
			if msg := depViolation(p.ImportPath, imp, false); msg != "" {
				t.Errorf("%s imports %s: %s", p.ImportPath, imp, msg)
			}
		}
		for _, imp := range slices.Concat(p.TestImports, p.XTestImports) {
			if msg := depViolation(p.ImportPath, imp, true); msg != "" {
				t.Errorf("tests of %s import %s: %s", p.ImportPath, imp, msg)
			}
		}
	}
}

// TestDepsLayersDeclared fails for a domain without a line in depLayers, and
// for a depLayers table that names a missing domain or is not a hierarchy.
func TestDepsLayersDeclared(t *testing.T) {
	present := map[string]bool{}
	for _, p := range depList(t) {
		if d := depDomain(p.ImportPath); d != "" {
			present[d] = true
		}
	}
	for _, d := range depSortedKeys(present) {
		if _, ok := depLayers[d]; !ok {
			t.Errorf("domain %q (internal/%s) has no layer: add a line for it to depLayers in internal/app/deps_test.go "+
				"listing the lower domains it may import, and put it in the layer list in docs/architecture.md", d, d)
		}
	}
	for _, d := range depSortedKeys(depLayers) {
		if !present[d] {
			t.Errorf("depLayers declares %q but there is no package yiwang/internal/%s: remove the line or fix the name", d, d)
		}
		for _, low := range depLayers[d] {
			if _, ok := depLayers[low]; !ok {
				t.Errorf("depLayers lets %q import %q, which is not declared", d, low)
			}
		}
	}
	// The "may import" relation must have no cycle, or it is not layered.
	state := map[string]int{} // 0 unseen, 1 on the current path, 2 done
	var visit func(d string, path []string)
	visit = func(d string, path []string) {
		switch state[d] {
		case 1:
			t.Errorf("depLayers has a cycle: %s", strings.Join(append(path, d), " → "))
			return
		case 2:
			return
		}
		state[d] = 1
		for _, low := range depLayers[d] {
			visit(low, append(path, d))
		}
		state[d] = 2
	}
	for _, d := range depSortedKeys(depLayers) {
		visit(d, nil)
	}
}

// depViolation returns why from may not import imp, or "" when it may. Tests
// (test is true) may also import app and app/apptest.
func depViolation(from, imp string, test bool) string {
	if !strings.HasPrefix(imp, depInternal) {
		return "" // standard library, third-party, yiwang/migrations
	}
	fromDomain, impDomain := depDomain(from), depDomain(imp)
	if depInApp(imp) && !depInApp(from) {
		if test || from == depCmd {
			return ""
		}
		return "only cmd/yiwang, internal/app/apptest and tests import app, the composition root; app imports domains, never the reverse"
	}
	switch {
	case depIsPlatform(from):
		if impDomain != "" {
			return "platform packages import no domain; declare an interface in platform and let app wire the domain in"
		}
		if depUnder(imp, depUI) && !depUnder(from, depWeb) {
			return "only platform/web may import ui (to render the error and API docs pages)"
		}
	case depUnder(from, depUI):
		if impDomain != "" {
			return "ui imports no domain; domains hand ui their page data"
		}
	case fromDomain != "":
		if impDomain == "" || impDomain == fromDomain {
			return ""
		}
		allowed, declared := depLayers[fromDomain]
		if !declared {
			return "" // reported by TestDepsLayersDeclared
		}
		if !slices.Contains(allowed, impDomain) {
			return "domain " + fromDomain + " may import only " + depAllowed(allowed) +
				" (depLayers in internal/app/deps_test.go and docs/architecture.md); send an outbox event, " +
				"or declare an interface that app wires, instead"
		}
	}
	return ""
}

func depAllowed(allowed []string) string {
	if len(allowed) == 0 {
		return "platform and ui (it is on the bottom layer)"
	}
	return "platform, ui and " + strings.Join(allowed, ", ")
}

// depDomain returns the domain a package belongs to ("org" for
// yiwang/internal/org and its subpackages), or "" for any other package.
func depDomain(path string) string {
	rest, ok := strings.CutPrefix(path, depInternal)
	if !ok {
		return ""
	}
	top, _, _ := strings.Cut(rest, "/")
	if slices.Contains(depNotDomains, top) {
		return ""
	}
	return top
}

func depIsPlatform(path string) bool { return depUnder(path, depInternal+"platform") }
func depInApp(path string) bool      { return depUnder(path, depApp) }

// depUnder reports whether path is pkg or one of its subpackages.
func depUnder(path, pkg string) bool { return path == pkg || strings.HasPrefix(path, pkg+"/") }

func depSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// depList runs `go list -json` over the module with the go command of
// the toolchain running the test.
func depList(t *testing.T) []depPkg {
	t.Helper()
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			t.Fatalf("no go command: not in GOROOT/bin (%s) nor on PATH", runtime.GOROOT())
		}
	}
	cmd := exec.Command(gobin, "list", "-json=ImportPath,Imports,TestImports,XTestImports", depModule+"/...")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []depPkg
	dec := json.NewDecoder(&stdout)
	for {
		var p depPkg
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 || !slices.ContainsFunc(pkgs, func(p depPkg) bool { return p.ImportPath == depApp }) {
		t.Fatalf("go list found %d packages and not %s: is the test running inside the module?", len(pkgs), depApp)
	}
	return pkgs
}

// TestDepsViolation checks the rule itself, so a refactor of depViolation
// cannot quietly allow everything.
func TestDepsViolation(t *testing.T) {
	tests := []struct {
		from, imp string
		test      bool
		bad       bool
	}{
		{from: depCmd, imp: depApp},
		{from: depApp + "/apptest", imp: depApp},
		{from: depInternal + "org", imp: depApp, test: true},
		{from: depInternal + "org", imp: depApp + "/apptest", test: true},
		{from: depInternal + "org", imp: depApp, bad: true},
		{from: depInternal + "org", imp: depApp + "/apptest", bad: true},
		{from: depInternal + "config", imp: depApp, bad: true},
		{from: depInternal + "platform/audit", imp: depApp, bad: true},
		{from: depInternal + "platform/audit", imp: depInternal + "platform/sqldb"},
		{from: depInternal + "platform/audit", imp: depInternal + "org", bad: true},
		{from: depInternal + "platform/audit", imp: depInternal + "org", test: true, bad: true},
		{from: depInternal + "platform/authz", imp: depUI, bad: true},
		{from: depWeb, imp: depUI},
		{from: depInternal + "platform/sqldb", imp: depModule + "/migrations"},
		{from: depUI, imp: depInternal + "platform/authz"},
		{from: depUI, imp: depInternal + "staff", bad: true},
		{from: depUI, imp: depApp, bad: true},
		{from: depInternal + "staff", imp: depInternal + "org"},
		{from: depInternal + "staff", imp: depUI},
		{from: depInternal + "staff", imp: depWeb},
		{from: depInternal + "org", imp: depInternal + "staff", bad: true},
		{from: depInternal + "org", imp: depInternal + "staff", test: true, bad: true},
		{from: depInternal + "org/sub", imp: depInternal + "org"},
	}
	for _, tc := range tests {
		got := depViolation(tc.from, tc.imp, tc.test)
		if (got != "") != tc.bad {
			t.Errorf("depViolation(%q, %q, test=%v) = %q, want bad=%v", tc.from, tc.imp, tc.test, got, tc.bad)
		}
	}
}
