-- +goose Up
-- Item types (事项类型): data, not constants; loaded by catalog.LoadTypes.
CREATE TABLE catalog_types (
    code   TEXT NOT NULL PRIMARY KEY,
    name   TEXT NOT NULL,
    sort   INTEGER NOT NULL DEFAULT 0,
    active BOOLEAN NOT NULL DEFAULT TRUE
);

-- +goose Down
DROP TABLE catalog_types;
