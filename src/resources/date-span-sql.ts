/**
 * search_date_span (migrations/0014_date_span.sql): every writer of date index rows raises the
 * longest range of each parameter in the statement that writes them, so a query that reads the
 * rows also reads a span that covers them (search/date-window.ts). Too long only loosens a bound;
 * too short would lose rows, so the value only ever grows.
 */

/** The span of a row in seconds, 'Infinity' for an open end (an interval cannot hold one). */
const SPAN = `CASE WHEN isfinite(u.low) AND isfinite(u.high) THEN extract(epoch FROM u.high - u.low)::float8 ELSE 'Infinity'::float8 END`

/**
 * Adds a row for each (tenant, type, parameter) of `rows` (a FROM item named `u` with columns
 * tenant_id, resource_type, param, low, high) whose span grows past the longest one stored: one
 * index probe per parameter otherwise. Plain inserts, no unique key: no writer waits on another,
 * and readers take the max (migrations/0014_date_span.sql).
 */
function raiseSql(rows: string): string {
  return `INSERT INTO search_date_span (tenant_id, resource_type, param, max_span)
      SELECT u.tenant_id, u.resource_type, u.param, max(${SPAN}) FROM ${rows}
      GROUP BY u.tenant_id, u.resource_type, u.param
      HAVING max(${SPAN}) > coalesce((SELECT max(x.max_span) FROM search_date_span x WHERE x.tenant_id = u.tenant_id AND x.resource_type = u.resource_type AND x.param = u.param), -1)`
}

/**
 * The RETURNING clause of a writer's search_date insert: its rows as spanRaiseCte reads them, so the
 * span is raised from the rows really written, with no second pass over the statement's arrays.
 */
export const DATE_ROWS_RETURNING = ' RETURNING tenant_id, resource_type, param, low, high'

/** The CTE `name` that raises the spans of the date rows in `rows` (as raiseSql), in a writer's statement. */
export function spanRaiseCte(name: string, rows: string): string {
  return `${name} AS (${raiseSql(rows)})`
}

/** Raises every span to what search_date holds (a loader that writes index rows without the CTE above: bench/search). */
export const RAISE_ALL_DATE_SPANS_SQL = raiseSql('search_date u')
