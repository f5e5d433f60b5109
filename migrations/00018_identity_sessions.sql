-- +goose Up
-- Citizen sessions. id is the SHA-256 of the cookie token. acting_for is
-- the enterprise account the person acts for as its 经办人 ('' for
-- themselves): explicit in the session, and so in every audit entry.
CREATE TABLE identity_sessions (
    id           TEXT NOT NULL PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES identity_accounts (id) ON DELETE CASCADE,
    acting_for   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX identity_sessions_account ON identity_sessions (account_id);
CREATE INDEX identity_sessions_expires ON identity_sessions (expires_at ASC);

-- Sign-in history (登录记录) the account holder can read: every sign-in and
-- every refused attempt on the account. via is "password" or "sso:CLIENT".
CREATE TABLE identity_logins (
    id         TEXT NOT NULL PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES identity_accounts (id) ON DELETE CASCADE,
    at         TIMESTAMP NOT NULL,
    outcome    TEXT NOT NULL,
    via        TEXT NOT NULL DEFAULT 'password',
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX identity_logins_account ON identity_logins (account_id, at ASC);

-- +goose Down
DROP TABLE identity_logins;
DROP TABLE identity_sessions;
