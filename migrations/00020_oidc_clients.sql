-- +goose Up
-- Systems that sign citizens in through our OpenID Connect provider (接入系统,
-- the province's vertical systems). id is the OAuth client_id. A
-- confidential client authenticates with a secret (auth_method
-- client_secret_basic or client_secret_post); only a salted SHA-256 of it is
-- kept (secrets are long random strings, never passwords, so a slow hash
-- would only slow every token request). A public client (auth_method none)
-- must use PKCE with S256. redirect_uris and post_logout_uris are JSON arrays
-- compared exactly; scopes is the JSON array of scopes the client is entitled
-- to (a request for others is silently narrowed). subject_type is 'pairwise'
-- (the default: sub differs per sector) or 'public'; sector_id, when set,
-- groups clients that may share pairwise subjects.
CREATE TABLE oidc_clients (
    id               TEXT NOT NULL PRIMARY KEY,
    name             TEXT NOT NULL,
    secret_hash      TEXT NOT NULL DEFAULT '',
    auth_method      TEXT NOT NULL,
    redirect_uris    TEXT NOT NULL,
    post_logout_uris TEXT NOT NULL DEFAULT '[]',
    scopes           TEXT NOT NULL,
    subject_type     TEXT NOT NULL DEFAULT 'pairwise',
    sector_id        TEXT NOT NULL DEFAULT '',
    refresh          BOOLEAN NOT NULL DEFAULT TRUE,
    disabled         BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1
);

-- +goose Down
DROP TABLE oidc_clients;
