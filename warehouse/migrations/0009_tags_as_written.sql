-- posts.tags holds each tag as its author wrote it (invisible characters removed, NFC, no
-- leading '#', case kept); tags_normalised holds the same tags in the one normalised form
-- (warehouse.thai.normalise_tag), and every match against campaign keywords uses it.
-- Rows stored before this migration held the normalised form in tags: they keep it there
-- and get the same list here. Their written form arrives with the next `crawl --full`.
ALTER TABLE posts ADD COLUMN tags_normalised VARCHAR[] NOT NULL DEFAULT [];
UPDATE posts SET tags_normalised = coalesce(tags, []::VARCHAR[]);
ALTER TABLE post_versions ADD COLUMN tags_normalised VARCHAR[];
UPDATE post_versions SET tags_normalised = tags;
