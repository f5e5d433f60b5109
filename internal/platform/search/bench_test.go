package search_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"yiwang/internal/platform/search"
)

// Fragments of synthetic item names: 20 × 40 × 25 × 30 = 600,000 distinct names.
var (
	benchSubjects = []string{"", "个人", "企业", "城乡居民", "灵活就业人员", "退役军人", "外国人", "港澳台居民", "个体工商户", "农民专业合作社",
		"社会组织", "事业单位", "机关", "职工", "学生", "老年人", "残疾人", "困难群众", "新生儿", "境外投资者"}
	benchObjects = []string{"社会保险", "医疗保险", "养老保险", "失业保险", "工伤保险", "生育保险", "社保卡", "医保关系", "社保关系", "营业执照",
		"户口", "居住证", "护照", "港澳通行证", "身份证", "驾驶证", "机动车登记证书", "不动产", "房屋产权", "住房公积金",
		"出生医学证明", "结婚证", "食品经营许可证", "药品经营许可证", "道路运输许可证", "建设工程规划许可证", "施工许可证", "排污许可证", "教师资格证", "医师执业证书",
		"律师执业证", "残疾人证", "低保待遇", "高龄津贴", "档案", "税务登记", "发票", "商标", "专利", "学籍"}
	benchActions = []string{"登记", "变更", "注销", "申领", "补办", "换领", "查询", "转移", "迁移", "延续",
		"核发", "认定", "备案", "审批", "年检", "提取", "缴纳", "续保", "挂失", "解挂",
		"撤销", "恢复", "预约", "打印", "证明开具"}
	benchQualifiers = []string{"", "（市级）", "（县级）", "（跨省通办）", "（全程网办）", "（告知承诺制）", "（首次）", "（遗失）", "（损坏）", "（到期）",
		"（容缺受理）", "（一件事）", "（加急）", "（延期）", "（简易程序）", "（特殊情形）", "（集中办理）", "（代办）", "（上门服务）", "（自助终端）",
		"网上办理", "进度查询", "材料补正", "结果领取", "申请", "办理", "业务", "服务", "咨询", "（试点）"}
	benchTypes   = []string{"行政许可", "行政确认", "公共服务", "行政给付", "其他行政权力"}
	benchRegions = []string{"150000", "150100", "150102", "150103", "150104", "150200", "150202", "150203", "150300", "150400", "150500", "150600", "150700"}
	// benchQueries is the fixed mix: 2, 3, 4 and 6 characters.
	benchQueries = []string{"社保", "护照", "户口", "医保", "营业执", "公积金", "驾驶证", "营业执照", "社会保险", "不动产登", "城乡居民养老", "营业执照变更", "医疗保险转移"}
)

// benchDoc returns the i-th synthetic item; names are distinct for i < 600,000.
func benchDoc(i int) search.Doc {
	total := len(benchSubjects) * len(benchObjects) * len(benchActions) * len(benchQualifiers)
	k := (i * 104729) % total // a prime coprime with total: a permutation
	s, k := benchSubjects[k%len(benchSubjects)], k/len(benchSubjects)
	o, k := benchObjects[k%len(benchObjects)], k/len(benchObjects)
	a, k := benchActions[k%len(benchActions)], k/len(benchActions)
	q := benchQualifiers[k%len(benchQualifiers)]
	name := s + o + a + q
	if i >= total {
		name += strconv.Itoa(i / total)
	}
	return search.Doc{
		ID:     fmt.Sprintf("XK%08d", i),
		Fields: map[string]string{"name": name},
		Facets: map[string][]string{"type": {benchTypes[(i*31)%len(benchTypes)]}, "audience": {[]string{"自然人", "法人"}[i%2]}},
		Region: benchRegions[(i*7)%len(benchRegions)],
		Boost:  float64((i * 7919) % 1000),
	}
}

func benchItems(b *testing.B) int {
	n := 20000
	if s := os.Getenv("YIWANG_BENCH_ITEMS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("YIWANG_BENCH_ITEMS=%q: want a positive number", s)
		}
		n = v
	}
	return n
}

// benchIndex is built once per test binary run and shared by the sub-benchmarks.
var benchIndex struct {
	once  sync.Once
	ix    *search.Index
	dir   string
	build time.Duration
	size  int64
	heap  uint64 // Go heap in use after opening (or building) the index and a GC
	err   error
}

func openBenchIndex(b *testing.B) *search.Index {
	bi := &benchIndex
	bi.once.Do(func() {
		defer func() {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			bi.heap = ms.HeapAlloc
		}()
		n := benchItems(b)
		// YIWANG_BENCH_INDEX names an index file to keep between runs: it
		// is reused when it already holds n documents, else rebuilt.
		path := os.Getenv("YIWANG_BENCH_INDEX")
		if path == "" {
			bi.dir, bi.err = os.MkdirTemp("", "yiwang-search-bench-")
			if bi.err != nil {
				return
			}
			path = filepath.Join(bi.dir, "search.db")
		}
		bi.ix, bi.err = search.Open(path, search.Schema{Fields: []search.Field{{Name: "name", Weight: 1}}, Facets: []string{"type", "audience"}})
		if bi.err != nil {
			return
		}
		if have, err := bi.ix.Count(context.Background()); err == nil && have == n && bi.dir == "" {
			fmt.Fprintf(os.Stderr, "search index: reusing %s (%d items)\n", path, n)
			return
		}
		i := 0
		start := time.Now()
		_, bi.err = bi.ix.Rebuild(context.Background(), func() (search.Doc, bool, error) {
			if i == n {
				return search.Doc{}, false, nil
			}
			i++
			return benchDoc(i - 1), true, nil
		})
		bi.build = time.Since(start)
		for _, suffix := range []string{"", "-wal"} {
			if fi, err := os.Stat(path + suffix); err == nil {
				bi.size += fi.Size()
			}
		}
		fmt.Fprintf(os.Stderr, "search index: %d items built in %v, %.1f MB\n", n, bi.build.Round(time.Millisecond), float64(bi.size)/1e6)
	})
	if bi.err != nil {
		b.Fatal(bi.err)
	}
	return bi.ix
}

// TestMain removes the shared benchmark index after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchIndex.ix != nil {
		benchIndex.ix.Close()
	}
	if benchIndex.dir != "" {
		os.RemoveAll(benchIndex.dir)
	}
	os.Exit(code)
}

// reportLatency reports the p50 and p99 of the wall-clock times ds and of
// the CPU times cpu of queries that ran benchQueries in turn, and logs each
// query's median. On a busy machine wall-clock p99 mostly measures the
// scheduler; the CPU times are the query's own cost.
func reportLatency(b *testing.B, ds, cpu []time.Duration) {
	pct := func(ds []time.Duration, p float64) float64 {
		ds = slices.Clone(ds)
		slices.Sort(ds)
		return float64(ds[min(len(ds)-1, int(float64(len(ds))*p))].Nanoseconds())
	}
	if len(ds) >= 2*len(benchQueries) {
		var line []string
		for k, q := range benchQueries {
			var qs []time.Duration
			for i := k; i < len(cpu); i += len(benchQueries) {
				qs = append(qs, cpu[i])
			}
			line = append(line, fmt.Sprintf("%s %.0fµs", q, pct(qs, 0.5)/1e3))
		}
		b.Logf("median CPU per query: %s", strings.Join(line, ", "))
	}
	b.ReportMetric(pct(ds, 0.50), "p50-ns")
	b.ReportMetric(pct(ds, 0.99), "p99-ns")
	b.ReportMetric(pct(cpu, 0.50), "cpu-p50-ns")
	b.ReportMetric(pct(cpu, 0.99), "cpu-p99-ns")
}

var benchFilter = map[string][]string{"type": {"行政许可"}}

// benchModes are the kinds of query the search benchmarks measure.
var benchModes = []struct {
	name string
	q    search.Query
}{
	{"plain", search.Query{Limit: 20}},
	{"filtered", search.Query{Limit: 20, Region: "150100", Filters: benchFilter}},
	{"filtered+facets", search.Query{Limit: 20, Region: "150100", Filters: benchFilter, Facets: []string{"type", "audience"}}},
}

func BenchmarkSearch(b *testing.B) {
	ix := openBenchIndex(b)
	ctx := context.Background()
	for _, mode := range benchModes {
		b.Run(mode.name, func(b *testing.B) {
			var line []string
			for _, text := range benchQueries { // warm up, and show what the mix matches
				q := mode.q
				q.Text = text
				res, err := ix.Search(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				more := "" // "+": more than Total (Result.TotalExact false)
				if !res.TotalExact {
					more = "+"
				}
				line = append(line, fmt.Sprintf("%s %d%s", text, res.Total, more))
			}
			b.Logf("matches: %s", strings.Join(line, ", "))
			runtime.LockOSThread() // for threadCPU
			defer runtime.UnlockOSThread()
			ds, cpu := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				q := mode.q
				q.Text = benchQueries[i%len(benchQueries)]
				start, startCPU := time.Now(), threadCPU()
				if _, err := ix.Search(ctx, q); err != nil {
					b.Fatal(err)
				}
				ds, cpu = append(ds, time.Since(start)), append(cpu, threadCPU()-startCPU)
			}
			b.StopTimer()
			reportLatency(b, ds, cpu)
			b.ReportMetric(benchIndex.build.Seconds(), "build-s")
			b.ReportMetric(float64(benchIndex.heap)/1e6, "heap-MB")
		})
	}
}

// BenchmarkLikeBaseline runs the same queries as name LIKE '%q%' on a plain
// table of the same names: top 20 by boost plus the total, in one scan.
func BenchmarkLikeBaseline(b *testing.B) {
	n := benchItems(b)
	path := filepath.Join(b.TempDir(), "like.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	start := time.Now()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := tx.Exec(`CREATE TABLE names (id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, region TEXT NOT NULL, boost REAL NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	ins, err := tx.Prepare(`INSERT INTO names (id, name, type, region, boost) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		d := benchDoc(i)
		if _, err := ins.Exec(d.ID, d.Fields["name"], d.Facets["type"][0], d.Region, d.Boost); err != nil {
			b.Fatal(err)
		}
	}
	ins.Close()
	if _, err := tx.Exec(`CREATE INDEX names_boost ON names (boost DESC, id)`); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	build := time.Since(start)

	for _, mode := range []struct {
		name, where string
		args        []any
	}{
		{"plain", "", nil},
		{"filtered", ` AND region >= ? AND region < ? AND type = ?`, []any{"1501", "1501\U0010FFFF", "行政许可"}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			query := `SELECT id, count(*) OVER () FROM names WHERE name LIKE ? ESCAPE '\'` + mode.where + ` ORDER BY boost DESC, id LIMIT 20`
			run := func(text string) (int, error) {
				rows, err := db.QueryContext(ctx, query, append([]any{"%" + text + "%"}, mode.args...)...)
				if err != nil {
					return 0, err
				}
				defer rows.Close()
				total := 0
				for rows.Next() {
					var id string
					if err := rows.Scan(&id, &total); err != nil {
						return 0, err
					}
				}
				return total, rows.Err()
			}
			var line []string
			for _, text := range benchQueries {
				total, err := run(text)
				if err != nil {
					b.Fatal(err)
				}
				line = append(line, fmt.Sprintf("%s %d", text, total))
			}
			b.Logf("matches: %s", strings.Join(line, ", "))
			runtime.LockOSThread() // for threadCPU
			defer runtime.UnlockOSThread()
			ds, cpu := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				start, startCPU := time.Now(), threadCPU()
				if _, err := run(benchQueries[i%len(benchQueries)]); err != nil {
					b.Fatal(err)
				}
				ds, cpu = append(ds, time.Since(start)), append(cpu, threadCPU()-startCPU)
			}
			b.StopTimer()
			reportLatency(b, ds, cpu)
			b.ReportMetric(build.Seconds(), "build-s")
		})
	}
}

// BenchmarkSearchTokens runs the mix of BenchmarkSearch on one index two
// ways, query by query in turn: with the bigram phrases and separate region
// and facet tags that were all the index had before format 5 (search.Plain),
// and with trigrams and combined tags. Taking turns in one process keeps
// the comparison fair on a machine whose load changes from run to run.
func BenchmarkSearchTokens(b *testing.B) {
	ix := openBenchIndex(b)
	defer search.Plain(ix, false, false)
	ctx := context.Background()
	for _, mode := range benchModes {
		b.Run(mode.name, func(b *testing.B) {
			runtime.LockOSThread() // for threadCPU
			defer runtime.UnlockOSThread()
			var cpu [2][]time.Duration
			b.ResetTimer()
			for i := range b.N {
				q := mode.q
				q.Text = benchQueries[(i/2)%len(benchQueries)]
				old := i%2 == 0
				search.Plain(ix, old, old)
				startCPU := threadCPU()
				if _, err := ix.Search(ctx, q); err != nil {
					b.Fatal(err)
				}
				cpu[i%2] = append(cpu[i%2], threadCPU()-startCPU)
			}
			b.StopTimer()
			if b.N < 2 {
				return
			}
			pct := func(ds []time.Duration, p float64) float64 {
				ds = slices.Clone(ds)
				slices.Sort(ds)
				return float64(ds[min(len(ds)-1, int(float64(len(ds))*p))].Nanoseconds())
			}
			b.ReportMetric(pct(cpu[0], 0.5), "bigram-cpu-p50-ns")
			b.ReportMetric(pct(cpu[0], 0.99), "bigram-cpu-p99-ns")
			b.ReportMetric(pct(cpu[1], 0.5), "cpu-p50-ns")
			b.ReportMetric(pct(cpu[1], 0.99), "cpu-p99-ns")
		})
	}
}
