-- +goose Up
-- SQLite keeps one audit chain: its writes are serialised by the one writer
-- connection anyway, so shard heads (the PostgreSQL version of this
-- migration, ADR 0002) would gain nothing. Only the main head is made here,
-- which appending would otherwise do on first use.
INSERT INTO audit_chains (chain, seq, hash) VALUES ('main', 0, '') ON CONFLICT (chain) DO NOTHING;

-- +goose Down
DELETE FROM audit_chains WHERE chain = 'main' AND seq = 0;
