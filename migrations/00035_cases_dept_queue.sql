-- +goose Up
-- A department-bound handler's queue: the open cases of a few departments
-- (the department and those under it, by id) by time left, read in order.
CREATE INDEX cases_dept_open ON cases (dept_id, is_open, due_sort, submitted_at);

-- +goose Down
DROP INDEX cases_dept_open;
