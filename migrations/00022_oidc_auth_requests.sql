-- +goose Up
-- Authorization requests in progress: created at /oidc/authorize, completed
-- (account_id set, done) once the holder has signed in and consented, then
-- exchanged once for tokens with the code whose SHA-256 is code_hash.
-- code_used_at marks the exchange; a second use revokes what the first got.
CREATE TABLE oidc_auth_requests (
    id                    TEXT NOT NULL PRIMARY KEY,
    client_id             TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    redirect_uri          TEXT NOT NULL,
    scopes                TEXT NOT NULL,
    state                 TEXT NOT NULL DEFAULT '',
    nonce                 TEXT NOT NULL DEFAULT '',
    response_type         TEXT NOT NULL,
    response_mode         TEXT NOT NULL DEFAULT '',
    code_challenge        TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    prompt                TEXT NOT NULL DEFAULT '',
    created_at            TIMESTAMP NOT NULL,
    expires_at            TIMESTAMP NOT NULL,
    account_id            TEXT REFERENCES identity_accounts (id) ON DELETE CASCADE,
    acting_for            TEXT NOT NULL DEFAULT '',
    subject               TEXT NOT NULL DEFAULT '',
    auth_time             TIMESTAMP,
    acr                   TEXT NOT NULL DEFAULT '',
    done                  BOOLEAN NOT NULL DEFAULT FALSE,
    code_hash             TEXT,
    code_expires_at       TIMESTAMP,
    code_used_at          TIMESTAMP
);
CREATE UNIQUE INDEX oidc_auth_requests_code ON oidc_auth_requests (code_hash);
CREATE INDEX oidc_auth_requests_expires ON oidc_auth_requests (expires_at ASC);

-- +goose Down
DROP TABLE oidc_auth_requests;
