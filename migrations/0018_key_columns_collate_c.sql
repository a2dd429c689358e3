-- Cheaper index rows on every write (issue 3: "indexing at most doubles the cost of a create").
--
-- The key columns of the resource and search tables (tenant, type, id, parameter, code, system,
-- reference target, unit) compare byte by byte (COLLATE "C") instead of under the database's
-- collation. Every B-tree insert compares its key with a dozen entries on the way down and on the
-- leaf, column after column; under a libc collation other than C (C.UTF-8 and en_US.UTF-8 alike on
-- PostgreSQL 15) each text compare copies both strings and calls strcoll. Measured with the
-- server's own statements and no Node in the loop (`npx tsx bench/write-sql-cost.ts --batch 8`,
-- database C.UTF-8): a coalesced batch of 8 creates 234 -> 211 us per create with index rows,
-- 88 -> 81 us without; one create alone 665 -> 641 us.
--
-- Nothing compares these columns by language: they hold ids, codes, URLs and parameter names,
-- matched by equality, and ordered only to page (id) or to walk an index, where any fixed order
-- serves. The text already compared by prefix or sorted for `_sort` (search_string.value,
-- search_uri.value, search_sort.lo/hi, search_token.display) was COLLATE "C" from the start
-- (0002), and stays so. Every table that joins on these columns changes together (a join of a "C"
-- column with a default one would compare under "C" and could not use the other side's index);
-- tenant.tenant_id too, the key the resource tables reference.
--
-- Each ALTER rewrites its table and rebuilds its indexes: on a large database this migration takes
-- as long as a reindex of the resource and search tables.

ALTER TABLE tenant ALTER COLUMN tenant_id TYPE text COLLATE "C";
ALTER TABLE resource
  ALTER COLUMN tenant_id TYPE text COLLATE "C",
  ALTER COLUMN resource_type TYPE text COLLATE "C",
  ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE resource_history
  ALTER COLUMN tenant_id TYPE text COLLATE "C",
  ALTER COLUMN resource_type TYPE text COLLATE "C",
  ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE resource_live_count
  ALTER COLUMN tenant_id TYPE text COLLATE "C",
  ALTER COLUMN resource_type TYPE text COLLATE "C";
ALTER TABLE search_string
  ALTER COLUMN tenant_id TYPE text COLLATE "C",
  ALTER COLUMN resource_type TYPE text COLLATE "C",
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN param TYPE text COLLATE "C";
ALTER TABLE search_token
  ALTER COLUMN tenant_id TYPE text COLLATE "C",
  ALTER COLUMN resource_type TYPE text COLLATE "C",
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN param TYPE text COLLATE "C",
  ALTER COLUMN system TYPE text COLLATE "C",
  ALTER COLUMN code TYPE text COLLATE "C",
  ALTER COLUMN type_system TYPE text COLLATE "C",
  ALTER COLUMN type_code TYPE text COLLATE "C";
ALTER TABLE search_reference
  ALTER COLUMN tenant_id TYPE text COLLATE "C",
  ALTER COLUMN resource_type TYPE text COLLATE "C",
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN param TYPE text COLLATE "C",
  ALTER COLUMN ref_type TYPE text COLLATE "C",
  ALTER COLUMN ref_id TYPE text COLLATE "C";
ALTER TABLE search_date
  ALTER COLUMN tenant_id TYPE text COLLATE "C",
  ALTER COLUMN resource_type TYPE text COLLATE "C",
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN param TYPE text COLLATE "C";
ALTER TABLE search_date_span
  ALTER COLUMN tenant_id TYPE text COLLATE "C",
  ALTER COLUMN resource_type TYPE text COLLATE "C",
  ALTER COLUMN param TYPE text COLLATE "C";
ALTER TABLE search_number
  ALTER COLUMN tenant_id TYPE text COLLATE "C",
  ALTER COLUMN resource_type TYPE text COLLATE "C",
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN param TYPE text COLLATE "C";
ALTER TABLE search_quantity
  ALTER COLUMN tenant_id TYPE text COLLATE "C",
  ALTER COLUMN resource_type TYPE text COLLATE "C",
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN param TYPE text COLLATE "C",
  ALTER COLUMN system TYPE text COLLATE "C",
  ALTER COLUMN code TYPE text COLLATE "C",
  ALTER COLUMN unit TYPE text COLLATE "C";
ALTER TABLE search_uri
  ALTER COLUMN tenant_id TYPE text COLLATE "C",
  ALTER COLUMN resource_type TYPE text COLLATE "C",
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN param TYPE text COLLATE "C";
ALTER TABLE search_sort
  ALTER COLUMN tenant_id TYPE text COLLATE "C",
  ALTER COLUMN resource_type TYPE text COLLATE "C",
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN param TYPE text COLLATE "C";
ALTER TABLE search_text
  ALTER COLUMN tenant_id TYPE text COLLATE "C",
  ALTER COLUMN resource_type TYPE text COLLATE "C",
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN param TYPE text COLLATE "C";
