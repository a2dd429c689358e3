import { sql, type RawBuilder } from 'kysely'
import type { CompositeComponent } from '../indexing/registry.js'
import { lastUpdatedCondition } from './params/date.js'
import { PARAM_TYPES } from './params/index.js'
import { chainCondition, chainMatchIds, compartmentCondition, hasCondition, hasMatchIds, listCondition, textCondition, type LinkIds } from './link-filters.js'
import { andKey } from './lookup-key.js'
import { paramCodes, paramCondition, paramRowsOf } from './param-rows.js'
import { col, indexKey, indexRowsOf, sameType, type RowScope } from './scope.js'
import { isSingleValuedDate } from '../indexing/single-valued-date.js'
import { spanBounds } from './date-window.js'
import type { ParamValue, SearchClause, SearchFilter } from './types.js'

/**
 * The condition of one filter on the scope's resource row. Every leaf is an EXISTS (or NOT EXISTS,
 * for `:not`, `:not-in` and `:missing=true`) on one index table keyed by tenant, type and parameter,
 * so each probe is an index lookup and the planner can turn it into a semi-join driven by the most
 * selective index. `x` is a unique alias prefix for the filter's index rows.
 */
export function filterCondition(scope: RowScope, filter: SearchFilter, x: string): RawBuilder<unknown> {
  switch (filter.kind) {
    case 'param': return clauseCondition(scope, filter, x)
    case 'chain': return chainCondition(scope, filter, x, filterCondition, indexedIds)
    case 'has': return hasCondition(scope, filter, x, filterCondition, indexedIds)
    case 'text': return textCondition(scope, filter, x)
    case 'list': return listCondition(scope, filter, x)
    case 'compartment': return compartmentCondition(scope, filter, x)
  }
}

/** The ids a chain or `_has` filter matches, from reference rows alone (link-filters.ts LinkIds); undefined for other filters. */
export function linkIds(scope: RowScope, filter: SearchFilter, x: string): LinkIds | undefined {
  if (filter.kind === 'chain') return chainMatchIds(scope, filter, x, filterCondition, indexedIds)
  if (filter.kind === 'has') return hasMatchIds(scope, filter, x, filterCondition, indexedIds)
  return undefined
}

/** Every filter, ANDed, on top of "this tenant, this type, not deleted". */
export function scopeConditions(scope: RowScope, filters: readonly SearchFilter[], prefix = 'x'): RawBuilder<unknown> {
  const conditions = [sql`${col(scope, 'tenant_id')} = ${scope.tenantId}`]
  if (typeof scope.type === 'string') conditions.push(sql`${col(scope, 'resource_type')} = ${scope.type}`)
  else if (scope.type.anyOf) conditions.push(sql`${col(scope, 'resource_type')} = ANY(${[...scope.type.anyOf]}::text[])`)
  conditions.push(sql`${col(scope, 'deleted')} = false`)
  const merged = sameRowDateClauses(scope, filters)
  filters.forEach((filter, i) => {
    const group = merged.get(filter)
    if (!group) conditions.push(filterCondition(scope, filter, `${prefix}${i}`))
    else if (group[0] === filter) conditions.push(sameRowExists(scope, group, `${prefix}${i}`))
  })
  return sql.join(conditions, sql` AND `)
}

/**
 * Repeated plain clauses of a date parameter that has at most one index row per resource
 * (indexing/single-valued-date.ts), grouped by parameter: `date=ge2020-01&date=lt2020-04` then means "the one row
 * is in both", so one EXISTS tests both on that row — a bounded index range — where two EXISTS
 * would each match half the table. Parameters with several rows per resource keep one EXISTS per
 * clause (each clause may hold on a different value).
 */
function sameRowDateClauses(scope: RowScope, filters: readonly SearchFilter[]): Map<SearchFilter, SearchClause[]> {
  const groups = new Map<string, SearchClause[]>()
  if (typeof scope.type !== 'string') return new Map()
  for (const f of filters) {
    if (f.kind !== 'param' || f.modifier || f.missing !== undefined || !isSingleValuedDate(scope.type, f.def)) continue
    const group = groups.get(f.def.code) ?? []
    group.push(f)
    groups.set(f.def.code, group)
  }
  const byFilter = new Map<SearchFilter, SearchClause[]>()
  for (const group of groups.values()) if (group.length > 1) for (const f of group) byFilter.set(f, group)
  return byFilter
}

function sameRowExists(scope: RowScope, clauses: readonly SearchClause[], x: string): RawBuilder<unknown> {
  return sql`EXISTS (SELECT 1 ${indexRowsOf(scope, PARAM_TYPES.date!.table, x, clauses[0]!.def.code)} AND ${sameRowCondition(clauses, x)})`
}

/**
 * Every clause (any of its values) on the one date row `x`; also the sort window on s0 (compile.ts).
 * With the rows' tenant and type (not contained), also the bounds the window implies through the
 * parameter's longest range (date-window.ts).
 */
export function sameRowCondition(clauses: readonly SearchClause[], x: string, rows?: { tenantId: string; resourceType: string }): RawBuilder<unknown> {
  const each = clauses.map((c) => sql`(${sql.join(c.values.map((v) => PARAM_TYPES.date!.where(x, v, undefined)), sql` OR `)})`)
  const bounds = rows && spanBounds({ ...rows, param: clauses[0]!.def.code }, clauses, x)
  return sql.join(bounds ? [...each, bounds] : each, sql` AND `)
}

function clauseCondition(scope: RowScope, clause: SearchClause, x: string): RawBuilder<unknown> {
  const { def } = clause
  const negate = clause.modifier === 'not'
  if (def.column === 'id') {
    const ids = clause.values.map((v) => (v.kind === 'token' ? (v.code ?? '') : ''))
    // A contained resource's id is its marker row's code (its container's id is the row's id).
    return sql`${col(scope, scope.contained ? 'code' : 'id')} ${sql.raw(negate ? '<> ALL' : '= ANY')}(${ids}::text[])`
  }
  if (def.column === 'lastUpdated') {
    const column = `${scope.alias}.last_updated`
    const any = sql.join(clause.values.map((v) => (v.kind === 'date' ? lastUpdatedCondition(v, column) : sql`FALSE`)), sql` OR `)
    return negate ? sql`NOT (${any})` : sql`(${any})`
  }
  const exists = def.components ? compositeUnionExists(scope, clause, x) : simpleExists(scope, clause, x)
  const isNegative = clause.missing === true || negate || clause.modifier === 'not-in'
  return isNegative ? sql`NOT ${exists}` : exists
}

function simpleExists(scope: RowScope, clause: SearchClause, x: string): RawBuilder<unknown> {
  const { handler, suffix } = rowsOfClause(clause)
  // A union alias (combo-code, patient) reads its members' rows: paramRowsOf.
  const from = paramRowsOf(scope, handler.table, x, clause.def, { suffix })
  if (clause.missing !== undefined) {
    // A reference given only by identifier has a token row (`<code>:identifier`) and no reference row.
    if (clause.def.type !== 'reference') return sql`EXISTS (SELECT 1 ${from})`
    return sql`(EXISTS (SELECT 1 ${from}) OR EXISTS (SELECT 1 ${paramRowsOf(scope, 'search_token', `${x}i`, clause.def, { suffix: ':identifier' })}))`
  }
  return sql`EXISTS (SELECT 1 ${from} AND (${valuesCondition(clause, x)}))`
}

function rowsOfClause(clause: SearchClause) {
  const isIdentifier = clause.def.type === 'reference' && clause.modifier === 'identifier'
  return { handler: PARAM_TYPES[isIdentifier ? 'token' : clause.def.type]!, suffix: isIdentifier ? ':identifier' : undefined }
}

/** Any of the clause's values on the index row `x` (OR). */
function valuesCondition(clause: SearchClause, x: string): RawBuilder<unknown> {
  const { handler } = rowsOfClause(clause)
  const modifier = clause.modifier === 'not' || clause.modifier === 'not-in' ? undefined : clause.modifier
  return sql.join(
    clause.values.map((v) => (v.kind === 'reference-identifier' ? handler.where(x, v.identifier, undefined) : handler.where(x, v, modifier))),
    sql` OR `,
  )
}

/**
 * The ids of a type's resources matching `filter` read from its index rows alone, when the filter
 * holds exactly when a matching row exists: a plain parameter clause, not negated, not `:missing`,
 * not a composite or a resource column (link-filters.ts matchingIds).
 */
function indexedIds(scope: RowScope, filter: SearchFilter, x: string): RawBuilder<unknown> | undefined {
  if (filter.kind !== 'param' || typeof scope.type !== 'string') return undefined
  const { def } = filter
  if (def.column || def.components || filter.missing !== undefined || filter.modifier === 'not' || filter.modifier === 'not-in') return undefined
  const { handler, suffix } = rowsOfClause(filter)
  const a = (c: string) => sql.raw(`${x}.${c}`)
  const key = andKey(handler.table, x, scope.tenantId, scope.type, paramCodes(def, { suffix }))
  return sql`SELECT ${a('id')} FROM ${sql.table(handler.table)} ${sql.raw(x)} WHERE ${a('tenant_id')} = ${scope.tenantId} AND ${sameType(scope, x)}
    AND ${paramCondition(x, def, { suffix })}${key} AND (${valuesCondition(filter, x)})`
}

/**
 * A composite that is the union of composites over fewer elements (`combo-code-value-quantity` =
 * `code-value-quantity` on the root ∪ `component-code-value-quantity` on each component) matches
 * when one of them does with the same values: each pairs its parts within one element. Also for
 * `:missing` (some element of some member has every part); the caller negates the whole.
 */
function compositeUnionExists(scope: RowScope, clause: SearchClause, x: string): RawBuilder<unknown> {
  const members = clause.def.union?.members
  if (!members) return compositeExists(scope, clause, clause.def.components!, x)
  return sql`(${sql.join(members.map((m, i) => compositeExists(scope, { ...clause, def: m }, m.components!, `${x}u${i}`)), sql` OR `)})`
}

/**
 * A composite matches when one element has every part: the component rows are joined on `ord`
 * (the element's ordinal), so `code-value-quantity=loinc|8480-6$gt140` never pairs the systolic
 * code with the diastolic value. A component that is an alias (a composite over the resource root,
 * composite-alias.ts) reads its plain parameter's rows, joined on the resource id alone: the root is
 * the composite's only element. Databases indexed before aliasing still hold the `<code>#<i>` rows
 * too; nothing reads them.
 */
function compositeExists(scope: RowScope, clause: SearchClause, components: readonly CompositeComponent[], x: string): RawBuilder<unknown> {
  const code = clause.def.code
  const alias = (i: number) => `${x}c${i}`
  const handlers = components.map((c) => PARAM_TYPES[c.type]!)
  const params = components.map((c, i) => c.alias ?? `${code}#${i}`)
  const hasAlias = components.some((c) => c.alias !== undefined)
  if (clause.missing !== undefined) {
    if (!hasAlias) return sql`EXISTS (SELECT 1 ${indexRowsOf(scope, handlers[0]!.table, alias(0), params[0]!)})`
    // One element: it has a value when every part has rows.
    const each = handlers.map((h, i) => sql`EXISTS (SELECT 1 ${indexRowsOf(scope, h.table, alias(i), params[i]!)})`)
    return sql`(${sql.join(each, sql` AND `)})`
  }
  // Own rows pair up on the element ordinal, with the first component that has own rows.
  const anchor = components.findIndex((c) => c.alias === undefined)
  const joins = handlers.slice(1).map((h, j) => {
    const i = j + 1
    const [a, b] = [sql.raw(alias(i)), sql.raw(alias(0))]
    const ord = components[i]!.alias === undefined && anchor !== -1 && anchor < i ? sql` AND ${a}.ord = ${sql.raw(alias(anchor))}.ord` : sql``
    return sql`JOIN ${sql.table(h.table)} ${a} ON ${a}.tenant_id = ${b}.tenant_id AND ${a}.resource_type = ${b}.resource_type AND ${a}.id = ${b}.id AND ${a}.param = ${params[i]!}${ord}`
  })
  const any = sql.join(
    clause.values.map((v) => {
      const parts = (v as Extract<ParamValue, { kind: 'composite' }>).parts
      return sql`(${sql.join(parts.map((part, i) => handlers[i]!.where(alias(i), part, undefined)), sql` AND `)})`
    }),
    sql` OR `,
  )
  return sql`EXISTS (SELECT 1 FROM ${sql.table(handlers[0]!.table)} ${sql.raw(alias(0))} ${sql.join(joins, sql` `)}
    WHERE ${indexKey(scope, handlers[0]!.table, alias(0), params[0]!)} AND (${any}))`
}
