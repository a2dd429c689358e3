-- Search indexes (https://hl7.org/fhir/R4/search.html): one table per search parameter type.
-- Rows exist only for the CURRENT, non-deleted version of a resource: the write statement that
-- replaces the resource row also replaces its index rows (src/resources/resource-store.ts).
-- Every table leads with tenant_id. Each has a lookup index (tenant, type, param, value..., id) and
-- a per-resource index (tenant, type, id, param) used by deletes and by correlated EXISTS probes.
-- `ord` is the ordinal of the element a composite parameter's components came from (0 otherwise):
-- a composite row set is the component rows of one element, joined on ord.
-- Text compared by prefix is COLLATE "C" so `value >= 'abc' AND value < 'abc' || U+10FFFF` is an
-- index range whatever the database locale.

CREATE TABLE search_string (
  tenant_id     text NOT NULL,
  resource_type text NOT NULL,
  id            text NOT NULL,
  param         text NOT NULL,
  ord           smallint NOT NULL DEFAULT 0,
  value         text COLLATE "C" NOT NULL,   -- lower case, accents stripped
  exact         text NOT NULL                -- as written, for :exact
);
CREATE INDEX search_string_lookup ON search_string (tenant_id, resource_type, param, value, id);
CREATE INDEX search_string_resource ON search_string (tenant_id, resource_type, id, param);

CREATE TABLE search_token (
  tenant_id     text NOT NULL,
  resource_type text NOT NULL,
  id            text NOT NULL,
  param         text NOT NULL,
  ord           smallint NOT NULL DEFAULT 0,
  system        text,                        -- NULL when the value has no system
  code          text,                        -- NULL for a text-only row (CodeableConcept.text)
  display       text COLLATE "C",            -- display/text, normalised like strings, for :text
  type_system   text,                        -- Identifier.type coding, for :of-type
  type_code     text
);
CREATE INDEX search_token_lookup ON search_token (tenant_id, resource_type, param, code, system, id);
CREATE INDEX search_token_resource ON search_token (tenant_id, resource_type, id, param);

CREATE TABLE search_reference (
  tenant_id     text NOT NULL,
  resource_type text NOT NULL,
  id            text NOT NULL,
  param         text NOT NULL,
  ord           smallint NOT NULL DEFAULT 0,
  ref_type      text,                        -- target type of a local reference, else NULL
  ref_id        text NOT NULL                -- local id, or the full URL (canonical: without |version)
);
CREATE INDEX search_reference_lookup ON search_reference (tenant_id, resource_type, param, ref_id, ref_type, id);
CREATE INDEX search_reference_resource ON search_reference (tenant_id, resource_type, id, param);

CREATE TABLE search_date (
  tenant_id     text NOT NULL,
  resource_type text NOT NULL,
  id            text NOT NULL,
  param         text NOT NULL,
  ord           smallint NOT NULL DEFAULT 0,
  low           timestamptz NOT NULL,        -- inclusive; -infinity when open
  high          timestamptz NOT NULL         -- exclusive; infinity when open
);
CREATE INDEX search_date_lookup ON search_date (tenant_id, resource_type, param, low, high, id);
CREATE INDEX search_date_resource ON search_date (tenant_id, resource_type, id, param);

CREATE TABLE search_number (
  tenant_id     text NOT NULL,
  resource_type text NOT NULL,
  id            text NOT NULL,
  param         text NOT NULL,
  ord           smallint NOT NULL DEFAULT 0,
  low           numeric NOT NULL,            -- a value is the point [value, value]; a Range is [low, high]
  high          numeric NOT NULL
);
CREATE INDEX search_number_lookup ON search_number (tenant_id, resource_type, param, low, high, id);
CREATE INDEX search_number_resource ON search_number (tenant_id, resource_type, id, param);

CREATE TABLE search_quantity (
  tenant_id     text NOT NULL,
  resource_type text NOT NULL,
  id            text NOT NULL,
  param         text NOT NULL,
  ord           smallint NOT NULL DEFAULT 0,
  low           numeric NOT NULL,
  high          numeric NOT NULL,
  system        text,
  code          text,
  unit          text
);
CREATE INDEX search_quantity_lookup ON search_quantity (tenant_id, resource_type, param, low, high, id);
CREATE INDEX search_quantity_resource ON search_quantity (tenant_id, resource_type, id, param);

CREATE TABLE search_uri (
  tenant_id     text NOT NULL,
  resource_type text NOT NULL,
  id            text NOT NULL,
  param         text NOT NULL,
  ord           smallint NOT NULL DEFAULT 0,
  value         text COLLATE "C" NOT NULL
);
CREATE INDEX search_uri_lookup ON search_uri (tenant_id, resource_type, param, value, id);
CREATE INDEX search_uri_resource ON search_uri (tenant_id, resource_type, id, param);

-- Sort keys: one row per (resource, parameter with a value); `lo` is the smallest value (ascending
-- sorts), `hi` the largest (descending sorts), both encoded as order-preserving text
-- (src/resources/indexing/sort-key.ts), so `ORDER BY lo, id` / `ORDER BY hi DESC, id DESC` LIMIT n walks
-- an index whatever the parameter type.
CREATE TABLE search_sort (
  tenant_id     text NOT NULL,
  resource_type text NOT NULL,
  id            text NOT NULL,
  param         text NOT NULL,
  lo            text COLLATE "C" NOT NULL,
  hi            text COLLATE "C" NOT NULL
);
CREATE INDEX search_sort_asc ON search_sort (tenant_id, resource_type, param, lo, id);
CREATE INDEX search_sort_desc ON search_sort (tenant_id, resource_type, param, hi, id);
CREATE INDEX search_sort_resource ON search_sort (tenant_id, resource_type, id, param);

-- `_sort=-_lastUpdated` pages by (last_updated, id).
DROP INDEX resource_last_updated;
CREATE INDEX resource_last_updated ON resource (tenant_id, resource_type, last_updated, id);
