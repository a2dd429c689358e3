import { sql, type RawBuilder } from 'kysely'
import type { CompositeComponent } from '../indexing/registry.js'
import { keysetCondition, orderBy, type OrderKey } from './paging.js'
import { PARAM_TYPES, type IndexTable } from './params/index.js'
import { lastUpdatedCondition } from './params/date.js'
import type { PlannedSort, SearchPlan } from './plan.js'
import type { PageCursor, ParamValue, SearchClause } from './types.js'

/**
 * The only place that builds search SQL. Every filter is an EXISTS (or NOT EXISTS, for `:not` and
 * `:missing=true`) on one index table, keyed by the tenant and type constants so each probe is an
 * index lookup; the planner turns them into semi-joins and picks the most selective index to drive.
 */
export function compileFilters(plan: SearchPlan): RawBuilder<unknown> {
  const conditions = [
    sql`r.tenant_id = ${plan.tenantId}`,
    sql`r.resource_type = ${plan.resourceType}`,
    sql`r.deleted = false`,
    ...plan.filters.map((clause, i) => clauseCondition(plan, clause, `x${i}`)),
  ]
  return sql.join(conditions, sql` AND `)
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
  return sql<PageRow>`SELECT r.id, r.version_id, r.last_updated, r.content${selected.length ? sql`, ${sql.join(selected)}` : sql``}
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

function clauseCondition(plan: SearchPlan, clause: SearchClause, x: string): RawBuilder<unknown> {
  const { def } = clause
  const negate = clause.modifier === 'not'
  if (def.column === 'id') {
    const ids = clause.values.map((v) => (v.kind === 'token' ? (v.code ?? '') : ''))
    return sql`r.id ${sql.raw(negate ? '<> ALL' : '= ANY')}(${ids}::text[])`
  }
  if (def.column === 'lastUpdated') {
    const any = sql.join(clause.values.map((v) => (v.kind === 'date' ? lastUpdatedCondition(v, 'r.last_updated') : sql`FALSE`)), sql` OR `)
    return negate ? sql`NOT (${any})` : sql`(${any})`
  }
  const exists = def.components ? compositeExists(plan, clause, def.components, x) : simpleExists(plan, clause, x)
  const isNegative = clause.missing === true || negate
  return isNegative ? sql`NOT ${exists}` : exists
}

function rowsOf(plan: SearchPlan, table: IndexTable, x: string, param: string) {
  return sql`FROM ${sql.table(table)} ${sql.raw(x)} WHERE ${sql.raw(x)}.tenant_id = ${plan.tenantId} AND ${sql.raw(x)}.resource_type = ${plan.resourceType} AND ${sql.raw(x)}.param = ${param} AND ${sql.raw(x)}.id = r.id`
}

function simpleExists(plan: SearchPlan, clause: SearchClause, x: string): RawBuilder<unknown> {
  const isIdentifier = clause.def.type === 'reference' && clause.modifier === 'identifier'
  const handler = PARAM_TYPES[isIdentifier ? 'token' : clause.def.type]!
  const param = isIdentifier ? `${clause.def.code}:identifier` : clause.def.code
  const from = rowsOf(plan, handler.table, x, param)
  if (clause.missing !== undefined) {
    // A reference given only by identifier has a token row (`<code>:identifier`) and no reference row.
    if (clause.def.type !== 'reference') return sql`EXISTS (SELECT 1 ${from})`
    return sql`(EXISTS (SELECT 1 ${from}) OR EXISTS (SELECT 1 ${rowsOf(plan, 'search_token', `${x}i`, `${clause.def.code}:identifier`)}))`
  }
  const modifier = clause.modifier === 'not' ? undefined : clause.modifier
  const any = sql.join(
    clause.values.map((v) => (v.kind === 'reference-identifier' ? handler.where(x, v.identifier, undefined) : handler.where(x, v, modifier))),
    sql` OR `,
  )
  return sql`EXISTS (SELECT 1 ${from} AND (${any}))`
}

/**
 * A composite matches when one element has every part: the component rows are joined on `ord`
 * (the element's ordinal), so `code-value-quantity=loinc|8480-6$gt140` never pairs the systolic
 * code with the diastolic value.
 */
function compositeExists(plan: SearchPlan, clause: SearchClause, components: readonly CompositeComponent[], x: string): RawBuilder<unknown> {
  const code = clause.def.code
  const alias = (i: number) => `${x}c${i}`
  const handlers = components.map((c) => PARAM_TYPES[c.type]!)
  if (clause.missing !== undefined) return sql`EXISTS (SELECT 1 ${rowsOf(plan, handlers[0]!.table, alias(0), `${code}#0`)})`
  const joins = handlers.slice(1).map(
    (h, j) =>
      sql`JOIN ${sql.table(h.table)} ${sql.raw(alias(j + 1))} ON ${sql.raw(alias(j + 1))}.tenant_id = ${sql.raw(alias(0))}.tenant_id AND ${sql.raw(alias(j + 1))}.resource_type = ${sql.raw(alias(0))}.resource_type AND ${sql.raw(alias(j + 1))}.id = ${sql.raw(alias(0))}.id AND ${sql.raw(alias(j + 1))}.param = ${`${code}#${j + 1}`} AND ${sql.raw(alias(j + 1))}.ord = ${sql.raw(alias(0))}.ord`,
  )
  const any = sql.join(
    clause.values.map((v) => {
      const parts = (v as Extract<ParamValue, { kind: 'composite' }>).parts
      return sql`(${sql.join(parts.map((part, i) => handlers[i]!.where(alias(i), part, undefined)), sql` AND `)})`
    }),
    sql` OR `,
  )
  return sql`EXISTS (SELECT 1 FROM ${sql.table(handlers[0]!.table)} ${sql.raw(alias(0))} ${sql.join(joins, sql` `)}
    WHERE ${sql.raw(alias(0))}.tenant_id = ${plan.tenantId} AND ${sql.raw(alias(0))}.resource_type = ${plan.resourceType} AND ${sql.raw(alias(0))}.param = ${`${code}#0`} AND ${sql.raw(alias(0))}.id = r.id AND (${any}))`
}
