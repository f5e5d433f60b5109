package app

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"yiwang/internal/config"
	"yiwang/internal/platform/outbox"
	"yiwang/internal/platform/password"
	"yiwang/internal/platform/sqldb"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// brokenListener is a listener whose Accept fails for good once broken is
// closed, making http.Server.Serve return early; Close unblocks it too.
type brokenListener struct {
	broken, closed chan struct{}
}

func (l *brokenListener) Accept() (net.Conn, error) {
	select {
	case <-l.broken:
		return nil, errors.New("listener broke")
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *brokenListener) Close() error {
	select {
	case <-l.closed:
	default:
		close(l.closed)
	}
	return nil
}

func (l *brokenListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

// TestServeWaitsForBackgroundWork checks that Serve returns only after the
// outbox worker (here in the middle of a slow delivery) and housekeeping
// have stopped, whether it ends by its context or by the server failing.
func TestServeWaitsForBackgroundWork(t *testing.T) {
	tests := []struct {
		name    string
		exit    func(cancel context.CancelFunc, ln *brokenListener)
		wantErr bool
	}{
		{name: "context cancelled", exit: func(cancel context.CancelFunc, _ *brokenListener) { cancel() }},
		{name: "server fails early", exit: func(_ context.CancelFunc, ln *brokenListener) { close(ln.broken) }, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eng := sqldbtest.SQLite(t)
			cfg := config.Default()
			cfg.DB, cfg.DataDir = eng.DSN, t.TempDir()
			a, err := New(t.Context(), cfg, eng.DB, Options{HashParams: &password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
				Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			started := make(chan struct{})
			var finished atomic.Bool
			a.Outbox.Handle("test.slow", func(ctx context.Context, m outbox.Message) error {
				close(started)
				time.Sleep(300 * time.Millisecond) // a delivery that does not stop at once
				finished.Store(true)
				return nil
			})
			err = sqldb.InTx(t.Context(), eng.DB, func(tx *sql.Tx) error {
				_, err := outbox.Enqueue(t.Context(), tx, "test.slow", struct{}{})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			ln := &brokenListener{broken: make(chan struct{}), closed: make(chan struct{})}
			a.listen = func(string, string) (net.Listener, error) { return ln, nil }
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- a.Serve(ctx, nil) }()
			select {
			case <-started:
			case <-time.After(10 * time.Second):
				t.Fatal("the outbox worker did not start delivering")
			}
			tc.exit(cancel, ln)
			select {
			case err = <-errc:
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return")
			}
			if (err != nil) != tc.wantErr {
				t.Errorf("Serve = %v, want error %v", err, tc.wantErr)
			}
			if !finished.Load() {
				t.Error("Serve returned while an outbox delivery was still running")
			}
			buf := make([]byte, 1<<20)
			stacks := string(buf[:runtime.Stack(buf, true)])
			for _, fn := range []string{"app.(*App).housekeeping", "outbox.(*Worker).Run"} {
				if strings.Contains(stacks, fn) {
					t.Errorf("%s still running after Serve returned", fn)
				}
			}
		})
	}
}
