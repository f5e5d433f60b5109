-- +goose Up
-- Administrative divisions (行政区划), GB/T 2260 codes for province, prefecture
-- and county (6 digits) and statistical codes for townships (9 digits).
-- Reference data, loaded and refreshed by the application (org.LoadRegions).
CREATE TABLE regions (
    code        TEXT NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL,
    level       INTEGER NOT NULL,
    parent_code TEXT,
    zone        BOOLEAN NOT NULL DEFAULT FALSE,
    dataset     TEXT NOT NULL,
    valid_from  TEXT NOT NULL,
    valid_to    TEXT
);
CREATE INDEX regions_parent ON regions (parent_code ASC, code ASC);

-- +goose Down
DROP TABLE regions;
