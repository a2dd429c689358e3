/**
 * search_date_span (migrations/0014_date_span.sql): every writer of date index rows raises the
 * longest range of each parameter in the statement that writes them, so a query that reads the
 * rows also reads a span that covers them (search/date-window.ts). Too long only loosens a bound;
 * too short would lose rows, so the value only ever grows.
 */

/** The span of a row in seconds, 'Infinity' for an open end (an interval cannot hold one). */
const SPAN = `CASE WHEN isfinite(u.low) AND isfinite(u.high) THEN extract(epoch FROM u.high - u.low)::float8 ELSE 'Infinity'::float8 END`

/**
 * The CTE that raises the spans of the date rows in `rows`, a FROM item with columns
 * (resource_type, param, low, high) named `u`. It writes only where a span grows (one index probe
 * per parameter otherwise), so concurrent writers do not queue on the row.
 */
export function spanUpsertCte(name: string, tenant: string, rows: string): string {
  return `${name} AS (INSERT INTO search_date_span AS s (tenant_id, resource_type, param, max_span)
      SELECT ${tenant}, u.resource_type, u.param, max(${SPAN}) FROM ${rows}
      GROUP BY u.resource_type, u.param
      HAVING max(${SPAN}) > coalesce((SELECT x.max_span FROM search_date_span x WHERE x.tenant_id = ${tenant} AND x.resource_type = u.resource_type AND x.param = u.param), -1)
      ON CONFLICT (tenant_id, resource_type, param) DO UPDATE SET max_span = greatest(s.max_span, excluded.max_span))`
}

/** Raises every span to what search_date holds (a loader that writes index rows without the CTE above: bench/search). */
export const RAISE_ALL_DATE_SPANS_SQL = `INSERT INTO search_date_span AS s (tenant_id, resource_type, param, max_span)
  SELECT u.tenant_id, u.resource_type, u.param, max(${SPAN}) FROM search_date u GROUP BY u.tenant_id, u.resource_type, u.param
  ON CONFLICT (tenant_id, resource_type, param) DO UPDATE SET max_span = greatest(s.max_span, excluded.max_span)`
