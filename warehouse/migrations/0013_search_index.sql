-- Text search over titles, bodies, post authors and comments that finds any substring of
-- two or more characters (Thai is written without spaces between words): a character
-- bigram index, kept by warehouse/search.py whenever posts and comments are stored.

-- One indexed text: a post's title, body or author (username and display name), or a
-- comment's text, as warehouse.thai.compact_text gives it (normalised, no whitespace,
-- case folded). A changed text gets a new row; the old one stays with current = false
-- (its bigram rows are ignored, never rewritten).
CREATE SEQUENCE search_doc_seq START 1;
CREATE TABLE search_docs (
    doc_id BIGINT NOT NULL DEFAULT nextval('search_doc_seq'),
    post_number BIGINT NOT NULL,
    comment_id BIGINT,                       -- NULL for the post's own fields
    field VARCHAR NOT NULL,                  -- 'title' | 'body' | 'author' | 'comment'
    search_text VARCHAR NOT NULL,            -- compact_text of the stored text
    current BOOLEAN NOT NULL DEFAULT true
);

-- Which texts contain a bigram (two adjacent characters of search_text):
-- one row per distinct bigram of a text, appended in gram order per write (so a lookup
-- reads few blocks).
CREATE TABLE search_grams (
    gram BIGINT NOT NULL,                    -- first code point * 0x110000 + second
    doc_id BIGINT NOT NULL
);

-- How many texts each bigram has been indexed for (texts since replaced included): a
-- search reads the rows of its query's rarest bigrams only.
CREATE TABLE search_gram_docs (
    gram BIGINT PRIMARY KEY,
    docs BIGINT NOT NULL
);

-- Posts whose texts are still to be indexed. The normaliser is Python
-- (warehouse/thai.py), so this migration queues every stored post and warehouse/search.py
-- indexes the queue before it answers a search (or when `index_pending` is called).
CREATE TABLE search_pending (
    post_number BIGINT NOT NULL
);
INSERT INTO search_pending SELECT post_number FROM posts;
