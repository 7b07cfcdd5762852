-- What each running scheduler (`tagdraw schedule`) plans to crawl next, so that the
-- dashboard can show the next scheduled crawl. One row per scheduler process and campaign.
CREATE TABLE schedule_state (
    holder VARCHAR NOT NULL,                 -- host:pid:token of the scheduler process
    campaign_slug VARCHAR NOT NULL,
    host VARCHAR NOT NULL,
    pid INTEGER NOT NULL,
    schedule VARCHAR,                        -- 'every 30 min' | 'cron */30 * * * *'
    next_run_at TIMESTAMPTZ,
    heartbeat_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (holder, campaign_slug)
);
