package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"yiwang/internal/platform/sqldb"
	"yiwang/internal/platform/sqldb/sqldbtest"
	"yiwang/migrations"
)

// columns lists "table.column notnull" for every application table.
func columns(t *testing.T, db *sqldb.DB) []string {
	t.Helper()
	ctx := context.Background()
	var q string
	switch db.Dialect {
	case sqldb.SQLite:
		q = `SELECT m.name, p.name, p."notnull" FROM sqlite_master m, pragma_table_info(m.name) p
		     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`
	case sqldb.Postgres:
		q = `SELECT table_name, column_name, CASE is_nullable WHEN 'NO' THEN 1 ELSE 0 END
		     FROM information_schema.columns WHERE table_schema = current_schema()`
	}
	rows, err := db.R.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var table, col string
		var notnull int
		if err := rows.Scan(&table, &col, &notnull); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(table, "goose_") {
			continue // goose's own bookkeeping differs by design (lock table on PostgreSQL)
		}
		nn := ""
		if notnull == 1 {
			nn = " not null"
		}
		out = append(out, table+"."+col+nn)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestSchemaSameOnEveryEngine(t *testing.T) {
	engines := sqldbtest.Engines(t)
	if len(engines) < 2 {
		t.Skipf("needs PostgreSQL to compare with SQLite: set %s", sqldbtest.PGEnv)
	}
	want := columns(t, engines[0].DB)
	if len(want) < 20 {
		t.Fatalf("only %d columns after migration on %s", len(want), engines[0].Name)
	}
	for _, eng := range engines[1:] {
		if diff := cmp.Diff(want, columns(t, eng.DB)); diff != "" {
			t.Errorf("schema differs between %s and %s (-%s +%s):\n%s", engines[0].Name, eng.Name, engines[0].Name, eng.Name, diff)
		}
	}
}

func TestDialectFoldersHoldSameVersions(t *testing.T) {
	versions := func(dir string) []string {
		var v []string
		entries, err := fs.ReadDir(migrations.FS, dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".sql") {
				n, _, _ := strings.Cut(e.Name(), "_")
				v = append(v, n)
			}
		}
		return v
	}
	if diff := cmp.Diff(versions("sqlite"), versions("postgres")); diff != "" {
		t.Errorf("sqlite/ and postgres/ migrations differ in versions (-sqlite +postgres):\n%s", diff)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			n, err := eng.DB.Migrate(t.Context())
			if err != nil || n != 0 {
				t.Fatalf("second Migrate = %d, %v; want 0, nil", n, err)
			}
			cur, latest, err := eng.DB.Versions(t.Context())
			if err != nil || cur != latest || cur == 0 {
				t.Fatalf("Versions = %d, %d, %v", cur, latest, err)
			}
		})
	}
}

func TestInTxRollsBackAndClassifiesConstraints(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := t.Context()
			db := eng.DB
			insert := func(tx *sql.Tx, name string) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO reference_datasets (name, version, rows, loaded_at) VALUES ($1, $2, $3, $4)`,
					name, "v1", 1, sqldb.Now())
				return err
			}
			boom := errors.New("boom")
			err := sqldb.InTx(ctx, db, func(tx *sql.Tx) error {
				if err := insert(tx, "a"); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("InTx error = %v, want boom", err)
			}
			var n int
			if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM reference_datasets`).Scan(&n); err != nil || n != 0 {
				t.Fatalf("after rollback count = %d, %v; want 0", n, err)
			}
			if err := sqldb.InTx(ctx, db, func(tx *sql.Tx) error { return insert(tx, "a") }); err != nil {
				t.Fatal(err)
			}
			err = sqldb.InTx(ctx, db, func(tx *sql.Tx) error { return insert(tx, "a") })
			if !sqldb.IsUniqueViolation(err) {
				t.Fatalf("duplicate insert error = %v, want a unique violation", err)
			}
			err = sqldb.InTx(ctx, db, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO departments (id, name, region_code, path, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
					sqldb.NewID(), "x", "999999", "/", sqldb.Now())
				return err
			})
			if !sqldb.IsForeignKeyViolation(err) {
				t.Fatalf("insert with unknown region error = %v, want a foreign-key violation", err)
			}
		})
	}
}

// TestConcurrentWriters shows the writer pool serialising SQLite writes and
// InTx retrying PostgreSQL's serialization failures: no write is lost.
func TestConcurrentWriters(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := t.Context()
			db := eng.DB
			if _, err := db.W.ExecContext(ctx, `INSERT INTO audit_chains (chain, seq, hash) VALUES ('c', 0, '')`); err != nil {
				t.Fatal(err)
			}
			const workers, each = 4, 25
			var wg sync.WaitGroup
			errc := make(chan error, workers)
			for range workers {
				wg.Go(func() {
					for range each {
						err := sqldb.InTx(ctx, db, func(tx *sql.Tx) error {
							if db.Dialect == sqldb.Postgres {
								if _, err := tx.ExecContext(ctx, `SET TRANSACTION ISOLATION LEVEL SERIALIZABLE`); err != nil {
									return err
								}
							}
							var seq int64
							if err := tx.QueryRowContext(ctx, `SELECT seq FROM audit_chains WHERE chain = 'c'`).Scan(&seq); err != nil {
								return err
							}
							_, err := tx.ExecContext(ctx, `UPDATE audit_chains SET seq = $1 WHERE chain = 'c'`, seq+1)
							return err
						})
						if err != nil {
							errc <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				t.Fatal(err)
			}
			var seq int64
			if err := db.R.QueryRowContext(ctx, `SELECT seq FROM audit_chains WHERE chain = 'c'`).Scan(&seq); err != nil {
				t.Fatal(err)
			}
			if seq != workers*each {
				t.Fatalf("seq = %d after %d increments: lost updates", seq, workers*each)
			}
		})
	}
}

func TestOpenRejectsUnknownScheme(t *testing.T) {
	if _, err := sqldb.Open(t.Context(), "mysql://x"); err == nil {
		t.Fatal("Open(mysql://x) succeeded")
	}
	if _, err := os.Stat("x"); err == nil {
		t.Fatal("Open created a file")
	}
}

func TestClampPage(t *testing.T) {
	for _, tc := range []struct{ in, want int }{
		{math.MinInt, 1}, {-1, 1}, {0, 1}, {1, 1}, {2, 2}, {sqldb.MaxPage, sqldb.MaxPage}, {sqldb.MaxPage + 1, sqldb.MaxPage}, {math.MaxInt, sqldb.MaxPage},
	} {
		if got := sqldb.ClampPage(tc.in); got != tc.want {
			t.Errorf("ClampPage(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestLowerASCII(t *testing.T) {
	for in, want := range map[string]string{"": "", "ABC数据中心": "abc数据中心", "aBc-Z_@[`{": "abc-z_@[`{", "ÄÖÜ Ж": "ÄÖÜ Ж"} {
		if got := sqldb.LowerASCII(in); got != want {
			t.Errorf("LowerASCII(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNullString(t *testing.T) {
	if got := sqldb.NullString(""); got != nil {
		t.Errorf("NullString(\"\") = %#v, want nil", got)
	}
	if got := sqldb.NullString("x"); got != "x" {
		t.Errorf("NullString(\"x\") = %#v, want \"x\"", got)
	}
}
