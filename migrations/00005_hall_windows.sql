-- +goose Up
-- Windows (窗口) of a hall. dept_id is NULL for comprehensive windows
-- (综合受理窗口) that accept for every department.
CREATE TABLE hall_windows (
    id         TEXT NOT NULL PRIMARY KEY,
    hall_id    TEXT NOT NULL REFERENCES halls (id),
    number     TEXT NOT NULL,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    dept_id    TEXT REFERENCES departments (id),
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX hall_windows_number ON hall_windows (hall_id, number);
CREATE INDEX hall_windows_dept ON hall_windows (dept_id);

-- +goose Down
DROP TABLE hall_windows;
