package catalog_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"yiwang/internal/catalog"
	"yiwang/internal/org"
	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/idcode"
	"yiwang/internal/platform/sqldb"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// birthItems are the items of the demo journey "a parent in 呼和浩特
// searches 出生".
var birthItems = []string{"出生医学证明首次签发", "新生儿入户（出生登记）", "生育登记", "新生儿参加城乡居民基本医疗保险", "出生一件事联办"}

// seedOrg loads the regions and the demo province's departments.
func seedOrg(t testing.TB, ctx context.Context, db *sqldb.DB) (*org.Service, org.DemoResult) {
	t.Helper()
	if _, err := org.LoadRegions(ctx, db, "2026-11-25"); err != nil {
		t.Fatal(err)
	}
	orgs := org.NewService(db)
	res, err := orgs.SeedDemo(ctx, "150000")
	if err != nil {
		t.Fatal(err)
	}
	return orgs, res
}

// genDepts lists every department with a credit code, for Generate.
func genDepts(t testing.TB, ctx context.Context, db *sqldb.DB) []catalog.GenDept {
	t.Helper()
	rows, err := db.R.QueryContext(ctx, `SELECT id, region_code, uscc FROM departments WHERE uscc IS NOT NULL ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []catalog.GenDept
	for rows.Next() {
		var d catalog.GenDept
		if err := rows.Scan(&d.ID, &d.Region, &d.USCC); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func TestSeedDemoAndGenerated(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := t.Context()
			start := time.Now()
			orgs, res := seedOrg(t, ctx, eng.DB)
			t.Logf("org.SeedDemo: %d departments in %v", res.Departments, time.Since(start).Round(time.Millisecond))
			svc := catalog.NewService(eng.DB, orgs)
			if err := svc.LoadTypes(ctx); err != nil {
				t.Fatal(err)
			}
			start = time.Now()
			n, err := svc.SeedDemo(ctx, "150000", res.DeptIDs)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("catalog.SeedDemo: %d items published in %v", n, time.Since(start).Round(time.Millisecond))
			if n < 300 || n > 600 {
				t.Errorf("SeedDemo published %d items, want 300–600", n)
			}
			levels := queryStrings(t, ctx, eng.DB, `SELECT CAST(level AS TEXT) || ':' || CAST(COUNT(*) AS TEXT) FROM catalog_items GROUP BY level ORDER BY level`)
			t.Logf("items by level: %v", levels)
			var published, cities, counties int
			q := `SELECT COUNT(*) FROM catalog_items WHERE status = $1 AND published_version = 1 AND draft_version = 0`
			if err := eng.DB.R.QueryRowContext(ctx, q, catalog.StatusPublished).Scan(&published); err != nil || published != n {
				t.Errorf("published rows = %d, %v; want %d", published, err, n)
			}
			if err := eng.DB.R.QueryRowContext(ctx, `SELECT COUNT(DISTINCT region_code) FROM catalog_items WHERE level = 3`).Scan(&cities); err != nil || cities != 12 {
				t.Errorf("cities with items = %d, %v; want all 12 盟市", cities, err)
			}
			if err := eng.DB.R.QueryRowContext(ctx, `SELECT COUNT(DISTINCT region_code) FROM catalog_items WHERE level = 4`).Scan(&counties); err != nil || counties != 4 {
				t.Errorf("counties with items = %d, %v; want 4", counties, err)
			}

			// The birth journey in 呼和浩特市.
			for _, name := range birthItems {
				var code string
				if err := eng.DB.R.QueryRowContext(ctx, `SELECT code FROM catalog_items WHERE region_code = $1 AND name = $2`, "150100", name).Scan(&code); err != nil {
					t.Errorf("%s in 150100: %v", name, err)
					continue
				}
				r, it, err := svc.Published(ctx, code)
				if err != nil || r.Level != 3 || it.Name != name || len(it.Materials) == 0 || !strings.HasPrefix(it.DeptName, "呼和浩特市") {
					t.Errorf("Published(%s) = %+v, %s with %d materials, dept %q, %v", code, r, it.Name, len(it.Materials), it.DeptName, err)
				}
			}

			// Every published item passes Check and carries its codes.
			types, err := svc.Types(ctx)
			if err != nil {
				t.Fatal(err)
			}
			codes := queryStrings(t, ctx, eng.DB, `SELECT code FROM catalog_items ORDER BY code`)
			for _, code := range codes {
				_, it, err := svc.Published(ctx, code)
				if err != nil {
					t.Fatalf("Published(%s): %v", code, err)
				}
				if err := it.Check(types); err != nil {
					t.Errorf("%s (%s): %v", it.Name, it.Region, err)
				}
				if it.Code != code || catalog.ImplementationCode(it.DeptUSCC, it.Level, it.BasicCode) != code {
					t.Errorf("%s: code %s, want %s", it.Name, it.Code, code)
				}
			}
			// Authors never approved their own versions.
			var self int
			if err := eng.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM catalog_item_versions WHERE author_id = reviewer_id`).Scan(&self); err != nil || self != 0 {
				t.Errorf("self-approved versions = %d, %v", self, err)
			}

			// Generated items on top of the demo catalogue.
			depts := genDepts(t, ctx, eng.DB)
			items := catalog.Generate(1000, 1, nil, depts)
			checkGenerated(t, items, 1000)
			start = time.Now()
			stored, err := svc.SeedGenerated(ctx, items)
			if err != nil || stored != len(items) {
				t.Fatalf("SeedGenerated = %d, %v", stored, err)
			}
			t.Logf("SeedGenerated: %d items in %v", stored, time.Since(start).Round(time.Millisecond))
			pick := items[rand.IntN(len(items))]
			r, it, err := svc.Published(ctx, pick.Code)
			if err != nil || it.Name != pick.Name || r.Status != catalog.StatusPublished || r.PublishedVersion != 1 || it.DeptName == "" || r.DeptPath == "" {
				t.Errorf("Published(generated %s) = %+v, %+v, %v", pick.Code, r, it, err)
			}
			var batches int
			if err := eng.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = $1`, "catalog.items.generate").Scan(&batches); err != nil || batches != 1 {
				t.Errorf("generate audit entries = %d, %v; want 1", batches, err)
			}
			if rep, err := audit.Verify(ctx, eng.DB); err != nil || !rep.OK {
				t.Fatalf("audit = %+v, %v", rep, err)
			}
		})
	}
}

func queryStrings(t *testing.T, ctx context.Context, db *sqldb.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.R.QueryContext(ctx, q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// checkGenerated asserts n valid items with unique names and codes.
func checkGenerated(t *testing.T, items []catalog.Item, n int) {
	t.Helper()
	if len(items) != n {
		t.Fatalf("Generate returned %d items, want %d", len(items), n)
	}
	names, codes := map[string]bool{}, map[string]bool{}
	for i := range items {
		it := items[i] // Check normalises in place; keep the original as generated
		if err := it.Check(catalog.DefaultTypes); err != nil {
			t.Fatalf("item %d %+v: %v", i, it, err)
		}
		if names[it.Name] {
			t.Errorf("duplicate name %s", it.Name)
		}
		names[it.Name] = true
		if len(it.Code) != 31 || it.Code != catalog.ImplementationCode(it.DeptUSCC, it.Level, it.BasicCode) || codes[it.Code] {
			t.Errorf("item %d: bad or duplicate code %q", i, it.Code)
		}
		codes[it.Code] = true
	}
}

// fakeDepts makes departments with valid credit codes in the given regions.
func fakeDepts(t testing.TB, regions []string, per int) []catalog.GenDept {
	t.Helper()
	var out []catalog.GenDept
	for _, r := range regions {
		for i := range per {
			uscc, err := idcode.NewUSCC('1', '1', r[:6], fmt.Sprintf("%08d", 10000000+len(out)))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, catalog.GenDept{ID: fmt.Sprintf("d-%s-%d", r, i), Region: r, USCC: uscc})
		}
	}
	return out
}

func TestGenerate(t *testing.T) {
	regions := []string{"150000", "150100", "150102", "150200", "150102001"}
	depts := fakeDepts(t, regions, 3)
	items := catalog.Generate(5000, 7, nil, depts)
	checkGenerated(t, items, 5000)
	levels := map[int]int{}
	kinds := map[string]bool{}
	for _, it := range items {
		levels[it.Level]++
		kinds[it.BasicCode[4:9]] = true
	}
	if len(levels) != 4 || len(kinds) < 1000 {
		t.Errorf("levels %v, %d kinds: want every level and varied kinds", levels, len(kinds))
	}
	if again := catalog.Generate(5000, 7, nil, depts); !reflect.DeepEqual(again, catalog.Generate(5000, 7, nil, depts)) {
		t.Error("Generate is not deterministic for a seed")
	}
	if other := catalog.Generate(10, 8, nil, depts); reflect.DeepEqual(other, catalog.Generate(10, 7, nil, depts)) {
		t.Error("different seeds gave the same items")
	}
	for _, it := range catalog.Generate(200, 1, []string{"150200"}, depts) {
		if it.Region != "150200" || it.Level != 3 {
			t.Fatalf("region filter: got %s level %d", it.Region, it.Level)
		}
	}
	if got := catalog.Generate(10, 1, []string{"990000"}, depts); got != nil {
		t.Errorf("no department in the regions: got %d items", len(got))
	}
	// One department, many items: codes stay unique.
	checkGenerated(t, catalog.Generate(20000, 3, nil, depts[:1]), 20000)
}

// BenchmarkSeedGenerated measures SeedGenerated's throughput over the demo
// province's departments, e.g. -bench SeedGenerated -benchtime 20000x.
// Each run gets a fresh database, so the setup (regions, departments) is
// outside the timer.
func BenchmarkSeedGenerated(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var eng sqldbtest.Engine
			if name == "sqlite" {
				eng = sqldbtest.SQLite(b)
			} else {
				eng, _ = sqldbtest.Postgres(b, true)
			}
			ctx := b.Context()
			orgs, _ := seedOrg(b, ctx, eng.DB)
			svc := catalog.NewService(eng.DB, orgs)
			if err := svc.LoadTypes(ctx); err != nil {
				b.Fatal(err)
			}
			items := catalog.Generate(b.N, 1, nil, genDepts(b, ctx, eng.DB))
			b.ResetTimer()
			n, err := svc.SeedGenerated(ctx, items)
			if err != nil || n != b.N {
				b.Fatalf("SeedGenerated = %d, %v", n, err)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
		})
	}
}
