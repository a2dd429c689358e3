import { sql, type RawBuilder } from 'kysely'
import type { PageRow } from './compile.js'
import { keysetCondition, orderBy, type OrderKey } from './paging.js'
import type { SearchPlan } from './plan.js'
import type { RowScope } from './scope.js'
import type { PageCursor } from './types.js'
import { scopeConditions } from './where.js'

/**
 * SQL of a system-level search (https://hl7.org/fhir/R4/http.html#search, `GET [base]?_type=...`).
 * Order: the `_sort` keys (`_id`, `_lastUpdated`), then resource type and id, which make every row's
 * position unique across types for keyset paging. With `_type`, each type is a branch with its type as
 * a constant (its own index ranges, its own `ORDER BY ... LIMIT n`) and a UNION ALL merges them — a
 * Merge Append over index-ordered branches; without `_type`, one query over the tenant's rows in
 * primary-key order (resource_type, id).
 */
export function compileSystemPageQuery(plan: SearchPlan, page: { direction: 'after' | 'before'; cursor?: PageCursor; limit: number }): RawBuilder<PageRow> {
  const branches = plan.system?.branches
  if (!branches) return branchQuery(plan, { tenantId: plan.tenantId, alias: 'r', type: {} }, plan.filters, page)
  const parts = branches.map((b) => sql`(${branchQuery(plan, { tenantId: plan.tenantId, alias: 'r', type: b.resourceType }, b.filters, page)})`)
  return sql<PageRow>`SELECT * FROM (${sql.join(parts, sql` UNION ALL `)}) u ORDER BY ${orderBy(systemOrderKeys(plan, 'u'), page.direction)} LIMIT ${page.limit}`
}

/** `SELECT count(*)` over every type searched. */
export function compileSystemCountQuery(plan: SearchPlan): RawBuilder<{ n: string }> {
  return sql<{ n: string }>`SELECT count(*) AS n FROM (${matchesUnion(plan)}) u`
}

export function compileSystemEstimateQuery(plan: SearchPlan): RawBuilder<{ 'QUERY PLAN': unknown }> {
  return sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (FORMAT JSON) SELECT 1 FROM (${matchesUnion(plan)}) u`
}

/** The ORDER BY keys of a system search on alias `r` (or `u`, the merged branches); the last is the id. */
export function systemOrderKeys(plan: SearchPlan, alias = 'r'): OrderKey[] {
  const keys: OrderKey[] = plan.sort.map((s) => {
    const column = s.source === 'resource' ? s.column : 'id'
    return column === 'last_updated'
      ? { expression: sql.raw(`${alias}.last_updated`), descending: s.descending, nullable: false, cast: '::timestamptz' }
      : { expression: sql.raw(`${alias}.id`), descending: s.descending, nullable: false }
  })
  const descending = keys[0]?.descending ?? false
  keys.push({ expression: sql.raw(`${alias}.resource_type`), descending, nullable: false })
  keys.push({ expression: sql.raw(`${alias}.id`), descending, nullable: false })
  return keys
}

function branchQuery(plan: SearchPlan, scope: RowScope, filters: SearchPlan['filters'], page: { direction: 'after' | 'before'; cursor?: PageCursor; limit: number }): RawBuilder<PageRow> {
  const keys = systemOrderKeys(plan)
  const where = [scopeConditions(scope, filters)]
  if (page.cursor) where.push(keysetCondition(keys, [...page.cursor.keys, page.cursor.id], page.direction))
  const selected = keys.slice(0, -1).map((k, i) => sql`${k.expression}::text AS ${sql.raw(`k${i}`)}`)
  return sql<PageRow>`SELECT r.resource_type, r.id, r.version_id, r.last_updated, r.content, ${sql.join(selected)}
    FROM resource r WHERE ${sql.join(where, sql` AND `)}
    ORDER BY ${orderBy(keys, page.direction)}
    LIMIT ${page.limit}`
}

function matchesUnion(plan: SearchPlan): RawBuilder<unknown> {
  const branches = plan.system?.branches
  if (!branches) return sql`SELECT 1 FROM resource r WHERE ${scopeConditions({ tenantId: plan.tenantId, alias: 'r', type: {} }, plan.filters)}`
  return sql.join(
    branches.map((b) => sql`SELECT 1 FROM resource r WHERE ${scopeConditions({ tenantId: plan.tenantId, alias: 'r', type: b.resourceType }, b.filters)}`),
    sql` UNION ALL `,
  )
}
