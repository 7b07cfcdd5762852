-- Review: what the detectors found, per campaign. Derived data, never decisions: every
-- `tagdraw review suggest SLUG` (and every crawl) replaces a campaign's rows here.
-- No primary keys on purpose: rows are deleted and re-inserted in one transaction.

-- One thing a moderator should look at, with the evidence for it.
CREATE TABLE suggestions (
    campaign_slug VARCHAR NOT NULL,
    post_number BIGINT,                      -- the entry (NULL for a thread answer)
    comment_id BIGINT,                       -- a comment the suggestion is about, if any
    kind VARCHAR NOT NULL,                   -- 'duplicate' | 'spam' | 'rule' | 'near_miss'
    score DOUBLE NOT NULL,                   -- 0..1, higher = more certain
    duplicate_of BIGINT,                     -- the original (kind 'duplicate')
    why VARCHAR NOT NULL,                    -- one human sentence
    evidence JSON,                           -- signals, similarity, shared passages, changes
    computed_at TIMESTAMPTZ NOT NULL
);

-- Posts that are copies of each other; the earliest post of a cluster is the original.
CREATE TABLE duplicate_clusters (
    campaign_slug VARCHAR NOT NULL,
    cluster_id BIGINT NOT NULL,              -- = the original's post number
    post_number BIGINT NOT NULL,
    is_original BOOLEAN NOT NULL,
    author_key VARCHAR,                      -- lower-cased username
    method VARCHAR NOT NULL,                 -- 'original' | 'exact' | 'near'
    jaccard DOUBLE NOT NULL,                 -- with the original (1 for the original)
    cross_account BOOLEAN NOT NULL,          -- the cluster spans several accounts
    computed_at TIMESTAMPTZ NOT NULL
);

-- People who meant to take part but made no valid entry: reach them before the deadline.
CREATE TABLE near_misses (
    campaign_slug VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,                   -- 'untagged_post' | 'thread_answer'
    post_number BIGINT,                      -- the untagged post (NULL for a thread answer)
    comment_id BIGINT,                       -- the comment in the announcement thread
    author_username VARCHAR,                 -- NULL for guests
    author_name VARCHAR,
    created_at TIMESTAMPTZ,
    score DOUBLE NOT NULL,
    why VARCHAR NOT NULL,
    excerpt VARCHAR,                         -- the title, or the start of the comment
    evidence JSON,
    computed_at TIMESTAMPTZ NOT NULL
);

-- One row per review run (what the dashboard shows as "suggestions computed at").
CREATE TABLE review_runs (
    campaign_slug VARCHAR NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL,
    posts INTEGER NOT NULL,                  -- posts compared
    entries INTEGER NOT NULL,                -- candidate entries
    suggestions INTEGER NOT NULL,
    duplicate_clusters INTEGER NOT NULL,
    near_misses INTEGER NOT NULL,
    rule_decisions INTEGER NOT NULL,         -- rule decisions written by this run
    duration_s DOUBLE NOT NULL,
    summary JSON
);
