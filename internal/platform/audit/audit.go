// Package audit is the append-only, hash-chained record of every state
// change (审计日志): who did what to which target, when and from where. An
// entry is written in the same transaction as the change it records, so
// there is never a change without its entry or an entry without its change.
//
// Each entry's hash is SHA-256 over the previous entry's hash and the
// entry's canonical form. Appending first bumps the chain's head row
// (audit_chains), which serialises appenders of one chain on every engine;
// Verify recomputes the whole chain and reports the first break.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"yiwang/internal/platform/sqldb"
)

// MainChain is the chain every entry joins today. The schema allows several
// chains (e.g. one per shard) should one head row become a hot spot.
const MainChain = "main"

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
	seq, prev, err := bump(ctx, tx, MainChain)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	r := Record{
		Chain: MainChain, Seq: seq, ID: sqldb.NewID(), At: sqldb.Now(),
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

// bump advances the chain head, locking it until tx ends, and returns the
// new sequence number and the previous entry's hash.
func bump(ctx context.Context, tx *sql.Tx, chain string) (int64, string, error) {
	for range 2 {
		var seq int64
		var prev string
		err := tx.QueryRowContext(ctx, `UPDATE audit_chains SET seq = seq + 1 WHERE chain = $1 RETURNING seq, hash`, chain).Scan(&seq, &prev)
		if err == nil {
			return seq, prev, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, "", err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_chains (chain, seq, hash) VALUES ($1, 0, '') ON CONFLICT (chain) DO NOTHING`, chain); err != nil {
			return 0, "", err
		}
	}
	return 0, "", fmt.Errorf("chain %q head missing", chain)
}

// Report is the outcome of Verify.
type Report struct {
	Entries  int64  // entries checked
	OK       bool   // the chain is intact
	BrokenAt int64  // sequence number of the first bad entry, when not OK
	Problem  string // what is wrong there
}

// Verify walks the chain in order, recomputing every hash, and checks that
// sequence numbers have no gaps and the head matches the last entry.
func Verify(ctx context.Context, db *sqldb.DB) (Report, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT `+columns+` FROM audit_log WHERE chain = $1 ORDER BY seq ASC`, MainChain)
	if err != nil {
		return Report{}, fmt.Errorf("audit.Verify: %w", err)
	}
	defer rows.Close()
	rep := Report{OK: true}
	prev := ""
	var want int64 = 1
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return rep, fmt.Errorf("audit.Verify: %w", err)
		}
		rep.Entries++
		switch {
		case r.Seq != want:
			return fail(rep, want, fmt.Sprintf("entry %d is missing (found %d next)", want, r.Seq)), nil
		case r.PrevHash != prev:
			return fail(rep, r.Seq, "prev_hash does not match the previous entry"), nil
		case chainHash(prev, r) != r.Hash:
			return fail(rep, r.Seq, "content does not match its hash (altered)"), nil
		}
		prev = r.Hash
		want++
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("audit.Verify: %w", err)
	}
	var headSeq int64
	var headHash string
	err = db.R.QueryRowContext(ctx, `SELECT seq, hash FROM audit_chains WHERE chain = $1`, MainChain).Scan(&headSeq, &headHash)
	if errors.Is(err, sql.ErrNoRows) {
		if rep.Entries == 0 {
			return rep, nil
		}
		return fail(rep, want-1, "chain head is missing"), nil
	}
	if err != nil {
		return rep, fmt.Errorf("audit.Verify: head: %w", err)
	}
	if headSeq != want-1 || headHash != prev {
		return fail(rep, want, fmt.Sprintf("head says %d entries but %d were found (entries deleted at the end?)", headSeq, want-1)), nil
	}
	return rep, nil
}

func fail(r Report, seq int64, problem string) Report {
	r.OK, r.BrokenAt, r.Problem = false, seq, problem
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
