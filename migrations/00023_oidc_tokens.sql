-- +goose Up
-- Access and refresh tokens issued (kind 'access' or 'refresh'). Access
-- tokens are opaque, sealed "id:subject" strings; refresh tokens are random
-- and only their SHA-256 (refresh_hash) is kept. family is the grant a token
-- descends from (the authorization request): reuse of a rotated refresh
-- token or of a code revokes the whole family. rotated_at marks a refresh
-- token that has been exchanged for the next one.
CREATE TABLE oidc_tokens (
    id           TEXT NOT NULL PRIMARY KEY,
    kind         TEXT NOT NULL,
    family       TEXT NOT NULL,
    client_id    TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    account_id   TEXT NOT NULL REFERENCES identity_accounts (id) ON DELETE CASCADE,
    acting_for   TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    auth_time    TIMESTAMP NOT NULL,
    acr          TEXT NOT NULL DEFAULT '',
    refresh_hash TEXT,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    rotated_at   TIMESTAMP,
    revoked_at   TIMESTAMP
);
CREATE UNIQUE INDEX oidc_tokens_refresh ON oidc_tokens (refresh_hash);
CREATE INDEX oidc_tokens_family ON oidc_tokens (family);
CREATE INDEX oidc_tokens_account ON oidc_tokens (account_id, client_id);
CREATE INDEX oidc_tokens_expires ON oidc_tokens (expires_at ASC);

-- +goose Down
DROP TABLE oidc_tokens;
