-- +goose Up
-- Applications (办件). number is assigned at submission (implementation
-- code + yyyymmdd + 4-digit daily sequence); drafts have none. The item is
-- pinned by id, code and the published version the case was filed under.
-- region_code and dept_path are the handling department's, for scoped
-- lists. Dates due are midnight UTC of the day in China; NULL while not
-- accepted or while the clock is paused. pauses, form_data and outstanding
-- are JSON.
CREATE TABLE cases (
    id               TEXT NOT NULL PRIMARY KEY,
    number           TEXT,
    item_id          TEXT NOT NULL,
    item_code        TEXT NOT NULL,
    item_version     INTEGER NOT NULL,
    item_name        TEXT NOT NULL,
    dept_id          TEXT NOT NULL,
    dept_name        TEXT NOT NULL,
    dept_path        TEXT NOT NULL,
    region_code      TEXT NOT NULL,
    channel          TEXT NOT NULL,
    state            TEXT NOT NULL,
    step             INTEGER NOT NULL DEFAULT 0,
    steps            TEXT NOT NULL,
    applicant_id     TEXT NOT NULL,
    applicant_kind   TEXT NOT NULL,
    applicant_name   TEXT NOT NULL,
    applicant_idno   TEXT NOT NULL,
    applicant_phone  TEXT NOT NULL DEFAULT '',
    acting_for       TEXT NOT NULL DEFAULT '',
    agent_name       TEXT NOT NULL DEFAULT '',
    immediate        BOOLEAN NOT NULL,
    legal_days       INTEGER NOT NULL,
    legal_unit       TEXT NOT NULL,
    promised_days    INTEGER NOT NULL,
    promised_unit    TEXT NOT NULL,
    extension_days   INTEGER NOT NULL DEFAULT 0,
    fix_requested    BOOLEAN NOT NULL DEFAULT FALSE,
    fixed_from       TEXT NOT NULL DEFAULT '',
    fix_items        TEXT NOT NULL DEFAULT '[]',
    outstanding      TEXT NOT NULL DEFAULT '[]',
    supply_by        TIMESTAMP,
    pauses           TEXT NOT NULL DEFAULT '[]',
    form_data        TEXT NOT NULL DEFAULT '{}',
    submitted_at     TIMESTAMP,
    accepted_at      TIMESTAMP,
    decided_at       TIMESTAMP,
    legal_due        TIMESTAMP,
    promised_due     TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX cases_number ON cases (number);
CREATE INDEX cases_applicant ON cases (applicant_id, created_at ASC);
CREATE INDEX cases_queue ON cases (state, region_code, promised_due ASC);
CREATE INDEX cases_dept ON cases (dept_path, state);

-- Every transition (办件过程信息): who, when, which department, what
-- opinion, and its national status code (0: none). seq orders a case's events.
CREATE TABLE case_events (
    id          TEXT NOT NULL PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    at          TIMESTAMP NOT NULL,
    action      TEXT NOT NULL,
    code        INTEGER NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    actor_role  TEXT NOT NULL,
    dept_name   TEXT NOT NULL DEFAULT '',
    opinion     TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX case_events_seq ON case_events (case_id, seq);

-- Materials (申请材料) provided with a case: an uploaded file (blob_key,
-- its SHA-256, size and type) or a paper original a clerk checked.
CREATE TABLE case_materials (
    id            TEXT NOT NULL PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    blob_key      TEXT NOT NULL DEFAULT '',
    sha256        TEXT NOT NULL DEFAULT '',
    size          BIGINT NOT NULL DEFAULT 0,
    content_type  TEXT NOT NULL DEFAULT '',
    paper_checked BOOLEAN NOT NULL DEFAULT FALSE,
    added_by      TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX case_materials_case ON case_materials (case_id);

-- Daily sequence of case numbers per implementation code.
CREATE TABLE case_sequences (
    item_code TEXT NOT NULL,
    day       TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (item_code, day)
);

-- +goose Down
DROP TABLE case_sequences;
DROP TABLE case_materials;
DROP TABLE case_events;
DROP TABLE cases;
