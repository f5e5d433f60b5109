package app_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"yiwang/internal/app"
	"yiwang/internal/config"
)

// startup opens (and migrates) a SQLite database at path and wires the app,
// as `yiwang serve` does before listening; with demo it also seeds.
func startup(b *testing.B, path string, demo bool) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.DB = "sqlite:" + path
	cfg.DataDir = filepath.Dir(path)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := app.Open(ctx, cfg, log, false)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	a, err := app.New(ctx, cfg, db, app.Options{Log: log})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	if demo {
		if _, err := a.SeedDemo(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStartupFirstRunDemo measures the first start of `go run
// ./cmd/yiwang` on an empty SQLite file: migrations, 4,577 regions, the demo
// province (952 departments, halls, windows, 7 staff with real argon2id
// hashes), everything audited.
func BenchmarkStartupFirstRunDemo(b *testing.B) {
	for b.Loop() {
		startup(b, filepath.Join(b.TempDir(), "y.db"), true)
	}
}

// BenchmarkStartupWarm is the baseline in the same run: a restart on a
// database that already holds the demo.
func BenchmarkStartupWarm(b *testing.B) {
	path := filepath.Join(b.TempDir(), "y.db")
	startup(b, path, true)
	for b.Loop() {
		startup(b, path, false)
	}
}
