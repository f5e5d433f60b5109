package sqldb

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"testing/fstest"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"yiwang/migrations"
)

// MigrationFS returns the migrations for d: the shared files plus those in
// d's own folder. goose reads only the top of its fs.FS, so the two are
// merged into one flat folder; a dialect file replaces a shared file of the
// same version.
func MigrationFS(src fs.FS, d Dialect) (fs.FS, error) {
	merged := fstest.MapFS{}
	byVersion := map[string]string{}
	add := func(dir string) error {
		entries, err := fs.ReadDir(src, dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
				continue
			}
			b, err := fs.ReadFile(src, path.Join(dir, e.Name()))
			if err != nil {
				return err
			}
			version, _, _ := strings.Cut(e.Name(), "_")
			if old, ok := byVersion[version]; ok {
				delete(merged, old)
			}
			byVersion[version] = e.Name()
			merged[e.Name()] = &fstest.MapFile{Data: b, Mode: 0o444}
		}
		return nil
	}
	if err := add("."); err != nil {
		return nil, err
	}
	if err := add(string(d)); err != nil {
		return nil, err
	}
	return merged, nil
}

func (db *DB) provider() (*goose.Provider, error) {
	fsys, err := MigrationFS(migrations.FS, db.Dialect)
	if err != nil {
		return nil, fmt.Errorf("sqldb: migrations: %w", err)
	}
	switch db.Dialect {
	case SQLite:
		return goose.NewProvider(goose.DialectSQLite3, db.W, fsys)
	case Postgres:
		// A lock row in a table, not an advisory lock: distributed
		// PostgreSQL-compatible engines lack advisory locks.
		locker, err := lock.NewPostgresTableLocker()
		if err != nil {
			return nil, err
		}
		return goose.NewProvider(goose.DialectPostgres, db.W, fsys, goose.WithLocker(locker))
	}
	return nil, fmt.Errorf("sqldb: unknown dialect %q", db.Dialect)
}

// Migrate applies every pending migration and returns how many ran.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	p, err := db.provider()
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("sqldb.Migrate: %w", err)
	}
	return len(res), nil
}

// Versions returns the applied and the latest known migration versions.
func (db *DB) Versions(ctx context.Context) (current, latest int64, err error) {
	p, err := db.provider()
	if err != nil {
		return 0, 0, err
	}
	return p.GetVersions(ctx)
}
