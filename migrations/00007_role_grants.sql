-- +goose Up
-- Role grants: a role held at a region (covering its descendants) and
-- optionally limited to a department (and its sub-departments); dept_path
-- as in staff_users.
CREATE TABLE role_grants (
    id          TEXT NOT NULL PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions (code),
    dept_id     TEXT REFERENCES departments (id),
    dept_path   TEXT NOT NULL DEFAULT '',
    granted_by  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX role_grants_user ON role_grants (user_id);
CREATE UNIQUE INDEX role_grants_unique ON role_grants (user_id, role, region_code, COALESCE(dept_id, ''));

-- +goose Down
DROP TABLE role_grants;
