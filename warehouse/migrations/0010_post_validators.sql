-- HTTP validators of each post page as the site last sent them (ETag, Last-Modified), so
-- that revalidation asks "changed since?" (If-None-Match / If-Modified-Since) and a 304
-- costs no parse. A post whose last answer carried neither has no row. Crawler-owned;
-- written only through warehouse/crawl_ledger.py.
CREATE TABLE post_validators (
    post_number BIGINT PRIMARY KEY,
    etag VARCHAR,
    last_modified VARCHAR,                   -- the header's text, sent back as it came
    stored_at TIMESTAMPTZ NOT NULL
);
