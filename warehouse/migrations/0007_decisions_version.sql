-- A counter on the campaign row that every write deciding who may win increments in its
-- own transaction: each decision (moderator or rule), freezing and unfreezing the pool,
-- and editing the campaign's rules. DuckDB detects concurrent updates per column, so all
-- of them must write this one column: then two such transactions in one campaign at once
-- (two moderators on one entry, a decision while the pool is being frozen) conflict, and
-- the one retried sees the other's result instead of both committing on an out-of-date
-- view. Users may read it as "how many such changes the campaign has seen".
ALTER TABLE campaigns ADD COLUMN decisions_version BIGINT NOT NULL DEFAULT 0;
