-- +goose Up
-- The authorization request's max_age in seconds (NULL: none): a portal
-- session older than this must sign in again before the code is issued.
ALTER TABLE oidc_auth_requests ADD COLUMN max_age INTEGER;

-- +goose Down
ALTER TABLE oidc_auth_requests DROP COLUMN max_age;
