-- Cheaper index rows on every write (issue 3: "indexing at most doubles the cost of a create").
--
-- The per-resource indexes of the search tables lead with the resource id instead of
-- (tenant_id, resource_type). Their readers (the deletes of a write, EXISTS probes, the reference
-- targets of `_include` and `_has`) all give tenant, type and id as equalities, so any column order
-- answers them alike, and a range over a tenant or type is still read from the lookup indexes,
-- which lead with both. search_text keeps its order: its only other index is the GIN over the
-- words, so its per-resource index is also how a tenant's and type's rows are read in order.
--
-- What changes is the write. Server ids are time-ordered (resource-id.ts), so a new resource's rows
-- now go to the right edge of the whole index, where PostgreSQL inserts without descending the tree
-- and a compare usually ends at the first column. Before, they went to the right edge of their
-- tenant's and type's stretch in the middle of the index, where every page split left two
-- half-empty pages (600,000 token rows inserted in id order: 103 MB of index, now 59 MB).
--
-- The lookup indexes stop deduplicating. Their keys end with the resource id, so two entries are
-- equal only for one resource's repeated value: the pass PostgreSQL runs over a full leaf page
-- before splitting it found nothing to merge, and took ~3% of the PostgreSQL CPU of a create.
-- The setting applies to entries written from now on.

DROP INDEX search_string_resource;
CREATE INDEX search_string_resource ON search_string (id, resource_type, tenant_id, param);
DROP INDEX search_token_resource;
CREATE INDEX search_token_resource ON search_token (id, resource_type, tenant_id, param);
DROP INDEX search_reference_resource;
CREATE INDEX search_reference_resource ON search_reference (id, resource_type, tenant_id, param) INCLUDE (ref_type, ref_id);
DROP INDEX search_date_resource;
CREATE INDEX search_date_resource ON search_date (id, resource_type, tenant_id, param);
DROP INDEX search_number_resource;
CREATE INDEX search_number_resource ON search_number (id, resource_type, tenant_id, param);
DROP INDEX search_quantity_resource;
CREATE INDEX search_quantity_resource ON search_quantity (id, resource_type, tenant_id, param);
DROP INDEX search_uri_resource;
CREATE INDEX search_uri_resource ON search_uri (id, resource_type, tenant_id, param);
DROP INDEX search_sort_resource;
CREATE INDEX search_sort_resource ON search_sort (id, resource_type, tenant_id, param);

ALTER INDEX search_string_lookup SET (deduplicate_items = off);
ALTER INDEX search_token_lookup SET (deduplicate_items = off);
ALTER INDEX search_reference_lookup SET (deduplicate_items = off);
ALTER INDEX search_date_lookup SET (deduplicate_items = off);
ALTER INDEX search_date_high SET (deduplicate_items = off);
ALTER INDEX search_number_lookup SET (deduplicate_items = off);
ALTER INDEX search_quantity_lookup SET (deduplicate_items = off);
ALTER INDEX search_uri_lookup SET (deduplicate_items = off);
ALTER INDEX search_sort_asc SET (deduplicate_items = off);
ALTER INDEX search_sort_desc SET (deduplicate_items = off);
