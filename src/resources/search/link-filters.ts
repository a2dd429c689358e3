import { sql, type RawBuilder } from 'kysely'
import { MAX_CHAR } from './params/string.js'
import { col, indexKey, sameType, typeValue, type RowScope } from './scope.js'
import type { ChainFilter, CompartmentFilter, HasFilter, ListFilter, SearchFilter, TextFilter } from './types.js'

/** Compiles a filter on another resource row (where.ts passes itself in: no import cycle). */
export type FilterCompiler = (scope: RowScope, filter: SearchFilter, x: string) => RawBuilder<unknown>

/**
 * `SELECT a.id FROM resource a WHERE <a is current, of the type, matches filter>`: the ids of the
 * resources of one type a chain or `_has` reaches. Index rows exist only for current, non-deleted
 * versions, but the filter may be `:missing`, `:not` or `_id`, so the resource row itself is checked.
 */
function matchingIds(compile: FilterCompiler, tenantId: string, resourceType: string, filter: SearchFilter, x: string): RawBuilder<unknown> {
  const inner: RowScope = { tenantId, alias: `${x}r`, type: resourceType }
  const a = (c: string) => col(inner, c)
  return sql`SELECT ${a('id')} FROM resource ${sql.raw(inner.alias)} WHERE ${a('tenant_id')} = ${tenantId} AND ${a('resource_type')} = ${resourceType} AND ${a('deleted')} = false AND ${compile(inner, filter, `${x}f`)}`
}

/**
 * Chaining (https://hl7.org/fhir/R4/search.html#chaining): a reference row of `ref` whose target
 * (type, id) is among the matching targets. The targets are one `IN (SELECT ...)` (a UNION ALL over
 * the target types), which PostgreSQL plans as a semi-join: it can start from the few targets that
 * match (`name=peter`) and probe search_reference_lookup by (param, ref_id), or the other way round.
 */
export function chainCondition(scope: RowScope, filter: ChainFilter, x: string, compile: FilterCompiler): RawBuilder<unknown> {
  const r = (c: string) => sql.raw(`${x}.${c}`)
  const single = filter.targets.length === 1 ? filter.targets[0]! : undefined
  const target = single
    ? sql`${r('ref_type')} = ${single.resourceType} AND ${r('ref_id')} IN (${matchingIds(compile, scope.tenantId, single.resourceType, single.filter, `${x}t0`)})`
    : sql`(${r('ref_type')}, ${r('ref_id')}) IN (${sql.join(
        filter.targets.map((t, i) => sql`SELECT ${t.resourceType}::text, ids.id FROM (${matchingIds(compile, scope.tenantId, t.resourceType, t.filter, `${x}t${i}`)}) AS ids(id)`),
        sql` UNION ALL `,
      )})`
  return sql`EXISTS (SELECT 1 FROM search_reference ${sql.raw(x)} WHERE ${indexKey(scope, x, filter.ref.code)} AND ${target})`
}

/**
 * Reverse chaining (https://hl7.org/fhir/R4/search.html#has): a reference row of `filter.ref` on a
 * `filter.resourceType` resource pointing at this row, from a resource that matches the inner filter.
 */
export function hasCondition(scope: RowScope, filter: HasFilter, x: string, compile: FilterCompiler): RawBuilder<unknown> {
  const h = (c: string) => sql.raw(`${x}.${c}`)
  return sql`EXISTS (SELECT 1 FROM search_reference ${sql.raw(x)} WHERE ${h('tenant_id')} = ${scope.tenantId} AND ${h('resource_type')} = ${filter.resourceType} AND ${h('param')} = ${filter.ref.code}
    AND ${h('ref_id')} = ${col(scope, 'id')} AND ${h('ref_type')} = ${typeValue(scope)} AND ${h('id')} IN (${matchingIds(compile, scope.tenantId, filter.resourceType, filter.filter, `${x}h`)}))`
}

/**
 * `_text` / `_content`: the words are index rows of search_string under the parameter `_text`
 * (narrative) / `_content` (the rest; written by indexing/full-text.ts), so each word is a prefix range on
 * search_string_lookup, like a string search. All words of a value must be present; values are OR.
 */
export function textCondition(scope: RowScope, filter: TextFilter, x: string): RawBuilder<unknown> {
  const values = filter.values.map((words, i) =>
    sql`(${sql.join(
      words.map((word, j) => {
        const w = `${x}v${i}w${j}`
        const value = sql.raw(`${w}.value`)
        const key = sql`${sql.raw(w)}.tenant_id = ${scope.tenantId} AND ${sameType(scope, w)} AND ${sql.raw(w)}.id = ${col(scope, 'id')}`
        // Narrative words are stored once, under _text: a _content search reads both parameters.
        const param = filter.name === '_text' ? sql`${sql.raw(w)}.param = '_text'` : sql`${sql.raw(w)}.param IN ('_content', '_text')`
        return sql`EXISTS (SELECT 1 FROM search_string ${sql.raw(w)} WHERE ${key} AND ${param} AND ${value} >= ${word} AND ${value} < ${word + MAX_CHAR})`
      }),
      sql` AND `,
    )})`,
  )
  return sql`(${sql.join(values, sql` OR `)})`
}

/** `_list`: the row is an `item` of one of the Lists (their index rows: current versions only). */
export function listCondition(scope: RowScope, filter: ListFilter, x: string): RawBuilder<unknown> {
  const l = (c: string) => sql.raw(`${x}.${c}`)
  return sql`EXISTS (SELECT 1 FROM search_reference ${sql.raw(x)} WHERE ${l('tenant_id')} = ${scope.tenantId} AND ${l('resource_type')} = 'List' AND ${l('id')} = ANY(${[...filter.ids]}::text[])
    AND ${l('param')} = 'item' AND ${l('ref_type')} = ${typeValue(scope)} AND ${l('ref_id')} = ${col(scope, 'id')})`
}

/** In the compartment: a reference through one of its parameters, or (its own type) being it. */
export function compartmentCondition(scope: RowScope, filter: CompartmentFilter, x: string): RawBuilder<unknown> {
  const c = (name: string) => sql.raw(`${x}.${name}`)
  const parts: RawBuilder<unknown>[] = []
  if (filter.self) parts.push(sql`${col(scope, 'id')} = ${filter.id}`)
  if (filter.params.length) {
    parts.push(sql`EXISTS (SELECT 1 FROM search_reference ${sql.raw(x)} WHERE ${c('tenant_id')} = ${scope.tenantId} AND ${sameType(scope, x)} AND ${c('param')} = ANY(${[...filter.params]}::text[])
      AND ${c('ref_id')} = ${filter.id} AND ${c('ref_type')} = ${filter.resourceType} AND ${c('id')} = ${col(scope, 'id')})`)
  }
  return parts.length ? sql`(${sql.join(parts, sql` OR `)})` : sql`FALSE`
}
