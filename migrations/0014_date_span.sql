-- The longest stored range (high - low, in seconds; 'Infinity' for an open end) of each date
-- parameter of each type per tenant. A window search (`date=ge2014-04-01&date=lt2014-07-01`) then
-- also bounds the other column of the one row: a row with high > from has low >= from - max_span,
-- and one with low < to has high <= to + max_span. Without those, each half of the window was an
-- open range over the type's every row before or after it: at 1,000,000 resources a window in
-- 2014 sorted by -date walked search_date_high back from 2024 (400,000 entries, 120-300 ms).
-- Writers add a row, in the statement that writes the date rows, only when a span grows past the
-- longest one they see; readers take the max. No unique key, so no writer ever waits on another
-- (concurrent bundles raising spans of several parameters in different orders would deadlock on
-- an upserted row); a few duplicate rows are harmless. No row means no bound.
CREATE TABLE search_date_span (
  tenant_id text NOT NULL,
  resource_type text NOT NULL,
  param text NOT NULL,
  max_span double precision NOT NULL
);
CREATE INDEX search_date_span_key ON search_date_span (tenant_id, resource_type, param, max_span);
INSERT INTO search_date_span (tenant_id, resource_type, param, max_span)
SELECT tenant_id, resource_type, param,
  max(CASE WHEN isfinite(low) AND isfinite(high) THEN extract(epoch FROM high - low)::float8 ELSE 'Infinity'::float8 END)
FROM search_date GROUP BY tenant_id, resource_type, param;
