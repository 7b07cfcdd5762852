-- What the keyword listing showed about a post, so that a listed post whose page later
-- answers 404 or a login redirect can still be shown (and its author checked).
ALTER TABLE campaign_posts ADD COLUMN listing_url VARCHAR;
ALTER TABLE campaign_posts ADD COLUMN listing_author_username VARCHAR;
ALTER TABLE campaign_posts ADD COLUMN listing_author_name VARCHAR;
ALTER TABLE campaign_posts ADD COLUMN listing_date DATE;
-- Listing rows of one campaign are read together (entries, unlisting).
CREATE INDEX campaign_posts_slug ON campaign_posts (campaign_slug);
CREATE INDEX post_versions_post ON post_versions (post_number);
