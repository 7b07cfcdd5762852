-- Core tables: what the crawler collects (crawler-owned) and what moderators decide
-- (moderator-owned). The crawler never writes to decisions.

CREATE TABLE posts (
    post_number BIGINT PRIMARY KEY,          -- หมายเลขบันทึก
    url VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    author_username VARCHAR,
    author_name VARCHAR,
    book_slug VARCHAR,
    created_at TIMESTAMPTZ,                  -- เขียนเมื่อ
    updated_at TIMESTAMPTZ,                  -- แก้ไขเมื่อ; NULL if never edited
    tags VARCHAR[] NOT NULL DEFAULT [],      -- normalised, no '#'
    raw_tags VARCHAR[] NOT NULL DEFAULT [],  -- as shown on the page
    body_text VARCHAR NOT NULL DEFAULT '',
    license_text VARCHAR,
    comment_count_declared INTEGER,          -- the ความเห็น (N) figure
    comments_collected INTEGER,              -- how many comments the last crawl stored
    content_hash VARCHAR,                    -- of title, body, tags, updated_at: detects edits
    gone BOOLEAN NOT NULL DEFAULT false,     -- deleted or private at the last crawl
    gone_reason VARCHAR,                     -- 'not_found' | 'private'
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    last_fetched_at TIMESTAMPTZ
);

CREATE TABLE comments (
    comment_id BIGINT PRIMARY KEY,
    post_number BIGINT NOT NULL,
    position INTEGER,                        -- order in the thread, 1 = oldest
    author_username VARCHAR,                 -- NULL for guests (ผู้อ่านทั่วไป)
    author_name VARCHAR,
    created_at TIMESTAMPTZ,
    body_text VARCHAR NOT NULL DEFAULT '',
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX comments_post ON comments (post_number);

-- Every distinct state of a post's title, body, tags and updated_at, as first seen.
CREATE TABLE post_versions (
    post_number BIGINT NOT NULL,
    version_no INTEGER NOT NULL,             -- 1 = first seen
    seen_at TIMESTAMPTZ NOT NULL,
    title VARCHAR,
    body_text VARCHAR,
    tags VARCHAR[],
    updated_at TIMESTAMPTZ,
    content_hash VARCHAR NOT NULL,
    PRIMARY KEY (post_number, version_no)
);

CREATE TABLE campaigns (
    slug VARCHAR PRIMARY KEY,
    title VARCHAR,
    keywords VARCHAR[] NOT NULL,             -- normalised entry tags
    near_miss_tags VARCHAR[] NOT NULL DEFAULT [],  -- listings crawled only to find near misses
    opens_at TIMESTAMPTZ NOT NULL,
    closes_at TIMESTAMPTZ NOT NULL,
    prizes INTEGER NOT NULL,
    prize_description VARCHAR,               -- e.g. 'เงินสด 2,500 บาท'
    alternates INTEGER NOT NULL DEFAULT 0,
    one_prize_per_author BOOLEAN NOT NULL DEFAULT true,
    max_entries_per_author INTEGER,          -- NULL = no limit
    excluded_authors VARCHAR[] NOT NULL DEFAULT [],  -- lower-cased usernames (organisers, staff)
    announcement_post BIGINT,
    site_url VARCHAR NOT NULL,
    crawl_after_close_days INTEGER NOT NULL DEFAULT 7,
    frozen_at TIMESTAMPTZ,                   -- set while the draw pool is frozen: decisions locked
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Which posts a campaign's crawls have seen on its keyword listings (and where).
CREATE TABLE campaign_posts (
    campaign_slug VARCHAR NOT NULL,
    post_number BIGINT NOT NULL,
    source VARCHAR NOT NULL,                 -- 'listing' | 'near_miss_listing' | 'announcement'
    listed BOOLEAN NOT NULL DEFAULT true,    -- on the keyword listing at the last crawl
    listing_comment_count INTEGER,
    listing_title VARCHAR,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (campaign_slug, post_number)
);

CREATE SEQUENCE crawl_run_seq START 1;
CREATE TABLE crawl_runs (
    run_id BIGINT PRIMARY KEY DEFAULT nextval('crawl_run_seq'),
    campaign_slug VARCHAR NOT NULL,
    mode VARCHAR NOT NULL,                   -- 'incremental' | 'full'
    status VARCHAR NOT NULL,                 -- 'running' | 'ok' | 'partial' | 'failed' | 'interrupted'
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    pid INTEGER,
    host VARCHAR,
    trigger VARCHAR,                         -- 'cli' | 'schedule' | 'demo' | ...
    requests INTEGER NOT NULL DEFAULT 0,
    listing_pages INTEGER NOT NULL DEFAULT 0,
    post_pages INTEGER NOT NULL DEFAULT 0,
    comment_pages INTEGER NOT NULL DEFAULT 0,
    posts_new INTEGER NOT NULL DEFAULT 0,
    posts_changed INTEGER NOT NULL DEFAULT 0,
    posts_unchanged INTEGER NOT NULL DEFAULT 0,
    posts_gone INTEGER NOT NULL DEFAULT 0,
    comments_new INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    duration_s DOUBLE,
    summary JSON
);

-- The crawl frontier lives here so that a killed crawl resumes where it stopped.
CREATE TABLE crawl_frontier (
    campaign_slug VARCHAR NOT NULL,
    url VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,                   -- 'listing' | 'post'
    post_number BIGINT,
    state VARCHAR NOT NULL,                  -- 'pending' | 'done' | 'failed' | 'gone'
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error VARCHAR,
    run_id BIGINT,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (campaign_slug, url)
);

CREATE TABLE crawl_errors (
    run_id BIGINT NOT NULL,
    url VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    error VARCHAR NOT NULL,
    http_status INTEGER,
    saved_html_path VARCHAR,
    permanent BOOLEAN NOT NULL,
    "at" TIMESTAMPTZ NOT NULL               -- quote it: AT is a keyword in DuckDB 2.0
);

-- One crawl per campaign at a time; a lock whose holder died is taken over.
CREATE TABLE crawl_locks (
    campaign_slug VARCHAR PRIMARY KEY,
    holder VARCHAR NOT NULL,                 -- host:pid:token
    pid INTEGER NOT NULL,
    host VARCHAR NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL,
    heartbeat_at TIMESTAMPTZ NOT NULL
);

-- The moderation log: append-only. The current status of an entry is its latest row.
CREATE SEQUENCE decision_seq START 1;
CREATE TABLE decisions (
    decision_id BIGINT PRIMARY KEY DEFAULT nextval('decision_seq'),
    campaign_slug VARCHAR NOT NULL,
    post_number BIGINT NOT NULL,
    status VARCHAR NOT NULL,                 -- 'pending' | 'eligible' | 'duplicate' | 'spam' | 'ineligible'
    reason VARCHAR,                          -- a reason code: early, late, untagged, organiser, ...
    note VARCHAR,
    duplicate_of BIGINT,
    decided_by VARCHAR NOT NULL,             -- a moderator's username, or 'rules'
    source VARCHAR NOT NULL,                 -- 'moderator' | 'rule'
    supersedes BIGINT,                       -- the decision the moderator was looking at
    decided_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX decisions_entry ON decisions (campaign_slug, post_number);

CREATE SEQUENCE audit_seq START 1;
CREATE TABLE audit_log (
    audit_id BIGINT PRIMARY KEY DEFAULT nextval('audit_seq'),
    "at" TIMESTAMPTZ NOT NULL DEFAULT now(),  -- quote it: AT is a keyword in DuckDB 2.0
    actor VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    campaign_slug VARCHAR,
    details JSON
);
