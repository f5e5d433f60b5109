// Package sqldbtest gives each test a fresh, migrated database on every
// configured engine: SQLite always, PostgreSQL when YIWANG_TEST_PG holds a
// server URL (each test gets its own schema, dropped afterwards). Under
// CI=true a missing YIWANG_TEST_PG fails the test instead of skipping it.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"yiwang/internal/platform/sqldb"
)

// Engine is one migrated test database.
type Engine struct {
	Name string // "sqlite" or "postgres"
	DB   *sqldb.DB
	DSN  string // what sqldb.Open was given
}

// PGEnv is the variable holding the PostgreSQL server URL for tests.
const PGEnv = "YIWANG_TEST_PG"

// Engines returns a fresh migrated database per configured engine. Without
// YIWANG_TEST_PG it adds a skipped "postgres" subtest to t, so `go test -v`
// says what the missing engine needs.
func Engines(t testing.TB) []Engine {
	t.Helper()
	engines := []Engine{SQLite(t)}
	if pg, ok := Postgres(t, false); ok {
		engines = append(engines, pg)
	} else if tt, ok := t.(*testing.T); ok {
		tt.Run("postgres", func(t *testing.T) {
			t.Skipf("needs PostgreSQL: set %s=postgres://user@host:5432/db?sslmode=disable", PGEnv)
		})
	}
	return engines
}

// SQLite returns a fresh migrated SQLite database in t's temporary folder.
func SQLite(t testing.TB) Engine {
	t.Helper()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "test.db")
	return open(t, "sqlite", dsn)
}

// Postgres returns a fresh migrated PostgreSQL schema when YIWANG_TEST_PG is
// set. Otherwise it skips t when require is true, and reports false when it
// is not — except under CI=true, where a missing server fails t.
func Postgres(t testing.TB, require bool) (Engine, bool) {
	t.Helper()
	base := os.Getenv(PGEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is not set: the PostgreSQL tests must run in CI", PGEnv)
		}
		if require {
			t.Skipf("needs PostgreSQL: set %s=postgres://user@host:5432/db?sslmode=disable", PGEnv)
		}
		return Engine{}, false
	}
	schema := "t_" + randomHex(8)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("sqldbtest: %s: %v", PGEnv, err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("sqldbtest: create schema on %s: %v", PGEnv, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Logf("sqldbtest: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("sqldbtest: %s: %v", PGEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return open(t, "postgres", u.String()), true
}

func open(t testing.TB, name, dsn string) Engine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := sqldb.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("sqldbtest: open %s: %v", name, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("sqldbtest: migrate %s: %v", name, err)
	}
	return Engine{Name: name, DB: db, DSN: dsn}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
