-- +goose Up
-- A department-bound handler's queue: open cases of one department subtree
-- by time left. text_pattern_ops lets LIKE 'path%' range-scan whatever the
-- database collation.
CREATE INDEX cases_dept_open ON cases (dept_path text_pattern_ops, is_open, due_sort) INCLUDE (region_code, submitted_at);

-- +goose Down
DROP INDEX cases_dept_open;
