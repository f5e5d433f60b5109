package org

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/sqldb"
)

// Dataset names the division data compiled into this binary (see
// divisions/README.md). Bump it when the CSV files change, so start-up
// reloads them.
const Dataset = "china-division@2.7.0+im-townships"

//go:embed divisions/*.csv
var divisionsFS embed.FS

// Divisions parses the embedded division tables: every province, city and
// county of China, and Inner Mongolia's townships.
func Divisions() ([]Region, error) {
	var out []Region
	for _, f := range []struct {
		file string
		pad  func(string) string
	}{
		{"provinces.csv", func(c string) string { return c + "0000" }},
		{"cities.csv", func(c string) string { return c + "00" }},
		{"areas.csv", func(c string) string { return c }},
		{"streets-15.csv", func(c string) string { return c }},
	} {
		b, err := divisionsFS.ReadFile("divisions/" + f.file)
		if err != nil {
			return nil, err
		}
		r := csv.NewReader(bytes.NewReader(b))
		if _, err := r.Read(); err != nil { // header
			return nil, fmt.Errorf("org.Divisions: %s: %w", f.file, err)
		}
		for line := 2; ; line++ {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("org.Divisions: %s:%d: %w", f.file, line, err)
			}
			code, level, parent, err := ParseRegionCode(f.pad(rec[0]))
			if err != nil {
				return nil, fmt.Errorf("org.Divisions: %s:%d: code %q: %w", f.file, line, rec[0], err)
			}
			out = append(out, Region{Code: code, Name: strings.TrimSpace(rec[1]), Level: level, Parent: parent, Zone: IsZone(code)})
		}
	}
	return out, nil
}

// LoadRegions brings the regions table up to the embedded Dataset: new
// codes are added, renamed ones updated, and codes the dataset no longer
// has are kept (departments may refer to them) but marked with valid_to.
// It does nothing when the dataset is already loaded, so it runs at every
// start-up. It returns the number of rows written.
func LoadRegions(ctx context.Context, db *sqldb.DB, today string) (int, error) {
	const op = "org.LoadRegions"
	var have string
	err := db.R.QueryRowContext(ctx, `SELECT version FROM reference_datasets WHERE name = 'regions'`).Scan(&have)
	if err == nil && have == Dataset {
		return 0, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	regions, err := Divisions()
	if err != nil {
		return 0, err
	}
	// Parents first, so that a reader never sees an orphan.
	err = sqldb.InTx(ctx, db, func(tx *sql.Tx) error {
		const batch = 400
		for i := 0; i < len(regions); i += batch {
			chunk := regions[i:min(i+batch, len(regions))]
			var sb strings.Builder
			args := make([]any, 0, len(chunk)*7)
			sb.WriteString(`INSERT INTO regions (code, name, level, parent_code, zone, dataset, valid_from) VALUES `)
			for j, r := range chunk {
				if j > 0 {
					sb.WriteString(", ")
				}
				n := len(args)
				fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7)
				var parent any
				if r.Parent != "" {
					parent = r.Parent
				}
				args = append(args, r.Code, r.Name, levelNumber(r.Level), parent, r.Zone, Dataset, today)
			}
			sb.WriteString(` ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
				parent_code = excluded.parent_code, zone = excluded.zone, dataset = excluded.dataset, valid_to = NULL`)
			if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE regions SET valid_to = $1 WHERE dataset <> $2 AND valid_to IS NULL`, today, Dataset); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO reference_datasets (name, version, rows, loaded_at) VALUES ('regions', $1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET version = excluded.version, rows = excluded.rows, loaded_at = excluded.loaded_at`,
			Dataset, len(regions), sqldb.Now()); err != nil {
			return err
		}
		return audit.Write(audit.WithActor(ctx, audit.System), tx, audit.Entry{
			Action: "org.regions.load", TargetType: "dataset", TargetID: "regions",
			Detail: map[string]any{"dataset": Dataset, "previous": have, "rows": len(regions)},
		})
	})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	return len(regions), nil
}

func levelNumber(l Level) int {
	switch l {
	case Province:
		return 1
	case City:
		return 2
	case County:
		return 3
	}
	return 4
}

func levelOf(n int) Level {
	switch n {
	case 1:
		return Province
	case 2:
		return City
	case 3:
		return County
	}
	return Township
}

// Region returns the current region with code, or NotFound.
func (s *Service) Region(ctx context.Context, code string) (Region, error) {
	const op = "org.Service.Region"
	norm, _, _, err := ParseRegionCode(code)
	if err != nil {
		return Region{}, &errs.Error{Kind: errs.NotFound, Op: op, Msg: "行政区划不存在", Err: err}
	}
	var r Region
	var level int
	var parent sql.NullString
	err = s.db.R.QueryRowContext(ctx, `SELECT code, name, level, parent_code, zone FROM regions WHERE code = $1 AND valid_to IS NULL`, norm).
		Scan(&r.Code, &r.Name, &level, &parent, &r.Zone)
	if errors.Is(err, sql.ErrNoRows) {
		return Region{}, &errs.Error{Kind: errs.NotFound, Op: op, Msg: "行政区划不存在"}
	}
	if err != nil {
		return Region{}, fmt.Errorf("%s(%q): %w", op, code, err)
	}
	r.Level, r.Parent = levelOf(level), parent.String
	return r, nil
}

// Children returns the current regions directly under code, in code order;
// development zones only when withZones is set.
func (s *Service) Children(ctx context.Context, code string, withZones bool) ([]Region, error) {
	const op = "org.Service.Children"
	if _, err := s.Region(ctx, code); err != nil {
		return nil, err
	}
	q := `SELECT code, name, level, parent_code, zone FROM regions WHERE parent_code = $1 AND valid_to IS NULL`
	args := []any{code}
	if !withZones {
		q += ` AND zone = $2`
		args = append(args, false)
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY code ASC`, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	var out []Region
	for rows.Next() {
		var r Region
		var level int
		var parent sql.NullString
		if err := rows.Scan(&r.Code, &r.Name, &level, &parent, &r.Zone); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		r.Level, r.Parent = levelOf(level), parent.String
		out = append(out, r)
	}
	return out, rows.Err()
}

// Ancestry returns code's region and its ancestors, province first.
func (s *Service) Ancestry(ctx context.Context, code string) ([]Region, error) {
	var chain []Region
	for c := code; c != ""; {
		r, err := s.Region(ctx, c)
		if err != nil {
			return nil, err
		}
		chain = append([]Region{r}, chain...)
		c = r.Parent
	}
	return chain, nil
}
