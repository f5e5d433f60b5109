// Package sqldb opens Yiwang's database — embedded SQLite (modernc) or
// PostgreSQL (pgx) — behind one *sql.DB API, runs the embedded migrations and
// wraps transactions with retry. Store code written against it uses only the
// portable SQL subset described in docs/architecture.md, so it runs unchanged
// on both engines and on PostgreSQL-compatible distributed engines.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers driver "pgx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names a database engine.
type Dialect string

// The engines Yiwang runs on.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database. On SQLite, W is a single-connection pool that
// takes every write (so writers queue in Go instead of failing with
// "database is locked") and R is a pool of readers; on PostgreSQL both are
// the same pool.
type DB struct {
	Dialect Dialect
	W       *sql.DB
	R       *sql.DB
	dsn     string
}

// Open connects to dsn ("sqlite:PATH" or a postgres:// URL). For SQLite the
// file's folder is created when missing.
func Open(ctx context.Context, dsn string) (*DB, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"), dsn)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("sqldb.Open: %w", err)
		}
		db.SetMaxOpenConns(max(8, 4*runtime.NumCPU()))
		db.SetMaxIdleConns(max(8, 4*runtime.NumCPU()))
		db.SetConnMaxIdleTime(5 * time.Minute)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("sqldb.Open: connect to PostgreSQL: %w", err)
		}
		return &DB{Dialect: Postgres, W: db, R: db, dsn: dsn}, nil
	}
	return nil, fmt.Errorf("sqldb.Open: want sqlite:PATH or a postgres:// URL")
}

const sqlitePragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"

func openSQLite(ctx context.Context, path, dsn string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqldb.Open: %w", err)
		}
	}
	file := "file:" + (&url.URL{Path: path}).EscapedPath()
	w, err := sql.Open("sqlite", file+"?"+sqlitePragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqldb.Open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqldb.Open: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", file+"?"+sqlitePragmas)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqldb.Open: %w", err)
	}
	n := max(4, 2*runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return &DB{Dialect: SQLite, W: w, R: r, dsn: dsn}, nil
}

// Close closes both pools.
func (db *DB) Close() error {
	err := db.W.Close()
	if db.R != db.W {
		err = errors.Join(err, db.R.Close())
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.R.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// NewID returns a new UUIDv7 as text: time-ordered, made by the application,
// spread across shards by a distributed engine's hash of the key.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// Now returns the current time in UTC, cut to microseconds (PostgreSQL's
// precision) so that values read back compare equal to values written.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Querier is what both *sql.DB and *sql.Tx offer; store functions that run
// inside or outside a transaction take one.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// maxAttempts bounds InTx's retries of a transaction that lost a race.
const maxAttempts = 12

// InTx runs fn in a write transaction and commits it, retrying the whole
// function when the engine reports a serialization failure or deadlock
// (SQLSTATE 40001, 40P01) or SQLite reports the database busy. fn must
// therefore be safe to run more than once: no side effects outside tx.
func InTx(ctx context.Context, db *DB, fn func(tx *sql.Tx) error) error {
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = runTx(ctx, db.W, fn)
		if err == nil || !retryable(err) {
			return err
		}
		// Random jitter keeps transactions that collided from colliding again.
		backoff := time.Duration(attempt*attempt)*2*time.Millisecond + time.Duration(rand.Int64N(int64(attempt)*int64(5*time.Millisecond)))
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(backoff):
		}
	}
	return fmt.Errorf("sqldb.InTx: gave up after %d attempts: %w", maxAttempts, err)
}

func runTx(ctx context.Context, w *sql.DB, fn func(tx *sql.Tx) error) (err error) {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqldb.InTx: begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("sqldb.InTx: commit: %w", err)
	}
	return nil
}

// retryable reports whether err is a lost race the transaction may retry.
func retryable(err error) bool {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		c := se.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	return false
}

// IsUniqueViolation reports whether err is a unique-constraint failure on
// either engine, so stores can turn it into a Conflict.
func IsUniqueViolation(err error) bool {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == "23505"
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// IsForeignKeyViolation reports whether err is a foreign-key failure on either engine.
func IsForeignKeyViolation(err error) bool {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == "23503"
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// NullString returns s as a query argument that stores the empty string as
// NULL, for optional columns such as a department's parent or credit code
// (NULL, unlike "", is exempt from unique indexes and foreign keys).
func NullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// LowerASCII lower-cases the ASCII letters of s and leaves every other
// character as it is. It folds a search pattern compared with LOWER(column):
// SQLite's LOWER folds only ASCII while PostgreSQL's folds all of Unicode,
// so matching is case-insensitive for ASCII letters alone, the same on both
// engines for every ASCII pattern (see docs/architecture.md, portable SQL).
func LowerASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// EscapeLike escapes LIKE wildcards in s for use with ESCAPE '\'.
func EscapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
