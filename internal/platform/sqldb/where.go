package sqldb

import (
	"strconv"
	"strings"
)

// Where builds a dynamic WHERE clause with numbered ($N) arguments, for
// list queries whose filters depend on the request.
type Where struct {
	conds []string
	Args  []any
}

// Add appends cond, in which each ? becomes the next $N bound to args in order.
func (w *Where) Add(cond string, args ...any) {
	for _, a := range args {
		w.Args = append(w.Args, a)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.Args)), 1)
	}
	w.conds = append(w.conds, cond)
}

// AddNumbered appends a condition already numbered from Next(), such as
// one made by authz.Principal.Filter, with its arguments.
func (w *Where) AddNumbered(cond string, args []any) {
	w.conds = append(w.conds, cond)
	w.Args = append(w.Args, args...)
}

// Next returns the number the next argument will get.
func (w *Where) Next() int { return len(w.Args) + 1 }

// String returns " WHERE a AND b", or "" without conditions.
func (w *Where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// MaxPage is the highest page number a list serves. Clamping to it keeps
// (page-1)×perPage from overflowing into a negative OFFSET, which
// PostgreSQL rejects ("OFFSET must not be negative").
const MaxPage = 10000

// ClampPage returns page limited to 1..MaxPage.
func ClampPage(page int) int { return min(max(page, 1), MaxPage) }

// MaxSearch is the longest free-text search, in runes, that lists accept:
// no name is longer, and SQLite refuses long LIKE patterns ("LIKE or GLOB
// pattern too complex").
const MaxSearch = 100

// Page appends LIMIT and OFFSET placeholders and arguments and returns the
// clause and the full argument list.
func (w *Where) Page(limit, offset int) (string, []any) {
	n := len(w.Args)
	return " LIMIT $" + strconv.Itoa(n+1) + " OFFSET $" + strconv.Itoa(n+2), append(append([]any(nil), w.Args...), limit, offset)
}

// AddIn appends "col IN ($n, …)" over vals; with no vals the condition is false.
func (w *Where) AddIn(col string, vals []string) {
	if len(vals) == 0 {
		w.conds = append(w.conds, "1 = 0")
		return
	}
	ph := make([]string, len(vals))
	for i, v := range vals {
		w.Args = append(w.Args, v)
		ph[i] = "$" + strconv.Itoa(len(w.Args))
	}
	w.conds = append(w.conds, col+" IN ("+strings.Join(ph, ", ")+")")
}
