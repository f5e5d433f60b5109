-- +goose Up
-- Staff sessions. id is the SHA-256 of the cookie token, so a leaked table
-- does not leak usable cookies. mfa_ok is false between password and TOTP.
CREATE TABLE staff_sessions (
    id           TEXT NOT NULL PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    mfa_ok       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);
CREATE INDEX staff_sessions_expires ON staff_sessions (expires_at ASC);

-- +goose Down
DROP TABLE staff_sessions;
