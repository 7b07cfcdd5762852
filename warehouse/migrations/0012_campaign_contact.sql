-- How entrants reach the organisers, shown on the public results site (tagdraw publish)
-- under "not listed?": a short text and a link. Both optional.
ALTER TABLE campaigns ADD COLUMN contact_text VARCHAR;
ALTER TABLE campaigns ADD COLUMN contact_url VARCHAR;
