package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/sqldb"
	"yiwang/internal/platform/sqldb/sqldbtest"
	"yiwang/migrations"
)

func write(t *testing.T, db *sqldb.DB, ctx context.Context, action, region string) {
	t.Helper()
	err := sqldb.InTx(ctx, db, func(tx *sql.Tx) error {
		return audit.Write(ctx, tx, audit.Entry{Action: action, TargetType: "thing", TargetID: action, Region: region, Detail: map[string]string{"k": "v"}})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// oneChain removes the shard heads (PostgreSQL's migration makes them), so
// that every entry joins the main chain, as before the log was sharded and
// as on SQLite.
func oneChain(t *testing.T, db *sqldb.DB) {
	t.Helper()
	if _, err := db.W.ExecContext(t.Context(), `DELETE FROM audit_chains WHERE chain <> $1`, audit.MainChain); err != nil {
		t.Fatal(err)
	}
}

// migrationUp returns the Up part of a migration file.
func migrationUp(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(migrations.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	up, _, ok := strings.Cut(string(b), "-- +goose Down")
	if !ok {
		t.Fatalf("%s: no -- +goose Down", name)
	}
	return up
}

// sharded gives db the shard heads, with the PostgreSQL migration itself
// (a no-op on PostgreSQL, where it ran already).
func sharded(t *testing.T, db *sqldb.DB) {
	t.Helper()
	for _, m := range []string{"postgres/00037_audit_shards.sql", "postgres/00041_audit_bulk_chain.sql"} {
		if _, err := db.W.ExecContext(t.Context(), migrationUp(t, m)); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.R.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM audit_chains`).Scan(&n); err != nil || n != audit.Shards+1 {
		t.Fatalf("audit_chains holds %d heads (%v), want %d and the bulk chain's", n, err, audit.Shards)
	}
}

// targetsIn returns n target ids that ChainFor puts in chain.
func targetsIn(chain string, n int) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		if id := fmt.Sprintf("target-%d", i); audit.ChainFor(id) == chain {
			out = append(out, id)
		}
	}
	return out
}

func writeOn(t *testing.T, db *sqldb.DB, ctx context.Context, targets ...string) {
	t.Helper()
	err := sqldb.InTx(ctx, db, func(tx *sql.Tx) error {
		for _, id := range targets {
			if err := audit.Write(ctx, tx, audit.Entry{Action: "test.write", TargetType: "thing", TargetID: id, Region: "150100"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// chainsOf returns each target's chain, as stored.
func chainsOf(t *testing.T, db *sqldb.DB) map[string]string {
	t.Helper()
	rows, err := db.R.QueryContext(t.Context(), `SELECT target_id, chain FROM audit_log`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, chain string
		if err := rows.Scan(&id, &chain); err != nil {
			t.Fatal(err)
		}
		out[id] = chain
	}
	return out
}

func verify(t *testing.T, db *sqldb.DB) audit.Report {
	t.Helper()
	rep, err := audit.Verify(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestChainVerifiesAndDetectsTampering(t *testing.T) {
	tampers := []struct {
		name, sql string
		seq       int64 // where Verify must report the break; 0: intact
	}{
		{"intact", ``, 0},
		{"edited actor", `UPDATE audit_log SET actor_name = '李四' WHERE seq = 3`, 3},
		{"edited detail", `UPDATE audit_log SET detail = '{}' WHERE seq = 1`, 1},
		{"removed acting-for", `UPDATE audit_log SET on_behalf_of = '' WHERE seq = 4`, 4},
		{"added acting-for", `UPDATE audit_log SET on_behalf_of = 'ent9' WHERE seq = 2`, 2},
		{"deleted middle", `DELETE FROM audit_log WHERE seq = 2`, 2},
		{"deleted last", `DELETE FROM audit_log WHERE seq = 5`, 5},
		{"deleted head", `DELETE FROM audit_chains`, 5},
	}
	for _, tc := range tampers {
		t.Run(tc.name, func(t *testing.T) {
			for _, eng := range sqldbtest.Engines(t) {
				t.Run(eng.Name, func(t *testing.T) {
					oneChain(t, eng.DB)
					ctx := audit.WithActor(t.Context(), audit.Actor{ID: "u1", Name: "张三", IP: "10.0.0.1", RequestID: "r1"})
					for i := range 5 {
						c := ctx
						if i == 3 { // seq 4 acts for an enterprise
							c = audit.WithActor(ctx, audit.Actor{ID: "u1", Name: "张三", IP: "10.0.0.1", RequestID: "r1", OnBehalfOf: "ent1"})
						}
						write(t, eng.DB, c, fmt.Sprintf("test.action%d", i), "150100")
					}
					if tc.sql != "" {
						if _, err := eng.DB.W.ExecContext(ctx, tc.sql); err != nil {
							t.Fatal(err)
						}
					}
					rep := verify(t, eng.DB)
					if tc.seq == 0 && (!rep.OK || rep.Entries != 5 || rep.Chains != 1) {
						t.Fatalf("Verify = %+v, want 5 intact entries in one chain", rep)
					}
					if tc.seq != 0 && (rep.OK || rep.Chain != audit.MainChain || rep.BrokenAt != tc.seq) {
						t.Errorf("Verify after %s = %+v, want broken at %s %d", tc.name, rep, audit.MainChain, tc.seq)
					}
				})
			}
		})
	}
}

// TestShardedChainsDetectTampering writes entries on three chains — a: 4
// entries, b: 3, c: 1 — and checks that Verify finds a change to any of
// them, naming the chain and entry.
func TestShardedChainsDetectTampering(t *testing.T) {
	a, b, c := audit.ChainName(3), audit.ChainName(7), audit.ChainName(12)
	ta, tb, tc1 := targetsIn(a, 4), targetsIn(b, 3), targetsIn(c, 1)
	tampers := []struct {
		name, sql string
		chain     string // where Verify must report the break; "": intact
		seq       int64
	}{
		{"intact", ``, "", 0},
		{"edited detail", `UPDATE audit_log SET detail = '{"k":"v"}' WHERE chain = '` + b + `' AND seq = 2`, b, 2},
		{"edited time", `UPDATE audit_log SET at = (SELECT at FROM audit_log WHERE chain = '` + c + `' AND seq = 1) WHERE chain = '` + a + `' AND seq = 3`, a, 3},
		{"edited first", `UPDATE audit_log SET actor_name = '李四' WHERE chain = '` + c + `' AND seq = 1`, c, 1},
		{"moved to another chain", `UPDATE audit_log SET chain = '` + c + `', seq = 2, prev_hash = (SELECT hash FROM audit_chains WHERE chain = '` + c + `')
			WHERE chain = '` + a + `' AND seq = 4`, a, 4},
		{"deleted middle", `DELETE FROM audit_log WHERE chain = '` + a + `' AND seq = 2`, a, 2},
		{"deleted first", `DELETE FROM audit_log WHERE chain = '` + b + `' AND seq = 1`, b, 1},
		{"deleted last", `DELETE FROM audit_log WHERE chain = '` + b + `' AND seq = 3`, b, 3},
		{"deleted a whole chain's entries", `DELETE FROM audit_log WHERE chain = '` + c + `'`, c, 1},
		{"deleted a chain's head", `DELETE FROM audit_chains WHERE chain = '` + b + `'`, b, 3},
		{"deleted a whole chain, head and entries", `DELETE FROM audit_log WHERE chain = '` + c + `'; DELETE FROM audit_chains WHERE chain = '` + c + `'`, c, 1},
		{"head moved back", `UPDATE audit_chains SET seq = 3, hash = (SELECT hash FROM audit_log WHERE chain = '` + a + `' AND seq = 3) WHERE chain = '` + a + `'`, a, 4},
	}
	for _, tt := range tampers {
		t.Run(tt.name, func(t *testing.T) {
			for _, eng := range sqldbtest.Engines(t) {
				t.Run(eng.Name, func(t *testing.T) {
					sharded(t, eng.DB)
					ctx := audit.WithActor(t.Context(), audit.Actor{ID: "u1", Name: "张三", IP: "10.0.0.1", RequestID: "r1"})
					for i := range 4 { // interleaved, one transaction each
						for _, ts := range [][]string{ta, tb, tc1} {
							if i < len(ts) {
								writeOn(t, eng.DB, ctx, ts[i])
							}
						}
					}
					for id, chain := range chainsOf(t, eng.DB) {
						if want := audit.ChainFor(id); chain != want {
							t.Fatalf("entry on %s joined %s, want %s", id, chain, want)
						}
					}
					if tt.sql != "" {
						if _, err := eng.DB.W.ExecContext(ctx, tt.sql); err != nil {
							t.Fatal(err)
						}
					}
					rep := verify(t, eng.DB)
					if tt.chain == "" && (!rep.OK || rep.Entries != 8 || rep.Chains != audit.Shards+1) {
						t.Fatalf("Verify = %+v, want 8 intact entries in %d chains and the bulk chain", rep, audit.Shards)
					}
					if tt.chain != "" && (rep.OK || rep.Chain != tt.chain || rep.BrokenAt != tt.seq || !strings.Contains(rep.Problem, tt.chain)) {
						t.Errorf("Verify after %s = %+v, want broken at %s %d", tt.name, rep, tt.chain, tt.seq)
					}
				})
			}
		})
	}
}

// TestMainChainVerifiesAfterSharding writes entries to the one main chain,
// as before migration 00037, then adds the shard heads with that migration
// and writes more: the old entries stay and verify, main keeps growing as
// shard 0, and new entries spread over the shards.
func TestMainChainVerifiesAfterSharding(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := t.Context()
			oneChain(t, eng.DB)
			var before []string
			for i := range 40 {
				before = append(before, fmt.Sprintf("old-%d", i))
				writeOn(t, eng.DB, ctx, before[i])
			}
			if rep := verify(t, eng.DB); !rep.OK || rep.Entries != 40 || rep.Chains != 1 {
				t.Fatalf("Verify before sharding = %+v", rep)
			}
			sharded(t, eng.DB)
			var after []string
			for i := range 200 {
				after = append(after, fmt.Sprintf("new-%d", i))
				writeOn(t, eng.DB, ctx, after[i])
			}
			rep := verify(t, eng.DB)
			if !rep.OK || rep.Entries != 240 || rep.Chains != audit.Shards+1 {
				t.Fatalf("Verify after sharding = %+v, want 240 intact entries in %d chains and the bulk chain", rep, audit.Shards)
			}
			chains := chainsOf(t, eng.DB)
			for _, id := range before {
				if chains[id] != audit.MainChain {
					t.Errorf("old entry %s is in %s, want %s", id, chains[id], audit.MainChain)
				}
			}
			used := map[string]int{}
			for _, id := range after {
				if chains[id] != audit.ChainFor(id) {
					t.Errorf("new entry %s is in %s, want %s", id, chains[id], audit.ChainFor(id))
				}
				used[chains[id]]++
			}
			if len(used) != audit.Shards {
				t.Errorf("200 new entries used %d chains (%v), want all %d", len(used), used, audit.Shards)
			}
			var mainSeq int64
			if err := eng.DB.R.QueryRowContext(ctx, `SELECT seq FROM audit_chains WHERE chain = $1`, audit.MainChain).Scan(&mainSeq); err != nil {
				t.Fatal(err)
			}
			if want := int64(40 + used[audit.MainChain]); mainSeq != want {
				t.Errorf("main head at %d, want %d (the old entries and shard 0's new ones)", mainSeq, want)
			}
		})
	}
}

// TestTransactionKeepsOneChain checks that every entry of a transaction
// joins the chain its first entry chose, whatever their targets, and that a
// rolled-back transaction leaves no gap.
func TestTransactionKeepsOneChain(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := t.Context()
			sharded(t, eng.DB)
			a, b := targetsIn(audit.ChainName(1), 2), targetsIn(audit.ChainName(2), 2)
			writeOn(t, eng.DB, ctx, a[0], b[0], b[1])
			writeOn(t, eng.DB, ctx, b[0]) // b[0] again, alone: its own chain
			err := sqldb.InTx(ctx, eng.DB, func(tx *sql.Tx) error {
				if err := audit.Write(ctx, tx, audit.Entry{Action: "test.rollback", TargetID: a[1]}); err != nil {
					return err
				}
				return errors.New("rolled back")
			})
			if err == nil {
				t.Fatal("InTx succeeded, want the rollback")
			}
			writeOn(t, eng.DB, ctx, a[1])
			rows, err := eng.DB.R.QueryContext(ctx, `SELECT chain, seq, target_id FROM audit_log ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []string
			for rows.Next() {
				var chain, id string
				var seq int64
				rows.Scan(&chain, &seq, &id)
				got = append(got, fmt.Sprintf("%s %s#%d", id, chain, seq))
			}
			c1, c2 := audit.ChainName(1), audit.ChainName(2)
			want := []string{a[0] + " " + c1 + "#1", b[0] + " " + c1 + "#2", b[1] + " " + c1 + "#3", b[0] + " " + c2 + "#1", a[1] + " " + c1 + "#4"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			if rep := verify(t, eng.DB); !rep.OK || rep.Entries != 5 {
				t.Errorf("Verify = %+v, want 5 intact entries", rep)
			}
		})
	}
}

func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	for _, layout := range []string{"one chain", "sharded"} {
		t.Run(layout, func(t *testing.T) {
			for _, eng := range sqldbtest.Engines(t) {
				t.Run(eng.Name, func(t *testing.T) {
					ctx := t.Context()
					if layout == "sharded" {
						sharded(t, eng.DB)
					} else {
						oneChain(t, eng.DB)
					}
					var wg sync.WaitGroup
					for w := range 6 {
						wg.Go(func() {
							for i := range 10 {
								// Two entries a transaction, on targets of different
								// shards in either order: one chain each, no deadlock.
								x, y := fmt.Sprintf("w%d.%d", w, i), fmt.Sprintf("w%d.%d", (w+1)%6, i)
								if w%2 == 1 {
									x, y = y, x
								}
								writeOn(t, eng.DB, ctx, x, y)
							}
						})
					}
					wg.Wait()
					rep := verify(t, eng.DB)
					if !rep.OK || rep.Entries != 120 {
						t.Fatalf("Verify = %+v; want 120 intact entries", rep)
					}
				})
			}
		})
	}
}

func TestListFiltersAndScopes(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := audit.WithActor(t.Context(), audit.Actor{ID: "u1", Name: "王五"})
			write(t, eng.DB, ctx, "org.department.create", "150100")
			write(t, eng.DB, ctx, "org.department.update", "150200")
			write(t, eng.DB, ctx, "staff.user.create", "150100")
			write(t, eng.DB, audit.WithActor(t.Context(), audit.Actor{ID: "u2", Name: "Wang Wu 王五"}), "staff.user.update", "150200")
			tests := []struct {
				name  string
				q     audit.Query
				scope string
				args  []any
				want  int
			}{
				{"all", audit.Query{}, "1 = 1", nil, 4},
				{"scope hohhot", audit.Query{}, "region_code LIKE $1", []any{"1501%"}, 2},
				{"action prefix", audit.Query{Action: "org."}, "1 = 1", nil, 2},
				{"action prefix in upper case", audit.Query{Action: "ORG.Department"}, "1 = 1", nil, 2},
				{"action prefix is a prefix", audit.Query{Action: "department"}, "1 = 1", nil, 0},
				{"actor name", audit.Query{Actor: "王"}, "1 = 1", nil, 4},
				{"actor name in other case", audit.Query{Actor: "wANG wu"}, "1 = 1", nil, 1},
				{"actor id", audit.Query{Actor: "u2"}, "1 = 1", nil, 1},
				{"actor none", audit.Query{Actor: "赵"}, "1 = 1", nil, 0},
				{"scope and action", audit.Query{Action: "org."}, "region_code LIKE $1", []any{"1502%"}, 1},
				{"no grant", audit.Query{}, "1 = 0", nil, 0},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					got, total, err := audit.List(ctx, eng.DB, tc.q, tc.scope, tc.args)
					if err != nil {
						t.Fatal(err)
					}
					if total != tc.want || len(got) != tc.want {
						t.Errorf("List = %d rows, total %d; want %d", len(got), total, tc.want)
					}
				})
			}
		})
	}
}

// TestListLimits checks that out-of-range offsets are clamped (PostgreSQL
// refuses a negative OFFSET) and over-long search text is refused as
// Invalid before it reaches the database (SQLite refuses huge LIKE patterns).
func TestListLimits(t *testing.T) {
	long := strings.Repeat("审", sqldb.MaxSearch+1)
	huge := strings.Repeat("%_", 40000)
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := audit.WithActor(t.Context(), audit.Actor{ID: "u1", Name: "王五"})
			write(t, eng.DB, ctx, "org.department.create", "150100")
			tests := []struct {
				name      string
				q         audit.Query
				wantRows  int
				wantField string // for an Invalid error
			}{
				{name: "negative offset", q: audit.Query{Offset: -50}, wantRows: 1},
				{name: "most negative offset", q: audit.Query{Offset: math.MinInt}, wantRows: 1},
				{name: "huge offset", q: audit.Query{Offset: math.MaxInt}, wantRows: 0},
				{name: "actor at the limit", q: audit.Query{Actor: strings.Repeat("王", sqldb.MaxSearch)}, wantRows: 0},
				{name: "actor too long", q: audit.Query{Actor: long}, wantField: "actor"},
				{name: "action too long", q: audit.Query{Action: long}, wantField: "action"},
				{name: "huge action pattern", q: audit.Query{Action: huge}, wantField: "action"},
				{name: "target too long", q: audit.Query{TargetID: long}, wantField: "target"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					got, total, err := audit.List(ctx, eng.DB, tc.q, "1 = 1", nil)
					if tc.wantField != "" {
						e, ok := errors.AsType[*errs.Error](err)
						if !ok || e.Kind != errs.Invalid || e.Msg != "搜索内容过长" || e.Fields[tc.wantField] == "" {
							t.Errorf("List = %v, want Invalid 搜索内容过长 on %s", err, tc.wantField)
						}
						return
					}
					if err != nil {
						t.Fatalf("List: %v", err)
					}
					if len(got) != tc.wantRows {
						t.Errorf("List = %d rows (total %d), want %d", len(got), total, tc.wantRows)
					}
				})
			}
		})
	}
}

// TestVerifyWhileWriting: heads and entries are read from one snapshot, so
// appends going on during a check never look like tampering.
func TestVerifyWhileWriting(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			sharded(t, eng.DB)
			ctx := audit.WithActor(t.Context(), audit.Actor{ID: "u1", Name: "张三"})
			done := make(chan struct{})
			stop := make(chan struct{})
			go func() {
				defer close(done)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if err := sqldb.InTx(ctx, eng.DB, func(tx *sql.Tx) error {
						return audit.Write(ctx, tx, audit.Entry{Action: "test.write", TargetType: "thing", TargetID: fmt.Sprint("t", i), Region: "150100"})
					}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
			for range 60 {
				if rep := verify(t, eng.DB); !rep.OK {
					t.Errorf("Verify during writes = %+v", rep)
					break
				}
			}
			close(stop)
			<-done
		})
	}
}

// TestBulkChain: a transaction pinned with Bulk appends every entry to the
// bulk chain, where its head exists, and to main where it does not; while
// it is open, regular writes on PostgreSQL go on (SQLite serialises every
// write anyway); deleting the whole bulk chain is a break.
func TestBulkChain(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := t.Context()
			oneChain(t, eng.DB)
			bulk := func(targets ...string) {
				t.Helper()
				if err := sqldb.InTx(ctx, eng.DB, func(tx *sql.Tx) error {
					if err := audit.Bulk(ctx, tx); err != nil {
						return err
					}
					for _, id := range targets {
						if err := audit.Write(ctx, tx, audit.Entry{Action: "test.bulk", TargetType: "thing", TargetID: id}); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			bulk("one-a", "one-b")
			if chains := chainsOf(t, eng.DB); chains["one-a"] != audit.MainChain || chains["one-b"] != audit.MainChain {
				t.Fatalf("without the bulk head: %v, want main", chains)
			}
			sharded(t, eng.DB)
			ids := append(targetsIn(audit.ChainName(3), 2), targetsIn(audit.ChainName(9), 2)...)
			bulk(ids...)
			chains := chainsOf(t, eng.DB)
			for _, id := range ids {
				if chains[id] != audit.BulkChain {
					t.Errorf("bulk entry %s joined %s, want %s", id, chains[id], audit.BulkChain)
				}
			}
			if eng.DB.Dialect == sqldb.Postgres {
				// An open bulk transaction holds the bulk head only.
				tx, err := eng.DB.W.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				if err := audit.Bulk(ctx, tx); err != nil {
					t.Fatal(err)
				}
				if err := audit.Write(ctx, tx, audit.Entry{Action: "test.bulk", TargetType: "thing", TargetID: ids[0]}); err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() {
					// The shard of ids[0], not bulk.
					done <- sqldb.InTx(ctx, eng.DB, func(tx *sql.Tx) error {
						return audit.Write(ctx, tx, audit.Entry{Action: "test.write", TargetType: "thing", TargetID: ids[0]})
					})
				}()
				select {
				case err := <-done:
					if err != nil {
						t.Fatal(err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("a regular write waited for an open bulk transaction")
				}
				tx.Rollback()
			}
			// A transaction that wrote an entry first keeps its chain.
			late := targetsIn(audit.ChainName(5), 2)
			if err := sqldb.InTx(ctx, eng.DB, func(tx *sql.Tx) error {
				if err := audit.Write(ctx, tx, audit.Entry{Action: "test.write", TargetType: "thing", TargetID: late[0]}); err != nil {
					return err
				}
				if err := audit.Bulk(ctx, tx); err != nil {
					return err
				}
				return audit.Write(ctx, tx, audit.Entry{Action: "test.write", TargetType: "thing", TargetID: late[1]})
			}); err != nil {
				t.Fatal(err)
			}
			if chains := chainsOf(t, eng.DB); chains[late[0]] != audit.ChainName(5) || chains[late[1]] != audit.ChainName(5) {
				t.Errorf("Bulk after a first entry: %s, %s; want both in %s", chains[late[0]], chains[late[1]], audit.ChainName(5))
			}
			if rep := verify(t, eng.DB); !rep.OK || rep.Chains != audit.Shards+1 {
				t.Fatalf("Verify = %+v, want intact, %d chains", rep, audit.Shards+1)
			}
			if _, err := eng.DB.W.ExecContext(ctx, `DELETE FROM audit_log WHERE chain = 'bulk'`); err != nil {
				t.Fatal(err)
			}
			if _, err := eng.DB.W.ExecContext(ctx, `DELETE FROM audit_chains WHERE chain = 'bulk'`); err != nil {
				t.Fatal(err)
			}
			if rep := verify(t, eng.DB); rep.OK || rep.Chain != audit.BulkChain {
				t.Errorf("Verify after deleting the bulk chain = %+v, want broken at %s", rep, audit.BulkChain)
			}
		})
	}
}
