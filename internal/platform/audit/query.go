package audit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/platform/sqldb"
)

// Query selects entries to browse. Zero fields do not filter.
type Query struct {
	Actor      string    // actor id or a part of the actor's name
	Action     string    // action prefix, e.g. "org.department"
	TargetType string    // exact
	TargetID   string    // exact
	From, To   time.Time // [From, To)
	Limit      int       // default 50, at most 500
	Offset     int
}

// List returns entries matching q and the scope condition (an SQL condition
// over region_code and dept_path with its arguments starting at $1, as made
// by authz.Principal.Filter), newest first, and the number of matches.
func List(ctx context.Context, db *sqldb.DB, q Query, scope string, scopeArgs []any) ([]Record, int, error) {
	const op = "audit.List"
	where := []string{scope}
	args := append([]any(nil), scopeArgs...)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if q.Actor != "" {
		args = append(args, q.Actor, "%"+sqldb.EscapeLike(q.Actor)+"%")
		n := len(args)
		where = append(where, fmt.Sprintf(`(actor_id = $%d OR actor_name LIKE $%d ESCAPE '\')`, n-1, n))
	}
	if q.Action != "" {
		add(`action LIKE ? ESCAPE '\'`, sqldb.EscapeLike(q.Action)+"%")
	}
	if q.TargetType != "" {
		add(`target_type = ?`, q.TargetType)
	}
	if q.TargetID != "" {
		add(`target_id = ?`, q.TargetID)
	}
	if !q.From.IsZero() {
		add(`at >= ?`, q.From.UTC())
	}
	if !q.To.IsZero() {
		add(`at < ?`, q.To.UTC())
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 50
	}
	if q.Offset < 0 {
		q.Offset = 0
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("%s: count: %w", op, err)
	}
	n := len(args)
	rows, err := db.R.QueryContext(ctx, `SELECT `+columns+` FROM audit_log WHERE `+cond+
		fmt.Sprintf(` ORDER BY at DESC, seq DESC LIMIT $%d OFFSET $%d`, n+1, n+2), append(args, q.Limit, q.Offset)...)
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
