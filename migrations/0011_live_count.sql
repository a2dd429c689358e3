-- `_total=accurate` and `_summary=count` of a whole type (`Observation?_total=accurate`) count this
-- index alone: one entry per live resource, deduplicated by btree into posting lists (7 MB for
-- 504,538 Observations, where resource_last_updated takes 46 MB), so the index-only count takes
-- 28-45 ms instead of 60-78 ms. It costs one small index entry per write.
CREATE INDEX resource_live_count ON resource (tenant_id, resource_type) WHERE NOT deleted;
