-- +goose Up
-- The result's delivery (送达) after the decision: at the hall's pickup
-- window (统一窗口出件), by post or electronically. to_deliver marks the
-- decided cases whose result has not gone out yet (待出件), for the pickup
-- window's list, oldest decision first.
ALTER TABLE cases ADD COLUMN delivered_at TIMESTAMP;
ALTER TABLE cases ADD COLUMN delivery TEXT NOT NULL DEFAULT '{}';
ALTER TABLE cases ADD COLUMN to_deliver BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE cases SET to_deliver = TRUE WHERE state IN ('approved', 'denied');
CREATE INDEX cases_to_deliver ON cases (to_deliver, decided_at, at_region_code, at_dept_path);

-- +goose Down
DROP INDEX cases_to_deliver;
ALTER TABLE cases DROP COLUMN to_deliver;
ALTER TABLE cases DROP COLUMN delivery;
ALTER TABLE cases DROP COLUMN delivered_at;
