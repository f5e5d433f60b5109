-- +goose Up
-- Shard heads of the audit log (ADR 0002): entries spread over 16 chains,
-- chosen by a hash of the target, so that audited writes on PostgreSQL do not
-- all queue on one head row until they commit. 'main' keeps its entries and
-- is shard 0. audit.Shards must match the number of heads made here.
INSERT INTO audit_chains (chain, seq, hash) VALUES
    ('main', 0, ''), ('main-01', 0, ''), ('main-02', 0, ''), ('main-03', 0, ''),
    ('main-04', 0, ''), ('main-05', 0, ''), ('main-06', 0, ''), ('main-07', 0, ''),
    ('main-08', 0, ''), ('main-09', 0, ''), ('main-10', 0, ''), ('main-11', 0, ''),
    ('main-12', 0, ''), ('main-13', 0, ''), ('main-14', 0, ''), ('main-15', 0, '')
ON CONFLICT (chain) DO NOTHING;

-- +goose Down
-- Shards that received entries stay: their entries need their heads to verify.
DELETE FROM audit_chains WHERE chain LIKE 'main-%' AND seq = 0;
