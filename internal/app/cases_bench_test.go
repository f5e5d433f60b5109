package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"yiwang/internal/app/apptest"
	"yiwang/internal/cases"
	"yiwang/internal/identity"
	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/sqldb"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// BenchmarkCaseSubmit measures filings through the service with every
// core busy: a walk-in registration (3 paper materials, form data, the
// submission event, audit entry, outbox message and SMS notice), on each
// engine; on PostgreSQL also with the audit log on one chain (oneChain).
//
//	YIWANG_TEST_PG=… go test ./internal/app/ -run '^$' -bench CaseSubmit -benchtime 2000x
func BenchmarkCaseSubmit(b *testing.B) {
	for _, eng := range sqldbtest.Engines(b) {
		e := apptest.Demo(b, eng)
		clerk := &authz.Principal{UserID: "clerk", Name: "窗口", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150000"}}}
		var code string
		if err := e.App.DB.R.QueryRow(`SELECT code FROM catalog_items WHERE name = '出生医学证明补发' AND region_code = '150100'`).Scan(&code); err != nil {
			b.Fatal(err)
		}
		in := cases.WalkIn{ItemCode: code, Kind: "person", IDNumber: "11010519491231002X", Name: "张三", Phone: "13900001111",
			Form:  map[string]string{"reason": "出生医学证明遗失", "address": "呼和浩特市新城区某街道1号"},
			Paper: []string{"新生儿父母双方居民身份证", "出生医学证明补发申请表", "新生儿户口簿"}}
		if _, err := e.App.Cases.RegisterWalkIn(b.Context(), clerk, in); err != nil { // creates the account once
			b.Fatal(err)
		}
		for _, layout := range chainLayouts(eng) {
			b.Run(eng.Name+layout, func(b *testing.B) {
				defer auditLayout(b, e.App.DB, layout)()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := e.App.Cases.RegisterWalkIn(context.Background(), clerk, in); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cases/s")
			})
		}
		verifyAudit(b, e.App.DB)
	}
}

// oneChain names the benchmark variant that parks the audit log's shard
// heads for its run, so that every entry joins the main chain as before
// migration 00037: the baseline for the shards, measured in the same run.
const oneChain = "-one-chain"

// chainLayouts returns the audit layouts to measure on eng: the sharded
// log, and on PostgreSQL (the only engine with shard heads) one chain too.
func chainLayouts(eng sqldbtest.Engine) []string {
	if eng.DB.Dialect == sqldb.Postgres {
		return []string{"", oneChain}
	}
	return []string{""}
}

// auditLayout sets up layout and returns what restores the shards. Parking
// renames the shard heads rather than deleting them, so the log still
// verifies afterwards.
func auditLayout(b *testing.B, db *sqldb.DB, layout string) func() {
	if layout != oneChain {
		return func() {}
	}
	if _, err := db.W.Exec(`UPDATE audit_chains SET chain = 'parked:' || chain WHERE chain <> $1`, audit.MainChain); err != nil {
		b.Fatal(err)
	}
	return func() {
		if _, err := db.W.Exec(`UPDATE audit_chains SET chain = SUBSTR(chain, 8) WHERE chain LIKE 'parked:%'`); err != nil {
			b.Fatal(err)
		}
	}
}

// verifyAudit checks that the filings left every audit chain intact.
func verifyAudit(b *testing.B, db *sqldb.DB) {
	rep, err := audit.Verify(context.Background(), db)
	if err != nil || !rep.OK {
		b.Fatalf("audit.Verify after the benchmark = %+v, %v", rep, err)
	}
	b.Logf("audit log intact: %d entries in %d chains", rep.Entries, rep.Chains)
}

// benchCases is how many cases BenchmarkCaseQueue puts in the database
// (YIWANG_BENCH_CASES; 1,000,000 for the figure).
func benchCases(b *testing.B) int {
	n := 20000
	if s := os.Getenv("YIWANG_BENCH_CASES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("YIWANG_BENCH_CASES=%q: want a positive number", s)
		}
		n = v
	}
	return n
}

// seedCases inserts n cases over the demo's published items: 80 % closed,
// the rest open in every state, with due dates spread over two months; one
// decided case in fifty still waits for its result to go out (待出件).
func seedCases(b *testing.B, db *sqldb.DB, n int) {
	ctx := context.Background()
	rows, err := db.R.QueryContext(ctx, `SELECT id, code, name, dept_id, dept_path, region_code FROM catalog_items WHERE status = 'published' ORDER BY code LIMIT 200`)
	if err != nil {
		b.Fatal(err)
	}
	type item struct{ id, code, name, dept, path, region string }
	var items []item
	for rows.Next() {
		var it item
		rows.Scan(&it.id, &it.code, &it.name, &it.dept, &it.path, &it.region)
		items = append(items, it)
	}
	rows.Close()
	states := []cases.State{cases.Approved, cases.Approved, cases.Approved, cases.Approved, cases.Approved, cases.Approved, cases.Denied, cases.Withdrawn,
		cases.Accepted, cases.Submitted}
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	const batch = 500
	for start := 0; start < n; start += batch {
		err := sqldb.InTx(ctx, db, func(tx *sql.Tx) error {
			for i := start; i < min(start+batch, n); i++ {
				it := items[i%len(items)]
				st := states[i%len(states)]
				if i%40 == 8 {
					st = cases.Correcting
				} else if i%40 == 18 {
					st = cases.Special
				}
				var due any
				sortKey := time.Date(2999, 12, 31, 0, 0, 0, 0, time.UTC)
				if st != cases.Submitted && !st.Paused() {
					d := base.AddDate(0, 0, (i*7919)%60)
					due, sortKey = d, d
				}
				day := base.AddDate(0, 0, -(i % 400))
				var decided, delivered any
				waiting := false
				if st == cases.Approved || st == cases.Denied {
					decided = day.Add(time.Hour)
					if waiting = i%50 < 2; !waiting {
						delivered = day.Add(2 * time.Hour)
					}
				}
				_, err := tx.ExecContext(ctx, `INSERT INTO cases (id, number, item_id, item_code, item_version, item_name, dept_id, dept_name, dept_path,
					region_code, channel, state, steps, applicant_id, applicant_kind, applicant_name, applicant_idno, immediate, legal_days, legal_unit,
					promised_days, promised_unit, form_data, submitted_at, promised_due, created_at, updated_at, is_open, due_sort,
					at_dept_id, at_dept_name, at_dept_path, at_region_code, decided_at, to_deliver, delivered_at)
					VALUES ($1, $2, $3, $4, 1, $5, $6, '部门', $7, $8, 'online', $9, '["审查","决定"]', $10, 'person', '申请人', '110105194912310021',
					FALSE, 20, 'workday', 5, 'workday', '{"reason":"bench"}', $11, $12, $11, $11, $13, $14, $6, '部门', $7, $8, $15, $16, $17)`,
					sqldb.NewID(), cases.Number(it.code, day, i%9999+1)+fmt.Sprint(i/9999), it.id, it.code, it.name, it.dept, it.path, it.region, st,
					fmt.Sprintf("acct-%d", i%50000), day, due, st.Open(), sortKey, decided, waiting, delivered)
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCaseQueue measures the work-queue query (the first page of
// open cases by time left, with its count) with many cases stored: for a
// province-wide window clerk and a department-bound reviewer, and the
// overdue filter; it reports p50 and p99.
//
//	YIWANG_BENCH_CASES=1000000 go test ./internal/app/ -run '^$' -bench CaseQueue -benchtime 200x -timeout 60m
func BenchmarkCaseQueue(b *testing.B) {
	n := benchCases(b)
	for _, eng := range sqldbtest.Engines(b) {
		e := apptest.Demo(b, eng)
		start := time.Now()
		seedCases(b, e.App.DB, n)
		b.Logf("%s: %d cases seeded in %s", eng.Name, n, time.Since(start).Round(time.Millisecond))
		if eng.DB.Dialect == sqldb.Postgres {
			e.App.DB.W.Exec(`VACUUM ANALYZE cases`) // as autovacuum would after the load: statistics and the visibility map
		}
		// seedCases gives item 8 of every 200 open cases (state i%10 = 8) and
		// item 0 only closed ones: a busy department and an idle one.
		var dept, path, idle, idlePath string
		e.App.DB.R.QueryRow(`SELECT dept_id, dept_path FROM catalog_items WHERE status = 'published' ORDER BY code LIMIT 1 OFFSET 8`).Scan(&dept, &path)
		e.App.DB.R.QueryRow(`SELECT dept_id, dept_path FROM catalog_items WHERE status = 'published' ORDER BY code LIMIT 1`).Scan(&idle, &idlePath)
		e.App.Cases.SetClock(func() time.Time { return time.Date(2026, 3, 20, 2, 0, 0, 0, time.UTC) })
		for _, tc := range []struct {
			name string
			p    *authz.Principal
			q    cases.Query
		}{
			{"clerk-province", &authz.Principal{UserID: "c", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150000"}}}, cases.Query{}},
			{"reviewer-dept", &authz.Principal{UserID: "r", Grants: []authz.Grant{{Role: authz.Reviewer, Region: "150000", DeptID: dept, DeptPath: path}}}, cases.Query{}},
			{"reviewer-idle-dept", &authz.Principal{UserID: "r", Grants: []authz.Grant{{Role: authz.Reviewer, Region: "150000", DeptID: idle, DeptPath: idlePath}}}, cases.Query{}},
			{"clerk-overdue", &authz.Principal{UserID: "c", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150000"}}}, cases.Query{Alert: cases.AlertRed}},
			{"clerk-to-deliver", &authz.Principal{UserID: "c", Grants: []authz.Grant{{Role: authz.WindowClerk, Region: "150000"}}}, cases.Query{State: cases.ToDeliverFilter}},
			{"reviewer-dept-to-deliver", &authz.Principal{UserID: "r", Grants: []authz.Grant{{Role: authz.Reviewer, Region: "150000", DeptID: dept, DeptPath: path}}}, cases.Query{State: cases.ToDeliverFilter}},
			{"reviewer-idle-dept-to-deliver", &authz.Principal{UserID: "r", Grants: []authz.Grant{{Role: authz.Reviewer, Region: "150000", DeptID: idle, DeptPath: idlePath}}}, cases.Query{State: cases.ToDeliverFilter}},
		} {
			b.Run(eng.Name+"/"+tc.name, func(b *testing.B) {
				var lat []time.Duration
				var rowsSeen atomic.Int64
				for b.Loop() {
					t0 := time.Now()
					list, total, err := e.App.Cases.Queue(context.Background(), tc.p, tc.q)
					if err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t0))
					rowsSeen.Store(int64(total))
					_ = list
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(rowsSeen.Load()), "matches")
			})
		}
	}
}

// BenchmarkCaseSubmitHTTP measures online filings end to end over HTTP:
// POST /api/v1/cases with submit (a signed-in citizen's session, the
// item's form validated, over twenty items, the case and its submission in
// one transaction with event, audit entry, outbox message and SMS notice),
// from four concurrent clients per core, on each engine; on PostgreSQL
// also with the audit log on one chain (oneChain). Every audit chain is
// verified afterwards.
//
//	YIWANG_TEST_PG=… go test ./internal/app/ -run '^$' -bench CaseSubmitHTTP -benchtime 3000x
func BenchmarkCaseSubmitHTTP(b *testing.B) {
	for _, eng := range sqldbtest.Engines(b) {
		e := apptest.Demo(b, eng)
		ctx := b.Context()
		if _, err := e.App.Identity.CreateAccount(ctx, identity.NewAccount{Kind: identity.Person, Name: "张三", IDNumber: "11010519491231002X",
			Phone: "13900001111", Password: "Bench-Submit-2026"}); err != nil {
			b.Fatal(err)
		}
		// Twenty online items whose form is the one 申请事由 field: filings
		// spread over items as they do in a hall, not all on one sequence.
		var bodies [][]byte
		rows, err := e.App.DB.R.Query(`SELECT code FROM catalog_items WHERE status = 'published' ORDER BY code`)
		if err != nil {
			b.Fatal(err)
		}
		var codes []string
		for rows.Next() {
			var code string
			rows.Scan(&code)
			codes = append(codes, code)
		}
		rows.Close()
		for _, code := range codes {
			_, it, err := e.App.Catalog.Published(ctx, code)
			if err != nil || !it.OnlineApplication() || len(it.Form) != 1 || it.Form[0].Key != "reason" || it.MinAssurance > 1 {
				continue
			}
			body, _ := json.Marshal(map[string]any{"item_code": code, "submit": true, "form": map[string]string{"reason": "为孩子办理入学相关手续"}})
			if bodies = append(bodies, body); len(bodies) == 20 {
				break
			}
		}
		if len(bodies) < 20 {
			b.Fatalf("only %d online items with the minimal form", len(bodies))
		}
		var next atomic.Int64
		c := e.Client()
		if res := c.Post(b, "/login", url.Values{"username": {"11010519491231002X"}, "password": {"Bench-Submit-2026"}}); res.Status != 303 {
			b.Fatalf("sign in: %d", res.Status)
		}
		cookies := c.Cookies()
		for _, layout := range chainLayouts(eng) {
			b.Run(eng.Name+layout, func(b *testing.B) {
				defer auditLayout(b, e.App.DB, layout)()
				b.SetParallelism(4) // 4 clients per core: a server waits on the database between requests
				b.RunParallel(func(pb *testing.PB) {
					hc := e.Server.Client()
					for pb.Next() {
						req, _ := http.NewRequest("POST", e.Server.URL+"/api/v1/cases", bytes.NewReader(bodies[next.Add(1)%int64(len(bodies))]))
						req.Header.Set("Content-Type", "application/json")
						for _, ck := range cookies {
							req.AddCookie(ck)
						}
						res, err := hc.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if res.StatusCode != http.StatusCreated {
							b.Errorf("status %d", res.StatusCode)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cases/s")
			})
		}
		verifyAudit(b, e.App.DB)
	}
}
