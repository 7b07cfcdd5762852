-- The draw (tagdraw-draw-v1): frozen pools, the one draw per campaign, and replacements.
-- Written only by warehouse/draw.py; every change is also in audit_log.

-- Every freeze of a campaign's pool. At most one row per campaign is 'frozen' (the pool
-- the draw will use); an unfreeze marks it 'voided' (the announcement is void); the
-- draw marks it 'drawn'.
CREATE SEQUENCE draw_pool_seq START 1;
CREATE TABLE draw_pools (
    pool_id BIGINT PRIMARY KEY DEFAULT nextval('draw_pool_seq'),
    campaign_slug VARCHAR NOT NULL,
    state VARCHAR NOT NULL,                  -- 'frozen' | 'voided' | 'drawn'
    pool_text VARCHAR NOT NULL,              -- the pool file: post_number,author_key rows
    pool_hash VARCHAR NOT NULL,              -- SHA-256 hex of pool_text's UTF-8 bytes
    pool_size INTEGER NOT NULL,
    left_out JSON NOT NULL,                  -- undecided post numbers an admin left out
    randomness_source VARCHAR NOT NULL,      -- e.g. 'Thai Government Lottery first prize, 1 Sep 2013'
    randomness_due TIMESTAMPTZ NOT NULL,     -- when that value is published
    frozen_at TIMESTAMPTZ NOT NULL,
    frozen_by VARCHAR NOT NULL,
    voided_at TIMESTAMPTZ,
    voided_by VARCHAR,
    void_reason VARCHAR
);
CREATE INDEX draw_pools_campaign ON draw_pools (campaign_slug);

-- The draw itself: one per campaign, never re-run.
CREATE TABLE draws (
    campaign_slug VARCHAR PRIMARY KEY,
    pool_id BIGINT NOT NULL,
    pool_hash VARCHAR NOT NULL,
    randomness VARCHAR NOT NULL,             -- e.g. '123456/'
    winners JSON NOT NULL,                   -- as drawn, prize order
    alternate_list JSON NOT NULL,            -- as drawn, in order
    final_winners JSON NOT NULL,             -- after replacements (null = vacant prize)
    certificate JSON NOT NULL,               -- the current certificate, with replacements
    ran_at TIMESTAMPTZ NOT NULL,
    ran_by VARCHAR NOT NULL
);

-- A disqualified winner and the alternate who took the prize.
CREATE SEQUENCE draw_replacement_seq START 1;
CREATE TABLE draw_replacements (
    replacement_id BIGINT PRIMARY KEY DEFAULT nextval('draw_replacement_seq'),
    campaign_slug VARCHAR NOT NULL,
    prize_rank INTEGER NOT NULL,             -- 1 = first prize
    disqualified BIGINT NOT NULL,            -- post number that lost the prize
    replacement BIGINT,                      -- the alternate who took it; NULL = none left
    reason VARCHAR NOT NULL,
    replaced_by VARCHAR NOT NULL,
    replaced_at TIMESTAMPTZ NOT NULL
);
