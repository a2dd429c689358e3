import { sql, type RawBuilder } from 'kysely'
import type { PageRow } from './compile.js'
import { containedScope, markerRows } from './contained-scope.js'
import { keysetCondition, orderBy, type OrderKey } from './paging.js'
import type { SearchPlan } from './plan.js'
import type { PageCursor } from './types.js'
import { filterCondition, scopeConditions } from './where.js'

/**
 * SQL of a `_contained=true|both` search (https://hl7.org/fhir/R4/search.html#contained). The
 * matches are keys (t, i, e, o): container type and id, entry id, ordinal in `contained`:
 * - contained resources of the searched type: their marker rows (indexing/contained.ts), found by
 *   the search_token lookup index over every container type, each filter tested on the same
 *   container's rows of that contained resource (`<Type>#<code>` at the marker's ord);
 * - with `both`, the resources of the type matching the same filters (o NULL);
 * - `_containedType=container` (default): the distinct containers (a Patient that matches and also
 *   contains a matching Patient is one entry); `contained`: one entry per contained match, whose
 *   id is `<container id>#<contained id>` (see containedEntry).
 * Each key joins its current, not deleted container row (index rows exist only for those; the join
 * also drops a key whose container changed under a concurrent write). Pages are ordered by
 * (t, e) for keyset paging: `_sort` is refused with `_contained` (contained-request.ts).
 */
export function compileContainedPageQuery(plan: SearchPlan, page: { direction: 'after' | 'before'; cursor?: PageCursor; limit: number }): RawBuilder<PageRow> {
  const keys = containedOrderKeys()
  const where = [sql`r.deleted = false`]
  if (page.cursor) where.push(keysetCondition(keys, [...page.cursor.keys, page.cursor.id], page.direction))
  return sql<PageRow>`SELECT r.resource_type, k.e AS id, r.version_id, r.last_updated, r.content, k.o AS ord, k.t AS k0
    FROM ${matches(plan)} WHERE ${sql.join(where, sql` AND `)}
    ORDER BY ${orderBy(keys, page.direction)}
    LIMIT ${page.limit}`
}

export function compileContainedCountQuery(plan: SearchPlan): RawBuilder<{ n: string }> {
  return sql<{ n: string }>`SELECT count(*) AS n FROM ${matches(plan)} WHERE r.deleted = false`
}

export function compileContainedEstimateQuery(plan: SearchPlan): RawBuilder<{ 'QUERY PLAN': unknown }> {
  return sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (FORMAT JSON) SELECT 1 FROM ${matches(plan)} WHERE r.deleted = false`
}

/** (container type, entry id): unique per entry, the last key the cursor's id. */
export function containedOrderKeys(): OrderKey[] {
  return [
    { expression: sql.raw('k.t'), descending: false, nullable: false },
    { expression: sql.raw('k.e'), descending: false, nullable: false },
  ]
}

/** `(<keys>) k JOIN resource r ...` */
function matches(plan: SearchPlan): RawBuilder<unknown> {
  const { tenantId, resourceType, filters } = plan
  const scope = containedScope(tenantId, 'm', resourceType)
  const conditions = [markerRows(tenantId, 'm', resourceType), ...filters.map((f, i) => filterCondition(scope, f, `c${i}`))]
  // One range of the lookup index per container type (markerRows: a key each, constants the
  // planner estimates from the statistics).
  const parts = [
    sql`SELECT m.resource_type AS t, m.id AS i, m.id || '#' || m.code AS e, m.ord AS o
      FROM search_token m WHERE ${sql.join(conditions, sql` AND `)}`,
  ]
  if (plan.contained?.mode === 'both') {
    parts.push(sql`SELECT rr.resource_type, rr.id, rr.id, NULL::smallint FROM resource rr WHERE ${scopeConditions({ tenantId, alias: 'rr', type: resourceType }, filters, 'y')}`)
  }
  const union = sql.join(parts, sql` UNION ALL `)
  const keys = plan.contained?.returns === 'contained' ? union : sql`SELECT DISTINCT u.t, u.i, u.i AS e, NULL::smallint AS o FROM (${union}) u`
  return sql`(${keys}) k JOIN resource r ON r.tenant_id = ${tenantId} AND r.resource_type = k.t AND r.id = k.i`
}
