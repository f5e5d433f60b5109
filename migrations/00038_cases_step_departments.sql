-- +goose Up
-- Workflow steps may be handled by other departments than the implementing
-- one (后台分类审批): at_dept_* is the department a case is with now. Staff
-- queues read it; dept_* stays the implementing department.
ALTER TABLE cases ADD COLUMN at_dept_id TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN at_dept_name TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN at_dept_path TEXT NOT NULL DEFAULT '';
-- The region of the department the case is with (a step may go up or down
-- the region tree: 县级受理、市级审批), for permission checks and queues.
ALTER TABLE cases ADD COLUMN at_region_code TEXT NOT NULL DEFAULT '';
UPDATE cases SET at_dept_id = dept_id, at_dept_name = dept_name, at_dept_path = dept_path, at_region_code = region_code;
DROP INDEX cases_dept_open;
CREATE INDEX cases_at_dept_open ON cases (at_dept_id, is_open, due_sort, submitted_at);
DROP INDEX cases_open_due;
CREATE INDEX cases_open_due ON cases (is_open, due_sort, submitted_at, at_region_code, at_dept_path);
CREATE INDEX cases_at_dept ON cases (at_dept_path, state);

-- +goose Down
DROP INDEX cases_at_dept;
DROP INDEX cases_open_due;
CREATE INDEX cases_open_due ON cases (is_open, due_sort, submitted_at, region_code, dept_path);
DROP INDEX cases_at_dept_open;
CREATE INDEX cases_dept_open ON cases (dept_id, is_open, due_sort, submitted_at);
ALTER TABLE cases DROP COLUMN at_region_code;
ALTER TABLE cases DROP COLUMN at_dept_path;
ALTER TABLE cases DROP COLUMN at_dept_name;
ALTER TABLE cases DROP COLUMN at_dept_id;
