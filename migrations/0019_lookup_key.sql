-- Cheaper index rows on every write (issue 3: "indexing at most doubles the cost of a create").
--
-- The lookup indexes of the search tables led with three text columns (tenant_id, resource_type,
-- param) that are equal between neighbouring entries, so every B-tree compare on the way down and
-- on the leaf walked all three before it reached the value; and past the first text column no
-- column has a fixed offset, so each compare also recomputed where the next one starts. Counted
-- with the server's own statements (`npx tsx bench/write-instructions.ts`), key compares were 28%
-- of the PostgreSQL instructions of a batched create with index rows.
--
-- Each row now carries `pkey`, one int8 for its (tenant, type, param): the first 8 bytes of
-- md5('<tenant>|<type>|<param>'), which search_key() below computes and the server computes
-- itself (src/resources/indexing/search-key.ts). Writers send it as one more array per table, so
-- PostgreSQL hashes nothing per row (a generated column cost ~150,000 instructions per create: its
-- expression is rebuilt for every statement), and readers give it as a constant, which the planner
-- estimates from the statistics below. The lookup indexes lead with it and keep the three text
-- columns in INCLUDE: every reader gives both the key (to find the entries) and the text
-- equalities (so a collision of two keys cannot mix their rows). The per-resource indexes lead
-- with the id, which every reader of them gives, then the key (0020 puts the key after the text
-- columns instead, so that they deduplicate again).

CREATE FUNCTION search_key(tenant_id text, resource_type text, param text) RETURNS int8
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN ('x' || left(md5(tenant_id || '|' || resource_type || '|' || param), 16))::bit(64)::int8;

ALTER TABLE search_string ADD COLUMN pkey int8 NOT NULL DEFAULT 0;
ALTER TABLE search_token ADD COLUMN pkey int8 NOT NULL DEFAULT 0;
ALTER TABLE search_reference ADD COLUMN pkey int8 NOT NULL DEFAULT 0;
ALTER TABLE search_date ADD COLUMN pkey int8 NOT NULL DEFAULT 0;
ALTER TABLE search_number ADD COLUMN pkey int8 NOT NULL DEFAULT 0;
ALTER TABLE search_quantity ADD COLUMN pkey int8 NOT NULL DEFAULT 0;
ALTER TABLE search_uri ADD COLUMN pkey int8 NOT NULL DEFAULT 0;

UPDATE search_string SET pkey = search_key(tenant_id, resource_type, param);
UPDATE search_token SET pkey = search_key(tenant_id, resource_type, param);
UPDATE search_reference SET pkey = search_key(tenant_id, resource_type, param);
UPDATE search_date SET pkey = search_key(tenant_id, resource_type, param);
UPDATE search_number SET pkey = search_key(tenant_id, resource_type, param);
UPDATE search_quantity SET pkey = search_key(tenant_id, resource_type, param);
UPDATE search_uri SET pkey = search_key(tenant_id, resource_type, param);

-- A writer that forgets the key fails instead of writing rows no search finds.
ALTER TABLE search_string ALTER COLUMN pkey DROP DEFAULT;
ALTER TABLE search_token ALTER COLUMN pkey DROP DEFAULT;
ALTER TABLE search_reference ALTER COLUMN pkey DROP DEFAULT;
ALTER TABLE search_date ALTER COLUMN pkey DROP DEFAULT;
ALTER TABLE search_number ALTER COLUMN pkey DROP DEFAULT;
ALTER TABLE search_quantity ALTER COLUMN pkey DROP DEFAULT;
ALTER TABLE search_uri ALTER COLUMN pkey DROP DEFAULT;

-- Indexes with INCLUDE columns never deduplicate, so 0017's deduplicate_items = off needs no repeat.
DROP INDEX search_string_lookup;
CREATE INDEX search_string_lookup ON search_string (pkey, value, id) INCLUDE (tenant_id, resource_type, param);
DROP INDEX search_token_lookup;
CREATE INDEX search_token_lookup ON search_token (pkey, code, id, system) INCLUDE (tenant_id, resource_type, param);
DROP INDEX search_reference_lookup;
CREATE INDEX search_reference_lookup ON search_reference (pkey, ref_id, ref_type, id) INCLUDE (tenant_id, resource_type, param);
DROP INDEX search_date_lookup;
CREATE INDEX search_date_lookup ON search_date (pkey, low, high, id) INCLUDE (tenant_id, resource_type, param);
DROP INDEX search_date_high;
CREATE INDEX search_date_high ON search_date (pkey, high, low, id) INCLUDE (tenant_id, resource_type, param);
DROP INDEX search_number_lookup;
CREATE INDEX search_number_lookup ON search_number (pkey, low, high, id) INCLUDE (tenant_id, resource_type, param);
DROP INDEX search_quantity_lookup;
CREATE INDEX search_quantity_lookup ON search_quantity (pkey, low, high, id) INCLUDE (tenant_id, resource_type, param);
DROP INDEX search_uri_lookup;
CREATE INDEX search_uri_lookup ON search_uri (pkey, value, id) INCLUDE (tenant_id, resource_type, param);

DROP INDEX search_string_resource;
CREATE INDEX search_string_resource ON search_string (id, pkey) INCLUDE (tenant_id, resource_type, param);
DROP INDEX search_token_resource;
CREATE INDEX search_token_resource ON search_token (id, pkey) INCLUDE (tenant_id, resource_type, param);
DROP INDEX search_reference_resource;
CREATE INDEX search_reference_resource ON search_reference (id, pkey) INCLUDE (tenant_id, resource_type, param, ref_type, ref_id);
DROP INDEX search_date_resource;
CREATE INDEX search_date_resource ON search_date (id, pkey) INCLUDE (tenant_id, resource_type, param);
DROP INDEX search_number_resource;
CREATE INDEX search_number_resource ON search_number (id, pkey) INCLUDE (tenant_id, resource_type, param);
DROP INDEX search_quantity_resource;
CREATE INDEX search_quantity_resource ON search_quantity (id, pkey) INCLUDE (tenant_id, resource_type, param);
DROP INDEX search_uri_resource;
CREATE INDEX search_uri_resource ON search_uri (id, pkey) INCLUDE (tenant_id, resource_type, param);

-- The key is a function of (tenant, type, param): estimated apart, a clause on both would multiply
-- two selectivities that are one. The MCV lists hold the combinations.
DROP STATISTICS search_token_code_stats;
DROP STATISTICS search_string_param_stats;
DROP STATISTICS search_reference_param_stats;
DROP STATISTICS search_date_param_stats;
DROP STATISTICS search_number_param_stats;
DROP STATISTICS search_quantity_param_stats;
DROP STATISTICS search_uri_param_stats;
CREATE STATISTICS search_token_code_stats (mcv) ON tenant_id, resource_type, param, pkey, code FROM search_token;
CREATE STATISTICS search_string_param_stats (mcv) ON tenant_id, resource_type, param, pkey FROM search_string;
CREATE STATISTICS search_reference_param_stats (mcv) ON tenant_id, resource_type, param, pkey FROM search_reference;
CREATE STATISTICS search_date_param_stats (mcv) ON tenant_id, resource_type, param, pkey FROM search_date;
CREATE STATISTICS search_number_param_stats (mcv) ON tenant_id, resource_type, param, pkey FROM search_number;
CREATE STATISTICS search_quantity_param_stats (mcv) ON tenant_id, resource_type, param, pkey FROM search_quantity;
CREATE STATISTICS search_uri_param_stats (mcv) ON tenant_id, resource_type, param, pkey FROM search_uri;
ANALYZE search_string, search_token, search_reference, search_date, search_number, search_quantity, search_uri;
