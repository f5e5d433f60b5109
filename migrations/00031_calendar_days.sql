-- +goose Up
-- Special days of the working-day calendar (calendar domain): holidays and
-- make-up working days (调休上班), national (region_code '') or for a region
-- and the regions nested in it. day is YYYY-MM-DD. Rows an administrator
-- changed have edited = TRUE and are never overwritten by data loads; a
-- loaded day an administrator removed stays as a tombstone (deleted = TRUE).
CREATE TABLE calendar_days (
    id          TEXT NOT NULL PRIMARY KEY,
    day         TEXT NOT NULL,
    region_code TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    source      TEXT NOT NULL,
    edited      BOOLEAN NOT NULL DEFAULT FALSE,
    deleted     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX calendar_days_region_day ON calendar_days (region_code ASC, day ASC);
CREATE INDEX calendar_days_day ON calendar_days (day ASC);

-- +goose Down
DROP TABLE calendar_days;
