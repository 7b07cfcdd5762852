-- Pool entries that had not been seen live since the campaign closed (gone, or not fetched
-- after closes_at) and were frozen anyway because an admin accepted them with a reason
-- (`draw freeze --accept-unverified REASON`). A JSON list of objects: post_number, state
-- ('gone' | 'not_fetched_since_close' | 'never_fetched'), last_fetched_at, reason,
-- accepted_by. The draw copies it into the certificate and the announcement prints it.
-- DuckDB alters no table that an index depends on: the index is dropped and made again.
DROP INDEX draw_pools_campaign;
ALTER TABLE draw_pools ADD COLUMN unverified_entries JSON NOT NULL DEFAULT '[]';
CREATE INDEX draw_pools_campaign ON draw_pools (campaign_slug);
