-- +goose Up
-- What an account holder has let each system receive (授权记录): scopes is
-- the space-separated set consented to, remembered so the consent page is
-- shown again only when a system asks for more. first_at and last_at are the
-- first and latest sign-ins through it. Revoking deletes the row and the
-- system's tokens.
CREATE TABLE oidc_consents (
    id         TEXT NOT NULL PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES identity_accounts (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    first_at   TIMESTAMP NOT NULL,
    last_at    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX oidc_consents_pair ON oidc_consents (account_id, client_id);

-- +goose Down
DROP TABLE oidc_consents;
