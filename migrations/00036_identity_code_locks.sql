-- +goose Up
-- One row per phone that codes were sent to: sending locks it first, so the
-- per-phone limits (one a minute, ten a day) hold under concurrent requests
-- on every engine.
CREATE TABLE identity_code_locks (
    target    TEXT NOT NULL PRIMARY KEY,
    locked_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE identity_code_locks;
