package calendar

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/sqldb"
)

// The embedded national schedules: data/years.csv lists each year with its
// data version, whether it was checked against the official notice and the
// source; data/cn-YYYY.csv holds the year's days (date,kind,name). Bump a
// year's version when its file changes, so that start-up reloads it.
//
//go:embed data/*.csv
var dataFS embed.FS

// EmbeddedYear is one year of the embedded national schedule.
type EmbeddedYear struct {
	Year
	Days []Special
}

func readCSV(name string) ([][]string, error) {
	b, err := dataFS.ReadFile("data/" + name)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.Comment = '#'
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("calendar: data/%s: %w", name, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("calendar: data/%s: empty", name)
	}
	return recs[1:], nil // header
}

// Embedded parses the embedded national schedules.
func Embedded() ([]EmbeddedYear, error) {
	years, err := readCSV("years.csv")
	if err != nil {
		return nil, err
	}
	var out []EmbeddedYear
	for i, rec := range years {
		if len(rec) != 4 {
			return nil, fmt.Errorf("calendar: data/years.csv:%d: want 4 fields", i+2)
		}
		y, err := strconv.Atoi(rec[0])
		if err != nil || y < 2000 || y > 2100 {
			return nil, fmt.Errorf("calendar: data/years.csv:%d: bad year %q", i+2, rec[0])
		}
		ey := EmbeddedYear{Year: Year{Year: y, Dataset: rec[1], Confirmed: rec[2] == "true", Source: rec[3]}}
		file := "cn-" + rec[0] + ".csv"
		days, err := readCSV(file)
		if err != nil {
			return nil, err
		}
		for j, d := range days {
			if len(d) != 3 {
				return nil, fmt.Errorf("calendar: data/%s: row %d: want 3 fields", file, j+1)
			}
			date, err := ParseDate(d[0])
			if err != nil || date.Year() != y {
				return nil, fmt.Errorf("calendar: data/%s: row %d: bad date %q", file, j+1, d[0])
			}
			k := Kind(d[1])
			if k != Holiday && k != MakeupWorkday {
				return nil, fmt.Errorf("calendar: data/%s: row %d: bad kind %q", file, j+1, d[1])
			}
			ey.Days = append(ey.Days, Special{Date: date, Kind: k, Name: strings.TrimSpace(d[2]), Source: ey.Dataset})
		}
		out = append(out, ey)
	}
	return out, nil
}

// EmbeddedSchedule is a Schedule of the embedded national data alone
// (plus extra days): the official calendar without a database.
func EmbeddedSchedule(extra ...Special) (*Schedule, error) {
	eys, err := Embedded()
	if err != nil {
		return nil, err
	}
	var years []Year
	var days []Special
	for _, ey := range eys {
		years = append(years, ey.Year)
		days = append(days, ey.Days...)
	}
	return NewSchedule(years, append(days, extra...)), nil
}

// LoadSchedule brings the national special days of every embedded year up
// to its data version: new days are added and loaded days updated or
// removed, except days an administrator edited or deleted, which are left
// as they are. A year whose version is already loaded is skipped, so it
// runs at every start-up; it returns the number of years loaded.
func LoadSchedule(ctx context.Context, db *sqldb.DB) (int, error) {
	const op = "calendar.LoadSchedule"
	years, err := Embedded()
	if err != nil {
		return 0, err
	}
	have := map[int]string{}
	rows, err := db.R.QueryContext(ctx, `SELECT year, dataset FROM calendar_years`)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	for rows.Next() {
		var y int
		var ds string
		if err := rows.Scan(&y, &ds); err != nil {
			rows.Close()
			return 0, fmt.Errorf("%s: %w", op, err)
		}
		have[y] = ds
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	var todo []EmbeddedYear
	for _, y := range years {
		if have[y.Year.Year] != y.Dataset {
			todo = append(todo, y)
		}
	}
	if len(todo) == 0 {
		return 0, nil
	}
	err = sqldb.InTx(ctx, db, func(tx *sql.Tx) error {
		now := sqldb.Now()
		for _, y := range todo {
			if err := loadYear(ctx, tx, y, now); err != nil {
				return err
			}
			if err := audit.Write(audit.WithActor(ctx, audit.System), tx, audit.Entry{
				Action: "calendar.year.load", TargetType: "calendar_year", TargetID: strconv.Itoa(y.Year.Year),
				Detail: map[string]any{"dataset": y.Dataset, "previous": have[y.Year.Year], "days": len(y.Days), "confirmed": y.Confirmed},
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	return len(todo), nil
}

func loadYear(ctx context.Context, tx *sql.Tx, y EmbeddedYear, now time.Time) error {
	if len(y.Days) > 0 {
		var sb strings.Builder
		args := make([]any, 0, len(y.Days)*6)
		sb.WriteString(`INSERT INTO calendar_days (id, day, region_code, kind, name, source, edited, deleted, created_at, updated_at, version) VALUES `)
		for i, d := range y.Days {
			if i > 0 {
				sb.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&sb, "($%d, $%d, '', $%d, $%d, $%d, FALSE, FALSE, $%d, $%d, 1)", n+1, n+2, n+3, n+4, n+5, n+6, n+6)
			args = append(args, sqldb.NewID(), d.Date.Format(DateLayout), string(d.Kind), d.Name, y.Dataset, now)
		}
		sb.WriteString(` ON CONFLICT (region_code, day) DO UPDATE SET kind = excluded.kind, name = excluded.name,
			source = excluded.source, updated_at = excluded.updated_at, version = calendar_days.version + 1
			WHERE calendar_days.edited = FALSE`)
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	// Loaded days the new data no longer has.
	if _, err := tx.ExecContext(ctx, `DELETE FROM calendar_days WHERE region_code = '' AND edited = FALSE
		AND day >= $1 AND day <= $2 AND source <> $3`,
		fmt.Sprintf("%d-01-01", y.Year.Year), fmt.Sprintf("%d-12-31", y.Year.Year), y.Dataset); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO calendar_years (year, dataset, confirmed, source, loaded_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (year) DO UPDATE SET dataset = excluded.dataset, confirmed = excluded.confirmed,
		source = excluded.source, loaded_at = excluded.loaded_at`,
		y.Year.Year, y.Dataset, y.Confirmed, y.Source, now)
	return err
}
