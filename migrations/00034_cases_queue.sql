-- +goose Up
-- The work queue reads open cases by time left from one index: is_open
-- (submitted, correcting, accepted, special) and due_sort (the promised due
-- date, or a far-future date while there is none, so paused and
-- not-yet-accepted cases come last on every engine without a NULL ordering
-- expression).
ALTER TABLE cases ADD COLUMN is_open BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE cases ADD COLUMN due_sort TIMESTAMP NOT NULL DEFAULT '2999-12-31 00:00:00';
CREATE INDEX cases_open_due ON cases (is_open, due_sort, submitted_at, region_code, dept_path);

-- +goose Down
DROP INDEX cases_open_due;
ALTER TABLE cases DROP COLUMN due_sort;
ALTER TABLE cases DROP COLUMN is_open;
