-- +goose Up
-- Append-only audit log (审计日志). hash = SHA-256 over prev_hash and the
-- canonical record, so editing or deleting a row breaks the chain.
CREATE TABLE audit_log (
    chain       TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    id          TEXT NOT NULL,
    at          TIMESTAMP NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    region_code TEXT NOT NULL,
    dept_path   TEXT NOT NULL,
    ip          TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
);
CREATE INDEX audit_log_at ON audit_log (at ASC);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at ASC);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id);
CREATE INDEX audit_log_region ON audit_log (region_code ASC);

-- +goose Down
DROP TABLE audit_log;
