-- The per-resource indexes of the value tables as before 0019 (id, resource_type, tenant_id, param),
-- deduplicated, with the key last so that a reader giving it stays an index-only scan.
--
-- 0019 made them (id, pkey) INCLUDE (tenant_id, resource_type, param): an index with INCLUDE columns
-- never deduplicates, so a resource's repeated rows of one parameter (four codings of one code) each
-- kept a whole entry. At 1,000,000 resources (`npm run bench:search`) the per-resource indexes grew
-- from 660 MB to 792 MB and all search indexes from 2,212 MB to 2,597 MB, and a create at 16
-- clients cost 0.214 ms against 0.167 ms before 0019: the B-tree pages a write touches no longer
-- fit the cache as well. The key column adds 8 bytes per distinct entry; equal entries still share
-- one (their keys are equal too, the key being a function of the other three).

DROP INDEX search_string_resource;
CREATE INDEX search_string_resource ON search_string (id, resource_type, tenant_id, param, pkey);
DROP INDEX search_token_resource;
CREATE INDEX search_token_resource ON search_token (id, resource_type, tenant_id, param, pkey);
DROP INDEX search_reference_resource;
CREATE INDEX search_reference_resource ON search_reference (id, resource_type, tenant_id, param, pkey) INCLUDE (ref_type, ref_id);
DROP INDEX search_date_resource;
CREATE INDEX search_date_resource ON search_date (id, resource_type, tenant_id, param, pkey);
DROP INDEX search_number_resource;
CREATE INDEX search_number_resource ON search_number (id, resource_type, tenant_id, param, pkey);
DROP INDEX search_quantity_resource;
CREATE INDEX search_quantity_resource ON search_quantity (id, resource_type, tenant_id, param, pkey);
DROP INDEX search_uri_resource;
CREATE INDEX search_uri_resource ON search_uri (id, resource_type, tenant_id, param, pkey);
