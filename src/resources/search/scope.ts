import { sql, type RawBuilder } from 'kysely'
import { containedParam } from '../indexing/contained.js'
import { andKey } from './lookup-key.js'
import type { SearchFilter } from './types.js'

/**
 * Which resource rows a filter is compiled against: the `resource` row alias (`r` at the top, a
 * chain target's alias inside) and its type. The type is a constant for a type search (every index
 * probe then starts with tenant, type, param: an index prefix), or, for a system search over every
 * type, the row's own `resource_type` (probes correlate on it).
 */
export interface RowScope {
  readonly tenantId: string
  readonly alias: string
  readonly type: string | { readonly anyOf?: readonly string[] }
  /**
   * A contained resource of this type (search.html#contained; indexing/contained.ts): `alias` is then
   * its marker row in search_token (the container's type and id, `ord`, and its id as `code`), and
   * its rows are the container's rows of param `<type>#<code>` at the marker's `ord`.
   */
  readonly contained?: { readonly type: string }
}

/** The param under which the scope's rows of `code` are written (a contained resource's are prefixed). */
export function scopedParam(scope: RowScope, code: string): string {
  return scope.contained ? containedParam(scope.contained.type, code) : code
}

/** ` AND x.ord = <marker>.ord` for a contained scope: rows of that one contained resource. */
export function containedOrd(scope: RowScope, x: string): RawBuilder<unknown> {
  return scope.contained ? sql` AND ${sql.raw(`${x}.ord`)} = ${col(scope, 'ord')}` : sql``
}

/** Compiles a filter on another resource row (where.ts passes itself in: no import cycle). */
export type FilterCompiler = (scope: RowScope, filter: SearchFilter, x: string) => RawBuilder<unknown>

export const col = (scope: RowScope, column: string) => sql.raw(`${scope.alias}.${column}`)

/** `x.resource_type = <the scope's type>` for an index row alias `x`. */
export function sameType(scope: RowScope, x: string): RawBuilder<unknown> {
  const rowType = sql.raw(`${x}.resource_type`)
  if (typeof scope.type === 'string') return sql`${rowType} = ${scope.type}`
  const correlated = sql`${rowType} = ${col(scope, 'resource_type')}`
  // The explicit list lets an index-driven plan probe the lookup index once per type (lookup-key.ts: a key per type).
  return scope.type.anyOf ? sql`${correlated} AND ${rowType} = ANY(${[...scope.type.anyOf]}::text[])` : correlated
}

/** The scope's types for andKey (lookup-key.ts): its one type, or the list a system search names; undefined when its row's column decides. */
export function scopeTypes(scope: RowScope): string | readonly string[] | undefined {
  if (scope.contained) return undefined
  return typeof scope.type === 'string' ? scope.type : scope.type.anyOf
}

/** The scope's type as an SQL value (a reference's target type must equal it). */
export function typeValue(scope: RowScope): RawBuilder<unknown> {
  return typeof scope.type === 'string' ? sql`${scope.type}` : col(scope, 'resource_type')
}

/** `x.tenant_id = .. AND x.resource_type = .. AND x.param = .. AND x.id = <row>.id`: the index rows of `param` of the scope's row. */
export function indexKey(scope: RowScope, table: string, x: string, param: string): RawBuilder<unknown> {
  const a = (c: string) => sql.raw(`${x}.${c}`)
  const code = scopedParam(scope, param)
  return sql`${a('tenant_id')} = ${scope.tenantId} AND ${sameType(scope, x)} AND ${a('param')} = ${code}${andKey(table, x, scope.tenantId, scopeTypes(scope), [code])} AND ${a('id')} = ${col(scope, 'id')}${containedOrd(scope, x)}`
}

/** `FROM <table> x WHERE <indexKey>` */
export function indexRowsOf(scope: RowScope, table: string, x: string, param: string): RawBuilder<unknown> {
  return sql`FROM ${sql.table(table)} ${sql.raw(x)} WHERE ${indexKey(scope, table, x, param)}`
}
