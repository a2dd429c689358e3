import { sql, type RawBuilder } from 'kysely'
import { textRowParams } from '../indexing/full-text.js'
import { containedChainCondition } from './contained-chain.js'
import { andKey } from './lookup-key.js'
import { paramCodes, paramCondition, paramKey } from './param-rows.js'
import { col, sameType, scopeTypes, typeValue, type FilterCompiler, type RowScope } from './scope.js'
import type { ChainFilter, CompartmentFilter, HasFilter, ListFilter, SearchFilter, TextFilter } from './types.js'

export type { FilterCompiler } from './scope.js'

/**
 * `SELECT x.id FROM <index table> x WHERE ...` for a filter that holds exactly when the resource has
 * a matching index row (a plain positive clause), else undefined (where.ts indexedIds).
 */
export type IdsCompiler = (scope: RowScope, filter: SearchFilter, x: string) => RawBuilder<unknown> | undefined

/**
 * The ids of the resources of one type a chain or `_has` reaches. Index rows exist only for current,
 * non-deleted versions (a delete removes them in its own statement), so a plain positive clause reads
 * its ids straight from its index rows: no probe of the resource row per candidate, which at a
 * million resources was most of a `_has` over a common code. Otherwise (`:missing`, `:not`, `_id`,
 * nested links) `SELECT a.id FROM resource a WHERE <a is current, of the type, matches filter>`.
 */
function matchingIds(compile: FilterCompiler, tenantId: string, resourceType: string, filter: SearchFilter, x: string, ids?: IdsCompiler): RawBuilder<unknown> {
  const inner: RowScope = { tenantId, alias: `${x}r`, type: resourceType }
  const direct = ids?.(inner, filter, `${x}f`)
  if (direct) return direct
  const a = (c: string) => col(inner, c)
  return sql`SELECT ${a('id')} FROM resource ${sql.raw(inner.alias)} WHERE ${a('tenant_id')} = ${tenantId} AND ${a('resource_type')} = ${resourceType} AND ${a('deleted')} = false AND ${compile(inner, filter, `${x}f`)}`
}

/**
 * Chaining (https://hl7.org/fhir/R4/search.html#chaining): a reference row of `ref` whose target
 * (type, id) is among the matching targets. The targets are one `IN (SELECT ...)` (a UNION ALL over
 * the target types), which PostgreSQL plans as a semi-join: it can start from the few targets that
 * match (`name=peter`) and probe search_reference_lookup by (param, ref_id), or the other way round.
 * A union alias (`patient`) follows its members' rows (param-rows.ts), as does `_has` below.
 */
export function chainCondition(scope: RowScope, filter: ChainFilter, x: string, compile: FilterCompiler, ids?: IdsCompiler): RawBuilder<unknown> {
  const real = sql`EXISTS (SELECT 1 FROM search_reference ${sql.raw(x)} WHERE ${paramKey(scope, 'search_reference', x, filter.ref, { isLink: true })} AND ${chainTarget(scope, filter, x, compile, ids)})`
  // A separate EXISTS, only for targets marked `contained`: the one above keeps its semi-join plans.
  const contained = containedChainCondition(scope, filter, `${x}c`, compile)
  return contained ? sql`(${real} OR ${contained})` : real
}

/**
 * The ids of the scope's resources (a type search's own rows) that a chain or `_has` matches, read
 * from reference rows alone, for the page that sorts ids before fetching resources
 * (search/ids-first.ts). `ids` lists them (repeats allowed); `driver` is the query whose row count
 * bounds that work (the chain's rows themselves; for `_has`, the inner matches); `rowCost` is what
 * one driver row costs next to one listed id (a `_has` match costs a probe of
 * search_reference_resource, 8 us, against about 1 us per id read from search_reference_lookup; 2
 * keeps the limit conservative). Index rows exist only for current versions, so a chain's ids are
 * live resources (`live`); a `_has` lists the targets of live references, which the page still
 * checks are live and of the type. Undefined for a chain that also follows contained targets (their
 * rows need the EXISTS form).
 */
export interface LinkIds {
  readonly ids: RawBuilder<unknown>
  readonly driver: RawBuilder<unknown>
  readonly rowCost: number
  readonly live: boolean
  /**
   * `_has` only: a query with a row when the target (an id expression of the scope's row) has a
   * matching reference, for the page that walks targets in id order instead (search/has-walk.ts).
   */
  readonly matchOf?: (targetId: RawBuilder<unknown>) => RawBuilder<unknown>
}

export function chainMatchIds(scope: RowScope, filter: ChainFilter, x: string, compile: FilterCompiler, ids?: IdsCompiler): LinkIds | undefined {
  if (scope.contained || typeof scope.type !== 'string' || filter.targets.some((t) => t.contained)) return undefined
  const a = (c: string) => sql.raw(`${x}.${c}`)
  const matched = sql`SELECT ${a('id')} FROM search_reference ${sql.raw(x)} WHERE ${a('tenant_id')} = ${scope.tenantId} AND ${sameType(scope, x)}
    AND ${paramCondition(x, filter.ref, { isLink: true })}${linkKey(x, scope.tenantId, scope.type, filter.ref)} AND ${chainTarget(scope, filter, x, compile, ids)}`
  return { ids: matched, driver: matched, rowCost: 1, live: true }
}

export function hasMatchIds(scope: RowScope, filter: HasFilter, x: string, compile: FilterCompiler, ids?: IdsCompiler): LinkIds | undefined {
  if (scope.contained || typeof scope.type !== 'string') return undefined
  const h = (c: string) => sql.raw(`${x}.${c}`)
  const inner = matchingIds(compile, scope.tenantId, filter.resourceType, filter.filter, `${x}h`, ids)
  // One probe of search_reference_resource per inner match (OFFSET 0 keeps the LATERAL a nested
  // loop): joined as a set, the planner hashed them against the tenant's every subject row
  // (504,538 at 1M, 260 ms for 13,229 matches).
  const m = sql.raw(`${x}m`)
  return {
    ids: sql`SELECT ${h('ref_id')} FROM (${inner}) AS ${m}(id) CROSS JOIN LATERAL (SELECT ${h('ref_id')} FROM search_reference ${sql.raw(x)}
      WHERE ${h('tenant_id')} = ${scope.tenantId} AND ${h('resource_type')} = ${filter.resourceType} AND ${h('id')} = ${sql.raw(`${x}m.id`)}
        AND ${paramCondition(x, filter.ref, { isLink: true })}${linkKey(x, scope.tenantId, filter.resourceType, filter.ref)} AND ${h('ref_type')} = ${scope.type} OFFSET 0) ${sql.raw(x)}`,
    driver: inner,
    rowCost: 2,
    live: false,
    // The target's reference rows (search_reference_lookup), each probed against the inner filter
    // (LIMIT 1 keeps that a probe per row, by the inner's own index), stopping at the first match.
    matchOf: (targetId) => sql`SELECT 1 FROM search_reference ${sql.raw(x)}
      CROSS JOIN LATERAL (SELECT 1 FROM (${inner}) AS ${m}(id) WHERE ${sql.raw(`${x}m.id`)} = ${h('id')} LIMIT 1) ${sql.raw(`${x}p`)}
      WHERE ${h('tenant_id')} = ${scope.tenantId} AND ${h('resource_type')} = ${filter.resourceType} AND ${paramCondition(x, filter.ref, { isLink: true })}
        ${linkKey(x, scope.tenantId, filter.resourceType, filter.ref)} AND ${h('ref_id')} = ${targetId} AND ${h('ref_type')} = ${scope.type} LIMIT 1`,
  }
}

/** ` AND x.pkey = ...` of the link rows of `ref` on resources of `type` (lookup-key.ts). */
function linkKey(x: string, tenantId: string, type: string, ref: ChainFilter['ref']): RawBuilder<unknown> {
  return andKey('search_reference', x, tenantId, type, paramCodes(ref, { isLink: true }))
}

/** The reference row `x` points at a target that matches the chain's filter. */
function chainTarget(scope: RowScope, filter: ChainFilter, x: string, compile: FilterCompiler, ids?: IdsCompiler): RawBuilder<unknown> {
  const r = (c: string) => sql.raw(`${x}.${c}`)
  const single = filter.targets.length === 1 ? filter.targets[0]! : undefined
  return single
    ? sql`${r('ref_type')} = ${single.resourceType} AND ${r('ref_id')} IN (${matchingIds(compile, scope.tenantId, single.resourceType, single.filter, `${x}t0`, ids)})`
    : sql`(${r('ref_type')}, ${r('ref_id')}) IN (${sql.join(
        filter.targets.map((t, i) => sql`SELECT ${t.resourceType}::text, ids.id FROM (${matchingIds(compile, scope.tenantId, t.resourceType, t.filter, `${x}t${i}`, ids)}) AS ids(id)`),
        sql` UNION ALL `,
      )})`
}

/**
 * Reverse chaining (https://hl7.org/fhir/R4/search.html#has): a reference row of `filter.ref` on a
 * `filter.resourceType` resource pointing at this row, from a resource that matches the inner filter.
 */
export function hasCondition(scope: RowScope, filter: HasFilter, x: string, compile: FilterCompiler, ids?: IdsCompiler): RawBuilder<unknown> {
  const h = (c: string) => sql.raw(`${x}.${c}`)
  return sql`EXISTS (SELECT 1 FROM search_reference ${sql.raw(x)} WHERE ${h('tenant_id')} = ${scope.tenantId} AND ${h('resource_type')} = ${filter.resourceType} AND ${paramCondition(x, filter.ref, { isLink: true })}
    ${linkKey(x, scope.tenantId, filter.resourceType, filter.ref)} AND ${h('ref_id')} = ${col(scope, 'id')} AND ${h('ref_type')} = ${typeValue(scope)} AND ${h('id')} IN (${matchingIds(compile, scope.tenantId, filter.resourceType, filter.filter, `${x}h`, ids)}))`
}

/**
 * `_text` / `_content`: one search_text row per resource and parameter holds its words
 * (indexing/full-text.ts); the condition is a tsquery of word prefixes, AND within a value, OR
 * across values, answered by the GIN index over the words' tsvector (migrations/0009_search_text.sql).
 * The words are letters and digits only (textWords), so they need no quoting beyond the quotes here.
 */
export function textCondition(scope: RowScope, filter: TextFilter, x: string): RawBuilder<unknown> {
  const query = filter.values.map((words) => `(${words.map((w) => `'${w}':*`).join(' & ')})`).join(' | ')
  const t = (c: string) => sql.raw(`${x}.${c}`)
  return sql`EXISTS (SELECT 1 FROM search_text ${sql.raw(x)} WHERE ${t('tenant_id')} = ${scope.tenantId} AND ${sameType(scope, x)} AND ${t('id')} = ${col(scope, 'id')}
    AND ${t('param')} = ANY(${textRowParams(filter.name)}::text[]) AND array_to_tsvector(string_to_array(${t('words')}, ' ')) @@ ${query}::tsquery)`
}

/** `_list`: the row is an `item` of one of the Lists (their index rows: current versions only). */
export function listCondition(scope: RowScope, filter: ListFilter, x: string): RawBuilder<unknown> {
  const l = (c: string) => sql.raw(`${x}.${c}`)
  return sql`EXISTS (SELECT 1 FROM search_reference ${sql.raw(x)} WHERE ${l('tenant_id')} = ${scope.tenantId} AND ${l('resource_type')} = 'List' AND ${l('id')} = ANY(${[...filter.ids]}::text[])
    AND ${l('param')} = 'item'${andKey('search_reference', x, scope.tenantId, 'List', ['item'])} AND ${l('ref_type')} = ${typeValue(scope)} AND ${l('ref_id')} = ${col(scope, 'id')})`
}

/** In the compartment: a reference through one of its parameters, or (its own type) being it. */
export function compartmentCondition(scope: RowScope, filter: CompartmentFilter, x: string): RawBuilder<unknown> {
  const c = (name: string) => sql.raw(`${x}.${name}`)
  const parts: RawBuilder<unknown>[] = []
  if (filter.self) parts.push(sql`${col(scope, 'id')} = ${filter.id}`)
  if (filter.params.length) {
    parts.push(sql`EXISTS (SELECT 1 FROM search_reference ${sql.raw(x)} WHERE ${c('tenant_id')} = ${scope.tenantId} AND ${sameType(scope, x)} AND ${c('param')} = ANY(${[...filter.params]}::text[])${andKey('search_reference', x, scope.tenantId, scopeTypes(scope), filter.params)}
      AND ${c('ref_id')} = ${filter.id} AND ${c('ref_type')} = ${filter.resourceType} AND ${c('id')} = ${col(scope, 'id')})`)
  }
  return parts.length ? sql`(${sql.join(parts, sql` OR `)})` : sql`FALSE`
}
