// Package outbox is the transactional outbox: a domain writes an event row in
// the same transaction as its change (Enqueue), and an in-process Worker
// delivers it afterwards to the handler registered for its topic —
// notifications, webhooks, search-index updates, and news for higher domains.
//
// Delivery is at least once: a worker claims a batch by setting a lease
// (no row locks, no SKIP LOCKED, so it runs on every engine), calls the
// handler, and marks the row done. A crash or a lost lease makes the row
// available again, so handlers must dedupe on Message.ID. Failures retry
// with exponential backoff until MaxAttempts, then the row is parked as
// failed for an operator to see.
package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"yiwang/internal/platform/sqldb"
)

// Message is one event to deliver.
type Message struct {
	ID        string
	Topic     string
	Payload   []byte // JSON
	Attempts  int    // including this one
	CreatedAt time.Time
}

// Decode unmarshals the payload into v.
func (m Message) Decode(v any) error { return json.Unmarshal(m.Payload, v) }

// Enqueue writes an event with topic and JSON payload inside tx and returns
// its id. It is delivered after tx commits, and never if tx rolls back.
func Enqueue(ctx context.Context, tx *sql.Tx, topic string, payload any) (string, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("outbox.Enqueue(%s): %w", topic, err)
	}
	id, now := sqldb.NewID(), sqldb.Now()
	_, err = tx.ExecContext(ctx, `INSERT INTO outbox (id, topic, payload, created_at, available_at) VALUES ($1, $2, $3, $4, $4)`,
		id, topic, string(b), now)
	if err != nil {
		return "", fmt.Errorf("outbox.Enqueue(%s): %w", topic, err)
	}
	return id, nil
}

// Handler delivers one message. Returning an error schedules a retry.
type Handler func(ctx context.Context, m Message) error

// Options tune a Worker; zero values take the defaults in brackets.
type Options struct {
	Owner       string        // lease owner name [random]
	Batch       int           // messages claimed at once [32]
	Concurrency int           // handlers running at once [2]
	Lease       time.Duration // how long a claim lasts [1m]
	Poll        time.Duration // idle wait between claims [1s]
	MaxAttempts int           // then parked as failed [10]
	BaseBackoff time.Duration // first retry delay, doubling each time [2s, capped at 1h]
	Log         *slog.Logger
	Registerer  prometheus.Registerer // metrics; nil: none
}

// Worker claims and delivers outbox messages.
type Worker struct {
	db       *sqldb.DB
	o        Options
	mu       sync.RWMutex
	handlers map[string][]Handler
	wake     chan struct{}

	delivered, retried, failed *prometheus.CounterVec
}

// NewWorker returns a worker on db; register handlers before Run.
func NewWorker(db *sqldb.DB, o Options) *Worker {
	if o.Owner == "" {
		o.Owner = "worker-" + sqldb.NewID()
	}
	if o.Batch <= 0 {
		o.Batch = 32
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 2
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 2 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	w := &Worker{db: db, o: o, handlers: map[string][]Handler{}, wake: make(chan struct{}, 1)}
	w.delivered = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yiwang_outbox_delivered_total", Help: "Outbox messages delivered."}, []string{"topic"})
	w.retried = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yiwang_outbox_retried_total", Help: "Outbox deliveries that failed and will be retried."}, []string{"topic"})
	w.failed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yiwang_outbox_failed_total", Help: "Outbox messages parked after their last attempt."}, []string{"topic"})
	if o.Registerer != nil {
		o.Registerer.MustRegister(w.delivered, w.retried, w.failed)
	}
	return w
}

// Handle registers h for topic; several domains may subscribe to one
// topic. Topics without a handler stay queued. A message counts as
// delivered when every handler of its topic succeeded; if one fails, all
// run again on the retry, so each must be idempotent.
func (w *Worker) Handle(topic string, h Handler) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.handlers[topic] = append(w.handlers[topic], h)
}

// Notify wakes the worker early instead of at its next poll. Nothing calls
// it yet: producers enqueue inside their own transactions and cannot see
// the worker. It is kept for a producer that wants delivery right after its
// commit (call it after the transaction commits, never inside it).
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	for {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.o.Log.Error("outbox claim failed", "err", err)
		}
		if n == w.o.Batch {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-time.After(w.o.Poll):
		}
	}
}

// RunOnce claims one batch, delivers it and returns how many were claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	msgs, err := w.claim(ctx)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	sem := make(chan struct{}, w.o.Concurrency)
	var wg sync.WaitGroup
	for _, m := range msgs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			w.deliver(ctx, m)
		})
	}
	wg.Wait()
	return len(msgs), nil
}

func (w *Worker) topics() []string {
	w.mu.RLock()
	defer w.mu.RUnlock()
	out := make([]string, 0, len(w.handlers))
	for t := range w.handlers {
		out = append(out, t)
	}
	return out
}

// claim leases up to Batch due messages. The lease condition is repeated in
// the outer WHERE so that, on PostgreSQL, a worker that waited for another's
// update re-checks the row and skips it if it was claimed meanwhile.
func (w *Worker) claim(ctx context.Context) ([]Message, error) {
	topics := w.topics()
	if len(topics) == 0 {
		return nil, nil
	}
	now := sqldb.Now()
	args := []any{w.o.Owner, now.Add(w.o.Lease), now, w.o.Batch}
	ph := make([]string, len(topics))
	for i, t := range topics {
		args = append(args, t)
		ph[i] = "$" + strconv.Itoa(len(args))
	}
	in := strings.Join(ph, ", ")
	q := `UPDATE outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
		WHERE id IN (
			SELECT id FROM outbox
			WHERE done_at IS NULL AND failed_at IS NULL AND available_at <= $3
			  AND (lease_until IS NULL OR lease_until < $3) AND topic IN (` + in + `)
			ORDER BY available_at ASC, id ASC LIMIT $4)
		  AND done_at IS NULL AND failed_at IS NULL AND (lease_until IS NULL OR lease_until < $3)
		RETURNING id, topic, payload, attempts, created_at`
	var msgs []Message
	err := sqldb.InTx(ctx, w.db, func(tx *sql.Tx) error {
		msgs = msgs[:0]
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m Message
			var payload string
			if err := rows.Scan(&m.ID, &m.Topic, &payload, &m.Attempts, &m.CreatedAt); err != nil {
				return err
			}
			m.Payload = []byte(payload)
			msgs = append(msgs, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("outbox.claim: %w", err)
	}
	return msgs, nil
}

func (w *Worker) deliver(ctx context.Context, m Message) {
	w.mu.RLock()
	hs := w.handlers[m.Topic]
	w.mu.RUnlock()
	var err error
	for _, h := range hs {
		if err = safeCall(ctx, h, m); err != nil {
			break
		}
	}
	now := sqldb.Now()
	var q string
	var args []any
	switch {
	case err == nil:
		q, args = `UPDATE outbox SET done_at = $1, lease_until = NULL, last_error = '' WHERE id = $2 AND lease_owner = $3`, []any{now, m.ID, w.o.Owner}
		w.delivered.WithLabelValues(m.Topic).Inc()
	case m.Attempts >= w.o.MaxAttempts:
		q, args = `UPDATE outbox SET failed_at = $1, lease_until = NULL, last_error = $2 WHERE id = $3 AND lease_owner = $4`, []any{now, truncate(err.Error()), m.ID, w.o.Owner}
		w.failed.WithLabelValues(m.Topic).Inc()
		w.o.Log.Error("outbox message failed for good", "id", m.ID, "topic", m.Topic, "attempts", m.Attempts, "err", err)
	default:
		next := now.Add(w.Backoff(m.Attempts))
		q, args = `UPDATE outbox SET available_at = $1, lease_until = NULL, last_error = $2 WHERE id = $3 AND lease_owner = $4`, []any{next, truncate(err.Error()), m.ID, w.o.Owner}
		w.retried.WithLabelValues(m.Topic).Inc()
		w.o.Log.Warn("outbox delivery failed, will retry", "id", m.ID, "topic", m.Topic, "attempt", m.Attempts, "retry_at", next, "err", err)
	}
	// Recording the outcome must survive the caller's cancellation.
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := w.db.W.ExecContext(uctx, q, args...); err != nil {
		w.o.Log.Error("outbox outcome not recorded; message will be redelivered", "id", m.ID, "err", err)
	}
}

// Backoff returns the delay before retrying after the given attempt:
// BaseBackoff doubling per attempt, capped at one hour.
func (w *Worker) Backoff(attempt int) time.Duration {
	d := w.o.BaseBackoff
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

func safeCall(ctx context.Context, h Handler, m Message) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, m)
}

// maxErrorBytes bounds the last_error kept for a message.
const maxErrorBytes = 2000

// truncate makes an error text fit last_error: valid UTF-8 without NUL
// bytes (PostgreSQL refuses both in TEXT, and a refused outcome UPDATE
// would leave the message to be redelivered forever instead of parking),
// at most maxErrorBytes long, cut at a rune boundary.
func truncate(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	if len(s) <= maxErrorBytes {
		return s
	}
	cut := maxErrorBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// Stats counts messages by state, for the operations page.
type Stats struct{ Pending, Done, Failed int }

// Count returns the outbox's Stats.
func Count(ctx context.Context, db *sqldb.DB) (Stats, error) {
	var s Stats
	err := db.R.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN done_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN done_at IS NOT NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0) FROM outbox`).Scan(&s.Pending, &s.Done, &s.Failed)
	if err != nil {
		return s, fmt.Errorf("outbox.Count: %w", err)
	}
	return s, nil
}
