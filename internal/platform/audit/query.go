package audit

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/sqldb"
)

// Query selects entries to browse. Zero fields do not filter; a text
// field longer than sqldb.MaxSearch runes is Invalid (搜索内容过长).
type Query struct {
	Actor      string    // actor id or a part of the actor's name (ASCII case ignored)
	Action     string    // action prefix, e.g. "org.department" (ASCII case ignored)
	TargetType string    // exact
	TargetID   string    // exact
	From, To   time.Time // [From, To)
	Limit      int       // default 50, at most 500
	Offset     int       // clamped to 0..(sqldb.MaxPage-1)×Limit
}

// List returns entries matching q and the scope condition (an SQL condition
// over region_code and dept_path with its arguments starting at $1, as made
// by authz.Principal.Filter), newest first, and the number of matches.
// Entries of different chains are ordered by time and then by their UUIDv7
// ids; sequence numbers count within a chain only.
func List(ctx context.Context, db *sqldb.DB, q Query, scope string, scopeArgs []any) ([]Record, int, error) {
	const op = "audit.List"
	for _, f := range [...]struct{ field, v string }{{"actor", q.Actor}, {"action", q.Action}, {"target", q.TargetID}, {"target_type", q.TargetType}} {
		if utf8.RuneCountInString(f.v) > sqldb.MaxSearch {
			return nil, 0, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "搜索内容过长", Fields: map[string]string{f.field: "搜索内容过长"}}
		}
	}
	w := &sqldb.Where{}
	w.AddNumbered(scope, scopeArgs)
	if q.Actor != "" {
		w.Add(`(actor_id = ? OR LOWER(actor_name) LIKE ? ESCAPE '\')`, q.Actor, "%"+sqldb.EscapeLike(sqldb.LowerASCII(q.Actor))+"%")
	}
	if q.Action != "" {
		w.Add(`LOWER(action) LIKE ? ESCAPE '\'`, sqldb.EscapeLike(sqldb.LowerASCII(q.Action))+"%")
	}
	if q.TargetType != "" {
		w.Add(`target_type = ?`, q.TargetType)
	}
	if q.TargetID != "" {
		w.Add(`target_id = ?`, q.TargetID)
	}
	if !q.From.IsZero() {
		w.Add(`at >= ?`, q.From.UTC())
	}
	if !q.To.IsZero() {
		w.Add(`at < ?`, q.To.UTC())
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 50
	}
	// Offsets stay within sqldb.MaxPage pages: never negative (PostgreSQL
	// refuses that), never past what a pager reaches.
	q.Offset = min(max(q.Offset, 0), (sqldb.MaxPage-1)*q.Limit)
	var total int
	if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log`+w.String(), w.Args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("%s: count: %w", op, err)
	}
	page, args := w.Page(q.Limit, q.Offset)
	rows, err := db.R.QueryContext(ctx, `SELECT `+columns+` FROM audit_log`+w.String()+` ORDER BY at DESC, id DESC`+page, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", op, err)
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}
