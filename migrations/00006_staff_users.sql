-- +goose Up
-- Staff accounts (工作人员), each belonging to a region and optionally a
-- department, which decide who may manage the account. dept_path is staff's
-- copy of the department's ancestry (org owns departments; staff keeps the
-- copy current from org.department.moved events). password_hash is an
-- argon2id PHC string.
CREATE TABLE staff_users (
    id                   TEXT NOT NULL PRIMARY KEY,
    username             TEXT NOT NULL,
    display_name         TEXT NOT NULL,
    phone                TEXT NOT NULL DEFAULT '',
    region_code          TEXT NOT NULL REFERENCES regions (code),
    dept_id              TEXT REFERENCES departments (id),
    dept_path            TEXT NOT NULL DEFAULT '',
    password_hash        TEXT NOT NULL,
    password_changed_at  TIMESTAMP NOT NULL,
    totp_secret          TEXT NOT NULL DEFAULT '',
    totp_enabled         BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_counter    BIGINT NOT NULL DEFAULT 0,
    failed_logins        INTEGER NOT NULL DEFAULT 0,
    locked_until         TIMESTAMP,
    disabled             BOOLEAN NOT NULL DEFAULT FALSE,
    last_login_at        TIMESTAMP,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    version              INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX staff_users_username ON staff_users (username);
CREATE INDEX staff_users_region ON staff_users (region_code ASC);

-- +goose Down
DROP TABLE staff_users;
