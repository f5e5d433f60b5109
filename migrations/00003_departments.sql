-- +goose Up
-- Government departments (部门). path is the materialised ancestry
-- "/root-id/…/own-id/" so that a department grant covers sub-departments
-- with one prefix comparison, in Go and in SQL.
CREATE TABLE departments (
    id          TEXT NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL,
    short_name  TEXT NOT NULL DEFAULT '',
    uscc        TEXT,
    region_code TEXT NOT NULL REFERENCES regions (code),
    parent_id   TEXT REFERENCES departments (id),
    path        TEXT NOT NULL,
    phone       TEXT NOT NULL DEFAULT '',
    address     TEXT NOT NULL DEFAULT '',
    sort        INTEGER NOT NULL DEFAULT 0,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX departments_uscc ON departments (uscc);
CREATE UNIQUE INDEX departments_region_name ON departments (region_code, name);
CREATE INDEX departments_path ON departments (path ASC);
CREATE INDEX departments_parent ON departments (parent_id);

-- +goose Down
DROP TABLE departments;
