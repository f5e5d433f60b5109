package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/sqldb"
	"yiwang/internal/platform/sqldb/sqldbtest"
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
	}
	for _, tc := range tampers {
		t.Run(tc.name, func(t *testing.T) {
			for _, eng := range sqldbtest.Engines(t) {
				t.Run(eng.Name, func(t *testing.T) {
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
					rep, err := audit.Verify(ctx, eng.DB)
					if err != nil {
						t.Fatal(err)
					}
					if tc.seq == 0 && (!rep.OK || rep.Entries != 5) {
						t.Fatalf("Verify = %+v, want 5 intact entries", rep)
					}
					if tc.seq != 0 && (rep.OK || rep.BrokenAt != tc.seq) {
						t.Errorf("Verify after %s = %+v, want broken at %d", tc.name, rep, tc.seq)
					}
				})
			}
		})
	}
}

func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := t.Context()
			var wg sync.WaitGroup
			for w := range 6 {
				wg.Go(func() {
					for i := range 10 {
						write(t, eng.DB, ctx, fmt.Sprintf("w%d.%d", w, i), "150000")
					}
				})
			}
			wg.Wait()
			rep, err := audit.Verify(ctx, eng.DB)
			if err != nil || !rep.OK || rep.Entries != 60 {
				t.Fatalf("Verify = %+v, %v; want 60 intact entries", rep, err)
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
