-- +goose Up
-- The account an actor acted for (an enterprise whose 经办人 the actor is);
-- '' when acting for themselves. Part of the entry's hash when set.
ALTER TABLE audit_log ADD COLUMN on_behalf_of TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit_log DROP COLUMN on_behalf_of;
