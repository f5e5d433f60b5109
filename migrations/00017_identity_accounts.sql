-- +goose Up
-- Citizen and enterprise accounts (统一身份认证账号). A person signs in with
-- the 公民身份号码 (id_number, check char upper-case) or the verified mobile
-- phone; a legal person (企业、社会组织) with its 统一社会信用代码 (uscc).
-- assurance is the 实名等级 (1 phone verified … 4 verified in person at a
-- window); assurance_method says how the current level was reached.
-- password_hash is an argon2id PHC string.
CREATE TABLE identity_accounts (
    id                  TEXT NOT NULL PRIMARY KEY,
    kind                TEXT NOT NULL,
    name                TEXT NOT NULL,
    id_number           TEXT,
    uscc                TEXT,
    phone               TEXT,
    legal_rep           TEXT NOT NULL DEFAULT '',
    assurance           INTEGER NOT NULL DEFAULT 1,
    assurance_method    TEXT NOT NULL DEFAULT '',
    assurance_at        TIMESTAMP NOT NULL,
    password_hash       TEXT NOT NULL,
    password_changed_at TIMESTAMP NOT NULL,
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    locked_until        TIMESTAMP,
    disabled            BOOLEAN NOT NULL DEFAULT FALSE,
    last_login_at       TIMESTAMP,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    version             INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX identity_accounts_id_number ON identity_accounts (id_number);
CREATE UNIQUE INDEX identity_accounts_uscc ON identity_accounts (uscc);
CREATE UNIQUE INDEX identity_accounts_person_phone ON identity_accounts (phone) WHERE kind = 'person';

-- +goose Down
DROP TABLE identity_accounts;
