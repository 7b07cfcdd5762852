-- Running a campaign from the dashboard: an admin may ask a running crawl to stop (the
-- crawler sees it at its next progress write and stops cleanly: the run is 'partial' and
-- the next run resumes its frontier), and the page shows a run's progress as it goes.
ALTER TABLE crawl_runs ADD COLUMN cancel_requested_at TIMESTAMPTZ;
ALTER TABLE crawl_runs ADD COLUMN cancel_requested_by VARCHAR;
-- Post pages the run set out to fetch (known once the listing is read; NULL before).
ALTER TABLE crawl_runs ADD COLUMN posts_planned INTEGER;
-- Post pages finished so far (stored, unchanged or gone), written with each progress record.
ALTER TABLE crawl_runs ADD COLUMN posts_done INTEGER NOT NULL DEFAULT 0;
-- Seconds between a scheduler's heartbeats (``heartbeat_at``): no heartbeat for two of
-- them and the dashboard shows the scheduler as stopped.
ALTER TABLE schedule_state ADD COLUMN heartbeat_every_s DOUBLE;
