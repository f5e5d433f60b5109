-- +goose Up
-- The bulk chain (audit.BulkChain): a long transaction with many entries,
-- such as a catalogue import of thousands of items, appends to it instead of
-- one of the 16 shards, so that the regular writes hashed to that shard do
-- not wait for the import to commit.
INSERT INTO audit_chains (chain, seq, hash) VALUES ('bulk', 0, '') ON CONFLICT (chain) DO NOTHING;

-- +goose Down
-- A bulk chain that received entries stays: its entries need it to verify.
DELETE FROM audit_chains WHERE chain = 'bulk' AND seq = 0;
