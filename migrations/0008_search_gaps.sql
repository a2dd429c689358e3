-- Issue 3, remaining search gaps.
-- Date prefixes that bound the END of a stored range (gt, ge, eb: `high > X`, `high <= X`) need an
-- index led by `high`: search_date_lookup is led by `low`, so those conditions were only a filter
-- over every row of the parameter. Same key otherwise, so the probe stays index-only.
CREATE INDEX search_date_high ON search_date (tenant_id, resource_type, param, high, low, id);
