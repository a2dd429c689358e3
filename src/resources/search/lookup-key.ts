import { sql, type RawBuilder } from 'kysely'
import { INDEX_TABLE_COLUMNS, KEYED_FIELDS } from '../indexing/index-tables.js'
import { searchKey } from '../indexing/search-key.js'

/**
 * Readers of the lookup indexes of the value tables (migration 0019), which lead with `pkey`, the
 * int8 key of (tenant, type, param): a query that finds rows by value gives the keys of the
 * (tenant, type, param) it reads next to the text equalities. The key finds the index entries; the
 * text columns (in the index's INCLUDE) keep the match exact whatever the hash. The keys are
 * computed here and sent as parameters, so the planner sees constants and estimates them from the
 * extended statistics of 0019; search_key() of a column would hide the value from it.
 */
const KEYED_TABLES: ReadonlySet<string> = new Set([...KEYED_FIELDS].map((field) => INDEX_TABLE_COLUMNS[field].table))

/**
 * ` AND x.pkey = ...`: the rows of any of `codes` for the tenant and any of `types`. Nothing for a
 * table without the key (search_sort, search_text), or when the types are not known constants (a
 * system search over every type, a contained resource's container): those readers give the
 * resource id, which the per-resource indexes lead with.
 */
export function andKey(table: string, x: string, tenant: string, types: string | readonly string[] | undefined, codes: readonly string[]): RawBuilder<unknown> {
  if (!KEYED_TABLES.has(table) || types === undefined) return sql``
  const pkey = sql.raw(`${x}.pkey`)
  const keys = [...new Set((typeof types === 'string' ? [types] : types).flatMap((t) => codes.map((c) => searchKey(tenant, t, c))))]
  if (keys.length === 1) return sql` AND ${pkey} = ${keys[0]!}::int8`
  return keys.length ? sql` AND ${pkey} = ANY(${keys}::int8[])` : sql` AND FALSE`
}

/** The keys of `param` of every type in `types`, for a query that reads them per type. */
export function keysOfTypes(tenant: string, types: readonly string[], param: string): string[] {
  return types.map((t) => searchKey(tenant, t, param))
}
