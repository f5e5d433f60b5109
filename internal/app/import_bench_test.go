package app_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"yiwang/internal/app/apptest"
	"yiwang/internal/cases"
	"yiwang/internal/catalog"
	"yiwang/internal/identity"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// BenchmarkItemImport imports a CSV of YIWANG_BENCH_IMPORT_ROWS new items
// (2,000 by default; the import's limit is 10,000) all-or-nothing, while a
// window clerk keeps registering walk-in cases (a write of its own each):
// it reports the import's rows per second and the walk-ins' p50, p99 and
// longest latency during the import, against the same walk-ins with no
// import running (the baseline, measured first in the same run). On SQLite
// the import's one transaction holds the only writer, so other writes
// wait for it; on PostgreSQL they do not.
//
//	YIWANG_TEST_PG=… YIWANG_BENCH_IMPORT_ROWS=10000 go test ./internal/app/ -run '^$' -bench ItemImport -benchtime 1x
func BenchmarkItemImport(b *testing.B) {
	rows := 2000
	if s := os.Getenv("YIWANG_BENCH_IMPORT_ROWS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 || v > 10000 {
			b.Fatalf("YIWANG_BENCH_IMPORT_ROWS=%q: want 1 to 10000", s)
		}
		rows = v
	}
	for _, eng := range sqldbtest.Engines(b) {
		b.Run(eng.Name, func(b *testing.B) {
			ctx := context.Background()
			env := apptest.Demo(b, eng)
			var uscc string
			if err := env.App.DB.R.QueryRowContext(ctx, `SELECT uscc FROM departments WHERE name = $1`, "呼和浩特市卫生健康委员会").Scan(&uscc); err != nil {
				b.Fatal(err)
			}
			code := itemCode(b, env, "出生医学证明首次签发")
			editor := &authz.Principal{UserID: "bench-editor", Name: "导入员", Grants: []authz.Grant{{Role: authz.RegionAdmin, Region: "150000"}}}
			clerk := &authz.Principal{UserID: "bench-clerk", Name: "综合窗口", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150000"}}}

			// walkIns registers walk-ins until stop closes; it returns each one's latency.
			walkIns := func(stop <-chan struct{}) []time.Duration {
				var lat []time.Duration
				for {
					select {
					case <-stop:
						return lat
					default:
					}
					t0 := time.Now()
					if _, err := env.App.Cases.RegisterWalkIn(ctx, clerk, cases.WalkIn{ItemCode: code, Kind: identity.Person,
						IDNumber: "11010519491231002X", Name: "张三", Phone: "13900001111"}); err != nil {
						b.Error(err)
						return lat
					}
					lat = append(lat, time.Since(t0))
				}
			}
			report := func(prefix string, lat []time.Duration) {
				if len(lat) == 0 {
					return
				}
				slices.Sort(lat)
				ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
				b.ReportMetric(ms(lat[len(lat)/2]), prefix+"-p50-ms")
				b.ReportMetric(ms(lat[len(lat)*99/100]), prefix+"-p99-ms")
				b.ReportMetric(ms(lat[len(lat)-1]), prefix+"-max-ms")
			}

			for i := range b.N {
				b.StopTimer()
				var data bytes.Buffer
				w, err := catalog.NewCSVWriter(&data, catalog.DefaultTypes)
				if err != nil {
					b.Fatal(err)
				}
				for k := range rows {
					w.Write(catalog.Item{
						BasicCode: catalog.BasicCode("150000", "GG", 10000+i*rows+k, 0), Name: fmt.Sprintf("批量导入事项%d-%d", i, k), Type: "GG", Level: 3,
						Region: "150100", DeptName: "呼和浩特市卫生健康委员会", DeptUSCC: uscc, Audiences: []catalog.Audience{catalog.Person},
						PromisedLimit: catalog.TimeLimit{Days: 5, Unit: catalog.Workday}, Kind: catalog.Promised,
						Materials: []catalog.Material{{Name: "居民身份证", Type: 1, Source: 20, Necessity: 1, Form: 3, Originals: 1}},
						Depth:     catalog.Depth{Codes: []int{1, 2, 3, 4, 5, 6}, Level: 4}, Channels: []catalog.Channel{catalog.Online, catalog.Window},
						Scope: "province",
					})
				}
				if err := w.Flush(); err != nil {
					b.Fatal(err)
				}

				// The baseline: walk-ins for two seconds with no import.
				stop := make(chan struct{})
				time.AfterFunc(2*time.Second, func() { close(stop) })
				base := walkIns(stop)

				b.StartTimer()
				t0 := time.Now()
				job, err := env.App.Catalog.StartImport(ctx, editor, "事项.csv", data.Bytes(), catalog.ImportAll)
				if err != nil {
					b.Fatal(err)
				}
				stop = make(chan struct{})
				var during []time.Duration
				var wg sync.WaitGroup
				wg.Go(func() { during = walkIns(stop) })
				if err := env.App.Catalog.WaitImports(ctx); err != nil {
					b.Fatal(err)
				}
				took := time.Since(t0)
				b.StopTimer()
				close(stop)
				wg.Wait()
				if job, err = env.App.Catalog.ImportJob(ctx, editor, job.ID); err != nil || job.Status != catalog.ImportDone || job.Created != rows {
					b.Fatalf("import: %+v, %v", job, err)
				}
				b.ReportMetric(float64(rows)/took.Seconds(), "rows/s")
				report("baseline-walkin", base)
				report("walkin-during-import", during)
				b.Logf("%s: %d rows in %v; %d walk-ins before (2 s), %d during", eng.Name, rows, took.Round(time.Millisecond), len(base), len(during))
				verifyAudit(b, env.App.DB)
			}
		})
	}
}
