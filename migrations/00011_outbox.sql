-- +goose Up
-- Transactional outbox: events written in the business transaction and
-- delivered at least once by the in-process worker, which claims rows with
-- a lease instead of locks.
CREATE TABLE outbox (
    id           TEXT NOT NULL PRIMARY KEY,
    topic        TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    available_at TIMESTAMP NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    lease_owner  TEXT NOT NULL DEFAULT '',
    lease_until  TIMESTAMP,
    last_error   TEXT NOT NULL DEFAULT '',
    done_at      TIMESTAMP,
    failed_at    TIMESTAMP
);
CREATE INDEX outbox_pending ON outbox (available_at ASC) WHERE done_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_topic ON outbox (topic, created_at ASC);

-- +goose Down
DROP TABLE outbox;
