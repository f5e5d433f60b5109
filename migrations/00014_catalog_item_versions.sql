-- +goose Up
-- Every version of an item's elements, as JSON. A version is edited only
-- while it is a draft; once submitted it is frozen, and published versions
-- are never changed (cases pin the version they were filed under).
CREATE TABLE catalog_item_versions (
    item_id      TEXT NOT NULL REFERENCES catalog_items (id),
    version_no   INTEGER NOT NULL,
    status       TEXT NOT NULL,
    data         TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    author_id    TEXT NOT NULL,
    author_name  TEXT NOT NULL,
    reviewer_id  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    published_at TIMESTAMP,
    PRIMARY KEY (item_id, version_no)
);
CREATE INDEX catalog_item_versions_status ON catalog_item_versions (status, updated_at ASC);

-- +goose Down
DROP TABLE catalog_item_versions;
