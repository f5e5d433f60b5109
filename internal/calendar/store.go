package calendar

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/sqldb"
)

// readYears returns every known year, in order.
func readYears(ctx context.Context, q sqldb.Querier) ([]Year, error) {
	rows, err := q.QueryContext(ctx, `SELECT year, dataset, confirmed, source, loaded_at FROM calendar_years ORDER BY year ASC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Year
	for rows.Next() {
		var y Year
		if err := rows.Scan(&y.Year, &y.Dataset, &y.Confirmed, &y.Source, &y.LoadedAt); err != nil {
			return nil, err
		}
		out = append(out, y)
	}
	return out, rows.Err()
}

const specialCols = `id, day, region_code, kind, name, source, edited, version, updated_at`

func scanSpecials(rows *sql.Rows) ([]Special, error) {
	defer rows.Close()
	var out []Special
	for rows.Next() {
		var d Special
		var day, kind string
		if err := rows.Scan(&d.ID, &day, &d.Region, &kind, &d.Name, &d.Source, &d.Edited, &d.Version, &d.UpdatedAt); err != nil {
			return nil, err
		}
		date, err := ParseDate(day)
		if err != nil {
			return nil, fmt.Errorf("calendar: stored day %q: %w", day, err)
		}
		d.Date, d.Kind = date, Kind(kind)
		out = append(out, d)
	}
	return out, rows.Err()
}

// readSpecials returns every current (not deleted) special day.
func readSpecials(ctx context.Context, q sqldb.Querier) ([]Special, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+specialCols+` FROM calendar_days WHERE deleted = FALSE ORDER BY day ASC, region_code ASC`)
	if err != nil {
		return nil, err
	}
	return scanSpecials(rows)
}

// ancestors returns region and the codes of the regions it lies in:
// 150102 → 150000, 150100, 150102.
func ancestors(region string) []string {
	out := []string{region[:2] + "0000", region[:4] + "00", region[:6]}
	if len(region) == 9 {
		out = append(out, region)
	}
	return out
}

// yearSpecials returns year's current special days that matter to region:
// national ones, those of region's ancestors and region itself, and those
// of regions inside it. For region "" it returns every region's days.
func yearSpecials(ctx context.Context, q sqldb.Querier, year int, region string) ([]Special, error) {
	w := &sqldb.Where{}
	w.Add("deleted = ?", false)
	w.Add("day >= ?", fmt.Sprintf("%04d-01-01", year))
	w.Add("day <= ?", fmt.Sprintf("%04d-12-31", year))
	if region != "" {
		anc := ancestors(region)
		w.Add("(region_code = '' OR region_code IN (?, ?, ?, ?) OR region_code LIKE ?)",
			anc[0], anc[1], anc[2], anc[len(anc)-1], authz.RegionPrefix(region)+"%")
	}
	rows, err := q.QueryContext(ctx, `SELECT `+specialCols+` FROM calendar_days`+w.String()+` ORDER BY day ASC, region_code ASC`, w.Args...)
	if err != nil {
		return nil, err
	}
	return scanSpecials(rows)
}

// oneSpecial returns the current special day with id, or NotFound.
func oneSpecial(ctx context.Context, q sqldb.Querier, id string) (Special, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+specialCols+` FROM calendar_days WHERE id = $1 AND deleted = FALSE`, id)
	if err != nil {
		return Special{}, err
	}
	ds, err := scanSpecials(rows)
	if err != nil {
		return Special{}, err
	}
	if len(ds) == 0 {
		return Special{}, &errs.Error{Kind: errs.NotFound, Op: "calendar.oneSpecial", Msg: "该日期安排不存在或已删除"}
	}
	return ds[0], nil
}

// existing returns the row for region and day, deleted or not.
func existing(ctx context.Context, tx *sql.Tx, region, day string) (id string, deleted bool, ok bool, err error) {
	err = tx.QueryRowContext(ctx, `SELECT id, deleted FROM calendar_days WHERE region_code = $1 AND day = $2`, region, day).Scan(&id, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, false, nil
	}
	return id, deleted, err == nil, err
}

func insertSpecial(ctx context.Context, tx *sql.Tx, d Special, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO calendar_days (id, day, region_code, kind, name, source, edited, deleted, created_at, updated_at, version)
		VALUES ($1, $2, $3, $4, $5, $6, TRUE, FALSE, $7, $7, 1)`,
		d.ID, d.Date.Format(DateLayout), d.Region, string(d.Kind), d.Name, d.Source, now)
	return err
}

// revive turns the tombstone id back into a current day.
func revive(ctx context.Context, tx *sql.Tx, id string, kind Kind, name string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE calendar_days SET kind = $1, name = $2, edited = TRUE, deleted = FALSE,
		updated_at = $3, version = version + 1 WHERE id = $4 AND deleted = TRUE`, string(kind), name, now, id)
	return err
}

var errStale = &errs.Error{Kind: errs.Conflict, Op: "calendar", Msg: "该日期安排已被他人修改或删除，请刷新后重试"}

// changed returns errStale unless res changed exactly one row.
func changed(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return errStale
	}
	return nil
}

func updateSpecial(ctx context.Context, tx *sql.Tx, id string, version int, kind Kind, name string, now time.Time) error {
	return changed(tx.ExecContext(ctx, `UPDATE calendar_days SET kind = $1, name = $2, edited = TRUE, updated_at = $3,
		version = version + 1 WHERE id = $4 AND version = $5 AND deleted = FALSE`, string(kind), name, now, id, version))
}

// removeSpecial deletes a day an administrator added, and turns a loaded
// day into a tombstone, so that the next data load does not bring it back.
func removeSpecial(ctx context.Context, tx *sql.Tx, d Special, version int, now time.Time) error {
	if d.Source == SourceAdmin {
		return changed(tx.ExecContext(ctx, `DELETE FROM calendar_days WHERE id = $1 AND version = $2 AND deleted = FALSE`, d.ID, version))
	}
	return changed(tx.ExecContext(ctx, `UPDATE calendar_days SET deleted = TRUE, edited = TRUE, updated_at = $1,
		version = version + 1 WHERE id = $2 AND version = $3 AND deleted = FALSE`, now, d.ID, version))
}
