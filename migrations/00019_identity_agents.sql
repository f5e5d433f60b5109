-- +goose Up
-- 经办人: a person an enterprise account has authorised to act for it.
-- revoked_at ends the authorisation; the row stays as history.
CREATE TABLE identity_agents (
    id         TEXT NOT NULL PRIMARY KEY,
    legal_id   TEXT NOT NULL REFERENCES identity_accounts (id) ON DELETE CASCADE,
    person_id  TEXT NOT NULL REFERENCES identity_accounts (id) ON DELETE CASCADE,
    granted_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX identity_agents_legal ON identity_agents (legal_id);
CREATE INDEX identity_agents_person ON identity_agents (person_id);

-- How each account reached each assurance level (实名核验记录).
CREATE TABLE identity_assurance (
    id         TEXT NOT NULL PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES identity_accounts (id) ON DELETE CASCADE,
    level      INTEGER NOT NULL,
    method     TEXT NOT NULL,
    staff_id   TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    at         TIMESTAMP NOT NULL
);
CREATE INDEX identity_assurance_account ON identity_assurance (account_id, at ASC);

-- One-time verification codes (验证码) sent to a phone. Only a digest of the
-- code is kept; attempts bounds guessing.
CREATE TABLE identity_codes (
    id         TEXT NOT NULL PRIMARY KEY,
    purpose    TEXT NOT NULL,
    target     TEXT NOT NULL,
    code_hash  TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX identity_codes_target ON identity_codes (target, purpose, created_at ASC);

-- +goose Down
DROP TABLE identity_codes;
DROP TABLE identity_assurance;
DROP TABLE identity_agents;
