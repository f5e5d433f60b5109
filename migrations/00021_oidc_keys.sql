-- +goose Up
-- Signing keys of ID tokens (RS256). The newest key signs once it has been
-- published for a while; older keys stay in the JWKS until expires_at, after
-- every token they signed has expired. private_key is PKCS#8 DER, base64:
-- AES-256-GCM-encrypted under the configured oidc secret when enc = 'aes-gcm',
-- in the clear when enc = 'none' (no secret configured: then the database's
-- own protection is the keys' only protection).
CREATE TABLE oidc_keys (
    id          TEXT NOT NULL PRIMARY KEY,
    alg         TEXT NOT NULL,
    private_key TEXT NOT NULL,
    enc         TEXT NOT NULL,
    public_jwk  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP
);
CREATE INDEX oidc_keys_created ON oidc_keys (created_at ASC);

-- Random secrets the provider makes once and every node shares: the
-- pairwise subject key and the key that seals codes and access tokens.
CREATE TABLE oidc_secrets (
    name       TEXT NOT NULL PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE oidc_secrets;
DROP TABLE oidc_keys;
