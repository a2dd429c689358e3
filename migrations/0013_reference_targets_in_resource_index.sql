-- The per-resource index of search_reference also carries each row's target (INCLUDE: stored in
-- the leaf tuples, never compared), so "which resources do these resources reference" is read from
-- the index alone. `Patient?_has:Observation:subject:code=X` goes from the Observations with the
-- code to their subjects: at 1,000,000 resources (504,538 Observations in the tenant) each of those
-- 7,810 probes fetched its heap row (45 us), or the planner scanned the tenant's every subject row
-- instead (504,538 index entries, 120-130 ms); index-only probes took it from 214-245 ms to
-- 84-102 ms. `_include` reads the same rows of each page's matches. Same key, so deletes and
-- EXISTS probes are unchanged; a write stores the two columns once more per reference row.
DROP INDEX search_reference_resource;
CREATE INDEX search_reference_resource ON search_reference (tenant_id, resource_type, id, param) INCLUDE (ref_type, ref_id);
