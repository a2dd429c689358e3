import { sql, type RawBuilder } from 'kysely'
import { CANONICAL_SYSTEM } from '../indexing/ucum.js'
import { keysetCondition, orderBy, type OrderKey } from './paging.js'
import { INDEX_ROW_SORT_TABLES, isParamSort, type PlannedSort, type SearchPlan } from './plan.js'
import { andKey } from './lookup-key.js'
import { paramRowsOf } from './param-rows.js'
import { indexRowsOf, type RowScope } from './scope.js'
import type { PageCursor, SearchClause } from './types.js'
import { sameRowCondition, scopeConditions } from './where.js'

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
  /** A contained match returned as itself (contained-compile.ts): its position in the container's `contained`. */
  ord?: number | null
  /** Sort key values as text (k0, k1, ...), for the cursor. */
  [key: `k${number}`]: string | null
}

/**
 * One page of one phase: rows after (or before) the cursor in sort order, `limit` of them. The
 * ORDER BY matches an index: (param, lo, id) / (param, hi, id) of search_sort, (param, low, high, id)
 * / (param, high, low, id) of search_date for a one-row date, resource_live_id for the default
 * order by id (idOrderPage), or (type, last_updated, id) for `_lastUpdated`. Token, reference, number and
 * quantity keys have no such index: each row's key is aggregated from its index rows (sortJoin).
 */
/** Which page of which phase, from where, and how many rows (with the one that tells a next page exists). */
export type PageAt = { readonly phase: number; readonly direction: 'after' | 'before'; readonly cursor?: PageCursor; readonly limit: number }

export function compilePageQuery(plan: SearchPlan, page: PageAt): RawBuilder<PageRow> {
  const { direction } = page
  const keys = orderKeys(plan, page.phase)
  const joins: RawBuilder<unknown>[] = []
  plan.sort.forEach((s, i) => {
    if (!isParamSort(s) || (i === 0 && page.phase === 1)) return
    joins.push(sortJoin(plan, s, i))
  })
  // The date window moves onto s0 (plan.sortWindow): index conditions of the walk that gives the
  // order, instead of a probe per walked row that finds out only after fetching it.
  const isWindowed = page.phase === 0 && plan.sortWindow.length > 0
  const filters = isWindowed ? plan.filters.filter((f) => !plan.sortWindow.includes(f as SearchClause)) : plan.filters
  const where = [scopeConditions(pageScope(plan), filters)]
  if (isWindowed) where.push(sameRowCondition(plan.sortWindow, 's0', { tenantId: plan.tenantId, resourceType: plan.resourceType }))
  const first = plan.sort[0]
  if (page.phase === 1 && first && isParamSort(first)) where.push(sql`NOT EXISTS (SELECT 1 ${sortRowsOf(plan, first, 's')})`)
  if (page.cursor && page.cursor.phase === page.phase) where.push(keysetCondition(keys, [...page.cursor.keys, page.cursor.id], direction))
  if (keys.length === 1 && joins.length === 0) return idOrderPage(plan, sql.join(where, sql` AND `), keys, page)
  const selected = keys.slice(0, -1).map((k, i) => sql`${k.expression}::text AS ${sql.raw(`k${i}`)}`)
  return sql<PageRow>`SELECT r.resource_type, r.id, r.version_id, r.last_updated, r.content${selected.length ? sql`, ${sql.join(selected)}` : sql``}
    FROM resource r ${sql.join(joins, sql` `)}
    WHERE ${sql.join(where, sql` AND `)}
    ORDER BY ${orderBy(keys, direction)}
    LIMIT ${page.limit}`
}

/**
 * A page in id order finds its ids first (resource_live_id answers `deleted = false` index-only,
 * the filters' probes and merges need nothing else) and reads only the page's rows: as one query
 * on `resource`, a merge with a token's ids walked the primary key and fetched the heap row of every
 * resource it passed, 10,084 for a page of `Observation?code=59408-5&date=ge2024-10-01&date=lt2025-01-01`
 * (34 ms; 10 ms ids first).
 */
function idOrderPage(plan: SearchPlan, where: RawBuilder<unknown>, keys: readonly OrderKey[], page: PageAt): RawBuilder<PageRow> {
  return rowsOfIds(plan, sql`SELECT r.id FROM resource r WHERE ${where} ORDER BY ${orderBy(keys, page.direction)} LIMIT ${page.limit}`, keys, page.direction)
}

/**
 * The rows of the ids an ordered query yields (one column, `id`), in the order of `keys` (the id
 * alone), each read by one probe of the resource key in the same snapshot: OFFSET 0 keeps the
 * LATERAL a nested loop (flattened, it may merge with the key from the tenant's first row, which
 * past a deep cursor reads them all), and `limit`, when the ids have none, stops the probes after
 * a page.
 */
export function rowsOfIds(plan: SearchPlan, ids: RawBuilder<unknown>, keys: readonly OrderKey[], direction: 'after' | 'before', limit?: number): RawBuilder<PageRow> {
  // Ordered by the ids' own column, the order they come in: no sort of every probed row before the LIMIT.
  const inIdsOrder = keys.map((key) => ({ ...key, expression: sql.raw('k.id') }))
  return sql<PageRow>`SELECT r.resource_type, r.id, r.version_id, r.last_updated, r.content
    FROM (${ids}) k
    CROSS JOIN LATERAL (SELECT p.resource_type, p.id, p.version_id, p.last_updated, p.content FROM resource p
      WHERE ${scopeConditions({ tenantId: plan.tenantId, alias: 'p', type: plan.resourceType }, [])} AND p.id = k.id OFFSET 0) r
    ORDER BY ${orderBy(inIdsOrder, direction)}${limit === undefined ? sql`` : sql` LIMIT ${limit}`}`
}

type ParamSort = Exclude<PlannedSort, { source: 'resource' }>

/**
 * The join that brings sort key `i` as `s{i}`: an inner join for the first key (phase 0 lists only
 * resources with a value), a left join for later keys (NULL, sorted last, where a resource has none).
 */
function sortJoin(plan: SearchPlan, s: ParamSort, i: number): RawBuilder<unknown> {
  const alias = sql.raw(`s${i}`)
  const join = i === 0 ? sql`JOIN` : sql`LEFT JOIN`
  if (s.source === 'sort-table' || s.source === 'date-row') {
    const table = s.source === 'sort-table' ? 'search_sort' : 'search_date'
    const key = andKey(table, `s${i}`, plan.tenantId, plan.resourceType, [s.param])
    return sql`${join} ${sql.raw(table)} ${alias} ON ${alias}.tenant_id = ${plan.tenantId} AND ${alias}.resource_type = ${plan.resourceType} AND ${alias}.param = ${s.param}${key} AND ${alias}.id = r.id`
  }
  // The same lo/hi search_sort held: the smallest key for ascending, the largest for descending.
  // An aggregate always yields one row, NULL when the resource has no value.
  const aggregate = sql.raw(s.descending ? 'max' : 'min')
  const key = s.source === 'sort-union' ? sql.raw(`s${i}v.${s.descending ? 'hi' : 'lo'}`) : indexRowKey(s, `s${i}v`)
  return sql`${join} LATERAL (SELECT ${aggregate}(${key}) AS k ${sortRowsOf(plan, s, `s${i}v`)}) ${alias} ON ${i === 0 ? sql`${alias}.k IS NOT NULL` : sql`TRUE`}`
}

/** `FROM <table> x WHERE ...`: the rows holding sort key `s` of the page's resource row `r`. */
function sortRowsOf(plan: SearchPlan, s: ParamSort, x: string): RawBuilder<unknown> {
  if (s.source === 'sort-table') return indexRowsOf(pageScope(plan), 'search_sort', x, s.param)
  if (s.source === 'date-row') return indexRowsOf(pageScope(plan), 'search_date', x, s.param)
  if (s.source === 'sort-union') return paramRowsOf(pageScope(plan), 'search_sort', x, s.def)
  // A union alias (combo-code, combo-value-quantity, patient) reads its members' rows (param-rows.ts).
  const rows = paramRowsOf(pageScope(plan), INDEX_ROW_SORT_TABLES[s.type], x, s.def)
  // The canonical UCUM twin (indexing/quantity.ts) only serves unit-converting searches: the value
  // as written decides the order (1500 g after 70 kg), as search_sort's key did.
  return s.type === 'quantity' ? sql`${rows} AND ${sql.raw(`${x}.system`)} IS DISTINCT FROM ${CANONICAL_SYSTEM}` : rows
}

/**
 * The sort key of one index row, as search_sort would have held it: a token's code, or its
 * normalised display when it has no code; a reference's `Type/id`, or the bare id/URL when it has
 * no type. COLLATE "C" orders it like search_sort's columns (and its cursor compares the same way).
 * A number or quantity range sorts by its low end ascending and its high end descending (search_sort's
 * lo/hi); numeric ±Infinity (open ranges, `<5`) sorts before / after every value as their keys did.
 */
function indexRowKey(s: Extract<PlannedSort, { source: 'index-rows' }>, x: string): RawBuilder<unknown> {
  const c = (column: string) => sql.raw(`${x}.${column}`)
  if (s.type === 'number' || s.type === 'quantity') return c(s.descending ? 'high' : 'low')
  return s.type === 'token'
    ? sql`COALESCE(${c('code')}, ${c('display')}) COLLATE "C"`
    : sql`COALESCE(${c('ref_type')} || '/' || ${c('ref_id')}, ${c('ref_id')}) COLLATE "C"`
}

const pageScope = (plan: SearchPlan): RowScope => ({ tenantId: plan.tenantId, alias: 'r', type: plan.resourceType })

/** The ORDER BY keys of a phase; the last is always the id (ties broken in the first key's direction). */
export function orderKeys(plan: SearchPlan, phase: number): OrderKey[] {
  const keys: OrderKey[] = []
  plan.sort.forEach((s, i) => {
    if (i === 0 && phase === 1 && isParamSort(s)) return
    keys.push(...orderKey(s, i))
  })
  const last = plan.sort[plan.sort.length - 1]
  const idIsLast = last?.source === 'resource' && last.column === 'id'
  if (!idIsLast) {
    const joinsFirst = plan.sort[0]?.source === 'sort-table' || plan.sort[0]?.source === 'date-row'
    const idSource = phase === 0 && joinsFirst ? 's0.id' : 'r.id'
    keys.push({ expression: sql.raw(idSource), descending: keys[0]?.descending ?? false, nullable: false })
  }
  return keys
}

function orderKey(s: PlannedSort, i: number): OrderKey[] {
  if (s.source === 'resource') {
    return s.column === 'id'
      ? [{ expression: sql.raw('r.id'), descending: s.descending, nullable: false }]
      : [{ expression: sql.raw('r.last_updated'), descending: s.descending, nullable: false, cast: '::timestamptz' }]
  }
  if (s.source === 'date-row') {
    // The key is the row's range: its end first when descending (search_date_high read backwards),
    // its start first when ascending (search_date_lookup), the other bound breaking ties: the order
    // search_sort's hi/lo gave, open Period ends (±infinity) beyond every date as its '~' / '!' were.
    const column = (name: string): OrderKey => ({ expression: sql.raw(`s${i}.${name}`), descending: s.descending, nullable: i > 0, cast: '::timestamptz' })
    return s.descending ? [column('high'), column('low')] : [column('low'), column('high')]
  }
  if (s.source === 'index-rows' && (s.type === 'number' || s.type === 'quantity')) {
    // A numeric key: the cursor's text must compare as a number ('10' > '9'), not as text.
    return [{ expression: sql.raw(`s${i}.k`), descending: s.descending, nullable: i > 0, cast: '::numeric' }]
  }
  const column = s.source === 'index-rows' || s.source === 'sort-union' ? 'k' : s.descending ? 'hi' : 'lo'
  return [{ expression: sql.raw(`s${i}.${column}`), descending: s.descending, nullable: i > 0 }]
}
