-- Full-text words (`_text`: the narrative; `_content`: every string of the resource, narrative
-- included), ONE row per resource and parameter instead of one search_string row per word: a lab
-- Observation wrote 16-55 word rows, each with two btree entries, and those rows were half the
-- PostgreSQL cost of every write. `words` holds the normalised words (src/resources/indexing/
-- full-text.ts) separated by single spaces; the GIN index over their tsvector answers word-prefix
-- queries (`'jose':*`) on PostgreSQL and PGlite alike (both core features, no extension).
CREATE TABLE search_text (
  tenant_id     text NOT NULL,
  resource_type text NOT NULL,
  id            text NOT NULL,
  param         text NOT NULL,               -- '_text' or '_content'
  words         text NOT NULL
);
-- Not unique: a write deletes the old row and inserts the new one in ONE statement (sibling CTEs,
-- one snapshot), where a unique key would see the old row still there.
CREATE INDEX search_text_resource ON search_text (tenant_id, resource_type, id, param);
CREATE INDEX search_text_words ON search_text USING gin (array_to_tsvector(string_to_array(words, ' ')));

-- The word rows this replaces: resources written before this migration need `$reindex` for `_text`/`_content`.
DELETE FROM search_string WHERE param IN ('_text', '_content');
