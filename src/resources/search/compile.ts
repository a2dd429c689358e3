import { sql, type RawBuilder } from 'kysely'
import { keysetCondition, orderBy, type OrderKey } from './paging.js'
import type { PlannedSort, SearchPlan } from './plan.js'
import type { PageCursor } from './types.js'
import { scopeConditions } from './where.js'

/**
 * Builds the page, count and estimate queries of a type search; the filter conditions come from
 * where.ts (leaf parameters) and link-filters.ts (chains, _has, _text, _list, compartments), the
 * system-level variants from system-compile.ts. The WHERE clause of a type search.
 */
export function compileFilters(plan: SearchPlan): RawBuilder<unknown> {
  return scopeConditions({ tenantId: plan.tenantId, alias: 'r', type: plan.resourceType }, plan.filters)
}

/** `SELECT count(*)` of every match (`_total=accurate`). */
export function compileCountQuery(plan: SearchPlan): RawBuilder<{ n: string }> {
  return sql<{ n: string }>`SELECT count(*) AS n FROM resource r WHERE ${compileFilters(plan)}`
}

/** The planner's estimate of the match count (`_total=estimate`), read from EXPLAIN. */
export function compileEstimateQuery(plan: SearchPlan): RawBuilder<{ 'QUERY PLAN': unknown }> {
  return sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (FORMAT JSON) SELECT 1 FROM resource r WHERE ${compileFilters(plan)}`
}

export interface PageRow {
  resource_type: string
  id: string
  version_id: number
  last_updated: Date
  content: string
  /** Sort key values as text (k0, k1, ...), for the cursor. */
  [key: `k${number}`]: string | null
}

/**
 * One page of one phase: rows after (or before) the cursor in sort order, `limit` of them. The
 * ORDER BY matches an index: (param, lo, id) / (param, hi, id) of search_sort, the resource primary
 * key for the default order by id, or (type, last_updated, id) for `_lastUpdated`.
 */
export function compilePageQuery(
  plan: SearchPlan,
  page: { phase: number; direction: 'after' | 'before'; cursor?: PageCursor; limit: number },
): RawBuilder<PageRow> {
  const { direction } = page
  const keys = orderKeys(plan, page.phase)
  const joins: RawBuilder<unknown>[] = []
  plan.sort.forEach((s, i) => {
    if (s.source !== 'sort-table' || (i === 0 && page.phase === 1)) return
    const join = i === 0 ? sql`JOIN` : sql`LEFT JOIN`
    joins.push(
      sql`${join} search_sort ${sql.raw(`s${i}`)} ON ${sql.raw(`s${i}`)}.tenant_id = ${plan.tenantId} AND ${sql.raw(`s${i}`)}.resource_type = ${plan.resourceType} AND ${sql.raw(`s${i}`)}.param = ${s.param} AND ${sql.raw(`s${i}`)}.id = r.id`,
    )
  })
  const where = [compileFilters(plan)]
  const first = plan.sort[0]
  if (page.phase === 1 && first?.source === 'sort-table') {
    where.push(sql`NOT EXISTS (SELECT 1 FROM search_sort s WHERE s.tenant_id = ${plan.tenantId} AND s.resource_type = ${plan.resourceType} AND s.param = ${first.param} AND s.id = r.id)`)
  }
  if (page.cursor && page.cursor.phase === page.phase) where.push(keysetCondition(keys, [...page.cursor.keys, page.cursor.id], direction))
  const selected = keys.slice(0, -1).map((k, i) => sql`${k.expression}::text AS ${sql.raw(`k${i}`)}`)
  return sql<PageRow>`SELECT r.resource_type, r.id, r.version_id, r.last_updated, r.content${selected.length ? sql`, ${sql.join(selected)}` : sql``}
    FROM resource r ${sql.join(joins, sql` `)}
    WHERE ${sql.join(where, sql` AND `)}
    ORDER BY ${orderBy(keys, direction)}
    LIMIT ${page.limit}`
}

/** The ORDER BY keys of a phase; the last is always the id (ties broken in the first key's direction). */
export function orderKeys(plan: SearchPlan, phase: number): OrderKey[] {
  const keys: OrderKey[] = []
  plan.sort.forEach((s, i) => {
    if (i === 0 && phase === 1 && s.source === 'sort-table') return
    keys.push(orderKey(s, i))
  })
  const last = plan.sort[plan.sort.length - 1]
  const idIsLast = last?.source === 'resource' && last.column === 'id'
  if (!idIsLast) {
    const idSource = phase === 0 && plan.sort[0]?.source === 'sort-table' ? 's0.id' : 'r.id'
    keys.push({ expression: sql.raw(idSource), descending: keys[0]?.descending ?? false, nullable: false })
  }
  return keys
}

function orderKey(s: PlannedSort, i: number): OrderKey {
  if (s.source === 'resource') {
    return s.column === 'id'
      ? { expression: sql.raw('r.id'), descending: s.descending, nullable: false }
      : { expression: sql.raw('r.last_updated'), descending: s.descending, nullable: false, cast: '::timestamptz' }
  }
  return { expression: sql.raw(`s${i}.${s.descending ? 'hi' : 'lo'}`), descending: s.descending, nullable: i > 0 }
}
