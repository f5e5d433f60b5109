-- +goose Up
-- Head of each audit hash chain: the last sequence number and hash. Appends
-- update this row first, which serialises writers of one chain.
CREATE TABLE audit_chains (
    chain TEXT NOT NULL PRIMARY KEY,
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);

-- +goose Down
DROP TABLE audit_chains;
