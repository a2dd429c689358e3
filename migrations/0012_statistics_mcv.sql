-- The multi-column statistics of 0010 keep their MCV lists and drop `dependencies`. The MCV list
-- over (tenant, type, param[, code]) is what gives the planner the real frequency of a common
-- combination, and when it covers a clause list PostgreSQL estimates from it alone, so the
-- functional dependencies were almost never consulted; building them was most of an ANALYZE
-- (search_token at 100,000 rows: 0.55 s with both, 0.21 s with the MCV list only), and the server
-- analyzes in the background as data grows (resources/planner-statistics.ts).
DROP STATISTICS search_token_code_stats;
DROP STATISTICS search_string_param_stats;
DROP STATISTICS search_reference_param_stats;
DROP STATISTICS search_date_param_stats;
DROP STATISTICS search_number_param_stats;
DROP STATISTICS search_quantity_param_stats;
DROP STATISTICS search_uri_param_stats;
DROP STATISTICS search_sort_param_stats;
CREATE STATISTICS search_token_code_stats (mcv) ON tenant_id, resource_type, param, code FROM search_token;
CREATE STATISTICS search_string_param_stats (mcv) ON tenant_id, resource_type, param FROM search_string;
CREATE STATISTICS search_reference_param_stats (mcv) ON tenant_id, resource_type, param FROM search_reference;
CREATE STATISTICS search_date_param_stats (mcv) ON tenant_id, resource_type, param FROM search_date;
CREATE STATISTICS search_number_param_stats (mcv) ON tenant_id, resource_type, param FROM search_number;
CREATE STATISTICS search_quantity_param_stats (mcv) ON tenant_id, resource_type, param FROM search_quantity;
CREATE STATISTICS search_uri_param_stats (mcv) ON tenant_id, resource_type, param FROM search_uri;
CREATE STATISTICS search_sort_param_stats (mcv) ON tenant_id, resource_type, param FROM search_sort;
-- New statistics objects are empty until the next ANALYZE: fill them now, or plans fall back to
-- per-column estimates until autovacuum comes by.
ANALYZE search_string, search_token, search_reference, search_date, search_number, search_quantity, search_uri, search_sort;
