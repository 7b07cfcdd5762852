-- search_docs keeps each text in warehouse/search.py's search_code (one byte per Thai
-- character, every ASCII character two bytes from a range of their own) instead of UTF-8:
-- DuckDB finds a substring in it several times faster. The index is derived data: it is
-- emptied here and every stored post is queued again, as migration 0013 did; the first
-- search (or `index_pending`) rebuilds it.
DELETE FROM search_grams;
DELETE FROM search_gram_docs;
DELETE FROM search_docs;
ALTER TABLE search_docs RENAME COLUMN search_text TO search_code;
DELETE FROM search_pending;
INSERT INTO search_pending SELECT post_number FROM posts;
