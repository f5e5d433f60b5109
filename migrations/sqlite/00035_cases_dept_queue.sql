-- +goose Up
-- A department-bound handler's queue: open cases of one department subtree
-- by time left. The query names this index (INDEXED BY) and adds a
-- byte-range on dept_path, which BINARY collation makes exactly the prefix.
CREATE INDEX cases_dept_open ON cases (dept_path, is_open, due_sort);

-- +goose Down
DROP INDEX cases_dept_open;
