-- +goose Up
-- Catalogue imports (事项导入): one row per uploaded file, written when the
-- job starts and given its outcome when it ends (in the import's own
-- transaction when items were written). errors holds every bad row as JSON
-- ([{"row","column","reason"}]). region_code and dept_path are the scope of
-- the grant the owner imported under, for admins' scoped viewing.
CREATE TABLE catalog_imports (
    id          TEXT NOT NULL PRIMARY KEY,
    owner_id    TEXT NOT NULL,
    owner_name  TEXT NOT NULL,
    region_code TEXT NOT NULL,
    dept_path   TEXT NOT NULL DEFAULT '',
    file_name   TEXT NOT NULL,
    format      TEXT NOT NULL,
    mode        TEXT NOT NULL,
    status      TEXT NOT NULL,
    total_rows  INTEGER NOT NULL DEFAULT 0,
    created     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    message     TEXT NOT NULL DEFAULT '',
    notice      TEXT NOT NULL DEFAULT '',
    errors      TEXT NOT NULL DEFAULT '[]',
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE INDEX catalog_imports_owner ON catalog_imports (owner_id, started_at ASC);

-- +goose Down
DROP TABLE catalog_imports;
