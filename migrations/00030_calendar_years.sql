-- +goose Up
-- Years of the working-day calendar whose national schedule is loaded
-- (calendar domain). A year not listed here is unknown: deadlines that
-- reach it are refused rather than guessed.
CREATE TABLE calendar_years (
    year      INTEGER NOT NULL PRIMARY KEY,
    dataset   TEXT NOT NULL,
    confirmed BOOLEAN NOT NULL,
    source    TEXT NOT NULL,
    loaded_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE calendar_years;
