-- +goose Up
-- Implementation items (实施清单事项). The elements live in versions
-- (catalog_item_versions); this row holds identity, lifecycle state, the
-- current draft and published version numbers, and the columns lists
-- filter on. dept_path is catalog's copy of the department's ancestry for
-- scope checks (kept current from org.department.moved).
CREATE TABLE catalog_items (
    id                TEXT NOT NULL PRIMARY KEY,
    code              TEXT NOT NULL,
    basic_code        TEXT NOT NULL,
    name              TEXT NOT NULL,
    type_code         TEXT NOT NULL REFERENCES catalog_types (code),
    level             INTEGER NOT NULL,
    region_code       TEXT NOT NULL REFERENCES regions (code),
    dept_id           TEXT NOT NULL REFERENCES departments (id),
    dept_path         TEXT NOT NULL,
    status            TEXT NOT NULL,
    draft_version     INTEGER NOT NULL DEFAULT 0,
    published_version INTEGER NOT NULL DEFAULT 0,
    popularity        BIGINT NOT NULL DEFAULT 0,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    version           INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX catalog_items_code ON catalog_items (code);
CREATE INDEX catalog_items_region ON catalog_items (region_code ASC, status);
CREATE INDEX catalog_items_dept ON catalog_items (dept_id);
CREATE INDEX catalog_items_status ON catalog_items (status, updated_at ASC);

-- +goose Down
DROP TABLE catalog_items;
