package outbox_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"yiwang/internal/platform/outbox"
	"yiwang/internal/platform/sqldb"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

func enqueue(t *testing.T, db *sqldb.DB, topic string, n int, commit bool) {
	t.Helper()
	ctx := t.Context()
	rollback := errors.New("rollback")
	err := sqldb.InTx(ctx, db, func(tx *sql.Tx) error {
		for i := range n {
			if _, err := outbox.Enqueue(ctx, tx, topic, map[string]int{"n": i}); err != nil {
				return err
			}
		}
		if !commit {
			return rollback
		}
		return nil
	})
	if commit && err != nil || !commit && !errors.Is(err, rollback) {
		t.Fatal(err)
	}
}

func TestDeliversCommittedOnly(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			enqueue(t, eng.DB, "t.ok", 3, true)
			enqueue(t, eng.DB, "t.ok", 2, false)
			enqueue(t, eng.DB, "t.nohandler", 1, true)
			w := outbox.NewWorker(eng.DB, outbox.Options{})
			var got []int
			var mu sync.Mutex
			w.Handle("t.ok", func(ctx context.Context, m outbox.Message) error {
				var p struct{ N int }
				if err := m.Decode(&p); err != nil {
					return err
				}
				mu.Lock()
				got = append(got, p.N)
				mu.Unlock()
				return nil
			})
			n, err := w.RunOnce(t.Context())
			if err != nil || n != 3 {
				t.Fatalf("RunOnce = %d, %v; want 3", n, err)
			}
			if n, _ := w.RunOnce(t.Context()); n != 0 {
				t.Fatalf("second RunOnce claimed %d, want 0 (already done)", n)
			}
			if len(got) != 3 {
				t.Fatalf("delivered %v, want 3 messages", got)
			}
			st, err := outbox.Count(t.Context(), eng.DB)
			if err != nil || st != (outbox.Stats{Pending: 1, Done: 3}) {
				t.Fatalf("Count = %+v, %v", st, err)
			}
		})
	}
}

func TestRetriesWithBackoffThenParks(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			enqueue(t, eng.DB, "t.flaky", 1, true)
			enqueue(t, eng.DB, "t.broken", 1, true)
			w := outbox.NewWorker(eng.DB, outbox.Options{MaxAttempts: 3, BaseBackoff: time.Millisecond})
			var flaky, broken atomic.Int32
			w.Handle("t.flaky", func(ctx context.Context, m outbox.Message) error {
				if flaky.Add(1) < 2 {
					return fmt.Errorf("temporary")
				}
				return nil
			})
			w.Handle("t.broken", func(ctx context.Context, m outbox.Message) error {
				broken.Add(1)
				panic("bad handler") // a panicking handler counts as a failure, not a crash
			})
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				if _, err := w.RunOnce(t.Context()); err != nil {
					t.Fatal(err)
				}
				st, _ := outbox.Count(t.Context(), eng.DB)
				if st.Pending == 0 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			st, err := outbox.Count(t.Context(), eng.DB)
			if err != nil || st != (outbox.Stats{Done: 1, Failed: 1}) {
				t.Fatalf("Count = %+v, %v; want 1 done, 1 failed", st, err)
			}
			if flaky.Load() != 2 || broken.Load() != 3 {
				t.Fatalf("attempts flaky=%d broken=%d, want 2 and 3", flaky.Load(), broken.Load())
			}
			var lastErr string
			if err := eng.DB.R.QueryRowContext(t.Context(), `SELECT last_error FROM outbox WHERE topic = 't.broken'`).Scan(&lastErr); err != nil || lastErr == "" {
				t.Fatalf("last_error = %q, %v", lastErr, err)
			}
		})
	}
}

// TestLongErrorsAreRecorded checks that whatever a handler's error says,
// its outcome is recorded on every engine: a long Chinese message (cut at
// byte 2000 it would split a character, which PostgreSQL refuses), invalid
// UTF-8 and NUL bytes. Otherwise the message would never park.
func TestLongErrorsAreRecorded(t *testing.T) {
	chinese := "数据交换平台返回错误：" + strings.Repeat("目标系统暂时无法连接，", 300)
	tests := []struct {
		name       string
		err        string
		wantPrefix string
	}{
		{name: "long Chinese", err: chinese, wantPrefix: "数据交换平台返回错误："},
		{name: "invalid UTF-8", err: "bad bytes \xff\xfe here", wantPrefix: "bad bytes "},
		{name: "NUL byte", err: "nul \x00 here", wantPrefix: "nul "},
	}
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			for _, tc := range tests {
				for _, attempts := range []int{1, 3} { // parked at once; retried later
					t.Run(fmt.Sprintf("%s/max %d", tc.name, attempts), func(t *testing.T) {
						topic := fmt.Sprintf("t.long.%s.%d", strings.ReplaceAll(tc.name, " ", "_"), attempts)
						enqueue(t, eng.DB, topic, 1, true)
						w := outbox.NewWorker(eng.DB, outbox.Options{MaxAttempts: attempts, BaseBackoff: time.Hour})
						w.Handle(topic, func(ctx context.Context, m outbox.Message) error { return errors.New(tc.err) })
						if n, err := w.RunOnce(t.Context()); err != nil || n != 1 {
							t.Fatalf("RunOnce = %d, %v; want 1", n, err)
						}
						var lastErr string
						var failed, leased bool
						err := eng.DB.R.QueryRowContext(t.Context(), `SELECT last_error, failed_at IS NOT NULL, lease_until IS NOT NULL FROM outbox WHERE topic = $1`, topic).Scan(&lastErr, &failed, &leased)
						if err != nil {
							t.Fatal(err)
						}
						if wantFailed := attempts == 1; failed != wantFailed || leased {
							t.Errorf("after one failed attempt of %d: parked %v, still leased %v; want parked %v, lease released", attempts, failed, leased, wantFailed)
						}
						if !utf8.ValidString(lastErr) || len(lastErr) > 2000 || !strings.HasPrefix(lastErr, tc.wantPrefix) || strings.ContainsRune(lastErr, 0) {
							t.Errorf("last_error = %d bytes, valid UTF-8 %v, %.40q; want ≤ 2000 valid bytes starting %q", len(lastErr), utf8.ValidString(lastErr), lastErr, tc.wantPrefix)
						}
					})
				}
			}
		})
	}
}

// TestConcurrentWorkersDeliverOnce runs several workers (as on several nodes)
// against one database: each message is handled exactly once while no lease
// expires.
func TestConcurrentWorkersDeliverOnce(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			const total = 200
			enqueue(t, eng.DB, "t.count", total, true)
			var mu sync.Mutex
			seen := map[string]int{}
			h := func(ctx context.Context, m outbox.Message) error {
				mu.Lock()
				seen[m.ID]++
				mu.Unlock()
				return nil
			}
			var wg sync.WaitGroup
			for i := range 4 {
				w := outbox.NewWorker(eng.DB, outbox.Options{Owner: fmt.Sprint("w", i), Batch: 7})
				w.Handle("t.count", h)
				wg.Go(func() {
					for {
						n, err := w.RunOnce(t.Context())
						if err != nil {
							t.Error(err)
							return
						}
						if n == 0 {
							return
						}
					}
				})
			}
			wg.Wait()
			if len(seen) != total {
				t.Fatalf("delivered %d distinct messages, want %d", len(seen), total)
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("message %s delivered %d times", id, n)
				}
			}
		})
	}
}

func TestExpiredLeaseIsReclaimed(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			enqueue(t, eng.DB, "t.lease", 1, true)
			// A worker that claimed and died: lease set in the past.
			if _, err := eng.DB.W.ExecContext(t.Context(), `UPDATE outbox SET lease_owner = 'dead', lease_until = $1, attempts = 1`, sqldb.Now().Add(-time.Second)); err != nil {
				t.Fatal(err)
			}
			w := outbox.NewWorker(eng.DB, outbox.Options{})
			var attempts int
			w.Handle("t.lease", func(ctx context.Context, m outbox.Message) error { attempts = m.Attempts; return nil })
			if n, err := w.RunOnce(t.Context()); err != nil || n != 1 || attempts != 2 {
				t.Fatalf("RunOnce = %d, %v, attempts %d; want the message reclaimed as attempt 2", n, err, attempts)
			}
		})
	}
}

func TestBackoffDoublesAndCaps(t *testing.T) {
	w := outbox.NewWorker(nil, outbox.Options{BaseBackoff: time.Second})
	for _, tc := range []struct {
		attempt int
		want    time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {4, 8 * time.Second}, {30, time.Hour}} {
		if got := w.Backoff(tc.attempt); got != tc.want {
			t.Errorf("Backoff(%d) = %v, want %v", tc.attempt, got, tc.want)
		}
	}
}

// TestSeveralHandlersPerTopic: every subscriber of a topic receives each
// message; if one fails, the message is retried for all (so each must be
// idempotent) and counts as delivered only when all succeed.
func TestSeveralHandlersPerTopic(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			enqueue(t, eng.DB, "t.fan", 1, true)
			w := outbox.NewWorker(eng.DB, outbox.Options{BaseBackoff: time.Millisecond})
			var a, b atomic.Int32
			w.Handle("t.fan", func(ctx context.Context, m outbox.Message) error { a.Add(1); return nil })
			w.Handle("t.fan", func(ctx context.Context, m outbox.Message) error {
				if b.Add(1) == 1 {
					return fmt.Errorf("first try fails")
				}
				return nil
			})
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				if _, err := w.RunOnce(t.Context()); err != nil {
					t.Fatal(err)
				}
				if st, _ := outbox.Count(t.Context(), eng.DB); st.Done == 1 {
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			if st, _ := outbox.Count(t.Context(), eng.DB); st.Done != 1 || a.Load() != 2 || b.Load() != 2 {
				t.Fatalf("done %d, first handler ran %d times, second %d; want 1, 2, 2", st.Done, a.Load(), b.Load())
			}
		})
	}
}
