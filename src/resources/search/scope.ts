import { sql, type RawBuilder } from 'kysely'

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
}

export const col = (scope: RowScope, column: string) => sql.raw(`${scope.alias}.${column}`)

/** `x.resource_type = <the scope's type>` for an index row alias `x`. */
export function sameType(scope: RowScope, x: string): RawBuilder<unknown> {
  const rowType = sql.raw(`${x}.resource_type`)
  if (typeof scope.type === 'string') return sql`${rowType} = ${scope.type}`
  const correlated = sql`${rowType} = ${col(scope, 'resource_type')}`
  // The explicit list lets an index-driven plan probe (tenant, type, param, ...) once per type.
  return scope.type.anyOf ? sql`${correlated} AND ${rowType} = ANY(${[...scope.type.anyOf]}::text[])` : correlated
}

/** The scope's type as an SQL value (a reference's target type must equal it). */
export function typeValue(scope: RowScope): RawBuilder<unknown> {
  return typeof scope.type === 'string' ? sql`${scope.type}` : col(scope, 'resource_type')
}

/** `x.tenant_id = .. AND x.resource_type = .. AND x.param = .. AND x.id = <row>.id`: the index rows of `param` of the scope's row. */
export function indexKey(scope: RowScope, x: string, param: string): RawBuilder<unknown> {
  const a = (c: string) => sql.raw(`${x}.${c}`)
  return sql`${a('tenant_id')} = ${scope.tenantId} AND ${sameType(scope, x)} AND ${a('param')} = ${param} AND ${a('id')} = ${col(scope, 'id')}`
}

/** `FROM <table> x WHERE <indexKey>` */
export function indexRowsOf(scope: RowScope, table: string, x: string, param: string): RawBuilder<unknown> {
  return sql`FROM ${sql.table(table)} ${sql.raw(x)} WHERE ${indexKey(scope, x, param)}`
}
