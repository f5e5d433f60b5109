-- +goose Up
-- SQLite keeps one audit chain (see 00037): its writes are serialised by the
-- one writer connection anyway. A bulk transaction's entries join main, as
-- audit.Write does for any chain without a head; nothing to create.
SELECT 1;

-- +goose Down
SELECT 1;
