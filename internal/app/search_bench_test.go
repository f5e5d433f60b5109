// The benchmark reads thread CPU time and /proc, so it is Linux only.

//go:build linux

package app_test

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"yiwang/internal/app/apptest"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// searchBenchQueries is the fixed mix of the item search benchmarks: 2-,
// 3-, 4- and 6-character queries (as in internal/platform/search).
var searchBenchQueries = []string{"社保", "护照", "户口", "医保", "营业执", "公积金", "驾驶证", "营业执照", "社会保险", "不动产登", "城乡居民养老", "营业执照变更", "医疗保险转移"}

// searchBenchItems is YIWANG_BENCH_ITEMS, the number of generated items
// (default 2,000, so that a plain run is quick).
func searchBenchItems(b *testing.B) int {
	n := 2000
	if s := os.Getenv("YIWANG_BENCH_ITEMS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("YIWANG_BENCH_ITEMS=%q: want a positive number", s)
		}
		n = v
	}
	return n
}

// likeRuns is YIWANG_BENCH_LIKE_RUNS, the most queries a LIKE baseline
// runs (default 52, four passes of the mix): at 590,000 items each takes a
// third of a second, so the baseline does not follow -benchtime beyond it.
func likeRuns(b *testing.B) int {
	n := 4 * len(searchBenchQueries)
	if s := os.Getenv("YIWANG_BENCH_LIKE_RUNS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("YIWANG_BENCH_LIKE_RUNS=%q: want a positive number", s)
		}
		n = v
	}
	return n
}

// threadCPU returns the CPU time the calling thread has used
// (CLOCK_THREAD_CPUTIME_ID; getrusage is only as fine as the scheduler
// tick). With the goroutine locked to its thread it measures a request's
// own cost on a busy machine, without time spent waiting for a CPU. On
// PostgreSQL it leaves out the server's work.
func threadCPU() time.Duration {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}

// vmRSS returns the resident set size of this process from /proc, or 0.
func vmRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// percentiles returns the p50 and p99 of ds.
func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	at := func(p float64) time.Duration { return ds[min(len(ds)-1, int(float64(len(ds))*p))] }
	return at(0.50), at(0.99)
}

// BenchmarkSearchHTTP measures GET /api/v1/items?q=… through the real
// router and handlers (no network: the handler serves an httptest
// recorder), over the query mix with and without filters (region 150100
// and its descendants, type XK), against a baseline in the same run: the
// same queries as name LIKE '%q%' on the main database (top 20 by
// popularity plus the total). It also reports the time to rebuild the
// index from the main database and the memory after the rebuild. It runs on
// SQLite, and on PostgreSQL when YIWANG_TEST_PG is set. Set
// YIWANG_BENCH_ITEMS for the number of generated items, e.g.
//
//	YIWANG_BENCH_ITEMS=590000 go test -run '^$' -bench SearchHTTP -benchtime 2000x -timeout 60m ./internal/app/
//
// Each request's wall time and its thread's CPU time are reported (p50,
// p99); the LIKE baseline runs at most likeRuns queries.
func BenchmarkSearchHTTP(b *testing.B) {
	n := searchBenchItems(b)
	for _, eng := range sqldbtest.Engines(b) {
		b.Run(eng.Name, func(b *testing.B) {
			ctx := context.Background()
			env := apptest.Demo(b, eng)
			start := time.Now()
			made, err := env.App.SeedItems(ctx, n, 1) // generates, then rebuilds the index
			if err != nil || made != n {
				b.Fatalf("SeedItems = %d, %v; want %d", made, err, n)
			}
			seeded := time.Since(start)
			start = time.Now()
			indexed, err := env.App.Finder.Rebuild(ctx) // as at start-up
			if err != nil {
				b.Fatal(err)
			}
			rebuild := time.Since(start)
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			rss := vmRSS()
			fmt.Fprintf(os.Stderr, "%s: %d items generated and indexed in %v; index rebuild %v (%d items); heap %.0f MB, sys %.0f MB, RSS %.0f MB\n",
				eng.Name, n, seeded.Round(time.Millisecond), rebuild.Round(time.Millisecond), indexed,
				float64(ms.HeapAlloc)/1e6, float64(ms.Sys)/1e6, float64(rss)/1e6)

			p50 := map[string]time.Duration{}
			// run measures once over the query mix, b.N times (at most max).
			run := func(name string, max int, once func(b *testing.B, q string) int) {
				b.Run(name, func(b *testing.B) {
					var line []string
					for _, q := range searchBenchQueries { // warm up, and show what the mix matches
						line = append(line, fmt.Sprintf("%s %d", q, once(b, q)))
					}
					b.Logf("totals: %s", strings.Join(line, ", "))
					runs := min(b.N, max)
					runtime.LockOSThread() // for threadCPU
					defer runtime.UnlockOSThread()
					ds, cpu := make([]time.Duration, 0, runs), make([]time.Duration, 0, runs)
					b.ResetTimer()
					for i := range runs {
						start, startCPU := time.Now(), threadCPU()
						once(b, searchBenchQueries[i%len(searchBenchQueries)])
						ds, cpu = append(ds, time.Since(start)), append(cpu, threadCPU()-startCPU)
					}
					b.StopTimer()
					p, p99 := percentiles(ds)
					c50, c99 := percentiles(cpu)
					p50[name] = p
					if runs < b.N { // ns/op over the queries that ran
						b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(runs), "ns/op")
					}
					b.ReportMetric(float64(p.Nanoseconds()), "p50-ns")
					b.ReportMetric(float64(p99.Nanoseconds()), "p99-ns")
					b.ReportMetric(float64(c50.Nanoseconds()), "cpu-p50-ns")
					b.ReportMetric(float64(c99.Nanoseconds()), "cpu-p99-ns")
					b.ReportMetric(rebuild.Seconds(), "rebuild-s")
					b.ReportMetric(float64(ms.HeapAlloc)/1e6, "heap-MB")
					b.ReportMetric(float64(rss)/1e6, "rss-MB")
				})
			}
			for _, mode := range []struct{ name, filter string }{{"plain", ""}, {"filtered", "&region=150100&type=XK"}} {
				run("http/"+mode.name, math.MaxInt, func(b *testing.B, q string) int {
					req := httptest.NewRequest(http.MethodGet, "/api/v1/items?q="+url.QueryEscape(q)+mode.filter, nil)
					rec := httptest.NewRecorder()
					env.App.Handler.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("GET %s: %d %s", req.URL, rec.Code, rec.Body)
					}
					body := rec.Body.String()
					total, _, _ := strings.Cut(strings.TrimPrefix(body[strings.Index(body, `"total":`)+len(`"total":`):], " "), ",")
					t, _ := strconv.Atoi(total)
					return t
				})
			}
			for _, mode := range []struct {
				name, where string
				args        []any
			}{
				{"plain", "", nil},
				{"filtered", ` AND region_code LIKE $3 AND type_code = $4`, []any{"1501%", "XK"}},
			} {
				query := `SELECT code, name, count(*) OVER () FROM catalog_items
					WHERE status = $1 AND name LIKE $2` + mode.where + ` ORDER BY popularity DESC, code LIMIT 20`
				run("like/"+mode.name, likeRuns(b), func(b *testing.B, q string) int {
					rows, err := eng.DB.R.QueryContext(ctx, query, append([]any{"published", "%" + q + "%"}, mode.args...)...)
					if err != nil {
						b.Fatal(err)
					}
					defer rows.Close()
					total := 0
					for rows.Next() {
						var code, name string
						if err := rows.Scan(&code, &name, &total); err != nil {
							b.Fatal(err)
						}
					}
					if err := rows.Err(); err != nil {
						b.Fatal(err)
					}
					return total
				})
			}
			for _, mode := range []string{"plain", "filtered"} {
				if h, l := p50["http/"+mode], p50["like/"+mode]; h > 0 && l > 0 {
					fmt.Fprintf(os.Stderr, "%s %s: p50 LIKE %v / HTTP %v = %.1f×\n", eng.Name, mode, l.Round(time.Microsecond), h.Round(time.Microsecond), float64(l)/float64(h))
				}
			}
		})
	}
}
