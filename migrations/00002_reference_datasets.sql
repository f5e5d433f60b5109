-- +goose Up
-- Which version of each reference data set is loaded.
CREATE TABLE reference_datasets (
    name      TEXT NOT NULL PRIMARY KEY,
    version   TEXT NOT NULL,
    rows      INTEGER NOT NULL,
    loaded_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE reference_datasets;
