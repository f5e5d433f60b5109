-- +goose Up
-- The result's delivery (送达) after the decision: at the hall's pickup
-- window (统一窗口出件) or by post. to_deliver marks the decided cases whose
-- result has not gone out yet (待出件), for the pickup list, oldest decision
-- first, scoped by the implementing department or the one the case is with.
-- Cases decided before this have no delivery record and are not listed
-- (their results went out on paper, unrecorded).
ALTER TABLE cases ADD COLUMN delivered_at TIMESTAMP;
ALTER TABLE cases ADD COLUMN delivery TEXT NOT NULL DEFAULT '{}';
ALTER TABLE cases ADD COLUMN to_deliver BOOLEAN NOT NULL DEFAULT FALSE;
-- How the applicant asks to receive the result (结果领取方式, cases.ResultPref).
ALTER TABLE cases ADD COLUMN result_pref TEXT NOT NULL DEFAULT '{}';
-- Partial: only the waiting cases (a small set) are in them, so filings
-- and the other saves do not pay for them. Queries name to_deliver = TRUE
-- literally so that every planner sees they apply. ASC: range-ordered on
-- YugabyteDB, which would hash a leading column without it.
CREATE INDEX cases_to_deliver ON cases (decided_at ASC, id ASC, region_code, dept_path, at_region_code, at_dept_path) WHERE to_deliver = TRUE;
CREATE INDEX cases_to_deliver_dept ON cases (dept_id, decided_at ASC, id ASC, region_code) WHERE to_deliver = TRUE;
CREATE INDEX cases_to_deliver_at_dept ON cases (at_dept_id, decided_at ASC, id ASC, at_region_code, dept_id, region_code) WHERE to_deliver = TRUE;

-- +goose Down
DROP INDEX cases_to_deliver_at_dept;
DROP INDEX cases_to_deliver_dept;
DROP INDEX cases_to_deliver;
ALTER TABLE cases DROP COLUMN result_pref;
ALTER TABLE cases DROP COLUMN to_deliver;
ALTER TABLE cases DROP COLUMN delivery;
ALTER TABLE cases DROP COLUMN delivered_at;
