// Package audit is the append-only, hash-chained record of every state
// change (审计日志): who did what to which target, when and from where. An
// entry is written in the same transaction as the change it records, so
// there is never a change without its entry or an entry without its change.
//
// Each entry's hash is SHA-256 over the previous entry's hash and the
// entry's canonical form. Appending first bumps the chain's head row
// (audit_chains), which serialises appenders of one chain on every engine;
// Verify recomputes every chain and reports the first break.
//
// The log is sharded into chains so that appenders on PostgreSQL do not all
// queue on one head row: an entry joins the shard its transaction's first
// target hashes to (ChainFor), when that shard's head row exists, and
// MainChain otherwise. The PostgreSQL migration creates the shard heads;
// SQLite, whose writes are serialised anyway, keeps the one chain. Order
// across chains comes from at and the UUIDv7 ids.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"runtime"
	"slices"
	"sync"
	"time"
	"weak"

	"yiwang/internal/platform/sqldb"
)

// MainChain is the first chain: every entry written before the log was
// sharded, shard 0's entries, and every entry on a database without shard
// heads (SQLite).
const MainChain = "main"

// Shards is how many chains entries are spread over where the shard heads
// exist. Raising it needs a migration adding the new heads; entries already
// written stay where they are and verify as before.
const Shards = 16

// BulkChain is the chain of long transactions with many entries (a
// catalogue import): pinned to it with Bulk, such a transaction holds a
// head that no regular write waits for. Where its head does not exist
// (SQLite, whose writes are serialised anyway), entries join MainChain.
const BulkChain = "bulk"

// Bulk pins the entries of tx to BulkChain and locks its head at once,
// before tx touches anything else: two bulk transactions then queue on the
// head instead of deadlocking over rows each wrote first. Call it before
// tx's first entry; a transaction that has written one keeps its chain.
func Bulk(ctx context.Context, tx *sql.Tx) error {
	if !keepChain(tx, BulkChain) {
		return nil // it holds its chain's head already; a second would risk a deadlock
	}
	// A no-op update takes the row lock; without the head (SQLite) it
	// matches nothing, and the entries join MainChain.
	if _, err := tx.ExecContext(ctx, `UPDATE audit_chains SET seq = seq WHERE chain = $1`, BulkChain); err != nil {
		return fmt.Errorf("audit.Bulk: %w", err)
	}
	return nil
}

// ChainName is the name of shard i: MainChain for 0, "main-01" … for the
// others.
func ChainName(i int) string {
	if i == 0 {
		return MainChain
	}
	return fmt.Sprintf("%s-%02d", MainChain, i)
}

// ChainFor is the shard an entry on targetID joins (when its head exists):
// FNV-1a of the id modulo Shards.
func ChainFor(targetID string) string {
	h := fnv.New32a()
	h.Write([]byte(targetID))
	return ChainName(int(h.Sum32() % Shards))
}

// txChains remembers the chain each open transaction appends to, so that
// every entry of a transaction joins the chain its first entry chose: a
// transaction then holds one head at most, and two transactions can never
// deadlock over two heads. Keys are weak, and a key is deleted once its
// transaction has been garbage-collected.
var txChains sync.Map // weak.Pointer[sql.Tx] → string

func chainOf(tx *sql.Tx, targetID string) string {
	k := weak.Make(tx)
	if c, ok := txChains.Load(k); ok {
		return c.(string)
	}
	return ChainFor(targetID)
}

// keepChain makes chain tx's chain unless it has one; it reports whether
// it did.
func keepChain(tx *sql.Tx, chain string) bool {
	k := weak.Make(tx)
	_, loaded := txChains.LoadOrStore(k, chain)
	if !loaded {
		runtime.AddCleanup(tx, func(k weak.Pointer[sql.Tx]) { txChains.Delete(k) }, k)
	}
	return !loaded
}

// Actor is who acts, taken from the request context.
type Actor struct {
	ID        string // staff or account id; "system" for the platform itself
	Name      string // display name at the time
	IP        string
	RequestID string
	// OnBehalfOf is the account the actor acts for (an enterprise whose
	// 经办人 the actor is), "" when acting for themselves.
	OnBehalfOf string
}

// System is the actor for changes the platform makes by itself (seeding,
// reference data, workers).
var System = Actor{ID: "system", Name: "系统"}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx, or System.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return System
}

// Entry is one change to record.
type Entry struct {
	Action     string // "org.department.create"
	TargetType string // "department"
	TargetID   string
	Region     string // region code of the target, for scoped browsing
	DeptPath   string // department path of the target, if departmental
	Detail     any    // marshalled to JSON: what changed
}

// Record is a stored entry.
type Record struct {
	Chain      string
	Seq        int64
	ID         string
	At         time.Time
	ActorID    string
	ActorName  string
	Action     string
	TargetType string
	TargetID   string
	Region     string
	DeptPath   string
	IP         string
	RequestID  string
	Detail     string // JSON
	OnBehalfOf string // see Actor.OnBehalfOf
	PrevHash   string
	Hash       string
}

// canonical is the hashed form of a record: fixed field order, UTC times.
func (r Record) canonical() []byte {
	f := []string{
		r.Chain, fmt.Sprint(r.Seq), r.ID, r.At.UTC().Format(time.RFC3339Nano), r.ActorID, r.ActorName,
		r.Action, r.TargetType, r.TargetID, r.Region, r.DeptPath, r.IP, r.RequestID, r.Detail,
	}
	if r.OnBehalfOf != "" {
		// Appended only when set, so entries written before the field existed keep their hashes.
		f = append(f, "on_behalf_of", r.OnBehalfOf)
	}
	b, _ := json.Marshal(f)
	return b
}

func chainHash(prev string, r Record) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write([]byte{'\n'})
	h.Write(r.canonical())
	return hex.EncodeToString(h.Sum(nil))
}

// Write appends e, done by the actor in ctx, inside tx.
func Write(ctx context.Context, tx *sql.Tx, e Entry) error {
	const op = "audit.Write"
	a := ActorFrom(ctx)
	detail := "{}"
	if e.Detail != nil {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return fmt.Errorf("%s: detail: %w", op, err)
		}
		detail = string(b)
	}
	chain, seq, prev, err := bump(ctx, tx, chainOf(tx, e.TargetID))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	keepChain(tx, chain)
	r := Record{
		Chain: chain, Seq: seq, ID: sqldb.NewID(), At: sqldb.Now(),
		ActorID: a.ID, ActorName: a.Name, Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID,
		Region: e.Region, DeptPath: e.DeptPath, IP: a.IP, RequestID: a.RequestID, Detail: detail, OnBehalfOf: a.OnBehalfOf, PrevHash: prev,
	}
	r.Hash = chainHash(prev, r)
	if _, err := tx.ExecContext(ctx, `UPDATE audit_chains SET hash = $1 WHERE chain = $2`, r.Hash, r.Chain); err != nil {
		return fmt.Errorf("%s: head: %w", op, err)
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO audit_log (chain, seq, id, at, actor_id, actor_name, action, target_type, target_id,
			region_code, dept_path, ip, request_id, detail, on_behalf_of, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		r.Chain, r.Seq, r.ID, r.At, r.ActorID, r.ActorName, r.Action, r.TargetType, r.TargetID,
		r.Region, r.DeptPath, r.IP, r.RequestID, r.Detail, r.OnBehalfOf, r.PrevHash, r.Hash)
	if err != nil {
		return fmt.Errorf("%s: insert: %w", op, err)
	}
	return nil
}

// bump advances the head of chain, or of MainChain when chain has no head
// row, locking it until tx ends, and returns the chain used, the new
// sequence number and the previous entry's hash. The main head is created
// when missing; shard heads only by migration.
func bump(ctx context.Context, tx *sql.Tx, chain string) (string, int64, string, error) {
	for range 2 {
		var used, prev string
		var seq int64
		err := tx.QueryRowContext(ctx, `UPDATE audit_chains SET seq = seq + 1
			WHERE chain = COALESCE((SELECT chain FROM audit_chains WHERE chain = $1), $2)
			RETURNING chain, seq, hash`, chain, MainChain).Scan(&used, &seq, &prev)
		if err == nil {
			return used, seq, prev, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", 0, "", err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_chains (chain, seq, hash) VALUES ($1, 0, '') ON CONFLICT (chain) DO NOTHING`, MainChain); err != nil {
			return "", 0, "", err
		}
	}
	return "", 0, "", fmt.Errorf("chain %q head missing", MainChain)
}

// Report is the outcome of Verify.
type Report struct {
	Entries  int64  // entries checked, over every chain
	Chains   int    // chains checked (a head row or entries)
	OK       bool   // every chain is intact
	Chain    string // the chain of the first bad entry, when not OK
	BrokenAt int64  // sequence number of the first bad entry in Chain, when not OK
	Problem  string // what is wrong there, naming the chain
}

type head struct {
	seq  int64
	hash string
}

// Verify walks every chain in order of name, each in sequence order,
// recomputing every hash, and checks that sequence numbers have no gaps and
// that each chain's head matches its last entry. It reports the first break.
//
// Heads and entries are read in one transaction (repeatable read on
// PostgreSQL, one snapshot on SQLite), so writes going on meanwhile cannot
// look like tampering. Once the log is sharded (on PostgreSQL), each of the
// Shards chains and BulkChain must have its head or entries: deleting a whole shard, head
// and entries, is a break (deleting every shard but main is not detected,
// like deleting the whole log).
func Verify(ctx context.Context, db *sqldb.DB) (Report, error) {
	const op = "audit.Verify"
	opts := &sql.TxOptions{ReadOnly: true}
	if db.Dialect == sqldb.Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.R.BeginTx(ctx, opts)
	if err != nil {
		return Report{}, fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	heads := map[string]head{}
	hrows, err := tx.QueryContext(ctx, `SELECT chain, seq, hash FROM audit_chains`)
	if err != nil {
		return Report{}, fmt.Errorf("%s: heads: %w", op, err)
	}
	for hrows.Next() {
		var c string
		var h head
		if err := hrows.Scan(&c, &h.seq, &h.hash); err != nil {
			hrows.Close()
			return Report{}, fmt.Errorf("%s: heads: %w", op, err)
		}
		heads[c] = h
	}
	hrows.Close()
	if err := hrows.Err(); err != nil {
		return Report{}, fmt.Errorf("%s: heads: %w", op, err)
	}

	rep := Report{OK: true}
	// Sharded (some shard head exists): every shard and the bulk chain must
	// have its head or entries, or a whole chain was deleted.
	var missing []string
	if slices.ContainsFunc(slices.Collect(maps.Keys(heads)), func(c string) bool { return c != MainChain }) {
		for i := range Shards + 1 {
			c := BulkChain
			if i < Shards {
				c = ChainName(i)
			}
			if !hasHead(heads, c) {
				missing = append(missing, c)
			}
		}
	}
	// end checks the head of a chain whose last entry was seq with hash
	// last, and forgets it: the heads left at the end have no entries.
	end := func(chain string, seq int64, last string) bool {
		h, ok := heads[chain]
		delete(heads, chain)
		switch {
		case !ok:
			rep = fail(rep, chain, seq, "chain head is missing")
		case h.seq > seq:
			rep = fail(rep, chain, seq+1, fmt.Sprintf("head says %d entries but %d were found (entries deleted at the end?)", h.seq, seq))
		case h.seq < seq:
			rep = fail(rep, chain, h.seq+1, fmt.Sprintf("head says %d entries but %d were found (head altered?)", h.seq, seq))
		case h.hash != last:
			rep = fail(rep, chain, seq, "head hash does not match the last entry")
		}
		return rep.OK
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+columns+` FROM audit_log ORDER BY chain ASC, seq ASC`)
	if err != nil {
		return Report{}, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	chain, prev := "", ""
	var want int64
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return rep, fmt.Errorf("%s: %w", op, err)
		}
		missing = slices.DeleteFunc(missing, func(c string) bool { return c == r.Chain })
		if r.Chain != chain || rep.Chains == 0 {
			if rep.Chains > 0 && !end(chain, want-1, prev) {
				return rep, nil
			}
			chain, prev, want = r.Chain, "", 1
			rep.Chains++
		}
		rep.Entries++
		switch {
		case r.Seq != want:
			return fail(rep, chain, want, fmt.Sprintf("entry %d is missing (found %d next)", want, r.Seq)), nil
		case r.PrevHash != prev:
			return fail(rep, chain, r.Seq, "prev_hash does not match the previous entry"), nil
		case chainHash(prev, r) != r.Hash:
			return fail(rep, chain, r.Seq, "content does not match its hash (altered)"), nil
		}
		prev = r.Hash
		want++
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("%s: %w", op, err)
	}
	if rep.Chains > 0 && !end(chain, want-1, prev) {
		return rep, nil
	}
	if len(missing) > 0 {
		return fail(rep, missing[0], 1, "chain head and entries are missing (the whole chain deleted?)"), nil
	}
	// Heads without entries: nothing may have been appended to them.
	for _, c := range slices.Sorted(maps.Keys(heads)) {
		rep.Chains++
		if !end(c, 0, "") {
			return rep, nil
		}
	}
	return rep, nil
}

func hasHead(heads map[string]head, chain string) bool {
	_, ok := heads[chain]
	return ok
}

func fail(r Report, chain string, seq int64, problem string) Report {
	r.OK, r.Chain, r.BrokenAt, r.Problem = false, chain, seq, "chain "+chain+": "+problem
	return r
}

const columns = `chain, seq, id, at, actor_id, actor_name, action, target_type, target_id, region_code, dept_path, ip, request_id, detail, on_behalf_of, prev_hash, hash`

func scan(s interface{ Scan(...any) error }) (Record, error) {
	var r Record
	err := s.Scan(&r.Chain, &r.Seq, &r.ID, &r.At, &r.ActorID, &r.ActorName, &r.Action, &r.TargetType, &r.TargetID,
		&r.Region, &r.DeptPath, &r.IP, &r.RequestID, &r.Detail, &r.OnBehalfOf, &r.PrevHash, &r.Hash)
	r.At = r.At.UTC()
	return r, err
}
